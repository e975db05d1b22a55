"""The estimator's boundary checks on features: what ``Classifier.fit``/``predict`` accept as ``X``.

Array-likes (NumPy, lists, tensors) become float64 NumPy arrays ``[N, ...]``; NaN is allowed (the
data layer imputes it and says so), infinities are refused with the rows that hold them. DataFrames
pass through to the tabular preprocessing, which handles mixed column types.

Examples:
    >>> as_features([[1, 2], [3, 4]]).dtype
    dtype('float64')
    >>> as_features([1.0, 2.0])
    Traceback (most recent call last):
    ...
    logitlab.errors.DataError: Expected 2D array, got 1D array instead (shape [2]).
    Fix: reshape your data with array.reshape(-1, 1) for a single feature, or array.reshape(1, -1) for one sample.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import DataError

__all__ = ["as_features", "check_finite"]


def as_features(X: Any) -> np.ndarray:
    """Array features as a float64 NumPy array ``[N, ...]`` (NaN allowed: imputed and reported; Inf refused)."""
    if hasattr(X, "detach"):
        X = X.detach().cpu().double().numpy()
    try:
        x = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"Expected numeric features; NumPy could not convert them to float ({exc}).",
            fix="pass a 2-D numeric array [N, F] (or images [N, C, H, W]), or a DataFrame for mixed column types.",
            code="bad-features",
        ) from None
    if x.ndim < 2:
        raise DataError(
            f"Expected 2D array, got {x.ndim}D array instead (shape {list(x.shape)}).",
            fix="reshape your data with array.reshape(-1, 1) for a single feature, or array.reshape(1, -1) for one sample.",
            code="bad-features",
        )
    check_finite(x)
    return x


def check_finite(x: np.ndarray) -> None:
    """Refuse infinite values, naming how many and in which rows (NaN is left to the imputer)."""
    bad = np.isinf(x.reshape(len(x), -1))
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        shown = ", ".join(str(int(r)) for r in rows[:10])
        raise DataError(
            f"Expected finite features; {int(bad.sum())} infinite values in {len(rows)} rows (row positions {shown}).",
            fix="replace the infinities (np.nan_to_num, or clip) or drop those rows; NaN is imputed with the median.",
            code="nonfinite-features",
        )
