"""How a row is named in messages and ids: ``"line 2"`` of a CSV, ``"row 1"`` of Parquet, ``"index 0"``, ``"file a.png"``.

Every message about a bad value names its row with a :class:`RowNamer`, so the same row has the same
name in every error, note and ``Inputs.ids``. A CSV's data row ``i`` is line ``i + 2`` (line 1 is the
header); a Parquet row and a table without a file are 1-based rows; in-memory labels are 0-based
indices; images are named by their file.

Examples:
    >>> CSV_LINES(0), TABLE_ROWS(0), INDEX(0)
    ('line 2', 'row 1', 'index 0')
    >>> CSV_LINES.subset([4, 9])(1)
    'line 11'
    >>> RowNamer.files(["a.png", "b.png"]).ids(2)
    ['file a.png', 'file b.png']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["CSV_LINES", "INDEX", "TABLE_ROWS", "RowNamer"]


@dataclass(frozen=True)
class RowNamer:
    """Names row ``i`` (a 0-based position) of a source: ``f"{unit} {i + start}"``, or ``f"{unit} {names[i]}"``.

    Attributes:
        unit (str): the word before the number or name (``"line"``, ``"row"``, ``"index"``, ``"file"``).
            Default: ``"index"``.
        start (int): the number of row 0 (CSV lines: 2; rows: 1; indices: 0). Default: ``0``.
        names (tuple[str, ...], optional): a name per row instead of a number (image files).
        positions (tuple[int, ...], optional): row ``i`` is row ``positions[i]`` of the source (a split's rows).
    """

    unit: str = "index"
    start: int = 0
    names: tuple[str, ...] | None = None
    positions: tuple[int, ...] | None = None

    def __call__(self, i: int) -> str:
        """The name of row ``i``."""
        j = self.positions[i] if self.positions is not None else int(i)
        return f"{self.unit} {self.names[j] if self.names is not None else j + self.start}"

    def subset(self, positions: Iterable[int]) -> RowNamer:
        """A namer of the rows at ``positions`` (row ``i`` of the subset keeps its source name)."""
        inner = tuple(int(p) for p in positions)
        if self.positions is not None:
            inner = tuple(self.positions[p] for p in inner)
        return RowNamer(self.unit, self.start, self.names, inner)

    def ids(self, n: int) -> list[str]:
        """The names of rows ``0 .. n-1``."""
        return [self(i) for i in range(n)]

    @classmethod
    def files(cls, paths: Sequence[object]) -> RowNamer:
        """Rows named by their file: ``"file cat/1.png"``."""
        return cls("file", names=tuple(str(p) for p in paths))


CSV_LINES = RowNamer("line", start=2)
"""CSV data rows by file line (line 1 is the header)."""
TABLE_ROWS = RowNamer("row", start=1)
"""Parquet rows and in-memory table rows, 1-based."""
INDEX = RowNamer("index")
"""In-memory labels and arrays, by 0-based position."""
