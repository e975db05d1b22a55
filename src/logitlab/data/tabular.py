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

from ..errors import DataError, LogitlabError
from ..options import LABEL_SEP, LOAD_DEFAULTS, MAX_CATEGORIES, TEST_SIZE, VAL_SIZE
from ..tasks import Task
from .bundle import DatasetBundle, DataState, Inputs, make_bundle
from .csv_dialect import header_names, sniff_csv
from .label_encoder import LabelEncoder, encode_labels
from .row_names import CSV_LINES, TABLE_ROWS, RowNamer
from .sparse import SparseRows
from .split import split_indices
from .table_selection import INDEX_COLUMN_NAMES, check_columns, index_like_columns, labelled_rows, row_ids
from .tabular_preprocessor import TabularPreprocessor
from .text import TextTablePreprocessor, check_text_columns, detect_text_columns

__all__ = [
    "DEFAULT_TARGET_NAMES",
    "TABLE_SUFFIXES",
    "bundle_from_frame",
    "fit_text_features",
    "frame_inputs",
    "read_table",
    "target_columns",
]

DEFAULT_TARGET_NAMES = ("target", "label", "labels", "class", "y")
"""Column names taken as the target (case-insensitive) when ``target`` is not given."""
TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")
"""File suffixes read as tables (CSV, tab-separated, Parquet)."""
_PARQUET_SUFFIXES = (".parquet", ".pq")


