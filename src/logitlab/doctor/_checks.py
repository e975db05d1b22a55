"""The batch checks run by :func:`logitlab.doctor.diagnose`, in order (each appends findings)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from ..causes import batchless_one_hot_cause, softmax_shape_cause
from ..tasks import Task
from . import _values
from ._outputs import CONSTANT_TOLERANCE, check_constant_outputs, check_predictions, constant_spread
from ._targets import check_shapes, kind_of
from ._weighted import check_weighted_probabilities

if TYPE_CHECKING:
    from ._context import Batch

__all__ = ["CHECKS"]

SATURATION = 17.0  # float32 sigmoid(17) rounds to exactly 1.0 (1 - sigmoid(x) < eps / 2 past 16.6)


def shp(t: Tensor) -> str:
    """A shape written as ``[N, C]``."""
    return str(list(t.shape))


def check_nonfinite(b: Batch) -> None:
    """NaN/Inf in outputs or targets."""
    bad = (~torch.isfinite(b.outputs.detach())).sum().item() if b.outputs.is_floating_point() else 0
    if bad:
        b.add(
            "nonfinite-outputs",
            f"{bad} of {b.outputs.numel()} outputs are NaN/Inf (outputs {shp(b.outputs)}, {b.outputs.dtype}).",
            "find the first NaN with torch.autograd.detect_anomaly() on one step; check inputs for NaN, "
            "lower the learning rate, and keep the loss in float32 under autocast.",
        )
    bad = (~torch.isfinite(b.targets)).sum().item() if b.targets.is_floating_point() else 0
    if bad:
        b.add(
            "nonfinite-targets",
            f"{bad} of {b.targets.numel()} targets are NaN/Inf.",
            "drop or impute rows with missing labels before training (ll.prepare_targets reports them).",
        )


def check_activation(b: Batch) -> None:
    """A sigmoid/softmax/log_softmax applied before a loss that applies its own."""
    act, spec = b.activation(), b.spec
    if spec.expects == "logits" and act == "sigmoid":
        b.add(
            "sigmoid-before-logits-loss",
            f"The outputs come from a sigmoid, and {spec.name if spec.family else 'the ' + b.family + ' loss'} "
            "applies its own activation: probabilities are squashed twice, gradients shrink and the loss "
            "can never reach 0.",
            "remove the final sigmoid (nn.Sigmoid / torch.sigmoid) from the model; apply "
            "ll.probabilities(logits, task) only when you need probabilities.",
        )
    elif spec.expects == "logits" and b.family == "softmax" and act == "softmax":
        b.add(
            "softmax-before-cross-entropy",
            f"The outputs come from a softmax, and {spec.name if spec.family else 'cross entropy'} applies "
            "log_softmax itself: the loss is computed on softmax(softmax(x)) and barely learns.",
            "remove the final softmax (nn.Softmax / torch.softmax) from the model; cross entropy takes logits.",
        )
    elif spec.expects == "logits" and b.family == "softmax" and act == "log_softmax":
        b.add(
            "log-softmax-before-cross-entropy",
            "The outputs come from log_softmax; cross entropy applies it again. The loss value is unchanged "
            "(log_softmax is idempotent) but the model no longer returns logits.",
            "remove the final nn.LogSoftmax, or keep it and use nn.NLLLoss.",
        )
    elif spec.expects == "log-probabilities":
        _check_nll_input(b, act)
    elif spec.expects == "probabilities":
        _check_bce_probabilities(b, act)
    if act is None and spec.expects == "logits":
        _range_hint(b)


def _check_nll_input(b: Batch, act: str | None) -> None:
    if act == "log_softmax" or not b.outputs.is_floating_point() or b.outputs.ndim < 2:
        return
    x = b.outputs.detach().double()
    lse = torch.logsumexp(x, dim=1)
    if act in ("softmax", "sigmoid") or bool((lse.abs() > 1e-3).any()):
        what = (
            f"a {act}"
            if act in ("softmax", "sigmoid")
            else f"values whose logsumexp per row is up to {lse.abs().max().item():.3g}, not 0"
        )
        b.add(
            "nll-loss-without-log-softmax",
            f"NLLLoss expects log-probabilities (log_softmax outputs); it got {what}, so the loss is just "
            "-output[target] and is unbounded or meaningless.",
            "use nn.CrossEntropyLoss on the raw logits (it applies log_softmax), or add log_softmax(dim=1).",
        )


def _check_bce_probabilities(b: Batch, act: str | None) -> None:
    if not b.outputs.is_floating_point():
        return
    x = b.outputs.detach()
    finite = x[torch.isfinite(x)]
    outside = bool(((finite < 0) | (finite > 1)).any()) if finite.numel() else False
    if outside:
        b.add(
            "logits-to-bce-loss",
            f"{b.spec.name} expects probabilities in [0, 1]; the outputs range over "
            f"[{finite.min().item():.3g}, {finite.max().item():.3g}]: these are logits.",
            "use nn.BCEWithLogitsLoss (or ll.make_loss(task, 'bce')) on the logits; it is also numerically stable.",
        )
    elif act == "sigmoid":
        b.add(
            "probabilities-to-bce-loss",
            f"{b.spec.name} on sigmoid outputs works, but log(sigmoid(x)) loses precision and is clamped "
            "at -100 for large |x|.",
            "drop the sigmoid and use nn.BCEWithLogitsLoss on the logits (same loss, stable).",
        )


def _range_hint(b: Batch) -> None:
    x = b.outputs.detach()
    if not x.is_floating_point() or x.numel() < 8 or not bool(torch.isfinite(x).all()):
        return
    if (
        x.ndim
        and x.shape[0] > 1
        and constant_spread(x) <= CONSTANT_TOLERANCE * max(1.0, x.abs().max().item())
    ):
        return  # identical rows (zeros, say) are constant-outputs, not probabilities
    x = x.double()
    in_unit = bool(((x >= 0) & (x <= 1)).all())
    rows_sum_to_one = x.ndim >= 2 and x.shape[1] > 1 and bool(((x.sum(1) - 1).abs() < 1e-3).all())
    if in_unit and (b.family == "sigmoid" or rows_sum_to_one):
        b.add(
            "outputs-look-like-probabilities",
            f"All {x.numel()} outputs lie in [0, 1]{' and rows sum to 1' if rows_sum_to_one else ''}; the loss "
            "expects logits. This is only a value-range hint (no autograd graph or model to check).",
            "make sure the model ends with a Linear layer, not a sigmoid/softmax; pass model= or outputs "
            "with their autograd graph for a structural check.",
            "warning" if x.numel() >= 64 else "info",
        )


def check_family(b: Batch) -> None:
    """The loss family against the task and the targets."""
    out, tgt, c = b.outputs, b.targets, b.n_outputs
    if b.task_given and b.spec.family and b.task.family != b.family:
        if not (b.task is Task.BINARY and b.family == "softmax" and c == 2):
            b.add(
                "loss-family-mismatch",
                f"task={b.task.value} needs a {b.task.family} loss; {b.spec.name} is a {b.family} loss.",
                f'use ll.make_loss("{b.task.value}") (or the matching torch loss), or correct `task`.',
            )
    if b.family == "softmax" and out.ndim == 1 and _batchless_sample(b):
        return
    if b.family == "softmax" and c == 1 and out.ndim >= 2 and tgt.ndim >= 1 and tgt.shape[0] != out.shape[0]:
        cause = softmax_shape_cause(tuple(out.shape), tuple(tgt.shape), kind=kind_of(tgt))
        if cause is not None and cause.code == "reshape-folded-batch":  # [N, C] logits viewed as [N*C, 1]
            b.add(cause.code, cause.message, cause.fix)
            return
    if b.family == "softmax" and (out.ndim == 1 or c == 1):
        b.add(
            "single-logit-cross-entropy",
            f"Cross entropy over {c} logit{'s' * (c != 1)} (outputs {shp(out)}): softmax over one value is "
            "always 1, so the loss is always 0 and nothing is learned.",
            "for a binary task keep one logit and use BCEWithLogitsLoss, or emit 2 logits for cross entropy.",
        )
    if tgt.shape != out.shape or tgt.ndim < 2 or c < 2:
        return
    values = tgt.detach().double()
    binary = bool(((values == 0) | (values == 1)).all())
    sums = values.sum(dim=1)
    if b.family == "softmax" and binary and not bool((sums == 1).all()):
        n_multi, where = int((sums != 1).sum()), "rows" if tgt.ndim == 2 else "positions"
        b.add(
            "multi-hot-with-cross-entropy",
            f"{n_multi} of {sums.numel()} target {where} have {int(sums.max())} or {int(sums.min())} positives; "
            "cross entropy assumes exactly one class per row (softmax makes classes compete).",
            'these are multi-label targets: use BCEWithLogitsLoss (ll.make_loss("multilabel")).',
        )
    if b.family == "sigmoid" and binary and c >= 3 and tgt.shape[0] >= 8 and bool((sums == 1).all()):
        b.add(
            "one-hot-with-bce",
            f"Every target row is one-hot over {c} labels (exactly one 1): the classes look mutually "
            "exclusive, which a sigmoid/BCE loss does not use.",
            'use cross entropy with class indices: ll.make_loss("multiclass") and targets.argmax(1); '
            'keep BCE only if several labels can be true at once (pass task="multilabel").',
            "info" if b.task_given and b.task is Task.MULTILABEL else "warning",
        )


def _batchless_sample(b: Batch) -> bool:
    """Logits ``[C]`` for cross entropy: one sample without its batch dimension? True when settled here."""
    out, tgt = b.outputs, b.targets
    cause = softmax_shape_cause(tuple(out.shape), tuple(tgt.shape), kind=kind_of(tgt))
    if cause is not None:
        b.add(cause.code, cause.message, cause.fix)
        return True
    t = tgt.detach().double()
    if tgt.ndim == 0 or (tgt.shape == (1,) and not tgt.is_floating_point()):
        return True  # torch's own unbatched form: one sample, one class index
    is_distribution = bool(((t >= 0) & (t <= 1)).all()) and abs(t.sum().item() - 1) < 1e-3
    if (
        tgt.is_floating_point()
        and tgt.shape == out.shape
        and is_distribution
        and not bool((t == t.round()).all())
    ):
        return True  # one sample's class probabilities
    one_hot = bool(((t == 0) | (t == 1)).all()) and t.sum().item() == 1
    if not tgt.is_floating_point() and tgt.shape == out.shape and one_hot and out.shape[0] >= 3:
        cause = batchless_one_hot_cause(tuple(out.shape))
        b.add(cause.code, cause.message, cause.fix)
        return True
    return False


def check_magnitude(b: Batch) -> None:
    """Saturation of sigmoid/softmax and exp() overflow in the outputs' dtype."""
    if not b.outputs.is_floating_point() or b.spec.expects != "logits":
        return
    x = b.outputs.detach()
    x = x[torch.isfinite(x)].float()
    if not x.numel():
        return
    absmax = x.abs().max().item()
    limit = math.log(torch.finfo(b.outputs.dtype).max)
    if absmax > limit:
        b.add(
            "exp-overflow",
            f"|logits| reach {absmax:.4g}: exp() overflows {b.outputs.dtype} past {limit:.4g}; any "
            "hand-written sigmoid/softmax in this dtype returns inf/NaN.",
            "keep the loss in float32 (torch losses do under autocast), use the logits-based losses, and "
            "scale down the last layer or lower the learning rate.",
        )
    share = (x.abs() > SATURATION).float().mean().item()
    if share > 0:
        b.add(
            "saturated-logits",
            f"{share:.1%} of logits have |x| > {SATURATION:g} (max {absmax:.4g}): float32 sigmoid/softmax "
            "gives exactly 0 or 1 there, so probabilities, calibration and log(p) break.",
            "on an untrained model, shrink the last layer's init; in training, add weight decay or label "
            "smoothing; always compute the loss from logits.",
            "warning" if share >= 0.01 else "info",
        )


CHECKS: list[Callable[[Batch], None]] = [
    check_predictions,
    check_nonfinite,
    check_activation,
    check_family,
    check_shapes,
    check_magnitude,
    check_constant_outputs,
    _values.check_weights,
    _values.check_batch_labels,
    _values.check_loss_value,
    check_weighted_probabilities,
    _values.check_gradients,
]
