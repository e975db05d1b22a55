"""Where :class:`~logitlab.Classifier` fits what: cross-fitting, or one split with two halves.

``cv`` (:data:`~logitlab.options.CV_AUTO`) decides between

* **cross-fitting** (``cv=K``): the training and validation rows are pooled and cut into ``K`` stratified
  folds (:func:`~logitlab.data.split.fold_indices`); fold model ``k`` trains on the other folds and is
  early-stopped on fold ``k``; every row so gets an out-of-fold logit from a model that never saw it, and
  the calibration and thresholds are fitted on those pooled logits. The fitted model averages the ``K``
  fold models' logits (:class:`~logitlab.models.Ensemble`), so saving, loading and ONNX export see one
  model;
* **one split** (``cv=1``): the validation split is cut in two stratified halves; the first picks the
  epoch (early stopping), the second fits the calibration and tunes the thresholds, so the rows that chose
  the epoch never fit the map. A streaming table keeps one validation split for both (its rows stay in
  the files).

The calibration and thresholds fitted on the planned rows are :mod:`logitlab.estimator._calibrate`'s. Only the
:mod:`logitlab.estimator` package imports this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import ConcatDataset, IterableDataset, Subset

from ..errors import ConfigError
from ..options import CV_AUTO

if TYPE_CHECKING:
    from ..data import DatasetBundle, LabelEncoder, Split

__all__ = ["Fitting", "Plan", "check_coverage", "check_cv", "plan_folds", "resolve_cv"]


class Fitting(Protocol):
    """What planning reads of a Classifier being fitted: two parameters and its label attributes."""

    cv: Any
    ensemble: Any
    task_: str
    seed_: int
    n_outputs_: int
    label_encoder_: LabelEncoder
    label_names_: list[str]


@dataclass
class Plan:
    """What each member trains and stops on, and the rows the calibration and thresholds are fitted on.

    Attributes:
        members (list[(Split, Split or None)]): per member, its training rows and its early-stopping rows.
        fit_rows (list[ndarray]): per member, positions in ``calibration`` of the rows it predicts
            out of fold (cross-fitting); empty lists for one split (the whole model predicts them).
        calibration (Split): the rows the calibration map and the thresholds are fitted on.
        kind (str): ``"out-of-fold"``, ``"half of validation"`` or ``"validation"``.
        pool (Split or None): the pooled rows of a cross-fit (``None`` for one split).
    """

    members: list[tuple[Split, Split | None]]
    fit_rows: list[np.ndarray]
    calibration: Split
    kind: str
    pool: Split | None = None


def check_cv(cv: Any) -> bool:
    """Whether ``cv`` is ``"auto"``, ``None`` or an int >= 1 (what ``check_params`` accepts)."""
    return bool(
        cv is None
        or cv == "auto"
        or (isinstance(cv, (int, np.integer)) and not isinstance(cv, bool) and cv >= 1)
    )


def _streaming(split: Split) -> bool:
    return isinstance(split.x, IterableDataset)


def _distributed() -> bool:
    from ..train.distributed import detect

    return detect().world_size > 1


def rarest_events(y: Tensor, task: str) -> int:
    """Rows of the rarest class (binary: the rarer class; multilabel: the rarer side of any label).

    Examples:
        >>> rarest_events(torch.tensor([[1.0], [0.0], [0.0]]), "binary")
        1
        >>> rarest_events(torch.tensor([0, 2, 2, 2]), "multiclass")
        1
    """
    if task == "multiclass":
        counts = y.sum(0) if y.ndim == 2 else torch.bincount(y.long().reshape(-1))
        present = counts[counts > 0]
        return int(present.min()) if len(present) else 0
    pos = (y.reshape(len(y), -1) >= 0.5).sum(0)
    return int(torch.minimum(pos, len(y) - pos).min()) if len(y) else 0


def resolve_cv(clf: Fitting, bundle: DatasetBundle) -> tuple[int, str]:
    """The folds to cross-fit (1: one split) for ``clf.cv`` on ``bundle``, and the reason, for ``decisions_``.

    Raises:
        ConfigError: ``cv > 1`` on a streaming table or under DDP (code ``cv-unsupported``).
    """
    cv = clf.cv
    if cv is None or cv == 1:
        return 1, f"cv={cv!r}: one validation split"
    where = (
        "a streaming table"
        if _streaming(bundle.train)
        else "a DDP run (torchrun)"
        if _distributed()
        else "rows read lazily (images or sparse rows)"
        if not isinstance(bundle.train.x, Tensor)
        else None
    )
    if cv != "auto":
        if where is not None:
            raise ConfigError(
                f"Got cv={cv}, but cross-fitting is not supported on {where}: each fold would need its own "
                "pass over the data and its own out-of-fold predictions gathered over ranks.",
                fix="use cv=1 (one validation split), or cv='auto' (which uses one split there).",
                code="cv-unsupported",
                param="cv",
            )
        return int(cv), f"cv={cv}: cross-fitted as asked"
    if where is not None:
        return 1, f"cv='auto': one validation split on {where} (cross-fitting is not done there)"
    if int(clf.ensemble) > 1:
        return (
            1,
            f"cv='auto': one validation split, as ensemble={clf.ensemble} asks for a seed ensemble on it",
        )
    n = len(bundle.train) + len(bundle.val)
    if len(bundle.val) == 0:
        return 1, "cv='auto': val_size=0 asks to train on every row, without validation"
    share = len(bundle.val) / n
    events = rarest_events(_cat_targets(bundle.train.y, bundle.val.y), clf.task_)
    expected = events * share
    rule = CV_AUTO
    if n > rule["max_rows"]:
        return (
            1,
            f"cv='auto': one validation split, as {n} rows > {rule['max_rows']} (a fit per fold costs too much)",
        )
    folds = rule["folds"]
    if expected < rule["min_val_events"]:
        return folds, (
            f"cv='auto': {folds}-fold cross-fitting, as one validation split of {share:.0%} would hold about "
            f"{expected:.0f} rows of the rarest class (< {rule['min_val_events']})"
        )
    if n < rule["small_rows"]:
        return (
            folds,
            f"cv='auto': {folds}-fold cross-fitting, as the table is small ({n} < {rule['small_rows']} rows)",
        )
    return 1, (
        f"cv='auto': one validation split ({n} rows, about {expected:.0f} validation rows of the rarest class "
        f">= {rule['min_val_events']})"
    )


def subset(split: Split, rows: np.ndarray) -> Split:
    """The rows ``rows`` of ``split`` (a lazy split stays lazy)."""
    from ..data import Split

    rows = np.asarray(rows, dtype=np.int64)
    at = torch.from_numpy(rows)
    x: Any = split.x[at] if isinstance(split.x, Tensor) else Subset(split.x, rows.tolist())
    return Split(x, split.y[at], split.index[rows] if len(split.index) else rows)


def pooled(bundle: DatasetBundle) -> Split:
    """The training and validation rows of ``bundle`` as one split (training rows first)."""
    return pool(bundle.train, bundle.val)


def pool(a: Split, b: Split) -> Split:
    """The rows of ``a`` and then ``b`` as one split (tensors concatenated, datasets chained)."""
    from ..data import Split

    if len(b) == 0:
        return a
    if isinstance(a.x, Tensor) and isinstance(b.x, Tensor):
        x: Any = torch.cat([a.x, b.x])
    else:
        x = ConcatDataset([a.x, b.x])  # type: ignore[list-item]
    return Split(x, _cat_targets(a.y, b.y), np.concatenate([a.index, b.index]))


def _cat_targets(a: Tensor, b: Tensor) -> Tensor:
    """Two splits' targets as one tensor; multiclass class indices next to soft labels become one-hot rows."""
    if a.ndim != b.ndim:  # multiclass: soft [N, C] next to indices [N]
        n = (a if a.ndim == 2 else b).shape[1]
        a, b = (
            t if t.ndim == 2 else torch.nn.functional.one_hot(t.long(), n).to(torch.float32) for t in (a, b)
        )
    return torch.cat([a, b.to(a.dtype)])


