"""The catalogue: every finding code is detected on two independently built mistaken setups, and
correct setups (binary, multilabel, multiclass, weights, bf16, torch and logitlab-style losses) give
no warning or error."""

from __future__ import annotations

import functools
import math
import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from logitlab.doctor import CODES, HealthMonitor, Report, diagnose, diagnose_dataset, diagnose_text_columns

N = 64


def g(*shape, scale=1.0, dtype=torch.float32):
    """Logits that come out of a Linear layer (an autograd graph that is not an activation)."""
    lin = nn.Linear(8, shape[-1] if len(shape) > 1 else 1)
    out = lin(torch.randn(shape[0], 8)) * scale
    return (out if len(shape) > 1 else out.squeeze(1)).to(dtype)


def binary(n=N, shape=(N, 1)):
    return (torch.arange(n) % 2).float().reshape(shape)


def multihot(n=N, labels=5):
    t = (torch.rand(n, labels) < 0.5).float()
    t[0] = 1.0  # at least one row with several positives, every label present
    t[1] = 0.0
    t[1, 0] = 1.0
    return t


def classes(n=N, c=4):
    return torch.arange(n) % c


class FamilyLoss(nn.Module):
    """A logitlab-style loss: recognised by its `family` attribute and its weight buffers."""

    family = "sigmoid"

    def __init__(self, pos_weight=None, result=None):
        super().__init__()
        self.register_buffer("pos_weight", pos_weight)
        self.result = result

    def forward(self, logits, targets):
        if self.result is not None:
            return torch.tensor(self.result)
        return F.binary_cross_entropy_with_logits(logits, targets, pos_weight=self.pos_weight)


class SoftmaxFamilyLoss(nn.Module):
    family = "softmax"

    def __init__(self, weight=None):
        super().__init__()
        self.register_buffer("weight", weight)

    def forward(self, logits, targets):
        return F.cross_entropy(logits, targets, weight=self.weight)


def naive_bce(x, y):
    p = torch.sigmoid(x)
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()


def naive_ce(x, y):
    p = torch.exp(x) / torch.exp(x).sum(1, keepdim=True)
    return -torch.log(p.gather(1, y[:, None])).mean()


def stable_bce(x, y):
    return -(y * F.logsigmoid(x) + (1 - y) * F.logsigmoid(-x)).mean()


def stable_ce(x, y):
    return -F.log_softmax(x, 1).gather(1, y[:, None]).mean()


def mlp(out, last=None, n_in=8):
    layers = [nn.Linear(n_in, 16), nn.ReLU(), nn.Linear(16, out)]
    return nn.Sequential(*layers, *([last] if last is not None else []))


def with_model(model, targets, loss, **kw):
    x = torch.randn(targets.shape[0], 8)
    with torch.no_grad():
        out = model(x)
    return diagnose(out, targets, loss, model=model, inputs=x, **kw)


def backward_then(model, x, targets, loss, factor=1.0, poison=None):
    out = model(x)
    (loss(out, targets) * factor).backward()
    if poison is not None:
        next(model.parameters()).grad.fill_(poison)
    return diagnose(out.detach(), targets, loss, model=model)


def dead_relu():
    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1, bias=False))
    with torch.no_grad():
        model[0].bias.fill_(-100.0)
    x = torch.randn(N, 8)
    return diagnose(model(x), binary(), nn.BCEWithLogitsLoss(), model=model)


def tiny_inputs():
    model = nn.Linear(8, 1, bias=False)
    x = torch.randn(N, 8) * 1e-10
    return diagnose(model(x) * 0, binary() * 0 + 0.5, nn.BCEWithLogitsLoss(), model=model)


def exploding_linear():
    model = nn.Linear(8, 1)
    x = torch.randn(N, 8) * 1e4
    return diagnose(model(x), binary(), nn.BCEWithLogitsLoss(), model=model, inputs=x)


def one_hot_rows(n, c):
    return F.one_hot(torch.arange(n) % c, c).float()


