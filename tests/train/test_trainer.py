"""The training loop against hand-written references: accumulation, clipping, precision, NaN guard, hooks."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from logitlab.errors import LogitlabWarning, TrainingError
from logitlab.train import Callback, ProgressBar, StepInfo, TrainConfig, Trainer

BASE = {"device": "cpu", "progress": False, "weight_decay": 0.0}


def data(n: int = 128, d: int = 5, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g)
    return x, (x[:, :1] - x[:, 1:2] > 0).float()


def mlp(seed: int = 0, d: int = 5) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, 8), nn.Tanh(), nn.Linear(8, 1))


def test_constant_lr_sgd_matches_a_hand_written_loop() -> None:
    x, y = data()
    cfg = TrainConfig(
        optimizer="sgd", lr=0.1, momentum=0.0, epochs=2, batch_size=32, schedule="constant", seed=4, **BASE
    )
    trained = mlp()
    Trainer(trained, nn.BCEWithLogitsLoss(), cfg).fit((x, y))
    ref, loss_fn = mlp(), nn.BCEWithLogitsLoss()
    opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    for epoch in range(2):
        perm = torch.randperm(128, generator=torch.Generator().manual_seed(4 + epoch))
        for i in range(0, 128, 32):
            opt.zero_grad()
            loss_fn(ref(x[perm[i : i + 32]]), y[perm[i : i + 32]]).backward()
            opt.step()
    for a, b in zip(trained.parameters(), ref.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


def test_accumulation_of_k_batches_of_b_equals_one_batch_of_k_times_b() -> None:
    x, y = data()
    weights = []
    for batch, k in ((32, 1), (8, 4), (16, 2)):
        model = mlp()
        cfg = TrainConfig(
            optimizer="sgd", lr=0.2, epochs=3, batch_size=batch, accumulation_steps=k, warmup_steps=2, **BASE
        )
        trainer = Trainer(model, nn.BCEWithLogitsLoss(), cfg)
        trainer.fit((x, y))
        assert trainer.global_step == 3 * 4  # optimizer steps, not micro-batches
        weights.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    torch.testing.assert_close(weights[1], weights[0], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(weights[2], weights[0], rtol=1e-5, atol=1e-6)


class _StepNorms(Callback):
    """Records the total gradient norm the optimizer is about to apply (after clipping)."""

    def on_fit_start(self, trainer: Trainer) -> None:
        self.norms: list[float] = []

        def hook(opt: torch.optim.Optimizer, args: object, kwargs: object) -> None:
            grads = [p.grad for g in opt.param_groups for p in g["params"] if p.grad is not None]
            self.norms.append(float(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads]))))

        assert trainer.optimizer is not None
        trainer.optimizer.register_step_pre_hook(hook)


@pytest.mark.parametrize("clip", [None, 0.05])
def test_grad_clipping_bounds_the_norm(clip: float | None) -> None:
    x, y = data()
    y = y * 10  # large targets: large gradients
    norms = _StepNorms()
    cfg = TrainConfig(lr=0.01, epochs=1, batch_size=16, grad_clip=clip, **BASE)
    Trainer(mlp(), nn.MSELoss(), cfg, callbacks=[norms]).fit((x, y))
    assert len(norms.norms) == 8
    if clip is None:
        assert max(norms.norms) > 1.0  # so the clipped run below has something to clip
    else:
        assert max(norms.norms) <= clip * (1 + 1e-5)


def test_bf16_autocast_runs_on_cpu_and_learns() -> None:
    x, y = data(256)
    dtypes = []
    model = mlp()
    model[0].register_forward_hook(lambda m, a, out: dtypes.append(out.dtype))
    cfg = TrainConfig(lr=0.02, epochs=8, batch_size=32, precision="bf16", **BASE)
    history = Trainer(model, nn.BCEWithLogitsLoss(), cfg).fit((x, y), (x, y))
    assert dtypes[0] == torch.bfloat16
    assert history[-1]["val_loss"] < 0.6 * history[0]["val_loss"]
    assert all(p.dtype == torch.float32 for p in model.parameters())  # master weights stay fp32


def test_nan_in_a_batch_raises_training_error_naming_the_batch() -> None:
    x, y = data()
    x[70] = float("nan")  # row 70 sits in batch 4 of 16-row batches without shuffling
    model = mlp()
    before = [p.detach().clone() for p in model.parameters()]
    cfg = TrainConfig(lr=0.01, epochs=1, batch_size=16, shuffle=False, **BASE)
    with pytest.raises(TrainingError, match="batch 4") as info:
        Trainer(model, nn.BCEWithLogitsLoss(), cfg).fit((x, y))
    assert info.value.code == "nonfinite-loss" and info.value.fix
    after = list(model.parameters())
    assert all(torch.isfinite(p).all() for p in after)  # stopped before the bad optimizer step
    assert not all(torch.equal(a, b) for a, b in zip(before, after))  # batches 0-3 were applied


def test_nan_policy_skip_skips_the_step_and_warns() -> None:
    x, y = data()
    x[70] = float("nan")
    cfg = TrainConfig(lr=0.01, epochs=2, batch_size=16, shuffle=False, nan_policy="skip", **BASE)
    model = mlp()
    trainer = Trainer(model, nn.BCEWithLogitsLoss(), cfg)
    with pytest.warns(LogitlabWarning, match="Skipped optimizer step") as record:
        trainer.fit((x, y))
    assert [str(w.message) for w in record] == [
        "Skipped optimizer step 4 (epoch 0, batch 4): the loss is nan.",
        "Skipped optimizer step 11 (epoch 1, batch 4): the loss is nan.",
    ]
    assert trainer.skipped_steps == 2 and trainer.global_step == 14
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_torch_dataset_path_matches_in_memory_path() -> None:
    x, y = data()
    cfg = TrainConfig(lr=0.01, epochs=2, batch_size=16, **BASE)
    a, b = mlp(), mlp()
    Trainer(a, nn.BCEWithLogitsLoss(), cfg).fit((x, y))
    Trainer(b, nn.BCEWithLogitsLoss(), cfg).fit(TensorDataset(x, y))  # DataLoader + seeded sampler
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-7)


class _Recorder(Callback):
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.steps: list[StepInfo] = []

    def on_fit_start(self, trainer: Trainer) -> None:
        self.calls.append("fit_start")

    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None:
        self.calls.append(f"epoch_start{epoch}")

    def on_after_backward(self, trainer: Trainer, step: int) -> None:
        assert all(p.grad is not None for p in trainer.model.parameters())

    def on_train_batch_end(self, trainer: Trainer, batch: StepInfo) -> None:
        self.steps.append(batch)

    def on_validation_end(self, trainer: Trainer, epoch: int, metrics: dict[str, float]) -> None:
        self.calls.append(f"val{epoch}:{sorted(metrics)}")

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        self.calls.append(f"epoch_end{epoch}")

    def on_fit_end(self, trainer: Trainer) -> None:
        self.calls.append("fit_end")


def test_hooks_order_step_info_evaluate_predict_and_metrics_csv(tmp_path: Path) -> None:
    x, y = data()
    rec = _Recorder()
    model = mlp()
    cfg = TrainConfig(lr=0.01, epochs=2, batch_size=32, **BASE)
    trainer = Trainer(model, nn.BCEWithLogitsLoss(), cfg, callbacks=[rec], run_dir=tmp_path)
    history = trainer.fit((x, y), (x[:40], y[:40]))
    assert rec.calls == [
        "fit_start",
        "epoch_start0",
        "val0:['val_loss']",
        "epoch_end0",
        "epoch_start1",
        "val1:['val_loss']",
        "epoch_end1",
        "fit_end",
    ]
    assert [s.step for s in rec.steps] == list(range(8)) and rec.steps[5].batch_idx == 1
    assert rec.steps[0].loss_value == pytest.approx(float(rec.steps[0].loss)) and rec.steps[
        0
    ].logits.shape == (32, 1)
    with torch.no_grad():
        expected = model(x)
        ref_loss = nn.functional.binary_cross_entropy_with_logits(model(x[:40]).double(), y[:40].double())
    torch.testing.assert_close(trainer.predict(x), expected)
    assert trainer.evaluate((x[:40], y[:40]))["loss"] == pytest.approx(float(ref_loss), rel=1e-6)
    assert history[-1]["val_loss"] == pytest.approx(float(ref_loss), rel=1e-6)
    rows = list(csv.DictReader((tmp_path / "metrics.csv").open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2]  # 1-based, as the progress lines print
    assert float(rows[1]["val_loss"]) == pytest.approx(history[1]["val_loss"])
    assert {"train_loss", "lr", "samples_per_s", "seconds"} <= set(rows[0])


def test_early_stopping_from_config() -> None:
    x, y = data()
    cfg = TrainConfig(
        lr=1e-9, epochs=20, batch_size=32, patience=2, min_delta=0.1, **BASE
    )  # nothing improves by 0.1
    history = Trainer(mlp(), nn.BCEWithLogitsLoss(), cfg).fit((x, y), (x, y))
    assert len(history) == 3  # the first epoch sets the best, two more without improvement


def test_progress_bar_shows_loss_and_throughput(capsys: pytest.CaptureFixture[str]) -> None:
    x, y = data()
    cfg = TrainConfig(lr=0.01, epochs=2, batch_size=32, log_every=1, **BASE)
    Trainer(mlp(), nn.BCEWithLogitsLoss(), cfg, callbacks=[ProgressBar(force=True)]).fit((x, y))
    out = capsys.readouterr().out
    assert "epoch 2/2" in out and "samples/s" in out and "loss 0." in out


def test_balanced_config_feeds_classes_in_equal_shares() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2000, 5, generator=g)
    y = torch.cat([torch.zeros(1800), torch.ones(200)]).unsqueeze(1)
    seen: list[torch.Tensor] = []

    def loss_fn(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        seen.append(targets)
        return nn.functional.binary_cross_entropy_with_logits(logits, targets)

    cfg = TrainConfig(lr=0.01, epochs=1, batch_size=100, balanced=True, **BASE)
    Trainer(mlp(), loss_fn, cfg).fit((x, y))
    share = torch.cat(seen).mean().item()
    assert len(torch.cat(seen)) == 2000 and abs(share - 0.5) < 0.05  # 0.1 without balancing; sd 0.011


def test_health_monitor_is_on_by_default_and_sees_every_step() -> None:
    from logitlab.doctor import HealthMonitor

    x, y = data()
    lr = 1e4  # an SGD step this large blows the logits up: the monitor must say so
    cfg = TrainConfig(
        optimizer="sgd", lr=lr, momentum=0.0, epochs=2, batch_size=32, schedule="constant", **BASE
    )
    trainer = Trainer(mlp(), nn.BCEWithLogitsLoss(), cfg)
    trainer.fit((x, y))
    assert isinstance(trainer.health, HealthMonitor)
    assert len(trainer.health.losses) == trainer.global_step == 8  # one loss per optimizer step
    assert [s for s, _ in trainer.health.grad_norms][:1] == [0]
    history = trainer.health.history
    assert history and max(row["logit_absmax"] for row in history) > 17.0  # saturated sigmoid
    assert (
        "saturated-logits" in trainer.health.report().codes
        or "exploding-gradients" in trainer.health.report().codes
    )

    off = Trainer(mlp(), nn.BCEWithLogitsLoss(), TrainConfig(health_monitor=False, epochs=1, **BASE))
    off.fit((x, y))
    assert off.health is None
    mine = HealthMonitor(log_every=1, stats_every=1)
    passed = Trainer(
        mlp(), nn.BCEWithLogitsLoss(), TrainConfig(epochs=1, batch_size=32, **BASE), callbacks=[mine]
    )
    passed.fit((x, y))
    assert passed.health is mine and len(mine.history) == 4  # the user's monitor, not a second one
