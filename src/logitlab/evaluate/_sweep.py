"""Exact, vectorised sweeps behind :func:`~logitlab.evaluate.tune_thresholds`.

``best_cut`` sweeps one label's sorted distinct scores with cumulative true/false positive counts
(the precision-recall curve); ``best_bias`` does exact coordinate ascent of per-class logit biases on
macro-F-beta, where each class's sweep moves samples from their runner-up class to that class in
order of the bias they need.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = ["best_bias", "best_cut", "fbeta_from_counts"]


def fbeta_from_counts(tp: Tensor, predicted: Tensor, support: Tensor | float, beta: float) -> Tensor:
    """F-beta from counts: ``(1 + b^2) tp / (b^2 support + predicted)``; 0 where that is 0/0."""
    b2 = beta * beta
    den = b2 * support + predicted
    return torch.where(den > 0, (1 + b2) * tp / torch.clamp(den, min=1e-300), torch.zeros_like(tp))


def _midpoint(high: float, low: float) -> float:
    mid = 0.5 * (high + low)
    return mid if low < mid <= high else high


def best_cut(
    scores: Tensor, y: Tensor, *, kind: str, level: float, min_count: int = 1
) -> tuple[float, float, str]:
    """The probability threshold that maximises ``kind`` for one label.

    Args:
        scores (Tensor[N]): float64 probabilities.
        y (Tensor[N]): 0/1 targets.
        kind (str): ``"fbeta"`` (``level`` is beta), ``"precision_at_recall"`` or ``"recall_at_precision"``.
        level (float): beta, or the recall/precision to reach.
        min_count (int): fewer positives or negatives than this keep 0.5. Default: ``1``.

    Returns:
        tuple: (threshold, objective at it, note or "").
    """
    yf = y.to(torch.float64)
    pos, n = float(yf.sum()), yf.numel()
    at_half = scores >= 0.5
    tp_half, pp_half = float(yf[at_half].sum()), float(at_half.sum())
    half = _objective(torch.tensor([tp_half]), torch.tensor([pp_half]), pos, kind, level)[0]
    if pos == 0 or pos == n:
        what = "no positives" if pos == 0 else "no negatives"
        return 0.5, float(torch.nan_to_num(half)), f"{what} in the tuning data; kept 0.5"
    if min(pos, n - pos) < min_count:
        what = f"{int(pos)} positives" if pos < n - pos else f"{int(n - pos)} negatives"
        return (
            0.5,
            float(torch.nan_to_num(half)),
            f"only {what} in the tuning data (fewer than {min_count}); kept 0.5",
        )
    order = torch.argsort(scores, descending=True, stable=True)
    s, ys = scores[order], yf[order]
    ends = torch.nonzero(torch.diff(s) != 0).flatten()
    ends = torch.cat([ends, torch.tensor([n - 1])])  # last index of each distinct score
    tp = torch.cumsum(ys, 0)[ends]
    predicted = (ends + 1).to(torch.float64)
    uniq = s[ends]
    lower = torch.cat([uniq[1:], uniq[-1:]])
    value = _objective(tp, predicted, pos, kind, level)
    if kind != "fbeta" and not bool(torch.isfinite(value).any()):
        return 0.5, float(torch.nan_to_num(half)), f"no threshold reaches {kind} {level:g}; kept 0.5"
    best = float(torch.nan_to_num(value, nan=-1.0).max())
    if kind == "fbeta" and best <= float(half):
        return 0.5, float(half), ""
    candidates = torch.nonzero(value == best).flatten().tolist()
    cuts = [
        _midpoint(float(uniq[k]), float(lower[k])) if k < len(uniq) - 1 else float(uniq[k])
        for k in candidates
    ]
    if kind == "fbeta":  # ties: the cut nearest the default 0.5
        threshold = min(cuts, key=lambda c: abs(c - 0.5))
    elif kind == "precision_at_recall":  # ties: the lowest cut (more recall at the same precision)
        threshold = cuts[-1]
    else:  # ties: the highest cut (more precision at the same recall)
        threshold = cuts[0]
    return threshold, best, ""


def _objective(tp: Tensor, predicted: Tensor, pos: float, kind: str, level: float) -> Tensor:
    tp, predicted = tp.to(torch.float64), predicted.to(torch.float64)
    if kind == "fbeta":
        return fbeta_from_counts(tp, predicted, pos, level)
    precision = torch.where(predicted > 0, tp / torch.clamp(predicted, min=1.0), torch.ones_like(tp))
    recall = tp / pos if pos > 0 else torch.zeros_like(tp)
    nan = torch.full_like(tp, math.nan)
    if kind == "precision_at_recall":
        return torch.where(recall >= level, precision, nan)
    return torch.where(precision >= level, recall, nan)


def macro_fbeta(pred: Tensor, y: Tensor, n_classes: int, beta: float) -> float:
    """Macro F-beta over classes with support or predictions (torchmetrics' and sklearn's convention)."""
    support = torch.bincount(y, minlength=n_classes).to(torch.float64)
    predicted = torch.bincount(pred, minlength=n_classes).to(torch.float64)
    tp = torch.bincount(y[pred == y], minlength=n_classes).to(torch.float64)
    return _macro(tp[None], predicted[None], support, beta)[0].item()


def _macro(tp: Tensor, predicted: Tensor, support: Tensor, beta: float) -> Tensor:
    f = fbeta_from_counts(tp, predicted, support, beta)
    present = (support > 0) | (predicted > 0)
    return (f * present).sum(1) / present.sum(1).clamp(min=1)


def _sweep_class(z: Tensor, y: Tensor, bias: Tensor, c: int, beta: float) -> tuple[float, float]:
    """The best bias for class ``c`` with the others fixed: (bias, macro F-beta)."""
    n, n_classes = z.shape
    others = (z + bias).index_fill(1, torch.tensor([c]), -math.inf)
    runner_up, alt = others.max(dim=1)
    need = runner_up - z[:, c]  # class c wins when bias_c > need
    order = torch.argsort(need, stable=True)
    need, alt, ys = need[order], alt[order], y[order]
    support = torch.bincount(y, minlength=n_classes).to(torch.float64)
    predicted0 = torch.bincount(alt, minlength=n_classes).to(torch.float64)
    tp0 = torch.bincount(alt[alt == ys], minlength=n_classes).to(torch.float64)
    eye = torch.eye(n_classes, dtype=torch.float64)
    to_c, from_alt = eye[c].expand(n, -1), eye[alt]
    d_pred = torch.cumsum(to_c - from_alt, 0)
    d_tp = torch.cumsum(to_c * (ys == c)[:, None] - from_alt * (ys == alt)[:, None], 0)
    # state k: the first k samples (smallest need) go to class c; only distinct-need boundaries count
    keep = torch.cat([torch.diff(need) != 0, torch.tensor([True])])
    ks = torch.cat([torch.tensor([0]), torch.nonzero(keep).flatten() + 1])
    zero = torch.zeros(1, n_classes, dtype=torch.float64)
    tp = tp0 + torch.cat([zero, d_tp])[ks]
    predicted = predicted0 + torch.cat([zero, d_pred])[ks]
    scores = _macro(tp, predicted, support, beta)
    i = int(torch.argmax(scores))
    k = int(ks[i])
    if k == 0:
        value = float(need[0]) - 1.0
    elif k == n:
        value = float(need[-1]) + 1.0
    else:
        value = 0.5 * (float(need[k - 1]) + float(need[k]))
    return value, float(scores[i])


def best_bias(
    z: Tensor, y: Tensor, *, beta: float = 1.0, rounds: int = 3, frozen: Sequence[int] = ()
) -> tuple[Tensor, float]:
    """Per-class logit biases that maximise macro F-beta of ``argmax(z + b)``, by coordinate ascent.

    Args:
        z (Tensor[N, C]): float64 logits.
        y (Tensor[N]): class indices.
        beta (float): the F-beta weight. Default: ``1.0``.
        rounds (int): passes over the classes. Default: ``3``.
        frozen (sequence of int): classes whose bias stays 0. Default: none.

    Returns:
        tuple: (bias ``Tensor[C]`` float64, macro F-beta of the biased argmax). A class's bias moves off
        zero only where that strictly improves the score.
    """
    n_classes = z.shape[1]
    bias = torch.zeros(n_classes, dtype=torch.float64)
    current = macro_fbeta(z.argmax(1), y, n_classes, beta)
    for _ in range(rounds):
        improved = False
        for c in range(n_classes):
            if c in frozen:
                continue
            value, score = _sweep_class(z, y, bias, c, beta)
            if score <= current + 1e-12:
                continue
            trial = bias.clone()
            trial[c] = value
            actual = macro_fbeta((z + trial).argmax(1), y, n_classes, beta)
            if actual > current + 1e-12:  # confirm with the real argmax (ties, rounding)
                bias, current, improved = trial, actual, True
        if not improved:
            break
    return bias, current
