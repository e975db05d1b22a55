"""The fitting policy of :func:`~logitlab.evaluate.calibrate`: guards, fallbacks and the notes that say so."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from ._calfit import (
    binary_log_loss,
    fit_cir,
    fit_platt,
    fit_temperature,
    multiclass_log_loss,
    separable,
)
from ._calmap import label_logits
from .interpolation import piecewise_linear

__all__ = ["ISOTONIC_FOLDS", "ISOTONIC_MIN_COUNT", "ISOTONIC_MIN_ROWS", "fit_multiclass", "fit_sigmoid_label"]

ISOTONIC_MIN_ROWS = 1000
"""Isotonic calibration is tried on a label only with at least this many validation rows ..."""

ISOTONIC_MIN_COUNT = 50
"""... and at least this many positives and this many negatives."""

ISOTONIC_FOLDS = 5
"""Interleaved folds (row ``i`` in fold ``i % 5``) of the out-of-fold isotonic-vs-Platt comparison."""


def _platt(
    z: Tensor, y: Tensor, prior_b: float, min_count: int, smoothing: bool
) -> tuple[dict[str, Any], str]:
    n, pos = y.numel(), int(y.sum())
    neg = n - pos
    prior = {"kind": "prior", "a": 1.0, "b": prior_b}
    kept = f"kept the prior correction b = -log(pos_weight) = {prior_b:.4g}" if prior_b else "kept the logits"
    if min(pos, neg) < min_count:
        return prior, f"{pos} positives and {neg} negatives (fewer than min_count={min_count}): {kept}"
    if bool(z.max() == z.min()):  # constant logits: only the intercept is identified
        rate = pos / n
        return {
            "kind": "platt",
            "a": 1.0,
            "b": math.log(rate / (1 - rate)) - float(z[0]),
        }, "constant logits: fitted the intercept only"
    note = ""
    if not smoothing and separable(z, y):
        smoothing = True
        note = "a threshold on the logit separates the targets (Platt's likelihood has no maximum): fitted Platt's smoothed targets"
    t = torch.where(y > 0.5, (pos + 1.0) / (pos + 2.0), 1.0 / (neg + 2.0)) if smoothing else y
    a, b, converged, grad = fit_platt(z, t, a=1.0, b=prior_b)
    if not converged:
        return prior, f"Platt scaling did not converge (gradient {grad:.1e}): {kept}"
    if not a > 0:
        return prior, f"the Platt slope a = {a:.4g} <= 0 would reverse the order of the scores: {kept}"
    return {"kind": "platt", "a": a, "b": b}, note


def _isotonic(
    z: Tensor, y: Tensor, platt: tuple[dict[str, Any], str], prior_b: float, min_count: int, smoothing: bool
) -> tuple[dict[str, Any], str]:
    n, pos = y.numel(), int(y.sum())

    def fallback(why: str) -> tuple[dict[str, Any], str]:
        return platt[0], "; ".join(filter(None, [platt[1], f"{why}: Platt scaling"]))

    if n < ISOTONIC_MIN_ROWS or min(pos, n - pos) < ISOTONIC_MIN_COUNT:
        why = (f"too little data for isotonic ({n} rows, {pos} positives; it needs {ISOTONIC_MIN_ROWS} rows and "
               f"{ISOTONIC_MIN_COUNT} of each class)")  # fmt: skip
        return fallback(why)
    fold = torch.arange(n) % ISOTONIC_FOLDS
    loss_iso = loss_platt = 0.0
    for k in range(ISOTONIC_FOLDS):
        train, test = fold != k, fold == k
        knots = fit_cir(z[train], y[train])
        if knots is None:
            return fallback("the isotonic fit is a single block")
        ref, _ = _platt(z[train], y[train], prior_b, min_count, smoothing)
        u = piecewise_linear(
            z[test], torch.tensor(knots[0], dtype=torch.float64), torch.tensor(knots[1], dtype=torch.float64)
        )
        share = float(test.sum()) / n
        loss_iso += binary_log_loss(u, y[test]) * share
        loss_platt += binary_log_loss(label_logits(z[test], ref), y[test]) * share
    scores = f"out-of-fold log-loss {loss_iso:.5f} isotonic vs {loss_platt:.5f} Platt"
    knots = fit_cir(z, y)
    if knots is None or loss_iso >= loss_platt:
        return fallback(f"isotonic does not help ({scores})")
    return {"kind": "isotonic", "x": knots[0], "u": knots[1]}, f"isotonic ({scores})"


def fit_sigmoid_label(
    z: Tensor, y: Tensor, prior_b: float, *, min_count: int, smoothing: bool, isotonic: bool
) -> tuple[dict[str, Any], str]:
    """One label's map: Platt from the prior correction (with its guards), or isotonic where it helps.

    Args:
        z (Tensor[N]): float64 logits.
        y (Tensor[N]): float64 0/1 targets.
        prior_b (float): ``-log(pos_weight)`` (0 without weights).
        min_count (int): fewer positives or negatives keep the prior correction alone.
        smoothing (bool): fit Platt's smoothed targets.
        isotonic (bool): try isotonic.

    Returns:
        tuple: (parameter dict, note or "").
    """
    platt = _platt(z, y, prior_b, min_count, smoothing)
    if not isotonic or platt[0]["kind"] == "prior":
        return platt
    return _isotonic(z, y, platt, prior_b, min_count, smoothing)


def _temperature(u: Tensor, y: Tensor) -> tuple[float, str]:
    beta, converged, grad, reason = fit_temperature(u, y)
    if beta is None:
        return 1.0, f"{reason}: kept T = 1"
    if not converged:
        return 1.0, f"temperature scaling did not converge (gradient {grad:.1e}): kept T = 1"
    return 1.0 / beta, ""


def fit_multiclass(z: Tensor, y: Tensor, weights: Tensor | None) -> tuple[dict[str, Any], list[str], float]:
    """Temperature scaling, with the class bias ``-log(class_weight)`` where it lowers the log-loss.

    Returns:
        tuple: (parameter dict, notes, calibrated validation log-loss).
    """
    candidates = [torch.zeros(z.shape[1], dtype=torch.float64)]
    if weights is not None:
        candidates.append(0.0 - torch.log(weights))  # 0.0 - x: no -0.0 for a weight of 1
    fits = []
    for bias in candidates:
        temperature, note = _temperature(z + bias, y)
        fits.append((multiclass_log_loss((z + bias) / temperature, y), temperature, bias, note))
    notes = [fits[0][3]] if fits[0][3] else []
    best = fits[0]
    if weights is not None:
        with_bias = fits[1]
        verdict = "kept" if with_bias[0] < fits[0][0] else "dropped"
        notes = [with_bias[3]] if with_bias[3] and verdict == "kept" else notes
        notes.append(f"class bias -log(class_weight) {verdict}: validation log-loss {with_bias[0]:.5f} with it, "
                     f"{fits[0][0]:.5f} without")  # fmt: skip
        best = with_bias if verdict == "kept" else fits[0]
    loss, temperature, bias, _ = best
    return {"kind": "temperature", "temperature": temperature, "bias": [float(v) for v in bias]}, notes, loss
