"""``TableEncoder``: a record batch -> the model's ``(x, y)`` arrays, with a fitted preprocessor and label encoder.

The numbers are those of :meth:`TabularPreprocessor.transform <logitlab.data.TabularPreprocessor.transform>`
and :meth:`LabelEncoder.transform <logitlab.data.LabelEncoder.transform>` on the same rows (numeric:
missing -> fill, then ``(x - mean) / scale`` (robust: smoothly clipped; quantile: the column's map); categories one-hot, missing -> the fill, unknown ->
all zeros), computed column by column with pyarrow and NumPy instead of through pandas. Labels that
the fast path does not recognise go to ``LabelEncoder.transform``, which names the bad row.

Examples:
    >>> import pyarrow as pa
    >>> from logitlab.data import TabularPreprocessor
    >>> from logitlab.data.categorical_columns import CategoricalColumn
    >>> from logitlab.data.numeric_columns import NumericColumn
    >>> pre = TabularPreprocessor([NumericColumn("age", 30.0, 25.0, 5.0)], [CategoricalColumn("city", ["a", "b"], "a")])
    >>> batch = pa.record_batch({"age": [20.0, None], "city": ["b", "zz"]})
    >>> TableEncoder(pre).features(batch).tolist()
    [[-1.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ...errors import DataError, TargetError
from ...tasks import Task
from ..label_encoder import LabelEncoder
from ..numeric_columns import refuse_infinite
from ..row_names import INDEX, RowNamer
from ..tabular_preprocessor import TabularPreprocessor

__all__ = ["TableEncoder", "arrow_labels", "numeric_values"]


def numeric_values(column: Any, name: str, rows: Callable[[], RowNamer] | None = None) -> np.ndarray:
    """float64 values (nulls -> NaN) of a numeric column of a batch; text that is no number is a ``DataError``.

    A column another file (or the statistics pass) found numeric may hold text in this file: the
    error names the column, the value and (by ``rows``) the file and row, instead of Arrow's cast error.
    """
    if pa.types.is_float64(column.type):
        return np.asarray(column.to_numpy(zero_copy_only=False))
    try:
        return np.asarray(pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        text = pd.Series(column.to_pylist(), dtype=object)
        parsed = pd.to_numeric(text, errors="coerce")
        bad = np.flatnonzero(text.notna().to_numpy() & parsed.isna().to_numpy())
        i = int(bad[0]) if len(bad) else 0
        where = (rows() if rows is not None else INDEX)(i)
        raise DataError(
            f"Column {name!r} is numeric but holds {text.iloc[i]!r} at {where} "
            f"({len(bad)} value(s) in this batch that are not numbers; column type {column.type}).",
            fix=f"correct or blank the value (blanks are imputed), or leave the column out with drop=[{name!r}].",
            code="bad-value",
        ) from None


def arrow_labels(column: pa.Array) -> np.ndarray:
    """A label column as NumPy values the way the label encoder reads them (strings stripped, whole floats as ints)."""
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return np.asarray(pc.utf8_trim_whitespace(column).to_numpy(zero_copy_only=False), dtype=object)
    values = column.to_numpy(zero_copy_only=False)
    if values.dtype.kind == "f" and np.isinf(values).any():  # never a class (as int64, -2**63)
        raise TargetError(
            f"Infinite target values in a streamed label column ({int(np.isinf(values).sum())} rows of a "
            "batch); a label is a class, a 0/1 flag or a probability, never infinite.",
            fix="correct those labels in the files, or remove their rows.",
            code="nonfinite-targets",
        )
    if values.dtype.kind == "f" and np.all(values == np.round(values)):
        return values.astype(np.int64)
    return values


class TableEncoder:
    """Turn record batches into ``(x, y)``: float32 features ``[n, F]`` and the task's targets.

    Args:
        preprocessor (TabularPreprocessor): the fitted feature columns.
        label_encoder (LabelEncoder, optional): the fitted labels; ``None`` gives features only.
        target (list[str], optional): the target column(s). Default: none.

    Attributes:
        columns (list[str]): the columns it reads (features, then targets).
        named_rows (bool): ``True``: a :class:`StreamingTable` passes a row namer for error messages.
    """

    named_rows = True

    def __init__(
        self,
        preprocessor: TabularPreprocessor,
        label_encoder: LabelEncoder | None = None,
        target: list[str] | None = None,
    ) -> None:
        self.preprocessor, self.label_encoder = preprocessor, label_encoder
        self.target = list(target or []) if label_encoder is not None else []
        self.columns = [*preprocessor.columns, *self.target]
        self._classes = pd.Index(label_encoder.classes) if label_encoder is not None else None

    def __call__(self, batch: pa.RecordBatch, rows: Callable[[], RowNamer] | None = None) -> Any:
        """``(x, y)`` of ``batch`` (``x`` alone without a label encoder)."""
        x = self.features(batch, rows)
        return (x, self.targets(batch, rows)) if self.label_encoder is not None else x

    def features(self, batch: pa.RecordBatch, rows: Callable[[], RowNamer] | None = None) -> np.ndarray:
        """float32 ``[n, F]``, as ``TabularPreprocessor.transform`` computes them (in float64, then cast).

        Raises:
            DataError: ``nonfinite-features``, naming the column (and the row, by ``rows``).
        """
        pre, n = self.preprocessor, batch.num_rows
        out = np.zeros((n, pre.n_features), dtype=np.float32)
        scaled, t, s = (np.empty(n, dtype=np.float64) for _ in range(3))
        for j, c in enumerate(pre.numeric):
            values = numeric_values(batch.column(c.name), c.name, rows)  # nulls -> NaN
            if np.isinf(values).any():
                refuse_infinite(values, c.name, rows() if rows is not None else INDEX, fitted=True)
            if c.scaling == "quantile":  # the column's own map, in float64
                out[:, j] = c.apply(np.where(np.isnan(values), c.fill, values))
                continue
            np.subtract(values, c.mean, out=scaled)
            missing = np.isnan(values)
            if missing.any():
                scaled[missing] = c.fill - c.mean
            np.divide(scaled, c.scale, out=scaled)
            if c.scaling == "robust":  # the smooth clip, in place: smooth_clip's operations, in its order
                np.divide(scaled, 3.0, out=t)  # t = z / 3; s = max(1, |t|)
                np.abs(t, out=s)
                np.maximum(s, 1.0, out=s)
                np.divide(t, s, out=t)  # (t / s)^2 + (1 / s)^2
                np.multiply(t, t, out=t)
                np.divide(scaled, s, out=scaled)
                np.divide(1.0, s, out=s)
                np.multiply(s, s, out=s)
                np.add(s, t, out=s)
                np.sqrt(s, out=s)
                np.divide(scaled, s, out=scaled)
            out[:, j] = scaled
        j = len(pre.numeric)
        for cat in pre.categorical:
            column = batch.column(cat.name)
            if pa.types.is_dictionary(column.type):
                column = column.cast(column.type.value_type)
            text = pc.fill_null(pc.utf8_trim_whitespace(column.cast(pa.string())), cat.fill)
            codes = pc.fill_null(pc.index_in(text, value_set=pa.array(cat.categories, pa.string())), -1)
            codes = codes.to_numpy(zero_copy_only=False)
            known = np.flatnonzero(codes >= 0)
            out[known, j + codes[known]] = 1.0
            j += len(cat.categories)
        return out

    def targets(self, batch: pa.RecordBatch, rows: Callable[[], RowNamer] | None = None) -> np.ndarray:
        """The targets of ``batch``: binary float32 ``[n, 1]``, multilabel ``[n, L]``, multiclass int64 ``[n]``."""
        enc = self.label_encoder
        assert enc is not None and self._classes is not None
        if len(self.target) == 1 and not enc.soft and enc.task is not Task.MULTILABEL:
            column = batch.column(self.target[0])
            if column.null_count == 0:
                index = self._classes.get_indexer(arrow_labels(column))
                if len(index) and index.min() >= 0:
                    if enc.task is Task.BINARY:
                        return index.astype(np.float32).reshape(-1, 1)
                    return index.astype(np.int64)
        name = rows() if rows is not None else INDEX
        frame = batch.select(self.target).to_pandas()
        raw = frame[self.target[0]] if len(self.target) == 1 else frame
        return enc.transform(raw, row_name=name).numpy()
