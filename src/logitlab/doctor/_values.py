"""Batch checks on weights, the labels present, the loss value and the gradients."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import Tensor

from ..causes import class_weight_cause, element_weight_cause, pos_weight_cause
from ._inspect import chance_loss, reference_loss

if TYPE_CHECKING:
    from ._context import Batch

__all__ = ["check_batch_labels", "check_gradients", "check_loss_value", "check_weights"]

IMBALANCE_RATIO = 10.0  # negatives per positive (or largest / smallest class) called severe
MIN_BATCH_FOR_IMBALANCE = 32
GRAD_EXPLODING = 1e3
GRAD_VANISHING = 1e-7


def check_weights(b: Batch) -> None:
    """pos_weight length and axis, weight shape, and weight values."""
    pw, w = b.spec.pos_weight, b.spec.weight
    out_shape = tuple(b.outputs.shape)
    causes = []
    if pw is not None and b.family == "sigmoid":
        causes.append(pos_weight_cause(tuple(pw.shape), out_shape))
    if w is not None and b.family == "softmax":
        n_cls = out_shape[-1] if b.outputs.ndim == 1 else b.n_outputs  # [C]: one batchless sample
        causes.append(class_weight_cause(tuple(w.shape), n_cls))
    elif w is not None:
        causes.append(element_weight_cause(tuple(w.shape), out_shape))
    for cause in causes:
        if cause is not None:
            b.add(cause.code, cause.message, cause.fix)
    for name, t in (("pos_weight", pw), ("weight", w)):
        if t is None or not t.is_floating_point():
            continue
        t = t.double()
        if not bool(torch.isfinite(t).all()) or bool((t < 0).any()) or bool((t == 0).all()):
            b.add(
                "bad-weight-values",
                f"The loss's {name} holds NaN/Inf, negative or only zero values: {_short(t)}.",
                "compute weights from training-split counts with ll.pos_weight / ll.class_weight; classes with "
                "no samples need smoothing (strategy='smoothed') or max_weight.",
            )


def _short(t: Tensor) -> str:
    values = ", ".join(f"{v:.3g}" for v in t.flatten()[:6].tolist())
    return f"[{values}{', ...' if t.numel() > 6 else ''}]"


def check_batch_labels(b: Batch) -> None:
    """Labels or classes absent from the batch; severe imbalance with an unweighted loss."""
    if b.has_error:
        return
    counts, n = _positive_counts(b)
    if counts is None:
        return
    absent = [i for i, c in enumerate(counts) if c == 0]
    what = ("label" if b.family == "sigmoid" else "class") + ("" if len(absent) == 1 else "s")
    what = what.replace("classs", "classes")
    if absent and not (b.family == "sigmoid" and b.n_outputs == 1 and n < 2):
        shown = ", ".join(map(str, absent[:10])) + (" ..." if len(absent) > 10 else "")
        b.add(
            "label-absent-in-batch",
            f"{len(absent)} {what} {'has' if len(absent) == 1 else 'have'} no {'positives' if b.family == 'sigmoid' else 'samples'} in this batch of {n}: {shown}.",
            "fine for one small batch; if it happens often, use larger batches or class-balanced sampling "
            "(ll.TrainConfig(balanced=True), or logitlab.train.BalancedSampler in your own loop).",
        )
    unweighted = b.spec.origin in ("torch", "logitlab") and not b.spec.imbalance_aware
    unweighted = unweighted and b.spec.pos_weight is None and b.spec.weight is None
    present = [c for c in counts if c > 0]
    if not unweighted or n < MIN_BATCH_FOR_IMBALANCE or not present:
        return
    ratio = max((n - c) / c for c in present) if b.family == "sigmoid" else max(present) / min(present)
    if ratio >= IMBALANCE_RATIO:
        strategy = (
            "ll.pos_weight(train_targets, 'sqrt')"
            if b.family == "sigmoid"
            else "ll.class_weight(labels, 'sqrt')"
        )
        b.add(
            "severe-imbalance-unweighted",
            f"Imbalance of {ratio:.1f}:1 in this batch ({'negatives per positive' if b.family == 'sigmoid' else 'largest / smallest class'}) "
            f"and {b.spec.name} has no weighting: the model can win by predicting the majority.",
            f"weight the loss ({strategy}, or 'balanced'), use focal loss, or class-balanced sampling "
            "(ll.TrainConfig(balanced=True)); tune thresholds on validation.",
        )


def _positive_counts(b: Batch) -> tuple[list[float] | None, int]:
    t, n = b.targets.detach(), int(b.outputs.shape[0]) if b.outputs.ndim else 1
    if b.family == "sigmoid":
        t = t.double().reshape(n, -1)
        return (t > 0.5).sum(0).tolist(), n
    if b.outputs.ndim != 2 or b.n_outputs < 2:
        return None, n
    if t.is_floating_point():
        return (t.double() > 0.5).sum(0).tolist(), n
    valid = t[t != b.spec.ignore_index] if b.spec.ignore_index is not None else t
    return torch.bincount(valid.flatten().long(), minlength=b.n_outputs).tolist(), int(valid.numel())


def check_loss_value(b: Batch) -> None:
    """Call the loss; compare a hand-written one with the float64 reference; the loss at chance."""
    if b.has_error:
        return
    ref = reference_loss(b.outputs, b.targets, b.family).item()
    if b.loss_fn is not None:
        try:
            with torch.no_grad():
                value = _as_float(b.loss_fn(b.outputs.detach().clone(), b.targets.clone()))
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            b.add(
                "loss-raised",
                f"{b.spec.name}(outputs {list(b.outputs.shape)}, targets {list(b.targets.shape)} {b.targets.dtype}) "
                f"raised {type(exc).__name__}: {first[:200]}",
                "give the loss the target form its task needs: ll.prepare_targets(y, task, outputs=logits).",
            )
            return
        if b.spec.origin == "manual":
            _compare_manual(b, value, ref)
        elif not math.isfinite(value):
            b.add(
                "nonfinite-loss",
                f"{b.spec.name} returned {value} although outputs and targets are finite.",
                "check the loss's weights and options (e.g. a weight of inf, label smoothing outside [0, 1]).",
            )
    if b.spec.expects == "logits" and math.isfinite(ref):
        _check_chance(b, ref)


def _as_float(value: Any) -> float:
    if isinstance(value, Tensor):
        return float(value.detach().double().mean()) if value.numel() else float("nan")
    return float(value)


def _compare_manual(b: Batch, value: float, ref: float) -> None:
    name = b.spec.name
    reference = "BCE with logits" if b.family == "sigmoid" else "cross entropy"
    b.add(
        "unrecognised-loss",
        f"{name} is not a known loss; it was compared with the float64 {reference} reference ({ref:.6g}, mean).",
        "nothing to fix; pass task= if the reference family is not the one you meant.",
    )
    if not math.isfinite(value):
        b.add(
            "manual-loss-nonfinite",
            f"{name} returned {value}; the stable float64 {reference} on the same batch is {ref:.6g}. A "
            "hand-written log(sigmoid(x)) / log(softmax(x)) hits log(0) or inf/inf once |logits| is large.",
            "use torch.nn.functional.binary_cross_entropy_with_logits / cross_entropy (or ll.make_loss), "
            "or logsigmoid / log_softmax instead of log(sigmoid) / log(softmax).",
        )
        return
    ref_sum = reference_loss(b.outputs, b.targets, b.family, reduction="sum").item()
    tol = 1e-3 if b.outputs.dtype in (torch.float32, torch.float64) else 3e-2
    if _log_base(b, value, ref, ref_sum, tol):
        return
    if all(abs(value - r) > tol * max(1.0, abs(r)) for r in (ref, ref_sum)):
        b.add(
            "manual-loss-mismatch",
            f"{name} returned {value:.6g}; the stable float64 {reference} is {ref:.6g} (mean) / {ref_sum:.6g} (sum). "
            "A clamp/epsilon, a missing term or a wrong reduction changes the loss.",
            "if this is a different loss on purpose (focal, smoothing), ignore; otherwise use the torch "
            "logits-based loss or ll.make_loss.",
        )


def _log_base(b: Batch, value: float, ref: float, ref_sum: float, tol: float) -> bool:
    """A hand-written loss that is the reference divided by ln 2 (log2) or ln 10 (log10)."""
    reference = "BCE with logits" if b.family == "sigmoid" else "cross entropy"
    for r, reduction in ((ref, "mean"), (ref_sum, "sum")):
        for base, factor in (("2", 1 / math.log(2)), ("10", 1 / math.log(10))):
            if r > 0 and abs(value / r - factor) <= tol * factor:
                b.add(
                    "manual-loss-log-base",
                    f"{b.spec.name} returned {value:.6g}, exactly 1/ln {base} = {factor:.4f} x the float64 {reference} "
                    f"({r:.6g}, {reduction}): it takes log{base} where the loss uses the natural log. It has the same "
                    f"minimum, but its gradients are {factor:.3g}x those of the standard loss and its chance level is "
                    f"not ln 2 / ln C.",
                    "use torch.log / F.logsigmoid / F.log_softmax (or F.binary_cross_entropy_with_logits, "
                    "F.cross_entropy, ll.make_loss); keep log2 only to report bits, not to train.",
                )
                return True
    return False


def _check_chance(b: Batch, ref: float) -> None:
    n_cls = b.outputs.shape[-1] if b.family == "softmax" and b.outputs.ndim == 1 else b.n_outputs
    chance = chance_loss(b.family, n_cls)
    ratio = ref / chance
    if ratio <= 1.5:
        return
    std = b.outputs.detach().float().std().item() if b.outputs.numel() > 1 else 0.0
    what = f"ln 2 = {chance:.3f} per label" if b.family == "sigmoid" else f"ln {n_cls} = {chance:.3f}"
    b.add(
        "initial-loss-far-from-chance",
        f"The unweighted loss is {ref:.4g}, {ratio:.1f}x the chance value ({what}); logits std {std:.3g}. On an "
        "untrained model this means overconfident initial logits (a too-wide last layer or a bad output bias); "
        "on a trained model it means it is confidently wrong. Only a hint: ignore it for trained models that fit.",
        "initialise the last layer small (e.g. weight * 0.01) and its bias to the log prior "
        "(log(p / (1 - p)) per label, log(class frequency) per class).",
        "warning" if ratio > 3 else "info",
    )


def check_gradients(b: Batch) -> None:
    """Gradient norm: non-finite, exploding, vanishing (needs ``model``)."""
    if b.model is None:
        return
    params = [p for p in b.model.parameters() if p.requires_grad]
    grads = [p.grad for p in params if p.grad is not None]
    if not grads and not b.has_error:
        grads = _fresh_grads(b, params)
    if not grads:
        return
    total = math.sqrt(sum(float(g.detach().double().pow(2).sum()) for g in grads))
    if not math.isfinite(total):
        b.add(
            "nonfinite-gradients",
            f"The gradient norm over {len(grads)} parameter tensors is {total}.",
            "lower the learning rate, clip gradients (max_norm=1.0), keep the loss in float32, check inputs for NaN.",
        )
    elif total > GRAD_EXPLODING:
        b.add(
            "exploding-gradients",
            f"The gradient norm is {total:.4g} (> {GRAD_EXPLODING:g}).",
            "normalise the inputs, clip gradients (max_norm=1.0), lower the learning rate.",
        )
    elif total < GRAD_VANISHING:
        b.add(
            "vanishing-gradients",
            f"The gradient norm is {total:.3g} (< {GRAD_VANISHING:g}): the parameters will not move.",
            "check for dead ReLUs or saturated activations, input scale, and a final sigmoid/softmax before the loss.",
        )


def _fresh_grads(b: Batch, params: Sequence[Tensor]) -> list[Tensor]:
    source = b.outputs if b.outputs.grad_fn is not None else b.model_outputs
    if source is None or source.grad_fn is None or source.shape != b.outputs.shape:
        return []
    try:
        if b.loss_fn is not None:
            loss = b.loss_fn(source, b.targets)
        elif b.family == "sigmoid":
            loss = F.binary_cross_entropy_with_logits(source.float(), b.targets.float().reshape(source.shape))
        else:
            loss = F.cross_entropy(source.float(), b.targets)
        loss = loss.mean() if isinstance(loss, Tensor) else None
        if loss is None or not loss.requires_grad:
            return []
        found = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
    except Exception:
        return []
    return [g for g in found if g is not None]
