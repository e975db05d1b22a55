"""Learning-rate schedule: linear warmup, then cosine decay to ``min_lr`` (or constant), per optimizer step.

The schedule is a plain function of the step (:func:`lr_factor`) wrapped in
:class:`torch.optim.lr_scheduler.LambdaLR`, so it checkpoints and resumes like any PyTorch scheduler.

Step ``s`` of ``T`` optimizer steps (``s = 0 .. T-1``) with ``W`` warmup steps uses
``lr * (s + 1) / (W + 1)`` during warmup (strictly rising, never 0), then
``min_lr + (lr - min_lr) * (1 + cos(pi * (s - W) / (T - 1 - W))) / 2``, which is ``lr`` at ``s = W``
and ``min_lr`` exactly at the last step.

Examples:
    >>> [round(lr_factor(s, total_steps=5, warmup_steps=1, min_ratio=0.0), 3) for s in range(5)]
    [0.5, 1.0, 0.75, 0.25, 0.0]
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR

from ..errors import ConfigError

__all__ = ["build_scheduler", "lr_factor", "resolve_warmup"]


def lr_factor(
    step: int, *, total_steps: int, warmup_steps: int, min_ratio: float, schedule: str = "cosine"
) -> float:
    """The multiplier of the peak learning rate at optimizer step ``step``.

    Args:
        step (int): the optimizer step, from 0.
        total_steps (int): how many optimizer steps the run takes (``T``).
        warmup_steps (int): linear warmup steps (``W``), ``0 <= W < T``.
        min_ratio (float): ``min_lr / lr``, the factor reached at the last step (cosine).
        schedule (str): ``"cosine"`` or ``"constant"`` after warmup. Default: ``"cosine"``.

    Returns:
        float: the factor in ``(0, 1]`` (cosine may reach ``min_ratio``, which may be 0).
    """
    if step < warmup_steps:
        return (step + 1) / (warmup_steps + 1)
    if schedule == "constant":
        return 1.0
    decay_steps = total_steps - 1 - warmup_steps
    progress = min(1.0, (step - warmup_steps) / decay_steps) if decay_steps > 0 else 1.0
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def resolve_warmup(total_steps: int, warmup_steps: int, warmup_ratio: float) -> int:
    """Warmup steps from the config: ``warmup_steps`` if set, else ``int(warmup_ratio * total_steps)``.

    Raises:
        ConfigError: when warmup would take every step (no room for the decay).
    """
    warmup = warmup_steps if warmup_steps else int(warmup_ratio * total_steps)
    if warmup and warmup >= total_steps:
        raise ConfigError(
            f"Expected `warmup_steps` < the {total_steps} optimizer steps of the run; got {warmup}.",
            fix=f"use warmup_steps <= {max(total_steps // 10, 0)} or warmup_ratio=0.1.",
            code="bad-warmup",
        )
    return warmup


def build_scheduler(
    optimizer: Optimizer,
    *,
    total_steps: int,
    warmup_steps: int,
    min_lr: float,
    schedule: str = "cosine",
) -> LambdaLR:
    """A ``LambdaLR`` following :func:`lr_factor` for every parameter group (``min_lr`` relative to each lr).

    Examples:
        >>> import torch
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        >>> sched = build_scheduler(opt, total_steps=3, warmup_steps=0, min_lr=0.1)
        >>> lrs = []
        >>> for _ in range(3):
        ...     lrs.append(round(opt.param_groups[0]["lr"], 3)); opt.step(); sched.step()
        >>> lrs
        [1.0, 0.55, 0.1]
    """
    factors: list[Callable[[int], float]] = []
    for group in optimizer.param_groups:
        ratio = min_lr / group["lr"] if group["lr"] > 0 else 0.0
        factors.append(
            functools.partial(
                lr_factor,
                total_steps=total_steps,
                warmup_steps=warmup_steps,
                min_ratio=ratio,
                schedule=schedule,
            )
        )
    return LambdaLR(optimizer, lr_lambda=factors)
