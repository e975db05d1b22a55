"""Metrics on logits for the three tasks (torchmetrics' definitions, computed in plain torch by :mod:`._scores`).

Nothing guesses whether its inputs are logits: the decisions and the probabilities of the ranking and
calibration metrics come from one :class:`~logitlab.evaluate.decision.DecisionRule` (tuned thresholds or
0.5 / argmax; probabilities in float64, so no spurious ties from a saturated sigmoid). The DDP-safe
accumulator, a torchmetrics ``Metric``, is in :mod:`.accumulator`.

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
    (0.75, 0.6666666666666666, 1.0, [[1, 0], [1, 2]])
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import torch
from torch import Tensor

from ..tasks import Task
from . import _scores
from ._classification_table import format_classification_report
from ._inputs import format_pair
from .decision import DecisionRule
from .epoch import rank_auroc
from .reliability import multilabel_calibration_error

if TYPE_CHECKING:
    from .calibration import Calibration
    from .thresholds import Thresholds

__all__ = ["classification_report", "compute_metrics", "format_classification_report"]

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
    rule = DecisionRule(t, calibration, thresholds)  # the thresholds are on the calibrated scale
    z, probs, preds = rule.apply(z)  # probabilities in float64, in [0, 1]
    n_out = 1 if t is Task.BINARY else z.shape[1]
    names = [str(n) for n in label_names] if label_names is not None else [str(i) for i in range(n_out)]
    th = rule.resolved_thresholds(n_out)
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
    tp_, fp_, fn_, tn_ = _scores.counts(preds[:, None], y[:, None])
    tn, fp, fn, tp = (int(v[0]) for v in (tn_, fp_, fn_, tp_))
    pos, neg = tp + fn, tn + fp
    defined = pos > 0 and neg > 0
    s = _scores.prf(tp_, fp_, fn_, "micro", multilabel=True)
    recall = _f(s["recall"])
    specificity = _f(_scores.safe_divide(tn_, tn_ + fp_))
    yf = y.to(probs.dtype)
    return {
        "accuracy": (tp + tn) / len(y),
        "precision": _f(s["precision"]),
        "recall": recall,
        "f1": _f(s["f1"]),
        "specificity": specificity,
        "balanced_accuracy": (recall + specificity) / 2 if defined else math.nan,
        "roc_auc": _f(rank_auroc(probs[None], yf[None])[0]) if defined else math.nan,
        "average_precision": _f(_scores.average_precision(probs[None], yf[None])[0]) if pos > 0 else math.nan,
        "ece": _f(_scores.calibration_error(probs, y, n_bins=N_BINS)),
        "brier": float(((probs - yf) ** 2).mean()),
        "support": pos,
        "confusion_matrix": [[tn, fp], [fn, tp]],
    }


def _masked_mean(values: list[float]) -> float:
    kept = [v for v in values if not math.isnan(v)]
    return sum(kept) / len(kept) if kept else math.nan


def _per_class(
    out: dict[str, Any], tp: Tensor, fp: Tensor, fn: Tensor, suffix: str, multilabel: bool
) -> None:
    for avg in _AVERAGES:
        for name, v in _scores.prf(tp, fp, fn, avg, multilabel=multilabel).items():
            out[f"{name}_{avg}"] = _f(v)
    for name, v in _scores.prf(tp, fp, fn, "none", multilabel=multilabel).items():
        out[f"{name}_{suffix}"] = _list(v)


def _multilabel(probs: Tensor, preds: Tensor, y: Tensor) -> dict[str, Any]:
    tp, fp, fn, tn = _scores.counts(preds, y)
    correct = (tp + tn).sum()
    out: dict[str, Any] = {
        "subset_accuracy": float((preds.bool() == y.bool()).all(1).double().mean()),
        "accuracy": int(correct) / y.numel(),
        "hamming_loss": 1 - int(correct) / y.numel(),
    }
    _per_class(out, tp, fp, fn, "per_label", multilabel=True)
    support = y.sum(0)
    pos_ok = support > 0
    both_ok = pos_ok & (support < y.shape[0])
    yf = y.to(probs.dtype)
    auroc = rank_auroc(probs.T, yf.T)
    ap = _scores.average_precision(probs.T, yf.T)
    out["roc_auc_per_label"] = _list(torch.where(both_ok, auroc, math.nan))
    out["average_precision_per_label"] = _list(torch.where(pos_ok, ap, math.nan))
    out["roc_auc"] = _masked_mean(out["roc_auc_per_label"])
    out["average_precision"] = _masked_mean(out["average_precision_per_label"])
    ece = multilabel_calibration_error(probs, y, n_bins=N_BINS, average="none")
    out["ece_per_label"] = _list(ece)
    out["ece"] = float(ece.mean())
    out["brier_per_label"] = _list(((probs - yf) ** 2).mean(0))
    out["brier"] = _masked_mean(out["brier_per_label"])
    out["support_per_label"] = [int(v) for v in support.tolist()]
    out["confusion_matrices"] = [
        [[int(tn[j]), int(fp[j])], [int(fn[j]), int(tp[j])]] for j in range(y.shape[1])
    ]
    return out


def _multiclass(probs: Tensor, preds: Tensor, y: Tensor) -> dict[str, Any]:
    n_classes = probs.shape[1]
    onehot = torch.nn.functional.one_hot(y, n_classes)
    tp, fp, fn, _ = _scores.counts(torch.nn.functional.one_hot(preds, n_classes), onehot)
    out: dict[str, Any] = {
        "accuracy": float((preds == y).double().mean()),
        "balanced_accuracy": _f(_scores.prf(tp, fp, fn, "macro", multilabel=False)["recall"]),
    }
    _per_class(out, tp, fp, fn, "per_class", multilabel=False)
    support = onehot.sum(0)
    both_ok = (support > 0) & (support < y.shape[0])
    yf = onehot.to(probs.dtype)
    auroc = rank_auroc(probs.T, yf.T)
    ap = _scores.average_precision(probs.T, yf.T)
    out["roc_auc_per_class"] = _list(torch.where(both_ok, auroc, math.nan))
    out["average_precision_per_class"] = _list(torch.where(support > 0, ap, math.nan))
    out["roc_auc"] = _masked_mean(out["roc_auc_per_class"])
    out["average_precision"] = _masked_mean(out["average_precision_per_class"])
    confidence, top1 = probs.max(1)
    out["ece"] = _f(_scores.calibration_error(confidence, top1 == y, n_bins=N_BINS))
    out["brier"] = float(((probs - yf) ** 2).sum(1).mean())
    for k in (2, 3, 5):
        if k < n_classes:
            hit = (probs.topk(k, dim=1).indices == y[:, None]).any(1)
            out[f"top_{k}_accuracy"] = float(hit.double().mean())
    out["support_per_class"] = [int(v) for v in support.tolist()]
    cm = torch.bincount(y * n_classes + preds, minlength=n_classes * n_classes).reshape(n_classes, n_classes)
    out["confusion_matrix"] = [[int(v) for v in row] for row in cm.tolist()]
    return out
