"""One streaming pass: split sizes, label set and counts, and the preprocessing of a table larger than memory.

:func:`scan_table` reads every unit once (under a running process group each rank reads every
``W``-th unit and the ranks' partial statistics are gathered and merged, in rank order, so every
rank ends with the same numbers). What is exact and what is sampled:

* rows per split per unit, label values and their counts per split, and so the label encoder and
  the ``pos_weight`` / class weights: exact;
* numeric columns: missing counts, means and scales (population std, after imputation): exact
  (Chan et al.'s pairwise update of mean and sum of squares);
* the numeric fill (the median): the median of a sample of at most ``sample_rows`` present values
  per column, the rows with the smallest hash of their row id (a bottom-k sample: deterministic, the
  same however the pass is sharded), so it is exact when the training split has fewer values;
* category vocabularies: exact counts while a column has at most ``max_vocabulary`` distinct values;
  past that the rarest half is forgotten (the kept ``max_categories`` are the frequent ones), and a
  note says so. Ties in frequency go to the category seen first, as pandas' ``value_counts`` has it.

Examples:
    >>> import tempfile, pyarrow as pa, pyarrow.parquet as pq
    >>> d = tempfile.mkdtemp()
    >>> pq.write_table(pa.table({"x": [1.0, 2.0, None, 4.0], "y": [0, 1, 0, 0]}), f"{d}/t.parquet")
    >>> stats = scan_table(Manifest.scan(d), target=["y"], features=["x"], splitter=HashSplit(0, 0))
    >>> stats.numeric["x"].column("x", []).fill, stats.unit_counts.tolist()
    (2.0, [[4, 0, 0]])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import torch

from ...errors import DataError
from ...label_counts import LabelCounts
from ...tasks import Task
from ..label_encoder import LabelEncoder
from ..numeric_columns import refuse_infinite
from .columns import CategoryStats, NumericStats, column_kind
from .encode import arrow_labels, numeric_values
from .hashing import SPLIT_NAMES, TRAIN, HashSplit, key_hash, splitmix64
from .manifest import Manifest, Unit

__all__ = [
    "MAX_LABELS",
    "CategoryStats",
    "LabelStats",
    "NumericStats",
    "TableStats",
    "column_kind",
    "scan_table",
]

MAX_LABELS = 10_000  # distinct label values before a float column counts as soft labels (else an error)
_SAMPLE_SALT = 0x5A3C  # the sample's hash differs from the split's


@dataclass
class LabelStats:
    """Distinct label values (or rows of several label columns) with their rows per split."""

    columns: list[str]
    counts: dict[Any, np.ndarray] = field(default_factory=dict)
    soft: np.ndarray = field(default_factory=lambda: np.zeros((len(SPLIT_NAMES), 2)))  # per split: sum, rows
    span: tuple[float, float] = (math.inf, -math.inf)
    continuous: bool = False

    def add(self, batch: pa.RecordBatch, codes: np.ndarray, where: Any) -> None:
        """Count the labels of ``batch`` (rows in splits ``codes``); ``where(i)`` names row ``i`` for errors."""
        cols = []
        for name in self.columns:
            column = batch.column(name)
            values = arrow_labels(column)
            missing = np.flatnonzero(pd.isna(values)) if values.dtype.kind in "fO" else np.zeros(0, int)
            if column.null_count or len(missing):
                i = (
                    int(missing[0])
                    if len(missing)
                    else int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0])
                )
                raise DataError(
                    f"Missing target value in column {name!r} at {where(i)}.",
                    fix="drop the rows without a label, or fill them in.",
                    code="missing-target",
                )
            cols.append(values)
        if len(cols) == 1 and cols[0].dtype.kind == "f":
            v = cols[0]
            self.soft += np.stack(
                [np.bincount(codes, weights=v, minlength=3), np.bincount(codes, minlength=3)], 1
            )
            self.span = (min(self.span[0], float(v.min())), max(self.span[1], float(v.max())))
        if self.continuous:
            return
        if len(cols) == 1:
            uniq, inverse = np.unique(cols[0], return_inverse=True)
            keys: list[Any] = uniq.tolist()
        else:
            keys, inverse = _unique_rows(cols)
        table = np.bincount(inverse * 3 + codes, minlength=3 * len(keys)).reshape(-1, 3)
        self._update(dict(zip(keys, table)))

    def merge(self, other: LabelStats) -> None:
        """Add another part's counts."""
        self.soft += other.soft
        self.span = (min(self.span[0], other.span[0]), max(self.span[1], other.span[1]))
        self.continuous |= other.continuous
        self._update(other.counts)

    def _update(self, seen: dict[Any, np.ndarray]) -> None:
        if self.continuous:
            return
        for key, rows in seen.items():
            self.counts[key] = self.counts.get(key, 0) + rows
        if len(self.counts) > MAX_LABELS:
            if not any(isinstance(k, float) and not float(k).is_integer() for k in self.counts):
                raise DataError(
                    f"The target column(s) {self.columns} hold more than {MAX_LABELS} distinct values.",
                    fix="check --target names the label column (not an id or a measurement).",
                    code="too-many-labels",
                )
            self.continuous, self.counts = True, {}

    def _values(self) -> Any:
        if len(self.columns) > 1:
            return pd.DataFrame(list(self.counts), columns=self.columns)
        return np.array(list(self.counts))

    def encoder(
        self, task: Task | str | None, *, positive: Any, label_sep: str, label_map: Any = None
    ) -> LabelEncoder:
        """The label encoder the table's rows give (as :func:`~logitlab.data.encode_labels` on them all)."""
        if self.continuous:
            lo, hi = self.span
            return LabelEncoder.fit(np.array([lo, hi, (lo + hi) / 2 + 1e-9]), task, label_sep=label_sep)
        totals = [int(c.sum()) for c in self.counts.values()]
        if len(self.columns) > 1:
            return LabelEncoder.fit(self._values(), task, label_sep=label_sep, label_map=label_map)
        return LabelEncoder.fit(
            self._values(), task, label_sep=label_sep, positive=positive, counts=totals, label_map=label_map
        )

    def label_counts(self, split: int, enc: LabelEncoder) -> LabelCounts | None:
        """The counts of split ``split``'s encoded targets (``None`` for an empty split)."""
        if enc.soft:
            total, rows = self.soft[split]
            return LabelCounts(torch.tensor([total]), int(rows)) if rows else None
        weights = np.array([c[split] for c in self.counts.values()], dtype=np.float64)
        if weights.sum() == 0:
            return None
        t = enc.transform(self._values())
        if enc.task is Task.MULTICLASS and t.ndim == 1:
            sums = np.bincount(t.numpy(), weights=weights, minlength=enc.n_outputs)
        else:
            sums = (t.double().numpy().reshape(len(t), -1) * weights[:, None]).sum(0)
        return LabelCounts(torch.from_numpy(sums), int(weights.sum()))


