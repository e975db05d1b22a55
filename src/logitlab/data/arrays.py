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

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from ..errors import DataError
from ..tasks import Task
from .bundle import DatasetBundle, DataState, Kind, Split
from .labels import LabelEncoder, encode_labels
from .preprocess import ArrayPreprocessor, TabularPreprocessor
from .split import split_indices

__all__ = ["from_arrays", "make_bundle", "transform_inputs"]


def from_arrays(
    X: Any,
    y: Any,
    *,
    task: Task | str | None = None,
    label_sep: str = "|",
    val_size: float = 0.15,
    test_size: float = 0.15,
    seed: int = 0,
    positive: Any = None,
    label_names: Sequence[str] | None = None,
    standardize: bool = True,
    max_categories: int = 50,
) -> DatasetBundle:
    """Build a :class:`DatasetBundle` from in-memory features and labels.

    Args:
        X (DataFrame, array[N, F], array[N, C, H, W] or Tensor): features. A DataFrame is preprocessed
            like a table (impute, standardise, one-hot); arrays are imputed and standardised per feature
            (2-D) or per channel (4-D images).
        y (array-like): labels, as for :func:`~logitlab.data.encode_labels`.
        task (Task or str, optional): override the inferred task. Default: inferred.
        label_sep (str): separator of label-list strings. Default: ``"|"``.
        val_size (float): validation share, may be 0. Default: ``0.15``.
        test_size (float): test share, may be 0. Default: ``0.15``.
        seed (int): seed of the stratified split. Default: ``0``.
        positive (optional): the positive class of a binary task. Default: chosen, see notes.
        label_names (list[str], optional): names of the columns of a 2-D 0/1 ``y``.
        standardize (bool): standardise array features (DataFrames always are). Default: ``True``.
        max_categories (int): cap on one-hot categories per DataFrame column. Default: ``50``.

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
    targets, enc = encode_labels(y, task, label_sep=label_sep, positive=positive, label_names=label_names)
    train, val, test, notes = split_indices(
        targets.numpy(), enc.task, val_size=val_size, test_size=test_size, seed=seed
    )
    notes = [*enc.notes, *notes]
    if isinstance(X, pd.DataFrame):
        pre: Any = TabularPreprocessor.fit(X.iloc[train], max_categories=max_categories, notes=notes)
        x_all = torch.from_numpy(pre.transform(X, notes=[]))
        kind: Kind = "tabular"
    else:
        arr = _numeric(X)
        if arr.ndim not in (2, 4):
            raise DataError(
                f"Expected X as [N, F] features or [N, C, H, W] images; got shape {list(arr.shape)}.",
                fix="add the channel axis to images (X[:, None]) or flatten the features.",
                code="bad-input-shape",
            )
        pre = ArrayPreprocessor.fit(arr[train], standardize=standardize, notes=notes)
        x_all = torch.from_numpy(pre.transform(arr))
        kind = "image" if arr.ndim == 4 else "tabular"
    options = {"label_sep": label_sep}
    return make_bundle(
        x_all, targets, enc, (train, val, test), kind, pre, notes, source="arrays", options=options
    )


def make_bundle(
    x_all: Tensor,
    targets: Tensor,
    enc: LabelEncoder,
    splits: tuple[np.ndarray, np.ndarray, np.ndarray],
    kind: Kind,
    preprocessor: Any,
    notes: list[str],
    *,
    source: str,
    target: list[str] | None = None,
    options: dict[str, Any] | None = None,
) -> DatasetBundle:
    """Assemble a :class:`DatasetBundle` from all rows' inputs/targets and the split positions."""
    train, val, test = splits
    return DatasetBundle(
        Split(x_all[train], targets[train], train),
        Split(x_all[val], targets[val], val),
        Split(x_all[test], targets[test], test),
        enc.task,
        enc.reason,
        enc.output_names,
        kind,
        tuple(x_all.shape[1:]),
        preprocessor,
        notes,
        enc,
        source,
        target,
        dict(options or {}),
    )


def transform_inputs(X: Any, state: DataState) -> Tensor:
    """Preprocess in-memory inputs with a fitted :class:`DataState`; float32 tensor ``[N, *input_shape]``.

    Raises:
        DataError: a DataFrame for an array-trained model (or the reverse, with non-numeric data),
            missing columns, or a wrong sample shape.
    """
    pre = state.preprocessor
    if isinstance(pre, TabularPreprocessor):
        if not isinstance(X, pd.DataFrame):
            arr = _numeric(X)  # converted and checked once
            if arr.ndim == 2 and arr.shape[1] == len(pre.columns):
                X = pd.DataFrame(arr, columns=pre.columns)
            else:
                raise DataError(
                    f"This model was trained on a table with columns {', '.join(pre.columns)}; got {type(X).__name__}.",
                    fix="pass a pandas DataFrame with the training columns.",
                    code="bad-input-type",
                )
        return torch.from_numpy(pre.transform(X))
    if isinstance(pre, ArrayPreprocessor):
        return torch.from_numpy(pre.transform(_numeric(X)))
    return pre.transform(X)  # ImagePreprocessor: a list of image paths


def _length(v: Any) -> int:
    if hasattr(v, "shape") and len(getattr(v, "shape", ())) > 0:
        return int(v.shape[0])
    return len(v)


def _numeric(X: Any) -> np.ndarray:
    if isinstance(X, Tensor):
        return X.detach().cpu().double().numpy()
    if isinstance(X, pd.DataFrame):
        X = X.to_numpy()
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"Expected numeric features; could not convert X to float ({exc}).",
            fix="pass a pandas DataFrame (categorical columns are one-hot encoded) or a numeric array.",
            code="non-numeric-features",
        ) from exc
    if arr.ndim == 1:
        raise DataError(
            f"Expected 2-D X [N, F]; got a 1-D array of shape {list(arr.shape)}.",
            fix="use X.reshape(-1, 1) for a single feature.",
            code="bad-input-shape",
        )
    if np.isinf(arr).any():
        raise DataError(f"X holds {int(np.isinf(arr).sum())} infinite values.", fix="replace or clip them.")
    return arr
