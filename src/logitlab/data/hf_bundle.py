"""Bundles of token ids for ``model="hf:PATH"``: a table bundle re-read as its text column's tokens.

``logitlab train data.csv --model hf:PATH`` loads the table as every other run does (labels encoded,
rows split); :func:`tokenize_bundle` then replaces its features with the token ids of its one text
column (:class:`~logitlab.data.hf_text.HFTextPreprocessor`), keeping the labels, the split and the
table, so the run's test rows, report and saved model all read the same tokens.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ..errors import ConfigError
from .bundle import DatasetBundle, Split
from .hf_text import HFTextPreprocessor, text_values
from .sparse import SparseRows

__all__ = ["pick_text_column", "refuse_hf", "tokenize_bundle", "tokenized_notes"]


def refuse_hf(what: str) -> ConfigError:
    """The error for data an ``hf:`` model does not train on (``hf-unsupported``), ``what`` naming it."""
    return ConfigError(
        f"model='hf:...' trains on one text column of a table held in memory; got {what}.",
        fix="give a CSV/Parquet table (or a list of strings in Python) with a text column, without --streaming.",
        code="hf-unsupported",
        param="model",
    )


def pick_text_column(columns: list[str], named: Any, detected: list[str]) -> str:
    """The one text column: ``named`` (a list of one), the table's only column, or the one detected as text.

    Raises:
        ConfigError: several named, or no single candidate (``hf-text-column``).

    Examples:
        >>> pick_text_column(["id", "body"], "auto", ["body"]), pick_text_column(["t"], "auto", [])
        ('body', 't')
    """
    if isinstance(named, (list, tuple)) and len(named) == 1:
        return str(named[0])
    if isinstance(named, (list, tuple)) and len(named) > 1:
        raise refuse_hf(f"text_columns={list(named)} (an hf: model reads one text column)")
    if len(columns) == 1:
        return str(columns[0])
    if len(detected) == 1:
        return detected[0]
    raise ConfigError(
        f"model='hf:...' reads one text column; the table has {', '.join(map(str, columns))} "
        f"({len(detected)} detected as free text).",
        fix="name it: text_columns=['COLUMN'] in Python, --text COLUMN on the command line.",
        code="hf-text-column",
        param="text_columns",
    )


def tokenized_notes(ids: Tensor, max_length: int, missing: int, column: str) -> list[str]:
    """What tokenising said: the median length, the rows truncated, the missing texts."""
    lengths = (ids >= 0).sum(1)
    median = float(lengths.float().median()) if len(ids) else 0.0
    cut = int((lengths >= max_length).sum())
    out = [
        f"hf: text column {column!r} tokenised: median {median:.0f} tokens, "
        f"{cut} row(s) truncated to max_length={max_length}"
    ]
    if missing:
        out.append(f"hf: {missing} missing text(s) read as empty")
    return out


def tokenize_bundle(
    bundle: DatasetBundle, path: str | Path, max_length: int, text_columns: Any = "auto"
) -> DatasetBundle:
    """``bundle`` (a table's) with its features replaced by the token ids of its text column.

    A bundle that already holds token ids is returned as it is.

    Args:
        bundle (DatasetBundle): from :func:`~logitlab.data.load_dataset` on a table.
        path (str or Path): the model folder holding the tokenizer.
        max_length (int): the most tokens of a text.
        text_columns: ``"auto"`` or a list naming the one text column. Default: ``"auto"``.

    Raises:
        ConfigError: a streaming table, images, or no single text column.
    """
    if isinstance(bundle.preprocessor, HFTextPreprocessor):
        return bundle
    table, pre = bundle.table, bundle.preprocessor
    if table is None or not isinstance(bundle.train.x, (Tensor, SparseRows)):
        raise refuse_hf("a streaming table or image data" if table is None else "data read lazily")
    columns = [str(c) for c in getattr(pre, "columns", [])]
    column = pick_text_column(columns, text_columns, list(getattr(pre, "text_columns", [])))
    tok = HFTextPreprocessor.from_pretrained(path, column, max_length)
    splits, missing = [], 0
    for split in (bundle.train, bundle.val, bundle.test):
        texts, gone = text_values(table[column].iloc[split.index], column=None)
        missing += gone
        splits.append(Split(torch.from_numpy(tok.encode(texts)), split.y, split.index))
    kept = [n for n in bundle.notes if "n-grams" not in n and "read as free text" not in n]
    unused = [c for c in columns if c != column]
    said = (
        [f"hf: columns {', '.join(unused)} not used (the model reads the text column {column!r})"]
        if unused
        else []
    )
    notes = [*kept, *said, *tokenized_notes(splits[0].x, max_length, missing, column)]  # type: ignore[arg-type]
    return dataclasses.replace(
        bundle,
        train=splits[0],
        val=splits[1],
        test=splits[2],
        preprocessor=tok,
        input_shape=(max_length,),
        notes=notes,
    )
