"""Calibration: a monotone map, fitted on validation logits, that makes predicted probabilities probabilities.

Why. An imbalance weight moves the optimum of the logits. With BCE and ``pos_weight`` w the population
optimum is ``sigmoid(z) = w p / (w p + 1 - p)``, i.e. ``logit(p) = z - log(w)``; with cross entropy and
class weights ``w_c`` it is ``softmax(z)_c ∝ w_c p_c``, i.e. ``log p_c = z_c - log(w_c) + const``. The
*prior correction* ``b = -log(pos_weight)`` (multi-class: the class bias ``-log(class_weight)``) undoes
the weights exactly for a well-specified model; the fitted map then removes what is left (over- or
under-confidence from early stopping, focal or smoothed losses, a misspecified model).

Methods (:data:`CALIBRATION_METHODS`), all fitted in float64 with a closed-form convergence check (the
gradient of the validation log-loss is ~0 at the returned parameters):

* ``"platt"`` (binary, multi-label): per label ``sigmoid(a z + b)``, Newton's method started from the
  prior correction ``(a, b) = (1, -log(pos_weight))``. At the optimum the mean calibrated probability
  equals the label's validation base rate. A label with fewer than ``min_count`` positives or
  negatives keeps the prior correction alone; so does a fit with ``a <= 0`` (it would reverse the order
  of the scores) or one that does not converge. Validation data a threshold separates (the maximum
  likelihood diverges) is fitted with Platt's smoothed targets ``(N+ + 1) / (N+ + 2)`` and ``1 / (N- + 2)``
  (``platt_smoothing=True`` always uses them, as scikit-learn does). Each fallback is said in ``notes``.
* ``"temperature"`` (multi-class): ``softmax((z + c) / T)``; ``c = -log(class_weight)`` when class
  weights were used and that lowers the validation log-loss (else ``c = 0``), ``T > 0`` by a bracketed
  1-D Newton on the convex log-loss in ``1 / T``.
* ``"isotonic"`` (binary, multi-label): per label, centred isotonic regression (strictly increasing,
  stored as JSON knots: raw logit ``x`` -> calibrated logit ``u``), used where the label has at least
  :data:`ISOTONIC_MIN_ROWS` rows and :data:`ISOTONIC_MIN_COUNT` positives and negatives *and* it beats
  Platt on out-of-fold log-loss (:data:`ISOTONIC_FOLDS` interleaved folds); else Platt, with a note.
* ``"none"``: the identity; ``"auto"``: ``"platt"`` for sigmoid tasks, ``"temperature"`` for multi-class.

Decisions. Every map is strictly increasing in each logit (``a > 0``; the centred isotonic map; ``T > 0``),
so a tuned decision rule can be re-expressed on the calibrated scale without changing any decision
(:meth:`Calibration.map_thresholds`); ``predict_labels(cal.calibrated_logits(z), thresholds=
cal.map_thresholds(th))`` equals ``predict_labels(z, thresholds=th)``:

* binary / multi-label: the threshold ``t`` on ``sigmoid(z)`` becomes ``t' = sigmoid(f(z*))`` on the
  calibrated probability, ``z*`` the smallest float64 logit with ``sigmoid(z*) >= t`` (for Platt,
  ``t' = sigmoid(a logit(t) + b)``). Every logit ``>= z*`` is decided positive on both scales; one
  below it too only when float64 rounding merges it with ``z*`` under ``f``, i.e. within a few ulps
  (~1e-15 relative) of the boundary. No threshold rule is exact below that level anyway: torch's own
  float64 sigmoid differs by an ulp between its vector and scalar code paths.
* multi-class: ``argmax(z + b) = argmax((z + c) / T + (b - c) / T) = argmax(log q + d)``, with
  ``q = softmax((z + c) / T)`` and ``d = (b - c) / T``: exact up to rounding, which can only break exact
  ties between classes differently.

The rule for ``predict`` and ``predict_proba`` (scikit-learn's ``predict == argmax(predict_proba)``):
``predict_proba`` returns the calibrated ``q`` and ``predict`` applies the decision rule *on the
calibrated scale*, i.e. a threshold ``t'`` on ``q`` (multi-class: ``argmax(log q + d)``). Tune the rule
after calibration (``tune_thresholds(cal.calibrated_logits(z_val), y_val, task=...)``): it moves off
``0.5`` / ``d = 0`` only where that strictly improves the objective on the validation rows, so
``predict == argmax(predict_proba)`` holds where tuning does not pay (or with no tuning), and otherwise
differs by design: a decision tuned for F1 or macro-F1 is not the most probable class. (Any strict gain
counts today, so multi-class biases move on noise-level gains even on balanced data.) Folding ``d`` into
the probabilities would make them
uncalibrated again (what this module exists to prevent); scikit-learn itself declares
``check_classifiers_train`` an expected failure of ``TunedThresholdClassifierCV`` for this reason
("Threshold at probability 0.5 does not hold").

Distributed training: :func:`~logitlab.evaluate.calibrate` (in :mod:`~logitlab.evaluate.calibration_fit`) is a pure, deterministic function of the validation logits and
targets. Give it all rows (``Trainer.predict`` and the trainer's validation already gather every rank's
rows); every rank then fits the same map, and rank 0 saves it.

Examples:
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> y = (torch.rand(2000, generator=g) < 0.1).long()
    >>> z = 2.0 * torch.randn(2000, generator=g) + 3.0 * y + 1.5  # scores shifted up by a pos_weight
    >>> from logitlab.evaluate import calibrate
    >>> cal = calibrate(z, y, task="binary", pos_weight=9.0)
    >>> cal.method, round(float(cal.transform(z).mean()), 4) == round(float(y.double().mean()), 4)
    ('platt', True)
    >>> Calibration.from_dict(cal.to_dict()) == cal
    True
"""

