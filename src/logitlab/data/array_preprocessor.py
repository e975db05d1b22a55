"""In-memory arrays as features: numeric conversion with checks, and per-feature / per-channel standardisation.

:func:`as_numeric` turns NumPy arrays, tensors, DataFrames and lists into float64 arrays (refusing
text, 1-D and infinite values), and scipy sparse matrices into checked CSR arrays;
:class:`ArrayPreprocessor` standardises ``[N, F]`` features per feature and ``[N, C, H, W]`` images
per channel (sparse features are scaled, not centred: see :mod:`logitlab.data.sparse`), and
round-trips through ``to_dict`` / :func:`~logitlab.data.preprocessor_from_dict`.

Examples:
    >>> as_numeric([[1, 2], [3, 4]]).dtype
    dtype('float64')
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from torch import Tensor

from ..errors import DataError
from .sparse import SparseRows, as_sparse, column_scale, is_sparse

__all__ = ["ArrayPreprocessor", "as_numeric"]


def as_numeric(X: Any) -> Any:
    """``X`` as a float64 array of at least two dimensions, with no infinite values (sparse: a CSR array).

    Raises:
        DataError: values that are not numbers, a 1-D array, or infinite values.
    """
    if is_sparse(X):
        return as_sparse(X)
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


class ArrayPreprocessor:
    """Standardise a NumPy array per feature (``[N, F]``) or per channel (``[N, C, ...]``).

    ``transform(x) = (x * multiplier - mean) / scale`` with NaN imputed by the feature's median.
    Fitted on a sparse matrix, ``mean`` is 0 (scale only, so the features stay sparse); either kind
    of fit transforms dense arrays (:meth:`transform`) and sparse matrices (:meth:`rows`).

    Args:
        shape (tuple[int, ...]): the shape of one sample.
        mean (list[float]): per-feature (or per-channel) mean after ``multiplier``.
        scale (list[float]): per-feature (or per-channel) std (1 where the std is 0).
        fill (list[float]): per-feature (or per-channel) median used for NaN. Default: zeros.
        multiplier (float): applied first (e.g. ``1/16`` for 4-bit pixels). Default: ``1.0``.

    Examples:
        >>> pre = ArrayPreprocessor.fit(np.array([[0.0, 10.0], [2.0, 30.0]]))
        >>> pre.transform(np.array([[1.0, 20.0]])).tolist()
        [[0.0, 0.0]]
    """

    kind = "array"

    def __init__(
        self,
        shape: tuple[int, ...],
        mean: list[float],
        scale: list[float],
        fill: list[float] | None = None,
        multiplier: float = 1.0,
    ) -> None:
        self.shape = tuple(int(s) for s in shape)
        self.mean = [float(v) for v in mean]
        self.scale = [float(v) for v in scale]
        self.fill = [float(v) for v in fill] if fill is not None else [0.0] * len(self.mean)
        self.multiplier = float(multiplier)

    @classmethod
    def fit(
        cls, x: Any, *, standardize: bool = True, multiplier: float = 1.0, notes: list[str] | None = None
    ) -> ArrayPreprocessor:
        """Fit on training samples ``x`` (``[N, F]`` per feature, ``[N, C, H, W]`` per channel; or sparse ``[N, F]``)."""
        if is_sparse(x):
            return cls._fit_sparse(as_sparse(x), standardize=standardize, multiplier=multiplier, notes=notes)
        arr = np.asarray(x, dtype=np.float64) * multiplier
        flat = _per_unit(arr)
        fill = np.nan_to_num(np.nanmedian(flat, axis=0)) if np.isnan(flat).any() else np.zeros(flat.shape[1])
        if np.isnan(flat).any() and notes is not None:
            notes.append(f"{int(np.isnan(flat).sum())} missing feature values imputed with the median")
        flat = np.where(np.isnan(flat), fill, flat)
        if not standardize:
            return cls(arr.shape[1:], [0.0] * flat.shape[1], [1.0] * flat.shape[1], list(fill), multiplier)
        std = flat.std(axis=0)
        return cls(
            arr.shape[1:], list(flat.mean(axis=0)), list(np.where(std > 0, std, 1.0)), list(fill), multiplier
        )

    @classmethod
    def _fit_sparse(
        cls, x: Any, *, standardize: bool, multiplier: float, notes: list[str] | None
    ) -> ArrayPreprocessor:
        f = int(x.shape[1])
        scale = column_scale(x if multiplier == 1.0 else x * multiplier) if standardize else np.ones(f)
        if standardize and notes is not None:
            notes.append(
                "sparse features scaled by their standard deviation, not centred (keeps them sparse)"
            )
        return cls((f,), [0.0] * f, list(scale), [0.0] * f, multiplier)

    def rows(self, x: Any) -> SparseRows:
        """Sparse ``x`` ``[N, F]`` as a lazy :class:`SparseRows` dataset, transformed batch by batch.

        Raises:
            DataError: another number of features than at fit time, or a model fitted on images.
        """
        csr = as_sparse(x, min_rows=0)
        if tuple(csr.shape[1:]) != self.shape:
            raise DataError(
                f"Expected samples of shape {list(self.shape)}; got sparse rows of shape {list(csr.shape[1:])}.",
                fix="give inputs shaped like the training data.",
                code="bad-input-shape",
            )
        return SparseRows(csr, mean=self.mean, scale=self.scale, multiplier=self.multiplier)

    def transform(self, x: Any) -> np.ndarray:
        """float32 standardised copy of ``x`` (``[N, *shape]``)."""
        arr = np.asarray(x, dtype=np.float64) * self.multiplier
        if tuple(arr.shape[1:]) != self.shape:
            raise DataError(
                f"Expected samples of shape {list(self.shape)}; got {list(arr.shape[1:])}.",
                fix="give inputs shaped like the training data.",
                code="bad-input-shape",
            )
        shape = (1, -1) + (1,) * (arr.ndim - 2)
        fill, mean, scale = (np.asarray(v).reshape(shape) for v in (self.fill, self.mean, self.scale))
        arr = np.where(np.isnan(arr), fill, arr) if np.isnan(arr).any() else arr
        return ((arr - mean) / scale).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict; :func:`~logitlab.data.preprocessor_from_dict` rebuilds it."""
        return {
            "type": self.kind,
            "shape": list(self.shape),
            "mean": self.mean,
            "scale": self.scale,
            "fill": self.fill,
            "multiplier": self.multiplier,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ArrayPreprocessor:
        """Rebuild from :meth:`to_dict` output."""
        return cls(tuple(d["shape"]), d["mean"], d["scale"], d.get("fill"), d.get("multiplier", 1.0))


def _per_unit(arr: np.ndarray) -> np.ndarray:
    """``[N, F]`` stays; ``[N, C, ...]`` becomes ``[N * prod(...), C]`` (per-channel statistics)."""
    if arr.ndim == 2:
        return arr
    if arr.ndim < 2:
        raise DataError(f"Expected 2-D [N, F] or image [N, C, H, W] inputs; got shape {list(arr.shape)}.")
    return np.moveaxis(arr, 1, -1).reshape(-1, arr.shape[1])
