"""``Classifier.fit(..., run_dir=..., resume=True)`` resumes only with the data its run began with.

A fit given ``run_dir`` records the fingerprints of its ``X`` and ``y``
(:func:`~logitlab.fingerprints.array_fingerprint`, the one place fingerprints are made) in
``run_dir/.logitlab-fit.json`` before it trains; a resume from a checkpoint there compares them, so
other data is refused instead of continuing the old run on it. A run begun before the record existed,
or a :class:`~logitlab.data.DatasetBundle` (``train`` checks its own data), is not checked.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import CheckpointError

__all__ = ["FIT_DATA", "check_fit_data"]

FIT_DATA = ".logitlab-fit.json"
"""The record, in a fit's ``run_dir``, of the fingerprints of the ``X`` and ``y`` it began with."""

_FORMAT = "logitlab-fit-data"


def check_fit_data(run_dir: str | os.PathLike[str] | None, X: Any, y: Any, *, resume: bool) -> None:
    """Refuse resuming the fit in ``run_dir`` with other ``X`` or ``y``; record them when a fit starts.

    Raises:
        CheckpointError: ``resume`` with a checkpoint in ``run_dir`` and ``X`` or ``y`` other than the
            interrupted fit's (``resume-data-changed``), or its record unreadable (``resume-record-invalid``).
    """
    from ..files import write_json_atomic
    from ..fingerprints import array_fingerprint

    if run_dir is None:
        return
    path = Path(run_dir)
    stamps = {"X": array_fingerprint(X), "y": array_fingerprint(y)}
    if stamps["X"] is None:
        return
    if resume and (path / "checkpoints" / "last.json").is_file():
        before = _read(path / FIT_DATA)
        if before is None and (path / FIT_DATA).exists():
            raise CheckpointError(
                f"{path / FIT_DATA} is unreadable or not a logitlab record (edited?), so resuming cannot "
                "tell whether X and y are the data the interrupted fit began with.",
                fix="pass resume=False to start over (the record is written again).",
                code="resume-record-invalid",
                param="resume",
            )
        changed = [k for k in stamps if before is not None and before.get(k) != stamps[k]]
        if changed:
            raise CheckpointError(
                f"Cannot resume the fit in {path}: {' and '.join(changed)} "
                f"{'differs' if len(changed) == 1 else 'differ'} from the data the "
                f"interrupted fit began with (fingerprints in {path / FIT_DATA}), so it would not end "
                "where an uninterrupted fit ends.",
                fix="pass the interrupted fit's original X and y, or resume=False to start over on this data.",
                code="resume-data-changed",
                param="resume",
            )
        return
    path.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path / FIT_DATA, {"format": _FORMAT, "version": 1, **stamps})


def _read(file: Path) -> dict[str, Any] | None:
    try:
        record = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return record if isinstance(record, dict) and record.get("format") == _FORMAT else None
