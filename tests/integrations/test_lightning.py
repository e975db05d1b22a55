"""Lightning's HealthMonitorCallback against logitlab's own Trainer on the same data, model and injected NaN."""

from __future__ import annotations

import copy
import logging
import warnings

import lightning as L
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from logitlab.doctor import HealthMonitor
from logitlab.errors import ConfigError, TrainingError
from logitlab.integrations.lightning import HealthMonitorCallback
from logitlab.train import TrainConfig, Trainer

ROWS, BATCH, LR = 64, 8, 0.1


class Poisoned(Dataset):
    """Rows of a fixed (x, y); on pass ``epoch`` over the data, row ``row`` gets a NaN in ``where``."""

    def __init__(self, x, y, *, epoch=None, row=None, where="inputs"):
        self.x, self.y, self.epoch, self.row, self.where, self.calls = x, y, epoch, row, where, 0

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        x, y = self.x[i], self.y[i]
        if i == self.row and self.calls // len(self.x) == self.epoch:
            x, y = x.clone(), y.clone()
            if self.where == "inputs":
                x[1] = float("nan")
            else:
                y[0] = float("nan")
        self.calls += 1
        return x, y


class Module(L.LightningModule):
    def __init__(self, net, contract=True):
        super().__init__()
        self.net, self.loss_fn, self.contract = net, nn.BCEWithLogitsLoss(), contract

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self.net(x)
        loss = self.loss_fn(logits, y)
        return {"loss": loss, "logits": logits, "targets": y} if self.contract else loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=LR)


@pytest.fixture(scope="module")
def data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(ROWS, 4, generator=g)
    y = (x[:, :1] + 0.3 * torch.randn(ROWS, 1, generator=g) > 0).float()
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    return x, y, net


@pytest.fixture(autouse=True)
def _quiet():
    logging.getLogger("lightning").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _lightning(net, dataset, *, epochs, accumulation=1, callback=None, contract=True):
    callback = callback or HealthMonitorCallback()
    module = Module(net, contract)
    trainer = L.Trainer(
        max_epochs=epochs,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accumulate_grad_batches=accumulation,
        callbacks=[callback],
    )
    trainer.fit(module, DataLoader(dataset, batch_size=BATCH))
    return callback


def _logitlab(net, dataset, *, epochs, accumulation=1):
    cfg = TrainConfig(
        optimizer="sgd", lr=LR, momentum=0.0, weight_decay=0.0, schedule="constant", epochs=epochs,
        batch_size=BATCH, accumulation_steps=accumulation, shuffle=False, device="cpu", progress=False,
        checkpoint_every=0,
    )  # fmt: skip
    trainer = Trainer(net, nn.BCEWithLogitsLoss(), cfg)
    trainer.fit(DataLoader(dataset, batch_size=BATCH))
    return trainer


def _parts(err):
    lines = err.message.splitlines()
    return err.code, lines[0], next(line for line in lines if line.startswith("Cause:")), err.fix


@pytest.mark.parametrize(
    ("epochs", "epoch", "batch", "where", "accumulation"),
    [(1, 0, 5, "inputs", 1), (1, 0, 4, "targets", 2), (2, 1, 3, "inputs", 1)],
    ids=["few-steps-nan-input", "accumulated-nan-target", "two-epochs-nan-input-in-epoch-1"],
)
def test_nan_batch_stops_with_the_same_error_as_logitlab_trainer(
    data, epochs, epoch, batch, where, accumulation
):
    x, y, net = data
    poison = {"epoch": epoch, "row": batch * BATCH + 2, "where": where}
    with pytest.raises(TrainingError) as ours:
        _logitlab(copy.deepcopy(net), Poisoned(x, y, **poison), epochs=epochs, accumulation=accumulation)
    lightning_net = copy.deepcopy(net)
    with pytest.raises(TrainingError) as theirs:
        _lightning(lightning_net, Poisoned(x, y, **poison), epochs=epochs, accumulation=accumulation)
    assert _parts(theirs.value) == _parts(ours.value)
    steps_per_epoch = ROWS // BATCH // accumulation
    assert theirs.value.code == "nonfinite-loss"
    assert f"step {epoch * steps_per_epoch + batch // accumulation} (epoch {epoch}, batch {batch})" in str(
        theirs.value
    )
    assert ("targets hold NaN" if where == "targets" else "non-finite logits") in str(theirs.value)
    assert all(torch.isfinite(p).all() for p in lightning_net.parameters())  # the NaN step changed nothing


def test_clean_two_epoch_run_matches_logitlab_monitor_and_has_no_findings(data):
    x, y, net = data
    options = {"log_every": 3, "stats_every": 1, "grad_every": 2}
    ours = Trainer(
        copy.deepcopy(net),
        nn.BCEWithLogitsLoss(),
        TrainConfig(
            optimizer="sgd",
            lr=LR,
            momentum=0.0,
            weight_decay=0.0,
            schedule="constant",
            epochs=2,
            batch_size=BATCH,
            shuffle=False,
            device="cpu",
            progress=False,
            checkpoint_every=0,
        ),  # fmt: skip
        callbacks=[HealthMonitor(**options)],
    )
    ours.fit(DataLoader(Poisoned(x, y), batch_size=BATCH))
    callback = _lightning(
        copy.deepcopy(net), Poisoned(x, y), epochs=2, callback=HealthMonitorCallback(**options)
    )
    report = callback.report()
    assert report.ok and len(report) == 0
    mine, theirs = callback.monitor, ours.health
    assert [s for s, _ in mine.grad_norms] == [s for s, _ in theirs.grad_norms] == list(range(0, 16, 2))
    torch.testing.assert_close([g for _, g in mine.grad_norms], [g for _, g in theirs.grad_norms])
    torch.testing.assert_close(list(mine.losses), list(theirs.losses))
    assert len(mine.history) == len(theirs.history) > 0
    for a, b in zip(mine.history, theirs.history):
        torch.testing.assert_close(a, b)


def test_training_step_without_the_contract_is_a_config_error(data):
    x, y, net = data
    with pytest.raises(ConfigError, match="logits, targets") as info:
        _lightning(copy.deepcopy(net), Poisoned(x, y), epochs=1, contract=False)
    assert info.value.code == "step-outputs-contract"
    assert '"logits": logits' in info.value.fix


def test_monitor_or_options_not_both():
    with pytest.raises(ConfigError, match="either `monitor`"):
        HealthMonitorCallback(HealthMonitor(), log_every=3)
