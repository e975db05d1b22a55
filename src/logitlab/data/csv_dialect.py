r"""How a CSV file is written: its text encoding (and byte-order mark), separator and decimal mark.

:func:`sniff_csv` looks at the file once and says what it chose, so a semicolon-separated export
with decimal commas, or a Windows-1252 file, is read as such rather than as one column of garbled
text. The encoding: a byte-order mark decides (UTF-8 or UTF-16); else the file is UTF-8 when every
byte decodes, else Windows-1252 (Latin-1 for the bytes cp1252 leaves undefined). The separator: the
one of :data:`SEPARATORS` that splits the first lines into the same number (> 1) of fields, the
comma on a tie. A given ``sep`` or ``encoding`` is used as it is.

Examples:
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "eu.csv"
    >>> _ = path.write_bytes("nom;prix\ncafé;1,5\nthé;2,25\n".encode("cp1252"))
    >>> d = sniff_csv(path)
    >>> d.sep, d.decimal, d.encoding
    (';', ',', 'cp1252')
    >>> print(d.note(path.name))
    eu.csv read with separator ';', decimal mark ',', encoding 'cp1252' (not valid UTF-8: byte 0xe9 at offset 12); pass sep= / encoding= to choose
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, DataError

__all__ = ["SEPARATORS", "Dialect", "header_names", "sniff_csv"]

SEPARATORS: tuple[str, ...] = (",", ";", "\t", "|")
"""The separators :func:`sniff_csv` tries, in order of preference on a tie."""

_SAMPLE_BYTES = 1 << 16
_CHUNK = 1 << 20
_SAMPLE_LINES = 50
_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")
_DECIMAL_POINT = re.compile(r"^-?\d+\.\d+$")


@dataclass(frozen=True)
class Dialect:
    """What :func:`sniff_csv` chose for one file.

    Attributes:
        sep (str): the field separator.
        encoding (str): the Python codec name (``"utf-8-sig"`` when a UTF-8 byte-order mark is present).
        decimal (str): the decimal mark of numbers (``","`` in semicolon files with decimal commas).
        why (str): why a non-UTF-8 encoding was chosen. Default: ``""``.
    """

    sep: str = ","
    encoding: str = "utf-8"
    decimal: str = "."
    why: str = ""

    @property
    def is_default(self) -> bool:
        """A plain comma-separated UTF-8 file (nothing worth a note)."""
        return (self.sep, self.encoding, self.decimal) == (",", "utf-8", ".")

    def note(self, name: str) -> str:
        """One line saying how the file is read."""
        parts = [f"separator {self.sep!r}"]
        if self.decimal != ".":
            parts.append(f"decimal mark {self.decimal!r}")
        parts.append(f"encoding {self.encoding!r}" + (f" ({self.why})" if self.why else ""))
        return f"{name} read with {', '.join(parts)}; pass sep= / encoding= to choose"


def sniff_csv(
    path: str | Path, *, sep: str | None = None, encoding: str | None = None, default_sep: str = ","
) -> Dialect:
    """The encoding, separator and decimal mark of a CSV file (see the module docstring).

    Args:
        path (str or Path): the file.
        sep (str, optional): the separator, used as given. Default: sniffed.
        encoding (str, optional): a Python codec name, used as given. Default: sniffed.
        default_sep (str): the separator when no candidate splits the lines (a tab for ``.tsv``).
            Default: ``","``.

    Raises:
        ConfigError: an unknown ``encoding`` or an empty ``sep``.
        DataError: the file does not decode with the given ``encoding`` (naming the byte).
    """
    path = Path(path)
    if sep is not None and (not isinstance(sep, str) or len(sep) != 1):
        raise ConfigError(
            f"Expected argument `sep` to be one character; got {sep!r}.",
            fix="use sep=';' (or leave it out to detect the separator).",
            code="bad-param",
            param="sep",
        )
    enc, why = _encoding(path, encoding)
    with path.open("r", encoding=enc, newline="") as handle:
        sample = handle.read(_SAMPLE_BYTES)
    lines = sample.splitlines()[:_SAMPLE_LINES]
    if len(sample) >= _SAMPLE_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line of a cut sample may be partial
    chosen = sep if sep is not None else _separator(lines, default_sep)
    return Dialect(chosen, enc, _decimal(lines, chosen), why)


def header_names(path: str | Path, dialect: Dialect) -> list[str]:
    """The column names of the header line as written (pandas renames repeated names; this does not)."""
    with Path(path).open("r", encoding=dialect.encoding, newline="") as handle:
        first = next(csv.reader(handle, delimiter=dialect.sep), [])
    return [name.strip() for name in first]


def _encoding(path: Path, encoding: str | None) -> tuple[str, str]:
    """The codec to read ``path`` with, and why when it is not UTF-8."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if encoding is not None:
        try:
            info = codecs.lookup(encoding)
            if not getattr(info, "_is_text_encoding", True):  # rot13, base64, zlib: codecs, not encodings
                raise LookupError(encoding)
            name = info.name
        except (LookupError, TypeError):
            raise ConfigError(
                f"Unknown text encoding {encoding!r} (a text encoding turns bytes into text; "
                "rot13, base64 and zlib are other codecs).",
                fix="use encoding='utf-8', 'cp1252' or 'latin-1' (any Python codec name).",
                code="bad-param",
                param="encoding",
            ) from None
        bad = _first_undecodable(path, name)
        if bad is not None:
            raise DataError(
                f"{path.name} is not valid {encoding!r} text: {bad}.",
                fix="pass the file's encoding, e.g. encoding='cp1252' (or leave it out to detect it).",
                code="bad-encoding",
                param="encoding",
            )
        return name, ""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", ""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", ""
    bad = _first_undecodable(path, "utf-8")
    if bad is None:
        return "utf-8", ""
    fallback = "cp1252" if _first_undecodable(path, "cp1252") is None else "latin-1"
    return fallback, f"not valid UTF-8: {bad}"


