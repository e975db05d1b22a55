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

import warnings
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, LogitlabWarning
from ..options import MAX_CATEGORIES
from .categorical_columns import CategoricalColumn, fit_categorical, one_hot
from .date_columns import CALENDAR_PARTS, DatetimeColumn, calendar_block, calendar_parts, fit_datetime
from .numeric_columns import NumericColumn, check_scaling, fit_numeric, numeric_values
from .row_names import TABLE_ROWS, RowNamer

__all__ = ["TabularPreprocessor"]


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
            parts = calendar_parts(col, str(name), row_name, strict=False)
            if parts is not None:
                dates.append(fit_datetime(str(name), parts, notes))
                continue
            values = numeric_values(col, str(name), row_name, notes=notes)
            if values is not None:
                num = fit_numeric(str(name), values, notes, scaling)
                (numeric.append(num) if num is not None else dropped.append(str(name)))
                continue
            cat = fit_categorical(str(name), col, max_categories, notes)
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
        parts += [calendar_block(c, frame[c.name], row_name, told) for c in self.datetime]
        parts += [one_hot(c, frame[c.name], told, alarms) for c in self.categorical]
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
            values = numeric_values(frame[c.name], c.name, row_name, strict=True)
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
