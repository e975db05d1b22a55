"""TrainConfig validation and the warmup + cosine schedule (checked like timm's scheduler tests)."""

from __future__ import annotations

import json
import math

import pytest
import torch

from logitlab.errors import ConfigError
from logitlab.train import TrainConfig
from logitlab.train.schedule import build_scheduler, resolve_warmup


def test_config_round_trips_through_json() -> None:
    cfg = TrainConfig(
        optimizer="sgd", lr=0.1, epochs=3, grad_clip=1.0, patience=2, precision="bf16", resume="auto"
    )
    assert TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg


def test_precision_aliases_are_the_same_setting() -> None:
    assert TrainConfig(precision="32").precision == "fp32"
    assert TrainConfig(precision="bf16-mixed").precision == "bf16"


@pytest.mark.parametrize(
    ("changes", "phrase"),
    [
        ({"optimizer": "adam"}, "one of 'adamw' or 'sgd'"),
        ({"lr": 0.0}, "`lr` to be a finite number > 0"),
        ({"lr": float("nan")}, "`lr` to be a finite number > 0"),
        ({"epochs": 0}, "`epochs` to be an int >= 1"),
        ({"batch_size": True}, "`batch_size` to be an int >= 1"),
        ({"accumulation_steps": 0}, "`accumulation_steps`"),
        ({"grad_clip": -1.0}, "`grad_clip` to be None or a number > 0"),
        ({"warmup_steps": 5, "warmup_ratio": 0.1}, "one of `warmup_steps` and `warmup_ratio`"),
        ({"warmup_ratio": 1.0}, "`warmup_ratio` to be in \\[0, 1\\)"),
        ({"min_lr": 1.0, "lr": 0.1}, "`min_lr` <= `lr`"),
        ({"precision": "fp8"}, "`precision` to be one of"),
        ({"device": "tpu"}, "`device` to be 'auto'"),
        ({"nan_policy": "ignore"}, "`nan_policy`"),
        ({"patience": 0}, "`patience`"),
    ],
)
def test_bad_values_raise_config_error_with_fix(changes: dict, phrase: str) -> None:
    with pytest.raises(ConfigError, match=phrase) as info:
        TrainConfig(**changes)
    assert info.value.fix


def test_fp16_on_cpu_is_refused() -> None:
    with pytest.raises(ConfigError, match="only on CUDA") as info:
        TrainConfig(precision="fp16", device="cpu")
    assert "bf16" in info.value.fix


def test_unknown_key_in_from_dict() -> None:
    with pytest.raises(ConfigError, match="unknown key"):
        TrainConfig.from_dict({"epochs": 2, "learning_rate": 0.1})


def _lrs(total: int, warmup: int, lr: float, min_lr: float, schedule: str = "cosine") -> list[float]:
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    sched = build_scheduler(opt, total_steps=total, warmup_steps=warmup, min_lr=min_lr, schedule=schedule)
    out = []
    for _ in range(total):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


@pytest.mark.parametrize(("total", "warmup"), [(50, 10), (7, 3), (20, 1)])
def test_warmup_rises_strictly_from_above_zero_then_cosine_reaches_min_lr(total: int, warmup: int) -> None:
    lr, min_lr = 0.1, 1e-3
    lrs = _lrs(total, warmup, lr, min_lr)
    assert lrs[0] > 0
    assert all(b > a for a, b in zip(lrs[:warmup], lrs[1 : warmup + 1]))  # strictly rising into the peak
    assert lrs[warmup] == pytest.approx(lr)
    assert all(b <= a for a, b in zip(lrs[warmup:], lrs[warmup + 1 :]))  # then never rising
    assert lrs[-1] == pytest.approx(min_lr, abs=1e-12)
    for s in range(warmup, total):  # float64 reference formula
        t = (s - warmup) / (total - 1 - warmup)
        assert lrs[s] == pytest.approx(min_lr + (lr - min_lr) * 0.5 * (1 + math.cos(math.pi * t)), rel=1e-9)


def test_constant_schedule_and_no_warmup() -> None:
    assert _lrs(5, 0, 0.1, 0.0, "constant") == pytest.approx([0.1] * 5)
    assert _lrs(5, 2, 0.3, 0.0, "constant") == pytest.approx([0.1, 0.2, 0.3, 0.3, 0.3])


def test_warmup_longer_than_the_run_is_refused() -> None:
    assert resolve_warmup(100, 0, 0.05) == 5
    with pytest.raises(ConfigError, match="optimizer steps of the run"):
        resolve_warmup(10, 10, 0.0)
