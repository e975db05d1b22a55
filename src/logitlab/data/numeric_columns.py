"""The numeric columns of a table: missing values and NA markers read, imputed, and scaled as fitted on training rows.

A :class:`NumericColumn` holds what one column's fit saved (its fill value and its ``"standard"``,
``"robust"`` or ``"quantile"`` scaling); :class:`~logitlab.data.TabularPreprocessor` fits one per column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataError
from ..options import NA_MARKERS, NUMERIC_SCALINGS, choices_text
from .row_names import RowNamer

__all__ = [
    "QUANTILES",
    "NumericColumn",
    "check_scaling",
    "fit_numeric",
    "marker_note",
    "numeric_column",
    "numeric_values",
    "refuse_infinite",
    "smooth_clip",
]

_IQR_OF_NORMAL = 1.3489795003921634  # the inter-quartile range of N(0, 1): norm.ppf(0.75) - norm.ppf(0.25)

QUANTILES = 1000
"""The most quantiles a ``"quantile"``-scaled column stores (scikit-learn's ``n_quantiles`` default); fewer
for fewer training rows."""
_BOUND = 1e-7  # scikit-learn's BOUNDS_THRESHOLD: how close to 0 / 1 the normal quantile function is taken


@dataclass
class NumericColumn:
    """A numeric column: missing -> ``fill`` (train median), then ``(x - mean) / scale``.

    ``scaling`` (:data:`~logitlab.options.NUMERIC_SCALINGS`): ``"standard"``: ``mean`` and ``scale`` are the
    mean and population std; ``"robust"``: the median and ``IQR / 1.349`` (half the range where the IQR is
    0), and the result is smoothly clipped, ``z / sqrt(1 + (z / 3)^2)``; ``"quantile"``: ``quantiles`` (the
    training values at evenly spaced levels) map ``x`` to its level and on to a standard normal (``mean`` and
    ``scale`` unused, 0 and 1). Saved before ``scaling`` existed: ``"standard"``.
    """

    name: str
    fill: float
    mean: float
    scale: float
    scaling: str = "standard"
    quantiles: list[float] | None = None

    def apply(self, values: np.ndarray) -> np.ndarray:
        """The scaled float64 values of imputed (NaN-free) ``values``."""
        if self.scaling == "quantile":
            return _quantile_normal(values, np.asarray(self.quantiles, dtype=np.float64))
        z = (values - self.mean) / self.scale
        return smooth_clip(z) if self.scaling == "robust" else z


def smooth_clip(z: np.ndarray) -> np.ndarray:
    """RealMLP's smooth clipping ``z / sqrt(1 + (z / 3)^2)``: near the identity for ``|z| < 1``, bounded by 3.

    Computed without overflow for any finite ``z`` (up to the float maximum, which maps to 3 with its
    sign): numerator and root are divided by ``s = max(1, |z| / 3)``, so nothing is squared beyond 1;
    for ``|z| <= 3`` (``s = 1``) the operations are those of the plain formula.

    Examples:
        >>> smooth_clip(np.array([0.0, 1.0, 1e6, -1.7e308])).round(4).tolist()
        [0.0, 0.9487, 3.0, -3.0]
    """
    t = z / 3.0
    s = np.maximum(1.0, np.abs(t))
    return (z / s) / np.sqrt((1.0 / s) ** 2 + (t / s) ** 2)


def _quantile_normal(x: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    """scikit-learn's ``QuantileTransformer(output_distribution="normal")`` transform of one column."""
    from scipy.special import ndtri

    levels = np.linspace(0.0, 1.0, len(quantiles))
    # the mean of an ascending and a descending interpolation, so that repeated quantiles map to the
    # middle of their levels (as scikit-learn does)
    u = 0.5 * (np.interp(x, quantiles, levels) - np.interp(-x, -quantiles[::-1], -levels[::-1]))
    u = np.where(x + _BOUND > quantiles[-1], 1.0, u)
    u = np.where(x - _BOUND < quantiles[0], 0.0, u)
    bound = _BOUND - np.spacing(1)
    with np.errstate(divide="ignore"):
        return np.clip(ndtri(u), ndtri(bound), ndtri(1 - bound))


def numeric_values(
    col: pd.Series, name: str, row_name: RowNamer, *, strict: bool = False, notes: list[str] | None = None
) -> np.ndarray | None:
    """float64 values of a numeric column; ``None`` for a categorical one (unless ``strict``).

    Text in :data:`~logitlab.options.NA_MARKERS` is missing; at fit time (``notes`` given) that is noted.
    """
    kind = col.dtype.kind
    if kind == "b":
        return col.to_numpy(dtype=np.float64)
    if kind in "iuf":
        values = col.to_numpy(dtype=np.float64, na_value=np.nan)
        refuse_infinite(values, name, row_name, fitted=strict)
        return values
    if kind == "m":  # durations: seconds
        return col.dt.total_seconds().to_numpy(dtype=np.float64, na_value=np.nan)
    present = col.notna().to_numpy().copy()
    parsed = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    unparsed = present & np.isnan(parsed)
    if unparsed.any():  # ?, NA, -, blanks: missing, not text (a column of markers alone stays text)
        text = col[unparsed].astype(str).str.strip().str.lower()
        marker = text.isin(NA_MARKERS).to_numpy()
        if marker.any() and (strict or np.isfinite(parsed).any()):
            present[np.flatnonzero(unparsed)[marker]] = False
            if notes is not None:
                seen = col[unparsed][marker].astype(str).str.strip().value_counts()
                notes.append(marker_note(name, dict(seen.items())))
    bad = np.flatnonzero(present & np.isnan(parsed))
    n_present = int(present.sum())
    if not strict and (n_present == 0 or len(bad) > 0.1 * n_present):
        return None
    if len(bad):
        i = int(bad[0])
        raise DataError(
            f"Column {name!r} is numeric but holds {col.iloc[i]!r} at {row_name(i)} "
            f"({len(bad)} value(s) that are not numbers).",
            fix="correct or blank the value (blanks are imputed), or drop the column.",
            code="bad-value",
        )
    refuse_infinite(parsed, name, row_name, fitted=strict)
    return parsed


def marker_note(name: str, counts: dict[str, int]) -> str:
    """The note naming the missing-value markers read in column ``name``, with their counts."""
    shown = ", ".join(f"{v!r} ({n} rows)" for v, n in counts.items())
    return f"column {name!r}: {shown} read as missing values (a missing-value marker)"


def refuse_infinite(values: np.ndarray, name: str, row_name: RowNamer, *, fitted: bool = False) -> None:
    """A ``DataError`` (``nonfinite-features``) naming the column and the first row when ``values`` hold +-inf.

    Infinity is refused, not imputed: it is a value (often an overflow or a division by zero upstream),
    not a missing one, and no scaling maps it to a finite feature. ``fitted``: the column of a trained
    model (predict/evaluate time), where leaving the column out is no fix.
    """
    inf = np.isinf(values)
    if not inf.any():
        return
    rows = np.flatnonzero(inf)
    i = int(rows[0])
    blank = f"blank the infinite cells of column {name!r} (blank cells are imputed with the training median)"
    raise DataError(
        f"Column {name!r} holds {float(values[i])!r} at {row_name(i)} ({len(rows)} infinite value(s)); "
        "a feature must be a finite number or missing.",
        fix=f"{blank}." if fitted else f"{blank}, or leave the column out with drop=[{name!r}].",
        code="nonfinite-features",
    )


def check_scaling(scaling: Any, param: str = "scaling") -> str:
    """``scaling`` if it is one of :data:`~logitlab.options.NUMERIC_SCALINGS`.

    Raises:
        ConfigError: ``bad-param``, naming ``param``, what was given and the choices.
    """
    if scaling not in NUMERIC_SCALINGS:
        raise ConfigError(
            f"Expected argument `{param}` to be one of {choices_text(NUMERIC_SCALINGS)}; got {scaling!r}.",
            fix=f"use {param}='robust' (the estimator's default), 'standard' or 'quantile'.",
            code="bad-param",
            param=param,
        )
    return str(scaling)


def fit_numeric(name: str, values: np.ndarray, notes: list[str], scaling: str) -> NumericColumn | None:
    """The fitted column of training ``values`` (NaN: missing, imputed with the median); ``None`` when all are missing."""
    missing = np.isnan(values)
    if missing.all():
        notes.append(f"column {name!r} dropped: no values in the training split")
        return None
    fill = float(np.median(values[~missing]))
    if missing.any():
        notes.append(
            f"column {name!r}: {int(missing.sum())} missing values imputed with the median {fill:.6g}"
        )
    return numeric_column(name, fill, np.where(missing, fill, values), scaling)


def numeric_column(name: str, fill: float, filled: np.ndarray, scaling: str) -> NumericColumn:
    """The :class:`NumericColumn` of imputed training values ``filled`` (or a sample of them), by ``scaling``."""
    if scaling == "quantile":
        levels = np.linspace(0.0, 1.0, min(QUANTILES, len(filled))) * 100  # as scikit-learn: ties match
        quantiles = np.maximum.accumulate(np.percentile(filled, levels))
        return NumericColumn(name, fill, 0.0, 1.0, scaling, [float(q) for q in quantiles])
    if scaling == "robust":
        q25, median, q75 = np.percentile(filled, [25.0, 50.0, 75.0])
        iqr = (q75 - q25) / _IQR_OF_NORMAL
        half_range = (filled.max() - filled.min()) / 2
        scale = iqr if iqr > 0 else (half_range if half_range > 0 else 1.0)
        return NumericColumn(name, fill, float(median), float(scale), scaling)
    mean = float(filled.mean())
    std = float(filled.std())
    return NumericColumn(name, fill, mean, std if std > 0 else 1.0)
