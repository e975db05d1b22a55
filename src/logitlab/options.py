"""Every option set and every default of the public entry points, defined once.

Standard library only, so the command line builds its parser (``choices=``, defaults, help) without
importing torch; the modules that act on an option import its set from here and re-export it
(``weights.WEIGHT_STRATEGIES``, ``train.config.PRECISIONS``, ...), the :class:`~logitlab.Classifier`
takes its defaults from :data:`CLASSIFIER_DEFAULTS`, and the error messages are built from these
tuples. A new option value is added here and in the one function that implements it.

Examples:
    >>> IMBALANCE_STRATEGIES
    ('balanced', 'sqrt', 'smoothed', 'effective', 'none')
    >>> CLASSIFIER_DEFAULTS["epochs"], CLASSIFIER_DEFAULTS["imbalance"]
    ('auto', 'balanced')
    >>> choices_text(DEVICES)
    "'auto', 'cpu', 'cuda' or 'mps'"
"""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

__all__ = [
    "AUTO_EPOCHS",
    "AUTO_OBJECTIVE",
    "CALIBRATION_METHODS",
    "CLASSIFIER_DEFAULTS",
    "LOAD_DEFAULTS",
    "NUMERIC_SCALINGS",
    "DEVICES",
    "EXPORT_FORMATS",
    "FEW_ROWS",
    "IMBALANCE_STRATEGIES",
    "LABEL_MODES",
    "MISSING_TARGET",
    "OBJECTIVE_SPELLINGS",
    "ONNX_OPSET",
    "ONNX_OPSETS",
    "PRECISIONS",
    "PRECISION_ALIASES",
    "TASKS",
    "TASK_CHOICES",
    "choices_text",
]

TASKS: tuple[str, ...] = ("binary", "multilabel", "multiclass")
"""The three tasks (:class:`logitlab.Task` values)."""

TASK_CHOICES: tuple[str, ...] = ("auto", *TASKS)
"""What ``task=`` / ``--task`` accept: a task, or ``"auto"`` (inferred from the labels)."""

IMBALANCE_STRATEGIES: tuple[str, ...] = ("balanced", "sqrt", "smoothed", "effective", "none")
"""Imbalance weight strategies (:func:`logitlab.pos_weight` / :func:`logitlab.class_weight`)."""

DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda", "mps")
"""Devices by name (``"cuda:N"`` is accepted too where a device is taken)."""

PRECISIONS: tuple[str, ...] = ("fp32", "bf16", "fp16")
"""Training precisions: float32, bfloat16 autocast, float16 autocast with a GradScaler (CUDA only)."""

PRECISION_ALIASES: MappingProxyType[str, str] = MappingProxyType(
    {
        "32": "fp32",
        "32-true": "fp32",
        "float32": "fp32",
        "bf16-mixed": "bf16",
        "bfloat16": "bf16",
        "16": "fp16",
        "16-mixed": "fp16",
        "float16": "fp16",
    }
)
"""Other spellings of the same precision (Lightning's ``"32"``, ``"16-mixed"``, ...)."""

OBJECTIVE_SPELLINGS: tuple[str, ...] = (
    "auto",
    "f1",
    "fbeta=B",
    "precision_at_recall=R",
    "recall_at_precision=P",
    "none",
)
"""Threshold objectives as strings (:func:`logitlab.tune_thresholds`); ``"none"`` keeps 0.5 / argmax.
The two constrained ones are for binary and multi-label tasks only. ``"auto"`` (the estimator's default) is
:data:`AUTO_OBJECTIVE` of the task."""

AUTO_OBJECTIVE: MappingProxyType[str, str] = MappingProxyType(
    {"binary": "f1", "multilabel": "f1", "multiclass": "none"}
)
"""What ``threshold_objective="auto"`` means per task: per-label thresholds tuned for F1 on validation for
the sigmoid tasks (a cut at 0.5 under a weighted loss or rare labels is rarely the best one); for
multiclass the argmax of the calibrated probabilities, the decision that maximises expected accuracy
(tuning class biases for macro-F1 trades accuracy for minority-class recall: ask for it with ``"f1"``).
Measured in ``benchmarks/tabular.py``: on carData/Chile the macro-F1 biases cost 3 points of accuracy."""

