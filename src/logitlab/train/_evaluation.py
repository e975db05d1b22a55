"""The trainer's inference over a dataset: the mean loss and metrics of a split, and logits in row order.

Each rank runs the model on its rank-strided shard (while a process group runs; afterwards every
rank sees all rows), then the loss sums are reduced and the logits gathered back into row order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import torch
from torch import Tensor, nn

from . import _data
from ._state import autocast
from .config import TrainConfig
from .distributed import DistInfo, all_reduce_sum

__all__ = ["Runner", "evaluate", "predict"]


class Runner(Protocol):
    """What inference reads on the trainer (a :class:`~logitlab.train.Trainer` has it)."""

    @property
    def model(self) -> nn.Module:
        """The network."""

    @property
    def config(self) -> TrainConfig:
        """Batch size, workers and precision."""

    @property
    def device(self) -> torch.device:
        """Where the network runs."""

    @property
    def dist(self) -> DistInfo:
        """The ranks."""

    @property
    def loss_fn(self) -> Callable[[Tensor, Tensor], Tensor]:
        """The loss of a batch."""

    @property
    def metrics_fn(self) -> Callable[[Tensor, Tensor], dict[str, Any]] | None:
        """The metrics of all rows, or ``None``."""


@torch.no_grad()
def _outputs(
    trainer: Runner, data: Any, *, with_loss: bool, keep: bool
) -> tuple[Tensor, list[Tensor], list[Tensor], int, _data.Gather]:
    """This rank's shard: (loss sum [], logits parts, target parts, total rows over ranks, the gather)."""
    # shard over ranks only while the process group runs (fit ends it; predict afterwards sees all rows)
    info = trainer.dist if torch.distributed.is_initialized() else DistInfo()
    cfg, device, model = trainer.config, trainer.device, trainer.model
    loader, total, gather = _data.eval_loader(data, cfg.batch_size, info, device, cfg.num_workers)
    was_training = model.training
    model.to(device).eval()
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    logits_parts, target_parts = [], []
    try:
        for batch in loader:
            x, y = _data.split_batch(batch)
            with autocast(cfg.precision, device):
                logits = model(x.to(device, non_blocking=True)).float()
            if with_loss and y is not None:
                y = y.to(device, non_blocking=True)
                loss_sum += trainer.loss_fn(logits, y).double() * len(x)
                if keep:
                    target_parts.append(y)
            if keep:
                logits_parts.append(logits)
    finally:
        model.train(was_training)
    return loss_sum, logits_parts, target_parts, total, gather


def evaluate(trainer: Runner, data: Any) -> dict[str, float]:
    """``{"loss": mean loss, **scalar metrics_fn values}`` over all ranks' rows of ``data``."""
    metrics_fn = trainer.metrics_fn
    loss_sum, logits_parts, target_parts, total, gather = _outputs(
        trainer, data, with_loss=True, keep=metrics_fn is not None
    )
    loss = all_reduce_sum(loss_sum) / max(total, 1)
    result = {"loss": float(loss)}
    if metrics_fn is not None and logits_parts:
        logits = gather(torch.cat(logits_parts), total).cpu()
        targets = gather(torch.cat(target_parts), total).cpu()
        for key, value in metrics_fn(logits, targets).items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                result[key] = float(value)
    return result


def predict(trainer: Runner, data: Any) -> Tensor:
    """Float32 logits for every row of ``data``, in order, on the CPU (gathered over ranks)."""
    _, parts, _, total, gather = _outputs(trainer, data, with_loss=False, keep=True)
    if not parts:
        return torch.empty(0)
    return gather(torch.cat(parts), total).cpu()
