# ruff: noqa: B023  (lambdas are called at once, inside the loop)
"""The opt-in compile=True path: values and gradients against float64 and the fused kernels, errors, fallbacks.

Compiling is slow (seconds per kernel on CPU), so the compiling tests share one configuration per loss:
12 kernels in all (loss and gradient kernels, reduced and unreduced, for three losses).
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

import logitlab.losses as L
from logitlab.errors import ConfigError
from logitlab.losses import _compiled
from tests.reference.losses_reference import ref_asl, ref_bce, ref_focal

# name -> (our loss with the options shared by every test here, float64 reference elementwise loss)
CASES = {
    "focal": (
        lambda x, t, pw, w, **kw: L.sigmoid_focal_loss(
            x, t, gamma=2.0, alpha=0.25, pos_weight=pw, weight=w, **kw
        ),
        lambda x, t, pw: ref_focal(x, t, 2.0, 0.25, pw),
    ),
    "asl": (
        lambda x, t, pw, w, **kw: L.asymmetric_loss(
            x, t, gamma_pos=1.0, gamma_neg=4.0, clip=0.05, pos_weight=pw, weight=w, **kw
        ),
        lambda x, t, pw: ref_asl(x, t, 1.0, 4.0, 0.05, pw),
    ),
    "bce": (
        lambda x, t, pw, w, **kw: L.bce_with_logits(x, t, pos_weight=pw, weight=w, label_smoothing=0.1, **kw),
        lambda x, t, pw: ref_bce(x, t, pw, 0.1),
    ),
}


def _data(n: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 5, generator=g) * 3
    x[0] = torch.tensor([0.0, 30.0, -30.0, 17.0, -17.0])  # exp(-|x|) below float32's epsilon, and 0
    t = (torch.rand(n, 5, generator=g) > 0.5).float()
    pw = torch.rand(5, generator=g) * 3 + 0.2
    w = torch.rand(n, 1, generator=g) + 0.5
    return x.requires_grad_(), t, pw, w


def _value_grad(fn, x):
    out = fn(x)
    (grad,) = torch.autograd.grad(out.sum(), x)
    return out.detach(), grad


def _graphs() -> int:
    from torch._dynamo.utils import counters

    return counters["stats"]["unique_graphs"]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_compiled_matches_float64_reference_and_fused(name):
    ours, ref = CASES[name]
    x, t, pw, w = _data(8)
    ref_elem = lambda x: ref(x, t.double(), pw.double()) * w.double()  # noqa: E731
    refs = {"none": ref_elem, "mean": lambda x: ref_elem(x).mean(), "sum": lambda x: ref_elem(x).sum()}
    for reduction, reference in refs.items():
        got = _value_grad(lambda x: ours(x, t, pw, w, reduction=reduction, compile=True), x)
        fused = _value_grad(lambda x: ours(x, t, pw, w, reduction=reduction), x)
        expected = _value_grad(reference, x.detach().double().requires_grad_())
        assert got[0].dtype == torch.float32 and got[1].dtype == torch.float32
        for g, f, e in zip(got, fused, expected):
            torch.testing.assert_close(g.double(), e, rtol=2e-5, atol=2e-5)
            torch.testing.assert_close(g, f, rtol=1e-5, atol=1e-6)
    # another batch size reuses the kernels (dynamic shapes: no recompile), and stays right
    before = _graphs()
    x2, t2, pw2, w2 = _data(13, seed=1)
    for reduction in ("none", "mean"):
        got = _value_grad(lambda x: ours(x, t2, pw2, w2, reduction=reduction, compile=True), x2)
        fused = _value_grad(lambda x: ours(x, t2, pw2, w2, reduction=reduction), x2)
        torch.testing.assert_close(got, fused, rtol=1e-5, atol=1e-6)
    assert _graphs() == before


@pytest.mark.slow
def test_make_loss_and_modules_take_compile():
    x, t, pw, w = _data(8)
    for name, task_name in (("focal", "focal"), ("asl", "asl"), ("bce", "bce")):
        options = {
            "focal": {"gamma": 2.0, "alpha": 0.25},
            "asl": {"gamma_pos": 1.0},
            "bce": {"label_smoothing": 0.1},
        }
        loss = L.make_loss("multilabel", task_name, pos_weight=pw, weight=w, compile=True, **options[name])
        assert loss.compiled is True and callable(loss.compile)  # nn.Module.compile is not shadowed
        eager = L.make_loss("multilabel", task_name, pos_weight=pw, weight=w, **options[name])
        got, want = _value_grad(lambda x: loss(x, t), x), _value_grad(lambda x: eager(x, t), x)
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


def _fake_compile_failure(*_args, **_kwargs):
    from torch._dynamo.exc import TorchDynamoException

    def compiled(*_a):
        raise TorchDynamoException(
            "InvalidCxxCompiler: No working C++ compiler found in cpp.cxx\nlong traceback"
        )

    return compiled


@pytest.mark.parametrize("where", ["first call", "torch.compile"])
def test_unavailable_compiler_is_a_config_error(monkeypatch, where):
    def refuse(*_args, **_kwargs):
        raise RuntimeError("torch.compile is not supported on this Python")

    monkeypatch.setattr(torch, "compile", _fake_compile_failure if where == "first call" else refuse)
    x, t = torch.randn(4, 3, requires_grad=True), torch.ones(4, 3)
    gamma = 3.25 if where == "first call" else 3.5  # a configuration no other test compiled
    with pytest.raises(ConfigError, match="could not compile the focal loss kernel") as info:
        L.sigmoid_focal_loss(x, t, gamma=gamma, compile=True)
    err = info.value
    assert err.code == "compile-unavailable" and "compile=False" in err.fix
    assert err.__cause__ is None and err.__suppress_context__  # no inductor traceback shown
    assert "long traceback" not in str(err)
    if where == "first call":
        assert "for cpu: TorchDynamoException: InvalidCxxCompiler" in str(err)
    # nothing failed is cached: the eager fused path is still there
    assert torch.isfinite(L.sigmoid_focal_loss(x, t, gamma=gamma))


def test_compile_option_errors_and_fallbacks():
    with pytest.raises(ConfigError, match="cannot be combined with fused=False") as info:
        L.SigmoidFocalLoss(compile=True, fused=False)
    assert info.value.code == "compile-needs-fused"
    with pytest.raises(ConfigError, match="`compile` to be True or False"):
        L.make_loss("binary", "bce", compile="yes")
    with pytest.raises(ConfigError, match="fused=False"):
        L.asymmetric_loss(torch.zeros(2), torch.zeros(2), fused=False, compile=True)
    # no compile for an empty batch, nor when targets need a gradient (composite fallback, as fused=True)
    empty = torch.zeros(0, 3, requires_grad=True)
    assert L.bce_with_logits(empty, torch.zeros(0, 3), compile=True).item() == 0.0
    x, t = torch.randn(3, 2, requires_grad=True), torch.rand(3, 2, requires_grad=True)
    L.asymmetric_loss(x, t, compile=True).backward()
    assert x.grad is not None and t.grad is not None


@pytest.mark.slow
def test_import_does_not_load_the_compiler():
    code = "import sys, logitlab.losses; print(sorted(m for m in ('torch._dynamo', 'torch._inductor') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert _compiled.__name__ == "logitlab.losses._compiled"
