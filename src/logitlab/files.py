"""Atomic file writes: the one helper every file logitlab writes goes through.

A write goes to a temporary file in the destination's folder, is flushed and ``fsync``-ed, given the
mode a plain ``open()`` would give it (``0o666`` less the process umask), then renamed over the
destination with ``os.replace`` (atomic on POSIX and Windows), and the folder is ``fsync``-ed so the
rename itself survives a power cut. A reader therefore sees the old file or the new one, never a
half-written one, and a failure (disk full, a kill) leaves the previous file untouched and no
temporary file behind (a killed process may leave one ``.NAME.*.tmp``; :data:`TEMP_SUFFIX` names them).

Used by model files, checkpoints, ``metrics.csv``, reports, plots and predictions.

Examples:
    >>> import json, pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> json.loads(write_json_atomic(folder / "a.json", {"x": 1}).read_text())
    {'x': 1}
    >>> with atomic_path(folder / "b.txt") as tmp:
    ...     _ = tmp.write_text("hello")
    >>> (folder / "b.txt").read_text(), sorted(p.name for p in folder.iterdir())
    ('hello', ['a.json', 'b.txt'])
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = [
    "TEMP_SUFFIX",
    "atomic_path",
    "fsync_dir",
    "json_default",
    "write_bytes_atomic",
    "write_json_atomic",
    "write_text_atomic",
]

TEMP_SUFFIX = ".tmp"
"""Suffix of the temporary files (``.NAME.XXXX.tmp``) a killed write may leave behind."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def fsync_dir(folder: str | os.PathLike[str]) -> None:
    """``fsync`` a folder, so that a rename into it survives a power cut (a no-op where unsupported).

    For a writer that renames a whole folder into place (a checkpoint directory): the files inside
    are written with :func:`write_bytes_atomic`, then the folder is renamed and its parent synced.
    """
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open a directory; the rename is already durable there
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path to write to; on success it replaces ``path`` atomically.

    Args:
        path (str or Path): the destination (its folder is created if missing).

    Yields:
        Path: where to write; it exists (empty) when yielded, and ends in ``.tmp``, so a writer that
        picks a format by extension needs it named (``fig.savefig(tmp, format="png")``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns ``path`` as a ``Path``."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` atomically; returns ``path`` as a ``Path``."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
    return Path(path)


def write_json_atomic(path: str | os.PathLike[str], obj: Any) -> Path:
    """Write ``obj`` as indented JSON (NumPy/torch scalars and arrays as numbers and lists) atomically."""
    return write_text_atomic(path, json.dumps(obj, indent=2, default=json_default) + "\n")


def json_default(obj: Any) -> Any:
    """``json.dumps(default=...)`` for NumPy/torch scalars and arrays, sets, tuples and paths."""
    if hasattr(obj, "item") and callable(obj.item) and getattr(obj, "ndim", 0) == 0:
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return str(obj)