def read_table(
    path: str | Path,
    *,
    sep: str | None = None,
    encoding: str | None = None,
    notes: list[str] | None = None,
) -> tuple[pd.DataFrame, RowNamer]:
    """Read a ``.csv``/``.tsv``/``.parquet`` file; returns the frame and a namer of its rows.

    A CSV's encoding, separator and decimal mark are sniffed (:func:`~logitlab.data.csv_dialect.sniff_csv`)
    unless given; what was chosen is appended to ``notes`` when it is not plain comma-separated UTF-8.

    Args:
        path (str or Path): the file.
        sep (str, optional): the CSV separator. Default: sniffed (a tab for ``.tsv``).
        encoding (str, optional): the CSV text encoding. Default: sniffed.
        notes (list[str], optional): receives how the file was read.

    Raises:
        DataError: a missing, empty or unreadable file (with the parser's message), a file that does
            not decode with the given encoding, or a header naming a column twice.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"No such file: {path}.", fix="check the path.", code="no-such-file")
    parquet = path.suffix.lower() in _PARQUET_SUFFIXES
    try:
        if parquet:
            frame = _read_parquet(path)
        else:
            frame = _read_csv(path, sep, encoding, notes if notes is not None else [])
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        if isinstance(exc, LogitlabError):
            raise
        raise DataError(
            f"Cannot read {path}: {exc}",
            fix="check the file is a well-formed CSV (one header line, the same number of fields per line) "
            "or Parquet file.",
            code="unreadable-table",
        ) from exc
    _refuse_repeated_names([str(c) for c in frame.columns], path)
    if frame.empty:
        raise DataError(
            f"{path} has no data rows (columns: {', '.join(map(str, frame.columns)) or 'none'}).",
            fix="check the file was written completely; a table needs a header line and at least one row.",
            code="empty-table",
        )
    return frame, (TABLE_ROWS if parquet else CSV_LINES)


WIDE_PARQUET_COLUMNS = 1000
"""Parquet files with more columns are decoded on one thread, this many columns at a time: Arrow's
threaded reader holds buffers per column and thread, and its reader state grows with the columns read
at once (a 50,000-column x 120-row file: 10 GB peak RSS threaded, 0.62 GB on one thread in one read,
0.3 GB in groups of 1,000 columns)."""


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as handle:
        schema = handle.schema_arrow
        names = schema.names
        if len(names) <= WIDE_PARQUET_COLUMNS or len(set(names)) < len(names):
            wide = len(names) > WIDE_PARQUET_COLUMNS  # repeated names are refused once read
            table = handle.read(use_threads=not wide, use_pandas_metadata=True)
            return table.to_pandas(use_threads=not wide)
        arrays = []
        for start in range(0, len(names), WIDE_PARQUET_COLUMNS):
            part = handle.read(columns=names[start : start + WIDE_PARQUET_COLUMNS], use_threads=False)
            arrays.extend(part.columns)
        return pa.Table.from_arrays(arrays, schema=schema).to_pandas(use_threads=False)


def _read_csv(path: Path, sep: str | None, encoding: str | None, notes: list[str]) -> pd.DataFrame:
    if path.stat().st_size == 0:
        raise DataError(
            f"{path} is empty (0 bytes).",
            fix="check the file was written completely; a table needs a header line and at least one row.",
            code="empty-table",
        )
    tsv = path.suffix.lower() == ".tsv"
    dialect = sniff_csv(path, sep=sep, encoding=encoding, default_sep="\t" if tsv else ",")
    if not dialect.is_default and not (tsv and dialect.sep == "\t" and dialect.encoding == "utf-8"):
        notes.append(dialect.note(path.name))
    _refuse_repeated_names(header_names(path, dialect), path)
    return pd.read_csv(
        path, sep=dialect.sep, encoding=dialect.encoding, decimal=dialect.decimal, skipinitialspace=True
    )


def _refuse_repeated_names(names: list[str], path: Path) -> None:
    """A header that names a column twice (pandas would rename the second ``name.1``) is refused."""
    seen: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        seen.setdefault(name, []).append(i + 1)
    repeated = {n: at for n, at in seen.items() if len(at) > 1}
    if repeated:
        shown = "; ".join(f"{n!r} (columns {', '.join(map(str, at))})" for n, at in repeated.items())
        raise DataError(
            f"The header of {path.name} names a column more than once: {shown}.",
            fix="give each column its own name in the header line (a repeated target column would "
            "otherwise be read as a feature).",
            code="repeated-column-name",
        )


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
                fix="name the label column: target='COLUMN'; several 0/1 columns for multilabel.",
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
    label_sep: str = LABEL_SEP,
    label_map: Any = None,
    val_size: float = VAL_SIZE,
    test_size: float = TEST_SIZE,
    seed: int = 0,
    positive: Any = None,
    drop: Sequence[str] = (),
    id_column: str | None = None,
    missing_target: str = "drop",
    max_categories: int = MAX_CATEGORIES,
    numeric_scaling: str = LOAD_DEFAULTS["numeric_scaling"],
    row_name: RowNamer = TABLE_ROWS,
    source: str = "dataframe",
    text_columns: Any = LOAD_DEFAULTS["text_columns"],
) -> DatasetBundle:
    """Split a table, encode its target(s) and fit the preprocessing on the training rows.

    Rows without a label are left out with a note (``missing_target="drop"``) or refused
    (``"error"``); the ``id_column``, the ``drop`` columns and index columns written with the file
    (``rownames`` / ``Unnamed: 0`` holding 1..N) are not features.

    Args: as :func:`~logitlab.data.load_dataset`; ``row_name`` names row ``i`` in errors.
    """
    notes: list[str] = []
    table = frame
    targets = target_columns(frame, target, notes)
    check_columns(frame, list(drop), "Columns to drop", "drop")
    check_columns(frame, [id_column] if id_column is not None else [], "The id column", "id_column")
    left_out = [*drop, *([id_column] if id_column is not None else [])]
    index_cols = index_like_columns(frame, exclude=[*targets, *left_out])
    notes += [
        f"column {c!r} left out: its integers only increase down the file (an index written with the file); "
        "pass id_column= to carry it into predictions"
        for c in index_cols
    ]
    kept = np.arange(len(frame), dtype=np.int64)
    if missing_target == "drop":
        y_all = frame[targets[0]] if len(targets) == 1 else frame[targets]
        multilabel = task is not None and Task.from_str(task) is Task.MULTILABEL
        kept, dropped = labelled_rows(y_all, label_sep=label_sep, multilabel=multilabel, row_name=row_name)
        notes += dropped
        if dropped:
            frame, row_name = frame.iloc[kept], row_name.subset(kept)
    y_raw = frame[targets[0]] if len(targets) == 1 else frame[targets]
    y, enc = encode_labels(
        y_raw, task, label_sep=label_sep, positive=positive, row_name=row_name, label_map=label_map
    )
    notes = [*notes, *enc.notes]
    if enc.task is Task.BINARY and len(targets) == 1 and isinstance(enc.positive, (bool, int, float)):
        enc.output_name = targets[0]  # a 0/1 column: name the logit after the column
    splits = split_indices(
        y.numpy(), enc.task, val_size=val_size, test_size=test_size, seed=seed, names=enc.classes
    )
    notes += splits[3]
    features = frame.drop(columns=[*targets, *left_out, *index_cols])
    options = {"label_sep": label_sep, "drop": list(drop), "id_column": id_column}
    text = check_text_columns(text_columns, features.columns)
    if text is None:
        text = detect_text_columns(features.iloc[splits[0]], notes)
    if text:
        pre_text, rows = fit_text_features(
            features, text, splits[:3], max_categories, row_name, notes, numeric_scaling
        )
        bundle = make_bundle(
            rows.subset, y, enc, splits[:3], "tabular", pre_text, notes, source=source, target=targets,
            options=options, positions=kept, input_shape=(pre_text.n_features,),
        )  # fmt: skip
        bundle.table = table
        return bundle
    pre, full = _fit_features(features, splits[:3], max_categories, row_name, notes, numeric_scaling)
    bundle = make_bundle(
        full, y, enc, splits[:3], "tabular", pre, notes, source=source, target=targets, options=options,
        positions=kept,
    )  # fmt: skip
    bundle.table = table
    return bundle


def _fit_features(
    features: pd.DataFrame,
    splits: tuple[np.ndarray, np.ndarray, np.ndarray],
    max_categories: int,
    row_name: RowNamer,
    notes: list[str],
    scaling: str,
) -> tuple[TabularPreprocessor, torch.Tensor]:
    """The preprocessing fitted on the training rows, and every row's features (notes on val/test said once)."""
    train, val, test = splits
    train_rows = row_name.subset(train)
    pre = TabularPreprocessor.fit(
        features.iloc[train], max_categories=max_categories, scaling=scaling, row_name=train_rows, notes=notes
    )
    x = torch.from_numpy(pre.transform(features.iloc[train], row_name=train_rows, notes=[], warn=False))
    rest = np.sort(np.concatenate([val, test]))
    later: list[str] = []
    x_rest = pre.transform(features.iloc[rest], row_name=row_name.subset(rest), notes=later, warn=False)
    notes += [f"validation/test rows: {n}" for n in later]
    full = torch.empty((len(features), pre.n_features), dtype=torch.float32)
    full[train] = x
    full[rest] = torch.from_numpy(x_rest)
    return pre, full


