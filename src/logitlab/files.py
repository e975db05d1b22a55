"""Atomic file writes: the one helper every file logitlab writes goes through.

A write goes to a temporary file in the destination's folder, is flushed and ``fsync``-ed, given the
mode a plain ``open()`` would give it (``0o666`` less the process umask), then renamed over the
destination with ``os.replace`` (atomic on POSIX and Windows), and the folder is ``fsync``-ed so the
rename itself survives a power cut. A reader therefore sees the old file or the new one, never a
half-written one, and a failure (disk full, a kill) leaves the previous file untouched and no
temporary file behind (a killed process may leave one ``.NAME.*.tmp``; :data:`TEMP_SUFFIX` names them).

Used by model files, checkpoints, ``metrics.csv``, reports, plots and predictions; :func:`output_errors`
turns a failed write under a command's output (disk full, read-only folder) into an
:class:`~logitlab.errors.OutputError` with a fix.

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

import errno
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import OutputError

__all__ = [
    "TEMP_SUFFIX",
    "atomic_path",
    "fsync_dir",
    "json_default",
    "output_errors",
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


_FIXES = {
    errno.ENOSPC: "free disk space (df -h) or choose another out= on a disk with room",
    errno.EDQUOT: "free space within your disk quota or choose another out=",
    errno.EROFS: "choose an out= on a writable file system",
    errno.EACCES: "choose a folder you can write, or fix its permissions",
    errno.EPERM: "choose a folder you can write, or fix its permissions",
    errno.ENOTDIR: "a part of the path is a file: choose another out=",
    errno.EEXIST: "a part of the path is a file: choose another out=",
}


def _under(filename: Any, target: str | os.PathLike[str]) -> bool:
    """Whether an error's file is ``target``, lies under it, or is unnamed (``fsync`` names none)."""
    if filename is None:
        return True
    name, top = os.path.abspath(os.fsdecode(filename)), os.path.abspath(target)
    return name == top or name.startswith(top.rstrip(os.sep) + os.sep) or top.startswith(name + os.sep)


def _broken_link(path: str | os.PathLike[str]) -> Path | None:
    """The first part of ``path`` that is a symbolic link leading nowhere (mkdir then says "File exists")."""
    for part in reversed([Path(path), *Path(path).parents]):
        if part.is_symlink() and not part.exists():
            return part
    return None


@contextmanager
def output_errors(target: str | os.PathLike[str]) -> Iterator[None]:
    """Turn an ``OSError`` raised while writing under ``target`` into :class:`OutputError` (with a fix).

    Files are written atomically (:mod:`logitlab.files`): a failed write leaves the previous file
    whole and no temporary file, so the message can say so.
    """
    try:
        yield
    except OSError as exc:
        if isinstance(exc, OutputError) or not _under(exc.filename, target):
            raise  # ours already, or a file read elsewhere (an input)
        where = exc.filename or target
        reason = exc.strerror or str(exc)
        fix = _FIXES.get(exc.errno or 0, "check the path, its permissions and free disk space")
        broken = _broken_link(where) if exc.errno in (errno.EEXIST, errno.ENOTDIR) else None
        if broken is not None:
            fix = (
                f"{broken} is a symbolic link to {os.readlink(broken)}, which does not exist: "
                "fix or remove it, or choose another out="
            )
        raise OutputError(
            f"Cannot write {where}: {reason}. Nothing half-written was left: each file is written "
            "whole or not at all.",
            fix=fix + ".",
            code="write-failed",
            param="out",
        ) from exc
