"""Stable row hashes, and the train/validation/test split they decide.

A streaming table is never shuffled whole, so its split cannot be a permutation. Instead each row's
split follows from a 64-bit hash of its global row index (or of a key column, so that all rows of a
user fall in one split): ``u = hash / 2**64`` is uniform in ``[0, 1)``; the row is validation if
``u < val_size``, test if ``u < val_size + test_size``, else training. The hash is SplitMix64
(Steele, Lea and Flood, "Fast Splittable Pseudorandom Number Generators", OOPSLA 2014) of the index
mixed with the seed: the same on every rank, every worker, every run and every machine, and it
needs no pass over the data.

Examples:
    >>> import numpy as np
    >>> split = HashSplit(val_size=0.2, test_size=0.1, seed=0)
    >>> codes = split.assign(np.arange(100_000))
    >>> [round(float(np.mean(codes == c)), 2) for c in (TRAIN, VAL, TEST)]
    [0.7, 0.2, 0.1]
    >>> bool((split.assign(np.arange(10)) == codes[:10]).all())
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...errors import ConfigError, DataError
from ...options import TEST_SIZE, VAL_SIZE

__all__ = ["SPLIT_NAMES", "TEST", "TRAIN", "VAL", "HashSplit", "key_hash", "splitmix64"]

TRAIN, VAL, TEST = 0, 1, 2
SPLIT_NAMES: tuple[str, ...] = ("train", "val", "test")
"""The split names, in the order of their codes (``TRAIN``, ``VAL``, ``TEST``)."""

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_HASH_KEY = "logitlab-split01"  # pandas' 16-byte key for hashing strings


def splitmix64(x: np.ndarray, seed: int = 0) -> np.ndarray:
    """SplitMix64 of ``x + seed * golden`` (uint64, wrapping), element-wise.

    Examples:
        >>> splitmix64(np.array([0, 1], dtype=np.uint64)).tolist()
        [16294208416658607535, 10451216379200822465]
    """
    with np.errstate(over="ignore"):
        z = x.astype(np.uint64) + _GOLDEN * np.uint64(seed + 1)
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def key_hash(values: np.ndarray, column: str, seed: int) -> np.ndarray:
    """uint64 hashes of a key column's values (integers by value, anything else by its text).

    Raises:
        DataError: the key column has missing values.
    """
    if values.dtype.kind in "iub":
        return splitmix64(values.astype(np.int64).view(np.uint64), seed)
    if values.dtype.kind == "f":
        if np.isnan(values).any():
            raise _missing_key(column)
        return splitmix64(values.view(np.uint64), seed)
    obj = np.asarray(values, dtype=object)
    if pd.isna(obj).any():
        raise _missing_key(column)
    return splitmix64(pd.util.hash_array(obj.astype(str).astype(object), hash_key=_HASH_KEY), seed)


def _missing_key(column: str) -> DataError:
    return DataError(
        f"The split key column {column!r} has missing values; every row needs a key to fall in one split.",
        fix=f"fill the missing {column!r} values, or split by row index (split_key=None).",
        code="missing-split-key",
    )


@dataclass(frozen=True)
class HashSplit:
    """Which split a row belongs to, by a stable hash of its row index or of a key column.

    Attributes:
        val_size (float): expected share of validation rows, in [0, 1). Default: ``0.15``.
        test_size (float): expected share of test rows, in [0, 1). Default: ``0.15``.
        seed (int): mixed into the hash; another seed gives another split. Default: ``0``.
        key (str, optional): hash this column's values instead of the row index (rows with the same
            key share a split). Default: the row index.
    """

    val_size: float = VAL_SIZE
    test_size: float = TEST_SIZE
    seed: int = 0
    key: str | None = None

    def __post_init__(self) -> None:
        for name in ("val_size", "test_size"):
            value = getattr(self, name)
            if not 0 <= value < 1:
                raise ConfigError(
                    f"Expected argument `{name}` to be a share in [0, 1); got {value}.",
                    fix=f"use {name}={VAL_SIZE if name == 'val_size' else TEST_SIZE}, or 0 for no such split.",
                    code="bad-split-size",
                )
        if self.val_size + self.test_size >= 1:
            raise ConfigError(
                f"val_size + test_size must leave rows for training; got {self.val_size} + {self.test_size} >= 1.",
                fix=f"use val_size={VAL_SIZE}, test_size={TEST_SIZE}.",
                code="bad-split-size",
            )

    def codes(self, hashes: np.ndarray) -> np.ndarray:
        """Split codes (``TRAIN``/``VAL``/``TEST``, int8) of uint64 row hashes."""
        u = (hashes >> np.uint64(11)).astype(np.float64) * 2.0**-53
        out = np.zeros(len(u), dtype=np.int8)
        out[u < self.val_size + self.test_size] = TEST
        out[u < self.val_size] = VAL
        return out

    def assign(self, row_ids: np.ndarray) -> np.ndarray:
        """Split codes of global row indices (the split by row index)."""
        return self.codes(splitmix64(np.asarray(row_ids, dtype=np.int64).view(np.uint64), self.seed))
