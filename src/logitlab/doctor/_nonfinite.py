"""Explain a non-finite loss: the batch, the logit range, the targets and the loss term."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ._inspect import reference_loss, spec_of

__all__ = ["explain_nonfinite", "nonfinite_parts"]


def explain_nonfinite(
    logits: Tensor, targets: Tensor, loss_fn: Any, *, step: int, epoch: int, batch_idx: int
) -> str:
    """Say why a loss went NaN/Inf: which batch, the logit range, the targets and the loss term.

    Args:
        logits (Tensor[N, ...]): the outputs of the failing step.
        targets (Tensor): the targets of the failing step.
        loss_fn (callable or None): the loss; its name and a float64 recomputation are reported.
        step (int): the global step.
        epoch (int): the epoch.
        batch_idx (int): the batch index within the epoch.

    Returns:
        str: a few lines ending with ``Fix: ...``, used as the ``TrainingError`` message.

    Examples:
        >>> import torch
        >>> text = explain_nonfinite(torch.tensor([[float("nan")], [1.0]]), torch.ones(2, 1), None,
        ...                          step=7, epoch=0, batch_idx=7)
        >>> "batch 7" in text and "1 NaN" in text
        True
    """
    message, fix = nonfinite_parts(logits, targets, loss_fn, step=step, epoch=epoch, batch_idx=batch_idx)
    return f"{message}\nFix: {fix}"


def _describe(t: Tensor, name: str) -> tuple[str, int]:
    x = t.detach()
    if not x.is_floating_point():
        return (
            f"{name} {list(x.shape)} {x.dtype} in [{int(x.min())}, {int(x.max())}]" if x.numel() else name,
            0,
        )
    nan, inf = int(torch.isnan(x).sum()), int(torch.isinf(x).sum())
    finite = x[torch.isfinite(x)].float()
    rng = f"[{finite.min().item():.4g}, {finite.max().item():.4g}]" if finite.numel() else "(none finite)"
    return f"{name} {list(x.shape)} {x.dtype}: {nan} NaN, {inf} Inf, finite range {rng}", nan + inf


def nonfinite_parts(
    logits: Tensor, targets: Tensor, loss_fn: Any, *, step: int, epoch: int, batch_idx: int
) -> tuple[str, str]:
    spec = spec_of(loss_fn)
    where = f"Non-finite loss at step {step} (epoch {epoch}, batch {batch_idx})"
    logit_text, bad_logits = _describe(logits, "logits")
    target_text, bad_targets = _describe(targets, "targets")
    lines = [f"{where}; loss term: {spec.name}.", logit_text + ".", target_text + "."]
    if bad_targets:
        return "\n".join([*lines, "Cause: the targets hold NaN/Inf (missing labels)."]), (
            "drop or impute rows with missing labels (ll.prepare_targets reports them)."
        )
    if bad_logits:
        return "\n".join(
            [*lines, "Cause: the model produced non-finite logits (it diverged or an input is NaN)."]
        ), (
            "lower the learning rate, clip gradients (max_norm=1.0), check the inputs for NaN/Inf, and "
            "keep the loss in float32 under autocast."
        )
    for name in ("pos_weight", "weight"):
        w = getattr(spec, name)
        if w is not None and w.is_floating_point() and not bool(torch.isfinite(w).all()):
            return "\n".join([*lines, f"Cause: the loss's {name} holds NaN/Inf."]), (
                "compute weights with ll.pos_weight / ll.class_weight (smoothing, max_weight)."
            )
    family = spec.family or ("softmax" if logits.ndim >= 2 and not targets.is_floating_point() else "sigmoid")
    try:
        ref = reference_loss(logits, targets, family).item()
        ref_text = f"the float64 {'BCE-with-logits' if family == 'sigmoid' else 'cross-entropy'} reference is {ref:.6g}"
    except Exception:
        ref_text = "no float64 reference could be computed"
    absmax = logits.detach().abs().max().item() if logits.numel() else 0.0
    return "\n".join(
        [
            *lines,
            f"Cause: inputs are finite but {spec.name} is not ({ref_text}); |logits| reach {absmax:.4g} "
            f"in {logits.dtype}.",
        ]
    ), (
        "compute the loss from logits with a stable loss (BCEWithLogitsLoss / cross_entropy, logsigmoid / "
        "log_softmax), in float32, not log(sigmoid(x)) in low precision."
    )
