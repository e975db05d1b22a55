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
import os
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import ModelFileError
from ..files import TEMP_SUFFIX, fsync_dir, write_json_atomic
from ..tasks import Task
from .safe_read import (
    MAX_META_BYTES,
    SAFETENSORS_DTYPES,
    is_shape,
    missing_file,
    parse_model_json,
    read_file_bytes,
    safetensors_header,
)

__all__ = [
    "MODEL_FORMAT",
    "MODEL_SCHEMA",
    "READABLE_VERSIONS",
    "SCHEMA_VERSION",
    "parse_model_json",
    "read_model_dir",
    "safetensors_header",
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
PENDING_SUFFIX = ".pending.safetensors"
PENDING_GLOB = ".model.*pending.safetensors"
"""Weights being saved (``.model.XXXX.pending.safetensors``, one name per writer); read only when
``model.json`` already names them by SHA-256 (a save killed mid-way), removed by the next save."""
PENDING_FILE = ".model.pending.safetensors"  # the one pending name before 0.2: still read
_READ_TRIES = 50  # reads that overlap a save are retried, this many times at most
_MAX_PENDING = 8  # pending files looked at for the committed weights


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


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@contextmanager
def _writer_lock(directory: Path) -> Iterator[None]:
    """Writers of one directory take turns: an ``flock`` on the directory itself.

    No lock file is left behind, and the kernel releases the lock when the process dies, so a
    killed writer never blocks the next.
    """
    try:
        import fcntl

        fd = os.open(directory, os.O_RDONLY)
    except (ImportError, OSError):  # Windows: no advisory lock; each file is still replaced atomically
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _stale_files(directory: Path) -> list[Path]:
    """Temporary files of earlier saves: pending weights and the atomic writer's ``.model.*.tmp`` files."""
    names = [*directory.glob(PENDING_GLOB), *directory.glob(f".{META_FILE}.*{TEMP_SUFFIX}")]
    names += directory.glob(f".{WEIGHTS_FILE}.*{TEMP_SUFFIX}")
    names += directory.glob(f"{PENDING_FILE}.*{TEMP_SUFFIX}")  # the atomic writer's, before 0.2
    return [p for p in names if p.is_file() or p.is_symlink()]


def write_model_dir(
    directory: str | os.PathLike[str], state_dict: Mapping[str, Any], meta: dict[str, Any]
) -> Path:
    """Save weights and their description into ``directory`` (created if missing).

    Saves into one directory take turns (an ``flock`` on the directory); each writes its weights to a
    temporary file of its own, so two saves at once leave one whole version, never a mix.

    Args:
        directory (str or Path): the model directory.
        state_dict (Mapping[str, Tensor]): the model's ``state_dict()``.
        meta (dict): every field of :data:`MODEL_SCHEMA` except ``format``, ``schema_version``,
            ``weights_sha256`` and ``tensors``, which are filled in here.

    Returns:
        Path: the directory.

    Raises:
        ModelFileError: the files cannot be written (disk full, no permission); the message says
            whether the previous files are unchanged.
    """
    import safetensors.torch

    directory = Path(directory)
    tensors = {k: v.detach().cpu().contiguous() for k, v in state_dict.items()}
    try:
        directory.mkdir(parents=True, exist_ok=True)
        data = safetensors.torch.save(tensors, metadata={"format": MODEL_FORMAT})
    except OSError as exc:
        raise _write_error(directory, exc, None) from exc
    full = {"format": MODEL_FORMAT, "schema_version": SCHEMA_VERSION, **meta}
    full["weights_sha256"] = _sha256(data)
    full["tensors"] = {k: {"shape": list(v.shape), "dtype": str(v.dtype)} for k, v in tensors.items()}
    validate_model_json(full, source=str(directory / META_FILE))
    # Crash safety: the new weights go to a pending file of this writer's own, then model.json is
    # replaced (the commit point), then the weights. A kill between the two renames leaves model.json
    # naming (by SHA-256) the pending file, which read_model_dir then reads; a failure before the
    # commit leaves the previous pair untouched.
    pending: Path | None = None
    committed = False
    try:
        with _writer_lock(directory):
            fd, name = tempfile.mkstemp(dir=directory, prefix=".model.", suffix=PENDING_SUFFIX)
            pending = Path(name)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(pending, 0o666 & ~_umask())
            write_json_atomic(directory / META_FILE, full)
            committed = True
            os.replace(pending, directory / WEIGHTS_FILE)
            fsync_dir(directory)
            for stale in _stale_files(directory):  # left by killed writers; none is running now
                stale.unlink(missing_ok=True)
    except BaseException as exc:
        if not committed and pending is not None:
            pending.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _write_error(directory, exc, pending if committed else None) from exc
        raise
    return directory


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_error(directory: Path, exc: OSError, pending: Path | None) -> ModelFileError:
    if pending is None:
        state = "The previous model files there are unchanged."
    else:
        state = (
            f"{META_FILE} already describes the new model, whose weights are in {pending.name}; the "
            "directory loads as the new model, but the save did not finish."
        )
    return ModelFileError(
        f"Cannot save the model to {directory}: {exc}. {state}",
        fix="free disk space (or pick another directory) and save again.",
        code="model-write-failed",
    )


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
    if (1 if meta["task"] == "binary" else len(meta["label_names"])) != n_out:
        problems.append(f"{len(meta['label_names'])} label_names for n_outputs={n_out}")
    if not (meta["input_shape"] and is_shape(meta["input_shape"]) and min(meta["input_shape"]) > 0):
        problems.append(f"input_shape {meta['input_shape']} is not a list of positive integers")
    for name, info in meta["tensors"].items():
        if not (
            isinstance(info, dict)
            and is_shape(info.get("shape"))
            and info.get("dtype") in SAFETENSORS_DTYPES.values()
        ):
            problems.append(f"tensors[{name!r}] is not {{'shape': [...], 'dtype': '...'}}")
    if problems:
        raise ModelFileError(
            f"{source} is inconsistent: {'; '.join(problems)}.", fix=fix, code="model-json-inconsistent"
        )


def read_model_dir(directory: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read and verify a model directory written by :func:`write_model_dir`.

    Each file is read once; the weights loaded are the very bytes whose SHA-256 is checked against
    ``model.json``, so a save running at the same time gives the old version or the new one, never
    one's description with the other's weights (a read that overlaps a save is retried). Symlinked
    files are refused (a saved model never holds one), and ``model.json`` is read up to
    :data:`MAX_META_BYTES`.

    Returns:
        (dict[str, Tensor], dict): the state dict and the validated ``model.json``.

    Raises:
        ModelFileError: a file is missing, ``model.json`` does not match the schema, or the weights
            file was truncated or edited (its SHA-256 or tensor shapes differ from ``model.json``).
    """
    directory = Path(directory)
    error: ModelFileError | None = None
    for attempt in range(_READ_TRIES):
        before = _files_state(directory)
        try:
            return _read_once(directory)
        except ModelFileError as exc:
            if _files_state(directory) == before:
                raise  # nothing moved while reading: the directory really is broken
            error = exc  # a save overlapped this read: read again
        time.sleep(0.001 * attempt)
    assert error is not None
    raise error


def _files_state(directory: Path) -> tuple[Any, ...]:
    """What a save changes: the two files' identity and the pending files (to tell a torn read from a broken dir)."""
    out: list[Any] = []
    for name in (META_FILE, WEIGHTS_FILE):
        try:
            st = os.lstat(directory / name)
            out.append((st.st_ino, st.st_mtime_ns, st.st_size))
        except OSError:
            out.append(None)
    out.append(sorted(p.name for p in directory.glob(PENDING_GLOB)))
    return tuple(out)


def _read_once(directory: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    meta_path, weights_path = directory / META_FILE, directory / WEIGHTS_FILE
    if not os.path.lexists(meta_path):
        raise missing_file(directory, META_FILE)
    meta_bytes = read_file_bytes(meta_path, limit=MAX_META_BYTES)
    meta = parse_model_json(meta_bytes, source=str(meta_path))
    validate_model_json(meta, source=str(meta_path))
    candidates = [weights_path] if os.path.lexists(weights_path) else []
    pending = sorted(directory.glob(PENDING_GLOB), key=lambda p: p.name)[:_MAX_PENDING]
    if not candidates and not pending:
        raise missing_file(directory, WEIGHTS_FILE)
    for path in [*candidates, *pending]:  # a pending file: a save killed after model.json was committed
        try:
            data = read_file_bytes(path, limit=None)
        except ModelFileError:
            if path == weights_path and pending:
                continue
            raise
        if _sha256(data) == meta["weights_sha256"]:
            return _decode_weights(data, weights_path, meta), meta
    raise ModelFileError(
        f"{weights_path} does not match the SHA-256 recorded in model.json; the weights file was truncated, "
        "edited or comes from another model.",
        fix="save the model again, or copy model.safetensors and model.json together.",
        code="model-weights-mismatch",
    )


def _decode_weights(data: bytes, weights_path: Path, meta: dict[str, Any]) -> dict[str, Any]:
    import safetensors.torch

    header = safetensors_header(data, source=str(weights_path))
    expected = {k: (v["shape"], v["dtype"]) for k, v in meta["tensors"].items()}
    if header != expected:
        names = sorted(set(header) ^ set(expected)) or sorted(k for k in header if header[k] != expected[k])
        raise ModelFileError(
            f"{weights_path} holds tensors that differ from model.json (names, shapes or dtypes; "
            f"first: {names[0]!r:.80}).",
            fix="save the model again, or copy model.safetensors and model.json together.",
            code="model-weights-mismatch",
        )
    try:
        state = safetensors.torch.load(data)
    except Exception as exc:  # safetensors raises its own SafetensorError
        raise ModelFileError(
            f"{weights_path} cannot be read as safetensors ({str(exc):.200}).",
            fix="save the model again.",
            code="model-weights-invalid",
        ) from None
    return state
