"""What the command line runs: train, evaluate, predict and the doctor on data, through the public API.

Each workflow takes plain values (a data spec, a run directory, the Classifier's parameters) and
returns plain results (a summary dict, metrics, doctor reports); printing is the caller's job, done
through the ``echo`` callable it passes. Every step goes through public names: :func:`load_dataset`
/ :func:`load_inputs` read the data, :class:`~logitlab.Classifier` sets up, trains, predicts and
saves, :func:`compute_metrics` scores, :func:`write_report` writes the report.

A run directory holds the saved model (:mod:`logitlab.model_io`), ``config.json`` (what was asked
and decided), ``metrics.csv`` and ``checkpoints/`` (the trainer), ``report.html`` with ``plots/``.

Examples:
    >>> headline("binary", {"roc_auc": 0.98765, "f1": 0.9, "support": [10, 5]})
    'roc_auc=0.9877, f1=0.9000'
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, DataError
from .files import json_default, write_json_atomic, write_text_atomic

if TYPE_CHECKING:
    from .data import DatasetBundle
    from .doctor import Report
    from .estimator import Classifier

__all__ = [
    "DEMOS",
    "decision_lines",
    "doctor",
    "evaluate",
    "export",
    "headline",
    "load_data",
    "plot_loss",
    "predict",
    "train",
]

Echo = Callable[[str], Any]

DEMOS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("breast_cancer", "builtin:breast_cancer", {"epochs": 30}),
    ("digits-attributes", "builtin:digits-attributes", {"epochs": 30}),
    ("digits", "builtin:digits", {"epochs": 30}),
)
"""The demo runs: (name, data spec, Classifier parameters)."""

HEADLINE_METRICS: Mapping[str, tuple[str, ...]] = {
    "binary": ("roc_auc", "average_precision", "f1", "accuracy"),
    "multilabel": ("roc_auc", "f1_macro", "f1_micro", "subset_accuracy", "hamming_loss"),
    "multiclass": ("accuracy", "f1_macro", "roc_auc", "balanced_accuracy"),
}
"""The metrics a one-line summary shows, per task."""

# dataset-level facts the batch check would repeat for the evaluation split
_SEEN_IN_DATA = frozenset(
    {"task-inferred", "label-cardinality", "imbalanced-labels", "severe-imbalance-unweighted"}
)


def is_main_process() -> bool:
    """Rank 0 of a ``torchrun`` launch (or a plain process): the one that writes and prints."""
    return int(os.environ.get("RANK", "0")) == 0


def load_data(spec: str, load: Mapping[str, Any], *, task: str = "auto", seed: int = 0) -> DatasetBundle:
    """:func:`~logitlab.data.load_dataset` with the CLI's reading options (``None`` means the default)."""
    from .data import load_dataset

    options = {k: v for k, v in load.items() if v is not None}
    return load_dataset(spec, task=None if task == "auto" else task, seed=seed, **options)


# ---------------------------------------------------------------------------- train
def train(
    spec: str,
    out: str | os.PathLike[str],
    *,
    params: Mapping[str, Any],
    load: Mapping[str, Any],
    echo: Echo = print,
) -> dict[str, Any] | None:
    """Load ``spec``, fit a :class:`~logitlab.Classifier`, score its test split and write the run directory.

    The parameters are checked before the data is read. Returns a summary (data, task, loss, weights,
    headline metrics, seconds, run and report paths) on the main process; ``None`` on the other ranks.
    """
    from .estimator import Classifier
    from .evaluate import compute_metrics

    start = time.perf_counter()
    out = Path(out)
    clf = Classifier(**params)
    clf.check_params()  # a bad option fails before the data is read
    bundle = load_data(spec, load, task=clf.task, seed=int(clf.seed))
    if is_main_process():  # under torchrun every rank loads the same data; one says so
        echo(f"data: {bundle.summary()}")
    clf.fit(bundle, run_dir=out)
    if not is_main_process():
        return None
    clf.save(out)
    split = bundle.test if len(bundle.test) else bundle.val
    logits = clf.predict_logits(split)
    metrics = dict(
        compute_metrics(
            logits,
            split.y,
            task=clf.task_,
            thresholds=clf.thresholds_,
            calibration=clf.calibration_,
            label_names=list(clf.label_names_),
        )
    )
    seconds = time.perf_counter() - start
    write_json_atomic(out / "config.json", _run_config(spec, load, clf, metrics, seconds))
    report = _write_report(out, clf, bundle, split, logits, metrics)
    for line in decision_lines(clf):
        echo(line)
    summary = headline(clf.task_, metrics)
    echo(f"test: {summary}")
    return {
        "data": spec,
        "task": clf.task_,
        "loss": str(clf.decisions_.get("loss", "")).split(" ")[0],
        "weights": _weights_text(clf.decisions_.get("weights")),
        "headline": summary,
        "metrics": metrics,
        "seconds": seconds,
        "run_dir": str(out),
        "report": str(report),
    }


