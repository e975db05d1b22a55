"""diagnose(): robustness on bad tensors, misuse errors, side effects, rendering."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from logitlab.doctor import DiagnoseTypeError, Report, diagnose
from logitlab.errors import ConfigError

WEIRD = [
    (torch.tensor(1.0), torch.tensor(1.0), nn.BCEWithLogitsLoss()),
    (torch.randn(4, 3, 5), torch.randint(0, 3, (4, 5)), nn.CrossEntropyLoss()),
    (torch.randn(4, 3, 5), torch.rand(4, 3, 5), nn.BCEWithLogitsLoss()),
    (torch.randint(0, 5, (4, 2)), torch.ones(4, 2), nn.BCEWithLogitsLoss()),
    (torch.randn(4, 2), torch.ones(4, 2, 2), F.cross_entropy),
    (torch.full((4, 3), float("nan")), torch.full((4,), -5), nn.NLLLoss()),
    (torch.randn(4, 3), np.array([0, 1, 2, 7]), None),
    (torch.randn(4, 3).half(), [[1, 0, 0]] * 4, nn.BCELoss()),
    (torch.randn(0, 3), torch.zeros(0, dtype=torch.long), nn.CrossEntropyLoss()),
    (torch.randn(4, 1), torch.ones(4, 1), lambda x, y: "not a number"),
    (torch.randn(4, 1), torch.ones(4, 1), lambda x, y: torch.ones(3)),
]


@pytest.mark.parametrize(("outputs", "targets", "loss"), WEIRD)
def test_never_raises_on_bad_tensors(outputs, targets, loss):
    report = diagnose(outputs, targets, loss)
    assert isinstance(report, Report)
    json.dumps(report.to_dict())
    assert str(report)


@pytest.mark.parametrize(
    "call",
    [
        lambda: diagnose("logits", torch.ones(3)),
        lambda: diagnose(torch.ones(3), {"y": 1}),
        lambda: diagnose(torch.ones(3), torch.ones(3), "bce"),
        lambda: diagnose(torch.ones(3), torch.ones(3), model="mlp"),
    ],
)
def test_misuse_raises_a_logitlab_type_error(call):
    with pytest.raises(DiagnoseTypeError, match="Expected argument") as info:
        call()
    assert isinstance(info.value, TypeError) and isinstance(info.value, ConfigError) and info.value.fix


def test_unknown_task_is_a_config_error():
    with pytest.raises(ConfigError, match="task"):
        diagnose(torch.randn(4, 1), torch.ones(4, 1), task="regression")


def test_model_and_inputs_leave_grads_buffers_and_graph_untouched():
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 1))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x, y = torch.randn(16, 4), (torch.arange(16) % 2).float()[:, None]
    out = model(x)
    after_user_forward = {k: v.clone() for k, v in model.state_dict().items()}
    report = diagnose(out, y, nn.BCEWithLogitsLoss(), model=model, inputs=x)
    assert report.ok, str(report)
    assert all(p.grad is None for p in model.parameters())
    for k, v in model.state_dict().items():
        assert torch.equal(v, after_user_forward[k]), k  # the doctor's own forward pass left no trace
    assert not torch.equal(before["1.running_mean"], after_user_forward["1.running_mean"])
    F.binary_cross_entropy_with_logits(out, y).backward()  # the caller's graph still works
    assert model[0].weight.grad is not None


def test_structural_detection_sees_through_reshape_and_cast():
    x = torch.randn(32, 1, requires_grad=True)
    outputs = torch.sigmoid(x).squeeze(1).double()
    report = diagnose(outputs, (torch.arange(32) % 2).double(), nn.BCEWithLogitsLoss())
    assert "sigmoid-before-logits-loss" in report


def test_value_range_alone_is_not_an_error():
    report = diagnose(torch.rand(100, 1), (torch.arange(100) % 2).float()[:, None], nn.BCEWithLogitsLoss())
    assert report.ok and report.get("outputs-look-like-probabilities").severity == "warning"
    small = diagnose(torch.rand(10, 1), (torch.arange(10) % 2).float()[:, None], nn.BCEWithLogitsLoss())
    assert small.get("outputs-look-like-probabilities").severity == "info"


def test_chance_value_message_uses_ln2_and_lnC():
    logits = torch.full((40, 1), 6.0)
    y = torch.zeros(40, 1)
    report = diagnose(logits, y, nn.BCEWithLogitsLoss())
    ref = F.softplus(torch.tensor(6.0, dtype=torch.float64)).item()  # BCE of logit 6 against 0
    finding = report.get("initial-loss-far-from-chance")
    assert f"{ref:.4g}" in finding.message and "ln 2 = 0.693" in finding.message
    report = diagnose(torch.randn(40, 10) * 20, torch.arange(40) % 10, nn.CrossEntropyLoss())
    assert "ln 10 = 2.303" in report.get("initial-loss-far-from-chance").message


def test_report_rendering_and_dict():
    report = diagnose(
        torch.sigmoid(torch.randn(8, 1, requires_grad=True)), torch.ones(8, 1), nn.BCEWithLogitsLoss()
    )
    text = str(report)
    assert (
        "sigmoid-before-logits-loss" in text and "1 error(s)" in text and "remove the final sigmoid" in text
    )
    data = report.to_dict()
    assert data["ok"] is False and data["findings"][0]["code"] == "sigmoid-before-logits-loss"
    assert json.loads(json.dumps(data)) == data


def test_complex_outputs_are_misuse():
    with pytest.raises(DiagnoseTypeError, match="real-valued"):
        diagnose(torch.randn(4, 2, dtype=torch.complex64), torch.zeros(4, dtype=torch.long))


def test_manual_loss_cannot_modify_the_callers_tensors():
    outputs, targets = torch.randn(16, 1), (torch.arange(16) % 2).float()[:, None]
    kept = outputs.clone()

    def in_place(x, y):
        x.clamp_(-0.1, 0.1)
        return F.binary_cross_entropy_with_logits(x, y)

    diagnose(outputs, targets, in_place)
    assert torch.equal(outputs, kept)


def test_random_combinations_of_shapes_dtypes_and_losses_never_raise():
    import random

    rng = random.Random(0)
    shapes = [(), (0,), (5,), (5, 1), (5, 3), (5, 3, 2), (6, 2)]
    dtypes = [torch.float32, torch.float16, torch.bfloat16, torch.int64, torch.bool]
    losses = [
        None,
        nn.BCEWithLogitsLoss(),
        nn.BCELoss(),
        nn.CrossEntropyLoss(),
        nn.NLLLoss(),
        F.binary_cross_entropy_with_logits,
        lambda a, b: (a - b).pow(2).mean(),
        nn.BCEWithLogitsLoss(pos_weight=torch.ones(3)),
        nn.CrossEntropyLoss(weight=torch.ones(2)),
    ]

    def make(shape, dtype):
        t = torch.randn(shape) * rng.choice([1.0, 30.0, 1e5])
        if rng.random() < 0.2 and t.numel():
            t.view(-1)[0] = float("nan")
        if dtype == torch.bool:
            return t > 0
        return (
            (t.nan_to_num().abs().clamp(max=1e6) % 4).to(dtype)
            if not dtype.is_floating_point
            else t.to(dtype)
        )

    for _ in range(300):
        outputs, targets = (
            make(rng.choice(shapes), rng.choice(dtypes)),
            make(rng.choice(shapes), rng.choice(dtypes)),
        )
        task = rng.choice([None, "binary", "multilabel", "multiclass"])
        report = diagnose(outputs, targets, rng.choice(losses), task=task)
        assert isinstance(report, Report) and str(report)


def test_model_last_module_is_used_when_outputs_have_no_graph():
    model = nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1))
    with torch.no_grad():
        outputs = model(torch.randn(16, 4))
    report = diagnose(outputs, torch.arange(16) % 3, nn.CrossEntropyLoss(), model=model)
    assert "softmax-before-cross-entropy" in report
    assert "outputs-look-like-probabilities" not in report  # the structural finding replaces the hint
    plain = nn.Sequential(nn.Linear(4, 3))
    with torch.no_grad():
        report = diagnose(plain(torch.randn(16, 4)), torch.arange(16) % 3, nn.CrossEntropyLoss(), model=plain)
    assert report.ok and not report.warnings, str(report)
