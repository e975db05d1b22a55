"""Run under torchrun with 2 processes: rank 1 fails mid-epoch, rank 0 must not hang.

Usage: python -m torch.distributed.run --standalone --nproc_per_node 2 _ddp_fault.py MODE OUT_DIR

MODE says how rank 1 fails at optimizer step ``FAULT_STEP`` (in epoch 1):

* ``exit``: ``os._exit(3)``, a hard death (no exception, no cleanup, sockets closed by the kernel);
* ``raise``: a ``RuntimeError`` leaves ``fit`` (the trainer's cleanup runs);
* ``hang``: it stops answering (sleeps forever) but stays alive, so only the process-group timeout
  (``dist_timeout_s``) can end rank 0's wait.

Rank 1 writes ``fault.json`` (the wall-clock time of the fault) just before failing; rank 0 writes
``rank0.json`` (the time and the exception it got) if ``fit`` raises, before exiting with code 1.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import torch
from torch import nn

from logitlab.train import Callback, StepInfo, TrainConfig, Trainer

FAULT_STEP = 9  # epoch 1 (6 optimizer steps per epoch), batch 3
TIMEOUT_S = 5.0  # the process-group timeout under test


class Fault(Callback):
    def __init__(self, mode: str, out: Path) -> None:
        self.mode, self.out = mode, out

    def on_train_batch_end(self, trainer: Trainer, batch: StepInfo) -> None:
        if trainer.dist.rank != 1 or batch.step != FAULT_STEP:
            return
        (self.out / "fault.json").write_text(json.dumps({"time": time.time(), "epoch": batch.epoch}))
        if self.mode == "exit":
            os._exit(3)
        if self.mode == "raise":
            raise RuntimeError(f"rank 1 fails on purpose at step {batch.step}")
        while True:  # hang: alive, silent
            time.sleep(60)


def main(mode: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(5)
    x = torch.randn(96, 6, generator=g)
    y = (x[:, 0] > 0).long()
    model = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 2))
    cfg = TrainConfig(
        epochs=4, batch_size=16, lr=0.01, device="cpu", progress=False, dist_timeout_s=TIMEOUT_S
    )
    trainer = Trainer(model, nn.CrossEntropyLoss(), cfg, callbacks=[Fault(mode, out)])
    try:
        trainer.fit((x, y))
    except BaseException as exc:
        if trainer.dist.rank == 0:
            report = {"time": time.time(), "type": type(exc).__name__, "message": str(exc)[:2000]}
            (out / "rank0.json").write_text(json.dumps(report))
        raise
    (out / f"finished_rank{trainer.dist.rank}.json").write_text(json.dumps(trainer.global_step))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
