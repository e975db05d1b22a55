"""Every option set and every default of the public entry points, defined once.

Standard library only, so the command line builds its parser (``choices=``, defaults, help) without
importing torch; the modules that act on an option import its set from here and re-export it
(``weights.WEIGHT_STRATEGIES``, ``train.config.PRECISIONS``, ...), the :class:`~logitlab.Classifier`
takes its defaults from :data:`CLASSIFIER_DEFAULTS`, and the error messages are built from these
tuples. A new option value is added here and in the one function that implements it.

An option that takes one of a fixed set of values is a :class:`Choice` in :data:`OPTIONS` (in the spirit of
scikit-learn's ``_parameter_constraints``): its values, default, check, error code and message, and the
command line's ``choices=`` / ``default=`` all come from it. Its values are spelled once, as a ``Literal``
type (``WeightStrategy``) that the signatures use; the tuple (``WEIGHT_STRATEGIES``) is read from it with
``typing.get_args``.

Examples:
    >>> IMBALANCE_STRATEGIES
    ('auto', 'balanced', 'sqrt', 'smoothed', 'effective', 'none')
    >>> CLASSIFIER_DEFAULTS["epochs"], CLASSIFIER_DEFAULTS["imbalance"]
    ('auto', 'auto')
    >>> choices_text(DEVICES)
    "'auto', 'cpu', 'cuda' or 'mps'"
    >>> OPTIONS["strategy"].check("sqrt")
    'sqrt'
    >>> OPTIONS["strategy"].check("balance")
    Traceback (most recent call last):
    ...
    logitlab.errors.ConfigError: Expected argument `strategy` to be one of 'balanced', 'sqrt', 'smoothed', 'effective' or 'none'; got 'balance'.
    Fix: use strategy='balanced' (or 'none' for no weights).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, get_args

from .errors import ConfigError

__all__ = [
    "AUTO_EPOCHS",
    "AUTO_LR",
    "AUTO_OBJECTIVE",
    "AUTO_SCHEDULE",
    "AUTO_TRAINING",
    "CALIBRATION_METHODS",
    "CalibrationMethod",
    "Choice",
    "Device",
    "ExportFormat",
    "ImbalanceStrategy",
    "LABEL_SEP",
    "MAX_CATEGORIES",
    "MissingTarget",
    "Mode",
    "NanPolicy",
    "NumericScaling",
    "OPTIONS",
    "OnnxInputDtype",
    "Optimizer",
    "Precision",
    "Reduction",
    "Schedule",
    "TEST_SIZE",
    "TaskChoice",
    "TaskName",
    "VAL_SIZE",
    "WeightStrategy",
    "CLASSIFIER_DEFAULTS",
    "CV_AUTO",
    "SMALL_CALIBRATION",
    "CALIBRATION_CHECK_FOLDS",
    "LOAD_DEFAULTS",
    "NUMERIC_SCALINGS",
    "DEVICES",
    "EXPORT_FORMATS",
    "FEW_ROWS",
    "HF_AUTO_EPOCHS",
    "SPARSE_FULL_BATCH",
    "SPARSE_TRAINING",
    "HF_OPTIONS",
    "HF_PREFIX",
    "IMBALANCE_STRATEGIES",
    "LABEL_MODES",
    "MISSING_CATEGORY",
    "MISSING_TARGET",
    "NA_MARKERS",
    "OBJECTIVE_SPELLINGS",
    "ONNX_OPSET",
    "ONNX_INPUT_DTYPES",
    "ONNX_OPSETS",
    "PRECISIONS",
    "PRECISION_ALIASES",
    "TASKS",
    "TASK_CHOICES",
    "TEXT_DETECTION",
    "TEXT_VECTORIZER",
    "choices_text",
]

# Each option set is spelled once, as a Literal type for the signatures; its tuple is read from it.
TaskName = Literal["binary", "multilabel", "multiclass"]
TaskChoice = Literal["auto", TaskName]
WeightStrategy = Literal["balanced", "sqrt", "smoothed", "effective", "none"]
ImbalanceStrategy = Literal["auto", WeightStrategy]
CalibrationMethod = Literal["auto", "platt", "temperature", "isotonic", "none"]
Device = Literal["auto", "cpu", "cuda", "mps"]
Precision = Literal["fp32", "bf16", "fp16"]
NumericScaling = Literal["robust", "standard", "quantile"]
MissingTarget = Literal["drop", "error"]
ExportFormat = Literal["onnx"]
OnnxInputDtype = Literal["float64", "float32"]
Optimizer = Literal["adamw", "sgd"]
Schedule = Literal["cosine", "constant"]
Mode = Literal["min", "max"]
NanPolicy = Literal["stop", "skip"]
Reduction = Literal["none", "mean", "sum"]

TASKS: tuple[str, ...] = get_args(TaskName)
"""The three tasks (:class:`logitlab.Task` values)."""

TASK_CHOICES: tuple[str, ...] = get_args(TaskChoice)
"""What ``task=`` / ``--task`` accept: a task, or ``"auto"`` (inferred from the labels)."""

IMBALANCE_STRATEGIES: tuple[str, ...] = get_args(ImbalanceStrategy)
"""What ``imbalance=`` / ``--imbalance`` accept: ``"auto"`` (``"balanced"``, or :data:`SPARSE_TRAINING`'s
``"none"`` for the sparse-native model) or a weight strategy of :func:`logitlab.pos_weight` /
:func:`logitlab.class_weight` (``weights.WEIGHT_STRATEGIES``: all but ``"auto"``)."""

AUTO_TRAINING: MappingProxyType[str, Any] = MappingProxyType({"weight_decay": 1e-4, "imbalance": "balanced"})
"""What ``weight_decay="auto"`` and ``imbalance="auto"`` resolve to for every model but the sparse-native one
(which takes :data:`SPARSE_TRAINING`'s); the values and reason are in ``decisions_["training"]``."""

DEVICES: tuple[str, ...] = get_args(Device)
"""Devices by name (``"cuda:N"`` is accepted too where a device is taken)."""

PRECISIONS: tuple[str, ...] = get_args(Precision)
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

NA_MARKERS: tuple[str, ...] = ("", "?", "-", "--", "na", "n/a", "nan", "null", "none")
"""Text read as a missing value in a column whose other values are numbers (compared stripped, any case)."""

MISSING_CATEGORY = "(missing)"
"""The category a categorical column's missing values become when the training rows had some."""

NUMERIC_SCALINGS: tuple[str, ...] = get_args(NumericScaling)
"""How a table's numeric columns are scaled after imputation
(:class:`~logitlab.data.numeric_columns.NumericColumn`): robust scaling with smooth clipping, mean/std
standardisation, or a quantile map to a standard normal."""

CALIBRATION_METHODS: tuple[str, ...] = get_args(CalibrationMethod)
"""Probability calibration fitted on the validation split (:func:`logitlab.calibrate`)."""

VAL_SIZE = 0.15
"""The default share of validation rows (``val_size``: the Classifier's split, the loaders' and the streaming splits)."""

TEST_SIZE = 0.15
"""The default share of test rows of the loaders (``test_size``, ``--test-size``)."""

LABEL_SEP = "|"
"""The default separator of label lists in one cell (``label_sep``, ``--label-sep``: ``"a|b"``)."""

MAX_CATEGORIES = 50
"""The default cap on one-hot categories per table column (the most frequent are kept)."""

CLASSIFIER_DEFAULTS: MappingProxyType[str, Any] = MappingProxyType(
    {
        "model": "auto",
        "task": "auto",
        "loss": "auto",
        "loss_options": None,
        "imbalance": "auto",
        "epochs": "auto",
        "batch_size": 64,
        "lr": "auto",
        "weight_decay": "auto",
        "model_options": None,
        "ensemble": 1,
        "cv": "auto",
        "precision": "fp32",
        "val_size": VAL_SIZE,
        "threshold_objective": "auto",
        "calibration": "auto",
        "standardize": True,
        "numeric_scaling": "robust",
        "random_state": 0,
        "device": "auto",
        "verbose": False,
        "positive": None,
        "text_columns": "auto",
        "seed": None,
        "label_map": None,
    }
)
"""The defaults of :class:`logitlab.Classifier` (and so of ``logitlab train``)."""


LOAD_DEFAULTS: MappingProxyType[str, Any] = MappingProxyType(
    {
        "label_sep": LABEL_SEP,
        "val_size": VAL_SIZE,
        "test_size": TEST_SIZE,
        "missing_target": "drop",
        "numeric_scaling": "robust",
        "text_columns": "auto",
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

AUTO_LR: MappingProxyType[str, float] = MappingProxyType(
    {"default": 1e-3, "sparse": 0.05, "hf": 5e-5, "hf_warmup_ratio": 0.06}
)
"""What ``lr="auto"`` resolves to (the value and its reason are in ``decisions_["lr"]``): ``default`` (1e-3,
AdamW's own default) for every model that logitlab builds but the sparse-native one; ``sparse`` (0.05) for
``model="sparse"`` trained by minibatches (with a hidden layer; the linear one is fitted full-batch,
:data:`SPARSE_FULL_BATCH`; a linear model on TF-IDF rows still improved after 30 epochs at 1e-3; chosen on ``benchmarks/text.py``'s development set, ``benchmarks/RESULTS.md``); ``hf`` (5e-5) for a pretrained transformer
(``model="hf:PATH"``), with a linear warmup over the first ``hf_warmup_ratio`` of the planned optimiser steps,
as fine-tuning recipes do (BERT's paper: 2e-5 to 5e-5; RoBERTa's GLUE runs: a 6 % warmup). A number given as
``lr`` is used as it is, without a warmup. Not tuned by a benchmark here."""

HF_PREFIX = "hf:"
"""``model="hf:PATH"``: a Hugging Face sequence-classification model built from the local folder ``PATH``."""

HF_OPTIONS: MappingProxyType[str, Any] = MappingProxyType({"max_length": 128})
"""The ``model_options`` of ``model="hf:PATH"``: ``max_length``, the most tokens of a text (special tokens
included; longer texts are truncated, each batch is padded to its longest row); left out, 128, or the model's
``max_position_embeddings`` less 2 where that is fewer."""

HF_AUTO_EPOCHS: MappingProxyType[str, int] = MappingProxyType(
    {"steps": 300, "min_epochs": 3, "max_epochs": 10, "min_patience": 3}
)
"""What ``epochs="auto"`` trains a pretrained transformer (``model="hf:PATH"``) for: as :data:`AUTO_EPOCHS`
with a fine-tuning budget of a few epochs, as fine-tuning recipes use (BERT's paper: 2 to 4 epochs), with the
same early stopping on the validation log-loss. Not tuned by a benchmark here."""

SPARSE_TRAINING: MappingProxyType[str, Any] = MappingProxyType({"weight_decay": 0.01, "imbalance": "none"})
"""What ``weight_decay="auto"`` and ``imbalance="auto"`` (the defaults) resolve to for the sparse-native model
(``model="sparse"``: text columns, scipy sparse ``X``; the weight decay where it is trained by minibatches, at
:data:`AUTO_LR`'s ``sparse`` rate; the linear one fitted full-batch takes :data:`SPARSE_FULL_BATCH`'s L2); a
value given explicitly (``imbalance="balanced"`` included) is always used as given. ``"balanced"`` weights of
up to 2,000 for rare labels cost ranking quality; chosen on the development set ``docs-params`` of
``benchmarks/text.py`` (``benchmarks/RESULTS.md``, "Text (issue 23)")."""

SPARSE_FULL_BATCH: MappingProxyType[str, Any] = MappingProxyType(
    {"C": 30.0, "history": 5, "tolerance": 1e-4, "max_bytes": 2**31, "refit": True}
)
"""How the sparse-native *linear* model (``model="sparse"`` with no hidden layer: text columns, scipy sparse
``X``) is fitted: full-batch by L-BFGS to convergence, as scikit-learn's ``LogisticRegression`` is
(:func:`logitlab.train.fit_full_batch`), not by minibatches (it is convex: there is no epoch to pick).
``weight_decay="auto"`` is the L2 of ``C`` in scikit-learn's sense, ``1 / (C * rows)`` (multi-label:
``1 / (C * rows * labels)``, the loss being the mean over labels too); ``history`` is the L-BFGS memory
(5 pairs: on the development sets the same test scores as 10, at about 2/3 of the time an iteration);
``tolerance`` the largest gradient entry at convergence (scikit-learn's ``tol`` for lbfgs; divided by the
labels for multi-label). Where the L-BFGS vectors (``2 * history + 6`` copies of the weights) would exceed
``max_bytes``, the model is trained by minibatches as before (AUTO_LR's ``sparse`` rate, SPARSE_TRAINING's
weight decay). ``C`` was chosen on the development set ``docs-params`` of ``benchmarks/text.py``
(``benchmarks/RESULTS.md``, "Text (issue 23)"): test macro-AP 0.426 at C=3, 0.446 at C=10, 0.453 at C=30
(LogisticRegression at C=10: 0.447; the minibatch model it replaces: 0.308); ``epochs``, ``lr`` and
``batch_size`` do not apply. With ``refit`` (and a validation split), once the calibration map and the
thresholds are fitted on the validation rows, the model is fitted again on the training and validation rows
together from its weights, and keeps the map and thresholds (as scikit-learn's
``CalibratedClassifierCV(ensemble=False)`` keeps the estimator refitted on all rows); the validation numbers
stay the first fit's. Chosen on the development sets of ``benchmarks/text.py``: test macro-AP 0.443 ->
0.454 on ``docs-params``, accuracy 0.668 -> 0.680 on ``docs-subpackage-dev`` (``benchmarks/RESULTS.md``)."""

CV_AUTO: MappingProxyType[str, int] = MappingProxyType(
    {"folds": 5, "min_val_events": 50, "small_rows": 2000, "max_rows": 5000}
)
"""What ``cv="auto"`` does: cross-fit ``folds`` fold models when one validation split (``val_size`` of the
rows) would hold fewer than ``min_val_events`` rows of the rarest class (binary: of the rarer class;
multi-label: of the rarer side of any label), or the table has fewer than ``small_rows`` rows; never above
``max_rows`` rows (the fit costs ``folds`` times as much: 10,000 rows x 50 columns at 3 % positives took 106 s
of one CPU thread cross-fitted against 15 s on one split, and the fit time is held to 60 s there), for rows
read lazily (images, sparse), streaming tables or DDP runs. With under about 50 validation positives a tuned threshold is optimistic
and swings across seeds, and a temperature fitted on the rows that chose the epoch sharpens (issue 22);
five folds pool every row's out-of-fold logits for the calibration and the thresholds."""

CALIBRATION_CHECK_FOLDS = 5
"""``calibration="auto"``: the fitted map is refitted on all folds but one of the calibration rows, this many
times, and kept only where its log-loss on the left-out folds is below that of the map fitted on no data
(the prior correction of the weights, or the raw activation). Its in-sample log-loss is always lower: on two
demo tables the map made held-out log-loss worse (0.0342 -> 0.0441) and was kept (issue 26)."""

SMALL_CALIBRATION = 200
"""A calibration map fitted on fewer rows than this may not sharpen: a Platt slope above 1 or a temperature
below 1 fitted on a handful of rows (43 validation rows gave ``T = 0.69`` where about 3 was right, and
wrong answers at ``p = 0.99998``) is replaced by the prior correction alone (slope 1 / temperature 1)."""

AUTO_SCHEDULE: MappingProxyType[str, Any] = MappingProxyType(
    {"schedule": "plateau", "patience_divisor": 4, "min_patience": 3, "factor": 0.25, "reductions": 2}
)
"""The learning-rate schedule of ``epochs="auto"`` with early-stopping rows: a constant rate, multiplied by
``factor`` whenever the unweighted validation log-loss has not improved for ``patience`` epochs (the
early-stopping patience of :data:`AUTO_EPOCHS` divided by ``patience_divisor``, at least ``min_patience``);
the run stops at the plateau after its ``reductions``-th reduction, so the kept epoch lies where the rate has
annealed. ``"cosine"`` is the schedule before issue 22: a cosine over the whole ``epochs="auto"`` budget,
which early stopping cut short while the rate was still >= 80 % of its peak in 49 of 50 runs. A number of
epochs keeps the cosine over those epochs. Measured with 5-fold cross-fitting on scikit-learn's breast_cancer,
wine and a 600-row digits sample (70/30 stratified, seeds 0-2, one thread): test log-loss plateau / cosine
0.127 / 0.130, 0.017 / 0.016, 0.117 / 0.115, F1 equal within 0.002, at 0.66-0.77x the CPU time; the plateau
rule was kept for its cost."""

TEXT_DETECTION: MappingProxyType[str, float] = MappingProxyType(
    {
        "min_mean_tokens": 3.0,  # mean whitespace-separated tokens per present value
        "min_distinct_ratio": 0.3,  # distinct values / present values
        "long_mean_tokens": 8.0,  # values this long are text whatever their repetition
        "min_rows": 5,  # fewer present values: never text
    }
)
"""When a string column of a table is free text rather than a category (``text_columns="auto"``): its
present values average at least ``min_mean_tokens`` tokens and at least ``min_distinct_ratio`` of them
are distinct, or they average ``long_mean_tokens`` tokens or more. Category names (``"New York"``,
``"high school"``) are short or repeat; tickets, titles and reviews are neither."""

TEXT_VECTORIZER: MappingProxyType[str, Any] = MappingProxyType(
    {
        "word_ngrams": [1, 2],  # scikit-learn TfidfVectorizer(analyzer="word", ngram_range=...)
        "char_ngrams": None,  # [lo, hi]: TfidfVectorizer(analyzer="char_wb", ...) too; None: none
        "min_df": 2,  # terms in fewer training rows are dropped
        "max_word_features": 200_000,
        "max_char_features": 100_000,
        "sublinear_tf": True,  # 1 + log(tf)
    }
)
"""How a text column becomes sparse features: TF-IDF of word 1-2 grams (scikit-learn's ``TfidfVectorizer``,
sublinear tf, terms in at least 2 training rows), L2-normalised, fitted on the training rows only; character
n-grams (``char_ngrams=[2, 5]``: a second block of ``char_wb`` n-grams) are off by default. On the development
set ``docs-params`` of ``benchmarks/text.py`` (8,000 docstrings of ~110 words) word 1-2 grams took 7.7 s to fit
and transform against 90 s with ``char_wb`` 2-5 grams (37 s with 3-5), ten times the non-zeros a row (1,032
against 107), so every epoch ten times the cost (``benchmarks/RESULTS.md``, "Text (issue 23)")."""

FEW_ROWS = 10
"""A class (multi-label: a label's positives or negatives) with fewer rows than this in the validation
split keeps its default threshold, and in the validation or test split is reported."""

LABEL_MODES: tuple[str, ...] = ("read", "ignore", "usable")
"""How :func:`logitlab.data.load_inputs` treats the target column(s) of data for a trained model:
read them when present (an unknown label raises), ignore them (predict), or keep only the rows whose
label is present and seen in training (evaluate)."""

MISSING_TARGET: tuple[str, ...] = get_args(MissingTarget)
"""What :func:`logitlab.data.load_dataset` does with rows that have no label: leave them out (with a
note counting them) or refuse the data."""


def choices_text(choices: Sequence[str]) -> str:
    """``'a', 'b' or 'c'``: an option set as error messages write it."""
    quoted = [repr(c) for c in choices]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


EXPORT_FORMATS: tuple[str, ...] = get_args(ExportFormat)
"""Formats of ``logitlab export`` (:func:`logitlab.export.export_onnx`)."""

ONNX_OPSET = 18
"""The default ONNX opset of an export: the lowest the PyTorch exporter writes natively (ONNX Runtime >= 1.14)."""

ONNX_OPSETS: tuple[int, ...] = (18, 19, 20, 21, 22, 23)
"""The ONNX opsets an export accepts."""

ONNX_INPUT_DTYPES: tuple[str, ...] = get_args(OnnxInputDtype)
"""The dtype of an exported graph's float inputs; float32 inputs are cast to float64 as the graph's first step."""

MAX_MLP_PARAMETERS = 500_000_000
"""The most weights an ``mlp`` is built with (2 GB in float32, about four times that to train with AdamW):
wider ``hidden`` options are refused before anything is allocated."""

MAX_SEED = 2**32 - 1
"""The largest ``seed``: the splits seed NumPy and scikit-learn, whose seeds are 32-bit unsigned integers."""


@dataclass(frozen=True)
class Choice:
    """An option that takes one of a fixed set of values: the one place its check, message and flag come from.

    Args:
        name (str): the argument's Python name (the flag is ``--`` and the name with dashes).
        values (tuple): the accepted values (read from the option's ``Literal`` type).
        default: the default value.
        code (str): the error code of a value not in ``values`` (:mod:`logitlab.error_codes`).
        fix (str, optional): the error's fix; left out, ``use NAME=DEFAULT.``.
        aliases (Mapping[str, str]): other spellings accepted for a value (``"16-mixed"`` for ``"fp16"``).
    """

    name: str
    values: tuple[Any, ...]
    default: Any
    code: str = "bad-param"
    fix: str | None = None
    aliases: Mapping[str, Any] = field(default_factory=dict)

    @property
    def flag(self) -> str:
        """The command-line flag: ``--numeric-scaling`` for ``numeric_scaling``."""
        return "--" + self.name.replace("_", "-")

    def message(self, value: Any) -> str:
        """What the error says of ``value``."""
        return f"Expected argument `{self.name}` to be one of {choices_text(self.values)}; got {value!r}."

    def error(self, value: Any) -> ConfigError:
        """The :class:`~logitlab.errors.ConfigError` for ``value``, naming the argument (``param``)."""
        fix = self.fix or f"use {self.name}={self.default!r}."
        return ConfigError(self.message(value), fix=fix, code=self.code, param=self.name)

    def check(self, value: Any) -> Any:
        """``value`` (an alias resolved to its value) if it is accepted, else raise :meth:`error`."""
        if isinstance(value, str) and value in self.aliases:
            return self.aliases[value]
        if isinstance(value, bool) or value not in self.values:  # True == 1: never a choice
            raise self.error(value)
        return value

    def cli(self) -> dict[str, Any]:
        """``choices=`` and ``default=`` (and a ``metavar`` without the aliases) for ``argparse.add_argument``."""
        kwargs: dict[str, Any] = {"choices": (*self.values, *self.aliases), "default": self.default}
        if self.aliases:
            kwargs["metavar"] = "{" + ",".join(map(str, self.values)) + "}"
        return kwargs


OPTIONS: Mapping[str, Choice] = MappingProxyType(
    {
        c.name: c
        for c in (
            Choice("task", TASK_CHOICES, CLASSIFIER_DEFAULTS["task"]),
            Choice("imbalance", IMBALANCE_STRATEGIES, CLASSIFIER_DEFAULTS["imbalance"]),
            Choice("calibration", CALIBRATION_METHODS, CLASSIFIER_DEFAULTS["calibration"]),
            Choice("device", DEVICES, CLASSIFIER_DEFAULTS["device"]),
            Choice(
                "strategy",
                get_args(WeightStrategy),
                "balanced",
                code="unknown-weight-strategy",
                fix="use strategy='balanced' (or 'none' for no weights).",
            ),
            Choice(
                "method", CALIBRATION_METHODS, "auto", code="bad-calibration-method", fix='use method="auto".'
            ),
            Choice("precision", PRECISIONS, "fp32", code="bad-precision", aliases=PRECISION_ALIASES),
            Choice(
                "numeric_scaling",
                NUMERIC_SCALINGS,
                LOAD_DEFAULTS["numeric_scaling"],
                fix="use numeric_scaling='robust' (the default), 'standard' or 'quantile'.",
            ),
            Choice("missing_target", MISSING_TARGET, LOAD_DEFAULTS["missing_target"]),
            Choice("format", EXPORT_FORMATS, EXPORT_FORMATS[0], code="bad-export-format"),
            Choice("opset", ONNX_OPSETS, ONNX_OPSET, code="bad-opset"),
            Choice(
                "input_dtype",
                ONNX_INPUT_DTYPES,
                ONNX_INPUT_DTYPES[0],
                code="bad-input-dtype",
                fix="use input_dtype='float32' for runtimes without float64 inputs, else 'float64'.",
            ),
            Choice("optimizer", get_args(Optimizer), "adamw", code="bad-optimizer"),
            Choice("schedule", get_args(Schedule), "cosine", code="bad-schedule"),
            Choice("mode", get_args(Mode), "min", code="bad-mode"),
            Choice("nan_policy", get_args(NanPolicy), "stop", code="bad-nan_policy"),
            Choice(
                "reduction",
                get_args(Reduction),
                "mean",
                code="bad-reduction",
                fix="use reduction='mean' (the default).",
            ),
        )
    }
)
"""Every option with a fixed set of values, by argument name: :class:`Choice` (values, default, check, code,
message, ``argparse`` arguments). ``calibration`` / ``imbalance`` / ``task`` / ``device`` are the
Classifier's (``device`` also takes ``"cuda:N"``), ``method`` is :func:`logitlab.calibrate`'s, ``strategy``
:func:`logitlab.pos_weight`'s, ``precision`` and the rest :class:`logitlab.train.TrainConfig`'s, ``format`` /
``opset`` / ``input_dtype`` the export's."""
