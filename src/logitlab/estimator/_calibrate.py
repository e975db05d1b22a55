"""The calibration map and the decision thresholds of a fit, fitted on logits passed in.

The logits are the pooled out-of-fold logits when cross-fitting, else the model's logits of the rows that
did not pick the epoch (:mod:`logitlab.estimator._crossfit` decides which). Only the
:mod:`logitlab.estimator` package imports this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import torch
from torch import Tensor

from ..options import FEW_ROWS, SMALL_CALIBRATION

if TYPE_CHECKING:
    from ..evaluate import Calibration, Thresholds
    from ..weights import ImbalanceWeights

__all__ = ["Tuned", "bound_sharpening", "calibrate_and_tune", "prior_correction", "validation_metrics"]


@dataclass
class Tuned:
    """What :func:`calibrate_and_tune` fitted: the map, the thresholds, and the out-of-sample check of ``"auto"``.

    ``check`` is ``None`` where the map was not judged (``calibration`` other than ``"auto"``, or no rows),
    else the judgement (``{}``: nothing to report).
    """

    calibration: Calibration | None
    thresholds: Thresholds | None
    check: dict[str, Any] | None = field(default=None)


def calibrate_and_tune(
    logits: Any,
    targets: Any,
    *,
    task: str,
    method: str,
    objective: str,
    weights: ImbalanceWeights | None,
    n_outputs: int,
    seed: int,
) -> Tuned:
    """The calibration map and the decision thresholds, both fitted on ``logits`` and ``targets``.

    ``logits`` are the pooled out-of-fold logits when cross-fitting, else the model's logits of the
    second half of the validation split (rows that did not pick the epoch). The map (``method``: the
    ``calibration`` parameter) is fitted first, and the thresholds (``objective``: ``threshold_objective``)
    are tuned on the calibrated logits: ``predict`` applies them to the probabilities
    ``predict_proba`` returns, and they move off 0.5 / zero class bias only where that strictly improves
    the objective, so ``predict == argmax(predict_proba)`` holds wherever they did not move (the rule of
    :mod:`logitlab.evaluate.calibration`). On fewer than :data:`~logitlab.options.SMALL_CALIBRATION` rows a
    map that would sharpen (Platt slope > 1, temperature < 1) is bounded to slope / temperature 1.
    Without rows (``val_size=0``): the prior correction ``-log(pos_weight)`` (multiclass: ``-log(class
    weight)``) alone, which needs no data, and no thresholds. With ``threshold_objective="none"`` (and
    ``"auto"`` for multiclass, :data:`~logitlab.options.AUTO_OBJECTIVE`): no thresholds. ``weights``: the
    imbalance weights the loss was given (the prior correction undoes them).
    """
    from ..evaluate import DecisionRule, calibrate, check_objective, tune_thresholds

    w = weights
    pos = w.values if w is not None and w.kind == "pos_weight" else None
    cls = w.values if w is not None and w.kind == "class_weight" else None
    if len(targets) == 0:
        return Tuned(None if method == "none" else prior_correction(task, pos, cls, n_outputs), None)
    cal, check = None, None
    if method != "none":
        small = len(targets) < SMALL_CALIBRATION

        def fit(z: Any, y: Any) -> Calibration:
            c = calibrate(z, y, task=task, method=cast(Any, method), pos_weight=pos, class_weight=cls)
            return bound_sharpening(c, z, y) if small else c

        cal = fit(logits, targets)
        if method == "auto":  # kept only where it helps on rows it was not fitted on
            from ._calibration_check import judged_out_of_sample

            note = "the prior correction alone: the fitted map did not help on rows it was not fitted on"
            baseline = prior_correction(task, pos, cls, n_outputs, note=note)
            cal, judged = judged_out_of_sample(cal, baseline, fit, logits, targets, task=task, seed=seed)
            check = dict(judged or {})
    resolved = check_objective(objective, task)  # "auto" -> the task's objective
    if resolved == "none":
        return Tuned(cal, None, check)
    scale = DecisionRule(task, cal).calibrated_logits(logits)  # the thresholds' scale
    tuned = tune_thresholds(
        scale,
        targets,
        task=task,
        objective=resolved,
        probabilities=False,
        min_count=FEW_ROWS,
    )
    return Tuned(cal, tuned, check)


def prior_correction(
    task: str, pos_weight: Any, class_weight: Any, n_outputs: int, *, note: str | None = None
) -> Calibration | None:
    """The map that undoes the imbalance weights' shift of the log-odds, fitted on no data.

    Sigmoid tasks: ``sigmoid(z - log(pos_weight))`` per label; multiclass: ``softmax(z - log(class_weight))``.
    ``None`` without weights (the raw activation is already the model's probability).
    """
    from ..evaluate import Calibration

    note = note or "no validation rows (val_size=0): the prior correction alone, fitted on no data"
    if task == "multiclass":
        if class_weight is None:
            return None
        bias = [0.0 - math.log(float(v)) for v in torch.as_tensor(class_weight).reshape(-1).tolist()]
        return Calibration(
            task, "temperature", [{"kind": "temperature", "temperature": 1.0, "bias": bias}], [note]
        )
    if pos_weight is None:
        return None
    values = torch.as_tensor(pos_weight, dtype=torch.float64).reshape(-1).expand(n_outputs).tolist()
    params = [{"kind": "prior", "a": 1.0, "b": 0.0 - math.log(float(v))} for v in values]
    return Calibration(task, "platt", params, [note])


def bound_sharpening(cal: Calibration, logits: Any, targets: Any) -> Calibration:
    """``cal`` with a Platt slope above 1 (temperature below 1) bounded to 1, the intercept refitted.

    For a map fitted on few rows (:data:`~logitlab.options.SMALL_CALIBRATION`): sharpening the logits
    there fits the noise of those rows. Isotonic maps and maps that soften are kept as they are.
    """
    from ..evaluate import Calibration

    z = torch.as_tensor(logits, dtype=torch.float64).reshape(len(logits), -1)
    params, notes = [dict(p) for p in cal.params], list(cal.notes)
    rows = len(z)
    if cal.task == "multiclass":
        p = params[0]
        if p["temperature"] < 1.0:
            notes.append(
                f"temperature {p['temperature']:.3g} fitted on {rows} rows (< {SMALL_CALIBRATION}) bounded to 1"
            )
            p["temperature"] = 1.0
    else:
        t = torch.as_tensor(targets, dtype=torch.float64).reshape(rows, -1)
        for j, p in enumerate(params):
            if p["kind"] == "platt" and p["a"] > 1.0:
                notes.append(
                    f"label {j}: Platt slope {p['a']:.3g} fitted on {rows} rows (< {SMALL_CALIBRATION}) bounded to 1"
                )
                p["a"], p["b"] = 1.0, _intercept(z[:, j], t[:, j], p["b"])
    if notes == cal.notes:
        return cal
    bounded = Calibration(cal.task, cal.method, params, notes, cal.log_loss_before)
    return _with_after(bounded, z, targets)


def _intercept(z: Tensor, t: Tensor, b: float) -> float:
    """The ``b`` minimising the log-loss of ``sigmoid(z + b)`` (Newton's method in float64)."""
    for _ in range(50):
        p = torch.sigmoid(z + b)
        grad, hess = float((p - t).mean()), float((p * (1 - p)).mean())
        if hess <= 0 or abs(grad) < 1e-12:
            break
        b -= max(-5.0, min(5.0, grad / hess))
    return b


def _with_after(cal: Calibration, z: Tensor, targets: Any) -> Calibration:
    import torch.nn.functional as F

    u = cal.calibrated_logits(z).to(torch.float64)
    if cal.task == "multiclass":
        after = [_log_loss(u, targets, "multiclass")]
    else:
        t = torch.as_tensor(targets, dtype=torch.float64).reshape(u.shape)
        after = [float(v) for v in F.binary_cross_entropy_with_logits(u, t, reduction="none").mean(0)]
    cal.log_loss_after = after
    return cal


def validation_metrics(
    logits: Any,
    targets: Any,
    kind: str,
    *,
    task: str,
    calibration: Calibration | None,
    thresholds: Thresholds | None,
) -> dict[str, Any] | None:
    """The scalar metrics of the rows the calibration and thresholds were fitted on, for ``decisions_``.

    Cross-fitting: every row's out-of-fold logit, calibrated and thresholded (the honest validation
    numbers of the fitted recipe, the calibration and thresholds being fitted on these rows too).
    """
    from ..evaluate import DecisionRule, compute_metrics

    if len(targets) == 0:
        return None
    metrics = compute_metrics(logits, targets, task=task, thresholds=thresholds, calibration=calibration)
    flat = {
        k: float(v) for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
    }
    u = torch.as_tensor(logits, dtype=torch.float64).reshape(len(targets), -1)
    u = DecisionRule(task, calibration).calibrated_logits(u)
    flat["log_loss"] = _log_loss(u, targets, task)
    return {"rows": int(len(targets)), "on": kind, **flat}


def _log_loss(u: Tensor, targets: Any, task: str) -> float:
    """The task's unweighted log-loss of float64 logits ``u`` (multilabel: the mean over labels)."""
    import torch.nn.functional as F

    y = torch.as_tensor(targets)
    if task == "multiclass":
        return float(F.cross_entropy(u, y.to(torch.float64) if y.ndim == 2 else y.long().reshape(-1)))
    return float(F.binary_cross_entropy_with_logits(u, y.to(torch.float64).reshape(u.shape)))
