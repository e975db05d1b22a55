"""The files of a streaming table, cut into units (Parquet row groups, CSV blocks), and how a unit is read.

A :class:`Manifest` resolves a spec (one file, a glob such as ``data/*.parquet``, a folder, or a list
of paths) into sorted files of one format and lists their units with row counts: a Parquet file's
row groups come from its footer (nothing else is read); a CSV file's blocks (``block_size`` bytes
each, as pyarrow's streaming CSV reader cuts them) are counted in one pass that converts only the
first column. Every row has a global id: its position in the files taken in order.

CSV column types are inferred from the first block of the first file (integers widened to float64);
a later value that does not fit its column's type is reported naming the file and block. In a column of
numbers, the missing-value markers of :data:`~logitlab.options.NA_MARKERS` (``?``, ``NA``, ``n/a``, ``-``,
blanks, ... in any case) are missing values, as on the in-memory path; text columns keep them as text.
:attr:`Manifest.markers` counts the markers that made a column of the first block numeric (pyarrow's own
null spellings such as ``NA`` are not counted, as pandas' are not on the in-memory path).

A :class:`UnitReader` reads one unit as record batches of at most ``read_rows`` rows, never a whole
file, keeping the last file open. A file that cannot be read becomes a
:class:`~logitlab.errors.DataError` naming the file and the row group (or CSV block).

Examples:
    >>> import tempfile, pyarrow as pa, pyarrow.parquet as pq
    >>> d = tempfile.mkdtemp()
    >>> pq.write_table(pa.table({"x": list(range(10))}), f"{d}/a.parquet", row_group_size=4)
    >>> m = Manifest.scan(f"{d}/*.parquet")
    >>> m.rows, [u.rows for u in m.units], m.describe(m.units[1])
    (10, [4, 4, 2], 'a.parquet row group 1')
"""

from __future__ import annotations

import glob
import os
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ...errors import DataError
from ..row_names import RowNamer
from .markers import ARROW_NULLS, MARKER_SPELLINGS, count_markers, is_text

__all__ = ["CSV_SUFFIXES", "PARQUET_SUFFIXES", "Manifest", "Unit", "UnitReader", "resolve_files"]

PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".tsv")
_GLOB_CHARS = frozenset("*?[")
_OPEN_FILES = 1  # files a reader keeps open between units (an open file holds its last row group, decoded)


@dataclass(frozen=True)
class Unit:
    """One shard of a streaming table: a Parquet row group or a CSV block.

    Attributes:
        file (int): index into :attr:`Manifest.files`.
        chunk (int): the row group (Parquet) or block (CSV) within the file.
        start (int): global id of its first row. rows (int): its rows.
    """

    file: int
    chunk: int
    start: int
    rows: int


