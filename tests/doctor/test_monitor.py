"""HealthMonitor: NaN fail-fast within one step, statistics against float64 references, gradient norms."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from logitlab.doctor import HealthMonitor, explain_nonfinite
from logitlab.errors import ConfigError, TrainingError


def _loop(monitor, model, batches, loss_fn, lr=0.1):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    done = []
    for step, (x, y) in enumerate(batches):
        logits = model(x)
        loss = loss_fn(logits, y)
        monitor.observe(logits, y, loss, step=step)
        loss.backward()
        monitor.after_backward(model, step=step)
        opt.step()
        opt.zero_grad()
        done.append(step)
    return done


def _batches(n=8, bad_step=None, where="inputs"):
    out = []
    for step in range(n):
        x, y = torch.randn(16, 4), (torch.rand(16, 1) < 0.5).float()
        if step == bad_step and where == "inputs":
            x[2, 1] = float("nan")
        if step == bad_step and where == "targets":
            y[5, 0] = float("nan")
        out.append((x, y))
    return out


def test_nan_inputs_stop_the_run_at_that_step_and_name_the_cause():
    model = nn.Linear(4, 1)
    steps_done = []
    monitor = HealthMonitor(loss_fn=nn.BCEWithLogitsLoss())
    with pytest.raises(TrainingError, match="step 5") as info:
        steps_done = _loop(monitor, model, _batches(bad_step=5), nn.BCEWithLogitsLoss())
    text = str(info.value)
    assert info.value.code == "nonfinite-loss"
    assert "batch 5" in text and "BCEWithLogitsLoss" in text
    assert "logits [16, 1] torch.float32: 1 NaN" in text
    assert "non-finite logits" in text and "Fix:" in text
    assert steps_done == []  # raised inside the loop
    assert all(torch.isfinite(p).all() for p in model.parameters())  # stopped before the NaN step's update


def test_nan_targets_are_named_as_the_cause():
    monitor = HealthMonitor()
    with pytest.raises(TrainingError, match="targets hold NaN"):
        _loop(monitor, nn.Linear(4, 1), _batches(bad_step=3, where="targets"), nn.BCEWithLogitsLoss())


def test_loss_overflowing_on_finite_logits_is_blamed_on_the_loss_term():
    def naive_bce(x, y):
        p = torch.sigmoid(x)
        return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()

    logits = torch.tensor([[30.0], [-2.0]])
    targets = torch.tensor([[0.0], [1.0]])
    text = explain_nonfinite(logits, targets, naive_bce, step=12, epoch=1, batch_idx=3)
    assert "step 12 (epoch 1, batch 3)" in text and "loss term: naive_bce" in text
    reference = (F.softplus(torch.tensor([30.0, 2.0], dtype=torch.float64))).mean().item()  # float64 BCE
    assert f"{reference:.6g}" in text
    assert "|logits| reach 30" in text


def test_logit_statistics_match_a_float64_reference():
    monitor = HealthMonitor(log_every=3, stats_every=1)
    chunks = [torch.randn(10, 3) * (i + 1) for i in range(6)]
    for step, logits in enumerate(chunks):
        monitor.observe(logits, None, loss_value=1.0, step=step)
    assert len(monitor.history) == 2
    for record, window in zip(monitor.history, (chunks[:3], chunks[3:])):
        ref = torch.cat(window).double().flatten()
        assert record["logit_mean"] == pytest.approx(ref.mean().item(), rel=1e-4, abs=1e-5)
        assert record["logit_std"] == pytest.approx(ref.std(unbiased=False).item(), rel=1e-4)
        assert record["logit_absmax"] == pytest.approx(ref.abs().max().item(), rel=1e-6)


def test_gradient_norm_matches_reference_and_is_sampled_every_grad_every_steps():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    monitor = HealthMonitor(grad_every=2)
    norms = []
    for step in range(4):
        F.cross_entropy(model(torch.randn(16, 4)), torch.randint(0, 2, (16,))).backward()
        ref = math.sqrt(sum(p.grad.double().pow(2).sum().item() for p in model.parameters()))
        got = monitor.after_backward(model, step=step)
        norms.append(got)
        if step % 2 == 0:
            assert got == pytest.approx(ref, rel=1e-5)
        model.zero_grad()
    assert norms[1] is None and norms[3] is None
    assert [s for s, _ in monitor.grad_norms] == [0, 2]


def test_exploding_gradients_and_spikes_are_reported_not_raised():
    model = nn.Linear(4, 1)
    monitor = HealthMonitor(grad_every=1)
    x = torch.randn(16, 4) * 1e5
    F.binary_cross_entropy_with_logits(model(x), torch.ones(16, 1)).backward()
    monitor.after_backward(model, step=0)
    for step in range(1, 15):
        monitor.observe(torch.zeros(2, 1), None, loss_value=0.5, step=step)
    monitor.observe(torch.zeros(2, 1), None, loss_value=5.0, step=15)
    report = monitor.report()
    assert {"exploding-gradients", "loss-spike"} <= set(report.codes)
    assert "step 15" in report.get("loss-spike").message


def test_fp16_loss_scaling_inf_gradients_do_not_raise():
    model = nn.Linear(2, 1)
    model.weight.grad = torch.full_like(model.weight, float("inf"))
    monitor = HealthMonitor(grad_every=1)
    assert math.isinf(monitor.after_backward(model, step=0, scale=65536.0))
    with pytest.raises(TrainingError, match="Non-finite gradient norm"):
        monitor.after_backward(model, step=1)


def test_as_trainer_callback_reads_only_given_loss_values():
    monitor = HealthMonitor(log_every=2)
    trainer = SimpleNamespace(model=nn.Linear(2, 1), loss_fn=nn.BCEWithLogitsLoss(), scaler=None)
    logits, targets = torch.randn(4, 1), torch.ones(4, 1)
    # loss_value None (not a log step): a NaN loss tensor is the trainer's business, nothing is read
    batch = SimpleNamespace(
        step=0,
        epoch=0,
        batch_idx=0,
        logits=logits,
        targets=targets,
        loss=torch.tensor(float("nan")),
        loss_value=None,
    )
    monitor.on_train_batch_end(trainer, batch)
    batch = SimpleNamespace(
        step=1,
        epoch=0,
        batch_idx=1,
        logits=logits,
        targets=targets,
        loss=torch.tensor(float("nan")),
        loss_value=float("nan"),
    )
    with pytest.raises(TrainingError, match="loss term: BCEWithLogitsLoss"):
        monitor.on_train_batch_end(trainer, batch)


def test_monitor_is_a_trainer_callback_when_the_trainer_exists():
    callbacks = pytest.importorskip("logitlab.train.callbacks")
    assert isinstance(HealthMonitor(), callbacks.Callback)


def test_bad_options_raise_config_error():
    with pytest.raises(ConfigError, match="log_every"):
        HealthMonitor(log_every=0)
    with pytest.raises(ConfigError, match="spike_factor"):
        HealthMonitor(spike_factor=0.5)


def test_nonfinite_logits_with_a_finite_loss_raise_at_the_next_log_read():
    monitor = HealthMonitor(log_every=4, stats_every=1)
    for step in range(3):
        monitor.observe(torch.randn(8, 2), None, loss_value=0.7, step=step)
    logits = torch.randn(8, 2)
    logits[1, 1] = float("inf")
    with pytest.raises(TrainingError, match="1 Inf") as info:
        monitor.observe(logits, torch.zeros(8, dtype=torch.long), loss_value=0.7, step=3)
    assert info.value.code == "nonfinite-outputs" and "step 3" in str(info.value)


_IMPORT_ORDER = r"""
import sys
if sys.argv[1] == "doctor":
    from logitlab.doctor import HealthMonitor
    from logitlab.train import Callback, Trainer
else:
    from logitlab.train import Callback, Trainer
    from logitlab.doctor import HealthMonitor
import logitlab.train.trainer as trainer_module
assert issubclass(HealthMonitor, Callback), HealthMonitor.__mro__
assert trainer_module.HealthMonitor is HealthMonitor
print("ok")
"""


@pytest.mark.slow
@pytest.mark.parametrize("first", ["doctor", "train"])
def test_doctor_and_trainer_import_in_either_order(first):
    """The doctor (with HealthMonitor) sits below the trainer: either package may be imported first."""
    import os
    import subprocess
    import sys

    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run(
        [sys.executable, "-c", _IMPORT_ORDER, first], capture_output=True, text=True, env=env
    )
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr[-2000:]
