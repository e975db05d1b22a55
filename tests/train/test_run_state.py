"""The trainer's run state: what a checkpoint holds of where a run stood, applied by the trainer itself."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from logitlab.train import Checkpoint, EarlyStopping, History, RunState, TrainConfig, Trainer, load_checkpoint


def _fit(run_dir: Path, epochs: int) -> Trainer:
    torch.manual_seed(0)
    x = torch.randn(64, 3)
    y = (x[:, 0] > 0).float()[:, None]
    cfg = TrainConfig(
        epochs=epochs, batch_size=16, device="cpu", progress=False, patience=5, checkpoint_every=1
    )
    trainer = Trainer(nn.Linear(3, 1), nn.BCEWithLogitsLoss(), cfg, run_dir=run_dir)
    trainer.fit((x, y), (x, y))
    return trainer


def test_the_checkpointed_run_state_is_where_the_run_stood(tmp_path: Path) -> None:
    trainer = _fit(tmp_path, epochs=2)
    state = RunState.from_checkpoint(load_checkpoint(tmp_path / "checkpoints"))
    assert isinstance(state.history, History) and state.history == list(trainer.history)
    assert [row["epoch"] for row in state.history] == [1, 2]
    assert state.start_epoch == 2 and state.position is None  # the run ended at an epoch's end
    assert state.global_step == trainer.global_step == 8  # 64 rows / 16 per step, 2 epochs
    stopper = next(cb for cb in trainer.callbacks if isinstance(cb, EarlyStopping))
    assert state.callbacks["EarlyStopping"] == stopper.state_dict()


def test_the_trainer_applies_a_run_state(tmp_path: Path) -> None:
    stopper = EarlyStopping(patience=5)
    trainer = Trainer(nn.Linear(3, 1), nn.BCEWithLogitsLoss(), TrainConfig(device="cpu"), callbacks=[stopper])
    trainer.callbacks = [stopper]  # as fit's set-up leaves them
    rows = History([{"epoch": 1, "val_loss": 0.7}, {"epoch": 2, "val_loss": 0.6}])
    early = {"best": 0.6, "wait": 0, "best_epoch": 1}
    state = RunState(rows, {"batches": 3}, start_epoch=2, global_step=11, callbacks={"EarlyStopping": early})
    trainer.apply_run_state(state)
    assert trainer.history is rows and trainer.position == {"batches": 3}
    assert (trainer.start_epoch, trainer.global_step) == (2, 11)
    assert (stopper.best, stopper.best_epoch) == (0.6, 1)


def test_older_checkpoints_counted_history_epochs_from_zero(tmp_path: Path) -> None:
    meta = {
        "history": [{"epoch": 0, "train_loss": 1.0}, {"lr": 0.1}],
        "epoch": 3,
        "global_step": 7,
        "position": {"batches": 2},
    }
    state = RunState.from_checkpoint(Checkpoint({}, {}, meta, tmp_path))
    assert state.history == [{"epoch": 1, "train_loss": 1.0}, {"lr": 0.1}]
    assert state.start_epoch == 3  # mid-epoch: that epoch resumes after its done batches
    assert state.callbacks == {}