def fit_text_features(
    features: pd.DataFrame,
    text: list[str],
    splits: tuple[np.ndarray, np.ndarray, np.ndarray],
    max_categories: int,
    row_name: RowNamer,
    notes: list[str],
    scaling: str,
) -> tuple[TextTablePreprocessor, SparseRows]:
    """The text and table preprocessing fitted on the training rows, and every row's sparse features."""
    train = splits[0]
    pre, blocks = TextTablePreprocessor.fit_with_rows(
        features.iloc[train], text, max_categories=max_categories, scaling=scaling,
        row_name=row_name.subset(train), notes=notes,
    )  # fmt: skip
    later: list[str] = []
    full = pre.transform(features, row_name=row_name, notes=later, fitted=(train, blocks))
    notes += [f"all rows: {n}" for n in later if n not in notes]
    return pre, SparseRows(full, native=True)


def _refuse_missing_targets(frame: pd.DataFrame, targets: list[str]) -> None:
    """Scoring a model needs its target column(s) in the table: a ``DataError`` naming them and the columns.

    Worded for every caller (``evaluate`` has no target option: the target is the model's).
    """
    available = ", ".join(map(str, frame.columns))
    absent = [t for t in targets if t not in frame.columns]
    what = (
        f"no column {', '.join(map(repr, absent))}, the model's target"
        if absent
        else "no target column the model knows (it was fitted on arrays, without column names)"
    )
    raise DataError(
        f"The table has {what}; its columns are: {available}.",
        fix="score a table that holds the true labels in the model's target column"
        + (f" ({', '.join(map(repr, targets))})" if targets else "")
        + "; to score rows without labels, predict instead.",
        code="missing-target-column",
    )


def frame_inputs(
    frame: pd.DataFrame,
    state: DataState,
    *,
    row_name: RowNamer = TABLE_ROWS,
    require_targets: bool = False,
    labels: str = "read",
) -> Inputs:
    """Features (and targets, when present) of ``frame`` read with a fitted :class:`DataState`.

    Args:
        frame (DataFrame): the table.
        state (DataState): the model's data state.
        row_name (RowNamer): names row ``i`` in messages. Default: ``"row i+1"``.
        require_targets (bool): the target column(s) must be there. Default: ``False``.
        labels (str): ``"read"`` (targets when present; a missing or unseen label raises), ``"ignore"``
            (the target columns are never read) or ``"usable"`` (rows whose label is missing or unseen
            in training are left out, counted in ``Inputs.excluded``). Default: ``"read"``.
    """
    enc: LabelEncoder = state.label_encoder
    targets = state.target or []
    has_targets = labels != "ignore" and bool(targets) and all(t in frame.columns for t in targets)
    if require_targets and not has_targets:
        _refuse_missing_targets(frame, targets)
    notes: list[str] = []
    n_rows = len(frame)
    positions = np.arange(n_rows, dtype=np.int64)
    y = None
    if has_targets:
        y_raw = frame[targets[0]] if len(targets) == 1 else frame[targets]
        if labels == "usable":
            mask, excluded = enc.usable_rows(y_raw, row_name=row_name)
            notes += excluded
            positions = np.flatnonzero(mask).astype(np.int64)
            frame, row_name = frame.iloc[positions], row_name.subset(positions)
            y_raw = frame[targets[0]] if len(targets) == 1 else frame[targets]
        y = enc.transform(y_raw, row_name=row_name) if len(frame) else enc.empty_targets()
    drop = [c for c in [*targets, *state.options.get("drop", [])] if c in frame.columns]
    features = frame.drop(columns=drop)
    # the id column and an index written with the file are not features, and not worth a warning
    index_named = [str(c) for c in features.columns if str(c).strip().lower() in INDEX_COLUMN_NAMES]
    ignore = [*([state.options["id_column"]] if state.options.get("id_column") else []), *index_named]
    x = state.preprocessor.transform(features, row_name=row_name, notes=notes, ignore=ignore)
    id_name, ids, id_notes = row_ids(frame, state.options.get("id_column"), positions)
    return Inputs(
        SparseRows(x, native=True)
        if isinstance(state.preprocessor, TextTablePreprocessor)
        else torch.from_numpy(x),
        y,
        ids,
        [*id_notes, *notes],
        id_name=id_name,
        excluded=n_rows - len(positions),
    )
