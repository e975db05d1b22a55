"""The date/time columns of a table: their calendar parts, imputed and standardised as fitted on training rows."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError
from .row_names import RowNamer

__all__ = ["CALENDAR_PARTS", "DatetimeColumn", "calendar_block", "calendar_parts", "fit_datetime"]

CALENDAR_PARTS: tuple[str, ...] = ("year", "month", "dayofweek", "hour")
"""The features of a date/time column: year, month (1-12), day of the week (0 = Monday), hour (0-23)."""
_ISO_DATE = re.compile(
    r"^\d{4}[-/]\d{1,2}[-/]\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)


@dataclass
class DatetimeColumn:
    """A date/time column -> the calendar parts of :data:`CALENDAR_PARTS`, each imputed and standardised.

    ``fill``, ``mean`` and ``scale`` hold one value per part (training median, mean, population std).
    """

    name: str
    fill: list[float]
    mean: list[float]
    scale: list[float]


def calendar_parts(col: pd.Series, name: str, row_name: RowNamer, *, strict: bool) -> np.ndarray | None:
    """float64 ``[N, 4]`` calendar parts of a date/time column (NaN where missing); ``None`` for other columns.

    A datetime dtype is a date column; so is text whose present values all look like ISO dates
    (``2024-03-01``, ``2024/3/1 14:30``, with an optional time zone). ``strict`` (a fitted date
    column at transform time) refuses a present value that does not parse, naming its row.
    """
    if col.dtype.kind != "M":
        if col.dtype.kind != "O" and not strict:
            return None
        text = col.dropna().astype(str).str.strip()
        if not strict and (text.empty or not text.head(200).map(lambda v: bool(_ISO_DATE.match(v))).all()):
            return None
    stamps = pd.to_datetime(
        col, errors="coerce", utc=True, format="ISO8601" if col.dtype.kind != "M" else None
    )
    bad = np.flatnonzero(col.notna().to_numpy() & stamps.isna().to_numpy())
    if len(bad):
        if not strict:
            return None
        i = int(bad[0])
        raise DataError(
            f"Column {name!r} holds dates but {col.iloc[i]!r} at {row_name(i)} is not one "
            f"({len(bad)} value(s) that are not dates).",
            fix="correct or blank the value (blanks are imputed), or drop the column.",
            code="bad-value",
        )
    dt = stamps.dt
    parts = [dt.year, dt.month, dt.day_of_week, dt.hour]
    return np.column_stack([p.to_numpy(dtype=np.float64, na_value=np.nan) for p in parts])


def fit_datetime(name: str, parts: np.ndarray, notes: list[str]) -> DatetimeColumn:
    """The fitted column of training calendar ``parts`` (``[N, 4]``, NaN: missing): median fill, mean and std per part."""
    missing = np.isnan(parts[:, 0])
    fill = [float(np.median(parts[~missing, j])) if (~missing).any() else 0.0 for j in range(parts.shape[1])]
    filled = np.where(np.isnan(parts), np.asarray(fill), parts)
    std = filled.std(axis=0)
    notes.append(f"column {name!r}: dates -> calendar features {', '.join(CALENDAR_PARTS)}")
    if missing.any():
        notes.append(f"column {name!r}: {int(missing.sum())} missing dates imputed with the median parts")
    return DatetimeColumn(
        name, fill, [float(m) for m in filled.mean(axis=0)], [float(v) if v > 0 else 1.0 for v in std]
    )


def calendar_block(c: DatetimeColumn, col: pd.Series, row_name: RowNamer, told: list[str]) -> np.ndarray:
    """The standardised ``[N, 4]`` calendar parts of ``col``, missing dates imputed with the training median (``told``)."""
    parts = calendar_parts(col, c.name, row_name, strict=True)
    assert parts is not None
    missing = np.isnan(parts[:, 0])
    if missing.any():
        told.append(f"column {c.name!r}: {int(missing.sum())} missing dates imputed with the training median")
    filled = np.where(np.isnan(parts), np.asarray(c.fill), parts)
    return (filled - np.asarray(c.mean)) / np.asarray(c.scale)
