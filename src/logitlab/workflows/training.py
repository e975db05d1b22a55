"""``train``: fit a Classifier on a data spec and write the run directory, its report and its decisions."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from ..files import json_default, output_errors, write_json_atomic
from ..fingerprints import data_fingerprint
from ..options import TEST_SIZE
from .advice import in_light_of_run
from .common import Echo, headline, is_main_process, load_data, model_metrics, named_labels
from .decisions import decision_lines, decision_pairs, weights_text
from .heldout import check_run_numbers, split_record
from .run_dir import (
    RUN_FILES,
    check_resume,
    check_run_dir,
    check_run_path,
    finish_run,
    forget_attempt,
    read_manifest,
    run_lock,
    start_run,
)

if TYPE_CHECKING:
    from ..data import DatasetBundle
    from ..estimator import Classifier

__all__ = ["RUN_FILES", "check_run_dir", "decision_lines", "feature_importance", "importance_lines", "train"]

# dataset-level facts the batch check would repeat for the evaluation split
_SEEN_IN_DATA = frozenset(
    {"task-inferred", "label-cardinality", "imbalanced-labels", "severe-imbalance-unweighted"}
)


def train(
    spec: str,
    out: str | os.PathLike[str],
    *,
    params: Mapping[str, Any],
    load: Mapping[str, Any],
    echo: Echo = print,
    overwrite: bool = False,
    resume: bool = False,
) -> dict[str, Any] | None:
    """Load ``spec``, fit a :class:`~logitlab.Classifier`, score its test split and write the run directory.

    The parameters and the run directory are checked before the data is read (see
    :func:`~logitlab.workflows.run_dir.check_run_dir`: a finished run is replaced only with
    ``overwrite=True``, an interrupted one continued with ``resume=True``), and the directory is
    locked while the run writes it. Returns a summary (data, task, loss, weights, headline
    metrics, seconds, run and report paths) on the main process; ``None`` on the other ranks.

    Raises:
        ConfigError: the run directory cannot be written as asked, or another process writes it.
        OutputError: a file cannot be written (disk full, read-only folder).
    """
    start = time.perf_counter()
    if is_main_process():  # an existing run is refused before torch is imported
        try:
            check_run_dir(out, overwrite=overwrite, resume=resume)
        except ConfigError as exc:  # interrupted, or still running: decided under the lock below
            if exc.code != "run-interrupted":
                raise
    from ..estimator import Classifier

    clf = Classifier(**params)
    clf.check_params()  # a bad option fails before the data is read
    main = is_main_process()  # under torchrun, rank 0 owns the run directory
    out = check_run_path(out, overwrite=overwrite, resume=resume) if main else Path(out)
    created = not out.exists()
    with run_lock(out) if main else contextlib.nullcontext():
        if main:
            check_run_dir(out, overwrite=overwrite, resume=resume)  # under the lock: no one else writes
        if not isinstance(clf.random_state, int):  # one seed for the split and the fit
            clf.set_params(random_state=_seed(out, resume))
        # data_fingerprint: a resume refuses data changed since the run began
        record = {"command": "train", "data": spec, "load": dict(load), "params": clf.get_params(),
                  "data_fingerprint": data_fingerprint(spec)}  # fmt: skip
        record = json.loads(json.dumps(record, default=json_default))
        if main:
            check_resume(out, record, resume=resume)
        try:
            bundle = load_data(spec, load, task=clf.task, seed=int(clf.random_state))
            bundle = _hf_tokens(clf, bundle, load.get("text_columns", "auto"))
        except BaseException:
            if main:  # nothing written yet: leave the folder as it was
                forget_attempt(out, created=created)
            raise
        if main:
            with output_errors(out):
                if overwrite:
                    _forget_checkpoints(out)
                start_run(out, record)
        return _train(spec, out, clf, bundle, load, echo, resume, start)


def _hf_tokens(clf: Classifier, bundle: DatasetBundle, text_columns: Any) -> DatasetBundle:
    """For ``--model hf:PATH``: the table's text column as token ids (what the model, test split and report read)."""
    from ..data.hf_bundle import tokenize_bundle
    from ..models.hf import hf_max_length, hf_path, is_hf

    if not is_hf(clf.model):
        return bundle
    max_length = hf_max_length(clf.model, clf.model_options)
    return tokenize_bundle(bundle, hf_path(clf.model), max_length, text_columns)  # --text COLUMN names it


def _seed(out: Path, resume: bool) -> int:
    """A drawn seed for a run asked for none; a resumed run's is the one its first part drew."""
    import numpy as np

    recorded = ((read_manifest(out) or {}).get("params") or {}).get("random_state") if resume else None
    if isinstance(recorded, int) and not isinstance(recorded, bool):
        return recorded
    return int(np.random.SeedSequence().generate_state(1)[0] % 2**31)


