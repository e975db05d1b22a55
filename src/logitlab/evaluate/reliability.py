"""How well calibrated probabilities are: multi-label ECE, reliability bins, ECE / Brier / log-loss per label.

The ECE of one label is the binary ECE of its probabilities (equal-width bins on ``[0, 1]``, the
weighted mean gap between the mean probability and the fraction of positives in each bin); the
multi-label ECE is the mean over labels. :func:`calibration_metrics` reports ECE, Brier score and
log-loss per label and overall, of the task's probabilities or of a
:class:`~logitlab.evaluate.Calibration`'s.

Examples:
    >>> import torch
    >>> probs = torch.tensor([[0.9, 0.2], [0.8, 0.1], [0.3, 0.7]])
    >>> y = torch.tensor([[1, 0], [1, 0], [0, 0]])
    >>> multilabel_calibration_error(probs, y, n_bins=10, average="none")
    tensor([0.2000, 0.3333])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import torch
from torch import Tensor

from ..tasks import Task, probabilities
from ._inputs import format_pair
from ._scores import calibration_error
from .decision import DecisionRule

if TYPE_CHECKING:
    from .calibration import Calibration

__all__ = ["calibration_metrics", "multilabel_calibration_error", "reliability_bins"]


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
        [calibration_error(probs[:, j], targets[:, j], n_bins=n_bins) for j in range(probs.shape[1])]
    )
    return per_label.mean() if average == "macro" else per_label


def reliability_bins(
    confidence: Tensor,
    correct: Tensor,
    *,
    n_bins: int = 15,
    strategy: Literal["uniform", "quantile"] = "uniform",
) -> dict[str, Tensor]:
    """Per-bin mean confidence, observed frequency and count (equal-width or equal-mass bins on [0, 1]).

    Args:
        confidence (Tensor[M]): predicted probabilities (binary/multilabel: of the positive class;
            multiclass: of the predicted class).
        correct (Tensor[M]): 0/1 outcomes (the target, or whether the prediction was right).
        n_bins (int): number of bins. Default: ``15``.
        strategy (str): ``"uniform"`` (equal-width bins on [0, 1]) or ``"quantile"`` (equal-mass: edges at
            the quantiles of ``confidence``, so each bin holds about ``M / n_bins`` rows, as scikit-learn's
            ``calibration_curve(strategy="quantile")``). Default: ``"uniform"``.

    Returns:
        dict: ``edges`` ``[n_bins + 1]``, ``confidence``, ``frequency`` (NaN for empty bins), ``count``.

    Examples:
        >>> b = reliability_bins(torch.tensor([0.1, 0.2, 0.3, 0.9]), torch.tensor([0, 0, 1, 1]), n_bins=2,
        ...                      strategy="quantile")
        >>> b["count"].tolist(), b["frequency"].tolist()
        ([2.0, 2.0], [0.0, 1.0])
    """
    c = confidence.detach().reshape(-1).to(torch.float64).cpu().contiguous()
    a = correct.detach().reshape(-1).to(torch.float64).cpu()
    if strategy == "quantile" and len(c):
        edges = torch.quantile(c, torch.linspace(0, 1, n_bins + 1, dtype=torch.float64))
        edges[0], edges[-1] = 0.0, 1.0
    else:
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


def calibration_metrics(
    logits: Any, targets: Any, *, task: Task | str, calibration: Calibration | None = None, n_bins: int = 15
) -> dict[str, Any]:
    """ECE, Brier score and log-loss of the probabilities, per label and overall.

    Binary and multilabel: per label, the binary ECE, the Brier score ``mean((p - y)^2)`` and the log-loss;
    overall, their means over the labels. Multiclass: overall, the top-1 ECE, the multi-class Brier score
    ``mean(sum_c (q_c - [y = c])^2)`` and the cross entropy; per class, the one-vs-rest ECE and Brier
    score (the per-class Brier scores sum to the overall one).

    Args:
        logits (Tensor[N], Tensor[N, L] or Tensor[N, C]): raw model outputs.
        targets (Tensor): 0/1 targets shaped like the logits, or class indices ``[N]``.
        task (Task or str): the task.
        calibration (Calibration, optional): score its probabilities instead of the task's activation.
            Default: ``None``.
        n_bins (int): equal-width ECE bins. Default: ``15``.

    Returns:
        dict: ``ece``, ``brier``, ``log_loss`` (floats) and ``ece_per_label``, ``brier_per_label`` (lists;
        sigmoid tasks also ``log_loss_per_label``).

    Examples:
        >>> import torch
        >>> m = calibration_metrics(torch.tensor([-2.0, 0.0, 2.0]), torch.tensor([0, 1, 1]), task="binary")
        >>> round(m["brier"], 4), round(m["log_loss"], 4)
        (0.0928, 0.3157)
    """
    t = Task.from_str(task)
    z, y = format_pair(logits, targets, t)
    u = DecisionRule(t, calibration).calibrated_logits(z)
    if t is Task.MULTICLASS:
        q = probabilities(u, t)
        onehot = torch.nn.functional.one_hot(y, q.shape[1]).to(q.dtype)
        per_class = ((q - onehot) ** 2).mean(0)
        ece_c = [float(calibration_error(q[:, c], onehot[:, c], n_bins=n_bins)) for c in range(q.shape[1])]
        confidence, top1 = q.max(1)
        ece = calibration_error(confidence, top1 == y, n_bins=n_bins)
        return {
            "ece": float(ece),
            "brier": float(per_class.sum()),
            "log_loss": float((torch.logsumexp(u, 1) - u.gather(1, y[:, None])[:, 0]).mean()),
            "ece_per_label": ece_c,
            "brier_per_label": [float(v) for v in per_class],
        }
    u2, y2 = (u[:, None], y[:, None]) if t is Task.BINARY else (u, y)
    p, yf = probabilities(u2, t), y2.to(torch.float64)
    ece_l = multilabel_calibration_error(p, y2, n_bins=n_bins, average="none")
    brier_l = ((p - yf) ** 2).mean(0)
    loss_l = (torch.logaddexp(u2, torch.zeros_like(u2)) - yf * u2).mean(0)
    return {
        "ece": float(ece_l.mean()),
        "brier": float(brier_l.mean()),
        "log_loss": float(loss_l.mean()),
        "ece_per_label": [float(v) for v in ece_l],
        "brier_per_label": [float(v) for v in brier_l],
        "log_loss_per_label": [float(v) for v in loss_l],
    }
