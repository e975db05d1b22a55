"""Per-column statistics of one streaming pass: numeric moments and a bottom-k sample, category counts.

Each statistic is filled batch by batch (``add``) and merged across the parts of a sharded pass
(``merge``), and gives the column :class:`~logitlab.data.TabularPreprocessor` would fit on the
same rows (``column``); :mod:`logitlab.data.streaming.stats` says what is exact and what is sampled.

Examples:
    >>> import numpy as np
    >>> s = NumericStats()
    >>> s.add(np.array([1.0, np.nan, 3.0]), np.arange(3, dtype=np.uint64))
    >>> s.column("x", notes := []), notes
    (NumericColumn(name='x', fill=2.0, mean=2.0, scale=0.816496580927726, scaling='standard', quantiles=None), ["column 'x': 1 missing values imputed with the median 2"])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ...errors import DataError
from ..categorical_columns import CategoricalColumn, categorical_column
from ..numeric_columns import NumericColumn, numeric_column

__all__ = ["CategoryStats", "NumericStats", "column_kind"]


def column_kind(name: str, dtype: pa.DataType) -> str:
    """``"numeric"`` (integers, floats, booleans, decimals), ``"categorical"`` (strings) or ``"empty"`` (all null).

    Raises:
        DataError: dates/times, or nested/binary columns, which logitlab does not encode.
    """
    t = pa.types
    if t.is_integer(dtype) or t.is_floating(dtype) or t.is_boolean(dtype) or t.is_decimal(dtype):
        return "numeric"
    if (
        t.is_string(dtype)
        or t.is_large_string(dtype)
        or (t.is_dictionary(dtype) and t.is_string(dtype.value_type))
    ):
        return "categorical"
    if t.is_null(dtype):
        return "empty"
    what = "dates/times" if t.is_temporal(dtype) else f"{dtype} values"
    raise DataError(
        f"Column {name!r} holds {what}, which logitlab does not encode.",
        fix=f"drop it (drop=[{name!r}], --drop) or derive numeric features from it.",
        code="unsupported-column",
    )


@dataclass
class NumericStats:
    """Moments, missing count and a bottom-k sample of one numeric column's training values."""

    present: int = 0
    mean: float = 0.0
    m2: float = 0.0  # sum of squared deviations from the mean
    missing: int = 0
    sample_hash: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint64))
    sample: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))
    sample_rows: int = 200_000

    def add(self, values: np.ndarray, hashes: np.ndarray) -> None:
        """Count float64 ``values`` (NaN = missing) whose rows hash to ``hashes``."""
        missing = np.isnan(values)
        self.missing += int(missing.sum())
        v, h = values[~missing], hashes[~missing]
        if len(v):
            mean = float(v.mean())
            self._moments(len(v), mean, float(np.square(v - mean).sum()))
            self._keep(h, v)

    def merge(self, other: NumericStats) -> None:
        """Add another part's statistics."""
        self.missing += other.missing
        if other.present:
            self._moments(other.present, other.mean, other.m2)
            self._keep(other.sample_hash, other.sample)

    def _moments(self, n: int, mean: float, m2: float) -> None:
        total = self.present + n
        delta = mean - self.mean
        self.mean += delta * n / total
        self.m2 += m2 + delta * delta * self.present * n / total
        self.present = total

    def _keep(self, h: np.ndarray, v: np.ndarray) -> None:
        k = self.sample_rows
        if len(self.sample_hash) >= k:
            below = h < self.sample_hash.max()
            h, v = h[below], v[below]
            if not len(h):
                return
        hh, vv = np.concatenate([self.sample_hash, h]), np.concatenate([self.sample, v])
        if len(hh) > k:
            keep = np.argpartition(hh, k - 1)[:k]
            hh, vv = hh[keep], vv[keep]
        self.sample_hash, self.sample = hh, vv

    def column(self, name: str, notes: list[str], scaling: str = "standard") -> NumericColumn | None:
        """The fitted column (``None``, with a note, when the training split has no value).

        ``"standard"`` scaling uses the exact one-pass moments; ``"robust"`` and ``"quantile"`` take their
        quantiles from the hash-chosen sample of present values, with the imputed share added as the fill.
        """
        if self.present == 0:
            notes.append(f"column {name!r} dropped: no values in the training split")
            return None
        fill = float(np.median(self.sample))
        if self.missing:
            sampled = (
                f" (of a sample of {len(self.sample)} values)" if self.present > len(self.sample) else ""
            )
            notes.append(
                f"column {name!r}: {self.missing} missing values imputed with the median {fill:.6g}{sampled}"
            )
        if scaling != "standard":
            n_fill = round(len(self.sample) * self.missing / self.present)
            filled = np.concatenate([self.sample, np.full(n_fill, fill)])
            if self.present > len(self.sample):
                notes.append(
                    f"column {name!r}: {scaling} scaling fitted on a sample of {len(self.sample)} values"
                )
            return numeric_column(name, fill, filled, scaling)
        n = self.present + self.missing
        mean = (self.present * self.mean + self.missing * fill) / n
        m2 = self.m2 + (self.mean - fill) ** 2 * self.present * self.missing / n
        std = math.sqrt(max(m2, 0.0) / n)
        return NumericColumn(name, fill, mean, std if std > 0 else 1.0)


