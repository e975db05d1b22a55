"""A torchmetrics ``Metric`` that collects logits over batches and ranks and computes :func:`compute_metrics`.

Kept apart from :mod:`.metrics`: importing torchmetrics costs more than ``import torch`` (it imports
torchvision, ``torch._dynamo`` and matplotlib), and evaluating a run needs none of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat

from ..tasks import Task
from .metrics import compute_metrics
from .thresholds import Thresholds

__all__ = ["MetricAccumulator"]


class MetricAccumulator(Metric):
    """Collects logits and targets over batches (and over ranks under DDP) and computes all metrics.

    ``update`` keeps the batch on its device; ``compute`` gathers every rank's rows (torchmetrics'
    ``dist_reduce_fx="cat"``, which pads uneven batches) and calls :func:`compute_metrics` once, so
    ROC-AUC, average precision and calibration are exact, not averages of per-batch values.

    Args:
        task (Task or str): the task.
        thresholds (Thresholds, optional): tuned decisions. Default: ``None`` (0.5 / argmax).
        label_names (list[str], optional): names for the per-label entries. Default: ``None``.

    Examples:
        >>> import torch
        >>> acc = MetricAccumulator("multiclass")
        >>> acc.update(torch.tensor([[2.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 0]))
        >>> acc.update(torch.tensor([[0.0, 3.0]]), torch.tensor([1]))
        >>> acc.compute()["accuracy"]
        0.6666666666666666
    """

    full_state_update = False
    is_differentiable = False
    higher_is_better = None

    logits: list[Tensor]
    targets: list[Tensor]

    def __init__(
        self,
        task: Task | str,
        *,
        thresholds: Thresholds | None = None,
        label_names: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.task = Task.from_str(task)
        self.thresholds = thresholds
        self.label_names = list(label_names) if label_names is not None else None
        self.add_state("logits", default=[], dist_reduce_fx="cat")
        self.add_state("targets", default=[], dist_reduce_fx="cat")

    def update(self, logits: Tensor, targets: Tensor) -> None:  # type: ignore[override]
        """Keep one batch (detached)."""
        z = logits.detach()
        y = targets.detach()
        if self.task is Task.BINARY:
            z, y = z.reshape(-1), y.reshape(-1)
        self.logits.append(z.float())
        self.targets.append(y)

    def compute(self) -> dict[str, Any]:  # type: ignore[override]
        """:func:`compute_metrics` over every row seen (all ranks)."""
        z = dim_zero_cat(self.logits)
        y = dim_zero_cat(self.targets)
        return compute_metrics(z, y, task=self.task, thresholds=self.thresholds, label_names=self.label_names)
