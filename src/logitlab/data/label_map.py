"""``label_map`` (``--label-map``): several spellings of one label mapped to one value before encoding.

A map is a dict of label text -> value, or its text: ``"yes=1,Yes=1,no=0"`` (comma-separated
``spelling=value`` pairs; the value is kept as text) or a JSON object ``'{"Yes": "yes", "0.0": 0}'``
(for spellings that hold ``,`` or ``=``). A label matches a key by its text, trimmed (``0.0`` the number
is ``"0.0"``, ``True`` is ``"True"``); labels no key names stay as they are, and each label of a label
list (``"Yes|cat"``, ``["Yes", "cat"]``) is mapped on its own. When the mapped labels mix text and numbers,
all become text (``"1"`` and ``1`` are then one class). :class:`~logitlab.data.LabelEncoder` keeps the map
and applies it at ``transform`` too, so a saved model maps the labels of the files it evaluates.

Examples:
    >>> parse_label_map("yes=1, Yes=1 ,no=0")
    {'yes': '1', 'Yes': '1', 'no': '0'}
    >>> map_labels(np.array(["yes", "Yes", "no"], dtype=object), {"Yes": "yes"}, "|").tolist()
    ['yes', 'yes', 'no']
    >>> map_text({"0.0": "0", "False": "0"}), map_text({"a,b": "a"})
    ('0.0=0,False=0', '{"a,b": "a"}')
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import ConfigError, LogitlabWarning
from .label_parsing import json_scalar

__all__ = ["label_texts", "map_labels", "map_text", "parse_label_map", "spelling_groups", "suggested_map"]

_EXAMPLE = "label_map='yes=1,Yes=1,no=0' (or a JSON object such as '{\"Yes\": \"yes\"}')"


def _bad(what: str) -> ConfigError:
    return ConfigError(
        f"Expected argument `label_map` to map label spellings to one value; {what}.",
        fix=f"pass {_EXAMPLE}: each key a label as the column spells it, each value a non-empty name or number.",
        code="bad-label-map",
        param="label_map",
    )


def parse_label_map(value: Any) -> dict[str, Any] | None:
    """The map as a dict of trimmed label text -> JSON scalar, or ``None`` when no map is given.

    Raises:
        ConfigError: ``bad-label-map`` (naming ``label_map``): not a dict or its text, an empty map or key,
            a pair without ``=``, a value that is not a non-empty string, a number or a bool.
    """
    if value is None:
        return None
    if isinstance(value, str):
        value = _parse_text(value)
    if not isinstance(value, Mapping):
        raise _bad(f"got {type(value).__name__} {str(value)[:60]!r}")
    if not value:
        raise _bad("got an empty map")
    out: dict[str, Any] = {}
    for key, to in value.items():
        if not isinstance(key, (str, int, float, bool, np.generic)) or not str(json_scalar(key)).strip():
            raise _bad(f"got the key {key!r}: a key is a label, never empty")
        out[str(json_scalar(key)).strip()] = _value(key, json_scalar(to))
    return out


def _parse_text(text: str) -> Any:
    body = text.strip()
    if not body:
        raise _bad("got an empty map")
    if body.startswith("{"):
        try:
            return json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise _bad(f"got {body[:60]!r}, which is not a JSON object ({exc})") from None
    pairs: dict[str, str] = {}
    for part in body.split(","):
        if "=" not in part:
            raise _bad(f"got {part.strip()[:60]!r} in {body[:60]!r}, not a spelling=value pair")
        key, _, to = part.partition("=")
        pairs[key.strip()] = to.strip()
    return pairs


def _value(key: Any, to: Any) -> Any:
    ok = isinstance(to, (str, bool, int, float)) and (not isinstance(to, float) or math.isfinite(to))
    if not ok or (isinstance(to, str) and not to.strip()):
        raise _bad(f"got {to!r} for {key!r}: a value is a non-empty name or a finite number")
    return to.strip() if isinstance(to, str) else to


def _text(v: Any) -> str:
    return str(json_scalar(v)).strip()


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, (float, np.floating)) and bool(np.isnan(v)))


def _map_one(v: Any, mapping: Mapping[str, Any], sep: str | None) -> Any:
    if isinstance(v, (list, tuple, set, frozenset, np.ndarray)):
        return [mapping.get(_text(x), x) for x in v]
    if _missing(v):
        return v
    key = _text(v)
    if key in mapping:
        return mapping[key]
    if sep and isinstance(v, str) and sep in v:  # a label list "a|b": each label on its own
        return sep.join(str(mapping.get(p.strip(), p.strip())) for p in v.split(sep))
    return v


def map_labels(values: np.ndarray, mapping: Mapping[str, Any] | None, sep: str | None) -> np.ndarray:
    """``values`` (1-D labels or label lists) with each mapped label replaced; a 2-D 0/1 matrix is kept."""
    if not mapping or values.ndim != 1:
        return values
    out = np.empty(len(values), dtype=object)
    out[:] = [_map_one(v, mapping, sep) for v in values]
    scalars = [v for v in out if not isinstance(v, list) and not _missing(v)]
    if any(isinstance(v, str) for v in scalars) and not all(isinstance(v, str) for v in scalars):
        out[:] = [v if isinstance(v, list) or _missing(v) else _text(v) for v in out]
    return out


def label_texts(values: np.ndarray, sep: str | None) -> set[str]:
    """The text of every label in ``values`` (and of each label of a label list), as map keys match them."""
    seen: set[str] = set()
    for v in values.reshape(-1):
        if isinstance(v, (list, tuple, set, frozenset, np.ndarray)):
            seen.update(_text(x) for x in v)
        elif not _missing(v):
            seen.add(_text(v))
            if sep and isinstance(v, str) and sep in v:
                seen.update(p.strip() for p in v.split(sep))
    return seen


def check_keys(values: np.ndarray, mapping: Mapping[str, Any], sep: str | None) -> None:
    """Refuse a map none of whose keys is a label (``bad-label-map``); warn of the keys that are none."""
    seen = label_texts(values, sep)
    unused = [k for k in mapping if k not in seen]
    if len(unused) == len(mapping):
        shown = ", ".join(repr(v) for v in sorted(seen)[:8])
        raise _bad(f"none of its keys {unused[:8]} is a label of the target column (its labels: {shown})")
    if unused:
        warnings.warn(
            f"label_map keys that are no label of the target column (left unused): {unused[:8]}",
            LogitlabWarning,
            stacklevel=3,
        )


def suggested_map(groups: Sequence[Sequence[tuple[Any, int]]]) -> dict[str, Any]:
    """Each spelling of a group mapped to the group's most frequent spelling (the first on a tie)."""
    out: dict[str, Any] = {}
    for group in groups:
        target = max(group, key=lambda uc: uc[1])[0]
        out.update({_text(u): json_scalar(target) for u, _ in group if u is not target})
    return out


