"""Turning what ``fit`` / ``predict`` receive into loaders: in-memory tensors or torch Datasets, DDP-sharded.

An ``IterableDataset`` is taken when it shards itself (a ``shard(rank, world_size, *, batch_size,
shuffle, seed)`` method, as :class:`~logitlab.data.StreamingTable` has): the trainer asks for this
rank's shard at the per-rank batch and reads it through its ``loader(num_workers=...)``; a resumed
epoch skips its first batches through the loader's ``load_state_dict`` (any other loader: by reading
and dropping them, since their order is seeded by the epoch).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, DistributedSampler, IterableDataset, Subset

from ..data.batches import BalancedSampler, InMemoryLoader
from ..data.sparse import SparseLoader
from ..errors import ConfigError, DataError
from .config import TrainConfig
from .distributed import DistInfo, gather_blocks, gather_rows

__all__ = ["as_tensors", "eval_loader", "num_rows", "resume_batches", "train_loader"]

Gather = Callable[[Tensor, int], Tensor]

# in-memory data up to this size is copied to the accelerator once, so batches are gathered there
MAX_RESIDENT_BYTES = 2 << 30


def _tensor(value: Any, name: str) -> Tensor:
    if isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value)
    raise DataError(
        f"Expected `{name}` to be a Tensor or numpy array; got {type(value).__name__}.",
        fix=f"pass torch.as_tensor({name}).",
        code="bad-input-type",
    )


def as_tensors(data: Any) -> tuple[Tensor, Tensor | None] | None:
    """``(x, y)`` tensors for in-memory data (a tuple, an ``x`` tensor, or a Split-like ``.x``/``.y``); else None."""
    if isinstance(data, Tensor | np.ndarray):
        return _tensor(data, "x"), None
    if isinstance(data, tuple | list) and len(data) in (1, 2):
        y = _tensor(data[1], "y") if len(data) == 2 and data[1] is not None else None
        return _tensor(data[0], "x"), y
    x, y = getattr(data, "x", None), getattr(data, "y", None)
    if isinstance(x, Tensor) and (y is None or isinstance(y, Tensor)):
        return x, y
    return None


def _dataset(data: Any) -> Dataset:
    if isinstance(data, Dataset):
        return data
    if hasattr(data, "dataset") and callable(data.dataset):  # a lazy Split: its torch Dataset
        return data.dataset()
    raise DataError(
        f"Expected training data as (x, y) tensors, a torch Dataset or a DataLoader; got {type(data).__name__}.",
        fix="pass (x, y) tensors, or wrap the data in a torch.utils.data.Dataset.",
        code="bad-input-type",
    )


def place(t: Tensor, device: torch.device) -> Tensor:
    """Move ``t`` to ``device`` once when it fits (``MAX_RESIDENT_BYTES``); else batches move one by one."""
    if t.device != device and t.nelement() * t.element_size() <= MAX_RESIDENT_BYTES:
        return t.to(device)
    return t


def train_loader(data: Any, cfg: TrainConfig, info: DistInfo, device: torch.device) -> Iterable[Any]:
    """The training loader: InMemoryLoader for tensors, DataLoader (+ DistributedSampler) for Datasets."""
    if isinstance(data, DataLoader | InMemoryLoader) or (
        hasattr(data, "load_state_dict") and not isinstance(data, Dataset)  # a StreamLoader
    ):
        return data  # the caller's own loader, sharding included
    if cfg.batch_size % info.world_size:
        raise ConfigError(
            f"Expected `batch_size` (the global batch) divisible by the {info.world_size} processes; got {cfg.batch_size}.",
            fix=f"use batch_size={max(1, cfg.batch_size // info.world_size) * info.world_size}.",
            code="bad-batch_size",
        )
    tensors = as_tensors(data)
    if tensors is not None:
        x, y = tensors
        if y is None:
            raise DataError("Expected (x, y) for training; got no targets.", fix="pass fit((x, y)).")
        balanced = _balanced(y, cfg, info) if cfg.balanced else None
        return InMemoryLoader(
            place(x, device),
            place(y, device),
            batch_size=cfg.batch_size,
            shuffle=cfg.shuffle,
            seed=cfg.seed,
            drop_last=cfg.drop_last,
            rank=info.rank,
            world_size=info.world_size,
            sampler=balanced,
        )
    dataset = _dataset(data)
    native = _native_sparse(dataset)
    if native is not None:  # sparse rows for a sparse-native model: batches of torch sparse CSR tensors
        y = native[1]
        return SparseLoader(
            native[0],
            y,
            batch_size=cfg.batch_size,
            shuffle=cfg.shuffle,
            seed=cfg.seed,
            drop_last=cfg.drop_last,
            rank=info.rank,
            world_size=info.world_size,
            sampler=_balanced(y, cfg, info) if cfg.balanced else None,
        )
    if isinstance(dataset, IterableDataset):
        return _stream_loader(dataset, cfg, info, device)
    if cfg.balanced:
        targets = getattr(dataset, "targets", None)
        if targets is None:
            raise ConfigError(
                "Expected a Dataset with a `targets` attribute for balanced=True; it has none.",
                fix="set dataset.targets to the labels, or pass (x, y) tensors.",
                code="balanced-needs-targets",
            )
        sampler: Any = _balanced(torch.as_tensor(targets), cfg, info)
    else:  # one process too: its set_epoch seeds epoch e's order by seed + e, so resume is exact
        sampler = DistributedSampler(
            dataset, info.world_size, info.rank, shuffle=cfg.shuffle, seed=cfg.seed, drop_last=cfg.drop_last
        )
    return DataLoader(
        dataset,
        batch_size=cfg.batch_size // info.world_size,
        sampler=sampler,
        drop_last=cfg.drop_last,
        num_workers=cfg.num_workers,
        pin_memory=device.type == "cuda",
        persistent_workers=cfg.num_workers > 0,
        generator=torch.Generator().manual_seed(cfg.seed),  # worker seeds never draw from the global RNG
    )


def _sharded(dataset: IterableDataset) -> Any:
    if not callable(getattr(dataset, "shard", None)):
        raise ConfigError(
            f"Expected an IterableDataset that shards itself over ranks (a `shard(rank, world_size, ...)` "
            f"method, as logitlab.data.streaming.StreamingTable has); got {type(dataset).__name__}.",
            fix="wrap the files in StreamingTable, or pass your own DataLoader (sharding is then yours).",
            code="iterable-needs-shard",
        )
    return dataset


def _stream_loader(dataset: IterableDataset, cfg: TrainConfig, info: DistInfo, device: torch.device) -> Any:
    """A streaming table's loader: this rank's shard at the per-rank batch, with ``num_workers`` readers."""
    if cfg.balanced:
        raise ConfigError(
            "balanced=True samples with replacement from rows in memory; a streaming table has none.",
            fix="use balanced=False with imbalance weights (pos_weight / class weights from the label counts).",
            code="balanced-streaming",
        )
    table = _sharded(dataset).shard(
        info.rank,
        info.world_size,
        batch_size=cfg.batch_size // info.world_size,
        shuffle=cfg.shuffle,
        seed=cfg.seed,
    )
    return table.loader(num_workers=cfg.num_workers, pin_memory=device.type == "cuda")


def resume_batches(loader: Iterable[Any], skip: int) -> Iterator[Any]:
    """The loader's batches of this epoch after its first ``skip`` (a mid-epoch resume).

    A loader with ``load_state_dict`` (a streaming table's) skips them itself; any other is read and
    its first ``skip`` batches dropped (its order is seeded by the epoch, so they are the same ones).
    """
    if skip and hasattr(loader, "load_state_dict") and hasattr(loader, "state_dict"):
        loader.load_state_dict({**loader.state_dict(), "batches": skip})
        return iter(loader)
    return itertools.islice(iter(loader), skip, None)


def _balanced(y: Tensor, cfg: TrainConfig, info: DistInfo) -> BalancedSampler:
    return BalancedSampler(y, seed=cfg.seed, rank=info.rank, world_size=info.world_size)


def num_rows(data: Any) -> int:
    """Rows of in-memory data or a sized Dataset."""
    tensors = as_tensors(data)
    return len(tensors[0]) if tensors is not None else len(_dataset(data))  # type: ignore[arg-type]


def eval_loader(
    data: Any, batch_size: int, info: DistInfo, device: torch.device, workers: int
) -> tuple[Iterable[Any], int, Gather]:
    """Batches of this rank's shard, the total row count, and how the ranks' rows go back in order.

    In-memory data and Datasets are sharded rank-strided (rows ``rank, rank+W, ...``, gathered by
    :func:`~logitlab.train.distributed.gather_rows`); a streaming table in contiguous blocks, read in
    this process (:func:`~logitlab.train.distributed.gather_blocks`).
    """
    tensors = as_tensors(data)
    if tensors is not None:
        x, y = tensors
        rows = slice(info.rank, None, info.world_size)
        x_shard, y_shard = x[rows], (y[rows] if y is not None else None)
        loader: Iterable[Any] = InMemoryLoader(
            place(x_shard, device),
            place(y_shard, device) if y_shard is not None else None,
            batch_size=batch_size,
            shuffle=False,
        )
        return loader, len(x), gather_rows
    dataset = _dataset(data)
    native = _native_sparse(dataset)
    if native is not None:
        rows, y = native
        positions = torch.arange(info.rank, len(y), info.world_size)
        sparse_shard = SparseLoader(
            rows.subset(positions.numpy()), y[positions], batch_size=batch_size, shuffle=False
        )
        return sparse_shard, len(y), gather_rows
    if isinstance(dataset, IterableDataset):
        table = _sharded(dataset)
        return (
            table.shard(info.rank, info.world_size, batch_size=batch_size, shuffle=False),
            table.num_rows,
            gather_blocks,
        )
    total = len(dataset)  # type: ignore[arg-type]
    shard = Subset(dataset, range(info.rank, total, info.world_size)) if info.enabled else dataset
    loader = DataLoader(shard, batch_size=batch_size, shuffle=False, num_workers=workers)
    return loader, total, gather_rows


def _native_sparse(dataset: Any) -> tuple[Any, Tensor] | None:
    """``(rows, targets)`` of a dataset of native sparse rows with targets (``PairDataset``); else None."""
    rows, y = getattr(dataset, "x", None), getattr(dataset, "targets", None)
    if getattr(rows, "native", False) and isinstance(y, Tensor):
        return rows, y
    return None


def split_batch(batch: Any) -> tuple[Tensor, Any]:
    """``(x, y)`` of a loader's batch (``y`` is ``None`` for inputs only)."""
    if isinstance(batch, tuple | list):
        return batch[0], (batch[1] if len(batch) > 1 else None)
    return batch, None