def _train(
    spec: str,
    out: Path,
    clf: Classifier,
    bundle: DatasetBundle,
    load: Mapping[str, Any],
    echo: Echo,
    resume: bool,
    start: float,
) -> dict[str, Any] | None:
    if is_main_process():  # under torchrun every rank loads the same data; one says so
        echo(f"data: {bundle.summary()}")
    with output_errors(out):  # metrics.csv and the checkpoints
        clf.fit(bundle, run_dir=out, resume=resume)
    if not is_main_process():
        return None
    with output_errors(out):
        clf.save(out)
    split_name, split = ("test", bundle.test) if len(bundle.test) else ("validation", bundle.val)
    logits = clf.predict_logits(split)
    metrics = model_metrics(clf, logits, split.y)
    importance = feature_importance(clf, bundle)
    seconds = time.perf_counter() - start
    held = {"test_size": 0.0} if split_name == "validation" else {}
    test_size = check_run_numbers({"load": load}, "the load options")["load"].get("test_size")
    record = (
        {"test_size": float(TEST_SIZE if test_size is None else test_size)} if load.get("streaming") else {}
    )
    record = {**(record or split_record(spec, bundle, load)), **held}
    run = {"data": spec, "split": split_name, "rows": len(split), "epochs": _epochs_text(clf)}
    # the map's effect on rows it was not fitted on: the test rows (the validation rows may have fitted it)
    held_out = (
        _held_out_calibration(clf, logits, split.y, f"{len(split)} test rows")
        if split_name == "test"
        else None
    )
    decisions = decision_pairs(clf, held_out=held_out)
    with output_errors(out):
        write_json_atomic(
            out / "config.json", _run_config(spec, load, clf, (split_name, metrics, record), seconds)
        )
        report = _write_report(out, clf, bundle, (split, logits, metrics), run, importance, decisions)
        finish_run(out)
    for line in [*(f"{name}: {text}" for name, text in decisions), *importance_lines(importance)]:
        echo(line)
    summary = headline(clf.task_, metrics)
    if split_name == "validation":  # no test split: the validation rows also chose the epoch and thresholds
        echo(
            f"validation ({len(split)} rows; no test split: these rows chose the best epoch, thresholds and "
            f"calibration, so the metrics are not held out): {summary}"
        )
    else:
        echo(f"{split_name} ({len(split)} rows, held out): {summary}")
    return {
        "data": spec,
        "task": clf.task_,
        "loss": _loss_class(clf),
        "weights": weights_text(clf.fit_decisions_.weights),
        "headline": summary,
        "split": split_name,
        "metrics": metrics,
        "seconds": seconds,
        "run_dir": str(out),
        "report": str(report),
    }


def _forget_checkpoints(out: Path) -> None:
    """Before a run is trained again over an old one: the old run's checkpoints, so nothing resumes from them."""
    from ..train.checkpoint import clear_checkpoints

    clear_checkpoints(out / "checkpoints")
    members = out / "members"
    if members.is_dir() and not members.is_symlink():
        for member in members.iterdir():
            if member.is_dir() and not member.is_symlink():
                clear_checkpoints(member / "checkpoints")


def _loss_class(clf: Classifier) -> str:
    """The class of the loss the fit trained (``""`` for a model file that kept only its sentence)."""
    loss = clf.fit_decisions_.loss
    return loss.class_name or "" if loss is not None else ""


def _epochs_text(clf: Classifier) -> str:
    d = clf.fit_decisions_
    best, budget = d.best_epoch, d.epochs.epochs if d.epochs is not None else None
    ran = len(clf.history_)
    text = f"{ran}" + (f" of {budget} (stopped early)" if budget and ran < budget else "")
    text += f" (weights of epoch {int(best)})" if best is not None else ""
    if d.best_epochs:  # several members, each with its own epochs: these are the first's
        text += f", {'fold' if d.cv is not None else 'member'} 1 of {len(d.best_epochs)}"
    return text


def feature_importance(clf: Classifier, bundle: DatasetBundle) -> dict[str, Any]:
    """Permutation importance of the raw table columns on rows the model did not train on (tables only).

    The validation split, or, when cross-fitted, the test split: there every validation row was a training
    row of all fold models but one, so the averaged model has seen it; the test rows no fold model has. The
    same for a model refitted on the training and validation rows (``decisions_["cv"]["refitted_rows"]``).
    ``on`` in the result says which (``"validation"`` / ``"test"``). See
    :func:`logitlab.report.importance.permutation_table`; returns ``{"skipped": reason}`` for images,
    in-memory arrays or no such rows.
    """
    from ..report.importance import permutation_table

    if bundle.table is None or bundle.kind != "tabular":
        return {"skipped": "computed for tables only"}
    cv = clf.fit_decisions_.cv
    folds = cv.folds if cv is not None else 1
    refitted = cv is not None and cv.refitted_rows is not None
    seen = "cross-fitted" if folds > 1 else "refitted on them" if refitted else None
    on, split = ("test", bundle.test) if seen else ("validation", bundle.val)
    if len(split) < 2:
        return {"skipped": f"no test split ({seen}: the validation rows were training rows)" if seen
                else "no validation split"}  # fmt: skip
    if getattr(clf.data_state_.preprocessor, "kind", None) == "hf_text":
        return {"skipped": "one text column read by a pretrained transformer (hf:)"}
    if clf.label_encoder_.soft:
        return {"skipped": "soft labels"}
    rows = bundle.table.iloc[split.index]
    targets = list(bundle.target or [])
    y = rows[targets[0]] if len(targets) == 1 else rows[targets]
    X = rows[list(clf.data_state_.preprocessor.columns)]
    table = permutation_table(clf, X, y, task=clf.task_, seed=clf.seed_)
    return table if "skipped" in table else {**table, "on": on}


