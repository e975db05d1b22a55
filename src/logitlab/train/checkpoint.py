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
    inside), a pointer JSON file, or a checkpoint directory itself. A pointer names a folder next to
    it: an absolute path, ``..``, a separator or a symbolic link there is refused.

    Raises:
        CheckpointError: an unreadable pointer, or one naming a folder outside its own.
    """
    p = Path(path)
    if p.is_dir() and (p / META).is_file():
        return p
    for pointer in (p / f"{name}.json", p / "checkpoints" / f"{name}.json", p):
        if pointer.is_file() and pointer.suffix == ".json":
            meta = _read_json(pointer, what="checkpoint pointer")
            tag = meta.get("dir") if isinstance(meta, dict) else None
            if not isinstance(tag, str):
                raise CheckpointError(
                    f"The checkpoint pointer {pointer} is unreadable (no `dir` naming a checkpoint).",
                    fix="delete it to start over, or point `resume` at a checkpoint directory.",
                    code="checkpoint-unreadable",
                )
            target = pointer.parent / tag
            plain = tag not in ("", ".", "..") and "/" not in tag and "\\" not in tag and ":" not in tag
            if not plain or target.is_symlink():
                raise CheckpointError(
                    f"The checkpoint pointer {pointer} names {tag!r:.80}, which is not a checkpoint folder "
                    f"inside {pointer.parent}; pointers are confined to their folder.",
                    fix="delete the pointer to start over, or point `resume` at a checkpoint directory.",
                    code="checkpoint-outside",
                )
            return target
    return None


_MAX_META_BYTES = 64 << 20  # the largest meta.json / pointer read


def _read_json(path: Path, *, what: str) -> Any:
    """A checkpoint's JSON file (no symlink, bounded size); any problem is a ``CheckpointError``."""
    try:
        if path.is_symlink():
            raise ValueError("it is a symbolic link")
        with open(path, "rb") as fh:
            data = fh.read(_MAX_META_BYTES + 1)
        if len(data) > _MAX_META_BYTES:
            raise ValueError(f"it holds more than {_MAX_META_BYTES:,} bytes")
        return json.loads(data.decode("utf-8"))
    except (OSError, ValueError, RecursionError) as exc:  # RecursionError: nested too deeply
        reason = "nested too deeply" if isinstance(exc, RecursionError) else f"{exc}"
        raise CheckpointError(
            f"The {what} {path} is unreadable ({reason:.200}).",
            fix="resume from another checkpoint (best.json) or start over.",
            code="checkpoint-unreadable",
        ) from None


def _check_meta(meta: Any, target: Path) -> None:
    """The fields a resume reads, checked for type: a tampered ``meta.json`` is a ``CheckpointError`` naming one."""

    def count(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 1 << 62

    fields: dict[str, tuple[Any, str]] = {
        "format": (lambda v: v == FORMAT, repr(FORMAT)),
        "sha256": (
            lambda v: isinstance(v, dict) and all(isinstance(v.get(f), str) for f in (WEIGHTS, STATE)),
            "the SHA-256 of model.safetensors and state.pt",
        ),
        "epoch": (count, "a count"),
        "global_step": (count, "a count"),
        "config": (lambda v: isinstance(v, dict), "an object"),
        "history": (
            lambda v: isinstance(v, list) and all(isinstance(r, dict) for r in v),
            "a list of objects",
        ),
        "position": (
            lambda v: (
                v is None or (isinstance(v, dict) and all(count(v.get(k)) for k in ("batches", "steps")))
            ),
            "null or the epoch's position",
        ),
        "callbacks": (
            lambda v: isinstance(v, dict) and all(isinstance(s, dict) for s in v.values()),
            "an object",
        ),
        "world_size": (lambda v: count(v) and v >= 1, "a positive count"),
    }
    required = ("format", "sha256", "epoch")
    for field, (ok, expected) in fields.items():
        if not isinstance(meta, dict) or (field not in meta and field in required):
            problem = "is missing" if isinstance(meta, dict) else "cannot be read (not a JSON object)"
        elif field in meta and not ok(meta[field]):
            problem = f"is {meta[field]!r:.80}; expected {expected}"
        else:
            continue
        raise CheckpointError(
            f"The checkpoint {target}: field `{field}` of {META} {problem}; it was edited or is not a logitlab "
            "checkpoint.",
            fix="resume from another checkpoint (best.json) or start over.",
            code="checkpoint-unreadable",
        )


def load_checkpoint(path: str | os.PathLike[str], *, name: str = "last") -> Checkpoint:
    """Read and verify a checkpoint written by :func:`save_checkpoint`.

    Args:
        path (path): a checkpoints dir, a run dir, a pointer JSON or a checkpoint directory.
        name (str): which pointer, ``"last"`` or ``"best"``. Default: ``"last"``.

    Raises:
        CheckpointError: when it is missing, truncated, edited (checksum, a field of ``meta.json``), not a
            logitlab checkpoint, or named by a pointer that leaves its folder.
    """
    target = resolve_checkpoint(path, name)
    if target is None or not (target / META).is_file():
        raise CheckpointError(
            f"No checkpoint {name!r} found at {path}.",
            fix="point at a run directory or its checkpoints/ directory written by the Trainer.",
            code="checkpoint-missing",
        )
    meta = _read_json(target / META, what="checkpoint metadata")
    _check_meta(meta, target)
    try:
        blobs = {}
        for f in (WEIGHTS, STATE):
            if (target / f).is_symlink():
                raise OSError(f"{f} is a symbolic link")
            blobs[f] = (target / f).read_bytes()
    except OSError as exc:
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
