"""Which rows and columns of a table take part: unlabelled rows, index columns, id and dropped columns.

Each function returns what it decided and a note saying so, so that a repair is reported once
(in the bundle's or the inputs' notes) rather than made silently.

Examples:
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"rownames": [1, 2, 3], "x": [0.5, 0.1, 0.9], "y": ["a", None, "b"]})
    >>> index_like_columns(frame, exclude=["y"])
    ['rownames']
    >>> kept, notes = labelled_rows(frame["y"], label_sep="|", multilabel=False, row_name=TABLE_ROWS)
    >>> kept.tolist(), notes
    ([0, 2], ['1 row without a label left out (row 2)'])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from .label_parsing import missing_label_rows
from .row_names import TABLE_ROWS, RowNamer

__all__ = ["INDEX_COLUMN_NAMES", "check_columns", "index_like_columns", "labelled_rows", "row_ids"]

INDEX_COLUMN_NAMES = frozenset({"", "unnamed: 0", "rownames", "index", "row", "rowid", "row_id", "row.names"})
"""Names (lower-case) that tables written with their row index give it (pandas, R, Rdatasets)."""


def check_columns(frame: pd.DataFrame, names: Sequence[str], what: str, param: str) -> None:
    """Refuse column names that are not in ``frame``, listing the columns it has.

    Raises:
        DataError: naming the absent columns and the parameter (``drop``, ``id_column``) that named them.
    """
    absent = [c for c in names if c not in frame.columns]
    if absent:
        raise DataError(
            f"{what} {', '.join(map(repr, absent))} not in the table; the columns are: "
            f"{', '.join(map(str, frame.columns))}.",
            fix=f"pass {param}= with existing column names.",
            code="missing-column",
            param=param,
        )


def index_like_columns(frame: pd.DataFrame, *, exclude: Sequence[str] = ()) -> list[str]:
    """Columns named like a row index whose integer values strictly increase.

    That is ``0..N-1`` or ``1..N``, or the row numbers of a subset (R's ``rownames`` after filtering, e.g.
    ``4, 5, 11, ...``): position in the file, not a property of the row; a file sorted by its label would
    make it a leak.

    Examples:
        >>> index_like_columns(pd.DataFrame({"rownames": [4, 5, 11], "row": [3, 1, 2], "x": [1, 2, 3]}))
        ['rownames']
    """
    found = []
    for name in frame.columns:
        if name in exclude or str(name).strip().lower() not in INDEX_COLUMN_NAMES:
            continue
        col = frame[name]
        if col.dtype.kind not in "iu" or len(col) < 2:
            continue
        if col.hasnans or not bool((np.diff(col.to_numpy()) > 0).all()):
            continue
        found.append(str(name))
    return found


def labelled_rows(
    y_raw: Any, *, label_sep: str, multilabel: bool, row_name: RowNamer = TABLE_ROWS
) -> tuple[np.ndarray, list[str]]:
    """Positions of the rows that have a label, and a note naming the others (up to five).

    An empty cell of a label-list column is an empty list (a row with no label set), not missing.

    Raises:
        DataError: no row has a label.
    """
    missing = missing_label_rows(y_raw, sep=label_sep, lists=multilabel)
    kept = np.flatnonzero(~missing).astype(np.int64)
    if not missing.any():
        return kept, []
    if len(kept) == 0:
        raise DataError(
            f"Every one of the {len(missing)} rows lacks a target value.",
            fix="check the target column (target=) and that its cells are filled in.",
            code="missing-target",
        )
    gone = np.flatnonzero(missing)
    shown = ", ".join(row_name(int(i)) for i in gone[:5]) + (" ..." if len(gone) > 5 else "")
    n = len(gone)
    return kept, [f"{n} row{'s' if n > 1 else ''} without a label left out ({shown})"]


def row_ids(
    frame: pd.DataFrame, id_column: str | None, positions: np.ndarray
) -> tuple[str, list[Any], list[str]]:
    """The id column's name and values for ``frame``'s rows, with a note when it is absent.

    Without an id column (or when the file lacks it) the rows are numbered from 1 in file order,
    the same for CSV and Parquet: ``positions`` are the rows' places in the file.
    """
    if id_column is not None and id_column in frame.columns:
        return id_column, frame[id_column].tolist(), []
    ids = [int(p) + 1 for p in positions]
    if id_column is None:
        return "row", ids, []
    return "row", ids, [f"id column {id_column!r} not in this table: rows are numbered from 1 instead"]
