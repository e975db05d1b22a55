"""Train with a checkpoint every epoch and freeze at one chosen moment, to be SIGKILLed there.

Usage: python _train_forever.py RUN_DIR STAGE EPOCH

STAGE is where the run stops moving (it prints ``paused <path>`` and sleeps until killed):

* ``epoch``: after optimizer step 3 of ``EPOCH`` (mid-epoch, weights half-way between checkpoints);
* ``model.safetensors``, ``state.pt``, ``meta.json``: while writing that file of ``EPOCH``'s
  checkpoint: half of its bytes are on disk (fsynced), the rest never comes;
* ``last.json``: while writing the temporary file of the ``last`` pointer of ``EPOCH``'s checkpoint:
  its directory is complete and renamed into place, ``best.json`` already points at it.

The pause is a monkeypatch of this process only (``logitlab.train.checkpoint._write_bytes`` for the
checkpoint's files, ``logitlab.train.checkpoint.write_json_atomic`` for the pointers); the library
has no test hook. ``config()``, ``data()`` and ``model()`` are what test_train_faults.py uses
for the uninterrupted reference run and for resuming, so all runs share one configuration.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from logitlab.files import atomic_path
from logitlab.train import Callback, StepInfo, TrainConfig, Trainer
from logitlab.train import checkpoint as ckpt_module

STEPS_PER_EPOCH, EPOCHS = 6, 4


def data() -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """96 training rows (6 batches of 16) and 32 validation rows."""
    g = torch.Generator().manual_seed(7)
    x = torch.randn(128, 6, generator=g)
    y = (x[:, 0] + x[:, 1] ** 2 > 0.5).long()
    return (x[:96], y[:96]), (x[96:], y[96:])


def model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)  # dropout: the RNG state must survive the kill too
    return nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 2))


def config() -> TrainConfig:
    return TrainConfig(
        epochs=EPOCHS,
        batch_size=16,
        lr=3e-3,
        warmup_steps=4,  # warmup + cosine: the schedule's position must be restored too
        grad_clip=1.0,
        checkpoint_every=1,
        resume="auto",  # the same config starts a fresh run and resumes a killed one
        device="cpu",
        progress=False,
    )


def _pause(path: Path) -> None:
    print(f"paused {path}", flush=True)
    while True:
        time.sleep(60)


class _PauseMidEpoch(Callback):
    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_train_batch_end(self, trainer: Trainer, batch: StepInfo) -> None:
        if batch.epoch == self.epoch and batch.batch_idx == 3:
            _pause(Path(f"epoch {batch.epoch} step {batch.step}"))


def _torn(path: Path, blob: bytes) -> None:
    """A torn write: half the bytes reach the disk (fsynced), then the process freezes."""
    with open(path, "wb") as f:
        f.write(blob[: len(blob) // 2])
        f.flush()
        os.fsync(f.fileno())
    _pause(path)


def main(run_dir: str, stage: str, epoch: int) -> None:
    train, val = data()
    callbacks = [_PauseMidEpoch(epoch)] if stage == "epoch" else []
    trainer = Trainer(model(), nn.CrossEntropyLoss(), config(), run_dir=run_dir, callbacks=callbacks)
    real_write, real_pointer = ckpt_module._write_bytes, ckpt_module.write_json_atomic

    def write_bytes(path: Path, blob: bytes) -> str:
        if path.name == stage and trainer.epoch == epoch:
            _torn(path, blob)
        return real_write(path, blob)

    def write_pointer(path: Path, obj: Any) -> Path:
        if path.name == stage and trainer.epoch == epoch:
            with atomic_path(path) as tmp:  # the pointer's temporary file, as the real write makes it
                _torn(tmp, json.dumps(obj).encode())
        return real_pointer(path, obj)

    ckpt_module._write_bytes = write_bytes
    ckpt_module.write_json_atomic = write_pointer
    trainer.fit(train, val)
    print("finished", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
