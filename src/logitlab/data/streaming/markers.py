"""Missing-value markers in a streamed CSV: how pyarrow is told them, and how they are counted for the note.

The list is :data:`~logitlab.options.NA_MARKERS` (as the in-memory path reads it), spelled as a cell may
spell it: pyarrow compares null values exactly, and only in columns it does not read as text.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.csv as pacsv

from ...options import NA_MARKERS

__all__ = ["ARROW_NULLS", "MARKER_SPELLINGS", "UNNAMED", "count_markers", "is_text"]

ARROW_NULLS = tuple(pacsv.ConvertOptions().null_values)
"""pyarrow's own null spellings (``""``, ``NA``, ``n/a``, ``null``, ``NaN``, ...), kept."""
MARKER_SPELLINGS = tuple(
    dict.fromkeys(
        s for m in NA_MARKERS for s in (m, m.upper(), m.title(), m.capitalize()) if s not in ARROW_NULLS
    )
)
"""The markers as a CSV cell spells them (pyarrow compares exactly): lower, upper and title case."""
UNNAMED = frozenset(("None",))
"""Markers pandas' ``read_csv`` already reads as missing: the in-memory path names none of them, nor does this."""


def is_text(dtype: pa.DataType) -> bool:
    """Whether pyarrow reads a column of this type as text (where the markers stay text)."""
    return bool(pa.types.is_string(dtype) or pa.types.is_large_string(dtype))


def count_markers(column: pa.Array, counts: dict[str, int]) -> None:
    """Add the markers of a text ``column`` (stripped; those pandas names too left out) to ``counts``."""
    import pyarrow.compute as pc

    stripped = pc.utf8_trim_whitespace(column)
    hit = pc.is_in(stripped, value_set=pa.array([m for m in MARKER_SPELLINGS if m not in UNNAMED]))
    for item in pc.value_counts(pc.filter(stripped, hit)).to_pylist():
        counts[item["values"]] = counts.get(item["values"], 0) + item["counts"]
