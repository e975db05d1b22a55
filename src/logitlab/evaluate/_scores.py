"""The classification scores of :mod:`logitlab.evaluate.metrics` in plain torch, in float64.

The definitions are torchmetrics' (``torchmetrics.functional.classification``), which is their reference in
``tests/evaluate/test_scores.py``: a ratio with a zero denominator is 0; a macro average over classes skips
the classes absent from both the targets and the predictions (multiclass) or keeps every label (multilabel);
``weighted`` weighs by support; average precision is the step sum ``sum_k (R_k - R_{k-1}) P_k`` over the
distinct thresholds; the calibration error is the L1 ECE over equal-width bins (a confidence of exactly 1.0
has a bin of its own). Importing torchmetrics costs more than ``import torch`` (it imports torchvision,
``torch._dynamo`` and matplotlib itself), so evaluating a run does not.

Examples:
    >>> import torch
    >>> average_precision(torch.tensor([[0.1, 0.4, 0.35, 0.8]]), torch.tensor([[0, 0, 1, 1]])).tolist()
    [0.8333333333333333]
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

__all__ = ["average_precision", "calibration_error", "counts", "prf", "reduce", "safe_divide"]

Average = Literal["micro", "macro", "weighted", "none"]


def safe_divide(num: Tensor, den: Tensor) -> Tensor:
    """``num / den`` in float64, 0 where ``den`` is 0."""
    num, den = num.double(), den.double()
    return torch.where(den != 0, num / torch.where(den != 0, den, 1.0), 0.0)


def counts(preds: Tensor, target: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """``tp, fp, fn, tn`` per column of 0/1 ``preds`` and ``target`` ``[N, K]`` (each ``Tensor[K]``)."""
    p, t = preds.bool(), target.bool()
    tp, fp, fn = (p & t).sum(0), (p & ~t).sum(0), (~p & t).sum(0)
    return tp, fp, fn, t.shape[0] - tp - fp - fn


def reduce(
    score: Tensor, tp: Tensor, fp: Tensor, fn: Tensor, average: Average, *, multilabel: bool
) -> Tensor:
    """Average per-class ``score`` (torchmetrics' ``_adjust_weights_safe_divide``); ``"micro"`` is not here."""
    if average == "none":
        return score
    if average == "weighted":
        weights = (tp + fn).double()
    else:
        weights = torch.ones_like(score)
        if not multilabel:
            weights = torch.where(tp + fp + fn == 0, 0.0, weights)
    return safe_divide((weights * score).sum(), weights.sum())


def prf(tp: Tensor, fp: Tensor, fn: Tensor, average: Average, *, multilabel: bool) -> dict[str, Tensor]:
    """Precision, recall and F1 from per-class counts, averaged as ``average`` says."""
    if average == "micro":
        tp, fp, fn = tp.sum(), fp.sum(), fn.sum()
    scores = {
        "precision": safe_divide(tp, tp + fp),
        "recall": safe_divide(tp, tp + fn),
        "f1": safe_divide(2 * tp, 2 * tp + fp + fn),
    }
    if average == "micro":
        return scores
    return {k: reduce(v, tp, fp, fn, average, multilabel=multilabel) for k, v in scores.items()}


def average_precision(scores: Tensor, targets: Tensor) -> Tensor:
    """Average precision of each row of ``scores`` ``[L, N]`` against 0/1 ``targets`` ``[L, N]``.

    Each positive contributes the precision at the lowest score of its run of tied scores (all rows scored at
    least as high count), divided by the number of positives: NaN for a row without positives.
    """
    ordered, order = scores.double().sort(dim=1, descending=True)
    t = targets.gather(1, order).double()
    n = ordered.shape[1]
    at = torch.arange(n, device=scores.device).expand_as(ordered)
    last = torch.ones_like(ordered, dtype=torch.bool)  # the last of a run of equal scores
    last[:, :-1] = ordered[:, 1:] != ordered[:, :-1]
    end = torch.where(last, at, n - 1).flip(1).cummin(dim=1).values.flip(1)
    tps = t.cumsum(1)
    precision = tps.gather(1, end) / (end + 1).double()
    return (t * precision).sum(1) / t.sum(1)  # 0 / 0 = NaN without positives


def calibration_error(confidence: Tensor, correct: Tensor, *, n_bins: int = 15) -> Tensor:
    """L1 expected calibration error: ``sum_b |sum(correct) - sum(confidence)| / N`` over equal-width bins.

    Computed in float64, returned in ``confidence``'s floating dtype (float64 otherwise); NaN without rows.
    """
    dtype = confidence.dtype if confidence.is_floating_point() else torch.float64
    c = confidence.reshape(-1).double().contiguous()
    a = correct.reshape(-1).double()
    if not len(c):
        return torch.tensor(float("nan"), dtype=dtype)
    edges = torch.linspace(0, 1, n_bins + 1, dtype=torch.float64, device=c.device)
    idx = (torch.bucketize(c, edges, right=True) - 1).clamp(0, n_bins)
    gap = torch.zeros(n_bins + 1, dtype=torch.float64, device=c.device).index_add_(0, idx, a - c)
    return (gap.abs().sum() / len(c)).to(dtype)
