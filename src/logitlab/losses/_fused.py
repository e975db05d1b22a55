"""Fused sigmoid losses: loss and closed-form gradient in one forward, only the gradient saved.

Each ``torch.autograd.Function`` here computes, in float32, the elementwise loss and its derivative
with respect to the logits in the same pass, applies the per-element weight and the reduction's
scale to the derivative, and saves only that derivative tensor; backward is one multiply by
``grad_output``. On CPU the work runs over row chunks of about 2**17 elements, so the temporaries stay
in cache and never reach full size: the only full-size tensors are the saved gradient and (for
``reduction="none"``) the loss. On CUDA one chunk is the whole tensor. Composite autograd (torchvision's focal loss, the usual ASL) instead saves several
full-size intermediates.

Limits (the public functions fall back to the composite form for them): gradients with respect to
the targets, ``weight`` or ``pos_weight`` are not computed, and the functions are
``once_differentiable`` (no double backward / ``create_graph=True``): pass ``fused=False`` there.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import once_differentiable

__all__ = ["FusedASL", "FusedBCE", "FusedFocal", "asl_parts", "bce_parts", "can_fuse", "focal_parts"]


def _f(x: Tensor) -> Tensor:
    """Compute in float32 (float64 stays float64, for gradcheck)."""
    return x if x.dtype == torch.float64 else x.float()


def can_fuse(*tensors: Tensor | None) -> bool:
    """True when no tensor other than the logits needs a gradient."""
    return not any(t is not None and t.requires_grad for t in tensors)


_CHUNK = 1 << 17  # elements per CPU chunk: temporaries stay in cache and never reach full size


def _rows(w: Tensor | None, x: Tensor, i: int, j: int) -> Tensor | None:
    """The rows i:j of a weight broadcastable to x (only when it varies along dim 0)."""
    if w is None or w.ndim != x.ndim or w.shape[0] == 1:
        return w
    return w[i:j]


def _run(ctx: Any, x: Tensor, t: Tensor, weight: Tensor | None, reduction: str, kernel: Any) -> Tensor:
    """Apply ``kernel(x_rows, t_rows) -> (loss, grad)`` over row chunks; save only the scaled gradient."""
    xf = _f(x)
    grad = torch.empty(x.shape, dtype=xf.dtype, device=x.device)
    loss_all = torch.empty_like(grad) if reduction == "none" else None
    total = torch.zeros((), dtype=xf.dtype, device=x.device)
    n_rows = x.shape[0] if x.ndim else 1
    row = max(math.prod(x.shape[1:]), 1)
    step = max(1, n_rows if x.is_cuda or x.ndim == 0 else _CHUNK // row)
    for i in range(0, n_rows, step):
        j = min(i + step, n_rows)
        xc, tc = (xf, t) if x.ndim == 0 else (xf[i:j], t[i:j])
        loss, g = kernel(xc, _f(tc))
        w = _rows(weight, x, i, j)
        if w is not None:
            loss.mul_(w)
            g.mul_(w)
        if x.ndim == 0:
            grad.copy_(g)
        else:
            grad[i:j] = g
        if loss_all is None:
            total += loss.sum()
        elif x.ndim == 0:
            loss_all.copy_(loss)
        else:
            loss_all[i:j] = loss
    if reduction == "mean":
        grad.div_(max(x.numel(), 1))
        total = total / max(x.numel(), 1)
    ctx.in_dtype = x.dtype
    ctx.save_for_backward(grad)
    return total if loss_all is None else loss_all


def _backward(ctx: Any, grad_output: Tensor) -> Tensor:
    (grad,) = ctx.saved_tensors
    return (grad * grad_output).to(ctx.in_dtype)


def _log1p_small(u: Tensor) -> Tensor:
    """``log1p(u)`` for ``u >= 0`` from ``log`` (Goldberg's correction, a few ulp): ``log(w) * u / (w - 1)``, ``w = 1 + u``."""
    w = u + 1.0
    return torch.where(w == 1.0, u, torch.log(w) * (u / (w - 1.0)))


def softplus(x: Tensor, fast: bool = False) -> Tensor:
    """``log(1 + exp(x))``; ``fast`` writes it as ``max(x, 0) + log1p(exp(-|x|))`` with log1p from log.

    The fast form is for the compiled kernels: on CPU, Sleef's vectorised ``log1p`` and ``expm1`` cost about
    ten times ``log`` and ``exp`` and would dominate the fused loop. Both forms are accurate to a few ulp.
    """
    if not fast:
        return F.softplus(x)
    return x.clamp_min(0.0) + _log1p_small(torch.exp(-x.abs()))


def one_minus_exp_neg(ce: Tensor, fast: bool = False) -> Tensor:
    """``1 - exp(-ce)`` for ``ce >= 0``, as ``-expm1(-ce)``; ``fast`` uses Kahan's ``expm1(y) = (u - 1) * y / log(u)``.

    With ``u = exp(-ce)``: ``u - 1`` is exact for ``u >= 0.5`` and the rounding of ``u`` cancels between it
    and ``log(u)``; below 0.5 (``ce > log 2``) ``1 - u`` has no cancellation and is used as is.
    """
    if not fast:
        return torch.expm1(-ce).neg_()
    u = torch.exp(-ce)
    one_minus_u = 1.0 - u
    kahan = one_minus_u * (ce / torch.log(u).neg())
    return torch.where(u < 0.5, one_minus_u, torch.where(one_minus_u == 0.0, ce, kahan))


def bce_parts(xf: Tensor, t: Tensor, pos_weight: Tensor | None, fast: bool = False) -> tuple[Tensor, Tensor]:
    """Elementwise BCE-with-logits and its derivative: softplus(x) - t*x and sigmoid(x) - t, with pos_weight.

    ``fast`` (compiled kernels) shares one ``u = exp(-|x|)``: ``softplus(+-x) = max(+-x, 0) + log1p(u)`` and
    ``sigmoid(x) = (1 if x >= 0 else u) / (1 + u)``.
    """
    z = (
        xf if pos_weight is None else -xf
    )  # the loss needs softplus(x) without pos_weight, softplus(-x) with it
    if fast:
        u = torch.exp(-xf.abs())
        sp = z.clamp_min(0.0) + _log1p_small(u)
        sig = torch.where(xf >= 0, 1.0, u) / (u + 1.0)
    else:
        sp, sig = F.softplus(z), torch.sigmoid(xf)
    if pos_weight is None:
        return sp.addcmul_(t, xf, value=-1.0), sig.sub_(t)
    a = t * pos_weight  # pw*t
    coef = (a - t).add_(1.0)  # pw*t + 1 - t
    loss = sp.mul_(coef).add_(xf).addcmul_(t, xf, value=-1.0)  # softplus(-x)*coef + (1-t)*x
    grad = sig.mul_(coef).sub_(a)
    return loss, grad


def focal_parts(
    xf: Tensor,
    tf: Tensor,
    gamma: float,
    alpha: float | None,
    pos_weight: Tensor | None,
    fast: bool = False,
) -> tuple[Tensor, Tensor]:
    """Elementwise sigmoid focal loss and its derivative (unweighted ce for p_t; see FusedFocal)."""
    ce, dce = bce_parts(xf, tf, None, fast)  # unweighted: ce0 and sigmoid(x) - t
    m = one_minus_exp_neg(ce, fast)  # 1 - p_t
    if pos_weight is None:
        ce_w, dce_w = ce, dce
    else:
        ce_w, dce_w = bce_parts(xf, tf, pos_weight, fast)
    if gamma == 0:
        loss, grad = ce_w, dce_w
    else:
        mod = m.pow(gamma)
        # d/dx m**gamma = gamma * m**(gamma-1) * p_t * (sigmoid(x) - t); write m**(gamma-1) as mod/m (0 where m == 0)
        extra = torch.where(m > 0, mod / m, 0.0).mul_(ce_w).mul_(m.neg_().add_(1.0)).mul_(dce).mul_(gamma)
        grad = dce_w.mul_(mod).add_(extra)
        del extra
        loss = ce_w.mul_(mod)
    if alpha is not None:
        alpha_t = tf.mul(2 * alpha - 1).add_(1 - alpha)
        loss = loss.mul_(alpha_t)
        grad = grad.mul_(alpha_t)
    return loss, grad


def asl_parts(
    xf: Tensor,
    tf: Tensor,
    gamma_pos: float,
    gamma_neg: float,
    clip: float,
    pos_weight: Tensor | None,
    fast: bool = False,
) -> tuple[Tensor, Tensor]:
    """Elementwise asymmetric loss and its derivative (see FusedASL)."""
    p, s = torch.sigmoid(xf), torch.sigmoid(-xf)  # p and 1 - p, each accurate near 0
    # positive part: -(1-p)**gp * log p; derivative -(1-p)**gp * ((1-p) - gp * p * log p)
    logp = softplus(-xf, fast).neg_()
    if gamma_pos == 0:
        lpos, gpos = logp.neg(), s.neg()
    else:
        mod_pos = s.pow(gamma_pos)
        lpos = logp.neg().mul_(mod_pos)
        gpos = (s - logp.mul_(p).mul_(gamma_pos)).mul_(mod_pos).neg_()
        del mod_pos
    del logp
    if pos_weight is not None:
        lpos.mul_(pos_weight)
        gpos.mul_(pos_weight)
    # negative part: q = max(p - clip, 0); -q**gn * log(1-q); derivative (q**gn/(1-q) - gn q**(gn-1) log(1-q)) p(1-p)
    if clip > 0:
        one_q = (s + clip).clamp_(max=1.0)
        log1q = one_q.log()
        q = one_q.neg().add_(1.0)
    else:
        one_q, q, log1q = s, p, softplus(xf, fast).neg_()
    mod_neg = q.pow(gamma_neg) if gamma_neg != 0 else torch.ones_like(q)
    lneg = log1q.mul(mod_neg).neg_()
    ps = p * s  # dq/dx where q > 0
    # p(1-p)/(1-q) is p itself without clip: avoids 0/0 at logits of +1e4
    gneg = (mod_neg / one_q).mul_(ps) if clip > 0 else mod_neg * p
    if gamma_neg != 0:
        gneg.sub_(torch.where(q > 0, mod_neg / q, 0.0).mul_(log1q).mul_(ps).mul_(gamma_neg))
    del ps
    if clip > 0:
        gneg.mul_(q > 0)  # clipped negatives (p <= clip) carry no loss and no gradient
    del mod_neg, log1q, one_q, q, p, s
    # combine: t * pos + (1 - t) * neg
    loss = lpos.sub_(lneg).mul_(tf).add_(lneg)
    grad = gpos.sub_(gneg).mul_(tf).add_(gneg)
    return loss, grad


class FusedBCE(torch.autograd.Function):
    """BCE with logits, optional pos_weight [L], per-element weight and smoothed targets."""

    @staticmethod
    def forward(
        ctx: Any, x: Tensor, t: Tensor, pos_weight: Tensor | None, weight: Tensor | None, reduction: str
    ) -> Tensor:
        return _run(ctx, x, t, weight, reduction, lambda xc, tc: bce_parts(xc, tc, pos_weight))

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_output: Tensor) -> tuple[Tensor | None, ...]:
        return _backward(ctx, grad_output), None, None, None, None


