# ruff: noqa: B023  (lambdas are called at once, inside the loop)
"""Every loss against the float64 references (values and gradients) and against torch / torchvision."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import logitlab.losses as L
from tests.reference.losses_reference import (
    ref_asl,
    ref_bce,
    ref_ce,
    ref_dice,
    ref_focal,
    ref_poly1,
    ref_softmax_focal,
)

SHAPES = st.tuples(st.integers(1, 7), st.integers(1, 5))


def _data(shape: tuple[int, int], seed: int, dtype=torch.float64, hard: bool = True):
    g = torch.Generator().manual_seed(seed)
    x = (torch.randn(shape, generator=g, dtype=torch.float64) * 3).to(dtype).requires_grad_()
    t = torch.rand(shape, generator=g, dtype=torch.float64)
    t = (t > 0.5).to(dtype) if hard else t.to(dtype)
    pw = (torch.rand(shape[1], generator=g, dtype=torch.float64) * 3 + 0.2).to(dtype)
    return x, t, pw


def _check(ours, ref, x, *, rtol, atol):
    """Compare values (reduction none) and the gradient of the sum."""
    ref_x = x.detach().double().requires_grad_()
    r = ref(ref_x)
    (gr,) = torch.autograd.grad(r.sum(), ref_x)
    o = ours(x)
    (go,) = torch.autograd.grad(o.sum(), x)
    torch.testing.assert_close(o.double(), r.detach(), rtol=rtol, atol=atol)
    torch.testing.assert_close(go.double(), gr, rtol=rtol, atol=atol)


SIGMOID_CASES = {
    "bce": (
        lambda x, t, pw, f: L.bce_with_logits(
            x, t, pos_weight=pw, label_smoothing=0.1, reduction="none", fused=f
        ),
        lambda x, t, pw: ref_bce(x, t, pw, 0.1),
    ),
    "focal": (
        lambda x, t, pw, f: L.sigmoid_focal_loss(
            x, t, gamma=2.0, alpha=0.25, pos_weight=pw, reduction="none", fused=f
        ),
        lambda x, t, pw: ref_focal(x, t, 2.0, 0.25, pw),
    ),
    "focal_g05": (
        lambda x, t, pw, f: L.sigmoid_focal_loss(x, t, gamma=1.5, alpha=None, reduction="none", fused=f),
        lambda x, t, pw: ref_focal(x, t, 1.5, None),
    ),
    "asl": (
        lambda x, t, pw, f: L.asymmetric_loss(
            x, t, gamma_pos=1.0, gamma_neg=4.0, clip=0.05, pos_weight=pw, reduction="none", fused=f
        ),
        lambda x, t, pw: ref_asl(x, t, 1.0, 4.0, 0.05, pw),
    ),
    "asl_noclip": (
        lambda x, t, pw, f: L.asymmetric_loss(
            x, t, gamma_pos=0.0, gamma_neg=2.0, clip=0.0, reduction="none", fused=f
        ),
        lambda x, t, pw: ref_asl(x, t, 0.0, 2.0, 0.0),
    ),
}


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("name", sorted(SIGMOID_CASES))
@settings(max_examples=6, deadline=None)
@given(shape=SHAPES, seed=st.integers(0, 10_000))
def test_sigmoid_losses_match_reference(name, fused, shape, seed):
    ours, ref = SIGMOID_CASES[name]
    for dtype, tol in ((torch.float64, 1e-9), (torch.float32, 2e-5)):
        x, t, pw = _data(shape, seed, dtype)
        _check(
            lambda x: ours(x, t, pw, fused), lambda x: ref(x, t.double(), pw.double()), x, rtol=tol, atol=tol
        )


@settings(max_examples=6, deadline=None)
@given(shape=SHAPES, seed=st.integers(0, 10_000))
def test_dice_matches_reference(shape, seed):
    x, t, _ = _data(shape, seed, hard=False)
    _check(
        lambda x: L.soft_dice_loss(x, t, smooth=1.0, reduction="none"),
        lambda x: ref_dice(x, t, 1.0),
        x,
        rtol=1e-9,
        atol=1e-9,
    )
    bd = L.bce_dice_loss(x, t, bce_weight=0.3, dice_weight=0.7)
    expected = 0.3 * ref_bce(x, t).mean() + 0.7 * ref_dice(x, t, 1.0).mean()
    torch.testing.assert_close(bd, expected)


@pytest.mark.parametrize("soft", [False, True])
@settings(max_examples=6, deadline=None)
@given(n=st.integers(1, 7), c=st.integers(2, 6), seed=st.integers(0, 10_000))
def test_softmax_losses_match_reference(soft, n, c, seed):
    g = torch.Generator().manual_seed(seed)
    x = (torch.randn(n, c, generator=g, dtype=torch.float64) * 3).requires_grad_()
    t = (
        torch.softmax(torch.randn(n, c, generator=g, dtype=torch.float64), 1)
        if soft
        else torch.randint(0, c, (n,), generator=g)
    )
    w = torch.rand(c, generator=g, dtype=torch.float64) + 0.1
    prior = torch.rand(c, generator=g, dtype=torch.float64) + 0.05
    cases = [
        (
            lambda x: L.cross_entropy(x, t, weight=w, label_smoothing=0.2, reduction="none"),
            lambda x: ref_ce(x, t, w, 0.2),
        ),
        (
            lambda x: L.softmax_focal_loss(x, t, gamma=2.0, weight=w, reduction="none"),
            lambda x: ref_softmax_focal(x, t, 2.0, w),
        ),
        (
            lambda x: L.poly1_cross_entropy(x, t, epsilon=0.7, label_smoothing=0.1, reduction="none"),
            lambda x: ref_poly1(x, t, 0.7, 0.1),
        ),
        (
            lambda x: L.logit_adjusted_cross_entropy(x, t, prior=prior, tau=1.5, reduction="none"),
            lambda x: ref_ce(x + 1.5 * torch.log(prior / prior.sum()), t),
        ),
    ]
    for ours, ref in cases:
        _check(ours, ref, x, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("smoothing", [0.0, 0.15])
@pytest.mark.parametrize("soft", [False, True])
def test_cross_entropy_matches_torch_with_weight_and_smoothing(smoothing, soft):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(9, 4, generator=g)
    t = torch.softmax(torch.randn(9, 4, generator=g), 1) if soft else torch.randint(0, 4, (9,), generator=g)
    w = torch.tensor([0.5, 2.0, 1.0, 3.0])
    for red in ("none", "mean", "sum"):
        ours = L.CrossEntropyLoss(weight=w, label_smoothing=smoothing, reduction=red)(x, t)
        torch.testing.assert_close(
            ours, F.cross_entropy(x, t, weight=w, label_smoothing=smoothing, reduction=red)
        )


def test_bce_matches_torch_native():
    g = torch.Generator().manual_seed(1)
    x, t, pw = (
        torch.randn(16, 5, generator=g),
        torch.rand(16, 5, generator=g),
        torch.rand(5, generator=g) + 0.5,
    )
    w = torch.rand(16, 1, generator=g)
    for red in ("none", "mean", "sum"):
        ours = L.bce_with_logits(x, t, pos_weight=pw, weight=w, reduction=red)
        torch.testing.assert_close(
            ours, F.binary_cross_entropy_with_logits(x, t, weight=w, pos_weight=pw, reduction=red)
        )


@pytest.mark.parametrize("alpha", [0.25, -1.0])
def test_sigmoid_focal_matches_torchvision(alpha):
    from torchvision.ops import sigmoid_focal_loss as tv_focal

    g = torch.Generator().manual_seed(2)
    x = (torch.randn(32, 6, generator=g) * 4).requires_grad_()
    t = (torch.rand(32, 6, generator=g) > 0.7).float()
    tv = tv_focal(x, t, alpha=alpha, gamma=2.0, reduction="mean")
    (g_tv,) = torch.autograd.grad(tv, x)
    ours = L.sigmoid_focal_loss(x, t, gamma=2.0, alpha=None if alpha < 0 else alpha)
    (g_ours,) = torch.autograd.grad(ours, x)
    torch.testing.assert_close(ours, tv)
    torch.testing.assert_close(g_ours, g_tv, rtol=1e-4, atol=1e-7)


def test_known_values_by_hand():
    # BCE at x=0 is log 2; focal at x=0, t=1, gamma=2, alpha=None is log2/4; ASL negative at p=.5, clip .05
    assert abs(L.bce_with_logits(torch.zeros(1), torch.ones(1)).item() - 0.693147) < 1e-6
    assert abs(L.sigmoid_focal_loss(torch.zeros(1), torch.ones(1), alpha=None).item() - 0.693147 / 4) < 1e-6
    expected = -(0.45**4) * torch.log(torch.tensor(0.55)).item()
    assert abs(L.asymmetric_loss(torch.zeros(1), torch.zeros(1)).item() - expected) < 1e-6
