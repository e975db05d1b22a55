"""Saved models and run directories: safetensors weights plus a validated JSON description, never pickle.

A saved model is a directory with two files:

* ``model.safetensors``: the weights (``safetensors`` cannot execute code on load);
* ``model.json``: the task, label names, thresholds, preprocessing, model spec, library and schema
  versions, and the SHA-256 of the weights file. It is checked against :data:`MODEL_SCHEMA` on load,
  so an edited, truncated or foreign file fails with a :class:`~logitlab.errors.ModelFileError`
  that says which field is wrong, instead of a model that predicts nonsense.

A run directory (``logitlab train --out runs/x``) holds a saved model plus ``config.json``,
``metrics.csv``, ``report.html``, ``plots/`` and ``checkpoints/``.

Examples:
    >>> meta = {"format": "logitlab-model", "schema_version": 1}
    >>> try:
    ...     validate_model_json(meta)
    ... except ModelFileError as err:
    ...     print(err.code)
    model-json-missing-field
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import DataError, ModelFileError

__all__ = [
    "MODEL_FORMAT",
    "MODEL_SCHEMA",
    "SCHEMA_VERSION",
    "read_model_dir",
    "validate_model_json",
    "write_json_atomic",
    "write_model_dir",
    "write_text_atomic",
]

MODEL_FORMAT = "logitlab-model"
SCHEMA_VERSION = 1
WEIGHTS_FILE = "model.safetensors"
META_FILE = "model.json"
PENDING_FILE = ".model.pending.safetensors"
"""Weights being saved; read only when ``model.json`` already names them (a save killed mid-way)."""

# field -> (allowed JSON types, required). A hand-written schema: no jsonschema dependency.
MODEL_SCHEMA: dict[str, tuple[tuple[type, ...], bool]] = {
    "format": ((str,), True),
    "schema_version": ((int,), True),
    "library_version": ((str,), True),
    "task": ((str,), True),
    "classes": ((list,), True),
    "label_names": ((list,), True),
    "n_outputs": ((int,), True),
    "input_shape": ((list,), True),
    "model_spec": ((dict,), True),
    "thresholds": ((dict, type(None)), True),
    "preprocessing": ((dict,), True),
    "feature_names": ((list, type(None)), True),
    "params": ((dict,), True),
    "weights_sha256": ((str,), True),
    "tensors": ((dict,), True),
    "label_encoder": ((dict,), True),
    "decisions": ((dict,), False),
}


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` atomically (a temporary file in the same folder, then ``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json_atomic(path: str | os.PathLike[str], obj: Any) -> Path:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    return write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item") and callable(obj.item):  # numpy / torch scalars
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return str(obj)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_model_dir(
    directory: str | os.PathLike[str], state_dict: Mapping[str, Any], meta: dict[str, Any]
) -> Path:
    """Save weights and their description into ``directory`` (created if missing).

    Args:
        directory (str or Path): the model directory.
        state_dict (Mapping[str, Tensor]): the model's ``state_dict()``.
        meta (dict): every field of :data:`MODEL_SCHEMA` except ``format``, ``schema_version``,
            ``weights_sha256`` and ``tensors``, which are filled in here.

    Returns:
        Path: the directory.
    """
    from safetensors.torch import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in state_dict.items()}
    # Crash safety: the new weights go to PENDING_FILE, then model.json is replaced (the commit
    # point), then the weights. A kill between the two renames leaves model.json pointing (by
    # SHA-256) at PENDING_FILE, which read_model_dir then reads; a failure before the commit
    # leaves the previous pair untouched.
    pending, committed = directory / PENDING_FILE, False
    try:
        save_file(tensors, str(pending), metadata={"format": MODEL_FORMAT})
        full = {"format": MODEL_FORMAT, "schema_version": SCHEMA_VERSION, **meta}
        full["weights_sha256"] = _sha256(pending)
        full["tensors"] = {k: {"shape": list(v.shape), "dtype": str(v.dtype)} for k, v in tensors.items()}
        validate_model_json(full, source=str(directory / META_FILE))
        write_json_atomic(directory / META_FILE, full)
        committed = True
        os.replace(pending, directory / WEIGHTS_FILE)
    except BaseException as exc:
        if not committed:
            pending.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise ModelFileError(
                f"Cannot save the model to {directory}: {exc}. The previous model files there are unchanged.",
                fix="free disk space (or pick another directory) and save again.",
                code="model-write-failed",
            ) from exc
        raise
    return directory


def validate_model_json(meta: Any, *, source: str = META_FILE) -> dict[str, Any]:
    """Check a ``model.json`` object against :data:`MODEL_SCHEMA`.

    Args:
        meta (Any): the parsed JSON.
        source (str): the file name used in error messages. Default: ``"model.json"``.

    Returns:
        dict: ``meta``, unchanged.

    Raises:
        ModelFileError: naming the first field that is missing, of the wrong type or of an unknown value.
    """
    fix = "save the model again with Classifier.save(dir); do not edit model.json by hand."
    if not isinstance(meta, dict):
        raise ModelFileError(
            f"Expected {source} to hold a JSON object; got {type(meta).__name__}.",
            fix=fix,
            code="model-json-type",
        )
    if meta.get("format") != MODEL_FORMAT:
        raise ModelFileError(
            f"Expected {source} to have format {MODEL_FORMAT!r}; got {meta.get('format')!r}.",
            fix="point at a directory written by logitlab (Classifier.save or `logitlab train`).",
            code="model-json-format",
        )
    if meta.get("schema_version") != SCHEMA_VERSION:
        raise ModelFileError(
            f"Expected {source} schema_version {SCHEMA_VERSION}; got {meta.get('schema_version')!r}.",
            fix="load it with the logitlab version that wrote it (library_version in the file), or retrain.",
            code="model-json-version",
        )
    for field, (types, required) in MODEL_SCHEMA.items():
        if field not in meta:
            if required:
                raise ModelFileError(
                    f"Expected {source} to have the field {field!r}; it is missing.",
                    fix=fix,
                    code="model-json-missing-field",
                )
            continue
        value = meta[field]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            names = " or ".join(t.__name__ for t in types)
            raise ModelFileError(
                f"Expected field {field!r} of {source} to be {names}; got {type(value).__name__} {value!r:.80}.",
                fix=fix,
                code="model-json-field-type",
            )
    unknown = sorted(str(k) for k in meta if k not in MODEL_SCHEMA)
    if unknown:
        raise ModelFileError(
            f"{source} has unknown field(s) {', '.join(map(repr, unknown))}; expected only the fields of "
            f"schema_version {SCHEMA_VERSION}: {', '.join(MODEL_SCHEMA)}.",
            fix=fix,
            code="model-json-unknown-field",
        )
    _check_values(meta, source, fix)
    return meta


def _check_values(meta: dict[str, Any], source: str, fix: str) -> None:
    from .tasks import Task

    problems = []
    if meta["task"] not in {t.value for t in Task}:
        problems.append(f"task {meta['task']!r} is not one of binary, multilabel, multiclass")
    n_out = meta["n_outputs"]
    if n_out < 1:
        problems.append(f"n_outputs is {n_out}")
    if meta["task"] != "binary" and len(meta["label_names"]) != n_out:
        problems.append(f"{len(meta['label_names'])} label_names for n_outputs={n_out}")
    if not all(isinstance(d, int) and d > 0 for d in meta["input_shape"]):
        problems.append(f"input_shape {meta['input_shape']} is not a list of positive integers")
    for name, info in meta["tensors"].items():
        if not (
            isinstance(info, dict)
            and isinstance(info.get("shape"), list)
            and isinstance(info.get("dtype"), str)
        ):
            problems.append(f"tensors[{name!r}] is not {{'shape': [...], 'dtype': '...'}}")
    if problems:
        raise ModelFileError(
            f"{source} is inconsistent: {'; '.join(problems)}.", fix=fix, code="model-json-inconsistent"
        )


def read_model_dir(directory: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read and verify a model directory written by :func:`write_model_dir`.

    Returns:
        (dict[str, Tensor], dict): the state dict and the validated ``model.json``.

    Raises:
        ModelFileError: a file is missing, ``model.json`` does not match the schema, or the weights
            file was truncated or edited (its SHA-256 or tensor shapes differ from ``model.json``).
    """
    directory = Path(directory)
    meta_path, weights_path = directory / META_FILE, directory / WEIGHTS_FILE
    pending = directory / PENDING_FILE
    for path in (meta_path, weights_path):
        if not path.is_file() and not (path == weights_path and pending.is_file()):
            raise ModelFileError(
                f"Expected a saved model in {directory}; {path.name} is missing.",
                fix="pass the directory given to Classifier.save(dir) or `logitlab train --out DIR`.",
                code="model-file-missing",
            )
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFileError(
            f"{meta_path} is not valid JSON ({exc}); it was truncated or edited.",
            fix="save the model again; do not edit model.json by hand.",
            code="model-json-invalid",
        ) from None
    validate_model_json(meta, source=str(meta_path))
    if not weights_path.is_file() or _sha256(weights_path) != meta["weights_sha256"]:
        if pending.is_file() and _sha256(pending) == meta["weights_sha256"]:
            return _read_weights(pending, meta), meta  # a save killed after model.json was committed
        raise ModelFileError(
            f"{weights_path} does not match the SHA-256 recorded in model.json; the weights file was truncated, "
            "edited or comes from another model.",
            fix="save the model again, or copy model.safetensors and model.json together.",
            code="model-weights-mismatch",
        )
    return _read_weights(weights_path, meta), meta