def monitor_spike(values):
    monitor = HealthMonitor(log_every=1000)
    for step, v in enumerate(values):
        monitor.observe(torch.zeros(4, 1), torch.ones(4, 1), torch.tensor(v), step=step)
    return monitor.report()


def monitor_constant(logits):
    monitor = HealthMonitor(log_every=10, stats_every=1)
    for step in range(10):
        monitor.observe(logits, None, loss_value=1.0986, step=step)
    return monitor.report()


def with_nan(t, value=float("nan")):
    t = t.clone()
    t.view(-1)[3] = value
    return t


MISTAKES = {
    "sigmoid-before-logits-loss": [
        lambda: diagnose(torch.sigmoid(g(N, 1)), binary(), nn.BCEWithLogitsLoss()),
        lambda: with_model(mlp(1, nn.Sigmoid()), binary(), F.binary_cross_entropy_with_logits),
        lambda: diagnose(torch.sigmoid(g(N, 4)), classes(), nn.CrossEntropyLoss()),
    ],
    "softmax-before-cross-entropy": [
        lambda: diagnose(torch.softmax(g(N, 4), 1), classes(), nn.CrossEntropyLoss()),
        lambda: with_model(mlp(4, nn.Softmax(dim=1)), classes(), F.cross_entropy),
    ],
    "log-softmax-before-cross-entropy": [
        lambda: diagnose(F.log_softmax(g(N, 4), 1), classes(), nn.CrossEntropyLoss()),
        lambda: with_model(mlp(3, nn.LogSoftmax(dim=1)), classes(c=3), F.cross_entropy),
    ],
    "nll-loss-without-log-softmax": [
        lambda: diagnose(g(N, 4), classes(), nn.NLLLoss()),
        lambda: diagnose(torch.softmax(g(N, 3), 1), classes(c=3), F.nll_loss),
    ],
    "logits-to-bce-loss": [
        lambda: diagnose(g(N, 1, scale=3), binary(), nn.BCELoss()),
        lambda: diagnose(torch.randn(N, 5) * 2, multihot(), F.binary_cross_entropy),
    ],
    "probabilities-to-bce-loss": [
        lambda: diagnose(torch.sigmoid(g(N, 1)), binary(), nn.BCELoss()),
        lambda: with_model(mlp(5, nn.Sigmoid()), multihot(), F.binary_cross_entropy),
    ],
    "outputs-look-like-probabilities": [
        lambda: diagnose(torch.rand(N, 1), binary(), nn.BCEWithLogitsLoss()),
        lambda: diagnose(torch.softmax(torch.randn(N, 4), 1), classes(), F.cross_entropy),
    ],
    "multi-hot-with-cross-entropy": [
        lambda: diagnose(g(N, 5), multihot(), nn.CrossEntropyLoss()),
        lambda: diagnose(g(N, 3), torch.zeros(N, 3), F.cross_entropy),
    ],
    "one-hot-with-bce": [
        lambda: diagnose(g(N, 4), one_hot_rows(N, 4), nn.BCEWithLogitsLoss()),
        lambda: diagnose(g(63, 3), torch.eye(3).repeat(21, 1), F.binary_cross_entropy_with_logits),
    ],
    "single-logit-cross-entropy": [
        lambda: diagnose(g(N, 1), torch.zeros(N, dtype=torch.long), nn.CrossEntropyLoss()),
        lambda: diagnose(g(N), binary(shape=(N,)).long(), F.cross_entropy),
    ],
    "loss-family-mismatch": [
        lambda: diagnose(g(N, 4), classes(), nn.BCEWithLogitsLoss(), task="multiclass"),
        lambda: diagnose(g(N, 5), multihot(), nn.CrossEntropyLoss(), task="multilabel"),
    ],
    "class-indices-for-bce": [
        lambda: diagnose(g(N, 5), classes(c=5), nn.BCEWithLogitsLoss()),
        lambda: diagnose(g(N, 3), classes(c=3).float(), F.binary_cross_entropy_with_logits),
        lambda: diagnose(g(N, 20), torch.randint(0, 20, (N, 3)), nn.BCEWithLogitsLoss()),
    ],
    "predictions-not-logits": [
        lambda: diagnose(g(N, 4).argmax(1), classes(), nn.CrossEntropyLoss()),
        lambda: diagnose(torch.round(torch.sigmoid(g(N, 1))), binary(), nn.BCELoss()),
    ],
    "constant-outputs": [
        lambda: diagnose(torch.zeros(N, 1), binary(), nn.BCEWithLogitsLoss()),
        lambda: diagnose(torch.tensor([[0.3, -0.2, 0.1]]).repeat(N, 1), classes(c=3), F.cross_entropy),
        lambda: monitor_constant(torch.full((16, 3), 0.5)),
    ],
    "empty-batch": [
        lambda: diagnose(torch.zeros(0, 1), torch.zeros(0, 1), nn.BCEWithLogitsLoss()),
        lambda: diagnose(g(N, 3), torch.zeros(0, dtype=torch.long), nn.CrossEntropyLoss()),
    ],
    "broadcast-trap": [
        lambda: diagnose(g(N, 1), binary(shape=(N,)), nn.BCEWithLogitsLoss()),
        lambda: diagnose(g(N), binary(), stable_bce),
    ],
    "label-count-mismatch": [
        lambda: diagnose(g(N, 5), multihot(labels=4), nn.BCEWithLogitsLoss()),
        lambda: diagnose(g(N, 3), torch.full((N, 4), 0.25), nn.CrossEntropyLoss()),
    ],
    "missing-batch-dimension": [
        lambda: diagnose(g(1, 10)[0], F.one_hot(torch.tensor(3), 10), nn.CrossEntropyLoss()),
        lambda: diagnose(
            g(1, 6)[:, :, None, None].expand(1, 6, 4, 4), torch.randint(0, 6, (4, 4)), F.cross_entropy
        ),
        lambda: diagnose(g(1, 5), torch.ones(5), nn.BCEWithLogitsLoss()),
    ],
    "flattened-targets": [
        lambda: diagnose(g(8, 4), one_hot_rows(8, 4).long().view(-1), nn.CrossEntropyLoss()),
        lambda: diagnose(g(N, 5), multihot().view(-1), nn.BCEWithLogitsLoss()),
    ],
    "reshape-folded-batch": [
        lambda: diagnose(g(4 * N, 3), classes(c=3), nn.CrossEntropyLoss()),
        lambda: diagnose(g(N, 2).view(-1, 1), binary(), nn.BCEWithLogitsLoss()),
    ],
    "target-shape-mismatch": [
        lambda: diagnose(g(N, 3), multihot(labels=3)[:, :, None], nn.BCEWithLogitsLoss()),
        lambda: diagnose(g(N), multihot(labels=2), F.binary_cross_entropy_with_logits),
    ],
    "batch-size-mismatch": [
        lambda: diagnose(g(8, 1), binary(6, (6, 1)), nn.BCEWithLogitsLoss()),
        lambda: diagnose(g(8, 3), classes(6, 3), F.cross_entropy),
    ],
    "int-targets-for-bce": [
        lambda: diagnose(g(N, 1), binary().long(), nn.BCEWithLogitsLoss()),
        lambda: diagnose(g(N, 5), multihot().bool(), F.binary_cross_entropy_with_logits),
    ],
    "targets-out-of-range": [
        lambda: diagnose(g(N, 1), binary() * 2, nn.BCEWithLogitsLoss()),
        lambda: diagnose(g(N, 3), torch.tensor([[0.7, 0.6, 0.2]]).repeat(N, 1), nn.CrossEntropyLoss()),
        lambda: diagnose(g(N), binary(shape=(N,)) * 2 - 1, F.binary_cross_entropy_with_logits),
    ],
    "class-index-out-of-range": [
        lambda: diagnose(g(N, 4), classes() + 1, nn.CrossEntropyLoss()),
        lambda: diagnose(g(N, 4), classes() - 1, F.cross_entropy),
    ],
    "class-targets-wrong-form": [
        lambda: diagnose(g(N, 4), classes().float(), nn.CrossEntropyLoss()),
        lambda: diagnose(g(N, 4), classes().unsqueeze(1), F.cross_entropy),
        lambda: diagnose(g(N, 4), F.one_hot(classes(), 4), nn.CrossEntropyLoss()),
    ],
    "nonfinite-outputs": [
        lambda: diagnose(with_nan(g(N, 1)), binary(), nn.BCEWithLogitsLoss()),
        lambda: diagnose(with_nan(g(N, 4), float("inf")), classes(), F.cross_entropy),
    ],
    "nonfinite-targets": [
        lambda: diagnose(g(N, 1), with_nan(binary()), nn.BCEWithLogitsLoss()),
        lambda: diagnose(g(N, 4), with_nan(torch.full((N, 4), 0.25), float("inf")), nn.CrossEntropyLoss()),
    ],
    "saturated-logits": [
        lambda: diagnose(g(N, 1, scale=60), binary(), nn.BCEWithLogitsLoss()),
        lambda: diagnose(g(N, 4, scale=80), classes(), F.cross_entropy),
    ],
    "exp-overflow": [
        lambda: diagnose(torch.full((N, 1), 12.0, dtype=torch.float16), binary(), nn.BCEWithLogitsLoss()),
        lambda: diagnose(g(N, 4, scale=500), classes(), nn.CrossEntropyLoss()),
    ],
    "pos-weight-wrong-length": [
        lambda: diagnose(g(N, 5), multihot(), nn.BCEWithLogitsLoss(pos_weight=torch.ones(3))),
        lambda: diagnose(
            g(N, 1), binary(), functools.partial(F.binary_cross_entropy_with_logits, pos_weight=torch.ones(2))
        ),
    ],
    "pos-weight-wrong-axis": [
        lambda: diagnose(g(N, 4), multihot(labels=4), nn.BCEWithLogitsLoss(pos_weight=torch.ones(4, 1))),
        lambda: diagnose(g(N), binary(shape=(N,)), FamilyLoss(pos_weight=torch.ones(N))),
    ],
    "weight-wrong-shape": [
        lambda: diagnose(g(N, 4), classes(), nn.CrossEntropyLoss(weight=torch.ones(5))),
        lambda: diagnose(g(N, 5), multihot(), nn.BCEWithLogitsLoss(weight=torch.ones(3))),
    ],
    "bad-weight-values": [
        lambda: diagnose(g(N, 1), binary(), nn.BCEWithLogitsLoss(pos_weight=torch.tensor([float("nan")]))),
        lambda: diagnose(g(N, 3), classes(c=3), nn.CrossEntropyLoss(weight=torch.tensor([1.0, -1.0, 2.0]))),
    ],
    "loss-raised": [
        lambda: diagnose(g(N, 1), binary(), lambda o, t: o[:, 5].mean()),
        lambda: diagnose(g(N, 4), classes(), lambda o, t: F.nll_loss(o, t.float())),
    ],
    "nonfinite-loss": [
        lambda: diagnose(g(N, 4), torch.zeros(N, dtype=torch.long), nn.CrossEntropyLoss(ignore_index=0)),
        lambda: diagnose(g(N, 1), binary(), FamilyLoss(result=float("nan"))),
    ],
    "initial-loss-far-from-chance": [
        lambda: diagnose(g(N, 1, scale=12), binary(), nn.BCEWithLogitsLoss()),
        lambda: diagnose(g(N, 10, scale=15), classes(c=10), F.cross_entropy),
    ],
    "unrecognised-loss": [
        lambda: diagnose(g(N, 1), binary(), stable_bce),
        lambda: diagnose(g(N, 4), classes(), stable_ce),
    ],
    "manual-loss-nonfinite": [
        lambda: diagnose(g(N, 1, scale=200), binary(), naive_bce),
        lambda: diagnose(g(N, 4, scale=400), classes(), naive_ce),
    ],
    "manual-loss-mismatch": [
        lambda: diagnose(g(N, 1), binary(), lambda x, y: -(y * torch.log(torch.sigmoid(x) + 0.05)).mean()),
        lambda: diagnose(g(N, 5), multihot(), lambda x, y: -(y * F.logsigmoid(x)).mean()),
    ],
    "manual-loss-log-base": [
        lambda: diagnose(
            g(N, 1),
            binary(),
            lambda x, y: -(y * F.logsigmoid(x) + (1 - y) * F.logsigmoid(-x)).mean() / math.log(2),
        ),
        lambda: diagnose(
            g(N, 4), classes(), lambda x, y: -torch.log2(torch.softmax(x, 1)).gather(1, y[:, None]).mean()
        ),
    ],
    "uncalibrated-weighted-loss": [
        lambda: diagnose(g(N, 1), binary(), nn.BCEWithLogitsLoss(pos_weight=torch.tensor([9.0]))),
        lambda: diagnose(g(N, 3), classes(c=3), nn.CrossEntropyLoss(weight=torch.tensor([1.0, 1.0, 6.0]))),
    ],
    "label-absent-in-batch": [
        lambda: diagnose(g(N, 5), multihot() * torch.tensor([1.0, 1, 0, 1, 1]), nn.BCEWithLogitsLoss()),
        lambda: diagnose(g(N, 4), classes(c=3), nn.CrossEntropyLoss()),
    ],
    "severe-imbalance-unweighted": [
        lambda: diagnose(g(N, 1), (torch.arange(N) < 3).float()[:, None], nn.BCEWithLogitsLoss()),
        lambda: diagnose(g(N, 3), torch.tensor([1, 1, 2, 2] + [0] * (N - 4)), F.cross_entropy),
    ],
    "nonfinite-gradients": [
        lambda: backward_then(
            mlp(1), torch.randn(N, 8), binary(), nn.BCEWithLogitsLoss(), poison=float("nan")
        ),
        lambda: backward_then(
            mlp(4), torch.randn(N, 8), classes(), nn.CrossEntropyLoss(), factor=float("inf")
        ),
    ],
    "exploding-gradients": [
        exploding_linear,
        lambda: backward_then(mlp(4), torch.randn(N, 8), classes(), nn.CrossEntropyLoss(), factor=1e6),
    ],
    "vanishing-gradients": [dead_relu, tiny_inputs],
    "loss-spike": [
        lambda: monitor_spike([0.7] * 20 + [9.0]),
        lambda: monitor_spike([1.0 / (i + 1) for i in range(30)] + [3.0]),
    ],
    "task-inferred": [
        lambda: diagnose_dataset([0, 1] * 10),
        lambda: diagnose_dataset(["cat", "dog", "bird"] * 5),
    ],
    "imbalanced-labels": [
        lambda: diagnose_dataset([0] * 95 + [1] * 5),
        lambda: diagnose_dataset([0] * 50 + [1] * 50 + [2] * 4),
    ],
    "single-class": [
        lambda: diagnose_dataset(torch.zeros(20), task="binary"),
        lambda: diagnose_dataset(["cat"] * 20, task="multiclass"),
    ],
    "empty-label": [
        lambda: diagnose_dataset((multihot() * torch.tensor([1.0, 1, 0, 1, 1])).numpy()),
        lambda: diagnose_dataset(F.one_hot(torch.arange(30) % 3, 4).numpy(), task="multiclass"),
    ],
    "constant-label": [
        lambda: diagnose_dataset(torch.cat([torch.ones(N, 1), multihot(labels=3)], 1)),
        lambda: diagnose_dataset([["a", "b"], ["a"], ["a", "c"], ["a", "b", "c"]] * 5),
    ],
    "label-cardinality": [
        lambda: diagnose_dataset(multihot()),
        lambda: diagnose_dataset([["x", "y"], ["y"], ["z", "x"]] * 5),
    ],
    "text-read-as-category": [
        lambda: Report(diagnose_text_columns({"review": (12.0, 0.95, 400), "city": (1.3, 0.02, 400)})),
        lambda: Report(_text_profiles_of_a_table()),  # long repeated texts: text whatever the repetition
    ],
    "too-few-for-stratified-split": [
        lambda: diagnose_dataset([0] * 20 + [1] * 20 + [2] * 2),
        lambda: diagnose_dataset(torch.cat([multihot(labels=3), (torch.arange(N) == 0).float()[:, None]], 1)),
    ],
}


