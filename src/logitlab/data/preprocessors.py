"""The kinds of preprocessor, by the ``"type"`` they save: rebuild one from JSON, apply one to in-memory ``X``.

Each preprocessor (:class:`TabularPreprocessor`, :class:`ArrayPreprocessor`, :class:`ImagePreprocessor`)
has ``kind``, ``to_dict()`` and ``from_dict()``; :data:`PREPROCESSOR_TYPES` lists the saved types, and
the error for an unknown one is built from it.

Examples:
    >>> import numpy as np
    >>> pre = ArrayPreprocessor.fit(np.array([[0.0], [2.0]]))
    >>> type(preprocessor_from_dict(pre.to_dict())).__name__
    'ArrayPreprocessor'
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import torch
from torch import Tensor
from torch.utils.data import Dataset

from ..errors import DataError
from .array_preprocessor import ArrayPreprocessor, as_numeric
from .hf_text import HFTextPreprocessor
from .image_files import ImagePreprocessor
from .sparse import SparseRows, is_sparse
from .tabular_preprocessor import TabularPreprocessor
from .text import TextTablePreprocessor

__all__ = ["PREPROCESSOR_TYPES", "preprocessor_from_dict", "transform_features"]

_CLASSES: dict[str, Any] = {
    c.kind: c
    for c in (
        TabularPreprocessor,
        ArrayPreprocessor,
        ImagePreprocessor,
        TextTablePreprocessor,
        HFTextPreprocessor,
    )
}
PREPROCESSOR_TYPES = tuple(_CLASSES)
"""The ``"type"`` of every saved preprocessor: ``tabular``, ``array``, ``image``, ``text_table``, ``hf_text``."""


def preprocessor_from_dict(d: dict[str, Any]) -> Any:
    """Rebuild any logitlab preprocessor from its ``to_dict()`` (``"type"``: one of :data:`PREPROCESSOR_TYPES`).

    Raises:
        DataError: an unknown ``"type"``.
    """
    kind = d.get("type")
    if kind not in _CLASSES:
        raise DataError(
            f"Unknown preprocessor type {kind!r}; expected {', '.join(map(repr, PREPROCESSOR_TYPES))}.",
            fix="the saved model.json may be from another version; retrain or re-save it.",
            code="unknown-preprocessor",
        )
    return _CLASSES[kind].from_dict(d)


def transform_features(X: Any, preprocessor: Any) -> Tensor | Dataset:
    """Preprocess in-memory inputs with a fitted preprocessor; float32 tensor ``[N, *input_shape]``.

    A table model takes a DataFrame (or an array with one column per training column); an array model
    takes anything :func:`~logitlab.data.array_preprocessor.as_numeric` converts; an image model takes
    a list of image paths. A scipy sparse ``X`` (array model) gives a lazy
    :class:`~logitlab.data.sparse.SparseRows` dataset instead of a tensor: it is densified batch by batch.

    Raises:
        DataError: a DataFrame for an array-trained model (or the reverse, with non-numeric data),
            missing columns, a sparse matrix for a table model, or a wrong sample shape.
    """
    if is_sparse(X):
        if not isinstance(preprocessor, ArrayPreprocessor):
            raise DataError(
                f"Got a sparse matrix, but this model was trained on {preprocessor.kind} data; sparse input "
                "is supported for models trained on arrays or sparse matrices.",
                fix="pass the input the model was trained on (a DataFrame, or image paths).",
                code="bad-input-type",
            )
        return preprocessor.rows(X)
    if isinstance(preprocessor, HFTextPreprocessor):  # texts, or a DataFrame with the text column
        return torch.from_numpy(preprocessor.transform(X))
    if isinstance(preprocessor, TextTablePreprocessor):
        if not isinstance(X, pd.DataFrame):
            raise DataError(
                f"This model was trained on a table with text columns {', '.join(preprocessor.text_columns)}; "
                f"got {type(X).__name__}.",
                fix="pass a pandas DataFrame with the training columns.",
                code="bad-input-type",
            )
        return SparseRows(preprocessor.transform(X), native=True)
    if isinstance(preprocessor, TabularPreprocessor):
        if not isinstance(X, pd.DataFrame):
            arr = as_numeric(X)  # converted and checked once
            if arr.ndim == 2 and arr.shape[1] == len(preprocessor.columns):
                X = pd.DataFrame(arr, columns=preprocessor.columns)
            else:
                raise DataError(
                    f"This model was trained on a table with columns {', '.join(preprocessor.columns)}; "
                    f"got {type(X).__name__}.",
                    fix="pass a pandas DataFrame with the training columns.",
                    code="bad-input-type",
                )
        return torch.from_numpy(preprocessor.transform(X))
    if isinstance(preprocessor, ArrayPreprocessor):
        return torch.from_numpy(preprocessor.transform(as_numeric(X)))
    out: Tensor = preprocessor.transform(X)  # ImagePreprocessor: a list of image paths
    return out
