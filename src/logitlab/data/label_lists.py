"""Label lists in one column: ``"a|b"`` strings, list literals (``'["a", "b"]'``), Python lists, and a separator other than the one given.

Examples:
    >>> from logitlab.data.label_parsing import label_array
    >>> from logitlab.data.row_names import INDEX
    >>> label_lists(label_array(["a|b", "b"], INDEX, sep="|"), "|", None)
    [['a', 'b'], ['b']]
"""

from __future__ import annotations

import ast
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import DataError
from ..tasks import Task
from .label_parsing import json_scalar

__all__ = [
    "LIST_SEPARATORS",
    "label_lists",
    "list_literals",
    "other_list_separator",
    "refuse_other_separator",
]


def label_lists(values: np.ndarray, sep: str, task: Task | None) -> list[list[str]] | None:
    """Rows as lists of label names, when ``values`` holds lists or ``sep``-joined strings."""
    if values.ndim != 1:
        return None
    flat = list(values)
    if any(isinstance(v, (list, tuple, set, frozenset, np.ndarray)) for v in flat):
        return [
            sorted({str(x).strip() for x in v}) if not isinstance(v, str) else _split(v, sep) for v in flat
        ]
    literals = list_literals(flat)
    if literals is not None:
        return literals
    if task is Task.MULTILABEL:  # one label (or a sep-joined list) per row
        return [_split(str(json_scalar(v)), sep) for v in flat]
    if all(isinstance(v, str) for v in flat) and any(sep in v for v in flat):
        return [_split(v, sep) for v in flat]
    return None


def list_literals(values: Sequence[Any]) -> list[list[str]] | None:
    """Rows as label lists when every value is a JSON or Python list literal (``'["a", "b"]'``, ``"['a']"``).

    The text is parsed as data only (``json.loads``, else ``ast.literal_eval``; nothing is evaluated) and
    must be a flat list of strings or integers; an empty string is an empty list. ``None`` when some
    value is not bracketed (then the values are not list literals at all).

    Raises:
        DataError: a bracketed value that is not a flat list of strings or integers (naming it).

    Examples:
        >>> list_literals(['["b", "a"]', "['c']", "[]", ""])
        [['a', 'b'], ['c'], [], []]
        >>> list_literals(["[a", "b]"]) is None
        True
    """
    texts = [v.strip() for v in values if isinstance(v, str)]
    if len(texts) != len(values) or not any(texts):
        return None
    if not all(t.startswith("[") and t.endswith("]") for t in texts if t):
        return None
    return [_parse_list_literal(t, i) if t else [] for i, t in enumerate(texts)]


def _parse_list_literal(text: str, i: int) -> list[str]:
    parsed: Any
    try:
        parsed = json.loads(text)
    except ValueError:
        try:
            parsed = ast.literal_eval(text)  # literals only: never calls or names
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            parsed = None
    items = parsed if isinstance(parsed, list) else None
    if items is None or not all(isinstance(x, (str, int)) and not isinstance(x, bool) for x in items):
        raise DataError(
            f"Label value {text[:80]!r} (position {i}) looks like a list literal but is not a flat list of "
            "strings or integers.",
            fix='write each row\'s labels as a JSON list of names (["a", "b"]) or join them with label_sep '
            '("a|b").',
            code="bad-label-list",
        )
    return sorted({str(x).strip() for x in items if str(x).strip()})


def _split(s: str, sep: str) -> list[str]:
    return sorted({p.strip() for p in s.split(sep) if p.strip()})


LIST_SEPARATORS: tuple[str, ...] = ("|", ",", ";")
"""Separators a column of label lists is checked for when ``label_sep`` splits none of its values."""


def other_list_separator(values: np.ndarray, sep: str) -> str | None:
    """The separator of :data:`LIST_SEPARATORS` (not ``sep``) that ``values`` look joined by, if any.

    Strings look like label lists joined by ``c`` when at least two distinct values join parts by ``c`` and
    their parts recombine: fewer distinct parts than distinct values (``"a,b"``, ``"a"``, ``"b,c"``
    are three values of three parts: one more value would tip it; ``"Smith, J"`` / ``"Doe, K"`` never do).

    Examples:
        >>> other_list_separator(np.array(["ins,emerg", "ins", "emerg", "ins,dental", "dental"]), "|")
        ','
        >>> other_list_separator(np.array(["Smith, J", "Doe, K"]), "|") is None
        True
    """
    flat = [v for v in values.reshape(-1) if isinstance(v, str)]
    if len(flat) != values.size:
        return None
    distinct = set(flat)
    for c in LIST_SEPARATORS:
        if c == sep:
            continue
        joined = [v for v in distinct if sum(bool(p.strip()) for p in v.split(c)) >= 2]
        if len(joined) < 2:
            continue
        parts = {p.strip() for v in distinct for p in v.split(c) if p.strip()}
        if len(parts) < len(distinct):
            return c
    return None


def refuse_other_separator(values: np.ndarray, label_sep: str) -> None:
    """Labels like ``"insurance,emergency"`` are label lists joined by another separator: say so."""
    other = other_list_separator(values, label_sep)
    if other is None:
        return
    joined = sorted({str(v) for v in values if other in str(v)})
    n_classes = len({str(v) for v in values})
    raise DataError(
        f"The labels look like lists joined by {other!r}, not by label_sep={label_sep!r}: "
        f"{', '.join(map(repr, joined[:3]))} would be {n_classes} classes of their own.",
        fix=f"pass label_sep={other!r} for a multi-label task, or task='multiclass' to keep each "
        "combination as one class.",
        code="label-sep-mismatch",
        param="label_sep",
    )
