"""The split without scikit-learn draws exactly the rows scikit-learn's train_test_split draws."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.model_selection import train_test_split as sklearn_split

from logitlab.data.shuffle_split import stratified_folds, train_test_split
from logitlab.data.split import split_indices


def test_same_rows_as_sklearn_train_test_split():
    rng = np.random.default_rng(0)
    stratified = 0
    for _ in range(150):
        n = int(rng.integers(4, 300))
        rows = rng.permutation(1000)[:n]
        labels = rng.integers(0, int(rng.integers(1, 6)), n)
        labels[np.isin(labels, np.flatnonzero(np.bincount(labels) < 2))] = labels.max() + 1  # no single rows
        if np.bincount(labels)[labels.max()] == 1:
            labels[labels == labels.max()] = 0
        share, seed = float(rng.uniform(0.05, 0.6)), int(rng.integers(0, 2**31))
        a, b = sklearn_split(rows, test_size=share, random_state=seed)
        ours = train_test_split(rows, share, seed=seed)
        np.testing.assert_array_equal(ours[0], a)
        np.testing.assert_array_equal(ours[1], b)
        try:
            a, b = sklearn_split(rows, test_size=share, random_state=seed, stratify=labels)
        except ValueError:
            with pytest.raises(ValueError):
                train_test_split(rows, share, seed=seed, stratify=labels)
            continue
        ours = train_test_split(rows, share, seed=seed, stratify=labels)
        np.testing.assert_array_equal(ours[0], a)
        np.testing.assert_array_equal(ours[1], b)
        stratified += 1
    assert stratified > 100  # most draws are stratifiable; the others raise as sklearn does


def test_split_indices_as_with_sklearn(monkeypatch):
    """Binary and multi-class splits (a single-row class, an unstratifiable split) as with sklearn's function."""
    import logitlab.data.split as split

    def with_sklearn(rows, share, *, seed, stratify=None):
        return sklearn_split(rows, test_size=share, random_state=seed, stratify=stratify)

    rng = np.random.default_rng(3)
    cases = [
        (np.concatenate([rng.integers(0, 4, 200), [7]]), "multiclass", 0.15, 0.15),
        (np.array([0, 1, 2, 3, 4] * 4), "multiclass", 0.1, 0.0),
        ((rng.random(500) < 0.1).astype(int), "binary", 0.2, 0.1),
    ]
    ours = [split_indices(y, task, val_size=v, test_size=t, seed=4) for y, task, v, t in cases]
    monkeypatch.setattr(split, "train_test_split", with_sklearn)
    theirs = [split_indices(y, task, val_size=v, test_size=t, seed=4) for y, task, v, t in cases]
    for a, b in zip(ours, theirs):
        for part_a, part_b in zip(a[:3], b[:3]):
            np.testing.assert_array_equal(part_a, part_b)
        assert a[3] == b[3]
    assert "single row" in ours[0][3][0] and "not stratified" in ours[1][3][0]


def test_same_folds_as_sklearn_stratified_kfold():
    from sklearn.model_selection import StratifiedKFold

    rng = np.random.default_rng(1)
    compared = 0
    for _ in range(120):
        n, folds = int(rng.integers(2, 200)), int(rng.integers(2, 7))
        labels = rng.permutation(
            rng.integers(0, int(rng.integers(1, 5)), n) * 3 + 1
        )  # codes need not start at 0
        seed = int(rng.integers(0, 2**31))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            try:
                split = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(labels, labels))
            except ValueError:
                with pytest.raises(ValueError):
                    stratified_folds(labels, folds, seed=seed)
                continue
            ours = stratified_folds(labels, folds, seed=seed)
        assert len(ours) == len(split)
        for held, (_, theirs) in zip(ours, split):
            np.testing.assert_array_equal(held, theirs)
        compared += 1
    assert compared > 80
