"""Checkpoints: exact resume, atomic "last", safe formats, clear errors on damaged files."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from logitlab.errors import CheckpointError, ConfigError
from logitlab.train import Callback, TrainConfig, Trainer, load_checkpoint
from logitlab.train import checkpoint as ckpt_module

CFG = dict(
    epochs=5, batch_size=16, lr=3e-3, warmup_steps=4, grad_clip=1.0, device="cpu", progress=False, patience=10
)


def data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(100, 6, generator=g)  # 100 rows: a short last batch
    return x, (x[:, 0] + x[:, 1] ** 2 > 0.5).long()


def model(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(6, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 2)
    )  # dropout: RNG matters


class StopAfter(Callback):
    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        if epoch == self.epoch:
            trainer.should_stop = True


def test_interrupted_and_resumed_run_equals_uninterrupted(tmp_path: Path) -> None:
    x, y = data()
    val = (x[:30], y[:30])
    full = model(0)
    full_hist = Trainer(full, nn.CrossEntropyLoss(), TrainConfig(**CFG), run_dir=tmp_path / "a").fit(
        (x, y), val
    )

    part = model(0)
    Trainer(
        part, nn.CrossEntropyLoss(), TrainConfig(**CFG), run_dir=tmp_path / "b", callbacks=[StopAfter(1)]
    ).fit((x, y), val)
    assert load_checkpoint(tmp_path / "b").meta["epoch"] == 1
    torch.randn(1000)  # disturb the global RNG: the checkpoint must restore it
    resumed = model(99)  # other initial weights: the checkpoint must overwrite them
    trainer = Trainer(
        resumed, nn.CrossEntropyLoss(), TrainConfig(**CFG, resume="auto"), run_dir=tmp_path / "b"
    )
    hist = trainer.fit((x, y), val)

    assert trainer.start_epoch == 2 and trainer.global_step == 5 * 7
    for (name, a), b in zip(full.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name  # bitwise on CPU with a fixed seed
    assert [r["train_loss"] for r in hist] == [r["train_loss"] for r in full_hist]
    assert len((tmp_path / "b" / "metrics.csv").read_text().splitlines()) == 1 + 5


def test_checkpoint_files_are_safetensors_and_weights_only_torch(tmp_path: Path) -> None:
    x, y = data()
    net = model(0)
    Trainer(net, nn.CrossEntropyLoss(), TrainConfig(**{**CFG, "epochs": 2}), run_dir=tmp_path).fit(
        (x, y), (x, y)
    )
    root = tmp_path / "checkpoints"
    last = json.loads((root / "last.json").read_text())
    assert last["epoch"] == 1 and last["global_step"] == 14 and last["config"]["epochs"] == 2
    weights = load_file(str(root / last["dir"] / "model.safetensors"))
    for name, value in net.state_dict().items():
        assert torch.equal(weights[name], value)
    state = torch.load(root / last["dir"] / "state.pt", weights_only=True)
    assert {"optimizer", "scheduler", "scaler", "rng"} <= set(state)
    assert (root / "best.json").is_file()
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == sorted(
        {last["dir"], json.loads((root / "best.json").read_text())["dir"]}
    )
    assert json.loads((tmp_path / "train_config.json").read_text())["epochs"] == 2


def test_a_write_that_dies_midway_never_becomes_last(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "ckpt"
    ckpt_module.save_checkpoint(root, {"w": torch.ones(3)}, {"s": 1}, {"epoch": 0}, names=("last",))
    real = ckpt_module._write_bytes

    def dying(path: Path, data: bytes) -> str:
        if path.name == "state.pt":
            path.write_bytes(data[: len(data) // 2])  # half a file, then the disk fills up
            raise OSError(28, "No space left on device")
        return real(path, data)

    monkeypatch.setattr(ckpt_module, "_write_bytes", dying)
    with pytest.raises(CheckpointError, match="No space left"):
        ckpt_module.save_checkpoint(root, {"w": torch.zeros(3)}, {"s": 2}, {"epoch": 1}, names=("last",))
    monkeypatch.undo()
    loaded = load_checkpoint(root)
    assert loaded.meta["epoch"] == 0 and torch.equal(loaded.model_state["w"], torch.ones(3))
    assert [p.name for p in root.iterdir() if p.name.startswith(".tmp")] == []


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_run_files_get_the_mode_a_plain_open_gives(tmp_path: Path, umask: int) -> None:
    """Checkpoint files, pointers, metrics.csv and train_config.json: 0o666 less the umask (0644 under 022)."""
    x, y = data()
    reference = tmp_path / "reference"
    old = os.umask(umask)
    try:
        reference.write_bytes(b"")  # what a plain open() makes under this umask
        trainer = Trainer(
            model(0), nn.CrossEntropyLoss(), TrainConfig(**{**CFG, "epochs": 1}), run_dir=tmp_path
        )
        trainer.fit((x, y), (x[:30], y[:30]))
    finally:
        os.umask(old)
    root = tmp_path / "checkpoints"
    last = root / json.loads((root / "last.json").read_text())["dir"]
    files = [last / name for name in ("model.safetensors", "state.pt", "meta.json")]
    files += [root / "last.json", tmp_path / "metrics.csv", tmp_path / "train_config.json"]
    want = stat.S_IMODE(reference.stat().st_mode)
    assert want == (0o644 if umask == 0o022 else 0o600)
    assert {f.name: oct(stat.S_IMODE(f.stat().st_mode)) for f in files} == {f.name: oct(want) for f in files}


def test_truncated_or_missing_checkpoint_raises_checkpoint_error(tmp_path: Path) -> None:
    target = ckpt_module.save_checkpoint(tmp_path, {"w": torch.ones(64)}, {"s": 1}, {"epoch": 0})
    weights = target / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:40])
    with pytest.raises(CheckpointError, match="does not match its checksum"):
        load_checkpoint(tmp_path)
    (tmp_path / "last.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="unreadable"):
        load_checkpoint(tmp_path)
    with pytest.raises(CheckpointError, match="No checkpoint 'last'"):
        load_checkpoint(tmp_path / "nowhere")


def test_resume_into_a_different_model_is_a_checkpoint_error(tmp_path: Path) -> None:
    x, y = data()
    Trainer(model(0), nn.CrossEntropyLoss(), TrainConfig(**{**CFG, "epochs": 1}), run_dir=tmp_path).fit(
        (x, y), (x, y)
    )
    other = nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.Dropout(0.3), nn.Linear(4, 2))
    cfg = TrainConfig(**{**CFG, "epochs": 2, "resume": str(tmp_path)})
    with pytest.raises(CheckpointError, match="does not fit this model"):
        Trainer(other, nn.CrossEntropyLoss(), cfg).fit((x, y), (x, y))
    with pytest.raises(ConfigError, match="no validation data"):
        Trainer(model(0), nn.CrossEntropyLoss(), TrainConfig(**CFG)).fit((x, y))


@pytest.mark.parametrize(("stop", "expected"), [(None, 4), (1, 1)])
def test_last_is_the_final_epoch_even_between_saves(tmp_path: Path, stop: int | None, expected: int) -> None:
    x, y = data()
    callbacks = [StopAfter(stop)] if stop is not None else []
    cfg = TrainConfig(**{**CFG, "checkpoint_every": 3})
    Trainer(model(0), nn.CrossEntropyLoss(), cfg, run_dir=tmp_path, callbacks=callbacks).fit((x, y), (x, y))
    assert load_checkpoint(tmp_path).meta["epoch"] == expected
