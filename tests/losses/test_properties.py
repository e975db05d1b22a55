# ruff: noqa: B023  (lambdas are called at once, inside the loop)
"""Identities, invariants, extreme regimes, bf16, and the fused kernels' gradients."""

from __future__ import annotations

import pytest
import torch

import logitlab.losses as L
from logitlab.losses._fused import FusedASL, FusedBCE, FusedFocal


def _xt(seed=0, shape=(12, 5), scale=3.0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    x = (torch.randn(shape, generator=g) * scale).to(dtype).requires_grad_()
    t = (torch.rand(shape, generator=g) > 0.5).to(dtype)
    return x, t


def _val_grad(fn, x):
    v = fn(x)
    (g,) = torch.autograd.grad(v.sum(), x)
    return v.detach(), g


def _same(a, b, fn_a, fn_b, x, **tol):
    va, ga = _val_grad(fn_a, x)
    vb, gb = _val_grad(fn_b, x)
    torch.testing.assert_close(va, vb, **tol)
    torch.testing.assert_close(ga, gb, **tol)


@pytest.mark.parametrize("fused", [True, False])
def test_identities(fused):
    x, t = _xt()
    pw = torch.tensor([1.0, 2.0, 0.5, 3.0, 1.0])
    bce = lambda x: L.bce_with_logits(x, t, reduction="none", fused=fused)  # noqa: E731
    _same(
        0,
        0,
        lambda x: L.sigmoid_focal_loss(x, t, gamma=0.0, alpha=None, reduction="none", fused=fused),
        bce,
        x,
    )
    _same(0, 0, lambda x: L.bce_with_logits(x, t, label_smoothing=0.0, reduction="none", fused=fused), bce, x)
    _same(
        0,
        0,
        lambda x: L.bce_with_logits(x, t, pos_weight=torch.ones(5), reduction="none", fused=fused),
        bce,
        x,
    )
    _same(
        0,
        0,
        lambda x: L.asymmetric_loss(
            x, t, gamma_pos=0.0, gamma_neg=0.0, clip=0.0, reduction="none", fused=fused
        ),
        bce,
        x,
    )
    _same(
        0,
        0,
        lambda x: L.sigmoid_focal_loss(
            x, t, gamma=0.0, alpha=None, pos_weight=pw, reduction="none", fused=fused
        ),
        lambda x: L.bce_with_logits(x, t, pos_weight=pw, reduction="none", fused=fused),
        x,
    )
    y = torch.randint(0, 5, (12,))
    ce = lambda x: L.cross_entropy(x, y, reduction="none")  # noqa: E731
    _same(0, 0, lambda x: L.softmax_focal_loss(x, y, gamma=0.0, reduction="none"), ce, x)
    _same(0, 0, lambda x: L.poly1_cross_entropy(x, y, epsilon=0.0, reduction="none"), ce, x)
    _same(0, 0, lambda x: L.logit_adjusted_cross_entropy(x, y, prior=torch.ones(5), reduction="none"), ce, x)


def test_focal_never_exceeds_bce():
    x, t = _xt(seed=3, shape=(64, 8), scale=5.0)
    soft = torch.rand(64, 8)
    for targets in (t, soft):
        for gamma in (0.5, 1.0, 2.0, 5.0):
            focal = L.sigmoid_focal_loss(x, targets, gamma=gamma, alpha=None, reduction="none")
            assert bool((focal <= L.bce_with_logits(x, targets, reduction="none") + 1e-7).all())


def test_weights_scale_elements():
    x, t = _xt()
    w = torch.rand(12, 1)
    for fn in (L.bce_with_logits, L.sigmoid_focal_loss, L.asymmetric_loss):
        torch.testing.assert_close(fn(x, t, weight=w, reduction="none"), fn(x, t, reduction="none") * w)


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("scale", [30.0, 1e4])
def test_extreme_logits_and_constant_targets_stay_finite(fused, scale):
    signs = torch.tensor([[1.0, -1.0, 1.0, -1.0]]).repeat(4, 1)
    for t in (torch.zeros(4, 4), torch.ones(4, 4), (torch.arange(16).reshape(4, 4) % 2).float()):
        for fn in (
            lambda x, t: L.bce_with_logits(
                x, t, pos_weight=torch.full((4,), 2.0), label_smoothing=0.1, fused=fused
            ),
            lambda x, t: L.sigmoid_focal_loss(x, t, gamma=2.0, fused=fused),
            lambda x, t: L.sigmoid_focal_loss(x, t, gamma=0.5, fused=fused),
            lambda x, t: L.asymmetric_loss(x, t, fused=fused),
            lambda x, t: L.asymmetric_loss(x, t, gamma_neg=0.5, clip=0.0, fused=fused),
            lambda x, t: L.bce_dice_loss(x, t),
        ):
            x = (signs * scale).requires_grad_()
            v, g = _val_grad(lambda x: fn(x, t), x)
            assert torch.isfinite(v).all() and torch.isfinite(g).all()
    x = (signs * scale).requires_grad_()
    y = torch.tensor([0, 1, 2, 3])
    for fn in (L.cross_entropy, L.softmax_focal_loss, L.poly1_cross_entropy):
        v, g = _val_grad(lambda x: fn(x, y), x)
        assert torch.isfinite(v).all() and torch.isfinite(g).all()


def test_confident_right_answers_cost_nothing():
    x = torch.tensor([1e4, -1e4])
    t = torch.tensor([1.0, 0.0])
    assert L.bce_with_logits(x, t).item() == 0.0
    assert L.sigmoid_focal_loss(x, t).item() == 0.0
    assert L.bce_with_logits(-x, t, reduction="none").tolist() == [1e4, 1e4]


def test_empty_batch_gives_zero_loss_and_empty_grad():
    for fn in (L.bce_with_logits, L.sigmoid_focal_loss, L.asymmetric_loss):
        x = torch.zeros(0, 3, requires_grad=True)
        loss = fn(x, torch.zeros(0, 3))
        loss.backward()
        assert loss.item() == 0.0 and x.grad is not None and x.grad.shape == (0, 3)
    x = torch.zeros(0, 3, requires_grad=True)
    for fn in (L.cross_entropy, L.softmax_focal_loss, L.poly1_cross_entropy):
        assert fn(x, torch.zeros(0, dtype=torch.long)).item() == 0.0


def test_bf16_within_tolerance_and_asl_in_float32():
    x, t = _xt(seed=5, shape=(32, 6))
    xb = x.detach().bfloat16().requires_grad_()
    for fn in (L.bce_with_logits, L.sigmoid_focal_loss, L.asymmetric_loss):
        ref = fn(xb.detach().float(), t)  # same bf16-rounded inputs, float32 math
        out = fn(xb, t.bfloat16())
        assert out.dtype == torch.float32
        torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-6)  # computed in float32 internally
        (g,) = torch.autograd.grad(out, xb)
        assert g.dtype == torch.bfloat16 and torch.isfinite(g).all()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = L.asymmetric_loss(x, t)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, L.asymmetric_loss(x, t))