def _read_weights(weights_path: Path, meta: dict[str, Any]) -> dict[str, Any]:
    from safetensors.torch import load_file

    try:
        state = load_file(str(weights_path))
    except Exception as exc:  # safetensors raises its own SafetensorError / OSError
        raise ModelFileError(
            f"{weights_path} cannot be read as safetensors ({exc}).",
            fix="save the model again.",
            code="model-weights-invalid",
        ) from None
    expected = {k: v["shape"] for k, v in meta["tensors"].items()}
    actual = {k: list(v.shape) for k, v in state.items()}
    if expected != actual:
        raise ModelFileError(
            f"{weights_path} holds tensors that differ from model.json (names or shapes).",
            fix="save the model again, or copy model.safetensors and model.json together.",
            code="model-weights-mismatch",
        )
    return state


# ---------------------------------------------------------------------------- runs (the CLI's work)
DEMOS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("breast_cancer", "builtin:breast_cancer", {"epochs": 30}),
    ("digits-attributes", "builtin:digits-attributes", {"epochs": 30}),
    ("digits", "builtin:digits", {"epochs": 30}),
)
"""The demo runs: (name, data spec, Classifier parameters)."""


def _is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def _load(spec: str, load: Mapping[str, Any], task: str, seed: int) -> Any:
    from .data import load_dataset

    options = {k: v for k, v in load.items() if v is not None}
    return load_dataset(spec, task=None if task == "auto" else task, seed=seed, **options)


