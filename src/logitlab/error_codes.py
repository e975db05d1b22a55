"""The one registry of error codes: every ``code`` a :class:`~logitlab.errors.LogitlabError` can carry.

A code is stable kebab-case (``"unknown-weight-strategy"``) and names one mistake, whatever the module that
finds it; tests, tooling and the command line match on it, never on the message. Standard library only.
:class:`~logitlab.errors.LogitlabError` warns (:class:`~logitlab.errors.UnregisteredCodeWarning`, an error
under the test suite) when it is built with a code that is neither here nor in :data:`FINDING_CODES`;
``tests/test_error_codes.py`` reads the source and checks that every code raised is registered and every
registered code is raised. ``docs/errors.md`` lists them.

Parameter codes: a setting that is out of range is ``bad-<its name>`` (``bad-epochs``, ``bad-label_smoothing``),
spelled as the argument is (with its underscores), so the code says which argument to change.

Examples:
    >>> ERROR_CODES["unknown-weight-strategy"]
    'a weight strategy that is not one of weights.WEIGHT_STRATEGIES'
    >>> is_registered("nonfinite-targets"), is_registered("no-such-code")
    (True, False)
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["ERROR_CODES", "ERROR_CODE_GROUPS", "FINDING_CODES", "is_registered"]

_TRAIN_CONFIG = "a TrainConfig setting (logitlab.train.TrainConfig) of the wrong type or out of range: "

ERROR_CODE_GROUPS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "Error kinds (the code of an error that names no finer one)": {
            "logitlab-error": "a logitlab error of no finer kind",
            "bad-targets": "TargetError: targets that do not fit the task's loss",
            "bad-config": "ConfigError: an option unknown, out of range or contradicting another",
            "bad-data": "DataError: data that cannot be used as given",
            "bad-type": "DataTypeError: features of a type that cannot be numbers",
            "bad-model-file": "ModelFileError: a saved model that cannot be read",
            "bad-checkpoint": "CheckpointError: a checkpoint that cannot be written or read",
            "write-failed": "OutputError: an output that could not be written (nothing half-written is left)",
            "training-failed": "TrainingError: training cannot go on",
            "distributed-failed": "DistributedError: the torchrun / DDP setup failed",
            "missing-extra": "an optional feature whose extra is not installed",
            "bad-doctor-argument": "the doctor called with something that is not a tensor or callable",
        },
        "Options and settings": {
            "read-only-decisions": "a change made in place to Classifier.decisions_ (a read-only view of fit_decisions_)",
            "bad-param": "a Classifier or loader argument out of range, of the wrong type, or contradicting another",
            "bad-option": "a command-line --*-options item that is not KEY=VALUE",
            "unknown-task": "a task that is not 'binary', 'multilabel' or 'multiclass'",
            "unknown-extra": "an extra name that logitlab does not have",
            "device-unavailable": "a device that this machine does not have",
            "task-mismatch": "Classifier(task=...) that contradicts the task a bundle was loaded for",
            "bundle-with-y": "a DatasetBundle passed together with labels y",
            "missing-y": "fit() called without y",
            "cv-unsupported": "cross-fitting asked for where it is not done (streaming, DDP, transformers)",
            "resume-without-run-dir": "resume=True without run_dir",
            "bad-plot-range": "a plot's logit range or point count out of range",
            "bad-folds": "a number of folds outside 2..rows, or fewer rows than folds",
            "bad-split-size": "val_size / test_size outside [0, 1), or leaving no training rows",
            "bad-split": "a split name that is not 'train', 'val' or 'test'",
            "bad-rank": "a process rank outside [0, world_size)",
            "bad-batch_size": "a batch size below 1, or not divisible by the number of processes",
            "bad-shuffle_buffer": "a streaming shuffle buffer below 0",
            "bad-label-map": "a label_map that is not a map of label spellings to one value",
            "bad-normalize": "an image normalisation that is not one of data.images.NORMALIZE_MODES",
            "bad-channels": "an image channel count that is not 1 or 3",
            "bad-image-size": "an image size that is not an int or (H, W)",
        },
        "Weights and losses": {
            "unknown-weight-strategy": "a weight strategy that is not one of weights.WEIGHT_STRATEGIES",
            "bad-max-weight": "max_weight that is not a number > 0 or None",
            "bad-smoothing": "a weight smoothing that is not a finite number >= 0",
            "bad-beta": "a beta out of range (effective-number weights: [0, 1); F-beta: > 0)",
            "bad-num-classes": "num_classes that is not a positive int",
            "unknown-loss": "a loss name that is not one of losses.LOSS_NAMES",
            "loss-task-mismatch": "a loss whose family does not fit the task",
            "unknown-loss-option": "a loss option that the loss does not take",
            "missing-loss-option": "a loss built without an option it needs",
            "bad-loss-option": "loss options with which the loss cannot be built",
            "bad-reduction": "a reduction that is not one of losses.REDUCTIONS (or 'none' for BCE+Dice)",
            "bad-alpha": "a focal alpha outside [0, 1]",
            "bad-gamma": "a focal or asymmetric gamma below 0",
            "bad-clip": "an asymmetric-loss clip outside [0, 1)",
            "bad-label_smoothing": "label smoothing outside [0, 1)",
            "bad-epsilon": "a poly-loss epsilon below -1",
            "bad-tau": "a logit-adjustment tau below 0",
            "bad-smooth": "a Dice smooth below 0",
            "bad-bce_weight": "a BCE+Dice bce_weight below 0",
            "bad-dice_weight": "a BCE+Dice dice_weight below 0",
            "bad-weight": "a loss weight that is not a 1-D tensor of finite positive values",
            "bad-pos_weight": "a pos_weight that is not a 1-D tensor of finite positive values",
            "bad-prior": "class priors that are not probabilities in (0, 1), one per output",
            "prior-needs-task": "a prior for several outputs without the task",
            "bad-compile": "compile that is not True or False",
            "compile-needs-fused": "compile=True with fused=False",
            "compile-unavailable": "compile=True where torch.compile could not compile the loss kernel",
            "bad-target-type": "logits or targets that are not tensors",
            "bad-logit-shape": "a softmax loss given logits that are not [N, C]",
        },
        "Models": {
            "unknown-model": "a model name that is not one of the models",
            "unknown-model-option": "a model option that the model does not take",
            "bad-model-option": "a model option of the wrong type or out of range",
            "bad-activation": "an mlp activation that is not one of models.mlp.ACTIVATIONS",
            "bad-n-outputs": "n_outputs that is not a positive int",
            "model-too-large": "an mlp with more weights than options.MAX_MLP_PARAMETERS",
            "bad-weights": "a pretrained weights file that cannot be read or holds no state dict",
            "no-weights": "a pretrained weights file that does not exist",
            "weights-mismatch": "pretrained weights that do not fit the model",
            "hf-path-missing": "model='hf:' without a folder",
            "hf-path-not-found": "model='hf:PATH' where PATH is not a folder",
            "hf-not-a-model-dir": "model='hf:PATH' where PATH has no config.json",
            "hf-load-failed": "a transformer or tokenizer that could not be built from its folder",
            "hf-text-column": "a transformer given a table without exactly one text column",
            "hf-unsupported": "a transformer given data other than a text column held in memory",
        },
        "Trainer and distributed runs": {
            "bad-optimizer": _TRAIN_CONFIG + "optimizer",
            "bad-precision": _TRAIN_CONFIG + "precision",
            "bad-schedule": _TRAIN_CONFIG + "schedule",
            "bad-mode": _TRAIN_CONFIG + "mode",
            "bad-nan_policy": _TRAIN_CONFIG + "nan_policy",
            "bad-device": _TRAIN_CONFIG + "device",
            "bad-monitor": _TRAIN_CONFIG + "monitor",
            "bad-resume": _TRAIN_CONFIG + "resume",
            "bad-epochs": _TRAIN_CONFIG + "epochs",
            "bad-accumulation_steps": _TRAIN_CONFIG + "accumulation_steps",
            "bad-log_every": _TRAIN_CONFIG + "log_every",
            "bad-warmup_steps": _TRAIN_CONFIG + "warmup_steps",
            "bad-checkpoint_every": _TRAIN_CONFIG + "checkpoint_every",
            "bad-checkpoint_every_steps": _TRAIN_CONFIG + "checkpoint_every_steps",
            "bad-num_workers": _TRAIN_CONFIG + "num_workers",
            "bad-seed": _TRAIN_CONFIG + "seed",
            "bad-patience": _TRAIN_CONFIG + "patience",
            "bad-lr": _TRAIN_CONFIG + "lr",
            "bad-dist_timeout_s": _TRAIN_CONFIG + "dist_timeout_s",
            "bad-weight_decay": _TRAIN_CONFIG + "weight_decay",
            "bad-momentum": _TRAIN_CONFIG + "momentum",
            "bad-min_lr": _TRAIN_CONFIG + "min_lr (also: above lr)",
            "bad-min_delta": _TRAIN_CONFIG + "min_delta",
            "bad-warmup_ratio": _TRAIN_CONFIG + "warmup_ratio",
            "bad-grad_clip": _TRAIN_CONFIG + "grad_clip",
            "bad-warmup": "both warmup_steps and warmup_ratio, or a warmup as long as the run",
            "fp16-needs-cuda": "precision 'fp16' off CUDA",
            "unknown-config-key": "a TrainConfig field that does not exist",
            "unknown-monitor": "a callback monitoring a metric the epoch logs do not have",
            "monitor-needs-val": "early stopping without validation data",
            "empty-train": "a training loader without a batch",
            "bad-input-type": "inputs of the wrong type (training data, texts, a table for a table model)",
            "balanced-needs-targets": "balanced=True on a Dataset without a targets attribute",
            "balanced-streaming": "balanced=True on a streaming table",
            "bad-balanced-labels": "labels for balanced sampling that are not [N], [N, 1] or [N, L]",
            "iterable-needs-shard": "an IterableDataset under DDP that does not shard itself",
            "bad-torchrun-env": "torchrun environment variables missing or inconsistent",
            "init-failed": "the process group could not start",
            "peer-rank-failed": "a collective operation failed: another rank failed",
            "step-outputs-contract": "a Lightning training_step that does not return what the monitor reads",
            "monitor-not-fed": "a Transformers HealthMonitorCallback that received no batches",
            "missing-logits": "Transformers model outputs without logits",
        },
        "Checkpoints and resuming": {
            "checkpoint-missing": "no checkpoint of that name",
            "checkpoint-unreadable": "a checkpoint, or its pointer, that cannot be read or decoded",
            "checkpoint-corrupt": "a checkpoint file that does not match its checksum",
            "checkpoint-outside": "a checkpoint pointer naming a folder outside its run",
            "checkpoint-mismatch": "a checkpoint that does not fit this model",
            "checkpoint-write-failed": "a checkpoint that could not be written",
            "resume-data-changed": "resuming a fit on other data than the interrupted one",
            "resume-record-invalid": "a fit-data record for resuming that is unreadable",
        },
        "Targets and labels": {
            "empty-targets": "no target rows",
            "non-numeric-targets": "targets that are not numbers (strings, objects)",
            "non-integer-labels": "non-integer values where class indices are needed",
            "bad-target-ndim": "targets or labels with more dimensions than [N] or [N, L]",
            "bad-target-shape": "ragged targets that NumPy cannot make rectangular",
            "bad-class-probabilities": "class-probability rows that do not sum to 1",
            "num-classes-mismatch": "num_classes that disagrees with the logits",
            "outputs-shape-for-task": "logits shaped unlike the task's ([N] / [N, 1], [N, L], [N, C])",
            "bad-outputs": "outputs that are neither logits nor their shape",
            "float-labels-for-ce": "float class indices for cross entropy (with fix=True: cast)",
            "one-hot-for-ce": "one-hot rows for cross entropy (with fix=True: argmax)",
            "soft-labels": "fractions in [0, 1] given as labels to a classifier",
            "soft-labels-task": "soft labels with a task other than binary",
            "soft-targets-for-metrics": "soft targets where metrics need hard 0/1 labels",
            "bad-label-counts": "label counts outside [0, rows]",
            "no-labels": "data without labels where labels are needed",
            "missing-target": "rows without a target value",
            "unknown-label": "a label not seen in training",
            "unknown-positive": "a positive label that is not one of the labels",
            "class-not-in-training": "a class with no training rows in a fold",
            "labels-task-mismatch": "label columns or values that contradict the task",
            "label-columns-mismatch": "a number of label columns other than the classes",
            "label-sep-mismatch": "label lists joined by another separator than label_sep",
            "bad-label-list": "a label that looks like a list literal but is not a flat list",
            "bad-label-value": "a value other than 0/1 in a label column",
        },
        "Features and data files": {
            "bad-input-shape": "features of the wrong number of dimensions or sample shape",
            "non-numeric-features": "features that cannot be converted to numbers",
            "nonfinite-features": "infinite (or NaN) feature values",
            "complex-features": "complex-valued features",
            "empty-features": "too few rows or no feature columns",
            "feature-mismatch": "features unlike those seen at fit time",
            "length-mismatch": "inputs and targets of different lengths",
            "bad-value": "a value that is not a number (or date) in a numeric (or date) column",
            "no-features": "a table without a usable feature column",
            "missing-column": "a named column that is not in the table",
            "missing-text-column": "a named text column that is not in the table",
            "missing-target-column": "a target column that is not in the table",
            "no-target": "no target column given",
            "bad-target": "target columns named more than once",
            "repeated-column-name": "a header that names a column twice",
            "empty-text-column": "a text column with no term in enough training rows",
            "no-such-file": "a data path that does not exist",
            "unsupported-file": "a file type that logitlab does not read",
            "unreadable-table": "a table file that cannot be read",
            "empty-table": "a table file without data rows",
            "bad-encoding": "a file that is not text in its encoding",
            "unknown-builtin": "a built-in dataset name that does not exist",
            "data-kind-mismatch": "data of another kind than the model was trained on",
            "unknown-preprocessor": "a preprocessor type that does not exist",
            "streaming-inputs": "a streaming table given for prediction",
            "path-outside-root": "a path that points outside its data root",
            "no-images": "an image folder without images",
            "missing-image": "an image file that does not exist",
            "bad-image": "an image that cannot be read",
            "bad-image-path": "an empty image path",
            "unlabelled-image": "an image file name that does not match the label pattern",
            "mixed-table-files": "a streaming table of mixed file formats",
            "table-folder": "a table pattern matching a folder named like a table file",
            "schema-mismatch": "streaming table files with different columns",
            "unsupported-column": "a streaming column of a type logitlab does not encode",
            "too-many-labels": "a streaming target column with too many distinct values",
            "missing-split-key": "a split key column with missing values",
            "table-changed": "a streaming table that changed since it was scanned",
            "too-few-rows": "a streaming split with fewer rows than processes",
            "empty-split": "a split without rows",
        },
        "Evaluation, calibration and thresholds": {
            "empty": "empty logits to evaluate",
            "bad-calibration": "calibration parameters (stored or given) that are not a valid map",
            "bad-calibration-method": "a calibration method unknown, or not for the task",
            "bad-calibration-weights": "calibration weights that are not finite positive, or not for the task",
            "bad-min-count": "min_count that is not an integer >= 1",
            "calibration-mismatch": "a calibration for another number of outputs than the logits",
            "thresholds-mismatch": "thresholds for another task or number of outputs",
            "bad-thresholds": "thresholds that are not finite probabilities in [0, 1]",
            "bad-objective": "a threshold objective that is unknown, out of range or not for the task",
            "bad-probabilities": "probabilities=True on scores outside [0, 1]",
        },
        "Saved models and exports": {
            "model-file-missing": "a saved model's file that is missing",
            "model-file-link": "a saved model's file that is a symbolic link",
            "model-file-unreadable": "a saved model's file that cannot be read",
            "model-file-corrupt": "a saved model's file that does not match its checksum or encoding",
            "model-json-invalid": "a model.json that is not valid JSON",
            "model-json-too-large": "a model.json over its size limit",
            "model-json-type": "a model.json that is not a JSON object",
            "model-json-format": "a model.json of another format",
            "model-json-version": "a model.json of a schema version this logitlab cannot read",
            "model-json-missing-field": "a model.json without a field it needs",
            "model-json-unknown-field": "a model.json with a field its schema does not have",
            "model-json-field-type": "a model.json field of the wrong type",
            "model-json-inconsistent": "model.json fields that contradict each other",
            "model-weights-invalid": "a weights file that is not safetensors",
            "model-weights-mismatch": "weights that do not match model.json (checksum, names, shapes)",
            "model-write-failed": "a model that could not be saved",
            "bad-export-format": "an export format that is not one of options.EXPORT_FORMATS",
            "bad-opset": "an ONNX opset that is not one of options.ONNX_OPSETS",
            "bad-input-dtype": "an ONNX input dtype that is not one of options.ONNX_INPUT_DTYPES",
            "onnx-unsupported": "a part of the classifier that has no ONNX form",
            "onnx-mismatch": "an ONNX graph whose outputs differ from PyTorch's",
            "bad-onnx-sidecar": "an ONNX sidecar that cannot be read or is of another format",
        },
        "Runs and outputs": {
            "out-is-a-file": "out= names a file where a folder is written",
            "out-is-a-folder": "out= names a folder where one file is written",
            "out-is-input": "out= is (inside) the command's own input",
            "out-in-run": "out= inside a run directory",
            "out-exists": "out= exists and overwrite was not given",
            "out-has-link": "out= is (or holds) a symbolic link",
            "out-not-a-run": "out= holds files a logitlab run did not write",
            "run-exists": "out= holds a run and overwrite was not given",
            "run-complete": "resume asked for a finished run",
            "run-interrupted": "out= holds an interrupted run and neither resume nor overwrite was given",
            "run-locked": "another process is writing the run",
            "run-manifest-invalid": "a run's manifest that is unreadable",
            "run-unfinished": "reading a run that is not finished",
            "run-config-invalid": "a run file with an edited or invalid field",
            "resume-and-overwrite": "both resume and overwrite",
            "resume-mismatch": "resuming with other settings than the interrupted run",
            "no-test-split": "scoring the test split of a run trained without one",
            "test-rows-unknown": "data whose rows cannot be matched to the run's test rows",
        },
    }
)
"""The codes by group: group title -> {code: what mistake it names}."""

ERROR_CODES: Mapping[str, str] = MappingProxyType(
    {code: meaning for group in ERROR_CODE_GROUPS.values() for code, meaning in group.items()}
)
"""Every error code -> the mistake it names, in one flat map."""

FINDING_CODES: frozenset[str] = frozenset(
    {
        "batch-size-mismatch",
        "broadcast-trap",
        "class-index-out-of-range",
        "class-indices-for-bce",
        "class-targets-wrong-form",
        "flattened-targets",
        "int-targets-for-bce",
        "label-count-mismatch",
        "missing-batch-dimension",
        "multi-hot-with-cross-entropy",
        "nonfinite-gradients",
        "nonfinite-loss",
        "nonfinite-outputs",
        "nonfinite-targets",
        "pos-weight-wrong-axis",
        "pos-weight-wrong-length",
        "reshape-folded-batch",
        "single-class",
        "target-shape-mismatch",
        "targets-out-of-range",
        "weight-wrong-shape",
    }
)
"""Doctor finding codes that an error also carries (a loss refusing targets raises the doctor's cause); what
they mean is in :data:`logitlab.doctor.findings.CODES` and ``docs/doctor.md``, not repeated here."""


def is_registered(code: str) -> bool:
    """Whether ``code`` is an error code (:data:`ERROR_CODES`) or a doctor code errors share (:data:`FINDING_CODES`)."""
    return code in ERROR_CODES or code in FINDING_CODES


def markdown() -> str:
    """``docs/errors.md``: the registry as a page (``python -m logitlab.error_codes > docs/errors.md``)."""
    lines = [
        "# Error codes",
        "",
        "Every error logitlab raises is a `LogitlabError` (`TargetError`, `ConfigError`, `DataError`, ...) with a",
        "message (what came, what was expected), a `Fix:` line and a stable `code` to match on, never the message:",
        "",
        "```python",
        "try:",
        '    ll.pos_weight(y, strategy="balance")',
        "except ll.LogitlabError as err:",
        '    assert err.code == "unknown-weight-strategy"',
        "```",
        "",
        "The command line prints the message and the fix and exits with status 2. The codes are registered in",
        "`logitlab/error_codes.py`, from which this page is written (`python -m logitlab.error_codes >",
        "docs/errors.md`); a test checks that every code the source raises is registered and every registered",
        "code is raised. A code names one mistake wherever it is found. A setting out of range is",
        "`bad-<its name>`, spelled as the argument is (`bad-label_smoothing`).",
    ]
    for title, group in ERROR_CODE_GROUPS.items():
        lines += ["", f"## {title}", "", "| Code | The mistake |", "| --- | --- |"]
        lines += [f"| `{code}` | {meaning} |" for code, meaning in group.items()]
    shared = ", ".join(f"`{c}`" for c in sorted(FINDING_CODES))
    lines += [
        "",
        "## Codes shared with the doctor",
        "",
        "A loss or `ll.prepare_targets` that refuses targets raises the doctor's finding code, with its message",
        f"and fix (their meanings are in [doctor.md](doctor.md)): {shared}.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