def _text_profiles_of_a_table():
    import pandas as pd

    from logitlab.data.text import text_profile

    frame = pd.DataFrame({"note": ["the parcel arrived late and the box was damaged on one side"] * 30})
    return diagnose_text_columns({"note": text_profile(frame["note"])})


CASES = [(code, i) for code, makers in MISTAKES.items() for i in range(len(makers))]


def test_every_code_has_two_mistaken_setups():
    assert set(MISTAKES) == set(CODES), set(CODES) ^ set(MISTAKES)
    assert all(len(makers) >= 2 for makers in MISTAKES.values())


@pytest.mark.parametrize(("code", "index"), CASES, ids=[f"{c}-{i}" for c, i in CASES])
def test_mistake_is_detected(code, index):
    report = MISTAKES[code][index]()
    assert code in report.codes, str(report)
    finding = report.get(code)
    assert finding.message and finding.fix
    if CODES[code][0] == "error":
        assert not report.ok


def _correct_setups():
    imbalanced = (torch.arange(N) < 10).float()[:, None]
    soft = torch.softmax(torch.randn(N, 4), 1)
    ignore = classes().clone()
    ignore[:5] = -100
    model = mlp(1)
    x = torch.randn(N, 8)
    multiclass_model = mlp(4)
    xm = torch.randn(N, 8)
    F.cross_entropy(multiclass_model(xm), classes()).backward()
    from torchvision.ops import sigmoid_focal_loss

    return {
        "binary-[N]": lambda: diagnose(g(N), binary(shape=(N,)), nn.BCEWithLogitsLoss()),
        "binary-[N,1]": lambda: diagnose(g(N, 1), binary(), nn.BCEWithLogitsLoss()),
        "binary-functional": lambda: diagnose(g(N, 1), binary(), F.binary_cross_entropy_with_logits),
        "binary-pos-weight": lambda: diagnose(
            g(N, 1), imbalanced, nn.BCEWithLogitsLoss(pos_weight=torch.tensor([5.4]))
        ),
        "binary-no-loss": lambda: diagnose(g(N, 1), binary(), task="binary"),
        "multilabel": lambda: diagnose(g(N, 5), multihot(), nn.BCEWithLogitsLoss()),
        "multilabel-pos-weight": lambda: diagnose(
            g(N, 5), multihot(), nn.BCEWithLogitsLoss(pos_weight=torch.rand(5) + 0.5)
        ),
        "multilabel-partial": lambda: diagnose(
            g(N, 5),
            multihot(),
            functools.partial(F.binary_cross_entropy_with_logits, pos_weight=torch.full((5,), 2.0)),
        ),
        "multilabel-element-weight": lambda: diagnose(
            g(N, 5), multihot(), nn.BCEWithLogitsLoss(weight=torch.rand(N, 5))
        ),
        "multiclass": lambda: diagnose(g(N, 4), classes(), nn.CrossEntropyLoss()),
        "multiclass-weight": lambda: diagnose(
            g(N, 4), classes(), nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2, 3, 4]))
        ),
        "multiclass-functional": lambda: diagnose(g(N, 4), classes(), F.cross_entropy),
        "multiclass-soft-targets": lambda: diagnose(g(N, 4), soft, nn.CrossEntropyLoss()),
        "multiclass-one-hot-ce": lambda: diagnose(g(N, 4), one_hot_rows(N, 4), nn.CrossEntropyLoss()),
        "multiclass-ignore-index": lambda: diagnose(g(N, 4), ignore, nn.CrossEntropyLoss()),
        "multiclass-label-smoothing": lambda: diagnose(
            g(N, 4), classes(), nn.CrossEntropyLoss(label_smoothing=0.1)
        ),
        "nll-log-softmax": lambda: diagnose(F.log_softmax(g(N, 4), 1), classes(), nn.NLLLoss()),
        "nll-functional": lambda: diagnose(F.log_softmax(g(N, 3), 1), classes(c=3), F.nll_loss),
        "bf16-binary": lambda: diagnose(g(N, 1, dtype=torch.bfloat16), binary(), nn.BCEWithLogitsLoss()),
        "bf16-multilabel": lambda: diagnose(
            g(N, 5, dtype=torch.bfloat16), multihot(), nn.BCEWithLogitsLoss()
        ),
        "bf16-multiclass": lambda: diagnose(g(N, 4, dtype=torch.bfloat16), classes(), nn.CrossEntropyLoss()),
        "model-inputs-binary": lambda: diagnose(
            model(x), binary(), nn.BCEWithLogitsLoss(), model=model, inputs=x
        ),
        "model-after-backward": lambda: diagnose(
            multiclass_model(xm).detach(), classes(), F.cross_entropy, model=multiclass_model
        ),
        "manual-stable-bce": lambda: diagnose(g(N, 1), binary(), stable_bce),
        "manual-stable-ce": lambda: diagnose(g(N, 4), classes(), stable_ce, task="multiclass"),
        "family-sigmoid-pos-weight": lambda: diagnose(
            g(N, 5), multihot(), FamilyLoss(pos_weight=torch.ones(5) * 2)
        ),
        "family-softmax-weight": lambda: diagnose(
            g(N, 4), classes(), SoftmaxFamilyLoss(weight=torch.ones(4))
        ),
        "focal-imbalanced": lambda: diagnose(
            g(N, 1), imbalanced, functools.partial(sigmoid_focal_loss, reduction="mean")
        ),
        "two-logit-binary-ce": lambda: diagnose(g(N, 2), classes(c=2), nn.CrossEntropyLoss(), task="binary"),
    }


