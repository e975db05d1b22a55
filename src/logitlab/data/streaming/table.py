"""``StreamingTable``: an ``IterableDataset`` of batches read from Parquet/CSV files, never a whole file.

Each epoch every row of the table (or of one hash split of it) is yielded exactly once over all
ranks and DataLoader workers; the order is a seeded permutation of the row groups, mixed by a
bounded shuffle buffer; and every rank yields the same number of batches (see
:mod:`~logitlab.data.streaming.schedule` for the rule). Iteration can resume mid-epoch:
``load_state_dict({"epoch": e, "batches": k})`` makes the next pass skip its first ``k`` batches
(re-reading, without yielding, the rows they held), so the rest is what an uninterrupted pass yields.

Examples:
    >>> import tempfile, pyarrow as pa, pyarrow.parquet as pq
    >>> d = tempfile.mkdtemp()
    >>> pq.write_table(pa.table({"x": [float(i) for i in range(10)]}), f"{d}/a.parquet", row_group_size=3)
    >>> table = StreamingTable(f"{d}/a.parquet", batch_size=4, shuffle=False, return_ids=True)
    >>> len(table), [ids.tolist() for x, ids in table]
    (3, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
    >>> rank1 = table.shard(1, 2, batch_size=2)
    >>> [ids.tolist() for x, ids in rank1]
    [[5, 6], [7, 8], [9]]
"""

from __future__ import annotations

import copy
import functools
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from ...errors import ConfigError, LogitlabError
from .hashing import SPLIT_NAMES, HashSplit, key_hash
from .manifest import Manifest, Unit
from .schedule import ShuffleBuffer, batches_per_rank, prefetched, rank_range, rank_sizes, worker_plan

PREFETCH = 2
"""Pieces (record batches, transformed) read ahead of the shuffle buffer by a background thread."""

__all__ = ["StreamLoader", "StreamingTable", "count_split_rows", "float_columns"]

Transform = Callable[..., Any]  # (record batch[, row namer]) -> array or tuple of arrays


def float_columns(batch: pa.RecordBatch) -> np.ndarray:
    """The default transform: every column as float32, ``[n, columns]`` (nulls become NaN)."""
    cols = [pc.cast(c, pa.float64()).to_numpy(zero_copy_only=False) for c in batch.columns]
    return np.column_stack(cols).astype(np.float32) if cols else np.zeros((batch.num_rows, 0), np.float32)


def count_split_rows(manifest: Manifest, splitter: HashSplit) -> np.ndarray:
    """Rows of each split in each unit, ``int64 [units, 3]`` (by row index: no data is read)."""
    counts = np.zeros((len(manifest.units), len(SPLIT_NAMES)), dtype=np.int64)
    reader = manifest.reader() if splitter.key is not None else None
    for i, u in enumerate(manifest.units):
        if reader is None:
            codes = splitter.assign(np.arange(u.start, u.start + u.rows))
        else:
            assert splitter.key is not None
            keys = [b.column(0).to_numpy(zero_copy_only=False) for _, b in reader.read(u, [splitter.key])]
            codes = splitter.codes(key_hash(np.concatenate(keys), splitter.key, splitter.seed))
        counts[i] = np.bincount(codes, minlength=len(SPLIT_NAMES))
    return counts


