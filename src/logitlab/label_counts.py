"""``LabelCounts``: how many training rows hold each label or class, which is all imbalance weights need.

A streaming pass counts labels without keeping the targets; :func:`~logitlab.weights.pos_weight`,
:func:`~logitlab.weights.class_weight` and :func:`~logitlab.weights.imbalance_weights` take these
counts wherever they take targets, and give the same weights.

Examples:
    >>> import torch
    >>> c = LabelCounts.of(torch.tensor([[1.0], [0.0], [0.0], [0.0]]), "binary")
    >>> c.sums.tolist(), c.rows
    ([1.0], 4)
    >>> LabelCounts.of(torch.tensor([0, 2, 2]), "multiclass", num_classes=4).sums.tolist()
    [1.0, 0.0, 2.0, 0.0]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from .errors import TargetError
from .tasks import Task

__all__ = ["LabelCounts"]


@dataclass(frozen=True)
class LabelCounts:
    """Per-label positives (sigmoid tasks) or per-class rows (multiclass) of a split, and its row count.

    Attributes:
        sums (Tensor[K]): float64; positives per label (soft targets count fractionally), or rows per
            class (soft labels: probability mass).
        rows (int): the rows counted (``N``).
    """

    sums: Tensor
    rows: int

    def __post_init__(self) -> None:
        sums = torch.as_tensor(self.sums, dtype=torch.float64).reshape(-1)
        object.__setattr__(self, "sums", sums)
        if self.rows < 1 or sums.numel() == 0 or bool((sums < 0).any()) or float(sums.max()) > self.rows:
            raise TargetError(
                f"Expected label counts in [0, rows] of at least one row; got sums {sums.tolist()[:8]} "
                f"for {self.rows} rows.",
                fix="count the labels of the (non-empty) training split.",
                code="bad-label-counts",
            )

    @classmethod
    def of(cls, targets: Any, task: Task | str, *, num_classes: int | None = None) -> LabelCounts:
        """The counts of a target tensor in the task's form (binary/multilabel ``[N, L]``, multiclass ``[N]``)."""
        t = torch.as_tensor(targets).detach().cpu()
        if t.ndim == 0 or len(t) == 0:
            raise TargetError(
                "Expected at least one target row to count; got none.",
                fix="count the labels of the (non-empty) training split.",
                code="empty-targets",
            )
        if Task.from_str(task) is Task.MULTICLASS and t.ndim == 1:
            return cls(torch.bincount(t.long(), minlength=num_classes or 0).double(), len(t))
        return cls(t.reshape(len(t), -1).double().sum(0), len(t))

    def __add__(self, other: LabelCounts) -> LabelCounts:
        """The counts of two splits together (the shorter ``sums`` padded with zeros)."""
        k = max(len(self.sums), len(other.sums))
        pad = lambda s: torch.cat([s, s.new_zeros(k - len(s))])  # noqa: E731
        return LabelCounts(pad(self.sums) + pad(other.sums), self.rows + other.rows)