def train_run(
    spec: str,
    out: str | os.PathLike[str],
    *,
    params: dict[str, Any],
    load: Mapping[str, Any],
    echo: Any = print,
) -> dict[str, Any] | None:
    """Load ``spec``, fit a :class:`~logitlab.Classifier`, evaluate on the test split and write the run directory.

    Returns:
        dict or None: a summary row (data, task, loss, weights, headline metrics, seconds, report path) on the
        main process; ``None`` on the other ranks of a distributed run.
    """
    import time

    from .estimator import Classifier

    start = time.perf_counter()
    out = Path(out)
    clf = Classifier(**params)
    clf._check_params()  # a bad option fails before the data is read
    bundle = _load(spec, load, params.get("task", "auto"), int(params.get("seed", 0)))
    if _is_main_process():  # under torchrun every rank loads the same data; one says so
        echo(f"data: {bundle.summary()}")
        for note in bundle.notes:
            echo(f"  note: {note}")
    clf.fit(bundle, run_dir=out)
    if not _is_main_process():
        return None
    clf.save(out)
    metrics = split_metrics(clf, bundle)
    seconds = time.perf_counter() - start
    config = {
        "command": "train",
        "data": spec,
        "load": {**{k: v for k, v in load.items()}, "seed": int(params.get("seed", 0))},
        "classifier": _jsonable(clf.get_params()),
        "library_version": _library_version(),
        "decisions": clf.decisions_,
        "test_metrics": metrics,
        "seconds": round(seconds, 2),
    }
    write_json_atomic(out / "config.json", config)
    report = _write_report(out, clf, bundle, metrics)
    for line in decision_lines(clf):
        echo(line)
    headline = _headline(clf.task_, metrics)
    echo(f"test: {headline}")
    return {
        "data": spec,
        "task": clf.task_,
        "loss": str(clf.decisions_.get("loss", "")).split(" ")[0],
        "weights": _weights_text(clf.decisions_.get("weights")),
        "headline": headline,
        "metrics": metrics,
        "seconds": seconds,
        "run_dir": str(out),
        "report": str(report),
    }