class FusedFocal(torch.autograd.Function):
    """Sigmoid focal loss ``alpha_t * ce_w * (1 - p_t)**gamma`` with ``p_t = exp(-ce)`` (unweighted ce)."""

    @staticmethod
    def forward(
        ctx: Any,
        x: Tensor,
        t: Tensor,
        gamma: float,
        alpha: float | None,
        pos_weight: Tensor | None,
        weight: Tensor | None,
        reduction: str,
    ) -> Tensor:
        return _run(
            ctx, x, t, weight, reduction, lambda xc, tc: focal_parts(xc, tc, gamma, alpha, pos_weight)
        )

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_output: Tensor) -> tuple[Tensor | None, ...]:
        return (_backward(ctx, grad_output),) + (None,) * 6


class FusedASL(torch.autograd.Function):
    """Asymmetric loss (Ridnik et al. 2021) with probability shifting ``clip`` on the negatives."""

    @staticmethod
    def forward(
        ctx: Any,
        x: Tensor,
        t: Tensor,
        gamma_pos: float,
        gamma_neg: float,
        clip: float,
        pos_weight: Tensor | None,
        weight: Tensor | None,
        reduction: str,
    ) -> Tensor:
        return _run(
            ctx,
            x,
            t,
            weight,
            reduction,
            lambda xc, tc: asl_parts(xc, tc, gamma_pos, gamma_neg, clip, pos_weight),
        )

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_output: Tensor) -> tuple[Tensor | None, ...]:
        return (_backward(ctx, grad_output),) + (None,) * 7
