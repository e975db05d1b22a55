"""Reading the untrusted bytes of a model directory: bounded, never through a symbolic link, every problem a ModelFileError.

Used by :mod:`logitlab.model_io` (``model.json`` and the weights) and by the workflows (a run's
``config.json``): JSON nested too deeply or with an integer past Python's digit limit, a file larger
than :data:`MAX_META_BYTES`, a symbolic link, or a safetensors header that does not describe tensors all
end in a :class:`~logitlab.errors.ModelFileError`, never a ``RecursionError`` or ``ValueError``.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path
from typing import Any

from ..errors import ModelFileError
from ..files import write_text_atomic

__all__ = [
    "TOKENIZER_FILE",
    "read_tokenizer",
    "write_tokenizer",
    "MAX_JSON_DEPTH",
    "MAX_META_BYTES",
    "SAFETENSORS_DTYPES",
    "is_shape",
    "missing_file",
    "parse_model_json",
    "read_file_bytes",
    "safetensors_header",
]

MAX_META_BYTES = 64 << 20
"""The largest ``model.json`` (and safetensors header) read: 64 MiB."""
MAX_JSON_DEPTH = 32
"""The deepest nesting of lists and objects accepted in ``model.json`` (a saved one has about 5)."""
SAFETENSORS_DTYPES = {
    "F64": "torch.float64", "F32": "torch.float32", "F16": "torch.float16", "BF16": "torch.bfloat16",
    "I64": "torch.int64", "I32": "torch.int32", "I16": "torch.int16", "I8": "torch.int8",
    "U8": "torch.uint8", "BOOL": "torch.bool",
}  # fmt: skip


def missing_file(directory: Path, name: str) -> ModelFileError:
    """The error for a model directory without ``name``."""
    return ModelFileError(
        f"Expected a saved model in {directory}; {name} is missing.",
        fix="pass the directory given to Classifier.save(dir) or `logitlab train --out DIR`.",
        code="model-file-missing",
    )


def read_file_bytes(path: Path, *, limit: int | None) -> bytes:
    """The bytes of a regular file inside the model directory: no symlink, at most ``limit`` bytes."""
    try:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        fd = os.open(path, flags | getattr(os, "O_NONBLOCK", 0))  # a FIFO must not block the open
    except OSError as exc:
        if path.is_symlink() or getattr(exc, "errno", None) == errno.ELOOP:
            raise ModelFileError(
                f"{path} is a symbolic link; a saved model holds its own files, so links are not followed.",
                fix="copy the model files into the directory instead of linking them.",
                code="model-file-link",
            ) from None
        if isinstance(exc, FileNotFoundError):
            raise missing_file(path.parent, path.name) from None
        raise ModelFileError(
            f"Cannot read {path}: {exc.strerror or exc}.",
            fix="check that the model directory is readable.",
            code="model-file-unreadable",
        ) from None
    info = os.fstat(fd)  # before fdopen, which meets a directory with a raw IsADirectoryError
    if not stat.S_ISREG(info.st_mode) or (os.name != "nt" and os.path.islink(path)):
        os.close(fd)
        raise ModelFileError(
            f"{path} is not a regular file.",
            fix="pass the directory given to Classifier.save(dir) or `logitlab train --out DIR`.",
            code="model-file-missing",
        )
    with os.fdopen(fd, "rb") as fh:
        if limit is not None and info.st_size > limit:
            raise ModelFileError(
                f"{path} holds {info.st_size:,} bytes; a model.json is at most {limit:,} bytes.",
                fix="save the model again; do not edit model.json by hand.",
                code="model-json-too-large",
            )
        data = fh.read() if limit is None else fh.read(limit + 1)
    if limit is not None and len(data) > limit:
        raise ModelFileError(
            f"{path} holds more than {limit:,} bytes; a model.json is at most {limit:,} bytes.",
            fix="save the model again; do not edit model.json by hand.",
            code="model-json-too-large",
        )
    return data


def parse_model_json(data: bytes, *, source: str = "model.json") -> Any:
    """JSON from untrusted bytes, every decoding problem a :class:`ModelFileError`.

    Bad UTF-8, bad syntax, nesting deeper than :data:`MAX_JSON_DEPTH` (also past Python's recursion
    limit) and integers past Python's digit limit all end in ``model-json-invalid``.
    """
    try:
        obj = json.loads(data.decode("utf-8"))
        _check_depth(obj)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else f"{exc}"
        raise ModelFileError(
            f"{source} is not valid JSON ({reason:.200}); it was truncated or edited.",
            fix="save the model again; do not edit model.json by hand.",
            code="model-json-invalid",
        ) from None
    return obj


def _check_depth(obj: Any) -> None:
    stack = [(obj, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ValueError(f"nested more than {MAX_JSON_DEPTH} levels deep")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


def safetensors_header(data: bytes, *, source: str = "model.safetensors") -> dict[str, tuple[list[int], str]]:
    """``{tensor name: (shape, dtype such as "torch.float32")}`` from the header of safetensors bytes.

    Reads only the header (nothing is allocated for the tensors); a file that is not safetensors,
    or whose header is malformed, is a :class:`ModelFileError`.
    """
    problem = "it is shorter than a safetensors header"
    out: dict[str, tuple[list[int], str]] = {}
    if len(data) >= 8:
        size = int.from_bytes(data[:8], "little")
        problem = f"its header claims {size:,} bytes"
        if size <= min(len(data) - 8, MAX_META_BYTES):
            try:
                header = parse_model_json(data[8 : 8 + size], source=source)
            except ModelFileError:
                header = None
            problem = "its header is not a JSON object of tensors"
            if isinstance(header, dict):
                for name, info in header.items():
                    if name == "__metadata__":
                        continue
                    info = info if isinstance(info, dict) else {}
                    shape, dtype = info.get("shape"), SAFETENSORS_DTYPES.get(str(info.get("dtype")))
                    if not (isinstance(shape, list) and is_shape(shape) and dtype is not None):
                        problem = f"tensor {name!r:.80} has no valid shape and dtype"
                        break
                    out[name] = (list(shape), dtype)
                else:
                    return out
    raise ModelFileError(
        f"{source} cannot be read as safetensors ({problem}).",
        fix="save the model again.",
        code="model-weights-invalid",
    )


def is_shape(shape: Any) -> bool:
    """A tensor shape: a list of non-negative ints (``[]`` for a scalar)."""
    return isinstance(shape, list) and all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    )


TOKENIZER_FILE = "tokenizer.json"
"""The tokenizer of a text model of ``model="hf:..."`` (the ``tokenizers`` library's JSON; ``model.json``
records its SHA-256). Its name is fixed, so nothing outside the model directory is ever read."""
MAX_TOKENIZER_BYTES = 256 << 20


def write_tokenizer(directory: str | os.PathLike[str], text: str) -> Path:
    """Write ``tokenizer.json`` into ``directory`` (created if missing), atomically.

    Raises:
        ModelFileError: the file cannot be written.
    """
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        return write_text_atomic(directory / TOKENIZER_FILE, text)
    except OSError as exc:
        raise ModelFileError(
            f"Cannot write {directory / TOKENIZER_FILE}: {exc.strerror or exc}.",
            fix="check that the folder is writable and the disk has space.",
            code="model-write-failed",
        ) from exc


def read_tokenizer(directory: str | os.PathLike[str]) -> str:
    """The text of ``tokenizer.json`` in ``directory``: a regular file (no symlink), at most 256 MiB, UTF-8.

    Raises:
        ModelFileError: missing, a symlink, too large or not UTF-8.
    """
    path = Path(directory) / TOKENIZER_FILE
    data = read_file_bytes(path, limit=MAX_TOKENIZER_BYTES)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ModelFileError(
            f"{path} is not UTF-8 text; a saved tokenizer is JSON.",
            fix="copy tokenizer.json with model.json and model.safetensors, or save the model again.",
            code="model-file-corrupt",
        ) from None
