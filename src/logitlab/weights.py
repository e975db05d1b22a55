"""Imbalance weights from the training labels: ``pos_weight`` per label and ``class_weight`` per class.

Strategies (:data:`WEIGHT_STRATEGIES`), with ``pos``/``neg`` the positive/negative counts of a label,
``n_c`` the count of class ``c``, ``N`` the number of samples and ``C`` the number of classes:

=============  =====================================  ==========================================
strategy       ``pos_weight`` (per label)             ``class_weight`` (per class)
=============  =====================================  ==========================================
``balanced``   ``neg / pos``                          ``N / (C * n_c)`` (scikit-learn's "balanced")
``sqrt``       ``sqrt(neg / pos)``                    ``sqrt(N / (C * n_c))``
``smoothed``   ``(neg + s) / (pos + s)``              ``(N + C*s) / (C * (n_c + s))``
``effective``  ``E(neg) / E(pos)``                    ``(1 - beta) / (1 - beta**n_c)``, scaled to sum to C
``none``       ``1``                                  ``1``
=============  =====================================  ==========================================

``E(n) = (1 - beta**n) / (1 - beta)`` is the effective number of samples of Cui et al., "Class-Balanced
Loss Based on Effective Number of Samples", CVPR 2019.

Examples:
    >>> import torch
    >>> pos_weight(torch.tensor([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0], [0.0, 1.0]]))
    tensor([3., 1.])
    >>> class_weight(torch.tensor([0, 0, 0, 1]))
    tensor([0.6667, 2.0000])
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from .errors import ConfigError, LogitlabWarning, TargetError
from .label_counts import LabelCounts
from .options import OPTIONS, WeightStrategy
from .targets import _as_tensor
from .tasks import Task

__all__ = [
    "WEIGHT_STRATEGIES",
    "ImbalanceWeights",
    "LabelCounts",
    "WeightStrategy",
    "class_weight",
    "imbalance_weights",
    "pos_weight",
]

WEIGHT_STRATEGIES: tuple[str, ...] = OPTIONS["strategy"].values
"""The strategy names (``options.OPTIONS["strategy"]``; the Classifier's ``"auto"`` is resolved before)."""


def pos_weight(
    targets: Any,
    strategy: WeightStrategy = "balanced",
    *,
    max_weight: float | None = None,
    smoothing: float = 1.0,
    beta: float = 0.999,
) -> Tensor:
    """The BCE ``pos_weight`` per label: how much more a positive counts than a negative.

    Normalisation: the weight multiplies the positive term only, negatives keep weight 1, so
    ``balanced`` makes positives and negatives of each label weigh the same in total. Soft targets
    count fractionally (``pos = targets.sum(0)``). A label with no positives (or no negatives) counts
    1 of them (``smoothed`` adds ``s`` anyway) and is named in a :class:`LogitlabWarning`.

    Args:
        targets (Tensor[N], Tensor[N, 1] or Tensor[N, L]): 0/1 (or soft) training targets, any array-like;
            or their :class:`~logitlab.label_counts.LabelCounts` (from a streaming pass).
        strategy (str): one of :data:`WEIGHT_STRATEGIES`. Default: ``"balanced"``.
        max_weight (float, optional): cap on each weight (capped labels are warned). Default: ``None``.
        smoothing (float): ``s`` of the ``smoothed`` strategy, >= 0. Default: ``1.0``.
        beta (float): ``beta`` of the ``effective`` strategy, in [0, 1). Default: ``0.999``.

    Returns:
        Tensor[L]: float32 weights (``[1]`` for binary targets), on the targets' device.

    Examples:
        >>> import torch
        >>> pos_weight(torch.tensor([1.0, 0.0, 0.0, 0.0, 0.0]), "sqrt")
        tensor([2.])
    """
    _check_options(strategy, max_weight, smoothing, beta)
    pos, rows, device = _positives(targets)
    neg = rows - pos
    notes: list[str] = []
    if strategy == "none":
        w = torch.ones_like(pos)
    elif strategy == "smoothed" and smoothing > 0:
        _note_empty(pos, "label", "positives", notes, smoothed=True)
        _note_empty(neg, "label", "negatives", notes, smoothed=True)
        w = (neg + smoothing) / (pos + smoothing)
    else:
        pos, neg = (
            _at_least_one(pos, "label", "positives", notes),
            _at_least_one(neg, "label", "negatives", notes),
        )
        if strategy == "effective":
            w = _effective_number(neg, beta) / _effective_number(pos, beta)
        else:
            w = neg / pos
            w = w.sqrt() if strategy == "sqrt" else w
    w = _cap(w, max_weight, "label", notes)
    for note in notes:
        warnings.warn(note, LogitlabWarning, stacklevel=2)
    return w.to(device=device, dtype=torch.float32)


def _positives(targets: Any) -> tuple[Tensor, int, torch.device]:
    """(positives per label float64 on the CPU, rows, the targets' device) of targets or :class:`LabelCounts`."""
    if isinstance(targets, LabelCounts):
        return targets.sums.cpu(), targets.rows, torch.device("cpu")
    t = _check_matrix(_as_tensor(targets), "targets")
    if not t.is_floating_point():
        t = t.to(torch.float64)
    lo, hi = float(t.min()), float(t.max())
    if lo < 0 or hi > 1:
        raise TargetError(
            f"Expected 0/1 (or soft [0, 1]) targets for pos_weight; got values in [{lo:.4g}, {hi:.4g}].",
            fix="for class ids use class_weight(labels); else map the positives to 1, e.g. (y == positive_label).",
            code="targets-out-of-range",
        )
    return t.double().sum(0).cpu(), int(t.shape[0]), t.device


def class_weight(
    labels: Any,
    strategy: WeightStrategy = "balanced",
    *,
    num_classes: int | None = None,
    max_weight: float | None = None,
    smoothing: float = 1.0,
    beta: float = 0.999,
) -> Tensor:
    """The cross-entropy ``weight`` per class, for ``CrossEntropyLoss(weight=...)``.

    Normalisation: ``balanced`` is scikit-learn's ``compute_class_weight("balanced")``,
    ``N / (C * n_c)``, so the weighted counts sum to ``N`` (a class of average frequency weighs 1);
    ``sqrt`` is its square root; ``smoothed`` is the same formula with ``s`` added to every count;
    ``effective`` is rescaled so the weights sum to ``C`` (Cui et al. 2019). A class with no samples
    counts 1 (``smoothed`` adds ``s`` anyway) and is named in a :class:`LogitlabWarning`.

    Args:
        labels (Tensor[N] or Tensor[N, C]): class indices, or one-hot / probability rows (counts are
            the column sums); any array-like; or their :class:`~logitlab.label_counts.LabelCounts`.
        strategy (str): one of :data:`WEIGHT_STRATEGIES`. Default: ``"balanced"``.
        num_classes (int, optional): ``C``; classes absent from ``labels`` still get a weight.
            Default: ``labels.max() + 1`` (or the number of columns).
        max_weight (float, optional): cap on each weight (capped classes are warned). Default: ``None``.
        smoothing (float): ``s`` of the ``smoothed`` strategy, >= 0. Default: ``1.0``.
        beta (float): ``beta`` of the ``effective`` strategy, in [0, 1). Default: ``0.999``.

    Returns:
        Tensor[C]: float32 weights, on the labels' device.

    Examples:
        >>> class_weight([0, 0, 0, 1, 1, 2], "none")
        tensor([1., 1., 1.])
    """
    _check_options(strategy, max_weight, smoothing, beta)
    if isinstance(labels, LabelCounts):
        counts, device = _counted_classes(labels, num_classes), torch.device("cpu")
    else:
        t = _as_tensor(labels)
        counts, device = _class_counts(t, num_classes), t.device
    n, c = float(counts.sum()), counts.numel()
    notes: list[str] = []
    if strategy == "none":
        w = torch.ones_like(counts)
    elif strategy == "smoothed" and smoothing > 0:
        _note_empty(counts, "class", "samples", notes, smoothed=True)
        w = (n + c * smoothing) / (c * (counts + smoothing))
    else:
        counts = _at_least_one(counts, "class", "samples", notes)
        if strategy == "effective":
            w = 1.0 / _effective_number(counts, beta)
            w = w * (c / w.sum())
        else:
            w = n / (c * counts)
            w = w.sqrt() if strategy == "sqrt" else w
    w = _cap(w, max_weight, "class", notes)
    for note in notes:
        warnings.warn(note, LogitlabWarning, stacklevel=2)
    return w.to(device=device, dtype=torch.float32)


@dataclass(frozen=True)
class ImbalanceWeights:
    """The imbalance weights a task's loss takes, and under which keyword.

    Args:
        option (str): the loss keyword: ``"pos_weight"`` (sigmoid tasks) or ``"weight"`` (multiclass).
        strategy (str): the strategy that computed them (:data:`WEIGHT_STRATEGIES`).
        values (Tensor[L] or Tensor[C]): one weight per label / class.
    """

    option: str
    strategy: str
    values: Tensor

    @property
    def kind(self) -> str:
        """``"pos_weight"`` or ``"class_weight"``: what the numbers are."""
        return "pos_weight" if self.option == "pos_weight" else "class_weight"

    def to_dict(self) -> dict[str, Any]:
        """The JSON form kept in ``Classifier.decisions_["weights"]``: strategy, kind and values."""
        return {
            "strategy": self.strategy,
            "kind": self.kind,
            "values": [round(float(w), 4) for w in self.values],
        }


def imbalance_weights(
    targets: Any, task: Any, strategy: WeightStrategy = "balanced", *, num_classes: int | None = None
) -> ImbalanceWeights | None:
    """The imbalance weights for a task: ``pos_weight`` per label (binary, multilabel) or ``class_weight``.

    The one place that decides which weight a task takes. Multiclass targets may be class indices
    ``[N]`` or probability rows ``[N, C]`` (soft labels: a class counts its probability mass).

    Args:
        targets (Tensor or LabelCounts): the training split's targets in the task's form
            (``prepare_targets``), or their counts (``split.label_counts(task)``).
        task (Task or str): the task.
        strategy (str): one of :data:`WEIGHT_STRATEGIES`; ``"none"`` returns ``None``. Default: ``"balanced"``.
        num_classes (int, optional): ``C`` for multiclass (classes absent from the split still get a weight).

    Returns:
        ImbalanceWeights or None.

    Examples:
        >>> w = imbalance_weights(torch.tensor([0, 0, 0, 1]), "multiclass", num_classes=2)
        >>> w.option, w.to_dict()
        ('weight', {'strategy': 'balanced', 'kind': 'class_weight', 'values': [0.6667, 2.0]})
        >>> imbalance_weights(torch.tensor([[1.0], [0.0], [0.0]]), "binary").option
        'pos_weight'
    """
    OPTIONS["strategy"].check(strategy)
    if strategy == "none":
        return None
    if Task.from_str(task) is Task.MULTICLASS:
        return ImbalanceWeights("weight", strategy, class_weight(targets, strategy, num_classes=num_classes))
    return ImbalanceWeights("pos_weight", strategy, pos_weight(targets, strategy))


def _check_options(strategy: str, max_weight: float | None, smoothing: float, beta: float) -> None:
    OPTIONS["strategy"].check(strategy)
    if max_weight is not None and not (isinstance(max_weight, (int, float)) and max_weight > 0):
        raise ConfigError(
            f"Expected argument `max_weight` to be a number > 0 or None; got {max_weight!r}.",
            fix="use max_weight=None (no cap) or e.g. max_weight=50.0.",
            code="bad-max-weight",
        )
    if not (isinstance(smoothing, (int, float)) and math.isfinite(smoothing) and smoothing >= 0):
        raise ConfigError(
            f"Expected argument `smoothing` to be a finite number >= 0; got {smoothing!r}.",
            fix="use smoothing=1.0 (add-one smoothing).",
            code="bad-smoothing",
        )
    if not (isinstance(beta, (int, float)) and 0 <= beta < 1):
        raise ConfigError(
            f"Expected argument `beta` to be in [0, 1); got {beta!r}.",
            fix="use beta=0.999 (Cui et al. 2019), or 0.9999 for very large datasets.",
            code="bad-beta",
        )


def _check_matrix(t: Tensor, name: str) -> Tensor:
    if t.numel() == 0:
        raise TargetError(
            f"Expected at least one row of `{name}`; got an empty tensor of shape {list(t.shape)}.",
            fix="compute weights from the (non-empty) training split.",
            code="empty-targets",
        )
    if t.ndim == 1:
        t = t.unsqueeze(1)
    if t.ndim != 2:
        raise TargetError(
            f"Expected `{name}` as [N] or [N, L]; got shape {list(t.shape)}.",
            fix="flatten to one row per sample.",
            code="bad-target-ndim",
        )
    if t.is_floating_point() and not bool(torch.isfinite(t).all()):
        raise TargetError(
            f"Expected finite `{name}`; got NaN/Inf values.",
            fix="drop or impute the rows with missing labels before computing weights.",
            code="nonfinite-targets",
        )
    return t


def _class_counts(t: Tensor, num_classes: int | None) -> Tensor:
    if num_classes is not None and (
        isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1
    ):
        raise ConfigError(
            f"Expected argument `num_classes` to be a positive int; got {num_classes!r}.",
            fix="pass num_classes=C, the number of classes.",
            code="bad-num-classes",
        )
    t = _check_matrix(t, "labels")  # [N] and [N, 1] both come back as [N, 1]: class indices
    if t.shape[1] == 1:
        t = t.squeeze(1)
    if t.ndim == 2:
        if num_classes is not None and t.shape[1] != num_classes:
            raise TargetError(
                f"Expected {num_classes} class columns; got labels {list(t.shape)}.",
                fix="pass num_classes equal to the number of columns, or class indices [N].",
                code="label-count-mismatch",
            )
        if float(t.min()) < 0:
            raise TargetError(
                "Expected one-hot or probability rows >= 0; got negative values.",
                fix="give class indices [N] or rows of probabilities.",
                code="targets-out-of-range",
            )
        return t.double().sum(0).cpu()
    if t.is_floating_point() and not bool((t == t.round()).all()):
        raise TargetError(
            "Expected whole-number class indices [N]; got non-integer values.",
            fix="give class indices, or one-hot / probability rows [N, C].",
            code="non-integer-labels",
        )
    t = t.long().cpu()
    lo, hi = int(t.min()), int(t.max())
    c = num_classes if num_classes is not None else hi + 1
    if lo < 0 or hi >= c:
        raise TargetError(
            f"Expected class indices in [0, {c - 1}]; got labels in [{lo}, {hi}].",
            fix="remap the labels to 0..C-1 (sklearn.preprocessing.LabelEncoder), or raise num_classes.",
            code="class-index-out-of-range",
        )
    return torch.bincount(t, minlength=c).double()


def _counted_classes(counts: LabelCounts, num_classes: int | None) -> Tensor:
    sums, c = counts.sums.cpu(), num_classes or len(counts.sums)
    if len(sums) > c:
        raise TargetError(
            f"Expected counts of at most {c} classes; got {len(sums)}.", code="label-count-mismatch"
        )
    return torch.cat([sums, sums.new_zeros(c - len(sums))])


def _effective_number(n: Tensor, beta: float) -> Tensor:
    """``(1 - beta**n) / (1 - beta)``; equals ``n`` in the limit ``beta -> 1`` and 1 for ``beta = 0``."""
    return -torch.expm1(n * math.log(beta)) / (1 - beta) if beta > 0 else torch.ones_like(n)


def _at_least_one(counts: Tensor, what: str, items: str, notes: list[str]) -> Tensor:
    _note_empty(counts, what, items, notes, smoothed=False)
    return torch.where(counts > 0, counts, torch.ones_like(counts))


def _note_empty(counts: Tensor, what: str, items: str, notes: list[str], *, smoothed: bool) -> None:
    empty = torch.nonzero(counts <= 0).flatten().tolist()
    if empty:
        how = (
            "its weight comes from the smoothing alone"
            if smoothed
            else "counted as 1 to keep the weight finite"
        )
        verb = "has" if len(empty) == 1 else "have"
        notes.append(f"{what}{_indices(empty)} {verb} no {items}; {how} (check the training split).")


def _cap(w: Tensor, max_weight: float | None, what: str, notes: list[str]) -> Tensor:
    if max_weight is None:
        return w
    capped = torch.nonzero(w > max_weight).flatten().tolist()
    if capped:
        notes.append(
            f"capped the weight of {what}{_indices(capped)} at max_weight={max_weight:g} "
            f"(largest was {float(w.max()):.4g})."
        )
    return w.clamp_max(max_weight)


def _indices(idx: list[int]) -> str:
    shown = ", ".join(map(str, idx[:10]))
    return f"{'s' if len(idx) > 1 else ''} {shown}{', ...' if len(idx) > 10 else ''}"
