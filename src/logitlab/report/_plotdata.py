"""Data behind the figures in :mod:`logitlab.report.plots`: history, one-vs-rest columns, operating points, reliability."""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import torch

from ..evaluate import format_pair
from ..evaluate.decision import DecisionRule
from ..evaluate.reliability import reliability_bins
from ..tasks import Task, probabilities

if TYPE_CHECKING:
    from ..evaluate.calibration import Calibration
    from ..evaluate.thresholds import Thresholds

__all__ = ["columns", "operating_point", "operating_points", "read_history", "reliability_panels"]

Curve = tuple[str, dict[str, torch.Tensor], float]
"""One reliability curve: (name, :func:`reliability_bins` output, ECE of those bins)."""


def read_history(history: Sequence[Mapping[str, Any]] | str | os.PathLike[str]) -> list[dict[str, float]]:
    if isinstance(history, (str, os.PathLike)):
        with open(history, newline="", encoding="utf-8") as fh:
            rows: list[Mapping[str, Any]] = list(csv.DictReader(fh))
    else:
        rows = list(history)
    out = []
    for row in rows:
        clean = {}
        for key, value in row.items():
            try:
                clean[str(key)] = float(value)
            except (TypeError, ValueError):
                continue
        out.append(clean)
    return out


def columns(
    logits: Any, targets: Any, task: Task
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-label one-vs-rest (scores, 0/1 targets) as [N, K] tensors, plus the raw logits and targets."""
    z, y = format_pair(logits, targets, task)
    p = probabilities(z, task)
    if task is Task.BINARY:
        return p[:, None], y[:, None], z, y
    if task is Task.MULTICLASS:
        return p, torch.nn.functional.one_hot(y, z.shape[1]), z, y
    return p, y, z, y


def operating_points(z: torch.Tensor, task: Task, thresholds: Thresholds | None) -> torch.Tensor:
    """0/1 decisions [N, K] of logits on the calibrated scale with the given thresholds (multiclass: one-vs-rest of the decided class)."""
    d = DecisionRule(task, thresholds=thresholds).decide(z)
    if task is Task.BINARY:
        return d[:, None]
    if task is Task.MULTICLASS:
        return torch.nn.functional.one_hot(d, z.shape[1])
    return d


def operating_point(kind: str, decided: Any, y: Any) -> tuple[float, float]:
    tp = float((decided * y).sum())
    fp = float((decided * (1 - y)).sum())
    pos, neg = float(y.sum()), float((1 - y).sum())
    if kind == "pr":
        return tp / pos, (tp / (tp + fp) if tp + fp else 1.0)
    return fp / max(neg, 1.0), tp / max(pos, 1.0)


def equal_mass_bins(rows: int) -> int:
    """Bins for a reliability diagram of ``rows`` rows: about 25 rows each, between 2 and 10."""
    return max(2, min(10, rows // 25))


def _curve(name: str, confidence: torch.Tensor, outcome: torch.Tensor, n_bins: int | None) -> Curve:
    n = equal_mass_bins(len(confidence)) if n_bins is None else n_bins
    bins = reliability_bins(confidence, outcome, n_bins=n, strategy="quantile")
    share = bins["count"] / bins["count"].sum()
    return name, bins, float((share * (bins["confidence"] - bins["frequency"]).abs()).nansum())


def reliability_panels(
    logits: Any, targets: Any, task: Task, calibration: Calibration | None, n_bins: int | None
) -> list[list[Curve]]:
    """Per panel (each label; multiclass: one top-1 panel), the uncalibrated curve and, given a calibration, the calibrated one."""
    z, y = format_pair(logits, targets, task)
    variants = [("uncalibrated", probabilities(z, task))]
    if calibration is not None:
        variants.append(("calibrated", DecisionRule(task, calibration).probabilities(z)))
    if task is Task.MULTICLASS:
        return [[_curve(name, p.max(1).values, (p.argmax(1) == y).long(), n_bins) for name, p in variants]]
    y2 = y[:, None] if task is Task.BINARY else y
    cols = [(name, p[:, None] if task is Task.BINARY else p) for name, p in variants]
    return [[_curve(name, p[:, j], y2[:, j], n_bins) for name, p in cols] for j in range(y2.shape[1])]
