r"""A streaming ``DatasetBundle``: the statistics pass, then splits whose rows stay in the files.

:func:`load_streaming` scans the files (:class:`Manifest`), runs one statistics pass
(:func:`scan_table`), fits the label encoder and a :class:`~logitlab.data.TabularPreprocessor` from
it, and returns a bundle whose ``train``/``val``/``test`` are :class:`StreamSplit`\\ s: each a
:class:`~logitlab.data.Split` whose ``x`` is a :class:`StreamingTable` of that hash split, so the
trainer streams them and :meth:`Split.batches` reads them in row order. A split's targets (``y``)
are read (the target columns only) on first use and kept: 4 bytes per row per output; the
imbalance weights come from :meth:`StreamSplit.label_counts`, without them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from ...errors import DataError
from ...label_counts import LabelCounts
from ...options import LABEL_SEP, LOAD_DEFAULTS, MAX_CATEGORIES, TEST_SIZE, VAL_SIZE
from ...tasks import Task
from ..bundle import DatasetBundle, Split
from ..categorical_columns import CategoricalColumn
from ..numeric_columns import NumericColumn, marker_note
from ..tabular import target_columns
from ..tabular_preprocessor import TabularPreprocessor
from .encode import TableEncoder
from .hashing import SPLIT_NAMES, HashSplit
from .manifest import Manifest
from .stats import TableStats, scan_table
from .table import StreamingTable

__all__ = ["StreamSplit", "load_streaming"]


class StreamSplit(Split):
    """One hash split of a streaming table: a :class:`Split` whose rows are read from the files when needed.

    Attributes:
        x (StreamingTable): the split's batches ``(x, y)`` (what the trainer takes).
        name (str): ``"train"``, ``"val"`` or ``"test"``.
        counts (LabelCounts or None): the split's label counts, from the statistics pass.
    """

    def __init__(self, table: StreamingTable, counts: LabelCounts | None) -> None:
        assert table.split is not None
        self.table: StreamingTable = table
        self.x, self.name, self.counts = table, table.split, counts
        self.index = np.zeros(0, dtype=np.int64)
        self._y: Tensor | None = None

    def __repr__(self) -> str:
        return f"StreamSplit({self.name!r}, rows={len(self)}, files={len(self.table.manifest.files)})"

    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __len__(self) -> int:
        return self.table.num_rows

    @property
    def y(self) -> Tensor:  # type: ignore[override]
        """The split's targets in row order, read (target columns only) on first use."""
        if self._y is None:
            encoder = self.table.transform
            assert isinstance(encoder, TableEncoder)
            table = self.table.shard(0, 1, batch_size=1 << 16, shuffle=False)
            table.transform, table.columns = _TargetsOnly(encoder), list(encoder.target)
            parts = list(table)
            self._y = torch.cat(parts) if parts else torch.zeros(0)
        return self._y

    def dataset(self) -> StreamingTable:
        """The split's :class:`StreamingTable` (an ``IterableDataset`` of ``(x, y)`` batches)."""
        return self.table

    def training_data(self) -> StreamingTable:  # type: ignore[override]
        """What :meth:`logitlab.train.Trainer.fit` takes: the :class:`StreamingTable` (sharded by the trainer)."""
        return self.table

    def batches(self, batch_size: int) -> Iterator[Tensor]:
        """The inputs in row order, float32 batches of about ``batch_size`` rows (the last up to one more)."""
        for x, _ in self.table.shard(0, 1, batch_size=batch_size, shuffle=False):
            yield x

    def materialize(self) -> Tensor:
        """All inputs as one tensor (reads the whole split into memory)."""
        return torch.cat(list(self.batches(1 << 16)))

    def label_counts(self, task: Task | str, *, num_classes: int | None = None) -> LabelCounts:
        """The split's label counts (from the statistics pass; no rows are read).

        Raises:
            DataError: the split is empty.
        """
        if self.counts is None:
            raise DataError(f"The {self.name} split has no rows to count.", code="empty-split")
        return self.counts


class _TargetsOnly:
    """The transform of a targets-only pass: a :class:`TableEncoder`'s targets."""

    named_rows = True

    def __init__(self, encoder: TableEncoder) -> None:
        self.encoder, self.columns = encoder, encoder.target

    def __call__(self, batch: Any, rows: Any = None) -> np.ndarray:
        return self.encoder.targets(batch, rows)