def importance_lines(importance: Mapping[str, Any]) -> list[str]:
    """One line naming the columns that matter most (or nothing when importance was not computed)."""
    columns = importance.get("columns") or []
    if not columns:
        return []
    shown = ", ".join(f"{c['column']} {c['mean']:+.3f}" for c in columns[:5])
    more = f" (top 5 of {len(columns)} input columns)" if len(columns) > 5 else ""
    rows = f"the {importance['rows']} {importance.get('on', 'validation')} rows"
    return [
        f"feature importance: {shown}{more} ({importance['score']} drop when a column is shuffled, on {rows})"
    ]


def _run_config(
    spec: str,
    load: Mapping[str, Any],
    clf: Classifier,
    scored: tuple[str, dict[str, Any], dict[str, Any]],
    seconds: float,
) -> dict[str, Any]:
    """``config.json``: the command, options, decisions, headline metrics and the split record.

    The metrics go under the name of their split (``test_metrics``, or ``validation_metrics`` without a
    test split); ``split`` lets ``evaluate`` find the held-out rows in any file
    (:mod:`logitlab.workflows.heldout`).
    """
    from .. import __version__

    split_name, metrics, record = scored
    return json.loads(
        json.dumps(
            {
                "command": "train",
                "data": spec,
                "load": {**dict(load), "seed": clf.seed_},
                "classifier": clf.get_params(),
                "library_version": __version__,
                "decisions": clf.decisions_,
                f"{split_name}_metrics": metrics,
                "metrics_split": split_name,
                "split": record,
                "seconds": round(seconds, 2),
            },
            default=json_default,
        )
    )


def _write_report(
    out: Path,
    clf: Classifier,
    bundle: DatasetBundle,
    scored: tuple[Any, Any, dict[str, Any]],
    run: Mapping[str, Any],
    importance: Mapping[str, Any],
    decisions: list[tuple[str, str]],
) -> Path:
    """``report.html`` with ``plots/``: the doctor on the training labels and the evaluation logits, metrics, figures."""
    from ..doctor import diagnose, diagnose_dataset
    from ..report import ReportContent, write_report
    from ..report.importance import informative_terms

    split, logits, metrics = scored
    findings = list(diagnose_dataset(named_labels(bundle.train.y, bundle), task=clf.task_).findings)
    findings += [f for f in diagnose(logits, split.y, task=clf.task_).findings if f.code not in _SEEN_IN_DATA]
    findings = in_light_of_run(findings, clf.decisions_)  # what the run already did is not advised again
    content = ReportContent(
        logits=logits,
        targets=split.y,
        task=clf.task_,
        thresholds=clf.thresholds_,
        calibration=clf.calibration_,
        label_names=list(clf.label_names_),
        metrics=metrics,
        history=clf.history_,
        decisions=decisions,  # the sentences the CLI prints, by name
        findings=findings,
        loss_config=_loss_config(clf),
        run_info=run,
        # the logit order of the targets (classes_ is sorted, as scikit-learn's)
        class_names=[str(c) for c in clf.label_encoder_.classes] if clf.task_ != "multilabel" else None,
        importance=importance,
        terms=informative_terms(clf),
    )
    return Path(write_report(out, content))


def _loss_config(clf: Classifier) -> dict[str, Any]:
    """The loss as trained, for the loss-against-logit figure: its name, options and (sigmoid) weight."""
    config: dict[str, Any] = {"name": clf.loss, **dict(clf.loss_options or {})}
    weights = clf.fit_decisions_.weights
    if weights and weights["kind"] == "pos_weight" and "pos_weight" not in config:
        config["pos_weight"] = list(weights["values"])  # the figure draws the first label, names them all
    return config


def _held_out_calibration(clf: Classifier, logits: Any, targets: Any, where: str) -> dict[str, Any] | None:
    """Log-loss without and with the calibration map on rows it was not fitted on (the scored split)."""
    if clf.calibration_ is None or len(targets) == 0 or clf.label_encoder_.soft:
        return None
    from ..evaluate import calibration_metrics

    raw = calibration_metrics(logits, targets, task=clf.task_)["log_loss"]
    calibrated = calibration_metrics(logits, targets, task=clf.task_, calibration=clf.calibration_)[
        "log_loss"
    ]
    return {"where": where, "before": raw, "after": calibrated}
