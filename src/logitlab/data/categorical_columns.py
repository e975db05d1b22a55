"""The categorical columns of a table: text values, a category of their own for missing values, one-hot codes.

A :class:`CategoricalColumn` holds what one column's fit saved (its categories and fill value);
:class:`~logitlab.data.TabularPreprocessor` fits one per column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..options import MISSING_CATEGORY

__all__ = ["CategoricalColumn", "categorical_column", "fit_categorical", "one_hot"]


@dataclass
class CategoricalColumn:
    """A categorical column: missing -> ``fill``, then one-hot over ``categories``.

    ``fill`` is :data:`~logitlab.options.MISSING_CATEGORY` (the last of ``categories``) when the training
    rows had missing values, else the training mode (as every column saved before that category existed).
    """

    name: str
    categories: list[str]
    fill: str


def _as_str(col: pd.Series) -> pd.Series:
    def one(v: Any) -> Any:
        if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
            return None
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            return str(int(v))
        return str(v).strip()

    return col.map(one).astype(object)


def fit_categorical(
    name: str, col: pd.Series, max_categories: int, notes: list[str]
) -> CategoricalColumn | None:
    """The fitted column of training values ``col``; ``None`` (noted) when it has no values or looks like an identifier."""
    values = _as_str(col)
    counts = values.value_counts(dropna=True)
    if len(counts) == 0:
        notes.append(f"column {name!r} dropped: no values in the training split")
        return None
    if len(counts) == len(values) and len(values) >= 20:
        notes.append(f"column {name!r} dropped: every value is different (an identifier?)")
        return None
    mode = str(sorted(counts[counts == counts.max()].index)[0])
    ranked = [str(k) for k in counts.index]
    return categorical_column(name, ranked, mode, int(values.isna().sum()), max_categories, notes)


def categorical_column(
    name: str, ranked: list[str], mode: str, n_missing: int, max_categories: int, notes: list[str]
) -> CategoricalColumn:
    """The column of training categories ``ranked`` (most frequent first) with ``n_missing`` missing values.

    The ``max_categories`` most frequent are kept (sorted); missing values, when the training rows had
    any, are a category of their own, :data:`~logitlab.options.MISSING_CATEGORY` (last), so that a
    missing value is not read as the ``mode`` (its fill only where training saw none).

    Examples:
        >>> c = categorical_column("city", ["b", "a"], "b", 2, 50, notes := [])
        >>> c.categories, c.fill
        (['a', 'b', '(missing)'], '(missing)')
    """
    kept = sorted(ranked[:max_categories])
    if len(ranked) > max_categories:
        notes.append(
            f"column {name!r}: kept the {max_categories} most frequent of {len(ranked)} categories; "
            "the others are encoded as all zeros"
        )
    if not n_missing:
        return CategoricalColumn(name, kept, mode)
    missing = MISSING_CATEGORY
    while missing in ranked:  # a real value spelled like it: another name
        missing = f"({missing})"
    notes.append(f"column {name!r}: {n_missing} missing values encoded as their own category {missing!r}")
    return CategoricalColumn(name, [*kept, missing], missing)


def one_hot(c: CategoricalColumn, col: pd.Series, told: list[str], alarms: list[str]) -> np.ndarray:
    """float64 one-hot codes of ``col``: missing values filled, unknown categories all zeros (``told``, or ``alarms`` when none is known)."""
    values = _as_str(col)
    missing = values.isna()
    if missing.any():
        how = (
            "encoded as"
            if c.fill.startswith(MISSING_CATEGORY) and c.fill == c.categories[-1]
            else "imputed with"
        )
        told.append(f"column {c.name!r}: {int(missing.sum())} missing values {how} {c.fill!r}")
        values = values.where(~missing, c.fill)
    position = {v: i for i, v in enumerate(c.categories)}
    codes = values.map(position).fillna(-1).to_numpy(dtype=np.int64)
    unknown = codes < 0
    if unknown.any():
        new = sorted(set(values.to_numpy()[unknown]))
        seen = ", ".join(map(repr, new[:5]))
        lower = {k.lower(): k for k in c.categories}
        cased = [f"{v!r} for {lower[v.lower()]!r}" for v in new if v.lower() in lower][:3]
        hint = f"; only the letter case differs: {', '.join(cased)}" if cased else ""
        text = f"{int(unknown.sum())} values of unknown categories ({seen}) encoded as zeros{hint}"
        if unknown[~missing.to_numpy()].all():  # not one value the model knows: likely another coding
            alarms.append(
                f"column {c.name!r}: none of its values is a training category: {text}; the model knows "
                f"{', '.join(map(repr, c.categories[:5]))}{', ...' if len(c.categories) > 5 else ''}"
            )
        else:
            told.append(f"column {c.name!r}: {text}")
    out = np.zeros((len(values), len(c.categories)), dtype=np.float64)
    rows = np.flatnonzero(~unknown)
    out[rows, codes[rows]] = 1.0
    return out
