"""Faults of a streaming run: kill -9 mid-epoch, a truncated file, a corrupted row group.

The reference of a resumed run is the uninterrupted run of the same configuration (rows recorded by
a forward hook from the id each row carries, and the weights); a damaged file must end the run with
a ``DataError`` naming the file and its row group, leaving the checkpoints already written loadable.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import torch
from torch import nn

from logitlab.data.streaming import Manifest, StreamingTable
from logitlab.errors import DataError
from logitlab.train import Callback, Trainer, load_checkpoint
from tests.train import _stream_script as s

ROOT = Path(__file__).resolve().parents[2]


def fit(
    data: Path, run_dir: Path, seen: list[list[int]], callbacks: list[Callback] | None = None, **kw: object
) -> nn.Module:
    net = s.model()
    s.record(net, None, seen)
    Trainer(net, nn.CrossEntropyLoss(), s.config(**kw), run_dir=run_dir, callbacks=callbacks or []).fit(
        s.table(data)
    )
    return net


@pytest.mark.slow
def test_kill_9_mid_epoch_then_resume_equals_uninterrupted(tmp_path: Path) -> None:
    data = s.write_data(tmp_path / "data")
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    }
    run_dir = tmp_path / "run"
    cmd = [sys.executable, s.__file__, "kill", str(run_dir), str(data), "40"]  # epoch 1, its 11th step
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        line = proc.stdout.readline() if proc.stdout is not None else ""
        assert line.strip() == "paused", proc.stderr.read() if proc.stderr is not None else ""
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the run and its DataLoader workers, at once
        proc.wait()
    meta = load_checkpoint(run_dir).meta
    assert meta["position"]["batches"] == 5 and meta["position"]["samples"] == 5 * 32
    done = meta["global_step"]  # 35: the mid-epoch checkpoint before the kill
    before = [list(map(int, line.split())) for line in (run_dir / "ids_rank0.txt").read_text().splitlines()]

    resumed: list[list[int]] = []
    net = fit(data, run_dir, resumed)
    reference: list[list[int]] = []
    ref = fit(data, tmp_path / "ref", reference)
    assert before[:done] + resumed == reference  # the same rows in the same order
    for name, value in ref.state_dict().items():
        assert torch.equal(net.state_dict()[name], value), name


def test_truncated_parquet_names_the_file(tmp_path: Path) -> None:
    data = s.write_data(tmp_path / "data")
    part = data / "part-1.parquet"
    part.write_bytes(part.read_bytes()[:-100])  # the footer (the row group list) is gone
    with pytest.raises(DataError, match=r"Cannot read the Parquet footer.*part-1\.parquet") as info:
        Manifest.scan(data)
    assert info.value.code == "unreadable-table" and info.value.fix


def corrupt_row_group(path: Path, group: int) -> None:
    chunk = pq.ParquetFile(path).metadata.row_group(group).column(1)  # f0's data in that row group
    blob = bytearray(path.read_bytes())
    first = chunk.dictionary_page_offset if chunk.has_dictionary_page else chunk.data_page_offset
    at = first + chunk.total_compressed_size - 8  # inside the chunk's last page
    blob[at : at + 4] = bytes(b ^ 0xFF for b in blob[at : at + 4])
    path.write_bytes(bytes(blob))


class CorruptAfterEpoch(Callback):
    def __init__(self, path: Path) -> None:
        self.path = path

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        if epoch == 0:
            corrupt_row_group(self.path, 1)


def test_corrupt_row_group_mid_run_names_file_and_group_and_keeps_checkpoints(tmp_path: Path) -> None:
    data = s.write_data(tmp_path / "data", checksums=True)
    table = StreamingTable(data, transform=s.IdFeatures(), batch_size=32)
    assert len(list(table)) == len(table)  # the files read cleanly before the damage
    run_dir = tmp_path / "run"
    with pytest.raises(DataError, match=r"part-2\.parquet \(row group 1\)") as info:
        fit(data, run_dir, [], [CorruptAfterEpoch(data / "part-2.parquet")], checkpoint_every_steps=0)
    assert info.value.code == "unreadable-table"  # raised in a DataLoader worker, code and fix kept
    ckpt = load_checkpoint(run_dir)  # what was written before the damage is intact
    assert ckpt.meta["epoch"] == 0 and ckpt.meta["position"] is None
    assert len((run_dir / "metrics.csv").read_text().splitlines()) == 2  # header + epoch 0


def test_a_file_gone_after_the_scan_names_the_file(tmp_path: Path) -> None:
    data = s.write_data(tmp_path / "data")
    table = StreamingTable(data, transform=s.IdFeatures(), batch_size=32)
    (data / "part-1.parquet").unlink()  # between the scan and the read (a file vanishing mid-run)
    with pytest.raises(
        DataError, match=r"Cannot read .*part-1\.parquet \(row group \d+\).*No such file"
    ) as info:
        list(table)
    assert info.value.code == "unreadable-table" and info.value.fix


@pytest.mark.parametrize("spec", ["folder", "glob"])
def test_a_table_file_linked_from_outside_the_folder_is_refused(tmp_path: Path, spec: str) -> None:
    """Nothing is read outside the folder (or the glob's folder) given, unless ``allow_outside_root``."""
    from logitlab.data import load_dataset

    outside = s.write_data(tmp_path / "outside")
    data = tmp_path / "data"
    data.mkdir()
    (data / "part-0.parquet").write_bytes((outside / "part-0.parquet").read_bytes())
    (data / "part-1.parquet").symlink_to(outside / "part-1.parquet")
    given = str(data) if spec == "folder" else str(data / "*.parquet")
    with pytest.raises(DataError, match=r"part-1\.parquet .*points outside") as info:
        Manifest.scan(given)
    assert info.value.code == "path-outside-root" and "allow_outside_root" in info.value.fix
    with pytest.raises(DataError, match="points outside"):
        load_dataset(given, streaming=True, target="y", drop=["id"])
    expected = sum(pq.ParquetFile(outside / f"part-{i}.parquet").metadata.num_rows for i in (0, 1))
    assert Manifest.scan(given, allow_outside_root=True).rows == expected
    (data / "part-1.parquet").unlink()
    (data / "sub").mkdir()
    (data / "sub" / "kept.pq").write_bytes((outside / "part-1.parquet").read_bytes())
    (data / "part-1.parquet").symlink_to(data / "sub" / "kept.pq")  # a link that stays inside is read
    assert Manifest.scan(given).rows >= expected


def test_a_glob_matching_a_folder_named_like_a_table_is_refused(tmp_path: Path) -> None:
    """``data/*.parquet`` matching ``data/more.parquet/`` (a Spark-style table folder): refused, not skipped."""
    data = s.write_data(tmp_path / "data")
    folder = data / "more.parquet"
    folder.mkdir()
    (folder / "part-0.parquet").write_bytes((data / "part-0.parquet").read_bytes())
    with pytest.raises(DataError, match=r"matches the folder .*more\.parquet") as info:
        Manifest.scan(str(data / "*.parquet"))
    assert info.value.code == "table-folder"
    suggested = info.value.fix.split("'")[1]
    assert Path(suggested) == folder / "*.parquet"
    assert Manifest.scan(suggested).rows == pq.ParquetFile(folder / "part-0.parquet").metadata.num_rows


def _drop_column(path: Path) -> None:
    pq.write_table(pq.read_table(path).drop_columns(["f1"]), path)


def _reorder(path: Path) -> None:
    table = pq.read_table(path)
    pq.write_table(table.select(list(reversed(table.column_names))), path)


BAD_FILES = {  # what happens to part-1.parquet, the error's code, and what the message says
    "column-missing": (_drop_column, "other columns than", None),
    "columns-reordered": (_reorder, "in another order", None),
    "zero-bytes": (lambda p: p.write_bytes(b""), "0 bytes", "unreadable-table"),
    "not-parquet": (
        lambda p: p.write_text("a,b\n1,2\n"),
        "Cannot read the Parquet footer",
        "unreadable-table",
    ),
    "csv-among-parquet": (lambda p: p.rename(p.with_suffix(".csv")), "one format", "mixed-table-files"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_file_among_good_ones_is_a_data_error_naming_it(tmp_path: Path, case: str) -> None:
    damage, says, code = BAD_FILES[case]
    data = s.write_data(tmp_path / "data")
    damage(data / "part-1.parquet")
    with pytest.raises(DataError, match=r"part-1\.(parquet|csv)") as info:
        Manifest.scan(str(data / "*"))
    assert says in str(info.value) and info.value.fix
    assert code is None or info.value.code == code
