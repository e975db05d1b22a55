"""Who reads which rows of an epoch, in batches of which sizes, and the bounded shuffle buffer.

**The sharding rule.** An epoch's rows (of one split) are the units in the epoch's order (a seeded
permutation of the row groups, the same on every rank), concatenated: ``N`` rows. Rank ``r`` of
``W`` takes the contiguous rows ``[r*N//W, (r+1)*N//W)``, so ranks differ by at most one row, and
reads only the units that overlap them (at most two of them shared with a neighbour). Every rank
cuts its rows into the *same* number of batches, ``S = max(1, ceil((N//W) / b))`` for the per-rank
batch ``b``: ``S - 1`` batches of ``b`` rows, then one of the rest, which holds between 1 and
``b + 1`` rows. So no row is dropped, none is repeated, and no rank waits for another at the last
step. The ``K`` DataLoader workers of a rank split its batches round-robin (worker ``k`` makes rank
batches ``k, k+K, ...``, which is the order in which the DataLoader hands them out) and read
contiguous sub-ranges of the rank's rows sized to those batches.

**The shuffle buffer** holds up to ``capacity`` rows; once full, each batch is drawn from it at
random without replacement (its places refilled from the stream), and the last rows are drained at
random. Memory is bounded by the buffer plus one record batch, whatever the file sizes.

Examples:
    >>> rank_range(10, world_size=3, rank=2), rank_sizes(10, world_size=3, rank=2, batch_size=2)
    ((6, 10), [2, 2])
    >>> worker_plan([2, 2, 2, 1], num_workers=2, worker=1)
    (4, [2, 1])
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from queue import Empty, Full, Queue
from typing import Any

import numpy as np

from ...errors import DataError

__all__ = ["ShuffleBuffer", "batches_per_rank", "prefetched", "rank_range", "rank_sizes", "worker_plan"]


def rank_range(n: int, *, world_size: int, rank: int) -> tuple[int, int]:
    """Rank ``rank``'s rows ``[lo, hi)`` of the epoch's ``n`` rows."""
    return rank * n // world_size, (rank + 1) * n // world_size


def batches_per_rank(n: int, *, world_size: int, batch_size: int) -> int:
    """``S``: the batches every rank makes of an epoch of ``n`` rows (0 for an empty split).

    Raises:
        DataError: fewer rows than ranks, but some (a rank would have nothing to train on).
    """
    if n == 0:
        return 0
    if n < world_size:
        raise DataError(
            f"A streaming split of {n} rows cannot give each of {world_size} processes a row.",
            fix="use fewer processes, or more data (a larger split).",
            code="too-few-rows",
        )
    return max(1, -(-(n // world_size) // batch_size))


def rank_sizes(n: int, *, world_size: int, rank: int, batch_size: int) -> list[int]:
    """The sizes of rank ``rank``'s batches: ``S - 1`` of ``batch_size``, then the rest (1 to ``batch_size + 1``)."""
    s = batches_per_rank(n, world_size=world_size, batch_size=batch_size)
    if s == 0:
        return []
    lo, hi = rank_range(n, world_size=world_size, rank=rank)
    return [batch_size] * (s - 1) + [hi - lo - batch_size * (s - 1)]


def worker_plan(sizes: list[int], *, num_workers: int, worker: int) -> tuple[int, list[int]]:
    """Worker ``worker``'s first row (offset in the rank's rows) and its batch sizes (rank batches ``worker::K``)."""
    offset = sum(sum(sizes[w::num_workers]) for w in range(worker))
    return offset, sizes[worker::num_workers]


class ShuffleBuffer:
    """Rows of a few aligned arrays (features, targets, row ids) waiting to be batched.

    Args:
        capacity (int): rows held before batches are drawn at random; ``0`` keeps the stream's order.
        rng (numpy Generator): the draws (seeded per epoch, rank and worker).
    """

    def __init__(self, capacity: int, rng: np.random.Generator) -> None:
        self.capacity, self.rng = capacity, rng
        self.store: list[np.ndarray] = []
        self.head = self.n = 0  # rows [head, head + n) of each store array are held

    def add(self, parts: tuple[np.ndarray, ...]) -> None:
        """Append rows (every part has the same length)."""
        m = len(parts[0])
        if not self.store:
            size = max(self.capacity, 1) + 2 * m
            self.store = [np.empty((size, *p.shape[1:]), dtype=p.dtype) for p in parts]
        if self.head + self.n + m > len(self.store[0]):  # compact, and grow if still short
            size = max(len(self.store[0]), 2 * (self.n + m))
            live = slice(self.head, self.head + self.n)
            fresh = [np.empty((size, *a.shape[1:]), dtype=a.dtype) for a in self.store]
            for new, old in zip(fresh, self.store):
                new[: self.n] = old[live]
            self.store, self.head = fresh, 0
        end = self.head + self.n
        for a, p in zip(self.store, parts):
            a[end : end + m] = p
        self.n += m

    def ready(self, size: int) -> bool:
        """A batch of ``size`` can be drawn now (the buffer is full, or in stream order: enough rows)."""
        return self.n >= max(self.capacity, size)

    def take(self, size: int) -> tuple[np.ndarray, ...]:
        """Remove and return ``size`` rows: at random when shuffling, else the oldest.

        Raises:
            DataError: fewer rows than ``size`` are held (the files changed since they were scanned).
        """
        if size > self.n:
            raise DataError(
                f"The stream ended {size - self.n} rows short of its scanned row count.",
                fix="the table files changed since the table was scanned; scan (load) them again.",
                code="table-changed",
            )
        h, n = self.head, self.n
        if self.capacity == 0:
            out = tuple(a[h : h + size].copy() for a in self.store)
            self.head, self.n = h + size, n - size
            return out
        picked = np.sort(self.rng.choice(n, size=size, replace=False))  # in address order: a batch is a set
        out = tuple(a[h + picked] for a in self.store)
        holes = picked[picked < n - size]  # refill the picked places below the tail with the tail's rows
        in_tail = np.zeros(size, dtype=bool)
        in_tail[picked[picked >= n - size] - (n - size)] = True
        movers = np.flatnonzero(~in_tail) + (n - size)
        for a in self.store:
            a[h + holes] = a[h + movers]
        self.n = n - size
        return out


_DONE = object()


def prefetched(items: Iterator[Any], depth: int = 2) -> Iterator[Any]:
    """``items``, produced by a background thread up to ``depth`` ahead of the consumer.

    Reading and transforming the next pieces (Parquet/CSV decoding in pyarrow, the numpy preprocessing;
    both release the GIL) then overlaps the training step that consumes the current batch. The order is
    that of ``items``; an exception raised while producing is raised here, where the item would have
    come; closing this generator (the consumer stopped early) stops the thread at its next item.
    ``depth=0`` iterates ``items`` in the caller's thread.
    """
    if depth <= 0:
        yield from items
        return
    queue: Queue[Any] = Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        queue.put((True, item), timeout=0.1)
                        break
                    except Full:
                        continue
                if stop.is_set():
                    return
            queue.put((True, _DONE))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            queue.put((False, exc))

    thread = threading.Thread(target=produce, name="logitlab-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            ok, item = queue.get()
            if not ok:
                raise item
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # let a producer blocked on a full queue see the stop
            try:
                queue.get_nowait()
            except Empty:
                thread.join(timeout=0.05)
