"""The targets against the outputs: shape traps, target form and range for the loss family.

The causes and their wording come from :mod:`logitlab.causes`, shared with the losses' boundary
errors; the doctor adds what only the values tell (label-index lists, the numbers seen).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor

from ..causes import (
    Cause,
    TargetKind,
    label_index_lists_cause,
    label_range_cause,
    sigmoid_shape_cause,
    softmax_shape_cause,
)

if TYPE_CHECKING:
    from ._context import Batch

__all__ = ["check_shapes", "kind_of", "value_range"]


def kind_of(t: Tensor) -> TargetKind:
    """``"float"``, ``"bool"`` or ``"int"``: the dtype family of a tensor."""
    return "float" if t.is_floating_point() else "bool" if t.dtype == torch.bool else "int"


def value_range(t: Tensor) -> tuple[float, float] | None:
    """The finite minimum and maximum, or None when there is no finite value."""
    x = t.detach().double()
    x = x[torch.isfinite(x)]
    return (x.min().item(), x.max().item()) if x.numel() else None


def _add(b: Batch, cause: Cause, extra: str = "") -> None:
    b.add(cause.code, cause.message + extra, cause.fix)


def check_shapes(b: Batch) -> None:
    """Shape traps and target form for the loss family."""
    if b.family == "sigmoid":
        _sigmoid_targets(b)
    elif b.outputs.ndim >= 2 and b.n_outputs > 1:
        _softmax_targets(b)


def _sigmoid_targets(b: Batch) -> None:
    out, tgt = b.outputs, b.targets
    if tgt.shape != out.shape:
        cause = sigmoid_shape_cause(tuple(out.shape), tuple(tgt.shape))
        assert cause is not None  # shapes differ
        rng = value_range(tgt)
        whole = rng is not None and bool((tgt.detach().double() == tgt.detach().double().round()).all())
        if (
            cause.code == "label-count-mismatch"
            and whole
            and rng
            and 1 < rng[1] < out.shape[1]
            and rng[0] >= 0
        ):
            cause = label_index_lists_cause(tuple(out.shape), tuple(tgt.shape), int(rng[1]))
        elif cause.code == "class-indices-for-bce" and rng is not None:
            _add(b, cause, f" The targets hold {tgt.dtype} values in [{rng[0]:.4g}, {rng[1]:.4g}].")
            return
        _add(b, cause)
        return
    if not tgt.is_floating_point():
        b.add(
            "int-targets-for-bce",
            f"BCE-family losses need float targets shaped like the logits {list(out.shape)}; got {tgt.dtype} targets.",
            "targets.float() (ll.prepare_targets(y, task) does it, and checks the shape).",
        )
    rng = value_range(tgt)
    if rng is not None and (rng[0] < 0 or rng[1] > 1):
        b.add(
            "targets-out-of-range",
            f"BCE targets must lie in [0, 1]; got values in [{rng[0]:.4g}, {rng[1]:.4g}].",
            "map labels to 0/1 (e.g. (y == positive_label).float()); for class indices use cross entropy.",
        )


def _softmax_targets(b: Batch) -> None:
    out, tgt, c = b.outputs, b.targets, b.n_outputs
    if tgt.is_floating_point() and tgt.shape == out.shape:
        _probability_targets(b)
        return
    cause = softmax_shape_cause(tuple(out.shape), tuple(tgt.shape), kind=kind_of(tgt))
    if cause is not None:
        if tgt.shape == out.shape and _multi_hot(tgt):
            return  # multi-hot-with-cross-entropy names the cause; argmax(1) would silently drop labels
        _add(b, cause)
        return
    ignore = b.spec.ignore_index
    valid = tgt[tgt != ignore] if ignore is not None else tgt
    if not valid.numel():
        return
    lo, hi = int(valid.min()), int(valid.max())
    named = ignore if ignore is not None and ignore != -100 else None  # -100: torch's default, not a choice
    cause = label_range_cause(lo, hi, c, ignore_index=named)
    if cause is not None:
        _add(b, cause)


def _multi_hot(t: Tensor) -> bool:
    x = t.detach().double()
    return bool(((x == 0) | (x == 1)).all()) and not bool((x.sum(1) == 1).all())


def _probability_targets(b: Batch) -> None:
    t = b.targets.detach().double()
    if not bool(torch.isfinite(t).all()) or bool(((t == 0) | (t == 1)).all()):
        return  # non-finite reported already; 0/1 rows are the multi-hot check's
    sums = t.sum(dim=1)
    if t.min().item() < 0 or t.max().item() > 1 or not bool(((sums - 1).abs() < 1e-3).all()):
        b.add(
            "targets-out-of-range",
            f"Soft targets for cross entropy must be distributions (in [0, 1], rows sum to 1); values lie in "
            f"[{t.min().item():.4g}, {t.max().item():.4g}] and row sums in [{sums.min().item():.4g}, {sums.max().item():.4g}].",
            "normalise rows (t / t.sum(1, keepdim=True)), or use BCE for independent soft labels.",
        )
