"""The run directory ``train --out DIR`` writes: its manifest, its lock, and what may be written over.

A run directory is owned through its manifest :data:`MANIFEST`, written before the data is read: it
records what was asked (data, parameters, reading options) and whether the run is ``running`` (or was
interrupted) or ``complete``. :func:`check_run_dir` reads it to tell a finished run (replace it only
with ``overwrite``), an interrupted one (continue it with ``resume``) and a folder of someone else's
files with run-file names (refused, naming them). No entry of :data:`RUN_ENTRIES` may be a symbolic
link: nothing is written or deleted through a link out of ``--out``.

While ``train`` writes a run directory it holds an exclusive lock on it (:func:`run_lock`, an OS file
lock through ``filelock``: released by the kernel when the process dies, so a ``kill -9`` never leaves
a stale lock); a second writer is refused at once.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..files import output_errors, write_json_atomic

__all__ = [
    "LOCK",
    "MANIFEST",
    "RUN_ENTRIES",
    "RUN_FILES",
    "check_resume",
    "check_run_dir",
    "check_run_path",
    "enclosing_run",
    "finish_run",
    "forget_attempt",
    "read_manifest",
    "run_lock",
    "start_run",
]

MANIFEST = ".logitlab-run.json"
"""The run's own record: what it was asked, and ``state`` ``running`` or ``complete``."""

LOCK = ".logitlab.lock"
"""The lock file ``train`` holds while it writes a run directory."""

RUN_FILES: tuple[str, ...] = ("model.json", "model.safetensors", "config.json", "metrics.csv", "report.html")
"""Files that mark a folder as a run directory (``train`` refuses to write over one unless asked)."""

RUN_ENTRIES: tuple[str, ...] = (*RUN_FILES, "train_config.json", "plots", "checkpoints", "members", MANIFEST)
"""Every name ``train`` writes directly inside ``--out`` (besides :data:`LOCK`)."""

_FORMAT = "logitlab-run"
_STATES = ("running", "complete")
_IGNORED_PARAMS = frozenset({"verbose"})  # may change between an interrupted run and its resume


def _fail(message: str, fix: str, code: str, param: str = "out") -> ConfigError:
    return ConfigError(message, fix=fix, code=code, param=param)


def _links(path: Path) -> list[str]:
    return [name for name in RUN_ENTRIES if (path / name).is_symlink()]


