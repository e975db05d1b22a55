"""Evaluation: metrics on logits, tuned decision thresholds, calibration and the rule that applies both.

Examples:
    >>> import torch
    >>> from logitlab.evaluate import compute_metrics
    >>> logits, y = torch.tensor([[3.0, -1.0], [-2.0, 0.5]]), torch.tensor([[1, 0], [0, 1]])
    >>> compute_metrics(logits, y, task="multilabel")["subset_accuracy"]
    1.0
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._inputs import format_pair
from .calibration import CALIBRATION_METHODS, Calibration
from .calibration_fit import calibrate, check_calibration_method
from .decision import DecisionRule
from .epoch import epoch_metrics, rank_auroc
from .reliability import calibration_metrics, multilabel_calibration_error, reliability_bins
from .thresholds import OBJECTIVES, Thresholds, check_objective, predict_labels, tune_thresholds

if TYPE_CHECKING:
    from .accumulator import MetricAccumulator
    from .metrics import classification_report, compute_metrics, format_classification_report

_LAZY = {"MetricAccumulator", "classification_report", "compute_metrics", "format_classification_report"}

__all__ = [
    "CALIBRATION_METHODS",
    "OBJECTIVES",
    "Calibration",
    "DecisionRule",
    "MetricAccumulator",
    "Thresholds",
    "calibrate",
    "calibration_metrics",
    "check_calibration_method",
    "check_objective",
    "classification_report",
    "compute_metrics",
    "epoch_metrics",
    "format_pair",
    "format_classification_report",
    "multilabel_calibration_error",
    "predict_labels",
    "rank_auroc",
    "reliability_bins",
    "tune_thresholds",
]


def __getattr__(name: str) -> Any:
    """The metrics and the accumulator are imported on first use: loading a run to predict needs neither.

    The accumulator is a torchmetrics ``Metric``; torchmetrics imports torchvision and matplotlib, and evaluating
    a run does not.
    """
    if name == "MetricAccumulator":
        from .accumulator import MetricAccumulator

        return MetricAccumulator
    if name in _LAZY:
        from . import metrics

        return getattr(metrics, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
