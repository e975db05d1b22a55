"""Calibration: the multi-label expected calibration error torchmetrics lacks, and reliability bins.

The ECE of one label is the binary ECE of its probabilities (equal-width bins on ``[0, 1]``, the
weighted mean gap between the mean probability and the fraction of positives in each bin); the
multi-label ECE is the mean over labels.

Examples:
    >>> import torch
    >>> probs = torch.tensor([[0.9, 0.2], [0.8, 0.1], [0.3, 0.7]])
    >>> y = torch.tensor([[1, 0], [1, 0], [0, 0]])
    >>> multilabel_calibration_error(probs, y, n_bins=10, average="none")
    tensor([0.2000, 0.3333])
"""

from __future__ import annotations

from typing import Literal

import torch
import torchmetrics.functional.classification as tmf
from torch import Tensor

__all__ = ["multilabel_calibration_error", "reliability_bins"]


def multilabel_calibration_error(
    probs: Tensor, targets: Tensor, *, n_bins: int = 15, average: Literal["macro", "none"] = "macro"
) -> Tensor:
    """Expected calibration error per label (L1, equal-width bins), or its mean over labels.

    Args:
        probs (Tensor[N, L]): sigmoid probabilities.
        targets (Tensor[N, L]): 0/1 targets.
        n_bins (int): number of equal-width bins on [0, 1]. Default: ``15``.
        average (str): ``"macro"`` (mean over labels) or ``"none"`` (``Tensor[L]``). Default: ``"macro"``.

    Returns:
        Tensor: a scalar, or ``Tensor[L]``.
    """
    per_label = torch.stack(
        [
            tmf.binary_calibration_error(probs[:, j], targets[:, j].long(), n_bins=n_bins)
            for j in range(probs.shape[1])
        ]
    )
    return per_label.mean() if average == "macro" else per_label


def reliability_bins(confidence: Tensor, correct: Tensor, *, n_bins: int = 15) -> dict[str, Tensor]:
    """Per-bin mean confidence, observed frequency and count (equal-width bins on [0, 1]).

    Args:
        confidence (Tensor[M]): predicted probabilities (binary/multilabel: of the positive class;
            multiclass: of the predicted class).
        correct (Tensor[M]): 0/1 outcomes (the target, or whether the prediction was right).
        n_bins (int): number of bins. Default: ``15``.

    Returns:
        dict: ``edges`` ``[n_bins + 1]``, ``confidence``, ``frequency`` (NaN for empty bins), ``count``.
    """
    c = confidence.detach().reshape(-1).to(torch.float64).cpu()
    a = correct.detach().reshape(-1).to(torch.float64).cpu()
    edges = torch.linspace(0, 1, n_bins + 1, dtype=torch.float64)
    idx = torch.clamp(torch.bucketize(c, edges[1:-1], right=True), 0, n_bins - 1)
    count = torch.bincount(idx, minlength=n_bins).to(torch.float64)
    conf_sum = torch.bincount(idx, weights=c, minlength=n_bins)
    acc_sum = torch.bincount(idx, weights=a, minlength=n_bins)
    safe = count.clamp(min=1)
    nan = torch.full_like(count, float("nan"))
    return {
        "edges": edges,
        "confidence": torch.where(count > 0, conf_sum / safe, nan),
        "frequency": torch.where(count > 0, acc_sum / safe, nan),
        "count": count,
    }
