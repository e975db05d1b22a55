"""The float64 fits behind :func:`~logitlab.evaluate.calibrate`, each with a closed-form convergence check.

* :func:`fit_platt`: Newton's method on the two-parameter log-loss of ``sigmoid(a*z + b)``, with a
  backtracking line search; converged when the gradient ``[mean((p - t) z), mean(p - t)]`` is ~0
  (the optimality condition of logistic regression: the mean calibrated probability equals the mean
  target, and the residuals are uncorrelated with the logit).
* :func:`fit_temperature`: a safeguarded 1-D Newton on the inverse temperature ``beta`` of
  ``softmax(beta * u)`` inside a bracket where the derivative changes sign (the loss is convex in
  ``beta``); converged when ``mean(E_q[u] - u_y)`` is ~0.
* :func:`fit_cir`: centred isotonic regression (Oron & Flournoy, "Centered Isotonic Regression",
  2017): the pool-adjacent-violators fit, with each block's value placed at the mean logit of its
  rows and linear interpolation between the blocks, so that the map is *strictly* increasing (plain
  isotonic regression is a step function, which ties scores and changes AP and decisions); the map
  itself is :func:`~logitlab.evaluate.interpolation.piecewise_linear`.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "binary_log_loss",
    "fit_cir",
    "fit_platt",
    "fit_temperature",
    "multiclass_log_loss",
    "separable",
]

TOL = 1e-10
"""Gradient tolerance (on the mean loss, scaled by the size of the logits)."""


def binary_log_loss(u: Tensor, t: Tensor) -> float:
    """Mean log-loss of ``sigmoid(u)`` against (possibly smoothed) targets ``t``, in float64."""
    return float((torch.logaddexp(u, torch.zeros_like(u)) - t * u).mean())


def multiclass_log_loss(u: Tensor, y: Tensor) -> float:
    """Mean cross entropy of ``softmax(u)`` ``[N, C]`` against class indices ``y`` ``[N]``."""
    return float((torch.logsumexp(u, 1) - u.gather(1, y[:, None])[:, 0]).mean())


def separable(z: Tensor, y: Tensor) -> bool:
    """Whether a threshold on ``z`` splits the 0/1 targets ``y`` (ties allowed): the MLE of Platt diverges."""
    pos, neg = z[y > 0.5], z[y <= 0.5]
    if pos.numel() == 0 or neg.numel() == 0:
        return True
    return bool(neg.max() <= pos.min()) or bool(pos.max() <= neg.min())


def _platt_state(z: Tensor, t: Tensor, a: float, b: float) -> tuple[float, Tensor, Tensor]:
    u = a * z + b
    p = torch.sigmoid(u)
    r, w = p - t, p * (1 - p)
    grad = torch.stack([(r * z).mean(), r.mean()])
    hess = torch.stack(
        [torch.stack([(w * z * z).mean(), (w * z).mean()]), torch.stack([(w * z).mean(), w.mean()])]
    )
    return binary_log_loss(u, t), grad, hess


def fit_platt(
    z: Tensor, t: Tensor, *, a: float = 1.0, b: float = 0.0, max_iter: int = 100
) -> tuple[float, float, bool, float]:
    """Minimise ``mean(log(1 + exp(u)) - t u)``, ``u = a z + b``, by Newton's method from ``(a, b)``.

    Args:
        z (Tensor[N]): float64 logits.
        t (Tensor[N]): float64 targets in [0, 1] (0/1, or Platt's smoothed targets).
        a (float): starting slope. Default: ``1.0``.
        b (float): starting intercept (the prior correction ``-log(pos_weight)``). Default: ``0.0``.
        max_iter (int): Newton steps at most. Default: ``100``.

    Returns:
        tuple: ``(a, b, converged, gradient norm)``; the gradient is scaled so that ``converged`` means
        ``|mean((p - t) z)| / scale`` and ``|mean(p - t)|`` are both below ``TOL``.
    """
    scale = max(1.0, float(z.square().mean().sqrt()))
    theta = torch.tensor([a, b], dtype=torch.float64)
    loss, grad, hess = _platt_state(z, t, a, b)
    for _ in range(max_iter):
        norm = max(abs(float(grad[0])) / scale, abs(float(grad[1])))
        if norm <= TOL:
            return float(theta[0]), float(theta[1]), True, norm
        damp = 1e-12 * float(hess.diagonal().sum()) + 1e-300
        step = torch.linalg.solve(hess + damp * torch.eye(2, dtype=torch.float64), grad)
        slope = float(grad @ step)
        if not slope > 0:  # not a descent direction (singular curvature): a gradient step instead
            step, slope = grad.clone(), float(grad @ grad)
        s = 1.0
        while s > 1e-12:
            trial = theta - s * step
            new_loss, new_grad, new_hess = _platt_state(z, t, float(trial[0]), float(trial[1]))
            if new_loss <= loss - 1e-4 * s * slope or (new_loss <= loss and s < 1e-6):
                break
            s /= 2
        else:  # no decrease left at float64 precision: stop where we are
            break
        theta, loss, grad, hess = trial, new_loss, new_grad, new_hess
    norm = max(abs(float(grad[0])) / scale, abs(float(grad[1])))
    return float(theta[0]), float(theta[1]), norm <= 1e3 * TOL, norm


def _temperature_state(u: Tensor, y: Tensor, beta: float) -> tuple[float, float, float]:
    v = beta * u
    q = torch.softmax(v, 1)
    mean_u = (q * u).sum(1)
    grad = float((mean_u - u.gather(1, y[:, None])[:, 0]).mean())
    hess = float(((q * u * u).sum(1) - mean_u**2).clamp(min=0).mean())
    return multiclass_log_loss(v, y), grad, hess


def fit_temperature(u: Tensor, y: Tensor, *, max_iter: int = 100) -> tuple[float | None, bool, float, str]:
    """The inverse temperature ``beta > 0`` minimising the cross entropy of ``softmax(beta * u)``.

    Args:
        u (Tensor[N, C]): float64 logits (with any class bias already added).
        y (Tensor[N]): class indices.
        max_iter (int): Newton/bisection steps at most. Default: ``100``.

    Returns:
        tuple: ``(beta or None, converged, scaled |dL/dbeta|, reason)``; ``beta`` is ``None`` when the loss
        has no minimum at a finite positive ``beta`` (``reason`` says why).
    """
    picked = u.gather(1, y[:, None])[:, 0]
    others = u.scatter(1, y[:, None], -math.inf).max(1).values
    if bool((picked >= others).all()):
        return None, False, math.nan, "every row's true class has the largest logit (separable)"
    scale = max(1.0, float((u - u.mean(1, keepdim=True)).square().mean().sqrt()))
    _, g0, _ = _temperature_state(u, y, 0.0)
    if g0 >= 0:
        return None, False, math.nan, "the logits are no better than uniform (the optimum is at beta <= 0)"
    lo, hi = 0.0, 1.0
    while _temperature_state(u, y, hi)[1] < 0 and hi < 2.0**60:
        lo, hi = hi, hi * 2
    beta = min(max(1.0, lo), hi) if lo < 1.0 < hi else 0.5 * (lo + hi)
    for _ in range(max_iter):
        _, g, h = _temperature_state(u, y, beta)
        if abs(g) / scale <= TOL:
            return beta, True, abs(g) / scale, ""
        if g < 0:
            lo = beta
        else:
            hi = beta
        newton = beta - g / h if h > 0 else math.nan
        beta = newton if lo < newton < hi else 0.5 * (lo + hi)
        if hi - lo <= 4 * math.ulp(hi):
            break
    _, g, _ = _temperature_state(u, y, beta)
    return beta, abs(g) / scale <= 1e3 * TOL, abs(g) / scale, ""


def fit_cir(z: Tensor, y: Tensor) -> tuple[list[float], list[float]] | None:
    """Centred isotonic regression of 0/1 ``y`` on ``z``: knots (raw logit, calibrated logit), both increasing.

    The block values are clipped to ``[1/(2N), 1 - 1/(2N)]`` (no block of a PAV fit other than the first
    or last can be that close to 0 or 1, so the order stays strict) and stored as logits.

    Returns:
        tuple: ``(x, u)`` knot lists (at least two), or ``None`` when the fit is a single block.
    """
    from sklearn.isotonic import isotonic_regression

    values, inverse, counts = torch.unique(z, sorted=True, return_inverse=True, return_counts=True)
    n = counts.to(torch.float64)
    pos = torch.bincount(inverse, weights=y.to(torch.float64), minlength=len(values))
    fitted = torch.from_numpy(
        np.asarray(
            isotonic_regression((pos / n).numpy(), sample_weight=n.numpy(), increasing=True), np.float64
        )
    )
    starts = torch.cat([torch.tensor([True]), fitted[1:] != fitted[:-1]])
    block = torch.cumsum(starts.long(), 0) - 1
    k = int(block[-1]) + 1
    if k < 2:
        return None
    weight = torch.zeros(k, dtype=torch.float64).index_add_(0, block, n)
    x = torch.zeros(k, dtype=torch.float64).index_add_(0, block, n * values) / weight
    v = fitted[starts]
    eps = 0.5 / float(n.sum())
    w = v.clamp(eps, 1 - eps)
    u = torch.log(w) - torch.log1p(-w)
    return [float(a) for a in x], [float(b) for b in u]