def decision_lines(clf: Any) -> list[str]:
    """The decisions a fit took, one line each: task and reason, loss, weights, thresholds."""
    d = clf.decisions_
    lines = [f"task: {d['task']} ({d.get('task_reason', '')})", f"loss: {d.get('loss')}"]
    lines.append(f"weights: {_weights_text(d.get('weights'))}")
    lines.append(f"thresholds: {_thresholds_text(clf)}")
    lines.extend(f"note: {n}" for n in d.get("notes", []))
    return lines


def _weights_text(weights: Any) -> str:
    if not weights:
        return "none"
    values = weights["values"]
    shown = ", ".join(f"{v:.3g}" for v in values[:8]) + (" ..." if len(values) > 8 else "")
    kind = "pos_weight" if weights.get("kind", "pos_weight") == "pos_weight" else "class weight"
    return f"{weights['strategy']} {kind} [{shown}]"


def _thresholds_text(clf: Any) -> str:
    if clf.thresholds_ is None:
        return "default (0.5 / argmax)"
    values = clf.thresholds_.values
    shown = ", ".join(f"{float(v):.3f}" for v in values[:8]) + (" ..." if len(values) > 8 else "")
    what = "class bias" if clf.task_ == "multiclass" else "thresholds"
    return f"{what} [{shown}] tuned on validation ({clf.threshold_objective})"


def _headline(task: str, metrics: Mapping[str, Any]) -> str:
    keys = {
        "binary": ("roc_auc", "average_precision", "f1", "accuracy"),
        "multilabel": ("roc_auc", "f1_macro", "f1_micro", "subset_accuracy", "hamming_loss"),
        "multiclass": ("accuracy", "f1_macro", "roc_auc", "balanced_accuracy"),
    }[task]
    parts = [f"{k}={metrics[k]:.4f}" for k in keys if isinstance(metrics.get(k), float)]
    return (
        ", ".join(parts)
        if parts
        else ", ".join(f"{k}={v:.4f}" for k, v in metrics.items() if isinstance(v, float))
    )


def split_metrics(clf: Any, bundle: Any) -> dict[str, Any]:
    """Metrics of a fitted classifier on the bundle's test split (validation when there is no test split)."""
    from .evaluate import compute_metrics

    split = bundle.test if len(bundle.test) else bundle.val
    logits = clf._logits(split)
    return dict(
        compute_metrics(
            logits, split.y, task=clf.task_, thresholds=clf.thresholds_, label_names=list(clf.label_names_)
        )
    )


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=_json_default))


def _library_version() -> str:
    from . import __version__

    return __version__


def _saved_run(run: str | os.PathLike[str]) -> tuple[Any, dict[str, Any]]:
    from .estimator import Classifier

    clf = Classifier.load(run)
    config_path = Path(run) / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.is_file() else {}
    return clf, config


