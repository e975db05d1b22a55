"""CSV and Parquet tables: target column(s) -> targets, the other columns -> preprocessed features.

Targets: one column (binary or multiclass from string/int/bool/float codes), one column of label
lists (``"a|b|c"``, multilabel), or several 0/1 columns (multilabel). Errors name the file line
(CSV: line 1 is the header, so data row ``i`` is line ``i + 2``) or row (Parquet, 1-based).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..errors import DataError
from ..tasks import Task
from .bundle import DatasetBundle, DataState, Inputs, make_bundle
from .labels import LabelEncoder, encode_labels
from .rows import CSV_LINES, TABLE_ROWS, RowNamer
from .split import split_indices
from .tabular_preprocessor import TabularPreprocessor

__all__ = [
    "DEFAULT_TARGET_NAMES",
    "TABLE_SUFFIXES",
    "bundle_from_frame",
    "frame_inputs",
    "read_table",
    "target_columns",
]

DEFAULT_TARGET_NAMES = ("target", "label", "labels", "class", "y")
"""Column names taken as the target (case-insensitive) when ``target`` is not given."""
TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")
"""File suffixes read as tables (CSV, tab-separated, Parquet)."""
_PARQUET_SUFFIXES = (".parquet", ".pq")


def read_table(path: str | Path) -> tuple[pd.DataFrame, RowNamer]:
    """Read a ``.csv``/``.tsv``/``.parquet`` file; returns the frame and a namer of its rows.

    Raises:
        DataError: a missing, empty or unreadable file (with the parser's message).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"No such file: {path}.", fix="check the path.", code="no-such-file")
    suffix = path.suffix.lower()
    try:
        parquet = suffix in _PARQUET_SUFFIXES
        if parquet:
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", skipinitialspace=True)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise DataError(
            f"Cannot read {path}: {exc}",
            fix="check the file is a well-formed CSV (one header line, the same number of fields per line) "
            "or Parquet file.",
            code="unreadable-table",
        ) from exc
    if frame.empty:
        raise DataError(
            f"{path} has no data rows (columns: {', '.join(map(str, frame.columns)) or 'none'}).",
            fix="check the file was written completely; a table needs a header line and at least one row.",
            code="empty-table",
        )
    return frame, (TABLE_ROWS if parquet else CSV_LINES)


def target_columns(frame: pd.DataFrame, target: str | Sequence[str] | None, notes: list[str]) -> list[str]:
    """Resolve the target column name(s) in ``frame``.

    Raises:
        DataError: a named column is absent, or none was given and no default name matched; lists the columns.
    """
    available = ", ".join(map(str, frame.columns))
    if target is None:
        by_lower = {str(c).lower(): str(c) for c in frame.columns}
        hits = [by_lower[n] for n in DEFAULT_TARGET_NAMES if n in by_lower]
        if not hits:
            raise DataError(
                f"No target column given; the table has: {available}.",
                fix="name the label column: target='COLUMN' (or --target COLUMN); several 0/1 columns for multilabel.",
                code="no-target",
            )
        notes.append(f"target column {hits[0]!r} chosen by its name (pass target= to choose another)")
        return [hits[0]]
    names = [target] if isinstance(target, str) else list(target)
    absent = [n for n in names if n not in frame.columns]
    if absent:
        raise DataError(
            f"Target column(s) {', '.join(map(repr, absent))} not in the table; the columns are: {available}.",
            fix="pass one of the listed columns as target=.",
            code="missing-target-column",
        )
    if len(set(names)) != len(names):
        raise DataError(f"Target columns repeat: {names}.", fix="name each column once.", code="bad-target")
    return names


def bundle_from_frame(
    frame: pd.DataFrame,
    *,
    target: str | Sequence[str] | None = None,
    task: Task | str | None = None,
    label_sep: str = "|",
    val_size: float = 0.15,
    test_size: float = 0.15,
    seed: int = 0,
    positive: Any = None,
    drop: Sequence[str] = (),
    max_categories: int = 50,
    row_name: RowNamer = TABLE_ROWS,
    source: str = "dataframe",
) -> DatasetBundle:
    """Split a table, encode its target(s) and fit the preprocessing on the training rows.

    Args: as :func:`~logitlab.data.load_dataset`; ``row_name`` names row ``i`` in errors.
    """
    notes: list[str] = []
    targets = target_columns(frame, target, notes)
    absent = [c for c in drop if c not in frame.columns]
    if absent:
        raise DataError(
            f"Columns to drop {absent} not in the table; the columns are: {', '.join(map(str, frame.columns))}.",
            fix="pass drop= with existing column names.",
            code="missing-column",
        )
    y_raw = frame[targets[0]] if len(targets) == 1 else frame[targets]
    y, enc = encode_labels(y_raw, task, label_sep=label_sep, positive=positive, row_name=row_name)
    notes = [*notes, *enc.notes]
    if enc.task is Task.BINARY and len(targets) == 1 and isinstance(enc.positive, (bool, int, float)):
        enc.output_name = targets[0]  # a 0/1 column: name the logit after the column
    train, val, test, split_notes = split_indices(
        y.numpy(), enc.task, val_size=val_size, test_size=test_size, seed=seed
    )
    notes += split_notes
    features = frame.drop(columns=[*targets, *drop])
    train_rows = row_name.subset(train)
    pre = TabularPreprocessor.fit(
        features.iloc[train], max_categories=max_categories, row_name=train_rows, notes=notes
    )
    x = torch.from_numpy(pre.transform(features.iloc[train], row_name=train_rows, notes=[]))
    rest = np.sort(np.concatenate([val, test]))
    later: list[str] = []
    x_rest = pre.transform(features.iloc[rest], row_name=row_name.subset(rest), notes=later)
    notes += [f"validation/test rows: {n}" for n in later]
    full = torch.empty((len(frame), pre.n_features), dtype=torch.float32)
    full[train] = x
    full[rest] = torch.from_numpy(x_rest)
    options = {"label_sep": label_sep, "drop": list(drop)}
    return make_bundle(
        full,
        y,
        enc,
        (train, val, test),
        "tabular",
        pre,
        notes,
        source=source,
        target=targets,
        options=options,
    )


def frame_inputs(
    frame: pd.DataFrame, state: DataState, *, row_name: RowNamer = TABLE_ROWS, require_targets: bool = False
) -> Inputs:
    """Features (and targets, when present) of ``frame`` read with a fitted :class:`DataState`."""
    enc: LabelEncoder = state.label_encoder
    targets = state.target or []
    has_targets = bool(targets) and all(t in frame.columns for t in targets)
    if require_targets and not has_targets:
        target_columns(frame, targets or None, [])  # raises, listing the columns
    y = None
    if has_targets:
        y_raw = frame[targets[0]] if len(targets) == 1 else frame[targets]
        y = enc.transform(y_raw, row_name=row_name)
    notes: list[str] = []
    drop = [c for c in [*targets, *state.options.get("drop", [])] if c in frame.columns]
    x = state.preprocessor.transform(frame.drop(columns=drop), row_name=row_name, notes=notes)
    return Inputs(torch.from_numpy(x), y, row_name.ids(len(frame)), notes)
