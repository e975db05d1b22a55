"""scikit-learn's ``train_test_split`` and ``StratifiedKFold(shuffle=True)`` without importing scikit-learn.

``import sklearn`` pulls in ``scipy.stats`` and pandas: 1-1.5 s on an idle core, 4-5 s on a loaded one,
more than fitting a linear model on a small table. The validation and test splits of a binary or
multi-class fit are one call each, and its cross-fitting folds one more, so :func:`train_test_split`
follows scikit-learn 1.x's ``train_test_split(rows, test_size=share, random_state=seed, stratify=labels)``
step for step (``ShuffleSplit`` / ``StratifiedShuffleSplit``: the sizes, ``_approximate_mode``, and the
same draws from a ``numpy.random.RandomState(seed)``) and :func:`stratified_folds` its
``StratifiedKFold(n_folds, shuffle=True, random_state=seed)``, so a seed gives the same rows as before;
tests compare them on random inputs.

Examples:
    >>> import numpy as np
    >>> kept, held = train_test_split(np.arange(10), 0.3, seed=0, stratify=np.array([0] * 6 + [1] * 4))
    >>> sorted(held.tolist()), len(kept)
    ([0, 4, 7], 7)
"""

from __future__ import annotations

import math
import warnings

import numpy as np

__all__ = ["stratified_folds", "train_test_split"]


def train_test_split(
    rows: np.ndarray, test_size: float, *, seed: int, stratify: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(kept, held out)`` positions of ``rows``, as ``sklearn.model_selection.train_test_split`` draws them.

    Args:
        rows (array[N]): the positions to split.
        test_size (float): the held-out share, in (0, 1); ``ceil(test_size * N)`` rows are held out.
        seed (int): seed of a ``numpy.random.RandomState``.
        stratify (array[N] of int, optional): class codes; each class's share is kept on both sides.

    Raises:
        ValueError: as scikit-learn raises it (an empty side, a class with one row, a side with fewer rows
            than classes).
    """
    n = len(rows)
    n_test = math.ceil(test_size * n)
    n_train = n - n_test
    if n_train <= 0 or n_test <= 0:
        raise ValueError(f"With n_samples={n} and test_size={test_size}, one of the two sides is empty.")
    rng = np.random.RandomState(seed)
    if stratify is None:
        order = rng.permutation(n)
        return rows[order[n_test:]], rows[order[:n_test]]
    classes, codes, counts = np.unique(stratify, return_inverse=True, return_counts=True)
    if counts.min() < 2:
        raise ValueError(
            f"The least populated classes in y have only 1 member: {classes[counts < 2].tolist()}."
        )
    if min(n_train, n_test) < len(classes):
        raise ValueError(
            f"Each side needs a row per class: {n_train} and {n_test} rows, {len(classes)} classes."
        )
    members = np.split(np.argsort(codes.reshape(-1), kind="stable"), np.cumsum(counts)[:-1])
    n_i = _approximate_mode(counts, n_train, rng)
    t_i = _approximate_mode(counts - n_i, n_test, rng)
    train: list[int] = []
    test: list[int] = []
    for i in range(len(classes)):
        shuffled = members[i].take(rng.permutation(counts[i]), mode="clip")
        train.extend(shuffled[: n_i[i]])
        test.extend(shuffled[n_i[i] : n_i[i] + t_i[i]])
    return rows[rng.permutation(train)], rows[rng.permutation(test)]


def _approximate_mode(class_counts: np.ndarray, n_draws: int, rng: np.random.RandomState) -> np.ndarray:
    """Rows per class for ``n_draws`` draws: the floored shares, the rest by largest remainder (ties drawn)."""
    continuous = class_counts / class_counts.sum() * n_draws
    floored = np.floor(continuous)
    need_to_add = int(n_draws - floored.sum())
    if need_to_add > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (inds,) = np.where(remainder == value)
            add_now = min(len(inds), need_to_add)
            floored[rng.choice(inds, size=add_now, replace=False)] += 1
            need_to_add -= add_now
            if need_to_add == 0:
                break
    return floored.astype(int)


def stratified_folds(labels: np.ndarray, n_folds: int, *, seed: int) -> list[np.ndarray]:
    """Held-out positions of each fold, as ``StratifiedKFold(n_folds, shuffle=True, random_state=seed)``.

    Args:
        labels (array[N] of int): class codes.
        n_folds (int): folds, at most ``N``.
        seed (int): seed of a ``numpy.random.RandomState``.

    Raises:
        ValueError: ``n_folds`` above ``N``, or above every class's rows (as scikit-learn; a class with
            fewer rows than folds gets a ``UserWarning`` and is held out in as many folds as it has rows).

    Examples:
        >>> [f.tolist() for f in stratified_folds(np.array([0, 0, 1, 1, 0, 1]), 3, seed=0)]
        [[3, 4], [1, 5], [0, 2]]
    """
    y = np.asarray(labels).reshape(-1)
    if n_folds > len(y):
        raise ValueError(
            f"Cannot have number of splits n_splits={n_folds} greater than the number of samples: {len(y)}."
        )
    _, first, inverse = np.unique(y, return_index=True, return_inverse=True)
    _, class_perm = np.unique(first, return_inverse=True)
    encoded = class_perm[inverse.reshape(-1)]  # classes numbered by first appearance, as scikit-learn does
    n_classes = len(first)
    counts = np.bincount(encoded)
    if np.all(n_folds > counts):
        raise ValueError(f"n_splits={n_folds} cannot be greater than the number of members in each class.")
    if n_folds > counts.min():
        warnings.warn(
            f"The least populated class in y has only {counts.min()} members, which is less than n_splits={n_folds}.",
            UserWarning,
            stacklevel=2,
        )
    order = np.sort(encoded)
    allocation = np.asarray([np.bincount(order[i::n_folds], minlength=n_classes) for i in range(n_folds)])
    rng = np.random.RandomState(seed)
    test_folds = np.empty(len(y), dtype="i")
    for k in range(n_classes):
        folds_for_class = np.arange(n_folds).repeat(allocation[:, k])
        rng.shuffle(folds_for_class)
        test_folds[encoded == k] = folds_for_class
    return [np.flatnonzero(test_folds == i) for i in range(n_folds)]
