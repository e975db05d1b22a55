"""Bounded memory: streaming two files costs less than reading one whole, and does not grow epoch to epoch.

A small version of ``benchmarks/streaming.py`` (which trains on 5 GB): two Parquet files of ~30 MB
(float64). The reference is the in-memory path, which grows by several times the file it reads
(pandas float64 + float32 tensors). Streamed, the process holds one record batch, a 16k-row shuffle
buffer, the statistics' samples and what its allocators keep, none of which depends on the data
size: the peak rise for both files must stay under half the in-memory rise for one, and nothing
accumulates: over four epochs, the RSS after the last is within a third of one file of the RSS after
the second. (The first epoch is not the reference: glibc's arenas and pyarrow's pool settle over the
first two, by up to 10 MiB on a busy machine; a leak of the rows read would add the 60 MB read each
epoch.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("_streaming_memory.py")
ROWS = 180_000  # x 21 float64 columns: about 30 MB a file


def rise(data: Path, mode: str) -> Any:
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    }
    cmd = [sys.executable, str(SCRIPT), str(data), mode]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.skipif(
    not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc for the RSS high-water mark"
)
def test_streaming_memory_is_bounded(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        x = rng.normal(size=(ROWS, 20))
        table = pa.table({**{f"f{j}": x[:, j] for j in range(20)}, "y": (x[:, 0] > 1.5).astype(np.float64)})
        pq.write_table(table, tmp_path / f"{name}.parquet", row_group_size=20_000)
    size = (tmp_path / "a.parquet").stat().st_size
    in_memory = rise(tmp_path, "memory")["rise"]
    streamed = rise(tmp_path, "streaming")
    peak, by_epoch = streamed["rise"], streamed["by_epoch"]
    mib = f"(MiB: file {size >> 20}, in-memory {in_memory >> 20}, streamed peak {peak >> 20}, by epoch {[r >> 20 for r in by_epoch]})"
    assert in_memory > 2 * size, mib  # the reference: reading the table whole costs more than the file
    assert peak < in_memory / 2, mib  # twice the data streamed, under half the memory
    assert len(by_epoch) == 4, mib
    assert by_epoch[3] - by_epoch[1] < size / 3, mib  # nothing accumulates from epoch to epoch
