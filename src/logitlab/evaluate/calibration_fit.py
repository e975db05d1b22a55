"""Fitting a :class:`~logitlab.evaluate.Calibration` on validation logits: :func:`calibrate` (the methods and why: :mod:`logitlab.evaluate.calibration`).

:func:`check_calibration_method` checks a method for a task before anything is fitted.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from ..errors import ConfigError
from ..options import OPTIONS, CalibrationMethod
from ..tasks import Task
from ._calfit import binary_log_loss, multiclass_log_loss
from ._calmap import label_logits
from ._calsteps import fit_multiclass, fit_sigmoid_label
from ._inputs import format_pair
from .calibration import FAMILY_METHODS, Calibration

__all__ = ["MIN_COUNT", "calibrate", "check_calibration_method"]

MIN_COUNT = 10
"""Default ``min_count``: a label with fewer positives or negatives keeps the prior correction alone."""


def _weights(value: Any, n: int, name: str) -> Tensor | None:
    if value is None:
        return None
    w = (value.detach().cpu() if isinstance(value, Tensor) else torch.as_tensor(value)).to(torch.float64)
    w = w.reshape(-1)
    if w.numel() != n or not bool(torch.isfinite(w).all()) or not bool((w > 0).all()):
        raise ConfigError(
            f"Expected `{name}` to hold {n} finite positive weights (the ones used in training); got "
            f"{w.tolist()[:10]}.",
            fix=f"pass the {name} the loss was built with, or None.",
            code="bad-calibration-weights",
        )
    return w


def _check_options(method: Any, t: Task, pos_weight: Any, class_weight: Any, min_count: Any) -> str:
    OPTIONS["method"].check(method)
    resolved = str(method) if method != "auto" else ("temperature" if t is Task.MULTICLASS else "platt")
    if resolved not in FAMILY_METHODS[t.family]:
        raise ConfigError(
            f"Method {method!r} does not apply to a {t.value} task; it takes {FAMILY_METHODS[t.family]}.",
            fix='use method="auto".',
            code="bad-calibration-method",
        )
    wrong = "pos_weight" if t is Task.MULTICLASS and pos_weight is not None else None
    wrong = "class_weight" if t is not Task.MULTICLASS and class_weight is not None else wrong
    if wrong:
        right = "class_weight" if wrong == "pos_weight" else "pos_weight"
        raise ConfigError(
            f"`{wrong}` does not apply to a {t.value} task.",
            fix=f"pass `{right}` (the weights the loss was built with) instead.",
            code="bad-calibration-weights",
        )
    if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
        raise ConfigError(
            f"Expected `min_count` to be an integer >= 1; got {min_count!r}.",
            fix=f"use min_count={MIN_COUNT}.",
            code="bad-min-count",
        )
    return resolved


def check_calibration_method(method: Any, task: Task | str) -> str:
    """Check a calibration method against a task, before any fitting; the method it resolves to.

    Raises:
        ConfigError: an unknown method, or one for the other family (``"temperature"`` for a sigmoid task).

    Examples:
        >>> check_calibration_method("auto", "multiclass"), check_calibration_method("isotonic", "binary")
        ('temperature', 'isotonic')
    """
    return _check_options(method, Task.from_str(task), None, None, MIN_COUNT)


def calibrate(
    logits: Any,
    targets: Any,
    *,
    task: Task | str,
    method: CalibrationMethod = "auto",
    pos_weight: Any = None,
    class_weight: Any = None,
    min_count: int = MIN_COUNT,
    platt_smoothing: bool = False,
) -> Calibration:
    """Fit a calibration map on validation logits (see the module docstring for the methods).

    Args:
        logits (Tensor[N], Tensor[N, 1], Tensor[N, L] or Tensor[N, C]): validation logits, all rows
            (gathered over ranks).
        targets (Tensor): 0/1 targets shaped like the logits, or class indices ``[N]``.
        task (Task or str): the task.
        method (str): one of :data:`CALIBRATION_METHODS`. Default: ``"auto"``.
        pos_weight (float or Tensor[L], optional): the BCE ``pos_weight`` used in training; starts Platt at
            the prior correction ``b = -log(pos_weight)``. Default: ``None`` (1).
        class_weight (Tensor[C], optional): the cross-entropy class weights used in training. Default: ``None``.
        min_count (int): fewer positives or negatives than this keep the prior correction alone. Default: ``10``.
        platt_smoothing (bool): fit Platt on Platt's smoothed targets (as scikit-learn does). Default: ``False``.

    Returns:
        Calibration: the fitted map, with notes and the validation log-loss before and after.

    Raises:
        ConfigError: for an unknown method, a method or weights that do not fit the task, bad weights.
        TargetError, DataError: for targets or logits that do not fit the task.
    """
    t = Task.from_str(task)
    resolved = _check_options(method, t, pos_weight, class_weight, min_count)
    z, y = format_pair(logits, targets, t)
    if t is Task.MULTICLASS:
        w = _weights(class_weight, z.shape[1], "class_weight")
        before = multiclass_log_loss(z, y)
        if resolved == "none":
            identity = Calibration.identity(t, z.shape[1]).params
            return Calibration(t.value, "none", identity, [], [before], [before])
        param, notes, after = fit_multiclass(z, y, w)
        return Calibration(t.value, resolved, [param], notes, [before], [after])
    z2, y2 = (z[:, None], y[:, None]) if t is Task.BINARY else (z, y)
    w = _weights(pos_weight, z2.shape[1], "pos_weight")
    return _calibrate_labels(t, resolved, z2, y2.to(torch.float64), w, min_count, platt_smoothing)


def _calibrate_labels(
    t: Task, method: str, z: Tensor, y: Tensor, w: Tensor | None, min_count: int, smoothing: bool
) -> Calibration:
    params: list[dict[str, Any]] = []
    notes: list[str] = []
    before: list[float] = []
    after: list[float] = []
    for j in range(z.shape[1]):
        zj, yj = z[:, j], y[:, j]
        prior_b = -math.log(float(w[j])) if w is not None else 0.0
        param, note = {"kind": "identity"}, ""
        if method != "none":
            param, note = fit_sigmoid_label(
                zj, yj, prior_b, min_count=min_count, smoothing=smoothing, isotonic=method == "isotonic"
            )
        params.append(param)
        if note:
            notes.append(f"label {j}: {note}")
        before.append(binary_log_loss(zj, yj))
        after.append(binary_log_loss(label_logits(zj, param), yj))
    return Calibration(t.value, method, params, notes, before, after)