def resolve_files(spec: str | Path | Sequence[str | Path], *, allow_outside_root: bool = False) -> list[Path]:
    """The table files of a spec: a file, a glob, a folder (its tables, recursively) or a list; sorted.

    A folder's or a glob's files must resolve inside the folder (the glob's part before its first
    wildcard): a symbolic link out of it is refused unless ``allow_outside_root``. A glob that matches
    a folder named like a table (``part.parquet/``, as Spark writes one) is refused: its rows would be
    left out.

    Raises:
        DataError: nothing matches, the files mix formats (Parquet with CSV), a matched table folder
            (``table-folder``), or a file outside the folder (``path-outside-root``).
    """
    if not isinstance(spec, (str, Path)):
        files = [Path(p).expanduser() for p in spec]
        missing = [str(p) for p in files if not p.is_file()]
        if missing:
            raise DataError(f"No such file: {missing[0]}.", fix="check the paths.", code="no-such-file")
    else:
        text = str(Path(spec).expanduser())
        if _GLOB_CHARS & set(text):
            matched = sorted(Path(p) for p in glob.glob(text, recursive=True))
            _refuse_table_folders(matched, text)
            files = [p for p in matched if p.is_file()]
            prefix = text[
                : min(text.index(c) for c in _GLOB_CHARS if c in text)
            ]  # "data/part" of "data/part*"
            root = Path(prefix) if prefix.endswith(os.sep) else Path(prefix).parent
        elif Path(text).is_dir():
            suffixes = (*PARQUET_SUFFIXES, *CSV_SUFFIXES)
            files = sorted(p for p in Path(text).rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
            root = Path(text)
        else:
            files = [Path(text)] if Path(text).is_file() else []
            root = None
        if not files:
            raise DataError(
                f"No table files match {str(spec)!r}.",
                fix="give a .parquet/.csv file, a glob such as 'data/*.parquet' (quoted), or a folder of tables.",
                code="no-such-file",
            )
        if root is not None and not allow_outside_root:
            _refuse_outside(files, root)
    kinds = {_kind(p) for p in files}
    if len(kinds) > 1 or None in kinds:
        odd = next((p for p in files if _kind(p) in (None, *kinds - {_kind(files[0])})), files[-1])
        raise DataError(
            f"A streaming table needs files of one format (all Parquet or all CSV); got {odd} among {len(files)} files.",
            fix="point at the Parquet files only, e.g. 'data/*.parquet'.",
            code="mixed-table-files",
        )
    return files


def _refuse_table_folders(matched: Sequence[Path], pattern: str) -> None:
    folder = next((p for p in matched if p.is_dir() and _kind(p) is not None), None)
    if folder is not None:
        raise DataError(
            f"{pattern!r} matches the folder {folder}, named like a table file; its files would be left out.",
            fix=f"give its files too, e.g. '{folder / ('*' + folder.suffix)}', or a glob that matches files only.",
            code="table-folder",
        )


def _refuse_outside(files: Sequence[Path], root: Path) -> None:
    base = root.resolve()
    for path in files:
        if not path.resolve().is_relative_to(base):
            raise DataError(
                f"The table file {path} (a symbolic link to {path.resolve()}) points outside {root}.",
                fix="copy the file under the folder, or pass allow_outside_root=True (Python) if you trust "
                "the links.",
                code="path-outside-root",
            )


def _kind(path: Path) -> str | None:
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    return "csv" if suffix in CSV_SUFFIXES else None


@dataclass
class Manifest:
    """The files of a streaming table and their units.

    Attributes:
        files (tuple[str, ...]): the files, sorted. kind (str): ``"parquet"`` or ``"csv"``.
        units (tuple[Unit, ...]): every row group / block, in file order.
        schema (pa.Schema): the columns and types (of the first file; the others must have the same names).
        read_rows (int): the most rows a record batch holds when a unit is read. Default: ``65536``.
        block_size (int): bytes per CSV block (a CSV unit). Default: 4 MiB.
        markers (dict): per CSV column read as numbers thanks to missing-value markers, each marker's count
            (over all files). Default: none.
    """

    files: tuple[str, ...]
    kind: str
    units: tuple[Unit, ...]
    schema: pa.Schema
    read_rows: int = 65536
    block_size: int = 4 << 20
    markers: dict[str, dict[str, int]] = field(default_factory=dict)

    @classmethod
    def scan(
        cls,
        spec: str | Path | Sequence[str | Path],
        *,
        read_rows: int = 65536,
        block_size: int = 4 << 20,
        allow_outside_root: bool = False,
    ) -> Manifest:
        """List the units of ``spec``'s files (Parquet: footers only; CSV: one counting pass).

        Raises:
            DataError: no files, mixed formats, an unreadable or truncated file (named), files
                whose columns differ (naming the file and the columns), or as :func:`resolve_files`.
        """
        files = resolve_files(spec, allow_outside_root=allow_outside_root)
        kind = _kind(files[0])
        units: list[Unit] = []
        schema: pa.Schema | None = None
        markers: dict[str, dict[str, int]] = {}
        for i, path in enumerate(files):
            if kind == "parquet":
                file_schema, sizes = _parquet_layout(path)
            else:
                file_schema, sizes = _csv_layout(path, block_size, schema, markers)
            schema = _same_columns(schema, file_schema, path, files[0])
            start = units[-1].start + units[-1].rows if units else 0
            for chunk, rows in enumerate(sizes):
                units.append(Unit(i, chunk, start, rows))
                start += rows
        units = [u for u in units if u.rows > 0]
        if not units:
            raise DataError(
                f"The table files {str(spec)!r} hold no rows.", fix="check the files.", code="empty-table"
            )
        assert schema is not None and kind is not None
        return cls(tuple(map(str, files)), kind, tuple(units), schema, read_rows, block_size, markers)

    @property
    def rows(self) -> int:
        """Rows over all files."""
        return self.units[-1].start + self.units[-1].rows

    @property
    def columns(self) -> list[str]:
        """The column names."""
        return list(self.schema.names)

    def describe(self, unit: Unit) -> str:
        """``"a.parquet row group 3"`` / ``"b.csv block 2"``: a unit as messages name it."""
        name = Path(self.files[unit.file]).name
        return f"{name} {'row group' if self.kind == 'parquet' else 'block'} {unit.chunk}"

    def row_namer(self, unit: Unit, ids: Any) -> RowNamer:
        """Names rows by global ``ids`` of ``unit``'s file: ``"a.parquet row 7"``, ``"b.csv line 9"`` (1-based / file lines)."""
        first = next(u.start for u in self.units if u.file == unit.file)
        word, start = ("line", 2) if self.kind == "csv" else ("row", 1)
        positions = tuple(int(i) - first for i in ids)
        return RowNamer(f"{Path(self.files[unit.file]).name} {word}", start, positions=positions)

    def reader(self) -> UnitReader:
        """A reader of this manifest's units (one per process or worker: it keeps files open)."""
        return UnitReader(self)


def _parquet_layout(path: Path) -> tuple[pa.Schema, list[int]]:
    try:
        meta = pq.ParquetFile(path).metadata
        return meta.schema.to_arrow_schema(), [meta.row_group(g).num_rows for g in range(meta.num_row_groups)]
    except (OSError, pa.ArrowException) as exc:
        raise DataError(
            f"Cannot read the Parquet footer (its row group list) of {path}: {exc}",
            fix="the file is truncated or not Parquet; write it again (pyarrow.parquet.write_table) or remove it.",
            code="unreadable-table",
        ) from None


def _csv_layout(
    path: Path, block_size: int, first: pa.Schema | None, markers: dict[str, dict[str, int]]
) -> tuple[pa.Schema, list[int]]:
    """The file's schema (inferred from its first block) and the rows of each block.

    The counting pass converts only the first column, and the columns that missing-value markers made
    numeric (in ``first``, the first file's schema, where given), read as text to count the markers into
    ``markers``.
    """
    try:
        inferred = _infer_schema(path, block_size)
        schema = first if first is not None and first.names == inferred.names else inferred
        plain = _open_csv(path, block_size, None, include=None, nulls=ARROW_NULLS).schema
        marked = [
            f.name
            for f in schema
            if f.name in plain.names and is_text(plain.field(f.name).type) and not is_text(f.type)
        ]
        types = {schema.names[0]: schema.types[0], **dict.fromkeys(marked, pa.string())}
        reader = _open_csv(path, block_size, None, include=list(types), types=types)
        sizes = []
        for batch in reader:
            sizes.append(batch.num_rows)
            for name in marked:
                count_markers(batch.column(name), markers.setdefault(name, {}))
        return inferred, sizes
    except (OSError, pa.ArrowException) as exc:
        raise DataError(
            f"Cannot read {path}: {exc}",
            fix="check the file is a well-formed CSV (one header line, the same number of fields per line).",
            code="unreadable-table",
        ) from None


def _infer_schema(path: Path, block_size: int) -> pa.Schema:
    inferred = _open_csv(path, block_size, None, include=None).schema  # from the first block
    # integers may turn out to be decimals in a later block: read them as float64 from the start
    return pa.schema([pa.field(f.name, pa.float64()) if pa.types.is_integer(f.type) else f for f in inferred])


def _open_csv(
    path: Path,
    block_size: int,
    schema: pa.Schema | None,
    include: list[str] | None,
    *,
    types: dict[str, pa.DataType] | None = None,
    nulls: Sequence[str] = (*ARROW_NULLS, *MARKER_SPELLINGS),
) -> Any:
    """The streaming CSV reader (pyarrow's); ``nulls`` are missing in non-text columns (text keeps them)."""
    tab = str(path).lower().endswith(".tsv")
    convert = pacsv.ConvertOptions(
        column_types=dict(zip(schema.names, schema.types)) if schema is not None else types,
        include_columns=include,
        null_values=list(nulls),
    )
    return pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=block_size, use_threads=False),
        parse_options=pacsv.ParseOptions(delimiter="\t" if tab else ","),
        convert_options=convert,
    )