def evaluate_run(run: str | os.PathLike[str], spec: str, *, split: str = "test") -> dict[str, Any]:
    """Metrics of a saved run on ``spec``: its seeded test split (``split="test"``) or every row (``"all"``)."""
    clf, config = _saved_run(run)  # first: a wrong run directory is the likeliest mistake
    from .data import load_inputs
    from .evaluate import compute_metrics

    if split == "test":
        load = dict(config.get("load", {}))
        seed = int(load.pop("seed", 0))
        bundle = _load(spec, load, clf.task_, seed)
        data: Any = bundle.test
    else:
        data = load_inputs(spec, clf.data_state_, require_targets=True)
    y = data.y
    if y is None or len(y) == 0:
        raise DataError(f"{spec} has no labelled rows to evaluate on ({split} split).", code="no-labels")
    logits = clf._logits(data)
    metrics = compute_metrics(
        logits, y, task=clf.task_, thresholds=clf.thresholds_, label_names=list(clf.label_names_)
    )
    return dict(metrics)


def predict_run(run: str | os.PathLike[str], spec: str, out: str | os.PathLike[str]) -> tuple[int, Path]:
    """Write probabilities and decisions for every row of ``spec`` to the CSV ``out`` (atomically).

    Columns: ``id``; binary: ``p_<positive>`` and ``prediction``; multiclass: ``p_<class>`` per class and
    ``prediction``; multilabel: ``p_<label>`` and ``<label>`` (0/1) per label and ``labels`` (``|``-joined).
    """
    import io

    import pandas as pd

    from .data import load_inputs
    from .evaluate import predict_labels
    from .tasks import probabilities

    clf, _ = _saved_run(run)
    inputs = load_inputs(spec, clf.data_state_, require_targets=False)
    logits = clf._logits(inputs)
    proba = probabilities(logits, clf.task_).numpy()
    decided = predict_labels(logits, task=clf.task_, thresholds=clf.thresholds_).cpu().numpy()
    frame = pd.DataFrame({"id": list(inputs.ids)})
    names = (
        [str(n) for n in clf.label_names_] if clf.task_ != "multiclass" else [str(c) for c in clf.classes_]
    )
    for j, name in enumerate(names):
        frame[f"p_{name}"] = proba[:, j]
    if clf.task_ == "multilabel":
        for j, name in enumerate(names):
            frame[name] = decided[:, j].astype(int)
        frame["labels"] = ["|".join(n for n, d in zip(names, row) if d) for row in decided]
    else:
        frame["prediction"] = clf.classes_[decided.reshape(len(decided), -1)[:, 0].astype(int)]
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, float_format="%.6g")
    return len(frame), write_text_atomic(out, buffer.getvalue())


def _write_report(out: Path, clf: Any, bundle: Any, metrics: dict[str, Any]) -> Path:
    """The run's ``report.html`` with ``plots/``.

    It holds the doctor's findings on the training labels and on the evaluation logits, the metrics,
    and the figures (including the loss against the logit for the trained loss).
    """
    from .doctor import diagnose, diagnose_dataset
    from .report import write_report

    split = bundle.test if len(bundle.test) else bundle.val
    logits = clf._logits(split)
    findings = list(diagnose_dataset(bundle.train.y, task=clf.task_).findings)
    findings += [f for f in diagnose(logits, split.y, task=clf.task_).findings if f.code not in _SEEN_IN_DATA]
    return Path(
        write_report(
            out,
            logits=logits,
            targets=split.y,
            task=clf.task_,
            thresholds=clf.thresholds_,
            label_names=list(clf.label_names_),
            metrics=metrics,
            history=clf.history_,
            decisions=clf.decisions_,
            findings=findings,
            loss_config=_loss_config(clf),
        )
    )


# dataset-level facts the batch check would repeat for the evaluation split
_SEEN_IN_DATA = frozenset(
    {"task-inferred", "label-cardinality", "imbalanced-labels", "severe-imbalance-unweighted"}
)


def _loss_config(clf: Any) -> dict[str, Any]:
    """The loss as trained, for the loss-against-logit figure: its name, options and (binary) weight."""
    config: dict[str, Any] = {"name": clf.loss, **dict(clf.loss_options or {})}
    weights = clf.decisions_.get("weights")
    if weights and clf.task_ != "multiclass" and "pos_weight" not in config:
        config["pos_weight"] = weights["values"][:1]  # the figure draws one label
    return config
