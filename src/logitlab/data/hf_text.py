"""One text column tokenised by a Hugging Face fast tokenizer, for ``model="hf:PATH"``.

:class:`HFTextPreprocessor` holds the folder's tokenizer as its ``tokenizer.json`` (the ``tokenizers``
library's own JSON: data, never code) and turns texts into token ids ``[N, L]``: truncated to
``max_length`` tokens (special tokens included), ``L`` the longest row, ``-1`` where a row has no more
tokens (:class:`~logitlab.models.hf.HFClassifier` pads each batch to its own longest row). Saved as
data: ``to_dict`` names the tokenizer file and its SHA-256; :meth:`HFTextPreprocessor.attach` gives it
the file's text back at load time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataError, ModelFileError

__all__ = ["TOKENIZER_FILE", "HFTextPreprocessor", "text_values"]

TOKENIZER_FILE = "tokenizer.json"
"""The file in the model directory that holds the tokenizer (its name is fixed: nothing else is read)."""


def text_values(X: Any, column: str | None) -> tuple[list[str], int]:
    """The texts of ``X`` (one column of a DataFrame, a Series, a list or 1-D array of strings), and how many were missing.

    Missing values (``None``, NaN) become empty texts.

    Raises:
        DataError: ``X`` is not one column of text (naming what came).
    """
    if isinstance(X, pd.DataFrame):
        if column is None or column not in X.columns:
            raise DataError(
                f"Expected the text column {column!r}; the table has: {', '.join(map(str, X.columns))}.",
                fix="give the column of text the model was trained on.",
                code="missing-column",
            )
        X = X[column]
    values = list(X) if isinstance(X, (pd.Series, list, tuple)) else None
    if values is None and isinstance(X, np.ndarray) and X.ndim == 1:
        values = X.tolist()
    if values is None or not all(v is None or isinstance(v, (str, float)) or v is pd.NA for v in values):
        raise DataError(
            f"Expected texts: a list, 1-D array or Series of strings, or a DataFrame with the text column; "
            f"got {type(X).__name__}.",
            fix="pass the texts as a list of strings (or a DataFrame with one text column).",
            code="bad-input-type",
        )
    missing = [v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) for v in values]
    texts = ["" if m else str(v) for v, m in zip(values, missing)]
    return texts, int(sum(missing))


class HFTextPreprocessor:
    """Texts -> token ids ``[N, L]`` (int64, ``-1`` past a row's end) with a fast tokenizer.

    Args:
        column (str): the text column (``"text"`` for a list of strings).
        max_length (int): the most tokens of a row, special tokens included.
        pad_token_id (int): the tokenizer's pad token id (an empty text is this one token).
        tokenizer_json (str, optional): the tokenizer, as ``tokenizers.Tokenizer.to_str()``. Default:
            none until :meth:`attach`.
    """

    kind = "hf_text"

    def __init__(
        self, column: str, max_length: int, pad_token_id: int, tokenizer_json: str | None = None
    ) -> None:
        self.column, self.max_length, self.pad_token_id = str(column), int(max_length), int(pad_token_id)
        self.tokenizer_json = tokenizer_json
        self._tokenizer: Any = None
        self._sha256: str | None = None

    @property
    def columns(self) -> list[str]:
        """The input column the transform reads."""
        return [self.column]

    @property
    def feature_names(self) -> list[str]:
        """The text column (the inputs are its tokens)."""
        return [self.column]

    @property
    def sha256(self) -> str:
        """SHA-256 of the tokenizer JSON (what ``model.json`` records)."""
        assert self.tokenizer_json is not None, "a tokenizer is attached"
        return hashlib.sha256(self.tokenizer_json.encode("utf-8")).hexdigest()

    @classmethod
    def from_pretrained(cls, path: str | Path, column: str, max_length: int) -> HFTextPreprocessor:
        """The fast tokenizer of the folder ``path`` (``local_files_only``, no remote code).

        Raises:
            ConfigError: no tokenizer there, or a slow (Python) one without ``tokenizer.json``.
        """
        from ..extras import require_extra

        transformers = require_extra("hf", "transformers")
        try:
            tok = transformers.AutoTokenizer.from_pretrained(
                str(path), local_files_only=True, trust_remote_code=False
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                f"Could not read a tokenizer from {str(path)!r}: {str(exc).strip()[:300]}",
                fix="save the tokenizer into the model folder (tokenizer.save_pretrained(folder)).",
                code="hf-load-failed",
                param="model",
            ) from None
        if not getattr(tok, "is_fast", False):
            raise ConfigError(
                f"The tokenizer in {str(path)!r} is a slow (Python) tokenizer; logitlab needs a fast one "
                "(tokenizer.json), which it saves as data.",
                fix="convert it once: AutoTokenizer.from_pretrained(folder, use_fast=True).save_pretrained(folder).",
                code="hf-load-failed",
                param="model",
            )
        pad = tok.pad_token_id
        pad = int(pad) if pad is not None else int(tok.eos_token_id if tok.eos_token_id is not None else 0)
        return cls(column, max_length, pad, tok.backend_tokenizer.to_str())

    def attach(self, tokenizer_json: str, sha256: str) -> None:
        """Give a loaded preprocessor the text of its tokenizer file, checked against the recorded SHA-256.

        Raises:
            ModelFileError: the file differs from the one saved with the model.
        """
        if hashlib.sha256(tokenizer_json.encode("utf-8")).hexdigest() != sha256:
            raise ModelFileError(
                f"{TOKENIZER_FILE} does not match the SHA-256 recorded in model.json; it was edited or "
                "comes from another save.",
                fix=f"copy {TOKENIZER_FILE} with model.json and model.safetensors, or save the model again.",
                code="model-file-corrupt",
            )
        self.tokenizer_json, self._tokenizer = tokenizer_json, None

    def _backend(self) -> Any:
        if self._tokenizer is None:
            from ..extras import require_extra

            Tokenizer = require_extra("hf", "tokenizers").Tokenizer  # noqa: N806

            if self.tokenizer_json is None:
                raise ModelFileError(
                    "This text model's tokenizer was not loaded.",
                    fix="load the model with Classifier.load(dir), which reads tokenizer.json.",
                    code="model-file-missing",
                )
            tok = Tokenizer.from_str(self.tokenizer_json)
            tok.no_padding()
            tok.enable_truncation(max_length=self.max_length)
            self._tokenizer = tok
        return self._tokenizer

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """int64 token ids ``[N, L]`` of ``texts``, ``L`` the longest row (at most ``max_length``), ``-1`` after each row's end."""
        rows = [e.ids or [self.pad_token_id] for e in self._backend().encode_batch(list(texts))]
        width = max((len(r) for r in rows), default=1)
        out = np.full((len(rows), width), -1, dtype=np.int64)
        for i, r in enumerate(rows):
            out[i, : len(r)] = r
        return out

    def transform(self, X: Any, *, notes: list[str] | None = None, **_: Any) -> np.ndarray:
        """Token ids of the text column of ``X`` (a DataFrame, or the texts themselves); see :meth:`encode`."""
        texts, missing = text_values(X, self.column)
        if missing and notes is not None:
            notes.append(f"text column {self.column!r}: {missing} missing value(s) read as empty texts")
        return self.encode(texts)

    def to_dict(self) -> dict[str, Any]:
        """JSON data: the column, ``max_length``, the pad token and the tokenizer file's name and SHA-256."""
        return {
            "type": self.kind,
            "column": self.column,
            "max_length": self.max_length,
            "pad_token_id": self.pad_token_id,
            "tokenizer_file": TOKENIZER_FILE,
            "tokenizer_sha256": self.sha256,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> HFTextPreprocessor:
        """Rebuild from :meth:`to_dict` output, without its tokenizer (see :meth:`attach`)."""
        out = cls(d["column"], d["max_length"], d["pad_token_id"])
        out._sha256 = str(d["tokenizer_sha256"])
        return out

    @property
    def recorded_sha256(self) -> str | None:
        """The SHA-256 ``model.json`` recorded for the tokenizer file (``None`` before a save)."""
        return self._sha256
