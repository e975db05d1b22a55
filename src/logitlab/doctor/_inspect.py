"""Recognise a loss (torch, torchvision, logitlab or hand-written) and the activation behind some outputs."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["LossSpec", "activation_of", "reference_loss", "spec_of"]

Expects = Literal["logits", "probabilities", "log-probabilities"]

_SIGMOID_FNS = {"bce_with_logits", "sigmoid_focal_loss", "soft_dice_loss", "bce_dice_loss", "asymmetric_loss"}
_SOFTMAX_FNS = {"cross_entropy", "softmax_focal_loss", "logit_adjusted_cross_entropy", "poly1_cross_entropy"}
_IMBALANCE_AWARE = ("focal", "asymmetric", "logitadjusted", "logit_adjusted", "dice", "asl")
# shape-only autograd nodes walked through to find the activation that produced the outputs
_PASS_THROUGH: tuple[str, ...] = ("View", "Reshape", "Squeeze", "Unsqueeze", "Expand", "Permute", "Transpose")
_PASS_THROUGH += ("Clone", "ToCopy", "Alias", "Contiguous", "Select", "Slice", "Unsafe", "Clamp")


@dataclass
class LossSpec:
    """What the doctor knows about a loss."""

    name: str
    family: Literal["sigmoid", "softmax"] | None  # None: not recognised (a hand-written loss)
    expects: Expects = "logits"
    pos_weight: Tensor | None = None
    weight: Tensor | None = None
    ignore_index: int | None = None
    imbalance_aware: bool = False
    origin: Literal["torch", "logitlab", "manual", "none"] = "torch"


def spec_of(loss_fn: Any) -> LossSpec:
    """Describe ``loss_fn``: torch modules and functionals, logitlab losses by ``family``, else manual."""
    if loss_fn is None:
        return LossSpec("none", None, origin="none")
    keywords: dict[str, Any] = {}
    fn = loss_fn
    while isinstance(fn, functools.partial):
        keywords = {**fn.keywords, **keywords}
        fn = fn.func
    module_spec = _torch_module_spec(fn)
    if module_spec is not None:
        return module_spec
    family = getattr(fn, "family", None)
    if family in ("sigmoid", "softmax"):
        name = type(fn).__name__ if isinstance(fn, nn.Module) else getattr(fn, "__name__", "loss")
        return LossSpec(
            name,
            family,
            pos_weight=_tensor_or_none(getattr(fn, "pos_weight", None)),
            weight=_tensor_or_none(getattr(fn, "weight", None)),
            ignore_index=getattr(fn, "ignore_index", None),
            imbalance_aware=_aware(name) or float(getattr(fn, "gamma", 0) or 0) > 0,
            origin="logitlab",
        )
    return _function_spec(fn, keywords)


def _torch_module_spec(fn: Any) -> LossSpec | None:
    name = type(fn).__name__
    pos = _tensor_or_none(getattr(fn, "pos_weight", None))
    weight = _tensor_or_none(getattr(fn, "weight", None))
    if isinstance(fn, nn.BCEWithLogitsLoss):
        return LossSpec(name, "sigmoid", pos_weight=pos, weight=weight)
    if isinstance(fn, nn.BCELoss):
        return LossSpec(name, "sigmoid", "probabilities", weight=weight)
    if isinstance(fn, nn.CrossEntropyLoss):
        return LossSpec(name, "softmax", weight=weight, ignore_index=fn.ignore_index)
    if isinstance(fn, nn.NLLLoss):
        return LossSpec(name, "softmax", "log-probabilities", weight=weight, ignore_index=fn.ignore_index)
    return None


def _function_spec(fn: Any, kw: dict[str, Any]) -> LossSpec:
    name = getattr(fn, "__name__", type(fn).__name__)
    module = getattr(fn, "__module__", "") or ""
    pos, weight = _tensor_or_none(kw.get("pos_weight")), _tensor_or_none(kw.get("weight"))
    ignore = kw.get("ignore_index", -100)
    if fn is F.binary_cross_entropy_with_logits:
        return LossSpec(name, "sigmoid", pos_weight=pos, weight=weight)
    if fn is F.binary_cross_entropy:
        return LossSpec(name, "sigmoid", "probabilities", weight=weight)
    if fn is F.cross_entropy:
        return LossSpec(name, "softmax", weight=weight, ignore_index=ignore)
    if fn is F.nll_loss:
        return LossSpec(name, "softmax", "log-probabilities", weight=weight, ignore_index=ignore)
    if module.startswith("torchvision.ops") and name == "sigmoid_focal_loss":
        return LossSpec(name, "sigmoid", imbalance_aware=True)
    if module.startswith("logitlab.losses") and name in _SIGMOID_FNS | _SOFTMAX_FNS:
        family: Literal["sigmoid", "softmax"] = "sigmoid" if name in _SIGMOID_FNS else "softmax"
        aware = _aware(name) or float(kw.get("gamma", 0) or 0) > 0
        return LossSpec(name, family, pos_weight=pos, weight=weight, imbalance_aware=aware, origin="logitlab")
    return LossSpec(name, None, origin="manual")


def _aware(name: str) -> bool:
    low = name.lower()
    return any(key in low for key in _IMBALANCE_AWARE)


def _tensor_or_none(value: Any) -> Tensor | None:
    return value.detach() if isinstance(value, Tensor) else None


def activation_of(outputs: Tensor, model: nn.Module | None, last_module: nn.Module | None) -> str | None:
    """``"sigmoid"``, ``"softmax"``, ``"log_softmax"``, ``"other"`` (known not to be one) or None (unknown).

    Structural only: the autograd node that produced ``outputs`` (walking back through reshapes and
    casts), else the model's last module (the last one run on ``inputs`` when given).
    """
    node = outputs.grad_fn
    while node is not None and type(node).__name__.startswith(_PASS_THROUGH):
        nxt = [n for n, _ in node.next_functions if n is not None]
        node = nxt[0] if nxt else None
    if node is not None:
        name = type(node).__name__
        for key, act in (("LogSoftmaxBackward", "log_softmax"), ("SoftmaxBackward", "softmax")):
            if name.startswith(key):
                return act
        return "sigmoid" if name.startswith("SigmoidBackward") else "other"
    last = last_module
    if last is None and model is not None:
        leaves = [m for m in model.modules() if not list(m.children())]
        last = leaves[-1] if leaves else None
    if last is None:
        return None
    for cls, act in ((nn.Sigmoid, "sigmoid"), (nn.LogSoftmax, "log_softmax"), (nn.Softmax, "softmax")):
        if isinstance(last, cls):
            return act
    return "other"


def reference_loss(outputs: Tensor, targets: Tensor, family: str, *, reduction: str = "mean") -> Tensor:
    """Unweighted BCE-with-logits or cross entropy in float64 (the stable formulas)."""
    x = outputs.detach().to(torch.float64)
    if family == "sigmoid":
        y = targets.detach().to(torch.float64).reshape(x.shape)
        per = torch.clamp(x, min=0) - x * y + torch.log1p(torch.exp(-x.abs()))
        return per.mean() if reduction == "mean" else per.sum()
    logp = torch.log_softmax(x, dim=1 if x.ndim >= 2 else -1)
    if targets.is_floating_point() and targets.shape == outputs.shape:
        per = -(targets.detach().to(torch.float64) * logp).sum(1)
    else:
        flat = (
            logp.movedim(1, -1).reshape(-1, logp.shape[1])
            if logp.ndim > 2
            else logp.reshape(-1, logp.shape[-1])
        )
        idx = targets.detach().long().reshape(-1)
        keep = (idx >= 0) & (idx < flat.shape[1])  # ignore_index and friends
        per = -flat[keep].gather(1, idx[keep].unsqueeze(1)).squeeze(1)
    return per.mean() if reduction == "mean" else per.sum()


def chance_loss(family: str, n_outputs: int) -> float:
    """The loss of all-zero logits: ln 2 per label (BCE, mean) or ln C (cross entropy)."""
    return math.log(2.0) if family == "sigmoid" else math.log(max(n_outputs, 2))