def _names(clf: Fitting) -> list[str]:
    return [str(c) for c in clf.label_encoder_.classes]  # the logit order (classes_ is sorted)


def plan_folds(clf: Fitting, bundle: DatasetBundle, folds: int, members: int) -> tuple[Plan, list[str]]:
    """The :class:`Plan` for ``folds`` (1: one split with ``members`` seed members), and notes."""
    from ..data.split import fold_indices, split_indices

    if folds > 1:
        pool = pooled(bundle)
        parts, notes = fold_indices(pool.y.numpy(), clf.task_, folds, seed=clf.seed_, names=_names(clf))
        held = np.sort(np.concatenate([h for _, h in parts]))
        where = np.full(len(pool), -1, dtype=np.int64)
        where[held] = np.arange(len(held))
        plan = Plan(
            [(subset(pool, tr), subset(pool, h)) for tr, h in parts],
            [where[h] for _, h in parts],
            subset(pool, held),
            "out-of-fold",
            pool,
        )
        return plan, notes
    val = bundle.val
    if len(val) == 0:
        return Plan([(bundle.train, None)] * members, [], val, "none"), []
    if not isinstance(val.x, Tensor) or len(val) < 4:
        why = "rows read lazily" if not isinstance(val.x, Tensor) else f"{len(val)} validation rows"
        note = (
            f"one validation split ({why}) fits the calibration and thresholds, and picks the epoch of a "
            "network trained by minibatches"
        )
        return Plan([(bundle.train, val)] * members, [], val, "validation"), [note]
    stop, fit, _, notes = split_indices(
        val.y.numpy(), clf.task_, val_size=0.5, test_size=0.0, seed=clf.seed_ + 2, names=_names(clf)
    )
    notes = [f"validation halves: {n}" for n in notes]
    first = subset(val, stop)
    return Plan([(bundle.train, first)] * members, [], subset(val, fit), "half of validation"), notes