def _run_config(
    spec: str, load: Mapping[str, Any], clf: Classifier, metrics: dict[str, Any], seconds: float
) -> dict[str, Any]:
    from . import __version__

    return json.loads(
        json.dumps(
            {
                "command": "train",
                "data": spec,
                "load": {**dict(load), "seed": int(clf.seed)},
                "classifier": clf.get_params(),
                "library_version": __version__,
                "decisions": clf.decisions_,
                "test_metrics": metrics,
                "seconds": round(seconds, 2),
            },
            default=json_default,
        )
    )


def _write_report(
    out: Path, clf: Classifier, bundle: DatasetBundle, split: Any, logits: Any, metrics: dict[str, Any]
) -> Path:
    """``report.html`` with ``plots/``: the doctor on the training labels and the evaluation logits, metrics, figures."""
    from .doctor import diagnose, diagnose_dataset
    from .report import write_report

    findings = list(diagnose_dataset(bundle.train.y, task=clf.task_).findings)
    findings += [f for f in diagnose(logits, split.y, task=clf.task_).findings if f.code not in _SEEN_IN_DATA]
    return Path(
        write_report(
            out,
            logits=logits,
            targets=split.y,
            task=clf.task_,
            thresholds=clf.thresholds_,
            calibration=clf.calibration_,
            label_names=list(clf.label_names_),
            metrics=metrics,
            history=clf.history_,
            decisions=clf.decisions_,
            findings=findings,
            loss_config=_loss_config(clf),
        )
    )


def _loss_config(clf: Classifier) -> dict[str, Any]:
    """The loss as trained, for the loss-against-logit figure: its name, options and (sigmoid) weight."""
    config: dict[str, Any] = {"name": clf.loss, **dict(clf.loss_options or {})}
    weights = clf.decisions_.get("weights")
    if weights and weights["kind"] == "pos_weight" and "pos_weight" not in config:
        config["pos_weight"] = weights["values"][:1]  # the figure draws one label
    return config


def decision_lines(clf: Classifier) -> list[str]:
    """The decisions a fit took, one line each: task and reason, loss, weights, best epoch, thresholds, notes."""
    d = clf.decisions_
    lines = [f"task: {d['task']} ({d.get('task_reason', '')})", f"loss: {d.get('loss')}"]
    lines.append(f"weights: {_weights_text(d.get('weights'))}")
    if d.get("best_epoch") is not None:
        lines.append(
            f"best epoch: {int(d['best_epoch']) + 1} of {len(clf.history_)} (lowest val_loss; its weights kept)"
        )
    lines.append(f"calibration: {_calibration_text(d.get('calibration'))}")
    lines.append(f"thresholds: {_thresholds_text(clf)}")
    lines.extend(f"note: {n}" for n in d.get("notes", []))
    return lines


def _weights_text(weights: Mapping[str, Any] | None) -> str:
    if not weights:
        return "none"
    values = weights["values"]
    shown = ", ".join(f"{v:.3g}" for v in values[:8]) + (" ..." if len(values) > 8 else "")
    kind = "pos_weight" if weights.get("kind", "pos_weight") == "pos_weight" else "class weight"
    return f"{weights['strategy']} {kind} [{shown}]"


