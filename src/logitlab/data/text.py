"""Text columns of a table: detected (or named), vectorised by scikit-learn, saved as data.

A free-text column (tickets, titles, reviews) is not a category: one-hot encoding its 50 most
frequent values throws the text away. :func:`detect_text_columns` tells the two apart with the
measured rule of :data:`~logitlab.options.TEXT_DETECTION` (mean tokens per value and the share of
distinct values) and says why. :class:`TextColumn` turns one column into TF-IDF features of word and
character n-grams with scikit-learn's ``TfidfVectorizer`` (each block L2-normalised), fitted on the
training rows only (character n-grams only when ``char_ngrams`` is set); it saves the vocabulary, the idf weights and the settings as JSON (never a
pickle) and rebuilds a vectorizer that gives the same features. :class:`TextTablePreprocessor` joins
the text blocks to the other columns' :class:`~logitlab.data.TabularPreprocessor` features as one
sparse CSR matrix, which the sparse-native model (:mod:`logitlab.models.sparse`) reads row by row.

Examples:
    >>> import pandas as pd
    >>> titles = ["the cat sat on the mat", "a dog ran in the park", "the cat ran away from home"] * 3
    >>> col = TextColumn.fit("title", pd.Series(titles), settings={"char_ngrams": None, "min_df": 1})
    >>> col.transform(pd.Series(["the cat"])).shape[0], col.n_features == len(col.word_terms)
    (1, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataError
from ..options import MAX_CATEGORIES, TEXT_DETECTION, TEXT_VECTORIZER
from .row_names import TABLE_ROWS, RowNamer
from .tabular_preprocessor import TabularPreprocessor

if TYPE_CHECKING:
    from scipy import sparse

__all__ = ["TextColumn", "TextTablePreprocessor", "check_text_columns", "detect_text_columns", "text_profile"]


def text_profile(col: pd.Series) -> tuple[float, float, int] | None:
    """``(mean tokens per value, distinct ratio, present values)`` of a string column; ``None`` otherwise.

    Numbers (90% of the values parse) are not strings here.
    """
    if col.dtype.kind not in "OUS" and str(col.dtype) not in ("string", "str"):
        return None
    present = col.dropna()
    present = present[[isinstance(v, str) for v in present]]
    if len(present) == 0:
        return None
    parsed = pd.to_numeric(present, errors="coerce")
    if parsed.notna().mean() >= 0.9:
        return None
    text = present.astype(str)
    tokens = float(text.str.split().str.len().mean())
    return tokens, float(text.nunique() / len(text)), int(len(text))


def detect_text_columns(frame: pd.DataFrame, notes: list[str] | None = None) -> list[str]:
    """The columns of ``frame`` that hold free text by the rule of :data:`~logitlab.options.TEXT_DETECTION`.

    Each column taken is noted with its measurements and the rule (what ``decisions_["notes"]`` shows).

    Examples:
        >>> df = pd.DataFrame({"city": ["New York", "Paris", "New York", "Rome", "Paris", "Rome"],
        ...                    "review": [f"stayed {i} nights and liked the quiet room" for i in range(6)]})
        >>> detect_text_columns(df)
        ['review']
    """
    rule = TEXT_DETECTION
    found = []
    for name in frame.columns:
        profile = text_profile(frame[name])
        if profile is None or profile[2] < rule["min_rows"]:
            continue
        tokens, distinct, _ = profile
        if (tokens >= rule["min_mean_tokens"] and distinct >= rule["min_distinct_ratio"]) or (
            tokens >= rule["long_mean_tokens"]
        ):
            found.append(str(name))
            if notes is not None:
                notes.append(
                    f"column {name!r} read as free text: {tokens:.1f} tokens per value, {distinct:.0%} distinct "
                    f"(rule: >= {rule['min_mean_tokens']:g} tokens and >= {rule['min_distinct_ratio']:.0%} "
                    f"distinct, or >= {rule['long_mean_tokens']:g} tokens); pass text_columns=[] to read it "
                    "as a category"
                )
    return found


def check_text_columns(value: Any, columns: Sequence[Any], param: str = "text_columns") -> list[str] | None:
    """``None`` for ``"auto"``; else the named columns, each present in ``columns``.

    Raises:
        ConfigError: not ``"auto"`` or a list of column names, or a name that is not a column.
    """
    if isinstance(value, str) and value == "auto":
        return None
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise ConfigError(
            f"Expected argument `{param}` to be 'auto' or a list of column names; got {value!r}.",
            fix=f"pass {param}='auto' (detected), a list such as ['title', 'body'], or [] (no text columns).",
            code="bad-param",
            param=param,
        )
    known = {str(c) for c in columns}
    absent = [n for n in names if n not in known]
    if absent:
        raise ConfigError(
            f"Text column(s) {', '.join(map(repr, absent))} not in the table; its columns are: "
            f"{', '.join(sorted(known))}.",
            fix=f"name feature columns of the table in {param}.",
            code="missing-text-column",
            param=param,
        )
    return list(names)


def _texts(col: pd.Series) -> list[str]:
    return ["" if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else str(v) for v in col]


def _vectorizer(settings: dict[str, Any], analyzer: str, vocabulary: list[str] | None = None) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    word = analyzer == "word"
    lo, hi = settings["word_ngrams"] if word else settings["char_ngrams"]
    return TfidfVectorizer(
        analyzer=analyzer,
        ngram_range=(int(lo), int(hi)),
        min_df=1 if vocabulary is not None else int(settings["min_df"]),
        max_features=None
        if vocabulary is not None
        else int(settings["max_word_features" if word else "max_char_features"]),
        sublinear_tf=bool(settings["sublinear_tf"]),
        strip_accents="unicode",
        lowercase=True,
        dtype=np.float64,
        vocabulary=None if vocabulary is None else {t: i for i, t in enumerate(vocabulary)},
    )


@dataclass
class TextColumn:
    """One text column -> TF-IDF of word n-grams, then of character n-grams (``char_wb``), as saved data.

    Attributes:
        name (str): the column.
        settings (dict): :data:`~logitlab.options.TEXT_VECTORIZER` with the caller's changes.
        word_terms, char_terms (list[str]): the vocabulary in feature order.
        word_idf, char_idf (list[float]): the idf weight of each term.
    """

    name: str
    settings: dict[str, Any]
    word_terms: list[str] = field(default_factory=list)
    word_idf: list[float] = field(default_factory=list)
    char_terms: list[str] = field(default_factory=list)
    char_idf: list[float] = field(default_factory=list)

    @property
    def n_features(self) -> int:
        """Width of this column's block."""
        return len(self.word_terms) + len(self.char_terms)

    @property
    def feature_names(self) -> list[str]:
        """``column:term`` for word n-grams, ``column:#chars#`` for character n-grams."""
        return [f"{self.name}:{t}" for t in self.word_terms] + [f"{self.name}:#{t}#" for t in self.char_terms]

    @classmethod
    def fit(cls, name: str, col: pd.Series, *, settings: dict[str, Any] | None = None) -> TextColumn:
        """Fit the vectorizers on the training rows ``col`` (missing values are empty texts)."""
        return cls.fit_transform(name, col, settings=settings)[0]

    @classmethod
    def fit_transform(
        cls, name: str, col: pd.Series, *, settings: dict[str, Any] | None = None
    ) -> tuple[TextColumn, sparse.csr_array]:
        """:meth:`fit`, and :meth:`transform` of the same rows from the one pass over their texts."""
        from scipy import sparse

        full = {**TEXT_VECTORIZER, **(settings or {})}
        texts = _texts(col)
        out = cls(name, full)
        blocks = []
        for analyzer in ("word", "char_wb") if full["char_ngrams"] else ("word",):
            vec = _vectorizer(full, analyzer)
            try:
                blocks.append(sparse.csr_array(vec.fit_transform(texts)))
            except ValueError:  # no term in min_df rows: an empty block
                continue
            terms = [str(t) for t in vec.get_feature_names_out()]
            idf = [float(v) for v in vec.idf_]
            if analyzer == "word":
                out.word_terms, out.word_idf = terms, idf
            else:
                out.char_terms, out.char_idf = terms, idf
        if out.n_features == 0:
            raise DataError(
                f"Text column {name!r} has no term in {full['min_df']} or more training rows.",
                fix="check the column holds text, or leave it out of text_columns.",
                code="empty-text-column",
            )
        return out, sparse.csr_array(sparse.hstack(blocks, format="csr"))

    def vectorizers(self) -> list[Any]:
        """The fitted scikit-learn vectorizers, rebuilt from the saved vocabulary and idf."""
        out = []
        for analyzer, terms, idf in (
            ("word", self.word_terms, self.word_idf),
            ("char_wb", self.char_terms, self.char_idf),
        ):
            if terms:
                vec = _vectorizer(self.settings, analyzer, vocabulary=terms)
                vec.idf_ = np.asarray(idf, dtype=np.float64)
                out.append(vec)
        return out

    def transform(self, col: pd.Series) -> sparse.csr_array:
        """float64 CSR ``[N, n_features]`` of the texts in ``col`` (missing: empty text, all zeros)."""
        from scipy import sparse

        texts = _texts(col)
        blocks = [sparse.csr_array(v.transform(texts)) for v in self.vectorizers()]
        return sparse.csr_array(sparse.hstack(blocks, format="csr"))

    def to_dict(self) -> dict[str, Any]:
        """JSON data: settings, vocabulary and idf."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TextColumn:
        """Rebuild from :meth:`to_dict` output."""
        return cls(**d)


class TextTablePreprocessor:
    """A table with text columns, as one float64 CSR matrix.

    The other columns are :class:`TabularPreprocessor` features; each text column's TF-IDF block follows.

    Args:
        table (TabularPreprocessor or None): the other feature columns (``None``: text only).
        text (list[TextColumn]): the text columns, in order.
    """

    kind = "text_table"

    def __init__(self, table: TabularPreprocessor | None, text: list[TextColumn]) -> None:
        self.table, self.text = table, list(text)

    @property
    def columns(self) -> list[str]:
        """Input columns the transform reads."""
        return [*(self.table.columns if self.table else []), *(c.name for c in self.text)]

    @property
    def n_features(self) -> int:
        """Width of the transformed matrix."""
        return (self.table.n_features if self.table else 0) + sum(c.n_features for c in self.text)

    @property
    def feature_names(self) -> list[str]:
        """The table's feature names, then each text column's terms."""
        return [
            *(self.table.feature_names if self.table else []),
            *(n for c in self.text for n in c.feature_names),
        ]

    @property
    def text_columns(self) -> list[str]:
        """The columns read as text."""
        return [c.name for c in self.text]

    @classmethod
    def fit(cls, frame: pd.DataFrame, text_columns: Sequence[str], **options: Any) -> TextTablePreprocessor:
        """Fit on the training rows of ``frame``: ``text_columns`` as text, the rest as a table."""
        return cls.fit_with_rows(frame, text_columns, **options)[0]

    @classmethod
    def fit_with_rows(
        cls,
        frame: pd.DataFrame,
        text_columns: Sequence[str],
        *,
        max_categories: int = MAX_CATEGORIES,
        scaling: str = "robust",
        row_name: RowNamer = TABLE_ROWS,
        notes: list[str] | None = None,
        settings: dict[str, Any] | None = None,
    ) -> tuple[TextTablePreprocessor, list[sparse.csr_array]]:
        """:meth:`fit`, and each text column's block of the rows fitted on (for :meth:`transform`'s ``fitted``)."""
        notes = notes if notes is not None else []
        others = frame.drop(columns=list(text_columns))
        table = None
        if len(others.columns):
            table = TabularPreprocessor.fit(
                others, max_categories=max_categories, scaling=scaling, row_name=row_name, notes=notes
            )
        fitted = [TextColumn.fit_transform(str(n), frame[n], settings=settings) for n in text_columns]
        for c, _ in fitted:
            notes.append(
                f"column {c.name!r}: {len(c.word_terms)} word and {len(c.char_terms)} character n-grams"
            )
        return cls(table, [c for c, _ in fitted]), [m for _, m in fitted]

    def transform(
        self,
        frame: pd.DataFrame,
        *,
        row_name: RowNamer = TABLE_ROWS,
        notes: list[str] | None = None,
        ignore: Sequence[str] = (),
        warn: bool = True,
        fitted: tuple[np.ndarray, list[sparse.csr_array]] | None = None,
    ) -> sparse.csr_array:
        """float64 CSR ``[N, n_features]`` of ``frame`` (``ignore``, ``warn``: as :meth:`TabularPreprocessor.transform`).

        ``fitted``: the positions in ``frame`` of the rows :meth:`fit_with_rows` was given, in their order, and
        the text blocks it returned for them; those rows' texts are not vectorised again.

        Raises:
            DataError: a fitted column is missing (listing the available ones), or a bad table value.
        """
        from scipy import sparse

        absent = [c for c in self.columns if c not in frame.columns]
        if absent:
            raise DataError(
                f"Missing feature column(s) {', '.join(map(repr, absent))}; "
                f"the table has: {', '.join(map(str, frame.columns))}.",
                fix="give the same feature columns as at training time.",
                code="missing-column",
            )
        blocks = []
        if self.table is not None:
            others = frame.drop(columns=self.text_columns)
            dense = self.table.transform(others, row_name=row_name, notes=notes, ignore=ignore, warn=warn)
            blocks.append(sparse.csr_array(dense.astype(np.float64)))
        if fitted is None:
            blocks += [c.transform(frame[c.name]) for c in self.text]
        else:
            at, known = np.asarray(fitted[0], dtype=np.int64), fitted[1]
            rest = np.setdiff1d(np.arange(len(frame)), at)
            order = np.argsort(np.concatenate([at, rest]), kind="stable")  # back to the frame's order
            for c, fitted in zip(self.text, known):
                later = c.transform(frame[c.name].iloc[rest])
                blocks.append(sparse.csr_array(sparse.vstack([fitted, later], format="csr"))[order])
        out = sparse.csr_array(sparse.hstack(blocks, format="csr"), dtype=np.float64)
        out.sum_duplicates()
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (the vocabularies and idf weights as lists)."""
        return {
            "type": self.kind,
            "table": self.table.to_dict() if self.table is not None else None,
            "text": [c.to_dict() for c in self.text],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TextTablePreprocessor:
        """Rebuild from :meth:`to_dict` output."""
        table = TabularPreprocessor.from_dict(d["table"]) if d.get("table") else None
        return cls(table, [TextColumn.from_dict(c) for c in d["text"]])
