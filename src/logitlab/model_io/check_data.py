"""The checks of ``model.json``'s ``preprocessing`` and ``feature_names`` (see :mod:`logitlab.model_io.check`).

Every column, scaling and statistic of the saved preprocessing, its label encoder against the top
level, and its width against ``input_shape``: a contradiction is a
:class:`~logitlab.errors.ModelFileError` naming the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..options import LABEL_SEP
from ._fields import check_encoder, check_numbers, expect, is_int, json_text

__all__ = ["MAX_IMAGE_PIXELS", "MAX_IMAGE_SIDE", "check_preprocessing"]

MAX_IMAGE_SIDE = 1 << 16
"""The largest image height or width a saved model's ``input_shape`` may hold (the stored tensors do
not bound it: convolutions do not depend on the image size)."""
MAX_IMAGE_PIXELS = 1 << 26
"""The most pixels (height x width, 8192 x 8192) of a saved model's images: each image read at predict time
is resized to that size, so a larger one is refused before any is read."""


def _check_tabular(pre: dict[str, Any], field: str) -> tuple[list[str], list[str], int]:
    from ..data.date_columns import CALENDAR_PARTS
    from ..options import NUMERIC_SCALINGS

    columns, width = [], 0
    for part in ("numeric", "datetime", "categorical"):
        items: Any = pre.get(part, [] if part == "datetime" else None)
        expect(isinstance(items, list), f"{field}.{part}", items, "a list of columns")
        for i, col in enumerate(items):
            where = f"{field}.{part}[{i}]"
            expect(
                isinstance(col, dict) and isinstance(col.get("name"), str), where, col, "a column with a name"
            )
            columns.append(col["name"])
            if part == "numeric":
                scaling = col.get("scaling", "standard")
                expect(scaling in NUMERIC_SCALINGS, f"{where}.scaling", scaling, f"one of {NUMERIC_SCALINGS}")
                check_numbers([col.get("fill"), col.get("mean")], f"{where}.fill/mean", 2)
                check_numbers([col.get("scale")], f"{where}.scale", 1, positive=True)
                q = col.get("quantiles")
                if scaling == "quantile" or q is not None:
                    check_numbers(q, f"{where}.quantiles")
                    expect(
                        len(q) >= 2 and q == sorted(q), f"{where}.quantiles", q, "2 or more ascending numbers"
                    )
                width += 1
            elif part == "datetime":
                for key in ("fill", "mean"):
                    check_numbers(col.get(key), f"{where}.{key}", len(CALENDAR_PARTS))
                check_numbers(col.get("scale"), f"{where}.scale", len(CALENDAR_PARTS), positive=True)
                width += len(CALENDAR_PARTS)
            else:
                cats = col.get("categories")
                ok = (
                    isinstance(cats, list)
                    and all(isinstance(c, str) for c in cats)
                    and len(set(cats)) == len(cats)
                )
                expect(ok, f"{where}.categories", cats, "distinct strings")
                expect(isinstance(col.get("fill"), str), f"{where}.fill", col.get("fill"), "a string")
                width += len(cats)
    twice = sorted({c for c in columns if columns.count(c) > 1})
    expect(not twice, f"{field}.numeric/categorical/datetime", twice, "each column once")
    dropped = pre.get("dropped", [])
    expect(
        isinstance(dropped, list) and all(isinstance(c, str) for c in dropped),
        f"{field}.dropped",
        dropped,
        "names",
    )
    return columns, dropped, width


def _ngrams(v: Any) -> bool:
    return isinstance(v, list) and len(v) == 2 and all(is_int(n, 1, 10) for n in v) and v[0] <= v[1]


def _check_text_table(pre: dict[str, Any], field: str) -> tuple[list[str], list[str], int]:
    """A table with text columns (:class:`~logitlab.data.text.TextTablePreprocessor`).

    The table part, then each text column's settings, vocabulary and idf weights.
    """
    from ..options import TEXT_VECTORIZER

    table = pre.get("table")
    columns, dropped, width = _check_tabular(table, f"{field}.table") if table else ([], [], 0)
    text: Any = pre.get("text")
    expect(isinstance(text, list) and len(text) > 0, f"{field}.text", text, "a list of text columns")
    for i, col in enumerate(text):
        where = f"{field}.text[{i}]"
        expect(isinstance(col, dict) and isinstance(col.get("name"), str), where, col, "a column with a name")
        columns.append(col["name"])
        settings = col.get("settings")
        expect(isinstance(settings, dict) and set(settings) == set(TEXT_VECTORIZER), f"{where}.settings",
               settings, f"the settings {', '.join(TEXT_VECTORIZER)}")  # fmt: skip
        expect(
            _ngrams(settings["word_ngrams"]),
            f"{where}.settings.word_ngrams",
            settings["word_ngrams"],
            "[1, 2]",
        )
        chars = settings["char_ngrams"]
        expect(chars is None or _ngrams(chars), f"{where}.settings.char_ngrams", chars, "null or [2, 5]")
        for key in ("min_df", "max_word_features", "max_char_features"):
            expect(is_int(settings[key]), f"{where}.settings.{key}", settings[key], "a positive int")
        expect(isinstance(settings["sublinear_tf"], bool), f"{where}.settings.sublinear_tf", settings["sublinear_tf"], "a bool")  # fmt: skip
        for part in ("word", "char"):
            terms, idf = col.get(f"{part}_terms", []), col.get(f"{part}_idf", [])
            ok = (
                isinstance(terms, list)
                and all(isinstance(t, str) for t in terms)
                and len(set(terms)) == len(terms)
            )
            expect(ok, f"{where}.{part}_terms", terms, "distinct strings")
            check_numbers(idf, f"{where}.{part}_idf", len(terms), positive=True)
            width += len(terms)
    twice = sorted({c for c in columns if columns.count(c) > 1})
    expect(not twice, f"{field}.table/text", twice, "each column once")
    return columns, dropped, width


def check_preprocessing(meta: Mapping[str, Any]) -> None:
    """``preprocessing`` and ``feature_names`` of a schema-valid ``model.json``; a ``ModelFileError`` names the field."""
    state, shape = meta["preprocessing"], meta["input_shape"]
    expect(
        state.get("kind") in ("tabular", "image"),
        "preprocessing.kind",
        state.get("kind"),
        "'tabular' or 'image'",
    )
    expect(state.get("task") == meta["task"], "preprocessing.task", state.get("task"), f"{meta['task']!r}")
    check_encoder(state.get("label_encoder"), "preprocessing.label_encoder", meta)
    keys = ("task", "classes", "positive", "label_sep", "soft", "output_name", "label_map")
    inner, outer = state["label_encoder"], meta["label_encoder"]
    for key in keys:
        default = {"label_sep": LABEL_SEP, "soft": False}.get(key)
        a, b = inner.get(key, default), outer.get(key, default)
        expect(
            json_text(a) == json_text(b),
            f"preprocessing.label_encoder.{key}",
            a,
            f"{b!r} as in `label_encoder`",
        )
    expect(
        state.get("input_shape") == shape, "preprocessing.input_shape", state.get("input_shape"), f"{shape}"
    )
    expect(
        isinstance(state.get("options", {}), dict), "preprocessing.options", state.get("options"), "an object"
    )
    pre, field = state.get("preprocessor"), "preprocessing.preprocessor"
    expect(isinstance(pre, dict), field, pre, "the preprocessor object logitlab saves")
    kind, names = pre.get("type"), meta["feature_names"]
    size = math.prod(shape)
    if kind in ("tabular", "text_table"):
        check_table = _check_tabular if kind == "tabular" else _check_text_table
        columns, dropped, width = check_table(pre, field)
        expect(width == size, "input_shape", shape, f"[{width}], the width of the preprocessing's output")
        if names is not None:
            ok = all(isinstance(n, str) for n in names) and len(set(names)) == len(names)
            ok = ok and set(columns) <= set(names) <= set(columns) | set(dropped)
            expect(
                ok, "feature_names", names, f"the preprocessing's columns {columns} (and dropped {dropped})"
            )
    elif kind == "array":
        expect(pre.get("shape") == shape, f"{field}.shape", pre.get("shape"), f"{shape} (input_shape)")
        n = shape[0] if len(shape) > 1 else size  # per channel for images, per feature for tables
        for key in ("mean", "fill"):
            if key == "mean" or pre.get(key) is not None:
                check_numbers(pre.get(key), f"{field}.{key}", n)
        check_numbers(pre.get("scale"), f"{field}.scale", n, positive=True)
        check_numbers([pre.get("multiplier", 1.0)], f"{field}.multiplier", 1, positive=True)
        expect(names is None or len(names) == size, "feature_names", names, f"null or {size} names")
    elif kind == "hf_text":
        _check_hf_text(pre, field, shape, names)
    elif kind == "image":
        channels, side = pre.get("channels"), pre.get("size")
        expect(is_int(channels), f"{field}.channels", channels, "a positive int")
        ok = isinstance(side, list) and len(side) == 2 and all(is_int(s, 1, MAX_IMAGE_SIDE) for s in side)
        ok = ok and side[0] * side[1] <= MAX_IMAGE_PIXELS
        expect(
            ok and [channels, *side] == shape,
            f"{field}.size",
            side,
            f"[height, width] of input_shape {shape}",
        )
        check_numbers(pre.get("mean"), f"{field}.mean", channels)
        check_numbers(pre.get("std"), f"{field}.std", channels, positive=True)
        expect(names is None, "feature_names", names, "null (an image model)")
    else:
        expect(False, f"{field}.type", kind, "'tabular', 'text_table', 'array', 'image' or 'hf_text'")


def _check_hf_text(pre: dict[str, Any], field: str, shape: list[int], names: Any) -> None:
    """A tokenised text column: its column, ``max_length``, pad token, and the one tokenizer file it may name."""
    import re

    from ..data.hf_text import TOKENIZER_FILE

    column = pre.get("column")
    expect(isinstance(column, str), f"{field}.column", column, "a column name")
    expect(len(shape) == 1 and pre.get("max_length") == shape[0], f"{field}.max_length", pre.get("max_length"),
           f"{shape[0]} (input_shape)")  # fmt: skip
    expect(is_int(pre.get("pad_token_id"), 0), f"{field}.pad_token_id", pre.get("pad_token_id"), "a token id")
    name = pre.get("tokenizer_file")
    expect(
        name == TOKENIZER_FILE,
        f"{field}.tokenizer_file",
        name,
        f"{TOKENIZER_FILE!r} (in the model directory)",
    )
    sha = pre.get("tokenizer_sha256")
    expect(isinstance(sha, str) and re.fullmatch("[0-9a-f]{64}", sha) is not None, f"{field}.tokenizer_sha256",
           sha, "a SHA-256 in hex")  # fmt: skip
    expect(names is None or names == [column], "feature_names", names, f"null or [{column!r}]")