def _calibration_text(calibration: Mapping[str, Any] | None) -> str:
    if not calibration:
        return "none (probabilities are the raw activation)"
    before, after = calibration.get("log_loss_before") or [], calibration.get("log_loss_after") or []
    change = ""
    if before and after:
        change = f"; validation log-loss {sum(before) / len(before):.4f} -> {sum(after) / len(after):.4f}"
    return f"{calibration['method']} on validation{change}"


def _thresholds_text(clf: Classifier) -> str:
    if clf.thresholds_ is None:
        return "default (0.5 / argmax)"
    values = clf.thresholds_.values
    shown = ", ".join(f"{float(v):.3f}" for v in values[:8]) + (" ..." if len(values) > 8 else "")
    what = "class bias" if clf.task_ == "multiclass" else "thresholds"
    scale = " on the calibrated scale" if clf.calibration_ is not None else ""
    tuned = (
        f"tuned on validation ({clf.threshold_objective})" if clf.threshold_objective != "none" else "untuned"
    )
    return f"{what} [{shown}] {tuned}{scale}"


def headline(task: str, metrics: Mapping[str, Any]) -> str:
    """The task's headline metrics as ``name=value`` pairs (every float metric when none of them is there)."""
    parts = [f"{k}={metrics[k]:.4f}" for k in HEADLINE_METRICS[task] if isinstance(metrics.get(k), float)]
    if not parts:
        parts = [f"{k}={v:.4f}" for k, v in metrics.items() if isinstance(v, float)]
    return ", ".join(parts)


# ---------------------------------------------------------------------------- evaluate / predict
def _saved_run(run: str | os.PathLike[str]) -> tuple[Classifier, dict[str, Any]]:
    from .estimator import Classifier

    clf = Classifier.load(run)
    config_path = Path(run) / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.is_file() else {}
    return clf, config


def evaluate(run: str | os.PathLike[str], spec: str, *, split: str = "test") -> dict[str, Any]:
    """Metrics of a saved run on ``spec``: its seeded test split (``split="test"``) or every row (``"all"``)."""
    from .data import load_inputs
    from .evaluate import compute_metrics

    clf, config = _saved_run(run)  # first: a wrong run directory is the likeliest mistake
    if split == "test":
        load = dict(config.get("load", {}))
        seed = int(load.pop("seed", 0))
        data: Any = load_data(spec, load, task=clf.task_, seed=seed).test
    else:
        data = load_inputs(spec, clf.data_state_, require_targets=True)
    if data.y is None or len(data.y) == 0:
        raise DataError(f"{spec} has no labelled rows to evaluate on ({split} split).", code="no-labels")
    logits = clf.predict_logits(data)
    return dict(
        compute_metrics(
            logits,
            data.y,
            task=clf.task_,
            thresholds=clf.thresholds_,
            calibration=clf.calibration_,
            label_names=list(clf.label_names_),
        )
    )


def predict(run: str | os.PathLike[str], spec: str, out: str | os.PathLike[str]) -> tuple[int, Path]:
    """Write probabilities and decisions for every row of ``spec`` to the CSV ``out`` (atomically).

    Columns: ``id``; binary: ``p_<positive>`` and ``prediction``; multiclass: ``p_<class>`` per class and
    ``prediction``; multilabel: ``p_<label>`` and ``<label>`` (0/1) per label and ``labels`` (``|``-joined).
    """
    import pandas as pd

    from .data import load_inputs

    clf, _ = _saved_run(run)
    inputs = load_inputs(spec, clf.data_state_, require_targets=False)
    result = clf.outputs(inputs)
    frame = pd.DataFrame({"id": list(inputs.ids)})
    if clf.task_ == "binary":
        frame[f"p_{clf.label_names_[0]}"] = result.proba[:, 1]
    else:
        names = (
            [str(n) for n in clf.label_names_]
            if clf.task_ == "multilabel"
            else [str(c) for c in clf.classes_]
        )
        for j, name in enumerate(names):
            frame[f"p_{name}"] = result.proba[:, j]
    if clf.task_ == "multilabel":
        for j, name in enumerate(clf.label_names_):
            frame[str(name)] = result.labels[:, j].astype(int)
        frame["labels"] = [
            "|".join(str(n) for n, d in zip(clf.label_names_, row) if d) for row in result.labels
        ]
    else:
        frame["prediction"] = result.labels
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, float_format="%.6g")
    return len(frame), write_text_atomic(out, buffer.getvalue())


