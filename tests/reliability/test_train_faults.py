"""Faults while training: NaN/Inf mid-run, kill -9 mid-epoch or mid-checkpoint, a DDP rank that dies.

Every promise is checked against a reference computed independently of the faulty run: the batch a
bad row lands in comes from the seeded permutation (``randperm(seed + epoch)``), checkpoints are
compared with a clean run of the same seed, "skip" with a hand-written loop that leaves the bad batch
out, and resumed runs with an uninterrupted run of the same configuration.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from logitlab.errors import LogitlabWarning, TrainingError
from logitlab.train import Callback, TrainConfig, Trainer, load_checkpoint
from tests.train.test_checkpoint import StopAfter

from . import _ddp_fault, _train_forever

HERE = Path(__file__).parent
ENV = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK")}
ENV["OMP_NUM_THREADS"] = "1"

# ---- NaN / Inf mid-training ---------------------------------------------------------------------
ROWS, BATCH, SEED = 96, 16, 3
STEPS = ROWS // BATCH  # optimizer steps per epoch
BAD_ROW, BAD_EPOCH, EPOCHS = 37, 2, 4  # the row goes bad at the start of epoch 2 and stays bad

STOP_CFG = TrainConfig(
    epochs=EPOCHS,
    batch_size=BATCH,
    lr=3e-3,
    warmup_steps=4,
    grad_clip=1.0,
    seed=SEED,
    checkpoint_every=1,
    resume="auto",  # one config for the first run and the resumed one
    device="cpu",
    progress=False,
)
SKIP_CFG = TrainConfig(  # plain SGD at a constant rate, so a hand-written loop is the reference
    optimizer="sgd",
    lr=0.05,
    momentum=0.9,
    weight_decay=0.0,
    schedule="constant",
    epochs=EPOCHS,
    batch_size=BATCH,
    seed=SEED,
    nan_policy="skip",
    device="cpu",
    progress=False,
)


def bce_data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(11)
    x = torch.randn(ROWS, 5, generator=g)
    return x, (x[:, :1] - x[:, 1:2] > 0).float()


def mlp(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 1))


def naive_bce(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """BCE as log(sigmoid(z)) in float32: finite for moderate logits, NaN/Inf once sigmoid saturates."""
    p = torch.sigmoid(logits)
    return -(targets * torch.log(p) + (1 - targets) * torch.log(1 - p)).mean()


@dataclass(frozen=True)
class Injection:
    poison: Callable[[torch.Tensor, torch.Tensor], None]  # edits (x, y) in place
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    loss_name: str  # the loss term the TrainingError names
    term: str  # what the TrainingError must say is non-finite, and why (a regex)


def _nan_input(x: torch.Tensor, y: torch.Tensor) -> None:
    x[BAD_ROW] = float("nan")


def _inf_target(x: torch.Tensor, y: torch.Tensor) -> None:
    y[BAD_ROW] = float("inf")


def _huge_input(x: torch.Tensor, y: torch.Tensor) -> None:
    x[BAD_ROW] *= 1e6  # finite, but its logit saturates sigmoid: log(0) in naive_bce


INJECTIONS = {
    "nan-input": Injection(
        _nan_input,
        nn.BCEWithLogitsLoss(),
        "BCEWithLogitsLoss",
        r"logits \[16, 1\] torch.float32: 1 NaN, 0 Inf[\s\S]*Cause: the model produced non-finite logits",
    ),
    "inf-target": Injection(
        _inf_target,
        nn.BCEWithLogitsLoss(),
        "BCEWithLogitsLoss",
        r"targets \[16, 1\] torch.float32: 0 NaN, 1 Inf,[\s\S]*Cause: the targets hold NaN/Inf",
    ),
    "overflow-in-loss": Injection(
        _huge_input,
        naive_bce,
        "naive_bce",
        r"logits \[16, 1\] torch.float32: 0 NaN, 0 Inf[\s\S]*Cause: inputs are finite but naive_bce is not",
    ),
}


def bad_batch(epoch: int) -> int:
    """The batch BAD_ROW lands in during ``epoch``, from the seeded permutation the loader promises."""
    perm = torch.randperm(ROWS, generator=torch.Generator().manual_seed(SEED + epoch))
    return int((perm == BAD_ROW).nonzero()) // BATCH


class PoisonAt(Callback):
    """Corrupts the training tensors in place at the start of ``epoch`` (data that goes bad mid-run)."""

    def __init__(self, epoch: int, poison: Callable[[], None]) -> None:
        self.epoch, self.poison = epoch, poison

    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None:
        if epoch == self.epoch:
            self.poison()


def _assert_same_weights(state: dict[str, torch.Tensor], ref: dict[str, torch.Tensor]) -> None:
    assert state.keys() == ref.keys()
    for name, value in ref.items():
        assert torch.equal(state[name], value), name  # bitwise: CPU, fixed seed


def _assert_no_leftovers(root: Path) -> None:
    """Only the checkpoints the pointers name, and the pointers: no temp dirs, files or orphans."""
    pointers = [p for p in root.glob("*.json") if not p.name.startswith(".")]  # .written.json: the ledger
    named = {json.loads(p.read_text())["dir"] for p in pointers}
    ours = {p.name for p in root.iterdir() if not p.name.startswith(".")}
    assert sorted(ours) == sorted(named | {p.name for p in pointers})


@pytest.mark.parametrize("kind", list(INJECTIONS))
def test_nonfinite_batch_stops_with_its_step_and_cause_and_keeps_last_checkpoint(
    kind: str, tmp_path: Path
) -> None:
    inj = INJECTIONS[kind]
    x, y = bce_data()
    clean_x, clean_y = x.clone(), y.clone()
    # reference: the same seed and config on clean data, stopped at the end of the last good epoch
    ref = mlp()
    Trainer(ref, inj.loss_fn, STOP_CFG, run_dir=tmp_path / "ref", callbacks=[StopAfter(BAD_EPOCH - 1)]).fit(
        (clean_x, clean_y)
    )

    model = mlp()
    poison = PoisonAt(BAD_EPOCH, lambda: inj.poison(x, y))
    with pytest.raises(TrainingError) as info:
        Trainer(model, inj.loss_fn, STOP_CFG, run_dir=tmp_path / "bad", callbacks=[poison]).fit((x, y))
    err, b = info.value, bad_batch(BAD_EPOCH)
    assert err.code == "nonfinite-loss" and err.fix
    assert f"step {BAD_EPOCH * STEPS + b} (epoch {BAD_EPOCH}, batch {b})" in err.message
    assert f"loss term: {inj.loss_name}." in err.message
    assert re.search(inj.term, err.message), err.message
    assert all(torch.isfinite(p).all() for p in model.parameters())  # the bad step was not applied

    root = tmp_path / "bad" / "checkpoints"
    last = load_checkpoint(root)  # checksums verified: complete
    assert (last.meta["epoch"], last.meta["global_step"]) == (BAD_EPOCH - 1, BAD_EPOCH * STEPS)
    _assert_same_weights(last.model_state, ref.state_dict())
    _assert_no_leftovers(root)

    # the checkpoint is whole (optimizer, schedule, RNG too): with the row repaired, resuming from it
    # ends exactly where a clean uninterrupted run ends
    full = mlp()
    Trainer(full, inj.loss_fn, STOP_CFG, run_dir=tmp_path / "full").fit((clean_x, clean_y))
    x.copy_(clean_x), y.copy_(clean_y)
    resumed = mlp(seed=99)
    trainer = Trainer(resumed, inj.loss_fn, STOP_CFG, run_dir=tmp_path / "bad")
    trainer.fit((x, y))
    assert trainer.start_epoch == BAD_EPOCH
    _assert_same_weights(resumed.state_dict(), full.state_dict())


@pytest.mark.parametrize("kind", list(INJECTIONS))
def test_nonfinite_batch_is_skipped_and_training_goes_on(kind: str) -> None:
    inj = INJECTIONS[kind]
    x, y = bce_data()
    model = mlp()
    trainer = Trainer(model, inj.loss_fn, SKIP_CFG, callbacks=[PoisonAt(BAD_EPOCH, lambda: inj.poison(x, y))])
    with pytest.warns(LogitlabWarning, match="Skipped optimizer step") as record:
        history = trainer.fit((x, y))

    bad = {e: bad_batch(e) for e in range(BAD_EPOCH, EPOCHS)}  # the row stays bad: one skip per epoch
    expected = [
        f"Skipped optimizer step {e * STEPS + b - i} (epoch {e}, batch {b}): the loss is"
        for i, (e, b) in enumerate(bad.items())
    ]
    messages = [str(w.message) for w in record if "Skipped" in str(w.message)]
    assert len(messages) == len(expected), messages
    assert all(m.startswith(e) for m, e in zip(messages, expected)), (messages, expected)
    assert trainer.skipped_steps == len(bad) and trainer.global_step == EPOCHS * STEPS - len(bad)
    assert len(history) == EPOCHS and all(math.isfinite(v) for v in history.column("train_loss"))
    assert all(torch.isfinite(p).all() for p in model.parameters())

    # reference: a plain loop over the same seeded order that leaves the poisoned batch out entirely
    # (no update, no momentum change, no gradient carried into the next step)
    rx, ry = bce_data()
    ref = mlp()
    opt = torch.optim.SGD(ref.parameters(), lr=SKIP_CFG.lr, momentum=SKIP_CFG.momentum)
    for epoch in range(EPOCHS):
        if epoch == BAD_EPOCH:
            inj.poison(rx, ry)
        perm = torch.randperm(ROWS, generator=torch.Generator().manual_seed(SEED + epoch))
        for i in range(STEPS):
            if bad.get(epoch) == i:
                continue
            idx = perm[i * BATCH : (i + 1) * BATCH]
            opt.zero_grad()
            inj.loss_fn(ref(rx[idx]), ry[idx]).backward()
            opt.step()
    for (name, a), b in zip(model.state_dict().items(), ref.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7, msg=name)


# ---- kill -9 during an epoch / during a checkpoint write ----------------------------------------
KILL_EPOCH = 2
TRAIN_SCRIPT = HERE / "_train_forever.py"


class _Snapshots(Callback):
    def __init__(self) -> None:
        self.weights: list[dict[str, torch.Tensor]] = []

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        self.weights.append({k: v.detach().clone() for k, v in trainer.model.state_dict().items()})


@dataclass
class Reference:
    weights: list[dict[str, torch.Tensor]]  # at the end of each epoch
    history: list[dict[str, Any]]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    train, val = _train_forever.data()
    snaps = _Snapshots()
    run_dir = tmp_path_factory.mktemp("uninterrupted")
    trainer = Trainer(
        _train_forever.model(),
        nn.CrossEntropyLoss(),
        _train_forever.config(),
        run_dir=run_dir,
        callbacks=[snaps],
    )
    history = trainer.fit(train, val)
    return Reference(snaps.weights, list(history))


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["epoch", "model.safetensors", "state.pt", "meta.json", "last.json"])
def test_kill_9_mid_epoch_or_mid_checkpoint_then_resume_equals_uninterrupted(
    stage: str, tmp_path: Path, uninterrupted: Reference
) -> None:
    run_dir, root = tmp_path / "run", tmp_path / "run" / "checkpoints"
    proc = subprocess.Popen(
        [sys.executable, str(TRAIN_SCRIPT), str(run_dir), stage, str(KILL_EPOCH)],
        env=ENV,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    try:
        assert line.startswith("paused "), line
        if stage != "epoch":  # the kill lands in a torn write: half of a file is on disk
            torn = Path(line.removeprefix("paused "))
            done = root / json.loads((root / "last.json").read_text())["dir"]
            whole = root / "last.json" if stage == "last.json" else done / stage
            assert torn.is_file() and 0 < torn.stat().st_size < whole.stat().st_size
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    last = load_checkpoint(root)  # complete: both files match their SHA-256
    assert last.meta["epoch"] == KILL_EPOCH - 1
    _assert_same_weights(last.model_state, uninterrupted.weights[KILL_EPOCH - 1])
    if stage == "last.json":  # "best" moved first: it names the new checkpoint, which is complete too
        val_losses = [row["val_loss"] for row in uninterrupted.history]
        assert val_losses[KILL_EPOCH] < min(val_losses[:KILL_EPOCH])  # so the killed run wrote "best"
        best = load_checkpoint(root, name="best")
        assert best.meta["epoch"] == KILL_EPOCH
        _assert_same_weights(best.model_state, uninterrupted.weights[KILL_EPOCH])

    train, val = _train_forever.data()
    resumed = _train_forever.model(seed=99)  # other initial weights: the checkpoint must replace them
    torch.randn(100)  # and another global RNG state: the checkpoint must restore it
    trainer = Trainer(resumed, nn.CrossEntropyLoss(), _train_forever.config(), run_dir=run_dir)
    history = trainer.fit(train, val)
    assert trainer.start_epoch == KILL_EPOCH
    _assert_same_weights(resumed.state_dict(), uninterrupted.weights[-1])
    for got, want in zip(history, uninterrupted.history, strict=True):
        assert (got["train_loss"], got["val_loss"]) == (want["train_loss"], want["val_loss"])
    _assert_no_leftovers(root)


# ---- a DDP rank that dies -------------------------------------------------------------------------
DDP_SCRIPT = HERE / "_ddp_fault.py"


@pytest.mark.slow
@pytest.mark.distributed
@pytest.mark.parametrize("mode", ["exit", "raise", "hang"])
def test_dead_or_silent_rank_ends_torchrun_without_hanging(mode: str, tmp_path: Path) -> None:
    """Rank 1 dies (``os._exit``), raises, or stops answering mid-epoch; rank 0 fails by itself (it
    writes rank0.json from its own exception) and torchrun exits non-zero, all within seconds."""
    out = tmp_path / mode
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    # a slow monitor: torchrun must not be what ends rank 0; rank 0 has to notice the failure itself
    cmd += ["--monitor-interval", "2", str(DDP_SCRIPT), mode, str(out)]
    start = time.monotonic()
    done = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=100)
    wall, ended = time.monotonic() - start, time.time()
    assert done.returncode != 0, done.stderr[-3000:]
    assert wall < 60, wall
    fault = json.loads((out / "fault.json").read_text())
    assert fault["epoch"] == 1  # mid-run: an epoch already done, the failure inside the next
    rank0 = json.loads((out / "rank0.json").read_text())
    assert rank0["type"] == "DistributedError", rank0  # logitlab's error, with the rank and a fix
    assert "Rank 0 of 2" in rank0["message"] and "Fix:" in rank0["message"], rank0
    noticed = rank0["time"] - fault["time"]
    limit = _ddp_fault.TIMEOUT_S
    if mode == "hang":  # nothing but the process-group timeout can end this wait
        assert 0.8 * limit <= noticed <= limit + 5, noticed
    else:  # a closed connection is noticed at once, long before the timeout
        assert noticed < limit, noticed
    assert ended - fault["time"] < limit + 15  # and torchrun itself is gone soon after
    assert not list(out.glob("finished_rank*.json"))
