"""Atomic, pickle-free checkpoints: ``last`` and ``best`` for resuming a run exactly.

A checkpoint is a directory ``checkpoints/epoch0003-step00000120/`` holding

* ``model.safetensors``: the weights;
* ``state.pt``: optimizer, scheduler, GradScaler and RNG states, loadable with
  ``torch.load(weights_only=True)`` (tensors, numbers, strings, lists and dicts only);
* ``meta.json``: epoch, global step, the config, the history and the SHA-256 of both files.

It is written into a temporary directory (each file with :func:`logitlab.files.write_bytes_atomic`:
fsynced, umask mode), then renamed into place; only after that is the pointer ``last.json`` (and
``best.json``) replaced atomically (:func:`logitlab.files.write_json_atomic`, re-exported here). A
crash mid-write therefore leaves the previous ``last`` intact, and a file truncated later fails its
checksum with a :class:`~logitlab.errors.CheckpointError` instead of
loading half a model.

Each checkpoint's name is recorded in :data:`LEDGER` before anything of that name is created; only the
directories named there and by no pointer are pruned, so a folder someone else put in
``checkpoints/`` is never deleted, and a symbolic link is never followed.

Examples:
    >>> import tempfile, torch
    >>> d = tempfile.mkdtemp()
    >>> _ = save_checkpoint(d, {"w": torch.ones(2)}, {"step": 3}, {"epoch": 0}, names=("last",))
    >>> ckpt = load_checkpoint(d)
    >>> ckpt.model_state["w"].tolist(), ckpt.state["step"], ckpt.meta["epoch"]
    ([1.0, 1.0], 3, 0)
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors
from torch import Tensor

from ..errors import CheckpointError
from ..files import TEMP_SUFFIX, fsync_dir, write_bytes_atomic, write_json_atomic

__all__ = [
    "FORMAT",
    "LEDGER",
    "Checkpoint",
    "clear_checkpoints",
    "load_checkpoint",
    "resolve_checkpoint",
    "save_checkpoint",
    "write_json_atomic",
]

FORMAT = "logitlab-checkpoint"
WEIGHTS, STATE, META = "model.safetensors", "state.pt", "meta.json"
LEDGER = ".written.json"
"""The names of the checkpoint directories written into this folder: the only ones ever pruned."""
_TAG = re.compile(r"epoch\d{4,}-step\d{8,}-[0-9a-f]{6}")


@dataclass
class Checkpoint:
    """A loaded checkpoint: ``model_state`` (name -> Tensor), ``state`` (dict), ``meta`` (JSON dict), ``path``."""

    model_state: dict[str, Tensor]
    state: dict[str, Any]
    meta: dict[str, Any]
    path: Path


def _write_bytes(path: Path, data: bytes) -> str:
    """Write one file of a checkpoint (atomically, fsynced); returns its SHA-256."""
    write_bytes_atomic(path, data)
    return hashlib.sha256(data).hexdigest()


def _unshare(model_state: dict[str, Tensor]) -> dict[str, Tensor]:
    """CPU, contiguous tensors; tied weights (one storage under two names) copied, as safetensors needs."""
    out, seen = {}, set()
    for name, t in model_state.items():
        t = t.detach().cpu().contiguous()
        key = (t.untyped_storage().data_ptr(), t.storage_offset())
        out[name] = t.clone() if key in seen else t
        seen.add(key)
    return out


def save_checkpoint(
    directory: str | os.PathLike[str],
    model_state: dict[str, Tensor],
    state: dict[str, Any],
    meta: dict[str, Any],
    *,
    names: Iterable[str] = ("last",),
) -> Path:
    """Write one checkpoint atomically and point ``names`` (``"last"``, ``"best"``) at it.

    Args:
        directory (path): the checkpoints directory (created if missing).
        model_state (dict[str, Tensor]): the model's ``state_dict()``.
        state (dict): everything else with tensors (optimizer, scheduler, RNG states).
        meta (dict): JSON-serialisable facts: must hold ``epoch`` and may hold ``global_step``.
        names (iterable of str): pointers to update. Default: ``("last",)``.

    Returns:
        Path: the checkpoint's directory.
    """
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    tag = f"epoch{int(meta['epoch']):04d}-step{int(meta.get('global_step', 0)):08d}-{uuid.uuid4().hex[:6]}"
    tmp, final = root / f".tmp-{tag}", root / tag
    try:
        _record(root, tag)
        tmp.mkdir()
        buffer = io.BytesIO()
        torch.save(state, buffer)
        hashes = {
            WEIGHTS: _write_bytes(tmp / WEIGHTS, save_safetensors(_unshare(model_state))),
            STATE: _write_bytes(tmp / STATE, buffer.getvalue()),
        }
        full_meta = {**meta, "format": FORMAT, "version": 1, "sha256": hashes, "dir": tag}
        _write_bytes(tmp / META, json.dumps(full_meta, indent=1, sort_keys=True).encode())
        os.replace(tmp, final)  # each file's write synced the folder; now sync the rename
        fsync_dir(root)
        for name in names:  # only now does a pointer move: "last" never names a partial checkpoint
            write_json_atomic(root / f"{name}.json", full_meta)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise CheckpointError(
                f"Could not write the checkpoint to {root}: {exc}.",
                fix="check free disk space and write permission of the run directory.",
                code="checkpoint-write-failed",
            ) from exc
        raise
    _prune(root)
    return final


def _owned(root: Path) -> list[str]:
    """The checkpoint directories this folder's writers created (from :data:`LEDGER`; well-formed names only)."""
    try:
        tags = json.loads((root / LEDGER).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return []
    if not isinstance(tags, list):
        return []
    return [t for t in tags if isinstance(t, str) and _TAG.fullmatch(t)]


def _record(root: Path, tag: str) -> None:
    """Add ``tag`` to the ledger before anything of that name is created (a kill leaves it listed)."""
    write_json_atomic(root / LEDGER, [*_owned(root), tag])


def _prune(root: Path) -> None:
    """Remove the checkpoint directories this library wrote that no pointer names (and crashed writes' leftovers).

    Only the names in :data:`LEDGER` are candidates: a folder someone else put in ``checkpoints/`` is
    never touched, and a symbolic link is never followed.
    """
    keep = set()
    for pointer in root.glob("*.json"):
        try:
            keep.add(json.loads(pointer.read_text())["dir"])
        except (OSError, ValueError, KeyError, TypeError, RecursionError):
            continue
    owned = _owned(root)
    left = []
    for tag in owned:
        for child in (root / tag, root / f".tmp-{tag}"):
            if child.name not in keep and child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
        if tag in keep or (root / tag).exists() or (root / f".tmp-{tag}").exists():
            left.append(tag)
    if left != owned:
        write_json_atomic(root / LEDGER, left)
    for name in (
        "last.json",
        "best.json",
        LEDGER,
    ):  # pointer temp files (write_json_atomic) of a killed writer
        for child in root.glob(f".{name}.*{TEMP_SUFFIX}"):
            if child.is_file() and not child.is_symlink():
                child.unlink(missing_ok=True)


def clear_checkpoints(directory: str | os.PathLike[str]) -> None:
    """Forget a run's checkpoints before it is trained again: its pointers and the directories it wrote.

    Files and folders the library did not write there (and anything behind a symbolic link) are kept.
    """
    root = Path(directory)
    if root.is_symlink() or not root.is_dir():
        return
    for name in ("last.json", "best.json"):
        (root / name).unlink(missing_ok=True)
    _prune(root)


def resolve_checkpoint(path: str | os.PathLike[str], name: str = "last") -> Path | None:
    """The checkpoint directory ``path`` names, or ``None`` if there is none.

    ``path`` may be a checkpoints dir (its ``name`` pointer is followed), a run dir (``checkpoints/``
    inside), a pointer JSON file, or a checkpoint directory itself.
    """
    p = Path(path)
    if p.is_dir() and (p / META).is_file():
        return p
    for pointer in (p / f"{name}.json", p / "checkpoints" / f"{name}.json", p):
        if pointer.is_file() and pointer.suffix == ".json":
            try:
                target = pointer.parent / json.loads(pointer.read_text())["dir"]
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise CheckpointError(
                    f"The checkpoint pointer {pointer} is unreadable ({exc}).",
                    fix="delete it to start over, or point `resume` at a checkpoint directory.",
                    code="checkpoint-unreadable",
                ) from None
            return target
    return None


def load_checkpoint(path: str | os.PathLike[str], *, name: str = "last") -> Checkpoint:
    """Read and verify a checkpoint written by :func:`save_checkpoint`.

    Args:
        path (path): a checkpoints dir, a run dir, a pointer JSON or a checkpoint directory.
        name (str): which pointer, ``"last"`` or ``"best"``. Default: ``"last"``.

    Raises:
        CheckpointError: when it is missing, truncated, edited (checksum) or not a logitlab checkpoint.
    """
    target = resolve_checkpoint(path, name)
    if target is None or not (target / META).is_file():
        raise CheckpointError(
            f"No checkpoint {name!r} found at {path}.",
            fix="point at a run directory or its checkpoints/ directory written by the Trainer.",
            code="checkpoint-missing",
        )
    try:
        meta = json.loads((target / META).read_text())
        if meta.get("format") != FORMAT:
            raise ValueError(f"format {meta.get('format')!r}, expected {FORMAT!r}")
        blobs = {f: (target / f).read_bytes() for f in (WEIGHTS, STATE)}
    except (OSError, ValueError) as exc:
        raise CheckpointError(
            f"The checkpoint {target} is unreadable ({exc}).",
            fix="resume from another checkpoint (best.json) or start over.",
            code="checkpoint-unreadable",
        ) from None
    for fname, data in blobs.items():
        if hashlib.sha256(data).hexdigest() != meta["sha256"].get(fname):
            raise CheckpointError(
                f"The checkpoint file {target / fname} does not match its checksum (truncated or edited).",
                fix="resume from another checkpoint (best.json) or start over.",
                code="checkpoint-corrupt",
            )
    try:
        model_state = load_safetensors(blobs[WEIGHTS])
        state = torch.load(io.BytesIO(blobs[STATE]), weights_only=True, map_location="cpu")
    except Exception as exc:  # safetensors/unpickler errors on a file that passed its checksum
        raise CheckpointError(
            f"The checkpoint {target} could not be decoded ({exc}).",
            fix="load it with the logitlab/torch version that wrote it, or start over.",
            code="checkpoint-unreadable",
        ) from None
    return Checkpoint(model_state=model_state, state=state, meta=meta, path=target)
