"""Shared validation and reduction helpers of the losses (private)."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ..causes import (
    TargetKind,
    class_weight_cause,
    element_weight_cause,
    label_range_cause,
    pos_weight_cause,
    sigmoid_shape_cause,
    softmax_shape_cause,
)
from ..errors import ConfigError, TargetError
from ..options import OPTIONS, Reduction

__all__ = [
    "REDUCTIONS",
    "Reduction",
    "check_pair",
    "check_reduction",
    "check_weight",
    "label_errors",
    "reduce",
    "register_sigmoid_weights",
    "safe_pow",
    "to_buffer",
]

REDUCTIONS: tuple[str, ...] = OPTIONS["reduction"].values

_PREPARE = "convert them with ll.prepare_targets(y, task, outputs=logits)."


def check_reduction(reduction: str) -> None:
    OPTIONS["reduction"].check(reduction)


def check_range(name: str, value: float, lo: float, hi: float, *, hi_open: bool = False, fix: str) -> None:
    """Raise ConfigError unless ``lo <= value <= hi`` (``< hi`` when ``hi_open``)."""
    ok = (
        isinstance(value, (int, float))
        and math.isfinite(value)
        and lo <= value
        and (value < hi if hi_open else value <= hi)
    )
    if not ok:
        bound = f"[{lo}, {hi})" if hi_open else f"[{lo}, {hi}]"
        raise ConfigError(
            f"Expected argument `{name}` to be in {bound}; got {value!r}.", fix=fix, code=f"bad-{name}"
        )


def to_buffer(name: str, value: object, *, kind: str) -> Tensor | None:
    """Validate a weight vector (finite, positive, 1-D) and return it as float32, or None."""
    if value is None:
        return None
    try:
        t = torch.as_tensor(value, dtype=torch.float32).detach()
    except (TypeError, ValueError, RuntimeError):
        raise ConfigError(
            f"Expected argument `{name}` to be a 1-D tensor of numbers; got {type(value).__name__} {value!r:.60}.",
            fix=f"pass one positive number per {kind} as a tensor or list.",
            code=f"bad-{name}",
        ) from None
    if t.ndim != 1 or t.numel() == 0:
        raise ConfigError(
            f"Expected argument `{name}` to be a 1-D tensor with one {kind}; got shape {list(t.shape)}.",
            fix=f"pass one value per {kind}, e.g. ll.{name if name != 'weight' else 'class_weight'}(targets).",
            code=f"bad-{name}",
        )
    if not bool(torch.isfinite(t).all()) or not bool((t > 0).all()):
        raise ConfigError(
            f"Expected argument `{name}` to hold finite positive values; got {t.tolist()[:8]}.",
            fix="cap large weights with max_weight= and give zero-positive labels a finite weight.",
            code=f"bad-{name}",
        )
    return t


def register_sigmoid_weights(module: nn.Module, pos_weight: object, weight: object) -> None:
    """Register the ``pos_weight`` [L] (validated) and per-element ``weight`` buffers of a sigmoid-loss module."""
    module.register_buffer("pos_weight", to_buffer("pos_weight", pos_weight, kind="label"))
    module.register_buffer("weight", None if weight is None else torch.as_tensor(weight, dtype=torch.float32))


def check_pair(
    logits: Tensor,
    targets: Tensor,
    *,
    family: str,
    pos_weight: Tensor | None = None,
    class_weight: Tensor | None = None,
) -> None:
    """Cheap shape/dtype checks (no host sync) of logits against targets, and of the weights' lengths.

    A mismatch raises ``TargetError`` naming its cause with the doctor's code and wording
    (:mod:`logitlab.causes`): ``broadcast-trap``, ``class-indices-for-bce``, ``flattened-targets``,
    ``missing-batch-dimension``, ``reshape-folded-batch``, ``pos-weight-wrong-length``, ...
    """
    if not isinstance(logits, Tensor) or not isinstance(targets, Tensor):
        raise TargetError(
            f"Expected logits and targets as tensors; got {type(logits).__name__} and {type(targets).__name__}.",
            fix=_PREPARE,
            code="bad-target-type",
        )
    if family == "sigmoid":
        if targets.shape != logits.shape:  # causes are worked out on the failure path only
            cause = sigmoid_shape_cause(tuple(logits.shape), tuple(targets.shape))
            if cause is not None:
                raise cause.error()
        if not targets.is_floating_point():
            raise TargetError(
                f"Expected float targets in [0, 1] for a sigmoid loss; got {targets.dtype}.",
                fix=_PREPARE,
                code="int-targets-for-bce",
            )
        if pos_weight is not None and pos_weight.numel() != 1 and not _per_label(pos_weight, logits):
            cause = pos_weight_cause(tuple(pos_weight.shape), tuple(logits.shape))
            if cause is not None:
                raise cause.error()
        return
    _check_softmax_pair(logits, targets, class_weight)


def _per_label(pos_weight: Tensor, logits: Tensor) -> bool:
    return pos_weight.ndim == 1 and logits.ndim == 2 and pos_weight.shape[0] == logits.shape[1]


def _check_softmax_pair(logits: Tensor, targets: Tensor, class_weight: Tensor | None) -> None:
    if logits.ndim != 2:
        raise TargetError(
            f"Expected logits [N, C] for a softmax loss; got shape {list(logits.shape)}.",
            fix="give one logit per class; one sample without its batch dimension needs logits.unsqueeze(0); "
            "for one logit per sample use a binary (sigmoid) loss.",
            code="bad-logit-shape",
        )
    if targets.is_floating_point() and targets.ndim == 2:
        if targets.shape != logits.shape:
            raise TargetError(
                f"Expected class probabilities shaped like the logits {list(logits.shape)}; got {list(targets.shape)}.",
                fix=_PREPARE,
                code="target-shape-mismatch",
            )
    elif targets.dtype != torch.int64 or targets.shape != logits.shape[:1]:
        kind: TargetKind = (
            "float" if targets.is_floating_point() else "bool" if targets.dtype == torch.bool else "int"
        )
        cause = softmax_shape_cause(tuple(logits.shape), tuple(targets.shape), kind=kind)
        if cause is not None:
            raise cause.error()
        raise TargetError(
            f"Expected int64 class indices of shape {[logits.shape[0]]}; got {targets.dtype} {list(targets.shape)}.",
            fix=_PREPARE,
            code="target-shape-mismatch",
        )
    if class_weight is not None and tuple(class_weight.shape) != (logits.shape[1],):
        cause = class_weight_cause(tuple(class_weight.shape), logits.shape[1])
        if cause is not None:
            raise cause.error()


class label_errors:  # noqa: N801 - used like a function: ``with label_errors(logits, targets):``
    """Turn torch's out-of-range class-index error into a ``TargetError`` with the cause and fix.

    Free on the hot path: the label range is read only after torch has refused the batch. On CUDA the
    check is torch's device-side assert, which cannot be caught; ``ll.prepare_targets`` (or
    ``ll.diagnose``) checks the labels before training.
    """

    __slots__ = ("logits", "targets")

    def __init__(self, logits: Tensor, targets: Tensor) -> None:
        self.logits, self.targets = logits, targets

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        t = self.targets
        if not isinstance(exc, (IndexError, RuntimeError)) or t.is_floating_point() or not t.numel():
            return
        if t.device.type == "cuda":
            return  # a device-side assert: the CUDA context cannot run another kernel
        lo, hi = (int(v) for v in torch.aminmax(t.detach()))
        cause = label_range_cause(lo, hi, self.logits.shape[-1])
        if cause is not None:
            raise cause.error() from exc


def check_weight(weight: Tensor | None, logits: Tensor) -> None:
    """A per-element weight must broadcast to the logits without enlarging them."""
    if weight is None:
        return
    cause = element_weight_cause(tuple(weight.shape), tuple(logits.shape))
    if cause is not None:
        raise cause.error()


def reduce(loss: Tensor, reduction: str) -> Tensor:
    """Reduce; the mean of an empty batch is 0 (not NaN) so an empty batch cannot poison training."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / max(loss.numel(), 1)


def safe_pow(base: Tensor, gamma: float) -> Tensor:
    """``base**gamma`` for base >= 0 whose autograd gradient is 0 (not NaN) where base == 0 and gamma < 1."""
    if gamma == 0:
        return torch.ones_like(base)
    pos = base > 0
    return torch.where(pos, base.clamp_min(torch.finfo(base.dtype).tiny) ** gamma, torch.zeros_like(base))
