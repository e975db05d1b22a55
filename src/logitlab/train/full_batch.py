"""Full-batch L-BFGS for convex models (``model="linear"``): the penalised loss minimised to convergence.

The objective is the task's loss on every training row (its own reduction, weights included) plus
``l2 / 2 * ||W||^2`` over the weight matrices (never the biases, as scikit-learn's ``LogisticRegression``):
with the mean of ``n`` unweighted rows this is scikit-learn's objective divided by ``C * n``, so
``l2 = 1 / (C * n)`` reaches the same optimum (tested in ``tests/models/test_linear.py``). A convex fit
has nothing for early stopping to choose: it runs to L-BFGS's tolerance, deterministic from a zero start.
``x`` may be a torch sparse CSR matrix (the sparse-native linear model on text, ``model="sparse"``): the
model's forward takes it whole and its gradient is one transposed sparse product
(:func:`logitlab.models.sparse.sparse_linear`).

Examples:
    >>> import torch
    >>> from logitlab.models import LinearModel
    >>> torch.manual_seed(0) and None
    >>> x = torch.randn(200, 3); y = (x[:, :1] > 0).float()
    >>> out = fit_full_batch(LinearModel(3, 1), torch.nn.BCEWithLogitsLoss(), x, y, l2=1e-2)
    >>> out["converged"], out["objective"] < 0.3
    (True, True)
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from ..errors import ConfigError
from .eager_optim import LBFGS

__all__ = ["MAX_ITER", "fit_full_batch", "penalised_loss"]

MAX_ITER = 1000
"""The most L-BFGS iterations of one fit (the tables of ``benchmarks/tabular.py`` converge in 20-300)."""


def penalised_loss(model: nn.Module, loss_fn: nn.Module, x: Tensor, y: Tensor, l2: float) -> Tensor:
    """``loss_fn(model(x), y) + l2 / 2 * sum(W ** 2)`` over the parameters with two or more axes."""
    loss: Tensor = loss_fn(model(x), y)
    if l2 > 0:
        loss = loss + 0.5 * l2 * sum((p * p).sum() for p in model.parameters() if p.ndim >= 2)
    return loss


def fit_full_batch(
    model: nn.Module,
    loss_fn: nn.Module,
    x: Tensor,
    y: Tensor,
    *,
    l2: float,
    max_iter: int = MAX_ITER,
    history: int = 20,
    tolerance: float = 1e-6,
) -> dict[str, Any]:
    """Minimise :func:`penalised_loss` over all of ``x`` with L-BFGS (strong Wolfe line search), in place.

    Args:
        model (nn.Module): the model to fit (its current weights are the start).
        loss_fn (nn.Module): the task's loss, called on ``(model(x), y)``.
        x (Tensor): every training row, on the model's device (dense, or sparse CSR for a sparse model).
        y (Tensor): their targets, in the loss's form.
        l2 (float): the L2 strength on the weight matrices, ``>= 0``.
        max_iter (int): the most L-BFGS iterations. Default: :data:`MAX_ITER`.
        history (int): the L-BFGS memory (pairs of parameter-sized vectors kept). Default: ``20``.
        tolerance (float): converged when no gradient entry exceeds it in magnitude. Default: ``1e-6``.

    Returns:
        dict: ``objective`` (the penalised loss at the end), ``loss`` (without the penalty),
        ``iterations`` and ``converged`` (stopped by tolerance, not by ``max_iter``).

    Raises:
        ConfigError: a negative or non-finite ``l2``.
    """
    if not (isinstance(l2, (int, float)) and 0 <= l2 < float("inf")):
        raise ConfigError(
            f"Expected the L2 strength `weight_decay` of a linear model to be a finite number >= 0; got {l2!r}.",
            fix="use weight_decay=1e-3, or 0 for no penalty.",
            code="bad-param",
            param="weight_decay",
        )
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = LBFGS(  # torch's LBFGS, without the first-use import of torch._dynamo
        params,
        lr=1.0,
        max_iter=max_iter,
        history_size=int(history),
        tolerance_grad=float(tolerance),
        tolerance_change=1e-10,
        line_search_fn="strong_wolfe",
    )

    matrices = [p for p in params if p.ndim >= 2]

    def closure() -> Tensor:
        # the penalty's value and gradient (l2 * W) are added outside autograd: the same numbers as
        # penalised_loss's, without its temporaries and backward passes over every weight
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        if l2 > 0:
            penalty = 0.0
            with torch.no_grad():
                for p in matrices:
                    flat = p.reshape(-1)
                    penalty += float(torch.dot(flat, flat))
                    if p.grad is None:
                        p.grad = torch.zeros_like(p)
                    p.grad.add_(p, alpha=float(l2))
            return loss.detach() + 0.5 * float(l2) * penalty
        return loss

    opt.step(closure)
    iterations = int(opt.state[params[0]].get("n_iter", 0)) if params else 0
    model.eval()
    with torch.no_grad():
        objective = float(penalised_loss(model, loss_fn, x, y, float(l2)))
        loss = float(loss_fn(model(x), y))
    return {
        "objective": objective,
        "loss": loss,
        "iterations": iterations,
        "converged": iterations < max_iter,
    }
