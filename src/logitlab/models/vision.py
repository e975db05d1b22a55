"""torchvision backbones with the head replaced to ``n_outputs`` and the stem adapted to the input.

Never downloads: backbones are built with ``weights=None``; pretrained weights come only from a
local file (:func:`load_weights`: safetensors, or ``torch.load(weights_only=True)``). A 3-channel
stem is adapted to ``C`` channels (summed for 1 channel, repeated and rescaled otherwise, as timm
does); the head of the file is skipped when its shape differs (e.g. 1,000 ImageNet classes).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import torch
from torch import Tensor, nn

from ..errors import ModelFileError

__all__ = ["BACKBONES", "adapt_in_channels", "build_backbone", "head_of", "load_weights", "read_weights"]

# name -> (torchvision.models constructor's name, imported on use; dotted path of the final Linear, dotted path of the first conv)
BACKBONES = {
    "resnet18": ("resnet18", "fc", "conv1"),
    "resnet34": ("resnet34", "fc", "conv1"),
    "resnet50": ("resnet50", "fc", "conv1"),
    "efficientnet_b0": ("efficientnet_b0", "classifier.1", "features.0.0"),
    "mobilenet_v3_small": ("mobilenet_v3_small", "classifier.3", "features.0.0"),
}


def _get(model: nn.Module, path: str) -> nn.Module:
    return model.get_submodule(path)


def _set(model: nn.Module, path: str, module: nn.Module) -> None:
    parent, _, leaf = path.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, leaf, module)


def head_of(model: nn.Module) -> nn.Linear:
    """The final ``nn.Linear`` of a logitlab model (``model.head``, or a torchvision backbone's)."""
    name = getattr(model, "model_spec", {}).get("name")
    head = _get(model, BACKBONES[name][1]) if name in BACKBONES else getattr(model, "head", None)
    if not isinstance(head, nn.Linear) and not isinstance(getattr(head, "bias", None), nn.Parameter):
        raise TypeError(f"cannot find the final Linear layer of {type(model).__name__}")
    return cast(nn.Linear, head)  # a Linear, or a sparse linear layer with the same weight and bias


def build_backbone(name: str, input_shape: Sequence[int], n_outputs: int, *, small_input: bool) -> nn.Module:
    """A torchvision backbone (random init) emitting ``[N, n_outputs]`` logits for ``[N, C, H, W]``.

    ``small_input`` makes the first convolution stride 1 (and removes a ResNet's max-pool), for images
    smaller than about 64 pixels.
    """
    import torchvision.models as tvm  # imported here: a table run never pays for torchvision

    ctor, head_path, stem_path = BACKBONES[name]
    model: nn.Module = getattr(tvm, ctor)(weights=None)
    old = _get(model, head_path)
    assert isinstance(old, nn.Linear)
    head = nn.Linear(old.in_features, n_outputs)
    nn.init.zeros_(head.bias)
    _set(model, head_path, head)
    stem = _get(model, stem_path)
    assert isinstance(stem, nn.Conv2d)
    channels = int(input_shape[0])
    if channels != stem.in_channels or small_input:
        new = nn.Conv2d(
            channels,
            stem.out_channels,
            stem.kernel_size,  # type: ignore[arg-type]
            stride=1 if small_input else stem.stride,  # type: ignore[arg-type]
            padding=stem.padding,  # type: ignore[arg-type]
            bias=stem.bias is not None,
        )
        _set(model, stem_path, new)
    if small_input and hasattr(model, "maxpool"):
        model.maxpool = nn.Identity()
    return model


def adapt_in_channels(weight: Tensor, channels: int) -> Tensor:
    """A conv weight ``[O, 3, k, k]`` for ``channels`` inputs: summed for 1, else repeated and scaled by 3/C."""
    if channels == 1:
        return weight.sum(dim=1, keepdim=True)
    reps = math.ceil(channels / weight.shape[1])
    return weight.repeat(1, reps, 1, 1)[:, :channels] * (weight.shape[1] / channels)


def read_weights(path: str | Path) -> dict[str, Tensor]:
    """A state dict from a ``.safetensors`` file or a ``torch.save`` file (read with ``weights_only=True``).

    Nested ``{"state_dict": ...}`` / ``{"model": ...}`` dicts and DDP's ``module.`` prefix are unwrapped.

    Raises:
        ModelFileError: a missing or unreadable file, or one without tensors.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(
            f"Weights file {path} does not exist.", fix="check `weights_path`.", code="no-weights"
        )
    state: Any
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # safetensors and pickle raise many kinds
        raise ModelFileError(
            f"Cannot read weights from {path}: {exc}",
            fix="give a .safetensors file or a state_dict saved with torch.save (plain tensors only).",
            code="bad-weights",
        ) from exc
    for key in ("state_dict", "model_state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not state or not all(isinstance(v, Tensor) for v in state.values()):
        raise ModelFileError(
            f"{path} holds no state dict of tensors.",
            fix="save the weights with torch.save(model.state_dict(), path) or safetensors' save_file.",
            code="bad-weights",
        )
    return {k.removeprefix("module."): v for k, v in state.items()}


def load_weights(model: nn.Module, path: str | Path, *, head: str, stem: str | None = None) -> list[str]:
    """Load a local weights file into ``model``; returns notes on what was adapted or skipped.

    Head tensors (under ``head``) of another shape are skipped; a stem weight with another number of
    input channels is adapted with :func:`adapt_in_channels`.

    Raises:
        ModelFileError: tensors missing, unexpected or of another shape outside the head.
    """
    state = read_weights(path)
    own = model.state_dict()
    load: dict[str, Tensor] = {}
    skipped, bad = [], []
    for key, value in state.items():
        target = own.get(key)
        if target is None:
            bad.append(f"unexpected {key}")
        elif value.shape == target.shape:
            load[key] = value
        elif stem is not None and key == f"{stem}.weight" and value.shape[2:] == target.shape[2:]:
            load[key] = adapt_in_channels(value, int(target.shape[1]))
        elif key.startswith(head + "."):
            skipped.append(key)
        else:
            bad.append(f"{key}: file {list(value.shape)} vs model {list(target.shape)}")
    bad += [
        f"missing {k}" for k in own if k not in load and k not in skipped and not k.startswith(head + ".")
    ]
    if bad:
        raise ModelFileError(
            f"Weights in {path} do not fit this model ({len(bad)} problems): {'; '.join(bad[:5])}.",
            fix="use weights of the same architecture (e.g. torchvision's resnet18 state_dict for 'resnet18').",
            code="weights-mismatch",
        )
    model.load_state_dict(load, strict=False)
    notes = [f"loaded {len(load)} tensors from {path}"]
    if skipped:
        notes.append(f"kept the new head: skipped {', '.join(skipped)} of another shape")
    return notes
