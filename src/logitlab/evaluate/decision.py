"""The decision rule of a fitted classifier: calibrate the logits, then apply the thresholds.

Every place that turns logits into probabilities and decisions takes both from one
:class:`DecisionRule` (``Classifier.outputs`` and so ``predict`` / ``predict_proba``,
:func:`~logitlab.evaluate.compute_metrics`, :func:`~logitlab.evaluate.calibration_metrics`, the
figures, the report and the ONNX graph):

1. the calibrated logits ``u``: the calibration map of the logits (the logits as they are without one);
2. the probabilities: the task's activation of ``u`` (a sigmoid per label; a softmax over the classes);
3. the decisions, on that scale: binary and multi-label ``sigmoid(u) >= t`` per label (``t = 0.5``
   untuned); multi-class ``argmax(u + b)`` with the per-class biases ``b`` (untuned: the argmax of the
   calibrated probabilities).

The thresholds are on the calibrated scale (tuned on ``u``, or re-expressed by
:meth:`~logitlab.evaluate.Calibration.map_thresholds`); see :mod:`logitlab.evaluate.calibration` for
why the decisions are not folded into the probabilities.

Examples:
    >>> import torch
    >>> from logitlab.evaluate import Calibration, Thresholds
    >>> cal = Calibration("binary", "platt", [{"kind": "platt", "a": 2.0, "b": -1.0}])
    >>> rule = DecisionRule("binary", cal, Thresholds("binary", [0.3]))
    >>> z = torch.tensor([-1.0, 0.25, 0.5, 2.0])
    >>> rule.labels(z).tolist()  # sigmoid(2 z - 1) >= 0.3
    [0, 1, 1, 1]
    >>> proba, codes = rule.outputs(z[:, None])  # predict_proba's columns and predict's class positions
    >>> proba.shape, codes.tolist()
    ((4, 2), [0, 1, 1, 1])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from torch import Tensor

from ..tasks import Task, probabilities
from .calibration import Calibration
from .thresholds import Thresholds, predict_labels

__all__ = ["Decided", "DecisionRule"]


class Decided(NamedTuple):
    """What :meth:`DecisionRule.apply` computes from logits, all in the logit order."""

    calibrated: Any  #: the calibrated logits (the logits themselves without a calibration)
    probabilities: Tensor  #: the task's activation of ``calibrated``
    labels: Tensor  #: int64 0/1 shaped like the logits, or class indices ``[N]``


@dataclass(frozen=True)
class DecisionRule:
    """How a classifier turns logits into calibrated probabilities and decisions.

    Args:
        task (str): ``"binary"``, ``"multilabel"`` or ``"multiclass"``.
        calibration (Calibration, optional): the map applied to the logits first. Default: ``None`` (none).
        thresholds (Thresholds, optional): the decisions on the calibrated scale. Default: ``None``
            (0.5 per label / plain argmax).
        names (Sequence[str], optional): one name per label (multi-label) or class. Default: ``None``.
        order (Sequence[int], optional): binary and multi-class: per class of the user's class order
            (``classes_``), its position among the logits; :meth:`outputs` returns columns and labels in
            that order. Default: ``None`` (the logit order).
    """

    task: str
    calibration: Calibration | None = None
    thresholds: Thresholds | None = None
    names: Sequence[str] | None = None
    order: Sequence[int] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "task", Task.from_str(self.task).value)
        if self.names is not None:
            object.__setattr__(self, "names", tuple(str(n) for n in self.names))
        if self.order is not None:
            object.__setattr__(self, "order", tuple(int(i) for i in self.order))

    def calibrated_logits(self, logits: Any) -> Any:
        """The logits the decisions are taken on: the calibration's float64 map of them, or ``logits`` itself."""
        return logits if self.calibration is None else self.calibration.calibrated_logits(logits)

    def probabilities(self, logits: Any) -> Tensor:
        """The task's activation of :meth:`calibrated_logits`, shaped like ``logits``."""
        return probabilities(self.calibrated_logits(logits), self.task)

    def labels(self, logits: Any) -> Tensor:
        """Decisions in the logit order: int64 0/1 shaped like ``logits``, or class indices ``[N]``."""
        return self.decide(self.calibrated_logits(logits))

    def decide(self, calibrated: Any) -> Tensor:
        """Decisions from logits already on the calibrated scale (:meth:`calibrated_logits`)."""
        return predict_labels(calibrated, task=self.task, thresholds=self.thresholds)

    def apply(self, logits: Any) -> Decided:
        """The calibrated logits, probabilities and decisions of ``logits``, the map applied once."""
        scale = self.calibrated_logits(logits)
        return Decided(scale, probabilities(scale, self.task), self.decide(scale))

    def outputs(self, logits: Tensor) -> tuple[np.ndarray, np.ndarray]:
        """``(probabilities, labels)`` of logits ``[N, n_outputs]`` as ``predict_proba`` / ``predict`` give them.

        Returns:
            tuple: binary ``[N, 2]`` probabilities (``[1 - p, p]``) and multi-class ``[N, C]``, both with
            their columns in :attr:`order`, and the decided class's position in that order ``[N]``;
            multi-label ``[N, L]`` probabilities and ``[N, L]`` int64 0/1 decisions.
        """
        _, p, d = self.apply(logits)
        proba, decided = p.numpy(), d.cpu().numpy()
        if self.task == "binary":
            proba = np.column_stack([1.0 - proba[:, 0], proba[:, 0]])
        if self.task == "multilabel":
            return proba, decided.astype(np.int64).reshape(len(decided), -1)
        order = np.asarray(self.order if self.order is not None else range(proba.shape[1]), dtype=np.int64)
        codes = np.argsort(order)[decided.reshape(len(decided), -1)[:, 0].astype(np.int64)]
        return proba[:, order], codes

    def resolved_calibration(self, n_outputs: int) -> Calibration:
        """The calibration spelled out: the identity map for ``n_outputs`` logits where there is none."""
        if self.calibration is not None:
            return self.calibration
        return Calibration.identity(self.task, n_outputs)

    def resolved_thresholds(self, n_outputs: int) -> Thresholds:
        """The thresholds spelled out: 0.5 per label / zero class bias where there are none."""
        if self.thresholds is not None:
            return self.thresholds
        return Thresholds.default(self.task, n_outputs)
