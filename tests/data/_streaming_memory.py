"""Train on Parquet data and print how the RSS rose (JSON); Linux only.

Usage: python _streaming_memory.py DATA_DIR MODE
    MODE "memory": the in-memory path on ``a.parquet``, one epoch: ``{"rise": bytes}``;
    MODE "streaming": ``a.parquet`` and ``b.parquet`` streamed, four epochs:
    ``{"rise": bytes, "by_epoch": [RSS rise after each epoch]}``.

torch is warmed up first (one fit of the same model), then the high-water mark is reset
(``/proc/self/clear_refs`` = 5) and the rise is ``VmHWM`` minus the ``VmRSS`` of that moment.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import torch
from torch import nn

from logitlab.data import load_dataset
from logitlab.data.streaming import load_streaming
from logitlab.train import Callback, TrainConfig, Trainer


def status(key: str) -> int:
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith(key + ":"))
    return int(line.split()[1]) * 1024


class RssPerEpoch(Callback):
    def __init__(self, base: int) -> None:
        self.base, self.rss = base, list[int]()

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        self.rss.append(status("VmRSS") - self.base)


def main(data: str, mode: str) -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 1))
    loss = nn.BCEWithLogitsLoss()
    cfg = TrainConfig(epochs=1, batch_size=512, device="cpu", progress=False)
    Trainer(net, loss, cfg).fit((torch.randn(1024, 20), torch.zeros(1024, 1)))  # torch's one-off allocations
    Path("/proc/self/clear_refs").write_text("5")
    base = status("VmRSS")
    if mode == "memory":
        bundle = load_dataset(Path(data) / "a.parquet", target="y")
        Trainer(net, loss, cfg).fit(bundle.train.training_data())
        print(json.dumps({"rise": status("VmHWM") - base}))
        return
    small = {"sample_rows": 20_000, "read_rows": 16_384, "shuffle_buffer": 16_384}
    bundle = load_streaming([Path(data) / "a.parquet", Path(data) / "b.parquet"], target="y", **small)
    rss = RssPerEpoch(base)
    Trainer(net, loss, cfg.replace(epochs=4), callbacks=[rss]).fit(bundle.train.training_data())
    print(json.dumps({"rise": status("VmHWM") - base, "by_epoch": rss.rss}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
