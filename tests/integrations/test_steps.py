"""The seams the integrations drive HealthMonitor through: StepBuffer, flush() and after_backward(loss_scaling=)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from logitlab.doctor import HealthMonitor
from logitlab.errors import TrainingError
from logitlab.integrations._steps import StepBuffer


def test_loss_value_is_the_mean_of_the_micro_batches():
    steps = StepBuffer(HealthMonitor())
    for i, value in enumerate((0.5, 1.0, 3.0)):
        steps.add(i, torch.zeros(2, 1), torch.ones(2, 1), torch.tensor(value))
    assert steps.loss_value() == pytest.approx((0.5 + 1.0 + 3.0) / 3)
    assert steps.loss_value([torch.tensor(2.0)]) == 2.0


def test_first_non_finite_micro_batch_is_the_one_explained():
    monitor = HealthMonitor()
    steps = StepBuffer(monitor)
    steps.add(4, torch.zeros(2, 1), torch.ones(2, 1), torch.tensor(0.7))
    steps.add(5, torch.tensor([[float("nan")], [0.0]]), torch.ones(2, 1), torch.tensor(float("nan")))
    with pytest.raises(TrainingError, match=r"step 2 \(epoch 1, batch 5\)") as info:
        steps.finish(float("nan"), step=2, epoch=1)
    assert info.value.code == "nonfinite-loss" and "non-finite logits" in str(info.value)
    assert steps.micro == []


def test_nan_on_another_rank_only_names_that():
    steps = StepBuffer(HealthMonitor())
    steps.add(0, torch.zeros(2, 1), torch.ones(2, 1), torch.tensor(0.7))
    with pytest.raises(TrainingError, match="on another rank") as info:
        steps.finish(float("nan"), step=3, epoch=0)
    assert info.value.code == "nonfinite-loss"


def test_without_fail_fast_a_nan_step_is_a_finding():
    monitor = HealthMonitor(fail_fast=False)
    steps = StepBuffer(monitor)
    steps.add(0, torch.zeros(2, 1), torch.ones(2, 1), torch.tensor(float("nan")))
    steps.finish(float("nan"), step=0, epoch=0)
    assert monitor.report().codes == ["nonfinite-loss"]


def test_loss_scaling_records_unscaled_non_finite_gradients_instead_of_raising():
    model = nn.Linear(2, 1)
    model(torch.ones(1, 2)).sum().backward()
    model.weight.grad[0, 0] = float("inf")
    monitor = HealthMonitor(grad_every=1)
    assert monitor.after_backward(model, step=0, loss_scaling=True) == float(
        "inf"
    )  # the fp16 scaler skips it
    assert len(monitor.report()) == 0
    with pytest.raises(TrainingError) as info:
        monitor.after_backward(model, step=1)
    assert info.value.code == "nonfinite-gradients"


def test_flush_reads_pending_statistics_and_raises_on_nan():
    monitor = HealthMonitor(log_every=100, stats_every=1)
    monitor.observe(torch.tensor([[1.0], [-3.0]]), None, step=0)
    assert monitor.history == []
    monitor.flush()
    assert monitor.history[-1]["logit_absmax"] == 3.0
    monitor.observe(torch.tensor([[float("nan")]]), None, step=1)
    with pytest.raises(TrainingError) as info:
        monitor.flush()
    assert info.value.code == "nonfinite-outputs"