def load_streaming(
    spec: str | Path | Sequence[str | Path],
    *,
    target: str | Sequence[str] | None = None,
    task: Task | str | None = None,
    label_sep: str = LABEL_SEP,
    label_map: Any = None,
    val_size: float = VAL_SIZE,
    test_size: float = TEST_SIZE,
    seed: int = 0,
    positive: Any = None,
    drop: Sequence[str] = (),
    max_categories: int = MAX_CATEGORIES,
    numeric_scaling: str = LOAD_DEFAULTS["numeric_scaling"],
    split_key: str | None = None,
    allow_outside_root: bool = False,
    sample_rows: int = 200_000,
    read_rows: int = 65536,
    shuffle_buffer: int = 1 << 17,
) -> DatasetBundle:
    """A bundle of Parquet/CSV files too large for memory, fitted in one streaming pass.

    Args: as :func:`~logitlab.data.load_dataset` (``spec`` a file, glob, folder or list of files), and
        split_key (str, optional): hash this column instead of the row index to split (rows of one key
            share a split). Default: the row index.
        sample_rows (int): values per numeric column behind its median fill. Default: ``200_000``.
        read_rows (int): the most rows of one record batch read from a file. Default: ``65536``.
        shuffle_buffer (int): rows held by each reader's shuffle buffer. Default: ``131072``.

    Memory: the statistics pass holds one row group (pyarrow reads a row group's column chunks
    whole, then decodes ``read_rows`` at a time) and the samples (``16 * sample_rows`` bytes per
    numeric column); training, per reader, one row group and the shuffle buffer of preprocessed rows
    (``4 * features * shuffle_buffer`` bytes). None of it grows with the number of files or rows.

    Raises:
        DataError: as :func:`~logitlab.data.load_dataset`, and a damaged file naming its row group.
    """
    manifest = Manifest.scan(spec, read_rows=read_rows, allow_outside_root=allow_outside_root)
    notes: list[str] = []
    names = target_columns(pd.DataFrame(columns=manifest.columns), target, notes)
    absent = [c for c in [*drop, *([split_key] if split_key else [])] if c not in manifest.columns]
    if absent:
        raise DataError(
            f"Columns {absent} not in the table; the columns are: {', '.join(manifest.columns)}.",
            fix="pass drop= / split_key= with existing column names.",
            code="missing-column",
        )
    features = [c for c in manifest.columns if c not in (*names, *drop)]
    notes += [marker_note(c, counts) for c, counts in manifest.markers.items() if c in features and counts]
    splitter = HashSplit(val_size, test_size, seed, split_key)
    stats = scan_table(manifest, target=names, features=features, splitter=splitter, sample_rows=sample_rows)
    enc = stats.labels.encoder(task, positive=positive, label_sep=label_sep, label_map=label_map)
    if enc.task is Task.BINARY and len(names) == 1 and isinstance(enc.positive, (bool, int, float)):
        enc.output_name = names[0]
    rows = stats.unit_counts.sum(0)
    notes += [*enc.notes, _describe(manifest, rows, split_key)]
    pre = _preprocessor(stats, features, max_categories, notes, numeric_scaling)
    encoder = TableEncoder(pre, enc, names)
    splits = [
        StreamSplit(
            StreamingTable(
                manifest,
                transform=encoder,
                split=s,
                splitter=splitter,
                unit_counts=stats.unit_counts,
                shuffle_buffer=shuffle_buffer,
            ),  # fmt: skip
            stats.labels.label_counts(i, enc),
        )
        for i, s in enumerate(SPLIT_NAMES)
    ]
    options = {"label_sep": label_sep, "drop": list(drop), "streaming": True, "split_key": split_key}
    train, val, test = splits
    return DatasetBundle(
        train, val, test, enc.task, enc.reason, enc.output_names, "tabular", (pre.n_features,), pre, notes, enc,
        str(spec), names, options,
    )  # fmt: skip


def _describe(manifest: Manifest, rows: np.ndarray, key: str | None) -> str:
    unit = "row groups" if manifest.kind == "parquet" else "blocks"
    by = f"a hash of column {key!r}" if key else "a hash of the row index"
    return (
        f"streaming: {manifest.rows} rows in {len(manifest.files)} {manifest.kind} file(s), {len(manifest.units)} "
        f"{unit}; split by {by}: train/val/test = {rows[0]}/{rows[1]}/{rows[2]}"
    )


def _preprocessor(
    stats: TableStats, features: list[str], max_categories: int, notes: list[str], scaling: str
) -> TabularPreprocessor:
    numeric: list[NumericColumn] = []
    categorical: list[CategoricalColumn] = []
    dropped = [*stats.empty]
    for name in stats.empty:
        notes.append(f"column {name!r} dropped: no values in the training split")
    for name in features:
        if name in stats.numeric:
            num = stats.numeric[name].column(name, notes, scaling)
            numeric.append(num) if num is not None else dropped.append(name)
        elif name in stats.categorical:
            cat = stats.categorical[name].column(name, max_categories, notes)
            categorical.append(cat) if cat is not None else dropped.append(name)
    if not numeric and not categorical:
        raise DataError(
            f"No usable feature column; columns seen: {', '.join(features) or 'none'}.",
            fix="give at least one numeric or categorical feature column besides the target.",
            code="no-features",
        )
    return TabularPreprocessor(numeric, categorical, dropped)