def _unique_rows(cols: list[np.ndarray]) -> tuple[list[tuple[Any, ...]], np.ndarray]:
    frame = pd.DataFrame({i: c for i, c in enumerate(cols)})
    codes, uniq = pd.MultiIndex.from_frame(frame).factorize()
    return list(uniq), np.asarray(codes, dtype=np.int64)


@dataclass
class TableStats:
    """Everything one pass learns: rows per split per unit, per-column statistics, labels."""

    unit_counts: np.ndarray
    numeric: dict[str, NumericStats]
    categorical: dict[str, CategoryStats]
    labels: LabelStats
    empty: list[str]

    def merge(self, other: TableStats) -> None:
        """Add another part's statistics (the parts read different units)."""
        self.unit_counts = self.unit_counts + other.unit_counts
        for name, s in self.numeric.items():
            s.merge(other.numeric[name])
        for name, c in self.categorical.items():
            c.merge(other.categorical[name])
        self.labels.merge(other.labels)


def scan_table(
    manifest: Manifest,
    *,
    target: Sequence[str],
    features: Sequence[str],
    splitter: HashSplit,
    sample_rows: int = 200_000,
    max_vocabulary: int = 100_000,
    part: tuple[int, int] | None = None,
) -> TableStats:
    """The statistics of ``manifest``'s rows in one pass (sharded over ranks when a process group runs).

    Args:
        manifest (Manifest): the table's files.
        target (list[str]): the label column(s).
        features (list[str]): the feature columns.
        splitter (HashSplit): which rows are training rows (features are fitted on those only).
        sample_rows (int): values per numeric column kept for the median. Default: ``200_000``.
        max_vocabulary (int): distinct values per string column counted exactly. Default: ``100_000``.
        part ((int, int), optional): ``(r, W)``: read only every ``W``-th unit from ``r`` and return
            this part's statistics (to :meth:`TableStats.merge` yourself). Default: the running process
            group's rank and size, with the parts gathered and merged; ``(0, 1)`` without one.
    """
    kinds = {name: column_kind(name, manifest.schema.field(name).type) for name in features}
    stats = TableStats(
        np.zeros((len(manifest.units), len(SPLIT_NAMES)), dtype=np.int64),
        {n: NumericStats(sample_rows=sample_rows) for n in features if kinds[n] == "numeric"},
        {n: CategoryStats(max_vocabulary=max_vocabulary) for n in features if kinds[n] == "categorical"},
        LabelStats(list(target)),
        [n for n in features if kinds[n] == "empty"],
    )
    rank, world = part if part is not None else _group()
    reader, columns = manifest.reader(), [*features, *target]
    if splitter.key is not None and splitter.key not in columns:
        columns.append(splitter.key)
    for i in range(rank, len(manifest.units), world):
        unit = manifest.units[i]
        for start, batch in reader.read(unit, columns):
            _scan_batch(stats, manifest, unit, start, batch, splitter, i)
    if world > 1 and part is None:
        parts: list[Any] = [None] * world
        torch.distributed.all_gather_object(parts, stats)
        stats = parts[0]
        for part in parts[1:]:
            stats.merge(part)
    return stats