def map_text(mapping: Mapping[str, Any]) -> str:
    """The ``--label-map`` text of ``mapping``: ``a=b,c=d``, or JSON when a spelling holds ``,`` ``=`` or a quote."""
    pairs = [(str(k), str(v)) for k, v in mapping.items()]
    if any(c in text for pair in pairs for text in pair for c in ",='\"{}") or any(
        text != text.strip() for pair in pairs for text in pair
    ):
        return json.dumps(dict(mapping), ensure_ascii=False)
    return ",".join(f"{k}={v}" for k, v in pairs)


def spelling_groups(uniq: Sequence[Any], counts: Sequence[int]) -> list[str]:
    """A note (also warned) when distinct labels look like spellings of one value.

    Labels are compared after Unicode NFKC normalisation, trimming and case folding, with numbers by value
    and ``true``/``yes`` as 1, ``false``/``no`` as 0: ``0 / 0.0 / False``, ``Yes / yes``, a full-width
    ``Ｙｅｓ``. They stay separate classes (a text label is a name, and predictions write it back as it
    was given); the note (a :class:`~logitlab.errors.LogitlabWarning` too) counts each spelling so that
    the column can be corrected.

    Examples:
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     print(spelling_groups(["0", "0.0", "1", "True"], [50, 3, 40, 2])[0])
        labels that look like one value spelled differently are separate classes: '0' (50 rows) = '0.0' (3 rows); '1' (40 rows) = 'True' (2 rows); map each to one spelling with label_map='0.0=0,True=1' (or write each value one way in the target column)
    """
    groups: dict[str, list[tuple[Any, int]]] = {}
    for u, c in zip(uniq, counts):
        groups.setdefault(_spelling_key(u), []).append((json_scalar(u), int(c)))
    mixed = [g for g in groups.values() if len(g) > 1]
    if not mixed:
        return []
    shown = "; ".join(" = ".join(f"{str(u)!r} ({c} rows)" for u, c in g) for g in mixed[:5])
    note = (
        f"labels that look like one value spelled differently are separate classes: {shown}; "
        f"map each to one spelling with label_map={map_text(suggested_map(mixed))!r} (or write each "
        "value one way in the target column)"
    )
    warnings.warn(note, LogitlabWarning, stacklevel=5)
    return [note]


_TRUE_WORDS = frozenset({"true", "yes"})
_FALSE_WORDS = frozenset({"false", "no"})


def _spelling_key(value: Any) -> str:
    import math
    import unicodedata

    text = unicodedata.normalize("NFKC", str(json_scalar(value))).strip().casefold()
    if text in _TRUE_WORDS:
        return "1"
    if text in _FALSE_WORDS:
        return "0"
    try:
        number = float(text)
    except ValueError:
        return text
    if math.isfinite(number) and number == int(number):
        return str(int(number))
    return repr(number)
