"""Parsing of raw label values: missing values, 0/1 columns, class lookup, the positive class (lists: :mod:`~logitlab.data.label_lists`).

These are the steps :class:`~logitlab.data.LabelEncoder` is built from; each takes the
:class:`~logitlab.data.RowNamer` of the source, so a bad label is named by its line or row.

Examples:
    >>> from logitlab.data.row_names import INDEX
    >>> missing_label_rows(["no", None, "yes"]).tolist()
    [False, True, False]
    >>> class_counts(label_array(["no", "yes", "no"], INDEX))
    (['no', 'yes'], [2, 1])
    >>> choose_positive(["no", "yes"], [2, 1], None)
    ('yes', 'a positive-like name')
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, TargetError
from .row_names import RowNamer

__all__ = [
    "NEGATIVE_WORDS",
    "POSITIVE_WORDS",
    "choose_positive",
    "class_counts",
    "class_indices",
    "indicator_matrix",
    "json_scalar",
    "label_array",
    "missing_label_rows",
    "quoted",
]

POSITIVE_WORDS = frozenset(
    "1 true t yes y positive pos fraud fraudulent spam malignant abnormal anomaly anomalous sick disease "
    "diseased default churn churned fail failed failure defect defective attack bad malicious fake".split()
)
NEGATIVE_WORDS = frozenset(
    "0 false f no n negative neg normal ham benign healthy legit legitimate ok good pass passed clean real "
    "genuine".split()
)


def quoted(values: Iterable[Any], limit: int | None = None) -> str:
    """Class or label names listed so that a name holding a comma stays one: text quoted, numbers bare.

    Examples:
        >>> quoted(["New York, NY", "Paris"]), quoted([np.int64(1), 2]), quoted("abc", limit=2)
        ("'New York, NY', 'Paris'", '1, 2', "'a', 'b', ...")
    """
    values = list(values)
    shown = ", ".join(repr(json_scalar(v)) for v in values[:limit])
    return shown + (", ..." if limit is not None and len(values) > limit else "")


def json_scalar(v: Any) -> Any:
    """A JSON scalar for a NumPy/Python scalar."""
    if isinstance(v, np.generic):
        return v.item()
    return v


def label_array(y: Any, row_name: RowNamer, *, sep: str | None = None, lists: bool = False) -> np.ndarray:
    """Labels as an array, missing values refused (naming the rows).

    In a column of label-list strings (``lists``, or any value holding ``sep``) an empty cell is an
    empty list, not a missing value.
    """
    values = _as_values(y)
    if values.size == 0:
        raise DataError(
            "Expected at least one label; got none.", fix="check the target column.", code="no-labels"
        )
    missing = _missing(values)
    if _empty_cells_are_lists(values, missing, sep, lists):
        values = np.where(missing, "", values).astype(object)
        missing = np.zeros(values.shape, dtype=bool)
    if missing.any():
        rows = np.flatnonzero(missing.reshape(len(values), -1).any(axis=1))
        shown = ", ".join(row_name(int(i)) for i in rows[:10])
        more = f" and {len(rows) - 10} more" if len(rows) > 10 else ""
        raise DataError(
            f"Missing target values at {shown}{more} ({len(rows)} rows).",
            fix="drop the rows without a label, or fill them in.",
            code="missing-target",
        )
    _refuse_infinite_labels(values, row_name)
    if values.dtype.kind == "f" and np.all(values == np.round(values)):
        values = values.astype(np.int64)
    return values


def _refuse_infinite_labels(values: np.ndarray, row_name: RowNamer) -> None:
    """``TargetError`` (``nonfinite-targets``) for +-inf labels (as numbers or as text such as ``"inf"``)."""
    if values.dtype.kind == "f":
        inf = np.isinf(values).reshape(len(values), -1).any(axis=1)
    elif values.dtype.kind == "O":
        inf = (
            np.array([_is_infinite(v) for v in values.reshape(-1)], dtype=bool)
            .reshape(len(values), -1)
            .any(axis=1)
        )
    else:
        return
    if not inf.any():
        return
    rows = np.flatnonzero(inf)
    shown = ", ".join(row_name(int(i)) for i in rows[:5])
    more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
    raise TargetError(
        f"Infinite target values at {shown}{more} ({len(rows)} rows); a label is a class, a 0/1 flag "
        "or a probability, never infinite.",
        fix="correct those labels, or blank them (rows without a label are left out).",
        code="nonfinite-targets",
    )


def _is_infinite(v: Any) -> bool:
    if isinstance(v, (float, np.floating)):
        return bool(np.isinf(v))
    if isinstance(v, str):
        try:
            return bool(np.isinf(float(v)))
        except ValueError:
            return False
    return False


def missing_label_rows(y: Any, *, sep: str | None = None, lists: bool = False) -> np.ndarray:
    """A bool mask ``[N]`` of the rows whose label is missing, as :func:`label_array` decides.

    An empty cell of a label-list column is an empty list (no label), not missing.

    Examples:
        >>> missing_label_rows(["a", None, "b"]).tolist()
        [False, True, False]
        >>> missing_label_rows(["a|b", None, "b"], sep="|").tolist()
        [False, False, False]
    """
    values = _as_values(y)
    if values.size == 0:
        return np.zeros(0, dtype=bool)
    missing = _missing(values)
    if _empty_cells_are_lists(values, missing, sep, lists):
        return np.zeros(len(values), dtype=bool)
    return np.asarray(missing.reshape(len(values), -1).any(axis=1), dtype=bool)


def _as_values(y: Any) -> np.ndarray:
    if isinstance(y, (pd.Series, pd.Index, pd.DataFrame)):
        y = y.to_numpy()
    if isinstance(y, np.ndarray):
        return y
    items = list(y)
    values = np.empty(len(items), dtype=object)
    values[:] = items  # lists stay one object per row
    if not any(isinstance(v, (list, tuple, set, frozenset)) for v in items):
        values = np.asarray(items)
    elif all(isinstance(v, (list, tuple)) for v in items) and len({len(v) for v in items}) == 1:
        matrix = np.asarray(items)
        if matrix.dtype.kind in "biuf":  # a rectangular 0/1 matrix, not label lists
            values = matrix
    return values


def _missing(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind == "O":
        return np.array([_is_missing(v) for v in values.reshape(-1)], dtype=bool).reshape(values.shape)
    return np.zeros(values.shape, dtype=bool)


def _empty_cells_are_lists(values: np.ndarray, missing: np.ndarray, sep: str | None, lists: bool) -> bool:
    if not (missing.any() and values.ndim == 1 and sep is not None):
        return False
    present = [v for v in values[~missing]]
    return lists or (
        bool(present) and all(isinstance(v, str) for v in present) and any(sep in v for v in present)
    )


def _is_missing(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, (float, np.floating)) and bool(np.isnan(v)))


def indicator_matrix(values: np.ndarray, row_name: RowNamer, names: Sequence[str]) -> np.ndarray:
    """A float32 0/1 matrix ``[N, L]`` from 0/1 or true/false label columns; a bad value names its row and column."""
    out = np.zeros(values.shape, dtype=np.float32)
    for j in range(values.shape[1]):
        col = values[:, j]
        mapped = pd.Series(col).map(_BOOLISH)
        bad = np.flatnonzero(mapped.isna().to_numpy())
        if len(bad):
            name = names[j] if j < len(names) else f"column {j}"
            raise DataError(
                f"Expected 0/1 values in label column {name!r}; got {col[bad[0]]!r} at {row_name(int(bad[0]))}.",
                fix="give each label column as 0/1 (or true/false).",
                code="bad-label-value",
            )
        out[:, j] = mapped.to_numpy(dtype=np.float32)
    return out


_BOOLISH: dict[Any, float] = {0: 0.0, 1: 1.0, "0": 0.0, "1": 1.0}  # True/False hash as 1/0
_BOOLISH.update({"true": 1.0, "false": 0.0, "True": 1.0, "False": 0.0, "TRUE": 1.0, "FALSE": 0.0})


def class_counts(values: np.ndarray, weights: Sequence[int] | None = None) -> tuple[list[Any], list[int]]:
    """The distinct labels, sorted (by their text when they do not compare), and how often each occurs.

    With ``weights``, value ``values[i]`` stands for ``weights[i]`` rows (distinct labels with their counts).
    """
    series = pd.Series(values)
    if weights is None:
        counts = series.value_counts(sort=False)
    else:
        counts = pd.Series(np.asarray(weights, dtype=np.int64)).groupby(series.to_numpy(), sort=False).sum()
    items = list(counts.items())
    try:
        items.sort(key=lambda kv: kv[0])
    except TypeError:
        items.sort(key=lambda kv: str(kv[0]))
    return [k for k, _ in items], [int(c) for _, c in items]


def choose_positive(uniq: list[Any], counts: list[int], positive: Any) -> tuple[Any, str]:
    """The positive class of two sorted classes, and why; the rule never looks at the counts.

    Order: the ``positive`` argument; the class coded 1/True (of 0/1, -1/1, False/True); a
    positive-like name (yes, true, positive, fraud, spam, malignant, ...) or the other class of a
    negative-like name (no, false, normal, benign, ...); else the later class in sorted order. So
    adding or removing rows never changes which class is positive (``counts`` is kept for the note).
    """
    pys = [json_scalar(u) for u in uniq]
    if positive is not None:
        for u in pys:
            if u == positive or str(u) == str(positive):
                return u, "given by `positive`"
        raise DataError(
            f"Expected argument `positive` to be one of the labels {pys}; got {positive!r}.",
            fix=f"pass positive={pys[1]!r}, or leave it out to choose automatically.",
            code="unknown-positive",
            param="positive",
        )
    if all(isinstance(u, (bool, int, float)) for u in pys):
        if set(pys) in ({0, 1}, {-1, 1}):
            return max(pys), "the class coded 1/True"
    words = [str(u).lower() for u in pys]
    pos_hits = [i for i, w in enumerate(words) if w in POSITIVE_WORDS]
    neg_hits = [i for i, w in enumerate(words) if w in NEGATIVE_WORDS]
    if len(pos_hits) == 1 and pos_hits != neg_hits:
        return pys[pos_hits[0]], "a positive-like name"
    if len(neg_hits) == 1 and not pos_hits:
        return pys[1 - neg_hits[0]], "the other class has a negative-like name"
    return pys[1], "the later of the two classes in sorted order; pass positive= to choose"


def class_indices(values: np.ndarray, classes: list[Any], row_name: RowNamer) -> np.ndarray:
    """int64 positions of ``values`` in ``classes`` (matched by value, then by text); an unknown label names its row."""
    table = {c: i for i, c in enumerate(classes)}
    table.update({str(c): i for i, c in enumerate(classes) if str(c) not in table})
    keys = [v.strip() if isinstance(v, str) else json_scalar(v) for v in values]
    out = np.empty(len(keys), dtype=np.int64)
    for i, k in enumerate(keys):
        j = table.get(k)
        if j is None:
            j = table.get(str(k))
        if j is None:
            raise DataError(
                f"Unknown label {k!r} at {row_name(i)}; the known classes are {quoted(classes)}.",
                fix="remove the row, or retrain with this class.",
                code="unknown-label",
            )
        out[i] = j
    return out
