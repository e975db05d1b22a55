"""Seeded, stratified train/validation/test splits, multi-label aware.

Binary and multi-class targets are split as scikit-learn's ``train_test_split(stratify=...)`` splits them
(:mod:`.shuffle_split`, the same rows for a seed, without importing scikit-learn);
multi-label targets with iterative stratification (Sechidis, Tsoumakas and Vlahavas, "On the
Stratification of Multi-Label Data", ECML PKDD 2011), which keeps each label's share close in
every split.

Examples:
    >>> import numpy as np
    >>> y = np.array([0] * 80 + [1] * 20)
    >>> train, val, test, notes = split_indices(y, "binary", val_size=0.2, test_size=0.2, seed=0)
    >>> len(train), len(val), len(test), int(y[val].sum()), int(y[test].sum())
    (60, 20, 20, 4, 4)
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..errors import ConfigError
from ..options import FEW_ROWS, TEST_SIZE, VAL_SIZE
from ..tasks import Task
from .label_encoder import LabelEncoder
from .shuffle_split import stratified_folds, train_test_split

__all__ = ["fold_indices", "iterative_stratification", "small_split_notes", "split_indices"]


def split_indices(
    y: Any,
    task: Task | str,
    *,
    val_size: float = VAL_SIZE,
    test_size: float = TEST_SIZE,
    seed: int = 0,
    names: Any = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Split row positions into train, validation and test, stratified by the targets.

    Args:
        y (array[N], array[N, 1] or array[N, L]): encoded targets (class indices, 0/1, or a 0/1 matrix).
        task (Task or str): decides the stratification (iterative for multilabel).
        val_size (float): share of rows for validation, in [0, 1). Default: ``0.15``.
        test_size (float): share of rows for test, in [0, 1). Default: ``0.15``.
        seed (int): seed of the shuffle. Default: ``0``.
        names (sequence, optional): class names, for the notes. Default: the class indices.

    Returns:
        ``(train, val, test, notes)``: sorted int64 position arrays, and notes on any fallback.

    Raises:
        ConfigError: sizes out of range or summing to 1 or more.
    """
    _check_sizes(val_size, test_size)
    task = Task.from_str(task)
    arr = np.asarray(y)
    n = len(arr)
    if task is Task.MULTILABEL:
        mat = arr.reshape(n, -1) >= 0.5
        parts = iterative_stratification(mat, [1 - val_size - test_size, val_size, test_size], seed=seed)
        return parts[0], parts[1], parts[2], []
    labels = _class_codes(arr, task)
    notes: list[str] = []
    rest, test = _two_way(np.arange(n), labels, test_size, seed, "test", notes, names)
    inner = val_size / (1 - test_size) if val_size > 0 else 0.0
    train, val = _two_way(rest, labels[rest], inner, seed + 1, "validation", notes, names)
    return np.sort(train), np.sort(val), np.sort(test), notes


def _class_codes(arr: np.ndarray, task: Task) -> np.ndarray:
    """Binary ``[N, 1]`` 0/1 -> ``[N]``; multiclass indices ``[N]``, or soft rows ``[N, C]`` -> their argmax."""
    if arr.ndim > 1 and task is Task.MULTICLASS and arr.shape[1] > 1:
        return arr.argmax(1).astype(np.int64)
    return (
        np.round(arr.reshape(len(arr), -1)[:, 0]).astype(np.int64) if arr.ndim > 1 else arr.astype(np.int64)
    )


def _check_sizes(val_size: float, test_size: float) -> None:
    for name, v in (("val_size", val_size), ("test_size", test_size)):
        if not 0 <= v < 1:
            raise ConfigError(
                f"Expected argument `{name}` to be a share in [0, 1); got {v}.",
                fix=f"use {name}={VAL_SIZE if name == 'val_size' else TEST_SIZE}, or 0 for no such split.",
                code="bad-split-size",
            )
    if val_size + test_size >= 1:
        raise ConfigError(
            f"val_size + test_size must leave rows for training; got {val_size} + {test_size} >= 1.",
            fix=f"use val_size={VAL_SIZE}, test_size={TEST_SIZE}.",
            code="bad-split-size",
        )