class StreamingTable(IterableDataset):
    """Batches of a table in Parquet or CSV files, sharded over ranks and workers, shuffled in a buffer.

    Args:
        source (str, Path, list or Manifest): a file, a glob (``"data/*.parquet"``), a folder, a list
            of files, or a scanned :class:`Manifest`.
        batch_size (int): rows per batch on this rank (the trainer passes its global batch / world size).
            Default: ``1024``.
        transform (callable, optional): ``pa.RecordBatch -> array`` or a tuple of arrays (e.g.
            ``(x, y)``), aligned by row; its ``columns`` attribute, when it has one, says what to read.
            Default: every column as float32 (:func:`float_columns`).
        columns (list[str], optional): the columns to read. Default: ``transform.columns``, else all.
        split (str, optional): ``"train"``, ``"val"`` or ``"test"``: only that split's rows, by ``splitter``.
        splitter (HashSplit, optional): the hash split (needed with ``split``). Default: ``HashSplit()``.
        unit_counts (ndarray[units, 3], optional): rows per split per unit, from a statistics pass.
        shuffle (bool): permute the row groups each epoch and draw batches from the buffer. Default: ``True``.
        shuffle_buffer (int): rows held by the shuffle buffer. Default: ``131072``.
        seed (int): seeds the order of epoch ``e`` (with ``e``, the rank and the worker). Default: ``0``.
        rank (int, optional): this process. Default: ``RANK`` from torchrun, else 0.
        world_size (int, optional): the processes. Default: ``WORLD_SIZE`` from torchrun, else 1.
        return_ids (bool): append each row's global id (``int64``) to every batch. Default: ``False``.

    Items are torch tensors: ``x``, or ``(x, y)`` (what ``transform`` returns), ``(…, ids)`` with ``return_ids``.
    """

    def __init__(
        self,
        source: str | Path | Sequence[str | Path] | Manifest,
        *,
        batch_size: int = 1024,
        transform: Transform | None = None,
        columns: Sequence[str] | None = None,
        split: str | None = None,
        splitter: HashSplit | None = None,
        unit_counts: np.ndarray | None = None,
        shuffle: bool = True,
        shuffle_buffer: int = 1 << 17,
        seed: int = 0,
        rank: int | None = None,
        world_size: int | None = None,
        return_ids: bool = False,
    ) -> None:
        self.manifest = source if isinstance(source, Manifest) else Manifest.scan(source)
        self.transform: Transform = transform if transform is not None else float_columns
        wanted = columns if columns is not None else getattr(transform, "columns", None)
        self.columns = list(wanted) if wanted is not None else self.manifest.columns
        if split is not None and split not in SPLIT_NAMES:
            raise ConfigError(
                f"Expected argument `split` to be one of {SPLIT_NAMES} or None; got {split!r}.",
                fix="use split='train'.",
                code="bad-split",
            )
        self.split, self.splitter = split, splitter or HashSplit()
        if split is None:
            self.unit_rows = np.array([u.rows for u in self.manifest.units], dtype=np.int64)
        else:
            counts = (
                unit_counts if unit_counts is not None else count_split_rows(self.manifest, self.splitter)
            )
            self.unit_rows = np.asarray(counts, dtype=np.int64)[:, SPLIT_NAMES.index(split)]
        self.shuffle, self.shuffle_buffer, self.seed, self.return_ids = (
            shuffle,
            shuffle_buffer,
            seed,
            return_ids,
        )
        self.rank = int(os.environ.get("RANK", "0")) if rank is None else rank
        self.world_size = int(os.environ.get("WORLD_SIZE", "1")) if world_size is None else world_size
        self.batch_size = batch_size
        self._check()
        self.epoch, self._skip, self._yielded = 0, 0, 0

    def _check(self) -> None:
        for name, value, low in (
            ("batch_size", self.batch_size, 1),
            ("shuffle_buffer", self.shuffle_buffer, 0),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(
                    f"Expected argument `{name}` to be an int >= {low}; got {value!r}.",
                    fix=f"use {name}=1024.",
                    code=f"bad-{name}",
                )
        if not 0 <= self.rank < self.world_size:
            raise ConfigError(
                f"Expected 0 <= rank < world_size; got rank={self.rank}, world_size={self.world_size}.",
                fix="take them from torchrun (RANK, WORLD_SIZE) or leave the defaults.",
                code="bad-rank",
            )
        batches_per_rank(self.num_rows, world_size=self.world_size, batch_size=self.batch_size)

    # ---- sizes ---------------------------------------------------------------------------------
    @property
    def num_rows(self) -> int:
        """Rows of an epoch over all ranks (the split's rows)."""
        return int(self.unit_rows.sum())

    def __len__(self) -> int:
        """Batches this rank yields per epoch (the same on every rank)."""
        return batches_per_rank(self.num_rows, world_size=self.world_size, batch_size=self.batch_size)

    # ---- configuration -------------------------------------------------------------------------
    def shard(
        self,
        rank: int,
        world_size: int,
        *,
        batch_size: int | None = None,
        shuffle: bool | None = None,
        seed: int | None = None,
    ) -> StreamingTable:
        """A copy for rank ``rank`` of ``world_size`` (and, when given, another batch size, shuffle or seed)."""
        out = copy.copy(self)
        out.rank, out.world_size = rank, world_size
        out.batch_size = self.batch_size if batch_size is None else batch_size
        out.shuffle = self.shuffle if shuffle is None else shuffle
        out.seed = self.seed if seed is None else seed
        out._check()
        return out

    def set_epoch(self, epoch: int) -> None:
        """Use epoch ``epoch``'s order next (call before each epoch, as with ``DistributedSampler``)."""
        self.epoch, self._skip, self._yielded = epoch, 0, 0

    def state_dict(self) -> dict[str, int]:
        """Where an in-process pass stands: ``{"epoch", "batches"}`` (batches yielded so far this epoch).

        With DataLoader workers the count lives in the loader: use :class:`StreamLoader`'s ``state_dict``.
        """
        return {"epoch": self.epoch, "batches": self._yielded}

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Resume at ``state``: the next pass is epoch ``state["epoch"]`` without its first ``state["batches"]``."""
        self.epoch, self._skip, self._yielded = (
            int(state["epoch"]),
            int(state["batches"]),
            int(state["batches"]),
        )

    def loader(self, *, num_workers: int = 0, pin_memory: bool = False) -> StreamLoader:
        """A loader of this table's batches with ``num_workers`` reader processes (a :class:`StreamLoader`)."""
        return StreamLoader(self, num_workers=num_workers, pin_memory=pin_memory)

    # ---- iteration -----------------------------------------------------------------------------
    def epoch_order(self, epoch: int) -> np.ndarray:
        """The units of epoch ``epoch`` in reading order (the same on every rank and worker)."""
        n = len(self.manifest.units)
        if not self.shuffle:
            return np.arange(n)
        rng = np.random.default_rng([self.seed, epoch])
        if self.manifest.kind == "parquet":
            return rng.permutation(n)
        files = np.array([u.file for u in self.manifest.units])  # CSV: files shuffled, blocks in order
        return np.concatenate([np.flatnonzero(files == f) for f in rng.permutation(files.max() + 1)])

    def __iter__(self) -> Iterator[Any]:
        if get_worker_info() is None:
            return self._batches()
        return self._in_worker()

    def _in_worker(self) -> Iterator[Any]:
        """A worker's batches; a logitlab error travels whole to the main process (code and fix kept)."""
        try:
            yield from self._batches()
        except LogitlabError as exc:
            yield _Failure(exc)

    def _batches(self) -> Iterator[Any]:
        info = get_worker_info()
        workers, worker = (info.num_workers, info.id) if info is not None else (1, 0)
        order = self.epoch_order(self.epoch)
        cum = np.concatenate([[0], np.cumsum(self.unit_rows[order])])
        lo, _ = rank_range(self.num_rows, world_size=self.world_size, rank=self.rank)
        sizes = rank_sizes(
            self.num_rows, world_size=self.world_size, rank=self.rank, batch_size=self.batch_size
        )
        # the DataLoader takes batches from worker 0 first: on a resume after `skip` batches worker w
        # plays the part of worker (w + skip) % K of the uninterrupted pass, whose next batch is next
        role = (worker + self._skip) % workers
        offset, mine = worker_plan(sizes, num_workers=workers, worker=role)
        skip = len(range(role, self._skip, workers))
        self._skip = 0  # a resume position applies to one pass
        rng = np.random.default_rng([self.seed, self.epoch, self.rank, role])
        capacity = max(self.shuffle_buffer, self.batch_size + 1) if self.shuffle else 0
        buffer = ShuffleBuffer(capacity, rng)
        # the next pieces are read and transformed in a thread while the current batch trains
        pieces = prefetched(self._pieces(order, cum, lo + offset, lo + offset + sum(mine)), PREFETCH)
        j = 0
        for parts in pieces:
            buffer.add(parts)
            while j < len(mine) and buffer.ready(mine[j]):
                out = buffer.take(mine[j])
                j += 1
                if j > skip:
                    yield self._item(out, info is None)
        while j < len(mine):
            out = buffer.take(mine[j])
            j += 1
            if j > skip:
                yield self._item(out, info is None)

    def _item(self, parts: tuple[np.ndarray, ...], count: bool) -> Any:
        if count:
            self._yielded += 1
        tensors = [torch.from_numpy(p) for p in parts]
        return tensors[0] if len(tensors) == 1 else tuple(tensors)

    def _pieces(
        self, order: np.ndarray, cum: np.ndarray, lo: int, hi: int
    ) -> Iterator[tuple[np.ndarray, ...]]:
        """Transformed rows ``[lo, hi)`` of the epoch's row sequence: tuples ``transform(batch)`` (``+ (ids,)``)."""
        if hi <= lo:
            return
        reader = self.manifest.reader()
        i = int(np.searchsorted(cum, lo, side="right")) - 1
        while i < len(order) and cum[i] < hi:
            a, b = max(lo, int(cum[i])) - int(cum[i]), min(hi, int(cum[i + 1])) - int(cum[i])
            if b > a:
                yield from self._read_unit(reader, self.manifest.units[order[i]], a, b)
            i += 1

    def _read_unit(self, reader: Any, unit: Unit, a: int, b: int) -> Iterator[tuple[np.ndarray, ...]]:
        """Rows ``a .. b-1`` of ``unit``'s rows of this split, transformed, with their global ids."""
        key = self.splitter.key if self.split is not None else None
        columns = [*self.columns, *([key] if key is not None and key not in self.columns else [])]
        seen = 0
        for start, batch in reader.read(unit, columns):
            ids = np.arange(start, start + batch.num_rows, dtype=np.int64)
            if self.split is None:
                rows = np.arange(batch.num_rows)
            else:
                if key is None:
                    codes = self.splitter.assign(ids)
                else:
                    values = batch.column(key).to_numpy(zero_copy_only=False)
                    codes = self.splitter.codes(key_hash(values, key, self.splitter.seed))
                rows = np.flatnonzero(codes == SPLIT_NAMES.index(self.split))
            keep = rows[max(0, a - seen) : max(0, b - seen)]
            seen += len(rows)
            if len(keep):
                part = batch.select(self.columns)
                part = (
                    part.slice(int(keep[0]), len(keep))
                    if keep[-1] - keep[0] == len(keep) - 1
                    else part.take(keep)
                )
                if getattr(self.transform, "named_rows", False):
                    out = self.transform(part, functools.partial(self.manifest.row_namer, unit, ids[keep]))
                else:
                    out = self.transform(part)
                parts = out if isinstance(out, tuple) else (out,)
                yield (*parts, ids[keep]) if self.return_ids else parts
            if seen >= b:
                return


class StreamLoader:
    """Batches of a :class:`StreamingTable` through a ``DataLoader`` with workers, counting its position.

    ``state_dict()`` says where the current epoch stands (``{"epoch", "batches"}``);
    ``load_state_dict(state)`` makes the next pass resume there. ``set_epoch`` picks the epoch's order.
    The loader's own generator seeds the workers, so iterating never draws from torch's global RNG.
    """

    def __init__(self, table: StreamingTable, *, num_workers: int = 0, pin_memory: bool = False) -> None:
        self.table, self.num_workers, self.pin_memory = table, num_workers, pin_memory
        self._done = 0

    def __len__(self) -> int:
        return len(self.table)

    def set_epoch(self, epoch: int) -> None:
        """Use epoch ``epoch``'s order next, from its start."""
        self.table.set_epoch(epoch)
        self._done = 0

    def state_dict(self) -> dict[str, int]:
        """``{"epoch", "batches"}``: the epoch and how many of its batches this loader has yielded."""
        return {"epoch": self.table.epoch, "batches": self._done}

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Resume at ``state`` on the next pass."""
        self.table.load_state_dict(state)
        self._done = int(state["batches"])

    def __iter__(self) -> Iterator[Any]:
        table = copy.copy(self.table)  # this pass's epoch and resume position
        self.table._skip = 0
        if self.num_workers == 0:
            items: Any = iter(table)
        else:
            items = DataLoader(
                table,
                batch_size=None,
                num_workers=self.num_workers,
                pin_memory=self.pin_memory,
                generator=torch.Generator().manual_seed(table.seed + table.epoch),
            )
        for item in items:
            if isinstance(item, _Failure):
                raise item.error
            self._done += 1
            yield item


class _Failure:
    """A worker's error, sent as an item (a DataLoader would re-raise it without its code and fix)."""

    def __init__(self, error: LogitlabError) -> None:
        self.error = error