NUMERIC_SCALINGS: tuple[str, ...] = ("robust", "standard", "quantile")
"""How a table's numeric columns are scaled after imputation
(:class:`~logitlab.data.tabular_preprocessor.NumericColumn`): robust scaling with smooth clipping, mean/std
standardisation, or a quantile map to a standard normal."""

CALIBRATION_METHODS: tuple[str, ...] = ("auto", "platt", "temperature", "isotonic", "none")
"""Probability calibration fitted on the validation split (:func:`logitlab.calibrate`)."""

CLASSIFIER_DEFAULTS: MappingProxyType[str, Any] = MappingProxyType(
    {
        "model": "auto",
        "task": "auto",
        "loss": "auto",
        "loss_options": None,
        "imbalance": "balanced",
        "epochs": "auto",
        "batch_size": 64,
        "lr": 1e-3,
        "weight_decay": 1e-4,
        "model_options": None,
        "ensemble": 1,
        "precision": "fp32",
        "val_size": 0.15,
        "threshold_objective": "auto",
        "calibration": "auto",
        "standardize": True,
        "numeric_scaling": "robust",
        "random_state": 0,
        "device": "auto",
        "verbose": False,
        "positive": None,
        "seed": None,
    }
)
"""The defaults of :class:`logitlab.Classifier` (and so of ``logitlab train``)."""


LOAD_DEFAULTS: MappingProxyType[str, Any] = MappingProxyType(
    {
        "label_sep": "|",
        "val_size": 0.15,
        "test_size": 0.15,
        "missing_target": "drop",
        "numeric_scaling": "robust",
    }
)
"""The defaults of :func:`logitlab.load_dataset` that the command line exposes."""


AUTO_EPOCHS: MappingProxyType[str, int] = MappingProxyType(
    {"steps": 2000, "min_epochs": 30, "max_epochs": 1000, "min_patience": 10}
)
"""What ``epochs="auto"`` trains for: at least ``steps`` optimiser steps and ``min_epochs`` epochs, at most
``max_epochs``; with a validation split it stops once the validation loss has not improved for a quarter of
the budget (at least ``min_patience`` epochs), and the best epoch's weights are kept. A 200-row table so gets
about 2,000 steps instead of 90 (30 epochs of 3 batches); a 100,000-row table its 30 epochs. Chosen by
``benchmarks/tabular.py`` (see ``benchmarks/RESULTS.md``)."""

FEW_ROWS = 10
"""A class (multi-label: a label's positives or negatives) with fewer rows than this in the validation
split keeps its default threshold, and in the validation or test split is reported."""

LABEL_MODES: tuple[str, ...] = ("read", "ignore", "usable")
"""How :func:`logitlab.data.load_inputs` treats the target column(s) of data for a trained model:
read them when present (an unknown label raises), ignore them (predict), or keep only the rows whose
label is present and seen in training (evaluate)."""

MISSING_TARGET: tuple[str, ...] = ("drop", "error")
"""What :func:`logitlab.data.load_dataset` does with rows that have no label: leave them out (with a
note counting them) or refuse the data."""


def choices_text(choices: Sequence[str]) -> str:
    """``'a', 'b' or 'c'``: an option set as error messages write it."""
    quoted = [repr(c) for c in choices]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


EXPORT_FORMATS: tuple[str, ...] = ("onnx",)
"""Formats of ``logitlab export`` (:func:`logitlab.export.export_onnx`)."""

ONNX_OPSET = 18
"""The default ONNX opset of an export: the lowest the PyTorch exporter writes natively (ONNX Runtime >= 1.14)."""

ONNX_OPSETS: tuple[int, ...] = (18, 19, 20, 21, 22, 23)
"""The ONNX opsets an export accepts."""
