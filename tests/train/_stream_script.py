"""A small streaming training run, shared by the trainer's streaming tests and run as a script by them.

Usage:
    python _stream_script.py kill RUN_DIR DATA_DIR PAUSE_STEP   # train; freeze at PAUSE_STEP until SIGKILLed
    python -m torch.distributed.run ... _stream_script.py ddp OUT DATA_DIR   # one rank of a DDP run

Each row carries its id in feature 0 (``id / ROWS``), so a forward hook records which rows every
step trained on (``ids_rank<r>.txt``: one line of ids per micro-batch, appended and flushed).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import torch
from safetensors.torch import save_file
from torch import nn

from logitlab.data.streaming import StreamingTable
from logitlab.train import Callback, StepInfo, TrainConfig, Trainer

ROWS, FEATURES = 960, 4
LAYOUT = [(400, 90), (250, 64), (310, 100)]  # rows, row group size: uneven files and groups


def write_data(root: Path, seed: int = 0, *, checksums: bool = False) -> Path:
    """Three Parquet files: ``id``, ``f0..f3`` and a 0/1 ``y`` that depends on them (page CRCs with ``checksums``)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(ROWS, FEATURES))
    y = (x[:, 0] - x[:, 1] + 0.5 * rng.normal(size=ROWS) > 0).astype(np.int64)
    root.mkdir(parents=True, exist_ok=True)
    start = 0
    for i, (n, group) in enumerate(LAYOUT):
        cols = {
            "id": np.arange(start, start + n),
            **{f"f{j}": x[start : start + n, j] for j in range(FEATURES)},
        }
        pq.write_table(
            pa.table({**cols, "y": y[start : start + n]}), root / f"part-{i}.parquet", row_group_size=group
        )
        start += n
    return root


class IdFeatures:
    """``(x, y)``: ``x = [id / ROWS, f0..f3]`` float32, ``y`` int64 classes."""

    columns = ["id", *[f"f{j}" for j in range(FEATURES)], "y"]

    def __call__(self, batch: pa.RecordBatch) -> tuple[np.ndarray, np.ndarray]:
        cols = [pc.cast(batch.column(c), pa.float64()).to_numpy() for c in self.columns[:-1]]
        cols[0] = cols[0] / ROWS
        return np.column_stack(cols).astype(np.float32), batch.column("y").to_numpy().astype(np.int64)


def table(data: Path) -> StreamingTable:
    return StreamingTable(data, transform=IdFeatures(), shuffle_buffer=128)


def model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)  # dropout: the RNG state must survive a resume too
    return nn.Sequential(nn.Linear(FEATURES + 1, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 2))


def config(**changes: Any) -> TrainConfig:
    base = {
        "epochs": 2,
        "batch_size": 32,  # 960 rows: 30 steps per epoch
        "lr": 3e-3,
        "warmup_steps": 4,
        "grad_clip": 1.0,
        "checkpoint_every_steps": 7,
        "resume": "auto",
        "num_workers": 2,
        "device": "cpu",
        "progress": False,
        "dist_timeout_s": 60,
    }
    return TrainConfig(**{**base, **changes})


def record(net: nn.Module, log: Path | None, into: list[list[int]]) -> None:
    """Append the row ids of every training forward to ``into`` (and, when given, to the file ``log``)."""

    def hook(module: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        if module.training:
            ids = (args[0][:, 0].double() * ROWS).round().long().tolist()
            into.append(ids)
            if log is not None:
                with open(log, "a") as f:
                    f.write(" ".join(map(str, ids)) + "\n")

    net.register_forward_pre_hook(hook)


class PauseAt(Callback):
    """Freeze (print ``paused``, sleep until killed) after optimizer step ``step``."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer: Trainer, batch: StepInfo) -> None:
        if batch.step == self.step:
            print("paused", flush=True)
            while True:
                time.sleep(60)


def kill_main(run_dir: str, data: str, pause_step: int) -> None:
    net = model()
    record(net, Path(run_dir) / "ids_rank0.txt", [])
    trainer = Trainer(net, nn.CrossEntropyLoss(), config(), run_dir=run_dir, callbacks=[PauseAt(pause_step)])
    trainer.fit(table(Path(data)))


def ddp_main(out: str, data: str) -> None:
    net, seen = model(), list[list[int]]()
    record(net, None, seen)
    trainer = Trainer(net, nn.CrossEntropyLoss(), config(checkpoint_every_steps=0, resume=None, epochs=2))
    trainer.fit(table(Path(data)))
    Path(out).mkdir(parents=True, exist_ok=True)
    (Path(out) / f"ids_rank{trainer.dist.rank}.json").write_text(json.dumps(seen))
    if trainer.is_main_process:
        save_file(
            {k: v.contiguous() for k, v in net.state_dict().items()}, str(Path(out) / "weights.safetensors")
        )


if __name__ == "__main__":
    if sys.argv[1] == "kill":
        kill_main(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        ddp_main(sys.argv[2], sys.argv[3])
