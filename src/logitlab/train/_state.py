"""Pieces of the trainer's set-up and resume: device, optimizer, seeds, RNG states, checkpoint restore."""

from __future__ import annotations

import contextlib
import math
import random
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..errors import CheckpointError, LogitlabWarning
from .checkpoint import Checkpoint, load_checkpoint, resolve_checkpoint
from .config import TrainConfig
from .distributed import DistInfo
from .eager_optim import SGD, AdamW, LazyAdamW

__all__ = [
    "History",
    "RunState",
    "autocast",
    "build_optimizer",
    "checkpoint_state",
    "checkpoint_to_resume",
    "resolve_device",
    "restore",
    "rng_state",
    "seed_everything",
]


def resolve_device(device: str, local_rank: int) -> torch.device:
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda":
        return torch.device("cuda", local_rank)
    return torch.device(device)


def build_optimizer(
    model: nn.Module, cfg: TrainConfig, device: torch.device, *, distributed: bool = False
) -> torch.optim.Optimizer:
    """AdamW or SGD; weight decay on matrices/kernels only (not biases or norm scales), as nanoGPT does.

    AdamW uses PyTorch's fused kernel on CPU and CUDA (one kernel for all parameters; ~15% faster
    steps for a small MLP on CPU), as nanoGPT does on CUDA.

    A model with a sparse-native first layer (:class:`~logitlab.models.sparse.SparseLinear`, a
    ``[vocabulary, H]`` table) trained with AdamW in one process gets sparse gradients for that table
    and :class:`~logitlab.train.lazy_adamw.LazyAdamW`, whose step costs the rows a batch touches, not
    the vocabulary (rows not in a batch keep their weights and moments; see that module). This is the
    one place that decides it: with SGD or under DDP (whose gradient buckets are dense) the table keeps
    a dense gradient and the optimizer below is the usual one.

    The classes come from :mod:`~logitlab.train.eager_optim`: torch's (and LazyAdamW's) updates, minus
    the first-use import of ``torch._dynamo`` (seconds of every fit).
    """
    from ..models.sparse import SparseLinear

    tables = [m for m in model.modules() if isinstance(m, SparseLinear)]
    lazy = bool(tables) and cfg.optimizer == "adamw" and not distributed
    for table in tables:
        table.sparse_grad = lazy
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.ndim >= 2], "weight_decay": cfg.weight_decay},
        {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
    ]
    groups = [g for g in groups if g["params"]]
    if cfg.optimizer == "sgd":
        return SGD(groups, lr=cfg.lr, momentum=cfg.momentum)
    if lazy:
        return LazyAdamW(groups, lr=cfg.lr)
    fused = device.type in ("cpu", "cuda") and all(p.is_floating_point() for p in params)
    return AdamW(groups, lr=cfg.lr, fused=fused or None)


def autocast(precision: str, device: torch.device) -> contextlib.AbstractContextManager[Any]:
    """The forward pass's autocast context for ``TrainConfig.precision`` (none for fp32)."""
    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device.type, dtype=dtype)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def rng_state() -> dict[str, Any]:
    """RNG states in a form ``torch.load(weights_only=True)`` accepts (tensors, ints, lists)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()  # type: ignore[misc]
    version, internal, py_gauss = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": [kind, torch.from_numpy(np.asarray(keys, dtype=np.int64)), pos, has_gauss, gauss],
        "python": [version, list(internal), py_gauss],
    }


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    version, internal, py_gauss = state["python"]
    random.setstate((version, tuple(internal), py_gauss))


class History(list):  # type: ignore[type-arg]
    """The per-epoch rows of a run (a ``list`` of dicts: ``epoch`` from 1, ``train_loss``, ``lr``, ``val_*`` ...).

    ``epoch`` counts from 1, as the progress lines print it ("epoch 3/30" is the row with ``epoch`` 3), and so do
    ``metrics.csv``, the plots, the report and ``decisions_["best_epoch"]``; callbacks' ``epoch`` argument is the
    0-based loop position.
    """

    def column(self, name: str) -> list[float]:
        """The values of ``name`` over the epochs (``nan`` where missing)."""
        return [float(row.get(name, math.nan)) for row in self]

    def best(self, monitor: str = "val_loss", mode: str = "min") -> dict[str, Any]:
        """The row with the best ``monitor`` value."""
        rows = [r for r in self if monitor in r]
        pick = min if mode == "min" else max
        return pick(rows, key=lambda r: r[monitor]) if rows else {}


@dataclass(frozen=True)
class RunState:
    """Where a checkpointed run stood: what :meth:`~logitlab.train.Trainer.apply_run_state` takes back.

    Args:
        history (History): the finished epochs' rows (``epoch`` from 1).
        position (dict or None): mid-epoch: the batches done and the loss so far (that epoch resumes
            after them); ``None`` at an epoch's end.
        start_epoch (int): the epoch the resumed run starts with (0-based).
        global_step (int): optimizer steps taken.
        callbacks (dict): each callback's ``state_dict()`` by class name.
    """

    history: History
    position: dict[str, Any] | None
    start_epoch: int
    global_step: int
    callbacks: dict[str, Any]

    @classmethod
    def from_checkpoint(cls, ckpt: Checkpoint) -> RunState:
        """The run state in a checkpoint's meta (older checkpoints counted history epochs from 0)."""
        rows = [dict(r) for r in ckpt.meta["history"]]
        if ckpt.meta.get("history_epochs_from") != 1:  # a checkpoint written before epochs counted from 1
            rows = [{**r, "epoch": int(r["epoch"]) + 1} if "epoch" in r else r for r in rows]
        position = ckpt.meta.get("position")  # mid-epoch: that epoch resumes after its done batches
        start = int(ckpt.meta["epoch"]) + (0 if position else 1)
        states = ckpt.meta.get("callbacks", {})
        return cls(History(rows), position, start, int(ckpt.meta["global_step"]), dict(states))


