"""Metrics on logits for the three tasks, built on torchmetrics, and a DDP-safe accumulator.

torchmetrics is never left to guess whether its inputs are logits: decisions are made here with
:func:`~logitlab.evaluate.predict_labels` (tuned thresholds or 0.5 / argmax) and passed as integer
labels, and the ranking and calibration metrics get probabilities made by
:func:`logitlab.tasks.probabilities` (in float64, so no spurious ties from a saturated sigmoid).

Keys of the returned dict (floats unless said otherwise):

* binary: ``accuracy precision recall f1 specificity balanced_accuracy roc_auc average_precision
  ece brier support n threshold``, ``confusion_matrix`` ``[[tn, fp], [fn, tp]]``.
* multilabel: ``subset_accuracy accuracy hamming_loss`` (``accuracy`` is per element),
  ``{precision,recall,f1}_{micro,macro,weighted}``, ``roc_auc average_precision ece brier`` (macro over the
  labels where they are defined), ``n``; lists ``*_per_label`` and ``support_per_label``,
  ``threshold_per_label``, ``confusion_matrices`` (one ``[[tn, fp], [fn, tp]]`` per label), ``label_names``.
* multiclass: ``accuracy balanced_accuracy``, ``{precision,recall,f1}_{micro,macro,weighted}``,
  ``roc_auc average_precision`` (one-vs-rest, macro), ``ece`` (top-1), ``brier`` (``mean(sum_c (q_c -
  [y = c])^2)``), ``top_{k}_accuracy`` for
  k in 2, 3, 5 below C, ``n``; lists ``*_per_class``, ``support_per_class``, ``bias_per_class``,
  ``confusion_matrix`` ``[C, C]`` (rows: true class), ``label_names``.

With a ``calibration`` everything is measured on the calibrated scale: the probability metrics use
its probabilities and ``thresholds`` are thresholds on them (as tuned on
``calibration.calibrated_logits(z)``, or re-expressed by ``calibration.map_thresholds``).

A ROC-AUC or average precision that is undefined (a label with no positives or no negatives) is NaN
and left out of its macro average.

Examples:
    >>> import torch
    >>> m = compute_metrics(torch.tensor([-2.0, 1.0, 3.0, -1.0]), torch.tensor([0, 1, 1, 1]), task="binary")
    >>> m["accuracy"], m["recall"], m["roc_auc"], m["confusion_matrix"]
    (0.75, 0.6666666865348816, 1.0, [[1, 0], [1, 2]])
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import torch
import torchmetrics.functional.classification as tmf
from torch import Tensor
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat

from ..tasks import Task, probabilities
from ._classification_table import format_classification_report
from ._inputs import format_pair
from .reliability import multilabel_calibration_error
from .thresholds import Thresholds, predict_labels

if TYPE_CHECKING:
    from .calibration import Calibration

__all__ = ["MetricAccumulator", "classification_report", "compute_metrics", "format_classification_report"]

N_BINS = 15
"""Equal-width confidence bins for the expected calibration error."""

_AVERAGES: tuple[Literal["micro", "macro", "weighted"], ...] = ("micro", "macro", "weighted")


def compute_metrics(
    logits: Any,
    targets: Any,
    *,
    task: Task | str,
    thresholds: Thresholds | None = None,
    label_names: Sequence[str] | None = None,
    calibration: Calibration | None = None,
) -> dict[str, Any]:
    """All the metrics of a task, from logits.

    Args:
        logits (Tensor[N], Tensor[N, 1], Tensor[N, L] or Tensor[N, C]): raw model outputs.
        targets (Tensor): binary ``[N]``/``[N, 1]`` 0/1, multilabel ``[N, L]`` 0/1, multiclass ``[N]``
            class indices (``[N, C]`` one-hot/probabilities are turned into indices with a warning).
        task (Task or str): the task.
        thresholds (Thresholds, optional): tuned decisions; Default: ``None`` (0.5 / argmax).
        label_names (list[str], optional): one name per label/class. Default: ``"0"``, ``"1"``, ...
        calibration (Calibration, optional): measure its calibrated logits instead. Default: ``None``.

    Returns:
        dict: flat floats, per-label lists and confusion matrices (see the module docstring).

    Raises:
        TargetError: targets of the wrong shape or values. DataError: non-finite or mis-shaped logits.
    """
    t = Task.from_str(task)
    z, y = format_pair(logits, targets, t)
    if calibration is not None:  # the thresholds are on the calibrated scale too
        z = calibration.calibrated_logits(z)
    preds = predict_labels(z, task=t, thresholds=thresholds)
    probs = probabilities(z, t)  # float64, in [0, 1]: torchmetrics takes them as they are
    n_out = 1 if t is Task.BINARY else z.shape[1]
    names = [str(n) for n in label_names] if label_names is not None else [str(i) for i in range(n_out)]
    th = thresholds if thresholds is not None else Thresholds.default(t, n_out)
    with warnings.catch_warnings():  # undefined AUROC/AP are reported as NaN below, not warned
        warnings.simplefilter("ignore", UserWarning)
        if t is Task.BINARY:
            out = _binary(probs, preds, y)
            out["threshold"] = th.values[0]
        elif t is Task.MULTILABEL:
            out = _multilabel(probs, preds, y)
            out["threshold_per_label"] = list(th.values)
        else:
            out = _multiclass(probs, preds, y)
            out["bias_per_class"] = list(th.values)
    out["n"] = int(y.shape[0])
    if t is not Task.BINARY:
        out["label_names"] = names
    else:
        out["label_name"] = names[0] if names else "1"
    return out


def classification_report(
    logits: Any,
    targets: Any,
    *,
    task: Any,
    thresholds: Any = None,
    label_names: Sequence[str] | None = None,
    digits: int = 3,
) -> str:
    """The classification report of logits against targets (see :func:`format_classification_report`).

    Examples:
        >>> import torch
        >>> print(classification_report(torch.tensor([[2.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 0]),
        ...                             task="multiclass", label_names=["cat", "dog"]))  # doctest: +NORMALIZE_WHITESPACE
                      precision     recall   f1-score    support
        <BLANKLINE>
                 cat      1.000      0.500      0.667          2
                 dog      0.000      0.000      0.000          0
        <BLANKLINE>
            accuracy                            0.500          2
           macro avg      0.500      0.250      0.333          2
        weighted avg      1.000      0.500      0.667          2
    """
    metrics = compute_metrics(logits, targets, task=task, thresholds=thresholds, label_names=label_names)
    return format_classification_report(metrics, digits=digits)


def _f(x: Tensor) -> float:
    return float(x.item())


def _list(x: Tensor) -> list[float]:
    return [float(v) for v in x.tolist()]


def _binary(probs: Tensor, preds: Tensor, y: Tensor) -> dict[str, Any]:
    cm = tmf.binary_confusion_matrix(preds, y)
    tn, fp, fn, tp = (int(v) for v in cm.flatten())
    pos, neg = tp + fn, tn + fp
    defined = pos > 0 and neg > 0
    recall = _f(tmf.binary_recall(preds, y))
    specificity = _f(tmf.binary_specificity(preds, y))
    return {
        "accuracy": _f(tmf.binary_accuracy(preds, y)),
        "precision": _f(tmf.binary_precision(preds, y)),
        "recall": recall,
        "f1": _f(tmf.binary_f1_score(preds, y)),
        "specificity": specificity,
        "balanced_accuracy": (recall + specificity) / 2 if defined else math.nan,
        "roc_auc": _f(tmf.binary_auroc(probs, y)) if defined else math.nan,
        "average_precision": _f(tmf.binary_average_precision(probs, y)) if pos > 0 else math.nan,
        "ece": _f(tmf.binary_calibration_error(probs, y, n_bins=N_BINS)),
        "brier": float(((probs - y.to(probs.dtype)) ** 2).mean()),
        "support": pos,
        "confusion_matrix": [[tn, fp], [fn, tp]],
    }


def _masked_mean(values: list[float]) -> float:
    kept = [v for v in values if not math.isnan(v)]
    return sum(kept) / len(kept) if kept else math.nan


def _multilabel(probs: Tensor, preds: Tensor, y: Tensor) -> dict[str, Any]:
    n_labels = y.shape[1]
    kw: dict[str, Any] = {"num_labels": n_labels}
    out: dict[str, Any] = {
        "subset_accuracy": _f(tmf.multilabel_exact_match(preds, y, **kw)),
        "accuracy": _f(tmf.multilabel_accuracy(preds, y, average="micro", **kw)),
        "hamming_loss": _f(tmf.multilabel_hamming_distance(preds, y, average="micro", **kw)),
    }
    for name, fn in (
        ("precision", tmf.multilabel_precision),
        ("recall", tmf.multilabel_recall),
        ("f1", tmf.multilabel_f1_score),
    ):
        for avg in _AVERAGES:
            out[f"{name}_{avg}"] = _f(fn(preds, y, average=avg, **kw))
        out[f"{name}_per_label"] = _list(fn(preds, y, average="none", **kw))
    support = y.sum(0)
    pos_ok = support > 0
    both_ok = pos_ok & (support < y.shape[0])
    auroc = tmf.multilabel_auroc(probs, y, average="none", **kw)
    ap = tmf.multilabel_average_precision(probs, y, average="none", **kw)
    out["roc_auc_per_label"] = _list(torch.where(both_ok, auroc, math.nan))
    out["average_precision_per_label"] = _list(torch.where(pos_ok, ap, math.nan))
    out["roc_auc"] = _masked_mean(out["roc_auc_per_label"])
    out["average_precision"] = _masked_mean(out["average_precision_per_label"])
    ece = multilabel_calibration_error(probs, y, n_bins=N_BINS, average="none")
    out["ece_per_label"] = _list(ece)
    out["ece"] = float(ece.mean())
    out["brier_per_label"] = _list(((probs - y.to(probs.dtype)) ** 2).mean(0))
    out["brier"] = _masked_mean(out["brier_per_label"])
    out["support_per_label"] = [int(v) for v in support.tolist()]
    cms = tmf.multilabel_confusion_matrix(preds, y, **kw)
    out["confusion_matrices"] = [[[int(v) for v in row] for row in m.tolist()] for m in cms]
    return out


def _multiclass(probs: Tensor, preds: Tensor, y: Tensor) -> dict[str, Any]:
    n_classes = probs.shape[1]
    kw: dict[str, Any] = {"num_classes": n_classes}
    out: dict[str, Any] = {
        "accuracy": _f(tmf.multiclass_accuracy(preds, y, average="micro", **kw)),
        "balanced_accuracy": _f(tmf.multiclass_recall(preds, y, average="macro", **kw)),
    }
    for name, fn in (
        ("precision", tmf.multiclass_precision),
        ("recall", tmf.multiclass_recall),
        ("f1", tmf.multiclass_f1_score),
    ):
        for avg in _AVERAGES:
            out[f"{name}_{avg}"] = _f(fn(preds, y, average=avg, **kw))
        out[f"{name}_per_class"] = _list(fn(preds, y, average="none", **kw))
    support = torch.bincount(y, minlength=n_classes)
    both_ok = (support > 0) & (support < y.shape[0])
    auroc = tmf.multiclass_auroc(probs, y, average="none", **kw)
    ap = tmf.multiclass_average_precision(probs, y, average="none", **kw)
    out["roc_auc_per_class"] = _list(torch.where(both_ok, auroc, math.nan))
    out["average_precision_per_class"] = _list(torch.where(support > 0, ap, math.nan))
    out["roc_auc"] = _masked_mean(out["roc_auc_per_class"])
    out["average_precision"] = _masked_mean(out["average_precision_per_class"])
    out["ece"] = _f(tmf.multiclass_calibration_error(probs, y, n_bins=N_BINS, **kw))
    out["brier"] = float(
        ((probs - torch.nn.functional.one_hot(y, n_classes).to(probs.dtype)) ** 2).sum(1).mean()
    )
    for k in (2, 3, 5):
        if k < n_classes:
            out[f"top_{k}_accuracy"] = _f(tmf.multiclass_accuracy(probs, y, average="micro", top_k=k, **kw))
    out["support_per_class"] = [int(v) for v in support.tolist()]
    cm = tmf.multiclass_confusion_matrix(preds, y, **kw)
    out["confusion_matrix"] = [[int(v) for v in row] for row in cm.tolist()]
    return out


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
        0.6666666865348816
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
