"""Streaming tables: peak memory of a training run on Parquet files far larger than memory, and throughput.

Data: ``--rows`` rows of 20 float64 features (about 160 bytes a row on disk) and a 0/1 target with
about 2% positives, in Parquet files of ``--file-rows`` rows with row groups of ``--group-rows``.
Model: MLP 20-64-64-1, BCE with the streaming ``pos_weight``, AdamW, batch 1024, fp32, CPU, 1 process.

* ``memory``: a fresh process loads the files with ``load_dataset(..., streaming=True)`` (one statistics
  pass) and trains one epoch on the training split; reported: the RSS high-water mark of the whole
  process (``VmHWM``) and its rise over the RSS after imports, the seconds of each phase, and rows/s.
* ``throughput``: on a data set that fits (``--fit-rows``), rows/s of one epoch of the same training
  on the in-memory path (``load_dataset`` of one Parquet file: tensors) and on the streaming path
  (the same file, streamed); each in a fresh process, ``--repeats`` times alternating; medians.

Run: OMP_NUM_THREADS=1 python -m benchmarks.streaming [--rows 32000000] [--fit-rows 2000000] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

FEATURES, BATCH = 20, 1024


def generate(root: Path, rows: int, *, file_rows: int, group_rows: int, seed: int = 0) -> int:
    """Write the data set (skipped when it is there already); returns its bytes on disk."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    root.mkdir(parents=True, exist_ok=True)
    done = root / "COMPLETE"
    if not done.exists():
        rng = np.random.default_rng(seed)
        w = rng.normal(size=FEATURES)
        cut = 2.054 * float(np.sqrt(w @ w + 1))  # P(N(0, |w|^2 + 1) > cut) = 2%
        for i, start in enumerate(range(0, rows, file_rows)):
            n = min(file_rows, rows - start)
            with pq.ParquetWriter(root / f"part-{i:04d}.parquet", _schema()) as writer:
                for lo in range(0, n, group_rows):
                    m = min(group_rows, n - lo)
                    x = rng.normal(size=(m, FEATURES))
                    y = (x @ w + rng.normal(size=m) > cut).astype(np.int8)
                    cols = {f"f{j}": x[:, j] for j in range(FEATURES)}
                    writer.write_table(pa.table({**cols, "y": y}, schema=_schema()))
        done.write_text(json.dumps({"rows": rows}))
    return sum(p.stat().st_size for p in root.glob("*.parquet"))


def _schema() -> Any:
    import pyarrow as pa

    return pa.schema([*(pa.field(f"f{j}", pa.float64()) for j in range(FEATURES)), pa.field("y", pa.int8())])


def _status(key: str) -> int:
    """``VmRSS`` / ``VmHWM`` of this process, in bytes (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {key} in /proc/self/status")


def _model() -> Any:
    import torch
    from torch import nn

    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(FEATURES, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))


def measure(
    mode: str,
    data: str,
    *,
    epochs: int = 1,
    val_size: float = 0.05,
    test_size: float = 0.05,
    workers: int = 0,
) -> dict[str, Any]:
    """One run in this process: ``mode`` is ``"streaming"`` or ``"memory"`` (the in-memory path)."""
    import torch
    from torch import nn

    from logitlab.data import load_dataset
    from logitlab.train import TrainConfig, Trainer
    from logitlab.weights import imbalance_weights

    torch.set_num_threads(1)
    base = _status("VmRSS")
    t0 = time.perf_counter()
    bundle = load_dataset(
        data, target="y", streaming=mode == "streaming", val_size=val_size, test_size=test_size
    )
    loaded = time.perf_counter() - t0
    weights = imbalance_weights(bundle.train.label_counts("binary"), "binary")
    assert weights is not None
    loss = nn.BCEWithLogitsLoss(pos_weight=weights.values)
    train = bundle.train.training_data()
    cfg = TrainConfig(
        epochs=epochs,
        batch_size=BATCH,
        device="cpu",
        progress=False,
        health_monitor=False,
        num_workers=workers,
    )
    t1 = time.perf_counter()
    history = Trainer(_model(), lambda z, y: loss(z, y.float()), cfg).fit(train)
    return {
        "mode": mode,
        "workers": workers,
        "rows_train": len(bundle.train),
        "load_s": loaded,
        "train_s": time.perf_counter() - t1,
        "rows_per_s": max(h["samples_per_s"] for h in history),
        "peak_rss": _status("VmHWM"),
        "rss_after_imports": base,
        "pos_weight": float(weights.values[0]),
    }


def run_fresh(mode: str, data: Path, **kw: Any) -> dict[str, Any]:
    """:func:`measure` in a fresh process (its own RSS high-water mark)."""
    cmd = [sys.executable, "-m", "benchmarks.streaming", "--measure", mode, "--data", str(data)]
    cmd += [f"--{k.replace('_', '-')}={v}" for k, v in kw.items()]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=32_000_000, help="rows of the big run (0: skip it)")
    p.add_argument("--fit-rows", type=int, default=2_000_000)
    p.add_argument("--file-rows", type=int, default=2_000_000)
    p.add_argument("--group-rows", type=int, default=250_000)
    p.add_argument("--repeats", type=int, default=3, help="alternating repeats of the throughput runs")
    p.add_argument("--data", default="/tmp/logitlab-streaming-bench")
    p.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--val-size", type=float, default=0.05)
    p.add_argument("--test-size", type=float, default=0.05)
    p.add_argument("--workers", type=int, default=0, help="DataLoader workers of the streaming runs")
    args = p.parse_args()
    if args.measure:  # the child process of run_fresh
        out = measure(
            args.measure, args.data, epochs=args.epochs, val_size=args.val_size, test_size=args.test_size,
            workers=args.workers,
        )  # fmt: skip
        print(json.dumps(out))
        return
    root = Path(args.data)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, OMP_NUM_THREADS=1, load {os.getloadavg()[0]:.1f}"
    )
    if args.rows:
        t0 = time.perf_counter()
        size = generate(root / "big", args.rows, file_rows=args.file_rows, group_rows=args.group_rows)
        print(f"generated {args.rows} rows, {size / 2**30:.2f} GiB in {time.perf_counter() - t0:.0f} s")
        big = run_fresh("streaming", root / "big" / "*.parquet", workers=args.workers)
        print(f"big streaming: {json.dumps(big)}")
    fit_size = generate(
        root / "fit", args.fit_rows, file_rows=args.fit_rows, group_rows=args.group_rows, seed=1
    )
    fit = root / "fit" / "part-0000.parquet"
    print(f"fit: {args.fit_rows} rows, {fit_size / 2**20:.0f} MiB, {args.repeats} alternating repeats")
    speed: dict[str, list[float]] = {"memory": [], "streaming": []}
    for _ in range(args.repeats):  # alternate, so a change of load on the machine hits both paths
        for mode in speed:
            run = run_fresh(mode, fit, workers=args.workers if mode == "streaming" else 0)
            speed[mode].append(run["rows_per_s"])
            print(f"fit {mode}: {json.dumps(run)}")
    memory, streaming = (statistics.median(speed[m]) for m in ("memory", "streaming"))
    print(f"median rows/s: in-memory {memory:.0f}, streaming {streaming:.0f}; ratio {streaming / memory:.2f}")


if __name__ == "__main__":
    main()