CORRECT = list(_correct_setups())


@pytest.mark.parametrize("name", CORRECT)
def test_correct_setup_has_no_warning_or_error(name):
    report = _correct_setups()[name]()
    bad = [f for f in report if f.severity != "info"]
    assert not bad, str(report)
    assert report.ok


def test_at_least_twenty_correct_setups():
    assert len(CORRECT) >= 20


def test_logitlab_losses_are_recognised_when_present():
    losses = pytest.importorskip("logitlab.losses")
    if not hasattr(losses, "make_loss"):
        pytest.skip("logitlab.losses is not built yet")
    cases = [
        ("binary", g(N, 1), binary(), {}),
        ("multilabel", g(N, 5), multihot(), {}),
        ("multiclass", g(N, 4), classes(), {}),
    ]
    for task, out, y, options in cases:
        report = diagnose(out, y, losses.make_loss(task, **options), task=task)
        assert [f for f in report if f.severity != "info"] == [], str(report)
    report = diagnose(torch.sigmoid(g(N, 1)), binary(), losses.make_loss("binary"))
    assert "sigmoid-before-logits-loss" in report.codes
    report = diagnose(g(N, 5), multihot(), losses.make_loss("multiclass"))
    assert "multi-hot-with-cross-entropy" in report.codes


def test_codes_table_in_docs_matches_constant():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "doctor.md").read_text()
    documented = set(re.findall(r"^\| `([a-z0-9-]+)` \|", doc, flags=re.M))
    assert documented == set(CODES), documented ^ set(CODES)
    for code, (severity, _) in CODES.items():
        assert re.search(rf"^\| `{code}` \| {severity} \|", doc, flags=re.M), code
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", c) for c in CODES)
