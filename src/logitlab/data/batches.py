"""Batches: inference inputs one batch at a time, ``(x, y)`` pairs, and a class-balanced sampler for DDP.

:func:`iter_batches` yields the rows of a tensor or lazy dataset in batches of :func:`rows_per_batch`;
:class:`PairDataset` pairs a lazy ``x`` with its targets.

:class:`InMemoryLoader` batches ``(x, y)`` tensors by indexing with a seeded permutation (one gather
per batch, no per-item ``__getitem__`` or collate). Under DDP each global batch is split into equal
contiguous rank shares, so ``W`` processes take exactly the optimizer steps one process would.

:class:`BalancedSampler` draws class-balanced indices with replacement. Every rank makes the same
seeded *global* draw (``torch.multinomial`` with a generator seeded by ``seed + epoch``) and keeps
its share, so the union over ranks is exactly the single-process draw.

Examples:
    >>> import torch
    >>> x, y = torch.arange(10.0).unsqueeze(1), torch.arange(10)
    >>> loader = InMemoryLoader(x, y, batch_size=4, shuffle=False)
    >>> [b[1].tolist() for b in loader]
    [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    >>> rank1 = InMemoryLoader(x, y, batch_size=4, shuffle=False, rank=1, world_size=2)
    >>> [b[1].tolist() for b in rank1]
    [[2, 3], [6, 7], [9]]
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset, Sampler

from ..errors import ConfigError, DataError

__all__ = [
    "BalancedSampler",
    "InMemoryLoader",
    "PairDataset",
    "balanced_weights",
    "iter_batches",
    "rows_per_batch",
]


def balanced_weights(labels: Tensor) -> Tensor:
    """Per-sample weights that give every class the same expected share of a weighted draw.

    Args:
        labels (Tensor[N] or Tensor[N, 1] or Tensor[N, L]): class indices, 0/1 binary targets, or a
            multi-label 0/1 matrix. For multi-label rows the weight is that of the row's *rarest*
            positive label (rows with no label form their own group).

    Returns:
        Tensor[N] float64: ``1 / count(group of the sample)``.

    Examples:
        >>> balanced_weights(torch.tensor([0, 0, 0, 1])).tolist()
        [0.3333333333333333, 0.3333333333333333, 0.3333333333333333, 1.0]
    """
    y = labels.detach().cpu()
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim == 1:
        _, inverse, counts = torch.unique(y.round().long(), return_inverse=True, return_counts=True)
        return 1.0 / counts.double()[inverse]
    if y.ndim != 2:
        raise DataError(
            f"Expected labels [N], [N, 1] or [N, L] for balanced sampling; got shape {list(y.shape)}.",
            fix="pass the targets the loss takes (class indices or a 0/1 label matrix).",
            code="bad-balanced-labels",
        )
    positive = y > 0.5
    label_w = 1.0 / positive.sum(0).clamp_min(1).double()  # [L]
    row_w = torch.where(positive, label_w, torch.zeros_like(label_w)).amax(1)
    empty = ~positive.any(1)
    if empty.any():
        row_w[empty] = 1.0 / float(empty.sum())
    return row_w


class BalancedSampler(Sampler[int]):
    """Class-balanced sampling with replacement, identical in union over DDP ranks to one process.

    Args:
        labels (Tensor): targets as for :func:`balanced_weights`.
        num_samples (int, optional): draws per epoch. Default: ``len(labels)``.
        seed (int): the draw of epoch ``e`` uses a generator seeded with ``seed + e``. Default: ``0``.
        rank (int): this process. Default: ``0``.
        world_size (int): number of processes. Default: ``1``.

    Used as a ``DataLoader`` sampler, rank ``r`` yields ``draw[r::world_size]`` (like
    ``DistributedSampler``; the draw is padded by wrapping to a multiple of ``world_size``).
    :class:`InMemoryLoader` instead takes the whole :meth:`global_draw` and splits each global batch.

    Examples:
        >>> s0 = BalancedSampler(torch.tensor([0, 0, 0, 1]), seed=1, rank=0, world_size=2)
        >>> s1 = BalancedSampler(torch.tensor([0, 0, 0, 1]), seed=1, rank=1, world_size=2)
        >>> sorted(list(s0) + list(s1)) == sorted(s0.global_draw(0).tolist())
        True
    """

    def __init__(
        self,
        labels: Tensor,
        *,
        num_samples: int | None = None,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        self.weights = balanced_weights(labels)
        self.num_samples = len(self.weights) if num_samples is None else int(num_samples)
        if self.num_samples < 1:
            raise ConfigError(
                f"Expected `num_samples` >= 1; got {num_samples}.", fix="leave num_samples=None."
            )
        _check_rank(rank, world_size)
        self.seed, self.rank, self.world_size, self.epoch = seed, rank, world_size, 0

    def set_epoch(self, epoch: int) -> None:
        """Use the draw of ``epoch`` next (call once per epoch, as with ``DistributedSampler``)."""
        self.epoch = epoch

    def global_draw(self, epoch: int) -> Tensor:
        """The one draw every rank shares: ``num_samples`` indices (int64), seeded by ``seed + epoch``."""
        generator = torch.Generator().manual_seed(self.seed + epoch)
        return torch.multinomial(self.weights, self.num_samples, replacement=True, generator=generator)

    def __iter__(self) -> Iterator[int]:
        draw = self.global_draw(self.epoch)
        pad = -len(draw) % self.world_size
        if pad:
            draw = torch.cat([draw, draw[:pad]])
        return iter(draw[self.rank :: self.world_size].tolist())

    def __len__(self) -> int:
        return -(-self.num_samples // self.world_size)


class InMemoryLoader:
    """Batches of in-memory ``(x, y)`` tensors by permutation indexing; DDP-sharded by global batch.

    Args:
        x (Tensor[N, ...]): inputs.
        y (Tensor[N, ...], optional): targets (``None`` for prediction).
        batch_size (int): the *global* batch; each of ``world_size`` ranks takes ``batch_size // world_size``.
        shuffle (bool): a new permutation each epoch, seeded by ``seed + epoch``. Default: ``True``.
        seed (int): seed of the permutations. Default: ``0``.
        drop_last (bool): drop the last incomplete global batch. Default: ``False``.
        rank (int): this process. Default: ``0``.
        world_size (int): number of processes. Default: ``1``.
        sampler (BalancedSampler, optional): take the order from ``sampler.global_draw(epoch)``.

    Under DDP an incomplete last global batch of ``m`` rows is padded by wrapping (as
    ``DistributedSampler`` pads) to ``ceil(m / world_size)`` rows per rank, so every rank takes the
    same number of steps; use ``drop_last=True`` or ``N`` divisible by ``batch_size`` for exact
    single-process equivalence.
    """

    def __init__(
        self,
        x: Tensor,
        y: Tensor | None = None,
        *,
        batch_size: int,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
        rank: int = 0,
        world_size: int = 1,
        sampler: BalancedSampler | None = None,
    ) -> None:
        if y is not None and len(y) != len(x):
            raise DataError(
                f"Expected as many targets as inputs; got {len(x)} inputs and {len(y)} targets.",
                fix="pass x and y from the same split.",
                code="length-mismatch",
            )
        _check_rank(rank, world_size)
        if batch_size < world_size or batch_size % world_size:
            raise ConfigError(
                f"Expected `batch_size` (the global batch) divisible by the world size {world_size}; got {batch_size}.",
                fix=f"use batch_size={max(world_size, batch_size // world_size * world_size)}.",
                code="bad-batch_size",
            )
        self.x, self.y = x, y
        self.batch_size, self.shuffle, self.seed, self.drop_last = batch_size, shuffle, seed, drop_last
        self.rank, self.world_size, self.sampler = rank, world_size, sampler
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Use the permutation (or balanced draw) of ``epoch`` next."""
        self.epoch = epoch

    @property
    def num_rows(self) -> int:
        """Rows drawn per epoch over all ranks (before padding)."""
        return self.sampler.num_samples if self.sampler is not None else len(self.x)

    def __len__(self) -> int:
        n = self.num_rows
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def order(self) -> Tensor:
        """The global order of this epoch: balanced draw, seeded permutation, or ``arange``."""
        if self.sampler is not None:
            return self.sampler.global_draw(self.epoch)
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed + self.epoch)
            return torch.randperm(len(self.x), generator=generator)
        return torch.arange(len(self.x))

    def batch_indices(self) -> Iterator[Tensor]:
        """This rank's row positions of each batch of the epoch, on ``x``'s device."""
        order = self.order().to(self.x.device)
        world, rank = self.world_size, self.rank
        per_rank = self.batch_size // world
        for b in range(len(self)):
            batch = order[b * self.batch_size : (b + 1) * self.batch_size]
            if world > 1:
                if len(batch) < self.batch_size:  # last batch: wrap-pad to equal rank shares
                    per_rank = -(-len(batch) // world)
                    batch = batch.repeat(-(-per_rank * world // len(batch)))[: per_rank * world]
                batch = batch[rank * per_rank : (rank + 1) * per_rank]
            yield batch

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor | None]]:
        x, y = self.x, self.y
        for batch in self.batch_indices():
            yield x[batch], (y[batch] if y is not None else None)


def _check_rank(rank: int, world_size: int) -> None:
    if world_size < 1 or not 0 <= rank < world_size:
        raise ConfigError(
            f"Expected 0 <= rank < world_size; got rank={rank}, world_size={world_size}.",
            fix="take them from torchrun (RANK, WORLD_SIZE) or leave the defaults.",
            code="bad-rank",
        )


class PairDataset(Dataset):
    """``(x[i], y[i])`` pairs of a lazy input dataset and a target tensor; items load one by one.

    Args:
        x (Dataset): inputs, item ``i`` a float32 tensor (e.g. an :class:`~logitlab.data.ImageDataset`).
        y (Tensor[N, ...]): the targets.

    Attributes:
        targets (Tensor[N, ...]): ``y``, for class-balanced sampling (``TrainConfig(balanced=True)``).
    """

    def __init__(self, x: Dataset, y: Tensor) -> None:
        self.x, self.targets = x, y

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        return self.x[i], self.targets[i]

    def __getitems__(self, indices: list[int]) -> list[tuple[Tensor, Tensor]]:
        """A batch of pairs; inputs with their own ``__getitems__`` (sparse rows) load the batch at once."""
        getitems = getattr(self.x, "__getitems__", None)
        xs = getitems(indices) if getitems is not None else [self.x[i] for i in indices]
        return list(zip(xs, self.targets[indices]))


def iter_batches(x: Tensor | Dataset, batch_size: int) -> Iterator[Tensor]:
    """Consecutive float32 batches ``[<=batch_size, ...]`` of a tensor (views) or of a lazy Dataset (loaded per batch).

    A Dataset with ``__getitems__`` (:class:`~logitlab.data.sparse.SparseRows`) loads each batch in one call.

    Raises:
        ConfigError: ``batch_size`` < 1.

    Examples:
        >>> [b.tolist() for b in iter_batches(torch.arange(5.0), 2)]
        [[0.0, 1.0], [2.0, 3.0], [4.0]]
    """
    if batch_size < 1:
        raise ConfigError(
            f"Expected `batch_size` >= 1; got {batch_size}.", fix="use batch_size=256.", code="bad-batch_size"
        )
    n = len(x)  # type: ignore[arg-type]
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        if isinstance(x, Tensor):
            yield x[start:stop].float()
            continue
        if getattr(x, "native", False):  # sparse rows for a sparse-native model: never densified
            yield x.torch_batch(np.arange(start, stop))  # type: ignore[attr-defined]
            continue
        getitems = getattr(x, "__getitems__", None)
        items = (
            getitems(list(range(start, stop))) if getitems is not None else [x[i] for i in range(start, stop)]
        )
        yield torch.stack(items).float()


def rows_per_batch(sample_shape: tuple[int, ...], *, budget_bytes: int = 64 << 20, most: int = 4096) -> int:
    """Rows of an inference batch: at most ``most``, and at most ``budget_bytes`` of float32 inputs.

    Examples:
        >>> rows_per_batch((30,)), rows_per_batch((200_000,)), rows_per_batch((3, 224, 224))
        (4096, 83, 111)
    """
    size = 4 * max(1, int(np.prod(sample_shape)))
    return max(1, min(most, budget_bytes // size))