def test_fused_gradcheck_float64():
    g = torch.Generator().manual_seed(7)
    x = torch.randn(4, 3, generator=g, dtype=torch.float64, requires_grad=True)
    t = torch.rand(4, 3, generator=g, dtype=torch.float64)
    pw = torch.rand(3, generator=g, dtype=torch.float64) + 0.5
    w = torch.rand(4, 1, generator=g, dtype=torch.float64)
    for red in ("none", "mean", "sum"):
        assert torch.autograd.gradcheck(lambda x: FusedBCE.apply(x, t, pw, w, red), x)
        for gamma in (0.0, 0.5, 2.0):
            assert torch.autograd.gradcheck(lambda x: FusedFocal.apply(x, t, gamma, 0.25, pw, w, red), x)
        for gp, gn, clip in ((0.0, 4.0, 0.05), (1.0, 0.5, 0.0), (0.0, 0.0, 0.2)):
            assert torch.autograd.gradcheck(
                lambda x: FusedASL.apply(x, t.round(), gp, gn, clip, pw, w, red), x
            )


def test_fused_matches_composite_float32():
    x, t = _xt(seed=9, shape=(64, 16))
    soft = torch.rand(64, 16)
    pw = torch.rand(16) * 3 + 0.1
    for targets in (t, soft):
        for fn, kw in (
            (L.bce_with_logits, {"pos_weight": pw, "label_smoothing": 0.1}),
            (L.sigmoid_focal_loss, {"gamma": 2.0, "alpha": 0.3, "pos_weight": pw}),
            (L.asymmetric_loss, {"gamma_pos": 1.0, "gamma_neg": 3.0, "clip": 0.05, "pos_weight": pw}),
        ):
            _same(
                0,
                0,
                lambda x: fn(x, targets, **kw, fused=True),
                lambda x: fn(x, targets, **kw, fused=False),
                x,
                rtol=1e-5,
                atol=1e-6,
            )


def test_fused_falls_back_when_weights_need_grad_and_supports_mean_scaling():
    x, t = _xt()
    pw = torch.ones(5, requires_grad=True)
    loss = L.bce_with_logits(x, t, pos_weight=pw)
    (gpw,) = torch.autograd.grad(loss, pw)
    assert gpw.shape == (5,) and torch.isfinite(gpw).all()
    with pytest.raises(RuntimeError, match="once_differentiable|twice|does not require grad"):
        (g,) = torch.autograd.grad(L.bce_with_logits(x, t), x, create_graph=True)
        g.sum().backward()
    (g,) = torch.autograd.grad(L.bce_with_logits(x, t, fused=False), x, create_graph=True)
    (gg,) = torch.autograd.grad(g.sum(), x)
    assert torch.isfinite(gg).all()


def test_modules_hold_weights_as_buffers():
    m = L.SigmoidFocalLoss(pos_weight=torch.tensor([1.0, 2.0]))
    assert "pos_weight" in dict(m.named_buffers())
    assert "weight" in dict(L.CrossEntropyLoss(weight=torch.ones(3)).named_buffers())
    assert "prior" in dict(L.LogitAdjustedCrossEntropyLoss(prior=torch.ones(3)).named_buffers())
    assert m.pos_weight.dtype == torch.float32 and m.family == "sigmoid" and m.reduction == "mean"


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_fused_chunked_path_matches_composite(reduction):
    """(3000, 100) spans several row chunks of the fused kernels; per-sample weights are sliced per chunk."""
    g = torch.Generator().manual_seed(11)
    x = (torch.randn(3000, 100, generator=g) * 3).requires_grad_()
    t = (torch.rand(3000, 100, generator=g) > 0.8).float()
    w, pw = torch.rand(3000, 1, generator=g), torch.rand(100, generator=g) + 0.5
    for fn, kw in (
        (L.bce_with_logits, {"pos_weight": pw}),
        (L.sigmoid_focal_loss, {"pos_weight": pw}),
        (L.asymmetric_loss, {"pos_weight": pw}),
    ):
        a = fn(x, t, weight=w, reduction=reduction, **kw)
        (ga,) = torch.autograd.grad(a.sum(), x)
        b = fn(x, t, weight=w, reduction=reduction, fused=False, **kw)
        (gb,) = torch.autograd.grad(b.sum(), x)
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(ga, gb, rtol=1e-5, atol=1e-6)
