"""The preprocessing of a table's feature columns, fitted on the training split and saved as JSON.

:class:`TabularPreprocessor` (pandas tables): numeric columns imputed with the training median, then
scaled by one of :data:`~logitlab.options.NUMERIC_SCALINGS`: ``"standard"`` (``(x - mean) / std``, population
std as scikit-learn's ``StandardScaler``), ``"robust"`` (``z = (x - median) / (IQR / 1.349)`` as
``RobustScaler(unit_variance=True)``, then the smooth clip ``z / sqrt(1 + (z / 3)^2)`` of RealMLP, Holzmueller
et al. 2024, which bounds heavy tails and outliers to (-3, 3)) or ``"quantile"`` (the training quantiles
mapped to a standard normal, as ``QuantileTransformer(output_distribution="normal")``);
categorical columns one-hot encoded, their missing values a category of their own
(:data:`~logitlab.options.MISSING_CATEGORY`) when the training rows had some (an unknown category at predict
time becomes all zeros, and is reported). Text such as ``?``, ``NA`` or ``-`` in an otherwise numeric column
is read as missing (:data:`~logitlab.options.NA_MARKERS`, named in a note). It round-trips through
``to_dict`` / :func:`~logitlab.data.preprocessor_from_dict`.

Examples:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"age": [20.0, 30.0, None], "city": ["a", "b", "a"]})
    >>> pre = TabularPreprocessor.fit(df)
    >>> pre.feature_names
    ['age', 'city=a', 'city=b']
    >>> notes = []
    >>> pre.transform(df, notes=notes).astype(float).round(3).tolist()
    [[-1.225, 1.0, 0.0], [1.225, 0.0, 1.0], [0.0, 1.0, 0.0]]
    >>> notes
    ["column 'age': 1 missing values imputed with 25"]
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataError, LogitlabWarning
from ..options import MAX_CATEGORIES, MISSING_CATEGORY, NA_MARKERS, NUMERIC_SCALINGS, choices_text
from .row_names import TABLE_ROWS, RowNamer

__all__ = [
    "CALENDAR_PARTS",
    "QUANTILES",
    "CategoricalColumn",
    "DatetimeColumn",
    "NumericColumn",
    "TabularPreprocessor",
    "categorical_column",
    "check_scaling",
    "numeric_column",
    "refuse_infinite",
    "smooth_clip",
]

CALENDAR_PARTS: tuple[str, ...] = ("year", "month", "dayofweek", "hour")
"""The features of a date/time column: year, month (1-12), day of the week (0 = Monday), hour (0-23)."""
_IQR_OF_NORMAL = 1.3489795003921634  # the inter-quartile range of N(0, 1): norm.ppf(0.75) - norm.ppf(0.25)
_ISO_DATE = re.compile(
    r"^\d{4}[-/]\d{1,2}[-/]\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)


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


@dataclass
class DatetimeColumn:
    """A date/time column -> the calendar parts of :data:`CALENDAR_PARTS`, each imputed and standardised.

    ``fill``, ``mean`` and ``scale`` hold one value per part (training median, mean, population std).
    """

    name: str
    fill: list[float]
    mean: list[float]
    scale: list[float]


@dataclass
class CategoricalColumn:
    """A categorical column: missing -> ``fill``, then one-hot over ``categories``.

    ``fill`` is :data:`~logitlab.options.MISSING_CATEGORY` (the last of ``categories``) when the training
    rows had missing values, else the training mode (as every column saved before that category existed).
    """

    name: str
    categories: list[str]
    fill: str


class TabularPreprocessor:
    """Impute, standardise and one-hot encode the columns of a table; dates become calendar features.

    Args:
        numeric (list[NumericColumn]): numeric columns in output order.
        categorical (list[CategoricalColumn]): categorical columns, after the others.
        dropped (list[str]): columns seen at fit time and left out (identifiers, empty columns).
        datetime (list[DatetimeColumn]): date/time columns (a datetime dtype, or ISO dates such as
            ``2024-03-01 14:30`` in text), after the numeric ones: one feature per calendar part.
    """

    kind = "tabular"

    def __init__(
        self,
        numeric: list[NumericColumn] | None = None,
        categorical: list[CategoricalColumn] | None = None,
        dropped: list[str] | None = None,
        datetime: list[DatetimeColumn] | None = None,
    ) -> None:
        self.numeric = list(numeric or [])
        self.categorical = list(categorical or [])
        self.dropped = list(dropped or [])
        self.datetime = list(datetime or [])

    @property
    def feature_names(self) -> list[str]:
        """Names of the output features: numeric column names, then ``column=category``."""
        names = [c.name for c in self.numeric] + [
            f"{c.name}.{p}" for c in self.datetime for p in CALENDAR_PARTS
        ]
        return names + [f"{c.name}={v}" for c in self.categorical for v in c.categories]

    @property
    def n_features(self) -> int:
        """Width of the transformed matrix."""
        parts = len(self.datetime) * len(CALENDAR_PARTS)
        return len(self.numeric) + parts + sum(len(c.categories) for c in self.categorical)

    @property
    def columns(self) -> list[str]:
        """Input columns the transform reads."""
        names = [c.name for c in self.numeric] + [c.name for c in self.datetime]
        return names + [c.name for c in self.categorical]

    @classmethod
    def fit(
        cls,
        frame: pd.DataFrame,
        *,
        max_categories: int = MAX_CATEGORIES,
        scaling: str = "standard",
        row_name: RowNamer = TABLE_ROWS,
        notes: list[str] | None = None,
    ) -> TabularPreprocessor:
        """Fit on the training rows of ``frame`` (all its columns are features).

        Args:
            frame (DataFrame): feature columns of the training split.
            max_categories (int): keep at most this many (most frequent) categories per column. Default: ``50``.
            scaling (str): how numeric columns are scaled, one of :data:`~logitlab.options.NUMERIC_SCALINGS`
                (see :class:`NumericColumn`). Default: ``"standard"``.
            row_name (RowNamer): names row ``i`` in messages. Default: ``"row i+1"``.
            notes (list[str], optional): receives what was imputed, dropped or capped.

        Raises:
            DataError: a mostly-numeric column with values that do not parse (naming row and column),
                or no usable column.
        """
        notes = notes if notes is not None else []
        check_scaling(scaling)
        numeric: list[NumericColumn] = []
        categorical: list[CategoricalColumn] = []
        dropped: list[str] = []
        dates: list[DatetimeColumn] = []
        for name in frame.columns:
            col = frame[name]
            parts = _calendar_parts(col, str(name), row_name, strict=False)
            if parts is not None:
                dates.append(_fit_datetime(str(name), parts, notes))
                continue
            values = _numeric_values(col, str(name), row_name, notes=notes)
            if values is not None:
                num = _fit_numeric(str(name), values, notes, scaling)
                (numeric.append(num) if num is not None else dropped.append(str(name)))
                continue
            cat = _fit_categorical(str(name), col, max_categories, notes)
            (categorical.append(cat) if cat is not None else dropped.append(str(name)))
        if not numeric and not categorical and not dates:
            raise DataError(
                f"No usable feature column; columns seen: {', '.join(map(str, frame.columns)) or 'none'}.",
                fix="give at least one numeric or categorical feature column besides the target.",
                code="no-features",
            )
        return cls(numeric, categorical, dropped, dates)

    def transform(
        self,
        frame: pd.DataFrame,
        *,
        row_name: RowNamer = TABLE_ROWS,
        notes: list[str] | None = None,
        ignore: Sequence[str] = (),
        warn: bool = True,
    ) -> np.ndarray:
        """Transform a table with the fitted columns into float32 ``[N, n_features]``.

        Missing values are imputed and unknown categories become all-zero one-hot rows; both are
        appended to ``notes`` when given. What is likely a mistake is one
        :class:`~logitlab.errors.LogitlabWarning` per call (with ``warn``; else a note): a categorical
        column none of whose values is a training category, and columns the model does not read (other
        than ``ignore`` and the columns dropped at fit time).

        Raises:
            DataError: a fitted column is missing (listing the available ones), or a numeric value
                does not parse (naming the row and column).
        """
        absent = [c for c in self.columns if c not in frame.columns]
        if absent:
            raise DataError(
                f"Missing feature column(s) {', '.join(map(repr, absent))}; "
                f"the table has: {', '.join(map(str, frame.columns))}.",
                fix="give the same feature columns as at training time.",
                code="missing-column",
            )
        told: list[str] = []
        alarms: list[str] = []
        parts = [self._numeric_block(frame, row_name, told)]
        parts += [_calendar_block(c, frame[c.name], row_name, told) for c in self.datetime]
        parts += [_one_hot(c, frame[c.name], told, alarms) for c in self.categorical]
        known = {*self.columns, *self.dropped, *map(str, ignore)}
        extra = [str(c) for c in frame.columns if str(c) not in known]
        if extra:
            shown = ", ".join(map(repr, extra[:10])) + (
                f" and {len(extra) - 10} more" if len(extra) > 10 else ""
            )
            alarms.append(f"{len(extra)} column(s) the model was not trained on are ignored: {shown}")
        if alarms and warn:
            warnings.warn("; ".join(alarms), LogitlabWarning, stacklevel=2)
        if notes is not None:
            notes.extend([*told, *([] if warn else alarms)])
        return (
            np.concatenate(parts, axis=1).astype(np.float32)
            if parts
            else np.zeros((len(frame), 0), np.float32)
        )

    def _numeric_block(self, frame: pd.DataFrame, row_name: RowNamer, told: list[str]) -> np.ndarray:
        out = np.empty((len(frame), len(self.numeric)), dtype=np.float64)
        for j, c in enumerate(self.numeric):
            values = _numeric_values(frame[c.name], c.name, row_name, strict=True)
            assert values is not None
            missing = np.isnan(values)
            if missing.any():
                told.append(
                    f"column {c.name!r}: {int(missing.sum())} missing values imputed with {c.fill:.6g}"
                )
                values = np.where(missing, c.fill, values)
            out[:, j] = c.apply(values)
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict; :func:`~logitlab.data.preprocessor_from_dict` rebuilds it."""
        return {
            "type": self.kind,
            "numeric": [asdict(c) for c in self.numeric],
            "categorical": [asdict(c) for c in self.categorical],
            "dropped": list(self.dropped),
            "datetime": [asdict(c) for c in self.datetime],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TabularPreprocessor:
        """Rebuild from :meth:`to_dict` output."""
        return cls(
            [NumericColumn(**c) for c in d["numeric"]],
            [CategoricalColumn(**c) for c in d["categorical"]],
            list(d.get("dropped", [])),
            [DatetimeColumn(**c) for c in d.get("datetime", [])],
        )


def _numeric_values(
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


def _fit_numeric(name: str, values: np.ndarray, notes: list[str], scaling: str) -> NumericColumn | None:
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


def _as_str(col: pd.Series) -> pd.Series:
    def one(v: Any) -> Any:
        if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
            return None
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            return str(int(v))
        return str(v).strip()

    return col.map(one).astype(object)


def _fit_categorical(
    name: str, col: pd.Series, max_categories: int, notes: list[str]
) -> CategoricalColumn | None:
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


def _one_hot(c: CategoricalColumn, col: pd.Series, told: list[str], alarms: list[str]) -> np.ndarray:
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


def _calendar_parts(col: pd.Series, name: str, row_name: RowNamer, *, strict: bool) -> np.ndarray | None:
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


def _fit_datetime(name: str, parts: np.ndarray, notes: list[str]) -> DatetimeColumn:
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


def _calendar_block(c: DatetimeColumn, col: pd.Series, row_name: RowNamer, told: list[str]) -> np.ndarray:
    parts = _calendar_parts(col, c.name, row_name, strict=True)
    assert parts is not None
    missing = np.isnan(parts[:, 0])
    if missing.any():
        told.append(f"column {c.name!r}: {int(missing.sum())} missing dates imputed with the training median")
    filled = np.where(np.isnan(parts), np.asarray(c.fill), parts)
    return (filled - np.asarray(c.mean)) / np.asarray(c.scale)
