"""The model directory: safetensors weights plus a validated JSON description, never pickle.

A saved model is a directory with two files:

* ``model.safetensors``: the weights (``safetensors`` cannot execute code on load);
* ``model.json``: the task, label names, thresholds, preprocessing, model spec, library and schema
  versions, and the SHA-256 of the weights file. It is checked against :data:`MODEL_SCHEMA` on load,
  so an edited, truncated or foreign file fails with a :class:`~logitlab.errors.ModelFileError`
  that says which field is wrong, instead of a model that predicts nonsense.

A run directory (``logitlab train --out runs/x``) holds a saved model plus ``config.json``,
``metrics.csv``, ``report.html``, ``plots/`` and ``checkpoints/`` (written by :mod:`logitlab.workflows`).
This module knows no training code: it imports only the errors, the tasks and the atomic writer.

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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import ModelFileError
from .files import atomic_path, write_json_atomic
from .tasks import Task

__all__ = [
    "MODEL_FORMAT",
    "MODEL_SCHEMA",
    "READABLE_VERSIONS",
    "SCHEMA_VERSION",
    "read_model_dir",
    "validate_model_json",
    "write_model_dir",
]

MODEL_FORMAT = "logitlab-model"
SCHEMA_VERSION = 2
"""The version :func:`write_model_dir` writes. 2 added ``calibration``; version 1 files still load."""
READABLE_VERSIONS = (1, 2)
_ADDED_IN = {"calibration": 2}  # field -> the first schema version that has it
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
    "calibration": ((dict, type(None)), False),
    "preprocessing": ((dict,), True),
    "feature_names": ((list, type(None)), True),
    "params": ((dict,), True),
    "weights_sha256": ((str,), True),
    "tensors": ((dict,), True),
    "label_encoder": ((dict,), True),
    "decisions": ((dict,), False),
}


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
        with atomic_path(pending) as tmp:  # fsync-ed, with the umask's mode
            save_file(tensors, str(tmp), metadata={"format": MODEL_FORMAT})
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
    version = meta.get("schema_version")
    if version not in READABLE_VERSIONS or isinstance(version, bool):
        raise ModelFileError(
            f"Expected {source} schema_version in {list(READABLE_VERSIONS)}; got {version!r}.",
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
    fields = [f for f in MODEL_SCHEMA if _ADDED_IN.get(f, 1) <= version]
    unknown = sorted(str(k) for k in meta if k not in fields)
    if unknown:
        raise ModelFileError(
            f"{source} has unknown field(s) {', '.join(map(repr, unknown))}; expected only the fields of "
            f"schema_version {version}: {', '.join(fields)}.",
            fix=fix,
            code="model-json-unknown-field",
        )
    _check_values(meta, source, fix)
    return meta


def _check_values(meta: dict[str, Any], source: str, fix: str) -> None:
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
