"""The three classification tasks, and the inference of a task from the labels.

A task decides everything downstream: the target form, the activation that turns logits into
probabilities and the loss family (sigmoid/BCE for independent labels, softmax/CE for
mutually exclusive classes).

Examples:
    >>> import torch
    >>> infer_task(torch.tensor([0, 1, 1, 0]))
    <Task.BINARY: 'binary'>
    >>> task, reason = infer_task([[1, 0, 1], [0, 1, 1]], return_reason=True)
    >>> task, reason
    (<Task.MULTILABEL: 'multilabel'>, 'a 2-D 0/1 indicator matrix with 3 labels and rows with several 1s')
    >>> Task.from_str("multi-class").family
    'softmax'
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from enum import Enum
from typing import Any, Literal, overload

import numpy as np

from .errors import ConfigError, TargetError

__all__ = ["Family", "Task", "infer_task", "probabilities"]

Family = Literal["sigmoid", "softmax"]

_ALIASES = {
    "binary": "binary",
    "multilabel": "multilabel",
    "multi-label": "multilabel",
    "multi_label": "multilabel",
    "multiclass": "multiclass",
    "multi-class": "multiclass",
    "multi_class": "multiclass",
}


class Task(str, Enum):
    """A classification task.

    ``BINARY``: one yes/no label per sample (one logit, sigmoid). ``MULTILABEL``: ``L``
    independent yes/no labels per sample (``L`` logits, sigmoid each). ``MULTICLASS``: exactly
    one of ``C`` classes per sample (``C`` logits, softmax).
    """

    BINARY = "binary"
    MULTILABEL = "multilabel"
    MULTICLASS = "multiclass"

    @classmethod
    def from_str(cls, value: str | Task) -> Task:
        """Parse a task name (``"binary"``, ``"multilabel"``/``"multi-label"``, ``"multiclass"``).

        Raises:
            ConfigError: for any other value, listing the accepted names.
        """
        if isinstance(value, Task):
            return value
        key = str(value).strip().lower() if isinstance(value, str) else None
        if key not in _ALIASES:
            raise ConfigError(
                f"Expected argument `task` to be one of {', '.join(t.value for t in cls)}; got {value!r}.",
                fix="pass task='binary', 'multilabel' or 'multiclass', or leave it out to infer it from the labels.",
                code="unknown-task",
            )
        return cls(_ALIASES[key])

    @property
    def family(self) -> Family:
        """The activation/loss family: ``"sigmoid"`` (BCE) or ``"softmax"`` (cross entropy)."""
        return "softmax" if self is Task.MULTICLASS else "sigmoid"

    def __str__(self) -> str:
        return self.value


@overload
def infer_task(y: Any, *, return_reason: Literal[False] = ...) -> Task: ...
@overload
def infer_task(y: Any, *, return_reason: Literal[True]) -> tuple[Task, str]: ...
def infer_task(y: Any, *, return_reason: bool = False) -> Task | tuple[Task, str]:
    """Infer the classification task from labels, and say why.

    Rules, in order:

    * rows that are lists/sets of label names (``[["cat", "indoor"], ["dog"]]``) -> multilabel;
    * 1-D labels (or an ``[N, 1]`` column) with at most two distinct values -> binary;
      with more integer or string values -> multiclass;
    * a 2-D ``[N, L]`` 0/1 matrix -> multilabel, unless every row holds exactly one 1
      (a one-hot matrix) -> multiclass; soft values in [0, 1] -> multilabel, unless every row
      sums to 1 (class probabilities) -> multiclass.

    Every entry point of logitlab takes ``task=`` to override the guess.

    Args:
        y (array-like): labels as a tensor, NumPy array, pandas Series/DataFrame or nested list.
        return_reason (bool): also return a one-line reason for the decision. Default: ``False``.

    Returns:
        Task, or ``(Task, reason)`` when ``return_reason`` is true.

    Raises:
        TargetError: for empty labels, NaN/Inf, continuous values that are not classes, or more
            than two dimensions.

    Examples:
        >>> infer_task(["cat", "dog", "bird"])
        <Task.MULTICLASS: 'multiclass'>
        >>> infer_task([[0, 1, 0], [1, 0, 0]], return_reason=True)[1]
        'a 2-D one-hot matrix (exactly one 1 per row) over 3 classes; pass task="multilabel" to override'
    """
    task, reason = _infer(y)
    return (task, reason) if return_reason else task


def _infer(y: Any) -> tuple[Task, str]:
    if _is_label_sets(y):
        return Task.MULTILABEL, "rows are lists/sets of label names"
    arr = _as_array(y)
    if arr.size == 0:
        raise TargetError(
            f"Expected argument `y` to hold at least one label; got an empty array of shape {list(arr.shape)}.",
            fix="check the data split or the target column; an empty batch has no task.",
            code="empty-targets",
        )
    if arr.ndim == 2 and arr.shape[1] == 1:
        task, reason = _infer_1d(arr[:, 0])
        return task, f"{reason} (an [N, 1] column)"
    if arr.ndim == 1:
        return _infer_1d(arr)
    if arr.ndim == 2:
        return _infer_2d(arr)
    raise TargetError(
        f"Expected argument `y` to be 1-D labels or a 2-D [N, L] matrix; got {arr.ndim} dimensions {list(arr.shape)}.",
        fix="flatten per-pixel or per-token labels to [N] or [N, L], or pass task= explicitly.",
        code="bad-target-ndim",
    )


def _is_label_sets(y: Any) -> bool:
    if hasattr(y, "shape") and not _is_object_array(y):
        return False
    items = list(y) if isinstance(y, Iterable) and not isinstance(y, (str, bytes)) else []
    if not items:
        return False
    if any(isinstance(v, (set, frozenset)) for v in items):
        return True
    if not all(isinstance(v, (list, tuple, np.ndarray)) for v in items):
        return False
    lengths = {len(v) for v in items}
    flat = [x for v in items for x in v]
    numeric = all(isinstance(x, (int, float, bool, np.number, np.bool_)) for x in flat)
    return len(lengths) > 1 or not numeric


def _is_object_array(y: Any) -> bool:
    dtype = getattr(y, "dtype", None)
    return dtype is not None and getattr(dtype, "kind", "") == "O"


def _as_array(y: Any) -> np.ndarray:
    if hasattr(y, "detach"):  # torch.Tensor, without importing torch here
        y = y.detach().cpu()
        if str(y.dtype) == "torch.bfloat16":
            y = y.float()
        y = y.numpy()
    elif hasattr(y, "to_numpy"):  # pandas
        y = y.to_numpy()
    try:
        arr = np.asarray(y)
    except ValueError as exc:  # ragged nested lists
        raise TargetError(
            f"Expected argument `y` to be rectangular labels; NumPy could not convert it ({exc}).",
            fix="give one label per row, a 2-D 0/1 matrix, or one list of label names per row.",
            code="bad-target-shape",
        ) from None
    if arr.dtype.kind == "O":  # missing labels in a string column must not become a class "None"/"nan"
        missing = sum(map(_is_missing, arr.ravel()))
        if missing:
            raise TargetError(
                f"Expected a label in every row; argument `y` holds {missing} missing values (None/NaN).",
                fix="drop or impute the rows with missing labels before training.",
                code="nonfinite-targets",
            )
    if arr.dtype.kind in "fc" and not np.isfinite(arr).all():
        raise TargetError(
            f"Expected finite labels; argument `y` holds {int((~np.isfinite(arr)).sum())} NaN/Inf values.",
            fix="drop or impute the rows with missing labels before training.",
            code="nonfinite-targets",
        )
    return arr


def _is_missing(v: Any) -> bool:
    if v is None or type(v).__name__ in ("NAType", "NaTType"):
        return True
    return isinstance(v, (float, np.floating)) and math.isnan(v)


def _infer_1d(arr: np.ndarray) -> tuple[Task, str]:
    if arr.dtype.kind == "O":
        arr = arr.astype(str)
    values = np.unique(arr)
    if arr.dtype.kind == "f":
        integral = bool(np.all(values == np.round(values)))
        if not integral:
            if values.min() >= 0 and values.max() <= 1:
                return Task.BINARY, "1-D soft labels in [0, 1]"
            raise TargetError(
                f"Expected class labels; argument `y` holds continuous values in "
                f"[{values.min():.4g}, {values.max():.4g}] that are not integers.",
                fix="this looks like a regression target; bin it into classes, or use a regression loss.",
                code="non-integer-labels",
            )
    if len(values) <= 2:
        shown = ", ".join(map(_fmt, values[:2]))
        return Task.BINARY, f"1-D labels with {len(values)} distinct value{'s' * (len(values) > 1)} ({shown})"
    kind = "string" if arr.dtype.kind in "USO" else "integer"
    return Task.MULTICLASS, f"1-D {kind} labels with {len(values)} distinct values"


def _infer_2d(arr: np.ndarray) -> tuple[Task, str]:
    if arr.dtype.kind not in "biuf":
        raise TargetError(
            f"Expected a numeric [N, L] indicator matrix; got dtype {arr.dtype} with shape {list(arr.shape)}.",
            fix="give one list of label names per row, or a 0/1 matrix with one column per label.",
            code="non-numeric-targets",
        )
    a = arr.astype(np.float64)
    n_cols = a.shape[1]
    if a.min() < 0 or a.max() > 1:
        raise TargetError(
            f"Expected a 2-D matrix of 0/1 (or soft [0, 1]) labels; got values in [{a.min():.4g}, {a.max():.4g}].",
            fix="give a 0/1 indicator matrix, or 1-D integer class labels for a multi-class task.",
            code="targets-out-of-range",
        )
    binary = bool(np.all((a == 0) | (a == 1)))
    row_sums = a.sum(axis=1)
    if binary:
        if np.all(row_sums == 1):
            return Task.MULTICLASS, (
                f"a 2-D one-hot matrix (exactly one 1 per row) over {n_cols} classes; "
                'pass task="multilabel" to override'
            )
        return Task.MULTILABEL, f"a 2-D 0/1 indicator matrix with {n_cols} labels and rows with several 1s"
    if np.allclose(row_sums, 1.0, atol=1e-4):
        return Task.MULTICLASS, (
            f"a 2-D matrix of class probabilities (rows sum to 1) over {n_cols} classes; "
            'pass task="multilabel" to override'
        )
    return Task.MULTILABEL, f"a 2-D matrix of soft [0, 1] labels with {n_cols} labels"


def probabilities(logits: Any, task: Task | str) -> Any:
    """Turn logits into probabilities with the task's activation: the one place this happens.

    Args:
        logits (Tensor[N], Tensor[N, L] or Tensor[N, C]): raw model outputs.
        task (Task or str): sigmoid for binary/multilabel, softmax over the last axis for multiclass.

    Returns:
        Tensor: probabilities with the shape of ``logits``.

    Examples:
        >>> import torch
        >>> probabilities(torch.tensor([0.0, 2.0]), "binary")
        tensor([0.5000, 0.8808])
    """
    import torch

    if Task.from_str(task).family == "softmax":
        return torch.softmax(logits, dim=-1)
    return torch.sigmoid(logits)


def _fmt(v: Any) -> str:
    if isinstance(v, (float, np.floating)) and math.isfinite(float(v)) and float(v).is_integer():
        return str(int(v))
    return str(v)
