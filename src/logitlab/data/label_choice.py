"""What label values say: the task, the classes and the positive class a :class:`~logitlab.data.LabelEncoder` is fitted with.

:meth:`LabelEncoder.fit <logitlab.data.LabelEncoder.fit>` parses the raw values (:mod:`logitlab.data.label_parsing`)
and hands them here; the encoder is built by the ``make`` it passes (its class), so this module does not
import it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

from ..errors import DataError, LogitlabWarning
from ..tasks import Task, infer_task
from .label_lists import label_lists, list_literals, refuse_other_separator
from .label_map import spelling_groups
from .label_parsing import (
    choose_positive,
    class_counts,
    indicator_matrix,
    json_scalar,
    quoted,
)
from .row_names import RowNamer

__all__ = ["fit_values"]

E = TypeVar("E")


def fit_values(
    make: Callable[..., E],
    values: np.ndarray,
    forced: Task | None,
    label_sep: str,
    positive: Any,
    label_names: Sequence[str] | None,
    row_name: RowNamer,
    counts: Sequence[int] | None,
) -> E:
    """The encoder ``make(task, classes, ...)`` that parsed label ``values`` call for (``forced``: the task given).

    Label lists make a multilabel task; a 2-D 0/1 matrix a multilabel or, one 1 per row, a multiclass
    task; 1-D labels a binary (two classes, or soft labels in [0, 1]) or multiclass task, with the
    positive class of :func:`~logitlab.data.label_parsing.choose_positive`.
    """
    lists = label_lists(values, label_sep, forced)
    if lists is not None:
        if forced not in (None, Task.MULTILABEL):
            raise DataError(
                f"Got label lists (e.g. {lists[0]!r}) but task={forced.value!r}.",
                fix="use task='multilabel', or give one label per row.",
                code="labels-task-mismatch",
            )
        names = sorted({lab for row in lists for lab in row})
        literal = values.ndim == 1 and list_literals(list(values)) is not None
        reason = (
            "label lists written as list literals" if literal else f"label lists separated by {label_sep!r}"
        )
        return make(Task.MULTILABEL, names, reason=reason, label_sep=label_sep)
    if values.ndim == 2 and values.shape[1] > 1:
        return _fit_matrix(make, values, forced, label_names, row_name, label_sep)
    values = values.reshape(-1)
    if forced is None:
        refuse_other_separator(values, label_sep)
    return _fit_1d(make, values, forced, positive, label_sep, counts)


def _fit_matrix(
    make: Callable[..., E],
    values: np.ndarray,
    forced: Task | None,
    label_names: Sequence[str] | None,
    row_name: RowNamer,
    label_sep: str,
) -> E:
    names = list(label_names) if label_names is not None else [f"label_{j}" for j in range(values.shape[1])]
    mat = indicator_matrix(values, row_name, names)
    task, reason = infer_task(mat, return_reason=True)
    if forced is Task.BINARY:
        raise DataError(
            f"Got {mat.shape[1]} label columns but task='binary'.",
            fix="give one target column for a binary task, or use task='multilabel'.",
            code="labels-task-mismatch",
        )
    if forced is Task.MULTICLASS and not np.all(mat.sum(axis=1) == 1):
        raise DataError(
            "task='multiclass' needs exactly one 1 per row in the label columns; some rows have 0 or several.",
            fix="use task='multilabel', or give one class column.",
            code="labels-task-mismatch",
        )
    task = forced or task
    return make(
        task, names, reason=reason if forced is None else f"task={task.value!r} given", label_sep=label_sep
    )


def _fit_1d(
    make: Callable[..., E],
    values: np.ndarray,
    forced: Task | None,
    positive: Any,
    label_sep: str,
    weights: Sequence[int] | None,
) -> E:
    if values.dtype.kind == "O" or values.dtype.kind == "U":
        values = np.array([v.strip() if isinstance(v, str) else v for v in values], dtype=object)
    if values.dtype.kind == "f":  # non-integral floats: soft binary labels
        task, reason = infer_task(values, return_reason=True)
        if forced not in (None, Task.BINARY):
            raise DataError(
                f"Soft labels in [0, 1] need task='binary'; got task={forced.value!r}.",
                fix="pass task='binary' (or leave it out), or give hard class labels for this task.",
                code="soft-labels-task",
            )
        return make(Task.BINARY, [0, 1], 1, reason, label_sep, soft=True)
    uniq, counts = class_counts(values, weights)
    spellings = spelling_groups(uniq, counts)
    if len(uniq) < 2:
        raise DataError(
            f"Expected at least two classes; every label is {uniq[0]!r}.",
            fix="check the target column: a classifier needs examples of more than one class.",
            code="single-class",
        )
    task, reason = infer_task(values.astype(str) if values.dtype.kind == "O" else values, return_reason=True)
    if forced is Task.BINARY and len(uniq) > 2:
        raise DataError(
            f"task='binary' needs two classes; the labels hold {len(uniq)}: {quoted(uniq, 10)}.",
            fix="use task='multiclass', or map the labels to two classes.",
            code="labels-task-mismatch",
        )
    if forced is not None:
        task, reason = forced, f"task={forced.value!r} given"
    if task is Task.MULTICLASS:
        return make(
            Task.MULTICLASS,
            [json_scalar(u) for u in uniq],
            reason=reason,
            label_sep=label_sep,
            notes=spellings,
        )
    pos, why = choose_positive(uniq, counts, positive)
    at = 1 if json_scalar(uniq[1]) == pos else 0
    neg = uniq[1 - at]
    note = f"positive class {pos!r} ({why}); negative class {json_scalar(neg)!r}"
    share = counts[at] / max(1, sum(counts))
    if positive is None and share > 0.5:  # a warning, not a note: most likely the other class was meant
        warnings.warn(_majority_positive(pos, json_scalar(neg), share), LogitlabWarning, stacklevel=4)
    return make(
        Task.BINARY, [json_scalar(neg), pos], pos, f"{reason}; {note}", label_sep, notes=[*spellings, note]
    )


def _majority_positive(pos: Any, neg: Any, share: float) -> str:
    """The warning for a positive class chosen by the rule that holds most of the rows."""
    return (
        f"the positive class {pos!r} is the majority ({share:.1%} of the labelled rows): precision, recall, "
        f"F1, average precision, the imbalance weights and the tuned threshold are about it; if the rarer "
        f"class {neg!r} is the one to detect, pass positive={neg!r}"
    )
