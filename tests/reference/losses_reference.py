"""Float64 reference losses written straight from the papers' formulas (slow, obviously right).

Each returns the unreduced elementwise (sigmoid) or per-sample (softmax) loss in float64.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["ref_asl", "ref_bce", "ref_ce", "ref_dice", "ref_focal", "ref_poly1", "ref_softmax_focal"]


def _d(x: Tensor) -> Tensor:
    return x.double()


def ref_bce(x: Tensor, t: Tensor, pos_weight: Tensor | None = None, smoothing: float = 0.0) -> Tensor:
    x, t = _d(x), _d(t)
    t = t * (1 - smoothing) + 0.5 * smoothing
    pw = 1.0 if pos_weight is None else _d(pos_weight)
    return -(pw * t * torch.nn.functional.logsigmoid(x) + (1 - t) * torch.nn.functional.logsigmoid(-x))


def ref_focal(
    x: Tensor, t: Tensor, gamma: float, alpha: float | None, pos_weight: Tensor | None = None
) -> Tensor:
    """Lin et al. 2017 for 0/1 targets: p_t = p if t == 1 else 1 - p."""
    x, t = _d(x), _d(t)
    p = torch.sigmoid(x)
    p_t = p * t + (1 - p) * (1 - t)
    loss = ref_bce(x, t, pos_weight) * (1 - p_t) ** gamma
    if alpha is not None:
        loss = loss * (alpha * t + (1 - alpha) * (1 - t))
    return loss


def ref_asl(
    x: Tensor, t: Tensor, gamma_pos: float, gamma_neg: float, clip: float, pos_weight: Tensor | None = None
) -> Tensor:
    """Ridnik et al. 2021, as in the authors' AsymmetricLoss (with eps-free logs)."""
    x, t = _d(x), _d(t)
    xs_pos = torch.sigmoid(x)
    xs_neg = (1 - xs_pos + clip).clamp(max=1) if clip > 0 else 1 - xs_pos
    pw = 1.0 if pos_weight is None else _d(pos_weight)
    los_pos = pw * t * torch.log(xs_pos) * (1 - xs_pos) ** gamma_pos
    los_neg = (1 - t) * torch.log(xs_neg) * (1 - xs_neg) ** gamma_neg
    return -(los_pos + los_neg)


def ref_dice(x: Tensor, t: Tensor, smooth: float) -> Tensor:
    """Per-label (column) soft Dice loss over the batch."""
    p, t = torch.sigmoid(_d(x)).reshape(x.shape[0], -1), _d(t).reshape(x.shape[0], -1)
    return 1 - (2 * (p * t).sum(0) + smooth) / (p.sum(0) + t.sum(0) + smooth)


def _soft(t: Tensor, n_cls: int, smoothing: float) -> Tensor:
    q = _d(t) if t.is_floating_point() else torch.eye(n_cls, dtype=torch.float64)[t]
    return q * (1 - smoothing) + smoothing / n_cls


def ref_ce(x: Tensor, t: Tensor, weight: Tensor | None = None, smoothing: float = 0.0) -> Tensor:
    x = _d(x)
    logp = x - torch.logsumexp(x, dim=1, keepdim=True)
    w = torch.ones(x.shape[1], dtype=torch.float64) if weight is None else _d(weight)
    return -(w * _soft(t, x.shape[1], smoothing) * logp).sum(1)


def ref_softmax_focal(x: Tensor, t: Tensor, gamma: float, weight: Tensor | None = None) -> Tensor:
    x = _d(x)
    p = torch.softmax(x, dim=1)
    w = torch.ones(x.shape[1], dtype=torch.float64) if weight is None else _d(weight)
    return -(w * _soft(t, x.shape[1], 0.0) * (1 - p) ** gamma * torch.log(p)).sum(1)


def ref_poly1(x: Tensor, t: Tensor, epsilon: float, smoothing: float = 0.0) -> Tensor:
    p_t = (_soft(t, x.shape[1], smoothing) * torch.softmax(_d(x), dim=1)).sum(1)
    return ref_ce(x, t, None, smoothing) + epsilon * (1 - p_t)
