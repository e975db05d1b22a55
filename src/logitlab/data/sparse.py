"""Sparse features: scipy CSR/CSC matrices and sparse arrays, scaled without centring, densified per batch.

TF-IDF and hashed text features are sparse: a 100,000 x 200,000 matrix at 0.01% density holds 2
million values (24 MB as CSR) but 80 GB dense. :func:`as_sparse` checks such a matrix once (numbers,
finite, not empty) and keeps it in CSR form; :func:`column_scale` gives the per-column standard
deviation from the stored values alone; :class:`SparseRows` is a torch ``Dataset`` over the rows whose
``__getitems__`` densifies one batch at a time, so the trainer's ``DataLoader`` and the classifier's
inference batches never hold more than a batch of dense rows. Centring would turn every zero into
``-mean / scale`` and densify the matrix, so sparse features are only divided by their scale (as
``StandardScaler(with_mean=False)`` does).

Examples:
    >>> import numpy as np
    >>> from scipy import sparse
    >>> X = sparse.csr_array(np.array([[0.0, 2.0], [4.0, 0.0], [0.0, 0.0], [0.0, 2.0]]))
    >>> column_scale(X).round(4).tolist()
    [1.7321, 1.0]
    >>> rows = SparseRows(X, scale=column_scale(X))
    >>> len(rows), rows.__getitems__([1, 3])[1].tolist()
    (4, [0.0, 2.0])
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from ..errors import DataError, DataTypeError
from .batches import InMemoryLoader

if TYPE_CHECKING:
    from scipy import sparse

__all__ = ["SparseLoader", "SparseRows", "as_sparse", "column_scale", "is_sparse", "torch_csr"]


def is_sparse(X: Any) -> bool:
    """``X`` is a scipy sparse matrix or sparse array (any format)."""
    if (
        "scipy.sparse" not in sys.modules
    ):  # nothing sparse can exist yet: predicting a table never imports scipy
        return False
    from scipy import sparse

    return bool(sparse.issparse(X))


def as_sparse(X: Any, *, min_rows: int = 1) -> sparse.csr_array:
    """A scipy sparse ``X`` as a float64 CSR array with canonical indices; the input is never modified.

    Args:
        X (scipy sparse matrix or array [N, F], any format): the features.
        min_rows (int): fewest rows accepted. Default: ``1``.

    Raises:
        DataError: complex values, NaN or infinite stored values, no rows or no columns.
        DataTypeError: values that are not numbers.
    """
    from scipy import sparse

    if X.dtype.kind == "c":
        raise DataError(
            f"Complex data not supported: got a sparse {X.dtype} matrix.",
            fix="pass the real part (X.real) or its magnitude (abs(X)) as features.",
            code="complex-features",
        )
    try:
        csr = sparse.csr_array(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataTypeError(
            f"Expected numeric sparse features; could not convert them to float ({exc}).",
            fix="build the sparse matrix from numbers (e.g. X.astype(np.float64)).",
            code="non-numeric-features",
        ) from None
    if not csr.has_canonical_format:  # duplicates or unsorted indices: fix a copy, never the caller's matrix
        csr = csr.copy()
        csr.sum_duplicates()
    _check_size(csr.shape, min_rows)
    _check_values(csr)
    return csr


def _check_size(shape: tuple[int, ...], min_rows: int) -> None:
    n, f = shape
    if n < min_rows:
        raise DataError(
            f"Found array with {n} sample(s) (shape=({n}, {f})) while a minimum of {min_rows} is required.",
            fix="pass at least one row of features.",
            code="empty-features",
        )
    if f < 1:
        raise DataError(
            f"Found array with 0 feature(s) (shape=({n}, 0)) while a minimum of 1 is required.",
            fix="pass at least one feature column.",
            code="empty-features",
        )


def _check_values(csr: sparse.csr_array) -> None:
    nan, inf = np.isnan(csr.data), np.isinf(csr.data)
    if not (nan.any() or inf.any()):
        return
    rows = np.unique(np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))[nan | inf])
    shown = ", ".join(str(int(r)) for r in rows[:10])
    what = "NaN" if nan.any() and not inf.any() else "inf" if not nan.any() else "NaN and inf"
    raise DataError(
        f"Expected finite sparse features; {int(nan.sum())} NaN and {int(inf.sum())} inf stored values "
        f"in {len(rows)} rows (row positions {shown}).",
        fix=f"replace the {what} values (X.data = np.nan_to_num(X.data)); NaN is imputed only in dense X.",
        code="nonfinite-features",
    )


def column_scale(X: sparse.csr_array) -> np.ndarray:
    """Per-column standard deviation (``ddof=0``) of a CSR array, 1 where it is 0; memory O(nnz + F).

    Two passes over the stored values: the mean, then the squared deviations of the stored values
    plus ``mean**2`` for each implicit zero.
    """
    n, f = X.shape
    counts = np.bincount(X.indices, minlength=f)
    mean = np.bincount(X.indices, weights=X.data, minlength=f) / n
    dev = X.data - mean[X.indices]
    var = (np.bincount(X.indices, weights=dev * dev, minlength=f) + (n - counts) * mean**2) / n
    std = np.sqrt(np.maximum(var, 0.0))
    return np.where(std > 0, std, 1.0)


class SparseRows(Dataset):
    """The rows of a CSR array as float32 tensors ``[F]``, ``(x - mean) / scale``, densified one batch at a time.

    ``__getitems__`` (used by ``DataLoader`` for a whole batch, and by
    :func:`~logitlab.data.bundle.iter_batches`) slices the batch's rows out of the CSR array and
    densifies only them, so memory is bounded by the batch, not the matrix.

    Args:
        matrix (csr_array [N, F]): checked features (see :func:`as_sparse`).
        mean (array [F], optional): subtracted after densifying (a model trained on dense arrays).
            Default: none (sparse-trained models are never centred).
        scale (array [F], optional): divided by. Default: ones.
        multiplier (float): applied first. Default: ``1.0``.
        index (array [M], optional): the rows of ``matrix`` this dataset holds, in order (a split);
            the matrix is shared, not copied. Default: every row.
        native (bool): batches for a sparse-native model (:mod:`logitlab.models.sparse`): the trainer and
            inference read them as torch sparse CSR tensors (:meth:`torch_batch`), never densified.
            Default: ``False``.
    """

    def __init__(
        self,
        matrix: sparse.csr_array,
        *,
        mean: Any = None,
        scale: Any = None,
        multiplier: float = 1.0,
        index: Any = None,
        native: bool = False,
    ) -> None:
        self.matrix = matrix
        self.native = bool(native)
        self.mean = None if mean is None or not np.any(mean) else np.asarray(mean, dtype=np.float64)
        self.scale = np.ones(matrix.shape[1]) if scale is None else np.asarray(scale, dtype=np.float64)
        self.multiplier = float(multiplier)
        self.index = None if index is None else np.asarray(index, dtype=np.int64)

    def __len__(self) -> int:
        return int(self.matrix.shape[0] if self.index is None else len(self.index))

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, features)`` of the dataset."""
        return len(self), int(self.matrix.shape[1])

    def dense(self, positions: Sequence[int] | np.ndarray) -> np.ndarray:
        """float32 ``[len(positions), F]``: these rows densified and scaled (computed in float64, like dense X)."""
        rows = np.asarray(positions, dtype=np.int64)
        block = self.matrix[rows if self.index is None else self.index[rows]]
        if self.mean is None:  # scale the stored values only: one float32 dense block per batch
            from scipy import sparse

            values = block.data * self.multiplier / self.scale[block.indices]  # float64, as for dense X
            scaled = sparse.csr_array(
                (values.astype(np.float32), block.indices, block.indptr), shape=block.shape
            )
            return scaled.toarray()
        x = block.toarray()
        x *= self.multiplier
        x -= self.mean
        x /= self.scale
        return x.astype(np.float32)

    def __getitems__(self, positions: list[int]) -> list[Tensor]:
        """A batch of rows as views of one densified block (``DataLoader`` collates them)."""
        return list(torch.from_numpy(self.dense(positions)).unbind(0))

    def __getitem__(self, i: int) -> Tensor:
        return torch.from_numpy(self.dense([i])[0])

    def subset(self, positions: np.ndarray) -> SparseRows:
        """The rows at ``positions`` (a split), sharing the matrix."""
        index = np.asarray(positions, dtype=np.int64)
        return SparseRows(
            self.matrix,
            mean=self.mean,
            scale=self.scale,
            multiplier=self.multiplier,
            index=index if self.index is None else self.index[index],
            native=self.native,
        )

    def torch_batch(self, positions: Sequence[int] | np.ndarray) -> Tensor:
        """float32 torch sparse CSR ``[len(positions), F]`` of these rows, scaled (never centred)."""
        from scipy import sparse

        rows = np.asarray(positions, dtype=np.int64)
        block = self.matrix[rows if self.index is None else self.index[rows]]
        values = block.data * self.multiplier / self.scale[block.indices]
        return torch_csr(sparse.csr_array((values, block.indices, block.indptr), shape=block.shape))


