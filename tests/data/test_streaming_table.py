"""StreamingTable: every row exactly once per epoch over ranks x workers, equal batches per rank, seeded order, resume.

The reference is the files themselves: each row stores its own global id in column ``id``, so a row
yielded under id ``i`` must carry ``x == i``, and the union over ranks and workers must be
``0 .. N-1`` exactly once.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from logitlab.data.streaming import HashSplit, Manifest, StreamingTable
from logitlab.errors import ConfigError, DataError

# (rows, row group size) per file: uneven files and uneven row groups (the last of each is short)
LAYOUT = [(1000, 300), (537, 100), (2001, 777), (5, 5)]
N = sum(n for n, _ in LAYOUT)


def write_files(root: Path, *, csv: bool = False) -> Path:
    start = 0
    for i, (n, group) in enumerate(LAYOUT):
        ids = np.arange(start, start + n)
        table = pa.table({"id": ids, "v": np.sin(ids).astype(np.float64)})
        if csv:
            pacsv.write_csv(table, root / f"part-{i}.csv")
        else:
            pq.write_table(table, root / f"part-{i}.parquet", row_group_size=group)
        start += n
    return root


@pytest.fixture(scope="module")
def parquet_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_files(tmp_path_factory.mktemp("parquet"))


def epoch_ids(table: StreamingTable, world: int, workers: int, epoch: int = 0) -> list[list[np.ndarray]]:
    """Per rank, the id arrays of its batches in order (ranks simulated by constructing each shard)."""
    out = []
    for rank in range(world):
        loader = table.shard(rank, world).loader(num_workers=workers)
        loader.set_epoch(epoch)
        batches = []
        for x, ids in loader:
            np.testing.assert_array_equal(
                x[:, 0].numpy(), ids.numpy().astype(np.float32)
            )  # row carries its id
            batches.append(ids.numpy())
        out.append(batches)
    return out


def test_manifest_lists_every_row_group_with_global_ids(parquet_dir: Path) -> None:
    m = Manifest.scan(parquet_dir)
    expected = [min(g, n - s) for n, g in LAYOUT for s in range(0, n, g)]
    assert [u.rows for u in m.units] == expected
    assert m.rows == N and [u.start for u in m.units] == list(np.cumsum([0, *expected[:-1]]))


def test_two_ranks_two_workers_see_every_row_once(parquet_dir: Path) -> None:
    table = StreamingTable(
        parquet_dir, batch_size=64, columns=["id"], shuffle_buffer=500, seed=3, return_ids=True
    )
    per_rank = epoch_ids(table, world=2, workers=2)
    assert [len(b) for b in per_rank] == [len(table.shard(0, 2)), len(table.shard(1, 2))]
    assert len(per_rank[0]) == len(per_rank[1])  # the same number of steps: no rank waits
    seen = np.concatenate([np.concatenate(b) for b in per_rank])
    assert len(seen) == N and np.array_equal(np.sort(seen), np.arange(N))  # no duplicate, no loss
    sizes = [len(ids) for b in per_rank for ids in b]
    assert max(sizes) <= 64 + 1 and min(sizes) >= 1  # the rule: the last batch holds 1 .. b+1 rows


@pytest.mark.parametrize("world", [1, 3])
def test_other_world_sizes_and_no_workers_partition_the_rows(parquet_dir: Path, world: int) -> None:
    table = StreamingTable(parquet_dir, batch_size=50, columns=["id"], return_ids=True)
    per_rank = epoch_ids(table, world=world, workers=0)
    assert len({len(b) for b in per_rank}) == 1
    seen = np.concatenate([np.concatenate(b) for b in per_rank])
    assert np.array_equal(np.sort(seen), np.arange(N))


def test_seed_and_epoch_decide_the_order(parquet_dir: Path) -> None:
    table = StreamingTable(parquet_dir, batch_size=64, columns=["id"], shuffle_buffer=300, return_ids=True)

    def order(seed: int, epoch: int) -> np.ndarray:
        return np.concatenate(epoch_ids(table.shard(0, 1, seed=seed), world=1, workers=0, epoch=epoch)[0])

    first = order(0, 0)
    assert np.array_equal(first, order(0, 0))  # seeded: the same run twice
    assert not np.array_equal(first, order(1, 0))  # another seed: another order
    assert not np.array_equal(first, order(0, 1))  # another epoch: another order
    assert np.array_equal(np.sort(order(1, 0)), np.arange(N))
    unshuffled = np.concatenate(epoch_ids(table.shard(0, 1, shuffle=False), world=1, workers=0)[0])
    assert np.array_equal(unshuffled, np.arange(N))  # no shuffle: file order


def test_hash_splits_partition_the_rows_on_every_rank(parquet_dir: Path) -> None:
    splitter = HashSplit(val_size=0.2, test_size=0.1, seed=5)
    seen = []
    for split in ("train", "val", "test"):
        table = StreamingTable(
            parquet_dir, batch_size=32, columns=["id"], split=split, splitter=splitter, return_ids=True
        )
        ids = np.concatenate([np.concatenate(b) for b in epoch_ids(table, world=2, workers=0)])
        expected = np.flatnonzero(splitter.assign(np.arange(N)) == ("train", "val", "test").index(split))
        assert np.array_equal(np.sort(ids), expected)
        seen.append(ids)
    assert np.array_equal(np.sort(np.concatenate(seen)), np.arange(N))


def test_mid_epoch_state_resumes_the_same_batches(parquet_dir: Path) -> None:
    table = StreamingTable(
        parquet_dir, batch_size=40, columns=["id"], shuffle_buffer=200, seed=1, return_ids=True
    )
    shard = table.shard(1, 2)
    loader = shard.loader(num_workers=2)
    loader.set_epoch(2)
    uninterrupted = [ids.numpy() for _, ids in loader]
    loader.set_epoch(2)
    it = iter(loader)
    head = [next(it)[1].numpy() for _ in range(7)]
    state = loader.state_dict()
    assert state == {"epoch": 2, "batches": 7}
    fresh = table.shard(1, 2).loader(num_workers=2)  # a new process after a crash
    fresh.load_state_dict(state)
    rest = [ids.numpy() for _, ids in fresh]
    assert len(head) + len(rest) == len(uninterrupted)
    for a, b in zip(head + rest, uninterrupted):
        np.testing.assert_array_equal(a, b)


def test_csv_files_stream_by_block(tmp_path: Path) -> None:
    write_files(tmp_path, csv=True)
    m = Manifest.scan(tmp_path, block_size=4096)
    assert m.kind == "csv" and len(m.units) > len(LAYOUT) and m.rows == N
    table = StreamingTable(m, batch_size=64, columns=["id"], shuffle_buffer=256, return_ids=True)
    seen = np.concatenate([np.concatenate(b) for b in epoch_ids(table, world=2, workers=2)])
    assert np.array_equal(np.sort(seen), np.arange(N))


def test_bad_arguments_and_files_are_named(parquet_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="batch_size"):
        StreamingTable(parquet_dir, batch_size=0)
    with pytest.raises(ConfigError, match="rank"):
        StreamingTable(parquet_dir, rank=2, world_size=2)
    with pytest.raises(DataError, match="No table files match"):
        StreamingTable(str(tmp_path / "nothing-*.parquet"))
    with pytest.raises(DataError, match="cannot give each of 9000 processes"):
        StreamingTable(parquet_dir, world_size=9000)
    pq.write_table(pa.table({"id": [1], "other": [2.0]}), tmp_path / "odd.parquet")
    pq.write_table(pa.table({"id": [1], "v": [2.0]}), tmp_path / "a.parquet")
    with pytest.raises(DataError, match="odd.parquet has other columns"):
        Manifest.scan(tmp_path)


def test_prefetched_keeps_the_order_raises_where_the_item_was_and_stops_when_closed():
    import threading

    from logitlab.data.streaming.schedule import prefetched

    assert list(prefetched(iter(range(50)), 2)) == list(range(50))
    assert list(prefetched(iter(range(5)), 0)) == list(range(5))

    def failing():
        yield 1
        yield 2
        raise DataError("bad row group", fix="f", code="unreadable-table")

    got = []
    with pytest.raises(DataError, match="bad row group"):
        for item in prefetched(failing(), 3):
            got.append(item)
    assert got == [1, 2]
    made = []

    def endless():
        i = 0
        while True:
            made.append(i)
            yield i
            i += 1

    stream = prefetched(endless(), 2)
    assert [next(stream) for _ in range(3)] == [0, 1, 2]
    stream.close()
    assert not any(t.name == "logitlab-prefetch" for t in threading.enumerate())
    assert len(made) <= 3 + 2 + 1  # read ahead by at most the queue depth (and the item in hand)