def _first_undecodable(path: Path, encoding: str) -> str | None:
    """Where ``path`` first fails to decode with ``encoding`` (``"byte 0xe9 at offset 12"``), or ``None``."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(_CHUNK)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                return f"byte 0x{exc.object[exc.start]:02x} at offset {offset + exc.start}"
            if not chunk:
                return None
            offset += len(chunk)


def _separator(lines: list[str], default: str) -> str:
    """The candidate giving every sampled line the same number (> 1) of fields; else the one with the most."""
    if not lines:
        return default
    best: tuple[int, int, int] | None = None
    chosen = default
    for rank, candidate in enumerate(SEPARATORS):
        counts = [len(row) for row in csv.reader(io.StringIO("\n".join(lines)), delimiter=candidate) if row]
        if not counts or counts[0] < 2:
            continue
        consistent = int(all(c == counts[0] for c in counts))
        score = (consistent, counts[0] if consistent else 0, -rank if candidate != default else 1)
        if best is None or score > best:
            best, chosen = score, candidate
    if best is not None and not best[0]:  # no candidate is consistent: the one with the widest header
        widths = {c: len(next(csv.reader([lines[0]], delimiter=c), [])) for c in SEPARATORS}
        chosen = max(SEPARATORS, key=lambda c: (widths[c], c == default))
    return chosen


def _decimal(lines: list[str], sep: str) -> str:
    """``","`` when a non-comma-separated sample holds numbers like ``1,5`` and none like ``1.5``."""
    if sep == ",":
        return "."
    fields = [f.strip() for row in csv.reader(io.StringIO("\n".join(lines[1:])), delimiter=sep) for f in row]
    commas = sum(bool(_DECIMAL_COMMA.match(f)) for f in fields)
    points = sum(bool(_DECIMAL_POINT.match(f)) for f in fields)
    return "," if commas and not points else "."
