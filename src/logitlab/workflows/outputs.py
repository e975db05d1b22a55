"""What a command may write besides its run directory: only files it owns, never its own input or a run's files.

:func:`check_output_file` guards the single files of ``predict``, ``plot-loss`` and ``export``: an
existing file is replaced only with ``overwrite``, and never when it is the command's own input or
lies inside a run directory (``--out RUN/model.json``; run directories: :mod:`~logitlab.workflows.run_dir`).
A failed write (disk full, read-only folder) is an :class:`~logitlab.errors.OutputError`
(:func:`logitlab.files.output_errors`).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable
from pathlib import Path

from ..errors import ConfigError
from ..files import output_errors
from .run_dir import enclosing_run

__all__ = ["check_output_file"]

_EXAMPLES = {"predictions": "predictions.csv", "plot": "plot.png", "ONNX export": "model.onnx"}


def _fail(message: str, fix: str, code: str, param: str = "out") -> ConfigError:
    return ConfigError(message, fix=fix, code=code, param=param)


def check_output_file(
    out: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike[str]] = (),
    what: str = "output",
) -> Path:
    """``out`` as a file to write: refused when it would replace an input, a run's file, or (unasked) a file.

    Args:
        out (path): the file to write.
        overwrite (bool): replace an existing file (never an input or a file in a run directory).
        inputs (paths): what the command reads (a run directory, a data file or folder).
        what (str): the kind of file, for the message (``"predictions"``, ``"plot"``).

    Raises:
        ConfigError: ``out`` is a folder (``out-is-a-folder``), an input or inside one (``out-is-input``),
            inside a run directory (``out-in-run``), or exists and not ``overwrite`` (``out-exists``).
        OutputError: its folder cannot be written (read-only, under a file).
    """
    path = Path(out)
    if path.is_dir():
        raise _fail(
            f"Got out={str(path)!r}, which is a folder; the {what} are written to one file.",
            f"give a file name, e.g. out={str(path / _EXAMPLES.get(what, 'out'))!r}.",
            "out-is-a-folder",
        )
    full = Path(os.path.abspath(path))
    real = Path(os.path.realpath(path))
    run = enclosing_run(real.parent) or enclosing_run(full.parent)
    if run is not None:
        raise _fail(
            f"Got out={str(path)!r}, inside the run directory {str(run)!r}; a run's files are written "
            "by `logitlab train` only (writing there could make the run unloadable).",
            "write the output outside the run directory, e.g. next to it.",
            "out-in-run",
        )
    for item in inputs:
        source = Path(os.path.realpath(item))
        if real == source or source in real.parents:
            raise _fail(
                f"Got out={str(path)!r}, which is {'' if real == source else 'inside '}this command's own "
                f"input {str(item)!r}; writing it would replace what is being read.",
                "write the output to another path.",
                "out-is-input",
            )
    if path.is_symlink() or path.exists():
        if not overwrite:
            raise _fail(
                f"{path} already exists; writing the {what} would replace it.",
                "pass overwrite=True to replace it, or choose another out=.",
                "out-exists",
                "overwrite",
            )
        if path.is_symlink():
            raise _fail(
                f"{path} is a symbolic link; logitlab replaces files, not what links point to.",
                "remove the link, or choose another out=.",
                "out-has-link",
            )
    _check_writable(path.parent)
    return path


def _check_writable(folder: Path) -> None:
    """Refuse a folder that cannot be created or written, before any work is done (nothing is created)."""
    import tempfile

    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    with output_errors(folder):
        if not existing.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(existing))
        fd, name = tempfile.mkstemp(dir=existing, prefix=".logitlab-probe.", suffix=".tmp")
        os.close(fd)
        os.unlink(name)
