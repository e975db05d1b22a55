"""In-memory data: ``X, y`` -> :class:`DatasetBundle`, and new ``X`` -> model inputs.

:func:`from_arrays` builds a bundle from NumPy, pandas, tensors or lists; :func:`transform_inputs`
preprocesses new ``X`` with a saved :class:`DataState`.

Examples:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(100, 3)), np.array(["ham"] * 90 + ["spam"] * 10)
    >>> b = from_arrays(X, y, val_size=0.2, test_size=0.0)
    >>> b.task.value, b.label_names, len(b.train), len(b.val), len(b.test)
    ('binary', ['spam'], 80, 20, 0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import torch
from torch import Tensor
from torch.utils.data import Dataset

from ..errors import DataError
from ..options import LABEL_SEP, LOAD_DEFAULTS, MAX_CATEGORIES, TEST_SIZE, VAL_SIZE
from ..tasks import Task
from .array_preprocessor import ArrayPreprocessor, as_numeric
from .bundle import DatasetBundle, DataState, Kind, make_bundle
from .label_encoder import encode_labels
from .preprocessors import transform_features
from .row_names import INDEX
from .sparse import as_sparse, is_sparse
from .split import split_indices
from .tabular import fit_text_features
from .tabular_preprocessor import TabularPreprocessor
from .text import check_text_columns, detect_text_columns

__all__ = ["from_arrays", "transform_inputs"]


def from_arrays(
    X: Any,
    y: Any,
    *,
    task: Task | str | None = None,
    label_sep: str = LABEL_SEP,
    label_map: Any = None,
    val_size: float = VAL_SIZE,
    test_size: float = TEST_SIZE,
    seed: int = 0,
    positive: Any = None,
    label_names: Sequence[str] | None = None,
    standardize: bool = True,
    max_categories: int = MAX_CATEGORIES,
    numeric_scaling: str = LOAD_DEFAULTS["numeric_scaling"],
    text_columns: Any = LOAD_DEFAULTS["text_columns"],
) -> DatasetBundle:
    """Build a :class:`DatasetBundle` from in-memory features and labels.

    Args:
        X (DataFrame, array[N, F], array[N, C, H, W], Tensor or scipy sparse [N, F]): features. A
            DataFrame is preprocessed like a table (impute, standardise, one-hot); arrays are imputed and
            standardised per feature (2-D) or per channel (4-D images); a sparse matrix (CSR, CSC, any
            format) is taken as it is (neither centred nor scaled: TF-IDF and counts keep their scale) and
            its splits are lazy :class:`~logitlab.data.sparse.SparseRows`, read batch by batch.
        y (array-like): labels, as for :func:`~logitlab.data.encode_labels`.
        task (Task or str, optional): override the inferred task. Default: inferred.
        label_sep (str): separator of label-list strings. Default: ``"|"``.
        label_map (dict or str, optional): label spellings mapped to one value first
            (:mod:`logitlab.data.label_map`). Default: none.
        val_size (float): validation share, may be 0. Default: ``0.15``.
        test_size (float): test share, may be 0. Default: ``0.15``.
        seed (int): seed of the stratified split. Default: ``0``.
        positive (optional): the positive class of a binary task. Default: chosen, see notes.
        label_names (list[str], optional): names of the columns of a 2-D 0/1 ``y``.
        standardize (bool): standardise array features (DataFrames always are). Default: ``True``.
        max_categories (int): cap on one-hot categories per DataFrame column. Default: ``50``.
        numeric_scaling (str): how a DataFrame's numeric columns are scaled, one of
            :data:`~logitlab.options.NUMERIC_SCALINGS` (arrays follow ``standardize``). Default: ``"robust"``.
        text_columns (str or list[str]): a DataFrame's free-text columns: ``"auto"`` (detected), a list,
            or ``[]`` (none); see :func:`~logitlab.data.load_dataset`. Default: ``"auto"``.

    Raises:
        DataError: ``X`` and ``y`` of different lengths, non-numeric arrays, or bad labels.
    """
    n = _length(X)
    if _length(y) != n:
        raise DataError(
            f"X has {n} rows but y has {_length(y)} labels.",
            fix="give one label (or label row) per row of X.",
            code="length-mismatch",
        )
    targets, enc = encode_labels(
        y, task, label_sep=label_sep, positive=positive, label_names=label_names, label_map=label_map
    )
    train, val, test, notes = split_indices(
        targets.numpy(), enc.task, val_size=val_size, test_size=test_size, seed=seed, names=enc.classes
    )
    notes = [*enc.notes, *notes]
    options = {"label_sep": label_sep}
    if is_sparse(X):
        csr = as_sparse(X)
        pre: Any = ArrayPreprocessor.fit(csr[train], standardize=False, notes=notes)
        notes.append("sparse features taken as they are: not centred, not scaled (keeps them sparse)")
        splits = (train, val, test)
        return make_bundle(
            pre.rows(csr).subset, targets, enc, splits, "tabular", pre, notes, source="arrays",
            options=options, input_shape=(int(csr.shape[1]),),
        )  # fmt: skip
    text = check_text_columns(text_columns, X.columns) if isinstance(X, pd.DataFrame) else []
    if isinstance(X, pd.DataFrame) and text is None:
        text = detect_text_columns(X.iloc[train], notes)
    if isinstance(X, pd.DataFrame) and text:
        pre, rows = fit_text_features(
            X, text, (train, val, test), max_categories, INDEX, notes, numeric_scaling
        )
        return make_bundle(
            rows.subset, targets, enc, (train, val, test), "tabular", pre, notes, source="arrays",
            options=options, input_shape=(pre.n_features,),
        )  # fmt: skip
    if isinstance(X, pd.DataFrame):
        pre = TabularPreprocessor.fit(
            X.iloc[train], max_categories=max_categories, scaling=numeric_scaling, notes=notes
        )
        x_all = torch.from_numpy(pre.transform(X, notes=[]))
        kind: Kind = "tabular"
    else:
        arr = as_numeric(X)
        if arr.ndim not in (2, 4):
            raise DataError(
                f"Expected X as [N, F] features or [N, C, H, W] images; got shape {list(arr.shape)}.",
                fix="add the channel axis to images (X[:, None]) or flatten the features.",
                code="bad-input-shape",
            )
        pre = ArrayPreprocessor.fit(arr[train], standardize=standardize, notes=notes)
        x_all = torch.from_numpy(pre.transform(arr))
        kind = "image" if arr.ndim == 4 else "tabular"
    return make_bundle(
        x_all, targets, enc, (train, val, test), kind, pre, notes, source="arrays", options=options
    )


def transform_inputs(X: Any, state: DataState) -> Tensor | Dataset:
    """Preprocess in-memory inputs with a fitted :class:`DataState`; float32 tensor ``[N, *input_shape]``.

    A scipy sparse ``X`` gives a lazy :class:`~logitlab.data.sparse.SparseRows` dataset instead.

    The same as ``state.transform(X)``; see :func:`~logitlab.data.preprocessors.transform_features`.

    Raises:
        DataError: a DataFrame for an array-trained model (or the reverse, with non-numeric data),
            missing columns, or a wrong sample shape.
    """
    return transform_features(X, state.preprocessor)


def _length(v: Any) -> int:
    if hasattr(v, "shape") and len(getattr(v, "shape", ())) > 0:
        return int(v.shape[0])
    return len(v)
