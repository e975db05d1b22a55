"""AdamW whose step on a sparse gradient costs the rows it touches, not the whole table.

The sparse-native model's first layer (:class:`~logitlab.models.sparse.SparseLinear`) is a
``[vocabulary, H]`` table read through ``embedding_bag``. With ``sparse_grad`` on, its gradient is a
sparse COO tensor holding the rows of the batch's non-zero columns (a few thousand of 200,000), and a
dense AdamW would still zero, decay and update every row each step. :class:`LazyAdamW` updates a
parameter with a sparse gradient lazily, as :class:`torch.optim.SparseAdam` (and TensorFlow's
``LazyAdam``) do:

* the rows in the gradient get the AdamW update of this step: their moments ``m``, ``v`` move
  (``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g^2``), then decoupled weight decay
  ``w *= 1 - lr * wd`` and ``w -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)``, with ``t`` the
  parameter's step count (as torch's AdamW, one formula);
* rows not in the gradient are left exactly as they were: weights and moments (a dense Adam would
  still move them by their decaying momentum, and decay them).

Weight decay follows the same rule: a row is decayed in the steps that touch it (TensorFlow Addons'
decoupled weight decay does the same for sparse gradients; ``SparseAdam`` has none). The penalty so
shrinks a feature's weights in proportion to how often the feature occurs, like an L2 term added to
each example's loss, rather than uniformly per step; with the defaults (``lr=1e-3``,
``weight_decay=1e-4``) a step's decay is ``1e-7`` of the weight either way. Parameters with a dense
gradient (the bias, the hidden layer, the head) get torch's AdamW update exactly.

Examples:
    >>> import torch
    >>> w = torch.nn.Parameter(torch.ones(4, 2))
    >>> opt = LazyAdamW([w], lr=0.1, weight_decay=0.5)
    >>> torch.nn.functional.embedding_bag(torch.tensor([1]), w, torch.tensor([0]), sparse=True).sum().backward()
    >>> opt.step()
    >>> [round(r, 4) for r in w.detach()[:, 0].tolist()]  # row 1: decayed by 1 - 0.1 * 0.5, then Adam's -0.1
    [1.0, 0.85, 1.0, 1.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor

__all__ = ["LazyAdamW"]


class LazyAdamW(torch.optim.Optimizer):
    """AdamW for dense gradients, lazy AdamW for sparse ones (see the module's text for the semantics).

    Args:
        params: parameters or parameter groups (each group may set ``lr``, ``weight_decay``, ...).
        lr (float): the learning rate. Default: ``1e-3``.
        betas (tuple[float, float]): the moments' decay rates. Default: ``(0.9, 0.999)``.
        eps (float): added to the denominator. Default: ``1e-8``.
        weight_decay (float): decoupled weight decay (rows in the gradient only, for sparse ones).
            Default: ``1e-2`` (as torch's AdamW).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        if not lr >= 0 or not eps >= 0 or not weight_decay >= 0 or not all(0 <= b < 1 for b in betas):
            raise ValueError(
                f"Invalid LazyAdamW settings: lr={lr}, betas={betas}, eps={eps}, wd={weight_decay}"
            )
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay}
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        """One update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = torch.tensor(0.0)
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["step"] += 1
                t = float(state["step"])
                step_size = lr / (1 - beta1**t)
                bc2_sqrt = math.sqrt(1 - beta2**t)
                args = (p, state["exp_avg"], state["exp_avg_sq"], lr, beta1, beta2, eps, wd)
                if p.grad.is_sparse:
                    _sparse_update(p.grad, *args, step_size, bc2_sqrt)
                else:
                    _dense_update(p.grad, *args, step_size, bc2_sqrt)
        return loss


def _dense_update(
    grad: Tensor,
    p: Tensor,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    wd: float,
    step_size: float,
    bc2_sqrt: float,
) -> None:
    """PyTorch's single-tensor AdamW step (``torch.optim.AdamW(foreach=False)``)."""
    p.mul_(1 - lr * wd)
    exp_avg.lerp_(grad, 1 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    denom = (exp_avg_sq.sqrt() / bc2_sqrt).add_(eps)
    p.addcdiv_(exp_avg, denom, value=-step_size)


def _sparse_update(
    grad: Tensor,
    p: Tensor,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    wd: float,
    step_size: float,
    bc2_sqrt: float,
) -> None:
    """The same step on the rows of a sparse COO gradient (duplicates summed first); other rows untouched."""
    grad = grad.coalesce()
    if grad.sparse_dim() != 1:
        raise ValueError(f"LazyAdamW expects row-sparse gradients (sparse_dim 1); got {grad.sparse_dim()}.")
    rows, g = grad.indices()[0], grad.values()
    m = exp_avg.index_select(0, rows).lerp_(g, 1 - beta1)
    v = exp_avg_sq.index_select(0, rows).mul_(beta2).addcmul_(g, g, value=1 - beta2)
    w = p.index_select(0, rows).mul_(1 - lr * wd)
    w.addcdiv_(m, (v.sqrt() / bc2_sqrt).add_(eps), value=-step_size)
    exp_avg.index_copy_(0, rows, m)
    exp_avg_sq.index_copy_(0, rows, v)
    p.index_copy_(0, rows, w)
