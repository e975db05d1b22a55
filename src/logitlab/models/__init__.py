"""Models that return logits: ``build_model(name, *, input_shape, n_outputs, **options)``.

Names: ``"mlp"`` (tables; flattens images), ``"linear"`` (logistic / softmax regression), ``"cnn"`` (small images), and torchvision backbones
``"resnet18"``, ``"resnet34"``, ``"resnet50"``, ``"efficientnet_b0"``, ``"mobilenet_v3_small"`` (never
downloaded; ``weights_path=`` loads a local file). Every model carries ``model.model_spec``, a JSON
dict with which ``build_model(**spec)`` rebuilds the same architecture.

Examples:
    >>> import json, torch
    >>> net = build_model("mlp", input_shape=(30,), n_outputs=1, hidden=[32], prior=0.01)
    >>> net(torch.randn(5, 30)).shape
    torch.Size([5, 1])
    >>> round(net.head.bias.item(), 3)  # log(0.01 / 0.99)
    -4.595
    >>> again = build_model(**json.loads(json.dumps(net.model_spec)))
    >>> again.model_spec == net.model_spec
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn

from ..errors import ConfigError
from .cnn import SmallCNN
from .ensemble import Ensemble
from .linear import LinearModel
from .mlp import MLP
from .registry import ARCH_OPTIONS, MODEL_NAMES, model_spec, prior_logits, saved_model_spec
from .sparse import SparseNet
from .vision import BACKBONES, build_backbone, head_of, load_weights, read_weights

__all__ = [
    "ARCH_OPTIONS",
    "MLP",
    "Ensemble",
    "LinearModel",
    "MODEL_NAMES",
    "SmallCNN",
    "SparseNet",
    "build_model",
    "head_of",
    "model_spec",
    "read_weights",
    "saved_model_spec",
]


def build_model(
    name: str,
    *,
    input_shape: Sequence[int],
    n_outputs: int,
    weights_path: str | Path | None = None,
    prior: Any = None,
    task: str | None = None,
    ensemble: int = 1,
    sparse_input: bool = False,
    **options: Any,
) -> nn.Module:
    """Build a model that maps inputs ``[N, *input_shape]`` to logits ``[N, n_outputs]``.

    Args:
        name (str): one of :data:`MODEL_NAMES`, or ``"auto"``: ``cnn`` for images ``(C, H, W)``, ``mlp``
            for features ``(F,)`` (the spec records the resolved name).
        input_shape (sequence of int): one sample's shape: ``(F,)`` for tables, ``(C, H, W)`` for images.
        n_outputs (int): 1 (binary), ``L`` (multilabel) or ``C`` (multiclass).
        weights_path (str or Path, optional): local weights (``.safetensors`` or a ``torch.save``
            state dict, read with ``weights_only=True``); a head or stem of another shape is adapted.
            Default: random init. Nothing is ever downloaded.
        prior (float or list[float], optional): initialise the head bias to the prior log-odds
            (binary/multilabel) or log-prior (multiclass) of the training labels, which starts the
            loss at the entropy of the labels rather than ``log 2``: helpful for imbalanced data
            (Lin et al., 2017, "Focal Loss", Sec. 3.3). Default: zero bias.
        task (str, optional): ``"multilabel"`` or ``"multiclass"``, needed with ``prior`` when ``n_outputs > 1``.
        sparse_input (bool): the inputs are sparse rows, so ``"auto"`` builds the sparse-native
            :class:`~logitlab.models.sparse.SparseNet`. Default: ``False``.
        ensemble (int): ``K > 1`` builds an :class:`Ensemble` of ``K`` such networks (each initialised
            in turn from the current torch seed), recorded in the spec as ``"ensemble": K``. Default: ``1``.
        **options: architecture options, see :data:`ARCH_OPTIONS` (``mlp``: hidden, dropout,
            batch_norm, activation, embedding; ``cnn``: channels, dropout; backbones: small_input).

    Returns:
        nn.Module with a ``model_spec`` dict attribute.

    Raises:
        ConfigError: unknown name or option (listing the valid ones), bad shapes or prior.
        ModelFileError: an unreadable or mismatching weights file.
    """
    spec = model_spec(
        name, input_shape=input_shape, n_outputs=n_outputs, sparse_input=sparse_input, **options
    )
    if isinstance(ensemble, bool) or not isinstance(ensemble, int) or ensemble < 1:
        raise ConfigError(
            f"Expected argument `ensemble` to be a positive int; got {ensemble!r}.",
            fix="use ensemble=1 (one network) or a small number such as 5.",
            code="bad-param",
            param="ensemble",
        )
    if ensemble > 1 and weights_path is not None:
        raise ConfigError(
            "Got `weights_path` with ensemble > 1; pretrained weights would make every member the same.",
            fix="use ensemble=1 with weights_path.",
            code="bad-param",
            param="ensemble",
        )
    members = [_construct(spec) for _ in range(ensemble)]
    for member in members:
        cast(Any, member).model_spec = spec
    model: nn.Module = members[0] if ensemble == 1 else Ensemble(members)
    if ensemble > 1:
        cast(Any, model).model_spec = {**spec, "ensemble": ensemble}
    if weights_path is not None:
        head, stem = BACKBONES[spec["name"]][1:] if spec["name"] in BACKBONES else ("head", None)
        cast(Any, model).weight_notes = load_weights(model, weights_path, head=head, stem=stem)
    if prior is not None:
        bias = torch.tensor(prior_logits(prior, spec["n_outputs"], task), dtype=torch.float32)
        with torch.no_grad():
            for member in members:
                head_of(member).bias.copy_(bias)
    return model


def _construct(spec: dict[str, Any]) -> nn.Module:
    name, shape, n_out = spec["name"], tuple(spec["input_shape"]), spec["n_outputs"]
    opts = {k: v for k, v in spec.items() if k not in ("name", "input_shape", "n_outputs")}
    if name in ("mlp", "linear"):
        in_features = 1
        for s in shape:
            in_features *= s
        return MLP(in_features, n_out, **opts) if name == "mlp" else LinearModel(in_features, n_out)
    if name == "cnn":
        return SmallCNN(shape, n_out, **opts)
    if name == "sparse":
        return SparseNet(int(shape[0]), n_out, **opts)
    return build_backbone(name, shape, n_out, small_input=bool(opts["small_input"]))