def _counts(split: Split, clf: Fitting) -> tuple[list[float], int]:
    counts = split.label_counts(clf.task_, num_classes=int(clf.n_outputs_))
    return [float(v) for v in counts.sums.tolist()], int(counts.rows)


def _missing(split: Split, clf: Fitting) -> list[str]:
    """The classes (multilabel: labels' positive or negative side) with no rows in ``split``."""
    sums, rows = _counts(split, clf)
    if clf.task_ == "multiclass":
        return [repr(str(clf.label_encoder_.classes[j])) for j, v in enumerate(sums) if v <= 0]
    if clf.task_ == "binary":  # [negative, positive]
        return [repr(str(c)) for c, v in zip(clf.label_encoder_.classes, (rows - sums[0], sums[0])) if v <= 0]
    out = [f"{name!r} (positives)" for name, v in zip(clf.label_names_, sums) if v <= 0]
    return out + [f"{name!r} (negatives)" for name, v in zip(clf.label_names_, sums) if v >= rows]


def check_coverage(clf: Fitting, plan: Plan) -> list[str]:
    """Refuse a class with no training rows; warn (and return notes) for one with no validation rows.

    Raises:
        DataError: a class absent from the training rows (code ``class-not-in-training``): the model
            would give it an output it never learned. A multi-label label without positive (or negative)
            training rows is warned about instead (its output learns a constant; the doctor reports it).
    """
    import warnings

    from ..errors import DataError, LogitlabWarning

    train = plan.pool if plan.pool is not None else plan.members[0][0]
    absent = _missing(train, clf)
    notes = []
    if absent and clf.task_ == "multilabel":  # a label never (or always) on: its output learns that
        note = (
            f"{', '.join(absent[:10])}: no training rows, so the output learns a constant; "
            "the doctor reports such a label"
        )
        warnings.warn(f"Classifier: {note}.", LogitlabWarning, stacklevel=4)
        notes.append(note)
    elif absent:
        raise DataError(
            f"The training rows hold no rows of {', '.join(absent[:10])}: the model would give "
            f"{'it' if len(absent) == 1 else 'them'} an output it never learned.",
            fix="gather rows of every class for training, or leave the class out of y.",
            code="class-not-in-training",
        )
    checked = [
        (plan.calibration, "out-of-fold" if plan.kind == "out-of-fold" else "validation (calibration)")
    ]
    stop = plan.members[0][1]
    if plan.pool is None and stop is not None and stop is not plan.calibration:
        checked.append((stop, "validation (early stopping)"))
    for split, what in checked:
        if len(split) == 0:
            continue
        absent = _missing(split, clf)
        if absent:
            note = (
                f"{', '.join(absent[:10])} {'has' if len(absent) == 1 else 'have'} no {what} rows: "
                "its threshold and calibration are fitted without it"
            )
            warnings.warn(f"Classifier: {note}.", LogitlabWarning, stacklevel=4)
            notes.append(note)
    return notes