def torch_csr(matrix: Any) -> Tensor:
    """A scipy CSR matrix as a float32 torch sparse CSR tensor (int64 indices).

    Examples:
        >>> from scipy import sparse
        >>> torch_csr(sparse.csr_array(np.eye(2))).to_dense().tolist()
        [[1.0, 0.0], [0.0, 1.0]]
    """
    from scipy import sparse

    csr = sparse.csr_array(matrix)
    with (
        warnings.catch_warnings()
    ):  # "Sparse CSR tensor support is in beta state": the ops used here are stable
        warnings.filterwarnings(
            "ignore", message="Sparse CSR tensor support is in beta", category=UserWarning
        )
        return torch.sparse_csr_tensor(
            torch.from_numpy(csr.indptr.astype(np.int64)),
            torch.from_numpy(csr.indices.astype(np.int64)),
            torch.from_numpy(csr.data.astype(np.float32)),
            size=csr.shape,
            check_invariants=False,
        )


class SparseLoader(InMemoryLoader):
    """An :class:`~logitlab.data.batches.InMemoryLoader` over native :class:`SparseRows`.

    The same seeded orders and DDP shares; each batch is a torch sparse CSR tensor ``[B, F]`` with its targets.
    """

    def __init__(self, rows: SparseRows, y: Tensor | None = None, **options: Any) -> None:
        super().__init__(torch.empty((len(rows), 0)), y, **options)
        self.rows = rows

    def __iter__(self) -> Any:
        y = self.y
        for batch in self.batch_indices():
            yield self.rows.torch_batch(batch.numpy()), (y[batch.to(y.device)] if y is not None else None)