def read_manifest(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The run manifest in ``path`` (``None`` when there is none or it is not one of ours)."""
    try:
        manifest = json.loads((Path(path) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return manifest if isinstance(manifest, dict) and manifest.get("format") == _FORMAT else None


def check_run_path(out: str | os.PathLike[str], *, overwrite: bool = False, resume: bool = False) -> Path:
    """``out`` can be a run directory: not a file, and no entry of :data:`RUN_ENTRIES` a symbolic link.

    The part of :func:`check_run_dir` that needs no lock (it does not read what a writer may be writing).

    Raises:
        ConfigError: ``resume`` and ``overwrite`` together (``resume-and-overwrite``); ``out`` is a file
            (``out-is-a-file``); an entry is a symbolic link (``out-has-link``).
    """
    path = Path(out)
    if resume and overwrite:
        raise _fail(
            "Got resume=True and overwrite=True; resuming keeps the run in out, overwriting replaces it.",
            "pass one of them: resume to continue the interrupted run, overwrite to start over.",
            "resume-and-overwrite",
            "resume",
        )
    if path.exists() and not path.is_dir():
        raise _fail(
            f"Got out={str(path)!r}, which is a file; a run is written into a folder.",
            "choose a folder for out=, e.g. out='runs/mine'.",
            "out-is-a-file",
        )
    links = _links(path)
    if links:
        shown = ", ".join(f"{path / n} -> {os.readlink(path / n)}" for n in links)
        raise _fail(
            f"{shown}: a symbolic link inside the run directory; logitlab writes and deletes only "
            "inside out= and never follows a link out of it.",
            "remove the link (its target is untouched), or choose another out=.",
            "out-has-link",
        )
    return path


def check_run_dir(out: str | os.PathLike[str], *, overwrite: bool = False, resume: bool = False) -> Path:
    """``out`` as a run directory to write: refused when writing would replace what the run does not own.

    Args:
        out (path): the run directory.
        overwrite (bool): replace a finished or interrupted run, or files with run-file names. Default: ``False``.
        resume (bool): continue the interrupted run in ``out`` (a fresh run when ``out`` holds none).

    Raises:
        ConfigError: what :func:`check_run_path` refuses; ``out`` holds a finished run (``run-exists``),
            an interrupted one (``run-interrupted``), or files this library did not write (``out-not-a-run``).
    """
    path = check_run_path(out, overwrite=overwrite, resume=resume)
    manifest = read_manifest(path)
    if resume and (path / MANIFEST).exists() and (manifest is None or manifest.get("state") not in _STATES):
        raise _fail(  # a damaged manifest: the run's settings and data cannot be checked against it
            f"{path / MANIFEST} is unreadable or not a logitlab run manifest (damaged or edited), so "
            "resuming cannot check that the settings and data are the interrupted run's.",
            "pass overwrite=True to start the run over (or restore the manifest).",
            "run-manifest-invalid",
            "resume",
        )
    held = [name for name in RUN_ENTRIES if (path / name).exists()]
    if manifest is not None and manifest.get("state") != "complete" and not _interrupted(path, manifest):
        return path  # this library's run that failed before its first checkpoint: nothing to keep
    if manifest is not None and manifest.get("state") != "complete":
        if not (resume or overwrite):
            raise _fail(
                f"{path} holds an interrupted run (started, never finished); training would replace it.",
                "pass resume=True to continue it from its last checkpoint, or overwrite=True to start over.",
                "run-interrupted",
                "resume",
            )
        return path
    if manifest is not None or "model.json" in held:  # a finished run (or one written before manifests)
        if resume:
            raise _fail(
                f"{path} holds a finished run; there is nothing to resume.",
                "pass overwrite=True to train it again, or choose another out=.",
                "run-complete",
                "resume",
            )
        if not overwrite:
            raise _fail(
                f"{path} already holds a run ({', '.join(held)}); training would replace it.",
                "pass overwrite=True to replace it, or choose another out=.",
                "run-exists",
                "overwrite",
            )
        return path
    legacy = resume and (path / "checkpoints" / "last.json").is_file()  # interrupted before manifests
    if held and not (overwrite or legacy):
        raise _fail(
            f"{path} holds {', '.join(str(path / n) for n in held)}, which a logitlab run did not write; "
            "training would write files of those names.",
            "move them away, choose another out=, or pass overwrite=True to replace them "
            "(files inside a checkpoints/ folder that logitlab did not write are never deleted).",
            "out-not-a-run",
            "overwrite",
        )
    return path


def check_resume(path: Path, record: Mapping[str, Any], *, resume: bool) -> None:
    """On ``resume``, check ``record`` (data, parameters, reading options) matches the interrupted run's.

    Raises:
        ConfigError: resuming with other data, parameters or reading options (``resume-mismatch``).
    """
    manifest = read_manifest(path)
    if resume and manifest is not None and _interrupted(path, manifest):
        changed = _changed(manifest, record)
        if changed:
            raise _fail(
                f"Cannot resume the run in {path} with other settings: {', '.join(changed)} differ from the "
                "interrupted run's, so it would not end where an uninterrupted run ends.",
                "rerun with the interrupted run's settings (in "
                f"{path / MANIFEST}), or pass overwrite=True to start over.",
                "resume-mismatch",
                "resume",
            )


def start_run(path: Path, record: Mapping[str, Any]) -> None:
    """Write the manifest (``state: running``): from here on the folder holds this run."""
    write_json_atomic(path / MANIFEST, {"format": _FORMAT, "version": 1, "state": "running", **record})


def _interrupted(path: Path, manifest: Mapping[str, Any]) -> bool:
    """A run that started and left a checkpoint to resume from (one that failed before has nothing to keep)."""
    return manifest.get("state") != "complete" and (path / "checkpoints" / "last.json").is_file()


def forget_attempt(path: Path, *, created: bool) -> None:
    """After a run failed before it wrote anything (the data unreadable): the lock file, and ``path`` if new."""
    with contextlib.suppress(OSError):
        (path / LOCK).unlink(missing_ok=True)
        if created:
            path.rmdir()  # only when empty


def finish_run(path: Path) -> None:
    """Mark the run in ``path`` complete (its files are all written)."""
    manifest = read_manifest(path) or {"format": _FORMAT, "version": 1}
    write_json_atomic(path / MANIFEST, {**manifest, "state": "complete"})


def _changed(manifest: Mapping[str, Any], record: Mapping[str, Any]) -> list[str]:
    def norm(value: Any) -> Any:
        return json.loads(json.dumps(value, default=str))

    out = []
    for key in ("data", "load", "params"):
        old, new = norm(manifest.get(key)), norm(record.get(key))
        if isinstance(old, dict) and isinstance(new, dict):
            skip = _IGNORED_PARAMS if key == "params" else frozenset()
            out += [f"{k}" for k in sorted(set(old) | set(new)) if k not in skip and old.get(k) != new.get(k)]
        elif old != new:
            out.append(key)
    before, now = manifest.get("data_fingerprint"), record.get("data_fingerprint")
    if before and now and before != now:  # runs begun before it was recorded are not refused
        out.append(f"the content of {record.get('data')} (changed since the run began)")
    return out


@contextlib.contextmanager
def run_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the run directory ``path`` (created if missing) for the block.

    Raises:
        ConfigError: another process holds it (``run-locked``).
        OutputError: ``path`` cannot be created or written (read-only, under a file, disk full).
    """
    from filelock import FileLock, Timeout

    with output_errors(path):
        path.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(path / LOCK), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise _fail(
                f"Another logitlab process is writing the run directory {path} (it holds {path / LOCK}).",
                "wait for it to finish, or choose another out=.",
                "run-locked",
            ) from None
    try:
        yield
    finally:
        lock.release()


def enclosing_run(path: Path) -> Path | None:
    """The run directory ``path`` lies in (``path`` itself, or a folder above it), if any."""
    for folder in [path, *path.parents]:
        if (folder / MANIFEST).is_file() or (
            (folder / "model.json").is_file() and (folder / "model.safetensors").is_file()
        ):
            return folder
    return None