# ---------------------------------------------------------------------------- doctor, plot-loss
def doctor(
    spec: str,
    *,
    load: Mapping[str, Any],
    task: str = "auto",
    loss: str = "auto",
    imbalance: str = "balanced",
    model: str = "mlp",
    rows: int = 256,
) -> dict[str, Report]:
    """Doctor reports for a data set: its labels, and the first batch of the untrained model ``fit`` would train.

    The model, loss and weights are the ones :meth:`Classifier.training_setup` builds for these options.
    """
    import torch

    from .doctor import diagnose, diagnose_dataset
    from .estimator import Classifier

    bundle = load_data(spec, load, task=task)
    labels = torch.cat([s.y for s in (bundle.train, bundle.val, bundle.test) if len(s)])
    reports = {
        f"dataset {spec} ({len(labels)} rows)": diagnose_dataset(_named(labels, bundle), task=bundle.task)
    }
    setup = Classifier(task=bundle.task.value, loss=loss, imbalance=imbalance, model=model).training_setup(
        bundle
    )
    x = next(bundle.train.batches(rows))
    y = bundle.train.y[: len(x)]
    setup.model.train()
    logits = setup.model(x)
    setup.loss_fn(logits, y).backward()
    name = f"first batch of {len(y)}, untrained {model}, {type(setup.loss_fn).__name__}"
    reports[name] = diagnose(logits, y, setup.loss_fn, task=bundle.task, model=setup.model, inputs=x)
    return reports


def _named(labels: Any, bundle: DatasetBundle) -> Any:
    """Labels with their names, so the doctor's findings name the labels/classes rather than indices."""
    import numpy as np
    import pandas as pd

    if bundle.task.value == "multilabel":
        return pd.DataFrame(labels.numpy().astype(int), columns=[str(n) for n in bundle.label_names])
    classes = np.asarray([str(c) for c in bundle.label_encoder.classes], dtype=object)
    return classes[labels.numpy().reshape(len(labels), -1)[:, 0].round().astype(int)]


def plot_loss(
    name: str,
    options: Mapping[str, Any],
    out: str | os.PathLike[str],
    *,
    compare: str = "auto",
    logit_range: float | None = None,
) -> Path:
    """:func:`logitlab.plots.plot_loss_curves` for a binary loss: the loss and its gradient against the logit."""
    from .plots import plot_loss_curves

    extra: dict[str, Any] = {} if logit_range is None else {"logit_range": logit_range}
    return plot_loss_curves(out, task="binary", name=name, compare=compare, **extra, **dict(options))


# ---------------------------------------------------------------------------- export
def export(
    run: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    format: str = "onnx",
    opset: int | None = None,
) -> dict[str, Any]:
    """Export a saved run's model into the folder ``out``: ``model.onnx`` and its sidecar ``model.onnx.json``.

    Returns:
        dict: ``model`` and ``sidecar`` (paths), ``opset``, ``task`` and ``inputs`` (name, dtype and shape
        of each graph input, from the sidecar).

    Raises:
        ConfigError: an unknown format (code ``bad-export-format``), or what
            :func:`logitlab.export.export_onnx` raises.
    """
    from .options import EXPORT_FORMATS, choices_text

    if format not in EXPORT_FORMATS:
        raise ConfigError(
            f"Expected argument `format` to be {choices_text(EXPORT_FORMATS)}; got {format!r}.",
            fix=f"use format={EXPORT_FORMATS[0]!r}.",
            code="bad-export-format",
            param="format",
        )
    clf, _ = _saved_run(run)
    path = clf.export_onnx(Path(out) / "model.onnx", opset=opset)
    sidecar = json.loads(path.with_name(path.name + ".json").read_text(encoding="utf-8"))
    return {
        "model": str(path),
        "sidecar": str(path.with_name(path.name + ".json")),
        "opset": sidecar["onnx"]["opset"],
        "task": sidecar["task"],
        "inputs": [{k: s[k] for k in ("name", "dtype", "shape")} for s in sidecar["inputs"]],
    }