def _two_way(
    idx: np.ndarray, labels: np.ndarray, size: float, seed: int, what: str, notes: list[str], names: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Stratified ``(kept, held out)``; a class with a single row stays on the kept side, the rest is stratified."""
    if size <= 0 or len(idx) < 2:
        return idx, idx[:0]
    counts = np.bincount(labels)
    single = np.flatnonzero(counts == 1)
    if len(single):
        shown = [names[c] if names is not None and c < len(names) else c for c in single.tolist()]
        notes.append(
            f"classes {', '.join(map(repr, shown))} have a single row: kept in training, no {what} rows"
        )
    lone = np.isin(labels, single)
    rest, rest_labels = idx[~lone], labels[~lone]
    if len(rest) < 2:
        return idx, idx[:0]
    present = int((np.bincount(rest_labels) > 0).sum())
    n_part = math.ceil(size * len(idx))
    share = min(n_part, len(rest) - 1) / len(rest)  # the held-out rows, as a share of the rest
    if min(n_part, len(rest) - n_part) >= present:
        a, b = train_test_split(rest, share, seed=seed, stratify=rest_labels)
    else:  # stratifying needs a place for every class on both sides
        notes.append(
            f"the {what} split is not stratified: {n_part} {what} rows cannot hold each of the {present} "
            "classes; its rows are drawn at random"
        )
        a, b = train_test_split(rest, share, seed=seed)
    kept = np.concatenate([np.asarray(a, dtype=np.int64), idx[lone].astype(np.int64)])
    return kept, np.asarray(b, dtype=np.int64)


def fold_indices(
    y: Any, task: Task | str, n_folds: int, *, seed: int = 0, names: Any = None
) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[str]]:
    """Stratified K-fold ``(train, held out)`` position pairs, multi-label aware.

    Binary and multi-class targets follow scikit-learn's ``StratifiedKFold(shuffle=True)`` (as
    :func:`~.shuffle_split.stratified_folds` draws it, without importing scikit-learn), except that a
    class with a single row is in no held-out fold (it stays in every fold's training rows); multi-label
    targets are split into ``n_folds`` parts by :func:`iterative_stratification`. Every other row is held
    out exactly once, so out-of-fold predictions cover it.

    Args:
        y (array[N], array[N, 1] or array[N, L]): encoded targets (class indices, 0/1, or a 0/1 matrix).
        task (Task or str): the task (iterative stratification for multilabel).
        n_folds (int): folds, at least 2.
        seed (int): seed of the shuffle. Default: ``0``.
        names (sequence, optional): class names, for the notes. Default: the class indices.

    Returns:
        ``(folds, notes)``: ``n_folds`` pairs of sorted int64 position arrays, and notes on singletons.

    Examples:
        >>> y = np.array([0] * 8 + [1] * 4 + [2])
        >>> folds, notes = fold_indices(y, "multiclass", 4)
        >>> [np.bincount(y[held], minlength=3).tolist() for _, held in folds]
        [[2, 1, 0], [2, 1, 0], [2, 1, 0], [2, 1, 0]]
        >>> notes
        ['classes 2 have a single row: kept in training, no out-of-fold rows']
    """
    task = Task.from_str(task)
    arr = np.asarray(y)
    n = len(arr)
    if not isinstance(n_folds, int) or not 2 <= n_folds <= n:
        raise ConfigError(
            f"Expected `n_folds` between 2 and the {n} rows; got {n_folds!r}.",
            fix="use cv=5 (or cv=1 for one validation split).",
            code="bad-folds",
        )
    everything = np.arange(n, dtype=np.int64)
    if task is Task.MULTILABEL:
        parts = iterative_stratification(arr.reshape(n, -1) >= 0.5, [1 / n_folds] * n_folds, seed=seed)
        return [(np.setdiff1d(everything, p), p) for p in parts], []
    labels = _class_codes(arr, task)
    single = np.flatnonzero(np.bincount(labels) == 1)
    notes = []
    if len(single):
        shown = [names[c] if names is not None and c < len(names) else c for c in single.tolist()]
        notes.append(
            f"classes {', '.join(map(repr, shown))} have a single row: kept in training, no out-of-fold rows"
        )
    rest = everything[~np.isin(labels, single)]
    if len(rest) < n_folds:
        raise ConfigError(
            f"Expected at least one row per fold; got {len(rest)} rows (not counting single-row classes) "
            f"for {n_folds} folds.",
            fix="use fewer folds (cv=2), or cv=1 for one validation split.",
            code="bad-folds",
        )
    with warnings.catch_warnings():  # "the least populated class has only m members": such a class is
        warnings.simplefilter("ignore", UserWarning)  # held out in m of the folds, as it can be
        held_out = stratified_folds(labels[rest], n_folds, seed=seed)
        folds = [(np.setdiff1d(everything, rest[held]), np.sort(rest[held])) for held in held_out]
    return folds, notes


def iterative_stratification(y: Any, proportions: Any, *, seed: int = 0) -> list[np.ndarray]:
    """Iterative stratification of a multi-label matrix (Sechidis et al., 2011, Algorithm 1).

    Labels are handled from the rarest to the most common; each row carrying the current label
    goes to the subset that still most wants that label (ties: the subset that wants the most rows,
    then at random). Rows without any label are spread by the subsets' remaining sizes.

    Args:
        y (array[N, L]): 0/1 label matrix.
        proportions (sequence of float): share of each subset, summing to 1.
        seed (int): seed for tie-breaking and row order. Default: ``0``.

    Returns:
        list of sorted int64 position arrays, one per subset.

    Examples:
        >>> y = np.array([[1, 0]] * 10 + [[0, 1]] * 10 + [[1, 1]] * 10)
        >>> a, b = iterative_stratification(y, [0.5, 0.5])
        >>> y[a].sum(0).tolist(), y[b].sum(0).tolist()
        ([10, 10], [10, 10])
    """
    rng = np.random.default_rng(seed)
    mat = np.asarray(y).astype(bool)
    n, n_labels = mat.shape
    props = np.asarray(proportions, dtype=np.float64)
    k = len(props)
    rows_wanted = props * n
    labels_wanted = np.outer(props, mat.sum(axis=0)).astype(np.float64)
    rows_wanted[props <= 0] = -np.inf  # an empty subset never wins a row
    labels_wanted[props <= 0] = -np.inf
    # The row-by-row bookkeeping runs on Python floats (k of them): the same IEEE arithmetic as numpy's
    # float64, without a numpy call per row. A subset's want of a label is only read while that label is
    # handled, so it is brought up to date then: one subtraction of 1.0 per row that subset already took
    # with the label, in sequence, exactly the value a per-row update of every label would hold.
    want_rows = rows_wanted.tolist()
    assigned = np.full(n, -1, dtype=np.int64)
    counts = mat.sum(axis=0)  # rows not yet assigned, per label
    while True:
        active = np.flatnonzero(counts > 0)
        if len(active) == 0:
            break
        rarest = active[counts[active] == counts[active].min()]
        label = int(rng.choice(rarest))
        column = mat[:, label]
        taken = np.bincount(assigned[column & (assigned >= 0)], minlength=k).tolist()
        want = [_less_ones(w, t) for w, t in zip(labels_wanted[:, label].tolist(), taken)]
        rows = rng.permutation(np.flatnonzero(column & (assigned < 0)))
        picks = []
        for _ in range(len(rows)):
            subset = _pick(want, want_rows, rng)
            picks.append(subset)
            want[subset] -= 1.0
            want_rows[subset] -= 1.0
        assigned[rows] = picks
        counts = counts - mat[rows].sum(axis=0)
    rows = rng.permutation(np.flatnonzero(assigned < 0))
    picks = []
    for _ in range(len(rows)):
        subset = _pick(want_rows, want_rows, rng)
        picks.append(subset)
        want_rows[subset] -= 1.0
    assigned[rows] = picks
    return [np.flatnonzero(assigned == s).astype(np.int64) for s in range(k)]


def _less_ones(value: float, times: int) -> float:
    """``value`` less 1.0, ``times`` times in sequence (rounded each time, as the per-row updates were)."""
    for _ in range(times):
        value -= 1.0
    return value


def _pick(primary: list[float], secondary: list[float], rng: np.random.Generator) -> int:
    """The subset that wants the most (``primary``), then ``secondary``, then one of the ties at random."""
    top = max(primary)
    best = [i for i, v in enumerate(primary) if v == top]
    if len(best) > 1:
        top = max(secondary[i] for i in best)
        best = [i for i in best if secondary[i] == top]
    return best[0] if len(best) == 1 else int(rng.choice(best))


def small_split_notes(enc: LabelEncoder, splits: dict[str, Tensor]) -> list[str]:
    """Notes on classes (multilabel: labels, by their positive or negative rows) with few rows in a split.

    The validation split picks the best epoch and tunes the thresholds; the test split gives the
    reported metrics: a class seen a handful of times there makes either step a guess.

    Examples:
        >>> enc = LabelEncoder.fit(["a", "b", "c"])
        >>> small_split_notes(enc, {"test": torch.tensor([0] * 10 + [1, 2])})
        ["test split: classes 'b' (1 row), 'c' (1 row) have fewer than 10 rows: their test metrics are noisy; pass a larger test_size or gather more data"]
    """
    notes = []
    for what, y in splits.items():
        if len(y) == 0 or enc.soft:
            continue
        counts = _row_counts(enc, y)
        few = [(name, n, text) for name, n, text in counts if n < FEW_ROWS]
        if not few:
            continue
        shown = ", ".join(f"{name!r} ({text})" for name, _, text in few[:5])
        more = " ..." if len(few) > 5 else ""
        kind = "labels" if enc.task is Task.MULTILABEL else "classes"
        if what == "validation":
            done = (
                "a Classifier keeps their thresholds at the default (0.5 / no class bias) and picks the "
                "best epoch on few rows; pass a larger val_size or gather more data"
            )
        else:
            done = "their test metrics are noisy; pass a larger test_size or gather more data"
        notes.append(f"{what} split: {kind} {shown}{more} have fewer than {FEW_ROWS} rows: {done}")
    return notes


def _row_counts(enc: LabelEncoder, y: Tensor) -> list[tuple[str, int, str]]:
    """``(name, rows, as said)`` per class; multilabel: per label, the smaller of its positive and negative rows.

    Examples:
        >>> enc = LabelEncoder.fit([["a", "b"], ["b"], ["a", "b"]], "multilabel")
        >>> _row_counts(enc, torch.tensor([[1.0, 1.0], [0.0, 1.0], [1.0, 1.0]]))
        [('a', 1, '1 row without it'), ('b', 0, 'in every row')]
    """
    if enc.task is Task.MULTILABEL:
        out = []
        for name, p in zip(enc.classes, y.reshape(len(y), -1).sum(0).round().long().tolist()):
            n, fewer = (p, "with") if p <= len(y) - p else (len(y) - p, "without")
            text = "in every row" if p == len(y) else "in no row" if p == 0 else _rows(n) + f" {fewer} it"
            out.append((str(name), int(n), text))
        return out
    codes = y.reshape(len(y), -1)[:, 0].round().long() if enc.task is Task.BINARY else y.long()
    counts = torch.bincount(codes, minlength=len(enc.classes)).tolist()
    return [(str(c), int(n), _rows(int(n))) for c, n in zip(enc.classes, counts)]


def _rows(n: int) -> str:
    return f"{n} row{'s' if n != 1 else ''}"