def checkpoint_to_resume(resume: str | None, run_dir: Path | None) -> Checkpoint | None:
    """The checkpoint ``TrainConfig.resume`` names: ``"auto"``: the run folder's latest (``None``: none yet)."""
    if resume is None:
        return None
    if resume == "auto":
        if run_dir is None or resolve_checkpoint(run_dir / "checkpoints") is None:
            return None  # nothing to resume: a fresh run
        return load_checkpoint(run_dir / "checkpoints")
    return load_checkpoint(resume)


def restore(
    ckpt: Checkpoint,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    scaler: torch.amp.GradScaler,
    dist: DistInfo,
    config: TrainConfig,
) -> RunState:
    """Load a checkpoint's weights, optimizer, schedule, scaler and RNG state; the run state to apply."""
    try:
        model.load_state_dict(ckpt.model_state)
    except RuntimeError as exc:
        raise CheckpointError(
            f"The checkpoint {ckpt.path} does not fit this model ({str(exc).splitlines()[0]}).",
            fix="build the model with the same architecture as the checkpointed run.",
            code="checkpoint-mismatch",
        ) from None
    optimizer.load_state_dict(ckpt.state["optimizer"])
    scheduler.load_state_dict(ckpt.state["scheduler"])
    scaler.load_state_dict(ckpt.state["scaler"])
    rngs = ckpt.state["rng"]
    set_rng_state(rngs[dist.rank] if len(rngs) == dist.world_size else rngs[0])
    changed = sorted(
        k
        for k, v in ckpt.meta["config"].items()
        if k not in ("resume", "progress") and getattr(config, k, v) != v
    )
    if changed:
        warnings.warn(
            f"Resuming with changed settings {changed}; the run will not match an uninterrupted one.",
            LogitlabWarning,
            stacklevel=3,
        )
    return RunState.from_checkpoint(ckpt)


def checkpoint_state(trainer: Any) -> tuple[dict[str, Tensor], dict[str, Any], dict[str, Any]]:
    """(model state, tensor state, JSON meta) of the run now; collective under DDP (RNG states gathered)."""
    assert trainer.optimizer is not None and trainer.scheduler is not None
    rng = rng_state()
    if trainer.dist.enabled and torch.distributed.is_initialized():
        gathered: list[Any] = [None] * trainer.dist.world_size
        torch.distributed.all_gather_object(gathered, rng)
        rngs = gathered
    else:
        rngs = [rng]
    state = {
        "optimizer": trainer.optimizer.state_dict(),
        "scheduler": trainer.scheduler.state_dict(),
        "scaler": trainer.scaler.state_dict(),
        "rng": rngs,
    }
    meta = {
        "epoch": trainer.epoch,
        "global_step": trainer.global_step,
        "world_size": trainer.dist.world_size,
        "config": trainer.config.to_dict(),
        "history": list(trainer.history),
        "history_epochs_from": 1,  # history rows count epochs from 1 (older checkpoints: from 0)
        "position": trainer.position,  # None at an epoch's end; mid-epoch: batches done, loss so far
        "loader": {"seed": trainer.config.seed, "next_epoch": trainer.epoch + (0 if trainer.position else 1)},
        "callbacks": {
            type(cb).__name__: cb.state_dict() for cb in trainer.callbacks if hasattr(cb, "state_dict")
        },
    }
    return trainer.model.state_dict(), state, meta