def _scan_batch(
    stats: TableStats,
    manifest: Manifest,
    unit: Unit,
    start: int,
    batch: pa.RecordBatch,
    splitter: HashSplit,
    i: int,
) -> None:
    ids = np.arange(start, start + batch.num_rows, dtype=np.int64)
    if splitter.key is None:
        codes = splitter.assign(ids)
    else:
        values = batch.column(splitter.key).to_numpy(zero_copy_only=False)
        codes = splitter.codes(key_hash(values, splitter.key, splitter.seed))
    stats.unit_counts[i] += np.bincount(codes, minlength=len(SPLIT_NAMES))
    stats.labels.add(batch, codes, lambda j: manifest.row_namer(unit, ids[j : j + 1])(0))
    train = np.flatnonzero(codes == TRAIN)
    if not len(train):
        return
    part = batch.take(train)
    hashes = splitmix64(ids[train].view(np.uint64), _SAMPLE_SALT)
    for name, s in stats.numeric.items():
        values = numeric_values(part.column(name), name, lambda: manifest.row_namer(unit, ids[train]))
        if np.isinf(values).any():  # named by file and row (the namer is built only then)
            refuse_infinite(values, name, manifest.row_namer(unit, ids[train]))
        s.add(values, hashes)
    for name, c in stats.categorical.items():
        c.add(part.column(name), ids[train])


def _group() -> tuple[int, int]:
    """(rank, world size) of a running process group, else (0, 1)."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        return dist.get_rank(), dist.get_world_size()
    return 0, 1
