"""Checking and formatting (logits, targets) pairs for metrics and threshold tuning.

Metrics take hard labels: binary ``[N]`` 0/1, multilabel ``[N, L]`` 0/1, multiclass ``[N]`` class
indices. Binary logits ``[N, 1]`` are flattened to ``[N]`` (the one-logit model's usual shape).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..errors import DataError, LogitlabWarning, TargetError
from ..tasks import Task

__all__ = ["as_logits", "format_pair"]


def as_logits(logits: Any, task: Task) -> Tensor:
    """Logits as a detached CPU float64 tensor; binary ``[N, 1]`` -> ``[N]``; checks shape and finiteness."""
    z = logits.detach() if isinstance(logits, Tensor) else torch.as_tensor(np.asarray(logits))
    z = z.cpu().to(torch.float64)
    if task is Task.BINARY and z.ndim == 2 and z.shape[1] == 1:
        z = z[:, 0]
    expected = {
        Task.BINARY: (1, "[N] or [N, 1]"),
        Task.MULTILABEL: (2, "[N, L]"),
        Task.MULTICLASS: (2, "[N, C]"),
    }
    ndim, text = expected[task]
    if z.ndim != ndim:
        raise DataError(
            f"Expected {task.value} logits shaped {text}; got shape {list(z.shape)}.",
            fix="pass the model's raw outputs for the task (binary: one logit per sample), or the right task=.",
            code="outputs-shape-for-task",
        )
    if z.shape[0] == 0:
        raise DataError(
            "Expected at least one sample; got empty logits.", fix="check the split.", code="empty"
        )
    if not torch.isfinite(z).all():
        bad = int((~torch.isfinite(z)).sum())
        raise DataError(
            f"Expected finite logits; got {bad} NaN/Inf values.",
            fix="run ll.diagnose(logits, targets) to find where they come from.",
            code="nonfinite-outputs",
        )
    return z


def format_pair(logits: Any, targets: Any, task: Task | str) -> tuple[Tensor, Tensor]:
    """Check and format ``(logits, targets)``: float64 logits and int64 hard labels.

    Returns:
        tuple: logits (binary ``[N]``, else ``[N, L]``/``[N, C]``) and targets (binary ``[N]``,
        multilabel ``[N, L]`` 0/1, multiclass ``[N]`` indices), both on the CPU.
    """
    task = Task.from_str(task)
    z = as_logits(logits, task)
    y = targets.detach().cpu() if isinstance(targets, Tensor) else torch.as_tensor(np.asarray(targets))
    if y.dtype == torch.bool:
        y = y.long()
    if task is Task.MULTICLASS:
        y = _class_indices(y, z.shape[1])
        if y.shape[0] != z.shape[0]:
            raise TargetError(
                f"Expected one target per row of the logits ({z.shape[0]}); got {y.shape[0]} targets.",
                fix="pass the targets of the same samples as the logits.",
                code="batch-size-mismatch",
            )
    else:
        if task is Task.BINARY and y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if tuple(y.shape) != tuple(z.shape):
            raise TargetError(
                f"Expected {task.value} targets shaped like the logits {list(z.shape)}; got {list(y.shape)}.",
                fix="pass one 0/1 target per logit (multilabel: an [N, L] indicator matrix).",
                code="target-shape-mismatch",
            )
        yf = y.to(torch.float64)
        if not bool(((yf == 0) | (yf == 1)).all()):
            raise TargetError(
                f"Expected hard 0/1 {task.value} targets for metrics; got values in "
                f"[{float(yf.min()):.4g}, {float(yf.max()):.4g}] that are not all 0 or 1.",
                fix="round soft labels first: (targets >= 0.5).long().",
                code="soft-targets-for-metrics",
            )
        y = yf.long()
    return z, y


def _class_indices(y: Tensor, n_classes: int) -> Tensor:
    if y.ndim == 2 and y.shape[1] == n_classes and y.is_floating_point():
        warnings.warn(
            "compute_metrics: class-probability / one-hot targets [N, C] were turned into class indices "
            "by argmax.",
            LogitlabWarning,
            stacklevel=3,
        )
        y = y.argmax(dim=1)
    if y.ndim != 1:
        raise TargetError(
            f"Expected multiclass targets as class indices [N]; got shape {list(y.shape)}.",
            fix="pass integer labels 0..C-1 (one-hot: targets.argmax(1)).",
            code="target-shape-mismatch",
        )
    if y.is_floating_point():
        if not bool((y == y.round()).all()):
            raise TargetError(
                "Expected integer class indices; got non-integer float targets.",
                fix="pass int64 labels 0..C-1.",
                code="non-integer-labels",
            )
        y = y.long()
    y = y.long()
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= n_classes):
        raise TargetError(
            f"Expected class indices in [0, {n_classes}); got values in [{int(y.min())}, {int(y.max())}].",
            fix="remap the labels to 0..C-1, or give the model one logit per class.",
            code="class-index-out-of-range",
        )
    return y