def _same_columns(schema: pa.Schema | None, other: pa.Schema, path: Path, first: Path) -> pa.Schema:
    if schema is None:
        return other
    if list(other.names) != list(schema.names):
        extra = sorted(set(other.names) ^ set(schema.names)) or ["(the same names, in another order)"]
        raise DataError(
            f"{path} has other columns than {first}: {', '.join(map(str, extra))}.",
            fix="give files with the same columns in the same order (one table split into files).",
            code="schema-mismatch",
        )
    return schema


class UnitReader:
    """Reads units of a manifest as record batches; keeps the last file open (one reader per process or worker)."""

    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest
        self._parquet: OrderedDict[int, pq.ParquetFile] = OrderedDict()
        self._csv: dict[int, tuple[Any, int, tuple[str, ...] | None]] = {}

    def read(self, unit: Unit, columns: Sequence[str] | None = None) -> Iterator[tuple[int, pa.RecordBatch]]:
        """``(global id of the first row, batch)`` pairs covering ``unit`` in order (``columns`` only, if given).

        Raises:
            DataError: naming the file and the row group / block that cannot be read.
        """
        m = self.manifest
        try:
            if m.kind == "parquet":
                yield from self._read_parquet(unit, columns)
            else:
                yield from self._read_csv(unit, columns)
        except (OSError, pa.ArrowException) as exc:
            self._parquet.pop(unit.file, None)
            self._csv.pop(unit.file, None)
            raise DataError(
                f"Cannot read {m.files[unit.file]} ({m.describe(unit).split(' ', 1)[1]}): {exc}",
                fix="the file is damaged or was changed after the table was scanned; write it again or remove it.",
                code="unreadable-table",
            ) from None

    def _read_parquet(
        self, unit: Unit, columns: Sequence[str] | None
    ) -> Iterator[tuple[int, pa.RecordBatch]]:
        f = self._parquet.pop(unit.file, None)
        if f is None:
            f = pq.ParquetFile(self.manifest.files[unit.file], page_checksum_verification=True)
        self._parquet[unit.file] = f
        while len(self._parquet) > _OPEN_FILES:
            self._parquet.popitem(last=False)
        start = unit.start
        cols = list(columns) if columns is not None else None
        for batch in f.iter_batches(
            batch_size=self.manifest.read_rows, row_groups=[unit.chunk], columns=cols
        ):
            yield start, batch
            start += batch.num_rows
        if start != unit.start + unit.rows:
            raise pa.ArrowInvalid(f"read {start - unit.start} rows where the footer lists {unit.rows}")

    def _read_csv(self, unit: Unit, columns: Sequence[str] | None) -> Iterator[tuple[int, pa.RecordBatch]]:
        m, key = self.manifest, tuple(columns) if columns is not None else None
        reader, next_chunk, cols = self._csv.get(unit.file, (None, 0, None))
        if reader is None or next_chunk > unit.chunk or cols != key:
            reader = _open_csv(Path(m.files[unit.file]), m.block_size, m.schema, list(key) if key else None)
            next_chunk = 0
        while next_chunk < unit.chunk:  # blocks before this unit: parsed, not kept
            reader.read_next_batch()
            next_chunk += 1
        batch = reader.read_next_batch()
        self._csv[unit.file] = (reader, next_chunk + 1, key)
        if batch.num_rows != unit.rows:
            raise pa.ArrowInvalid(f"block has {batch.num_rows} rows where the scan counted {unit.rows}")
        for offset in range(0, batch.num_rows, m.read_rows):
            yield unit.start + offset, batch.slice(offset, m.read_rows)
