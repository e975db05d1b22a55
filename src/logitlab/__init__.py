"""logitlab: train binary, multi-label and multi-class classifiers in PyTorch the right way.

The public API is re-exported here lazily (PEP 562): ``import logitlab`` is cheap, and each name
imports its module (and torch) on first use, so the command line starts fast.

Examples:
    >>> import logitlab as ll
    >>> ll.infer_task([[1, 0, 1], [0, 1, 1]])
    <Task.MULTILABEL: 'multilabel'>
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # errors
    "LogitlabError": "errors",
    "TargetError": "errors",
    "ConfigError": "errors",
    "DataError": "errors",
    "DataTypeError": "errors",
    "ModelFileError": "errors",
    "OutputError": "errors",
    "CheckpointError": "errors",
    "TrainingError": "errors",
    "DistributedError": "errors",
    "LogitlabWarning": "errors",
    "MissingExtraError": "errors",
    # tasks, targets, weights
    "Task": "tasks",
    "infer_task": "tasks",
    "probabilities": "tasks",
    "prepare_targets": "targets",
    "pos_weight": "weights",
    "class_weight": "weights",
    "WEIGHT_STRATEGIES": "weights",
    # losses
    "make_loss": "losses",
    "LOSS_NAMES": "losses",
    "BCEWithLogitsLoss": "losses",
    "SigmoidFocalLoss": "losses",
    "SoftmaxFocalLoss": "losses",
    "DiceLoss": "losses",
    "BCEDiceLoss": "losses",
    "AsymmetricLoss": "losses",
    "CrossEntropyLoss": "losses",
    "LogitAdjustedCrossEntropyLoss": "losses",
    "Poly1CrossEntropyLoss": "losses",
    # doctor
    "diagnose": "doctor",
    "diagnose_dataset": "doctor",
    "Report": "doctor",
    "Finding": "doctor",
    "HealthMonitor": "doctor",
    # training
    "TrainConfig": "train",
    "Trainer": "train",
    "Callback": "train",
    "EarlyStopping": "train",
    # data and models
    "load_dataset": "data",
    "DatasetBundle": "data",
    "StreamingTable": "data",
    "build_model": "models",
    # evaluation
    "compute_metrics": "evaluate",
    "tune_thresholds": "evaluate",
    "Thresholds": "evaluate",
    "predict_labels": "evaluate",
    "calibrate": "evaluate",
    "Calibration": "evaluate",
    # estimator
    "Classifier": "estimator",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'logitlab' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # cache: the next access is a plain lookup
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # static analysers see the eager imports
    from .data import DatasetBundle, StreamingTable, load_dataset
    from .doctor import Finding, HealthMonitor, Report, diagnose, diagnose_dataset
    from .errors import (
        CheckpointError,
        ConfigError,
        DataError,
        DataTypeError,
        DistributedError,
        LogitlabError,
        LogitlabWarning,
        MissingExtraError,
        ModelFileError,
        OutputError,
        TargetError,
        TrainingError,
    )
    from .estimator import Classifier
    from .evaluate import Calibration, Thresholds, calibrate, compute_metrics, predict_labels, tune_thresholds
    from .losses import (
        LOSS_NAMES,
        AsymmetricLoss,
        BCEDiceLoss,
        BCEWithLogitsLoss,
        CrossEntropyLoss,
        DiceLoss,
        LogitAdjustedCrossEntropyLoss,
        Poly1CrossEntropyLoss,
        SigmoidFocalLoss,
        SoftmaxFocalLoss,
        make_loss,
    )
    from .models import build_model
    from .targets import prepare_targets
    from .tasks import Task, infer_task, probabilities
    from .train import Callback, EarlyStopping, TrainConfig, Trainer
    from .weights import WEIGHT_STRATEGIES, class_weight, pos_weight
