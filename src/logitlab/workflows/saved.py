"""``evaluate`` and ``predict`` with a saved run: the run's own label encoding and preprocessing, nothing re-fitted."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, DataError
from ..files import output_errors, write_text_atomic
from .outputs import check_output_file

if TYPE_CHECKING:
    from ..estimator import Classifier

__all__ = ["check_predictions_path", "evaluate", "export", "predict"]


def _saved_run(run: str | os.PathLike[str]) -> tuple[Classifier, dict[str, Any]]:
    """The model and ``config.json`` of one finished run, never of two runs nor of a run cut short.

    The run's manifest must say ``complete`` before and after both are read (``train`` marks it
    ``running`` before it touches either, so a ``train --overwrite`` under way is seen).

    Raises:
        ConfigError: the run is not finished (``run-unfinished``): being trained, or interrupted.
    """
    from ..estimator import Classifier

    before = _finished_manifest(run)
    clf = Classifier.load(run)
    config = _run_config(Path(run) / "config.json")
    if _finished_manifest(run) != before:
        raise _unfinished(run)
    return clf, config


def _finished_manifest(run: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The run's manifest (``None`` for a model saved without one); a run not ``complete`` raises."""
    from .run_dir import read_manifest

    manifest = read_manifest(run)
    if manifest is not None and manifest.get("state") != "complete":
        raise _unfinished(run)
    return manifest


def _unfinished(run: str | os.PathLike[str]) -> ConfigError:
    return ConfigError(
        f"{run} holds a run that is not finished: another `train` is writing it, or it was interrupted; "
        "its files may be of two runs.",
        fix="wait for that train to finish, or continue the interrupted run with `train ... --resume` "
        "(or start it over with --overwrite).",
        code="run-unfinished",
    )


def _run_config(path: Path) -> dict[str, Any]:
    """A run's ``config.json`` (``{}`` when there is none), read like ``model.json``.

    No symbolic link, a bounded size, an object whose ``load`` is an object; anything else is a
    ``ModelFileError``.
    """
    from ..errors import ModelFileError
    from ..model_io.safe_read import MAX_META_BYTES, parse_model_json

    if not os.path.lexists(path):
        return {}
    problem = None
    if path.is_symlink() or not path.is_file():
        problem = "is a symbolic link or not a file"
    elif path.stat().st_size > MAX_META_BYTES:
        problem = f"holds more than {MAX_META_BYTES:,} bytes"
    else:
        config = parse_model_json(path.read_bytes(), source=str(path))
        if not isinstance(config, dict) or not isinstance(config.get("load") or {}, dict):
            problem = "is not a JSON object with a `load` object"
        else:
            from .heldout import check_run_numbers

            return check_run_numbers(config, str(path))
    raise ModelFileError(
        f"The run's {path} {problem}; it was edited or is not a logitlab run file.",
        fix="delete config.json to score the model without the run's settings, or train the run again.",
        code="run-config-invalid",
    )


def evaluate(
    run: str | os.PathLike[str],
    spec: str,
    *,
    split: str = "test",
    sep: str | None = None,
    encoding: str | None = None,
) -> dict[str, Any]:
    """Metrics of a saved run on ``spec``, read with the run's own label encoding and preprocessing.

    Nothing is fitted on ``spec``: a file with fewer classes, rescaled features, or extra or
    reordered columns is scored by the model as trained. Rows whose label is missing or unseen in
    training are left out and counted. ``split="test"`` scores the rows ``train`` held out: on the
    training file, its seeded split; on another file, the rows whose values match a held-out test row
    (see :mod:`logitlab.workflows.heldout`: never training rows picked by position); ``"all"`` every row.

    Returns:
        dict: ``metrics`` (:func:`~logitlab.evaluate.compute_metrics`), ``split``, ``rows`` (scored),
        ``excluded`` (rows left out) and ``notes`` (what was repaired or left out, once each).

    Raises:
        ModelFileError: ``run`` is not a readable run. DataError: a feature column is missing, no
            row is left to score, or ``split="test"`` on a run without a test split (``no-test-split``) or
            on a file none of whose rows are held-out test rows (``test-rows-unknown``).
    """
    from ..data import load_inputs
    from .common import model_metrics
    from .heldout import held_out_rows

    clf, config = _saved_run(run)  # first: a wrong run directory is the likeliest mistake
    if (config.get("load") or {}).get("streaming"):
        return _evaluate_streamed(spec, clf, config, split)
    inputs = load_inputs(
        spec, clf.data_state_, require_targets=True, labels="usable", sep=sep, encoding=encoding
    )
    notes = list(inputs.notes)
    data = inputs
    if split == "test":
        rows, held_notes = held_out_rows(spec, inputs, clf, config)
        data, notes = inputs.subset(rows), [*notes, *held_notes]
    if data.y is None or len(data) == 0:
        from ..data.label_parsing import quoted

        known = quoted(clf.label_names_ if clf.task_ != "binary" else clf.classes_, 10)
        why = "; ".join(inputs.notes) or f"{len(inputs)} labelled rows, none in the test split"
        raise DataError(
            f"{spec} has no labelled rows to evaluate on ({split} split): {why}.",
            fix=f"give rows labelled with the classes the model knows ({known})"
            + (", or use split='all' to score every row." if split == "test" else "."),
            code="no-labels",
            param="split",
        )
    metrics = model_metrics(clf, clf.predict_logits(data), data.y)
    return {
        "metrics": metrics,
        "split": split,
        "rows": len(data),
        "excluded": inputs.excluded,
        "notes": list(dict.fromkeys(notes)),
    }