# The Calibration object, with the docstring that states the decision rule; calibrate() is in calibration_fit,
# the fitting steps in _calfit, _calmap and _calsteps.

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from ..errors import ConfigError, ModelFileError
from ..options import CALIBRATION_METHODS, CalibrationMethod
from ..tasks import Task, probabilities
from ._calmap import boundary_threshold, check_params, label_logits
from ._calsteps import (
    ISOTONIC_FOLDS,
    ISOTONIC_MIN_COUNT,
    ISOTONIC_MIN_ROWS,
)
from ._inputs import as_logits
from .thresholds import Thresholds

__all__ = [
    "CALIBRATION_METHODS",
    "ISOTONIC_FOLDS",
    "ISOTONIC_MIN_COUNT",
    "ISOTONIC_MIN_ROWS",
    "Calibration",
    "CalibrationMethod",
    "FAMILY_METHODS",
]


FAMILY_METHODS: dict[str, tuple[str, ...]] = {
    "sigmoid": ("platt", "isotonic", "none"),
    "softmax": ("temperature", "none"),
}


@dataclass
class Calibration:
    """A fitted calibration map for one task, stored with the model (like :class:`Thresholds`).

    Args:
        task (str): ``"binary"``, ``"multilabel"`` or ``"multiclass"``.
        method (str): what was asked for, resolved: ``"platt"``, ``"isotonic"``, ``"temperature"`` or ``"none"``.
        params (list[dict]): binary/multilabel: one dict per label, by ``kind``: ``{"kind": "platt" or
            "prior", "a": a, "b": b}`` (``sigmoid(a z + b)``, ``a > 0``), ``{"kind": "isotonic", "x": [...],
            "u": [...]}`` (strictly increasing knots: raw logit -> calibrated logit) or ``{"kind":
            "identity"}``; multiclass: one dict ``{"kind": "temperature", "temperature": T, "bias": [c_1,
            ..., c_C]}`` (``softmax((z + c) / T)``).
        notes (list[str]): fallbacks and choices, per label. Default: empty.
        log_loss_before (list[float]): validation log-loss per label (multiclass: one value) of the task's
            activation. Default: empty.
        log_loss_after (list[float]): the same, calibrated. Default: empty.

    Raises:
        ConfigError: for an unknown task/method or parameters that are not a valid increasing map.
    """

    task: str
    method: str
    params: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    log_loss_before: list[float] = field(default_factory=list)
    log_loss_after: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.task = Task.from_str(self.task).value
        family = Task(self.task).family
        if self.method not in FAMILY_METHODS[family]:
            raise ConfigError(
                f"Expected a {self.task} calibration method in {FAMILY_METHODS[family]}; got {self.method!r}.",
                fix="use calibrate(...) to build one.",
                code="bad-calibration-method",
            )
        self.params = check_params(self.params, family)
        self.notes = [str(n) for n in self.notes]
        self.log_loss_before = [float(v) for v in self.log_loss_before]
        self.log_loss_after = [float(v) for v in self.log_loss_after]

    @property
    def n_outputs(self) -> int:
        """The number of logits the map takes (labels or classes)."""
        return len(self.params[0]["bias"]) if self.task == "multiclass" else len(self.params)

    @classmethod
    def identity(cls, task: Task | str, n: int) -> Calibration:
        """The map that leaves the logits as they are (``method="none"``), for ``n`` labels/classes."""
        t = Task.from_str(task)
        if t is Task.MULTICLASS:
            return cls(t.value, "none", [{"kind": "temperature", "temperature": 1.0, "bias": [0.0] * n}])
        return cls(t.value, "none", [{"kind": "identity"} for _ in range(n)])

    def calibrated_logits(self, logits: Any) -> Tensor:
        """Calibrated logits: the task's activation of them gives the calibrated probabilities.

        Args:
            logits (Tensor[N], Tensor[N, 1], Tensor[N, L] or Tensor[N, C]): raw model outputs.

        Returns:
            Tensor: float64 on the CPU, shaped like ``logits``; binary/multilabel ``f(z)`` per label,
            multiclass ``(z + c) / T``.

        Raises:
            ConfigError: when the logits have another number of outputs than the map.
        """
        t = Task(self.task)
        shape = tuple(logits.shape) if hasattr(logits, "shape") else None
        z = as_logits(logits, t)
        n = 1 if t is Task.BINARY else z.shape[1]
        if n != self.n_outputs:
            raise ConfigError(
                f"The calibration is for {self.n_outputs} {self.task} outputs; the logits have {n}.",
                fix="fit the calibration on this model's validation logits.",
                code="calibration-mismatch",
            )
        if t is Task.MULTICLASS:
            p = self.params[0]
            u = (z + torch.tensor(p["bias"], dtype=torch.float64)) / p["temperature"]
        else:
            z2 = z[:, None] if t is Task.BINARY else z
            u = torch.stack([label_logits(z2[:, j], self.params[j]) for j in range(n)], 1)
        return u.reshape(shape if shape is not None else u.shape if t is not Task.BINARY else (-1,))

    def transform(self, logits: Any) -> Tensor:
        """Calibrated probabilities, shaped like ``logits`` (float64, CPU): the activation of :meth:`calibrated_logits`."""
        return probabilities(self.calibrated_logits(logits), self.task)

    def map_thresholds(self, thresholds: Thresholds | None = None) -> Thresholds:
        """The same decisions, on the calibrated scale (see the module docstring).

        Args:
            thresholds (Thresholds, optional): tuned on the raw logits. Default: ``None`` (0.5 / argmax).

        Returns:
            Thresholds: ``predict_labels(self.calibrated_logits(z), thresholds=result)`` equals
            ``predict_labels(z, thresholds=thresholds)``.

        Raises:
            ConfigError: when the thresholds are for another task or number of outputs.
        """
        th = thresholds if thresholds is not None else Thresholds.default(self.task, self.n_outputs)
        if th.task != self.task or len(th.values) != self.n_outputs:
            raise ConfigError(
                f"The thresholds are for a {th.task} task with {len(th.values)} outputs; the calibration "
                f"is {self.task} with {self.n_outputs}.",
                fix="tune the thresholds and the calibration on the same model's validation logits.",
                code="thresholds-mismatch",
            )
        notes = list(th.notes)
        if self.task == "multiclass":
            p = self.params[0]
            values = [(b - c) / p["temperature"] for b, c in zip(th.values, p["bias"])]
        else:
            values = [boundary_threshold(t, p) for t, p in zip(th.values, self.params)]
        notes.append(f"re-expressed on the calibrated scale ({self.method})")
        return Thresholds(self.task, values, objective=th.objective, scores=list(th.scores), notes=notes)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return {
            "task": self.task,
            "method": self.method,
            "params": [dict(p) for p in self.params],
            "notes": list(self.notes),
            "log_loss_before": list(self.log_loss_before),
            "log_loss_after": list(self.log_loss_after),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibration:
        """Rebuild from :meth:`to_dict` output (e.g. read from ``model.json``).

        Raises:
            ModelFileError: when a field is missing, has the wrong type or the map is not increasing.
        """
        fix = "save the model again; do not edit the calibration by hand."
        if not isinstance(data, Mapping) or not isinstance(data.get("params"), list) or "task" not in data:
            raise ModelFileError(
                f"Expected a calibration dict with `task`, `method` and a list `params`; got {data!r}.",
                fix=fix,
                code="bad-calibration",
            )
        try:
            return cls(
                task=str(data["task"]),
                method=str(data.get("method")),
                params=list(data["params"]),
                notes=[str(n) for n in data.get("notes", [])],
                log_loss_before=list(data.get("log_loss_before", [])),
                log_loss_after=list(data.get("log_loss_after", [])),
            )
        except (ConfigError, TypeError, ValueError) as exc:
            raise ModelFileError(
                f"The stored calibration is not valid: {getattr(exc, 'message', exc)}",
                fix=fix,
                code="bad-calibration",
            ) from None