@dataclass
class CategoryStats:
    """Counts (and first row) of each category of one string column's training values."""

    counts: dict[str, int] = field(default_factory=dict)
    first: dict[str, int] = field(default_factory=dict)
    missing: int = 0
    rows: int = 0
    pruned: bool = False
    max_vocabulary: int = 100_000

    def add(self, column: pa.Array, ids: np.ndarray) -> None:
        """Count the (stripped) strings of ``column``, whose rows have global ids ``ids``."""
        self.rows += len(column)
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        encoded = pc.dictionary_encode(pc.utf8_trim_whitespace(column.cast(pa.string())))
        idx = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
        words = encoded.dictionary.to_pylist()
        present = idx >= 0
        self.missing += int((~present).sum())
        n = np.bincount(idx[present], minlength=len(words))
        uniq, pos = np.unique(idx, return_index=True)
        self._update({words[u]: (int(n[u]), int(ids[p])) for u, p in zip(uniq, pos) if u >= 0})

    def merge(self, other: CategoryStats) -> None:
        """Add another part's counts."""
        self.rows, self.missing = self.rows + other.rows, self.missing + other.missing
        self.pruned |= other.pruned
        self._update({w: (c, other.first[w]) for w, c in other.counts.items()})

    def _update(self, seen: dict[str, tuple[int, int]]) -> None:
        for word, (count, first) in seen.items():
            self.counts[word] = self.counts.get(word, 0) + count
            self.first[word] = min(self.first.get(word, first), first)
        if len(self.counts) > self.max_vocabulary:  # forget the rarer half
            kept = self._ranked()[: self.max_vocabulary // 2]
            self.counts = {w: self.counts[w] for w in kept}
            self.first = {w: self.first[w] for w in kept}
            self.pruned = True

    def _ranked(self) -> list[str]:
        return sorted(self.counts, key=lambda w: (-self.counts[w], self.first[w]))

    def column(self, name: str, max_categories: int, notes: list[str]) -> CategoricalColumn | None:
        """The fitted column, with the notes :class:`TabularPreprocessor` writes (``None`` when dropped)."""
        if not self.counts:
            notes.append(f"column {name!r} dropped: no values in the training split")
            return None
        unique = (
            max(self.counts.values()) == 1 and self.missing == 0
            if self.pruned
            else len(self.counts) == self.rows
        )
        if unique and self.rows >= 20:
            notes.append(f"column {name!r} dropped: every value is different (an identifier?)")
            return None
        top = max(self.counts.values())
        mode = sorted(w for w, c in self.counts.items() if c == top)[0]
        ranked = self._ranked()
        if self.pruned:
            notes.append(
                f"column {name!r}: more than {self.max_vocabulary} distinct values; the rarest were not counted"
            )
        return categorical_column(name, ranked, mode, self.missing, max_categories, notes)