def _evaluate_streamed(spec: str, clf: Classifier, config: Mapping[str, Any], split: str) -> dict[str, Any]:
    """A streaming run on files streamed again: its hash-split test rows (or every row), never read whole.

    The rows of each split follow from the row index alone (a stable hash), so the test rows are the
    ones training held out; their inputs come from the streamed bundle's one-pass statistics, which the
    same files reproduce exactly.
    """
    from .common import load_data, model_metrics

    load = dict(config.get("load") or {})
    seed = int(load.pop("seed", clf.seed_))
    bundle = load_data(spec, load, task=clf.task_, seed=seed)
    parts = [bundle.test] if split == "test" else [bundle.train, bundle.val, bundle.test]
    logits_parts = [clf.predict_logits(part) for part in parts if len(part)]
    targets = [part.y for part in parts if len(part)]
    if not logits_parts:
        raise DataError(f"{spec} has no rows in its {split} split.", code="no-labels", param="split")
    import torch

    y = torch.cat(targets)
    metrics = model_metrics(clf, torch.cat(logits_parts), y)
    return {
        "metrics": metrics,
        "split": split,
        "rows": len(y),
        "excluded": 0,
        "notes": list(bundle.notes),
    }


def check_predictions_path(
    out: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    inputs: tuple[str | os.PathLike[str], ...] = (),
) -> Path:
    """``out`` as a CSV file to write: not a folder, an input, a file in a run, or (unasked) an existing file.

    See :func:`~logitlab.workflows.outputs.check_output_file`.

    Raises:
        ConfigError: ``out`` is an existing folder (code ``out-is-a-folder``), an input (``out-is-input``),
            inside a run directory (``out-in-run``), or an existing file and not ``overwrite`` (``out-exists``).
        OutputError: its folder cannot be written.
    """
    return check_output_file(out, overwrite=overwrite, inputs=inputs, what="predictions")


def _existing(spec: str) -> tuple[str, ...]:
    """``spec`` as an input path to protect (``builtin:`` and globs name no one file)."""
    return (spec,) if os.path.exists(spec) else ()


def predict(
    run: str | os.PathLike[str],
    spec: str,
    out: str | os.PathLike[str],
    *,
    sep: str | None = None,
    encoding: str | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Write probabilities and decisions for every row of ``spec`` to the CSV ``out`` (atomically).

    ``out`` is checked first (:func:`check_predictions_path`): an existing file is replaced only with
    ``overwrite=True``, and never the data, the run or a file inside a run directory.

    The target column is never read: rows without a label, or with any label, are predicted alike.
    Columns: the row id (the training ``id_column``'s values, else ``row``: the 1-based data row,
    the same for CSV and Parquet; ``path`` for images); binary: ``p_<positive>`` and ``prediction``;
    multiclass: ``p_<class>`` per class and ``prediction``; multilabel: ``p_<label>`` and
    ``<label>`` (0/1) per label and ``labels`` (``|``-joined).

    Returns:
        dict: ``rows`` written, ``path``, and ``notes`` (imputed values, unknown categories), once each.
    """
    import pandas as pd

    from ..data import load_inputs

    path = check_predictions_path(out, overwrite=overwrite, inputs=(run, *_existing(spec)))  # before any read
    clf, _ = _saved_run(run)
    inputs = load_inputs(spec, clf.data_state_, labels="ignore", sep=sep, encoding=encoding)
    result = clf.outputs(inputs)
    frame = pd.DataFrame({inputs.id_name: list(inputs.ids)})
    if clf.task_ == "binary":
        positive = [str(c) for c in clf.classes_].index(str(clf.label_encoder_.positive))
        frame[f"p_{clf.label_names_[0]}"] = result.proba[:, positive]
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
    with output_errors(path.parent):
        written = write_text_atomic(path, buffer.getvalue())
    return {"rows": len(frame), "path": written, "notes": list(dict.fromkeys(inputs.notes))}


def export(
    run: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    format: str = "onnx",
    opset: int | None = None,
    input_dtype: str = "float64",
    overwrite: bool = False,
) -> dict[str, Any]:
    """Export a saved run's model into the folder ``out``: ``model.onnx`` and its sidecar ``model.onnx.json``.

    Existing files of those names are replaced only with ``overwrite=True``; ``out`` may not be a file,
    the run directory or a folder inside one.

    Returns:
        dict: ``model`` and ``sidecar`` (paths), ``opset``, ``task`` and ``inputs`` (name, dtype and shape
        of each graph input, from the sidecar).

    Raises:
        ConfigError: an unknown format (code ``bad-export-format``), or what
            :func:`logitlab.export.export_onnx` raises.
    """
    from ..options import OPTIONS

    OPTIONS["format"].check(format)
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(
            f"Got out={str(folder)!r}, which is a file; export writes model.onnx and model.onnx.json into a folder.",
            fix=f"choose a folder, e.g. out={str(folder.with_suffix(''))!r}.",
            code="out-is-a-file",
            param="out",
        )
    target = folder / "model.onnx"
    for name in ("model.onnx", "model.onnx.json"):  # before the model is read
        check_output_file(folder / name, overwrite=overwrite, inputs=(run,), what="ONNX export")
    clf, _ = _saved_run(run)
    with output_errors(folder):
        path = clf.export_onnx(target, opset=opset, input_dtype=input_dtype)
    sidecar = json.loads(path.with_name(path.name + ".json").read_text(encoding="utf-8"))
    return {
        "model": str(path),
        "sidecar": str(path.with_name(path.name + ".json")),
        "opset": sidecar["onnx"]["opset"],
        "task": sidecar["task"],
        "inputs": [{k: s[k] for k in ("name", "dtype", "shape")} for s in sidecar["inputs"]],
    }
