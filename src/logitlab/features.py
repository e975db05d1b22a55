"""The estimator's boundary checks: what ``Classifier.fit``/``predict`` accept as ``X`` and ``y``.

Array-likes (NumPy, lists, tensors, anything with ``__array__``) become float64 NumPy arrays
``[N, ...]``; scipy sparse matrices and arrays (any format) become checked CSR arrays that the data
layer densifies batch by batch. NaN is allowed in dense ``X`` (the data layer imputes it and says
so); infinities, complex numbers, values that are not numbers and empty arrays are refused. The
messages carry the phrases scikit-learn's own validation uses (``"Reshape your data"``, ``"0
feature(s)"``, ``"Complex data not supported"``, ``"X has 1 features, but ... is expecting 4
features as input"``), so tools written against scikit-learn recognise them, and logitlab's fix.
DataFrames pass through to the tabular preprocessing, which handles mixed column types.

Examples:
    >>> as_features([[1, 2], [3, 4]]).dtype
    dtype('float64')
    >>> as_features([1.0, 2.0])
    Traceback (most recent call last):
    ...
    logitlab.errors.DataError: Expected 2D array, got 1D array instead (shape [2]).
    Fix: Reshape your data either using array.reshape(-1, 1) if your data has a single feature or array.reshape(1, -1) if it contains a single sample.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

import numpy as np

from .errors import DataError, DataTypeError

__all__ = ["as_features", "as_frame", "as_targets", "check_finite", "check_n_features"]

_RESHAPE = (
    "Reshape your data either using array.reshape(-1, 1) if your data has a single feature "
    "or array.reshape(1, -1) if it contains a single sample."
)


def as_features(X: Any, *, min_rows: int = 1) -> Any:
    """Array features as a float64 NumPy array ``[N, ...]``, or a sparse ``X`` as a float64 CSR array.

    Args:
        X (array-like [N, F] or [N, C, H, W], Tensor, or scipy sparse [N, F]): the features.
        min_rows (int): fewest rows accepted. Default: ``1`` (as scikit-learn, at fit and predict).

    Raises:
        DataError: complex values, a 1-D array, no rows or no columns, infinite values (or NaN in a
            sparse matrix).
        DataTypeError: values that are not numbers (a ``DataError`` that is also a ``TypeError``).
    """
    if "scipy.sparse" in sys.modules and sys.modules["scipy.sparse"].issparse(
        X
    ):  # never imports scipy itself
        from .data.sparse import as_sparse  # torch, only for sparse input

        return as_sparse(X, min_rows=min_rows)
    if hasattr(X, "detach"):
        X = X.detach().cpu()
        X = X.numpy() if X.is_complex() else X.double().numpy()
    x = _as_float_array(X)
    if x.ndim < 2:
        raise DataError(
            f"Expected 2D array, got {x.ndim}D array instead (shape {list(x.shape)}).",
            fix=_RESHAPE,
            code="bad-input-shape",
        )
    if x.shape[0] < min_rows or x.shape[1] == 0:
        what, least = (f"{x.shape[0]} sample(s)", min_rows) if x.shape[0] < min_rows else ("0 feature(s)", 1)
        raise DataError(
            f"Found array with {what} (shape={tuple(x.shape)}) while a minimum of {least} is required.",
            fix="pass at least one row and one feature column (predict: skip the call for no rows).",
            code="empty-features",
        )
    check_finite(x)
    return x


def _as_float_array(X: Any) -> np.ndarray:
    raw = X if isinstance(X, np.ndarray) else None
    try:
        if raw is None:
            with warnings.catch_warnings():  # numpy warns on ragged lists before it fails; we raise
                warnings.simplefilter("ignore")
                raw = np.asarray(X)
        if raw.dtype.kind == "c" or (raw.dtype.kind == "O" and any(isinstance(v, complex) for v in raw.flat)):
            raise DataError(
                f"Complex data not supported: got {raw.dtype} features.",
                fix="pass the real part (np.real(X)) or the magnitude (np.abs(X)) as features.",
                code="complex-features",
            )
        return np.asarray(raw, dtype=np.float64)
    except TypeError as exc:
        raise DataTypeError(
            f"Expected numeric features; NumPy could not convert them to float ({exc}).",
            fix="pass a 2-D numeric array [N, F] (or images [N, C, H, W]), or a DataFrame for mixed column types.",
            code="non-numeric-features",
        ) from None
    except ValueError as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(
            f"Expected numeric features; NumPy could not convert them to float ({exc}).",
            fix="pass a 2-D numeric array [N, F] (or images [N, C, H, W]), or a DataFrame for mixed column types.",
            code="non-numeric-features",
        ) from None


def as_frame(frame: Any) -> Any:
    """A DataFrame with its column names as strings (how the tabular preprocessing names them).

    ``pd.DataFrame(array)`` names its columns ``0, 1, ...``; the fitted preprocessing keeps ``"0", "1"``.
    """
    if all(isinstance(c, str) for c in frame.columns):
        return frame
    return frame.rename(columns=str)


def check_finite(x: np.ndarray) -> None:
    """Refuse infinite values, naming how many and in which rows (NaN is left to the imputer)."""
    bad = np.isinf(x.reshape(x.shape[0], int(np.prod(x.shape[1:]))))
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        shown = ", ".join(str(int(r)) for r in rows[:10])
        raise DataError(
            f"Expected finite features; {int(bad.sum())} infinite values (inf) in {len(rows)} rows "
            f"(row positions {shown}).",
            fix="replace the infinities (np.nan_to_num, or clip) or drop those rows; NaN is imputed with the median.",
            code="nonfinite-features",
        )


def check_n_features(x: Any, expected: int | None, name: str) -> None:
    """Refuse ``[N, F]`` features whose ``F`` differs from the ``n_features_in_`` seen at fit time.

    Raises:
        DataError: naming both counts (scikit-learn's wording).
    """
    if expected is None or len(x.shape) != 2 or int(x.shape[1]) == expected:
        return
    raise DataError(
        f"X has {int(x.shape[1])} features, but {name} is expecting {expected} features as input.",
        fix=f"give the {expected} feature columns used at fit time, in the same order.",
        code="feature-mismatch",
    )


def as_targets(y: Any) -> Any:
    """Labels as the data layer reads them: array-likes without ``len()`` as arrays, column vectors flat.

    A ``[N, 1]`` array, tensor or one-column DataFrame is flattened to ``[N]`` with scikit-learn's
    ``DataConversionWarning`` (one label column is a binary task either way). Label lists (Python
    lists of lists) are left as they are.
    """
    if not hasattr(y, "__len__") and hasattr(y, "__array__"):
        y = np.asarray(y)
    if hasattr(y, "detach"):
        y = y.detach().cpu().numpy()
    shape = getattr(y, "shape", None)
    if shape is not None and len(shape) == 2 and shape[1] == 1:
        from sklearn.exceptions import DataConversionWarning  # imported here: importing sklearn takes seconds

        warnings.warn(
            "A column-vector y was passed when a 1d array was expected. Please change the shape of y to "
            "(n_samples,), for example using ravel(); logitlab flattened it.",
            DataConversionWarning,
            stacklevel=3,
        )
        y = np.asarray(y).reshape(-1)
    return y
