from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import load_breast_cancer, load_digits

from logitlab.data import (
    DataState,
    LabelEncoder,
    encode_labels,
    from_arrays,
    iterative_stratification,
    load_dataset,
    load_inputs,
    split_indices,
)
from logitlab.errors import ConfigError, DataError
from logitlab.tasks import Task


def test_breast_cancer():
    b = load_dataset("builtin:breast_cancer", seed=0)
    assert b.task is Task.BINARY and b.input_shape == (30,) and b.label_names == ["malignant"]
    y = torch.cat([b.train.y, b.val.y, b.test.y])
    assert y.shape == (569, 1) and int(y.sum()) == int((load_breast_cancer().target == 0).sum()) == 212


def test_digits_and_attributes():
    digits = load_digits()
    b = load_dataset("builtin:digits")
    assert b.task is Task.MULTICLASS and b.input_shape == (1, 8, 8) and b.n_outputs == 10
    np.testing.assert_array_equal(b.test.y.numpy(), digits.target[b.test.index])
    pixels = digits.images[b.train.index] / 16
    np.testing.assert_allclose(b.train.x.numpy()[:, 0], (pixels - pixels.mean()) / pixels.std(), atol=1e-5)
    a = load_dataset("builtin:digits-attributes")
    assert a.task is Task.MULTILABEL and a.label_names == ["even", "ge_5", "prime", "has_loop"]
    d = digits.target[a.val.index]
    ref = np.stack([d % 2 == 0, d >= 5, np.isin(d, [2, 3, 5, 7]), np.isin(d, [0, 6, 8, 9])], 1)
    np.testing.assert_array_equal(a.val.y.numpy(), ref.astype(np.float32))


def test_fraud_is_imbalanced_and_synthetic():
    b = load_dataset("builtin:fraud", seed=3)
    rate = torch.cat([b.train.y, b.val.y, b.test.y]).mean().item()
    assert 0.007 < rate < 0.015
    assert any("SYNTHETIC" in n for n in b.notes)
    for split in (b.val, b.test):  # stratified: each split keeps the positive rate
        assert abs(split.y.mean().item() - rate) < 0.002
    inputs = load_inputs("builtin:fraud", DataState.from_dict(json.loads(json.dumps(b.state.to_dict()))))
    np.testing.assert_array_equal(inputs.x[b.test.index].numpy(), b.test.x.numpy())
    with pytest.raises(DataError, match="the built-in datasets are: builtin:breast_cancer"):
        load_dataset("builtin:mnist")


def test_stratified_split_proportions():
    rng = np.random.default_rng(0)
    y = rng.choice(5, size=3000, p=[0.5, 0.2, 0.15, 0.1, 0.05])
    train, val, test, notes = split_indices(y, "multiclass", val_size=0.15, test_size=0.15, seed=7)
    assert not notes and len(np.intersect1d(train, test)) == 0 and len(train) + len(val) + len(test) == 3000
    full = np.bincount(y) / len(y)
    for part in (train, val, test):
        np.testing.assert_allclose(np.bincount(y[part], minlength=5) / len(part), full, atol=0.01)
    again = split_indices(y, "multiclass", val_size=0.15, test_size=0.15, seed=7)
    np.testing.assert_array_equal(again[2], test)
    train, _, _, notes = split_indices(np.array([0] * 20 + [1]), "binary", val_size=0.2, test_size=0.2)
    assert notes and "single row: kept in training" in notes[0] and 20 in train
    with pytest.raises(ConfigError, match="val_size"):
        split_indices(y, "multiclass", val_size=0.6, test_size=0.5)


def test_iterative_stratification_beats_tolerance():
    rng = np.random.default_rng(1)
    y = (rng.random((1000, 6)) < np.array([0.5, 0.3, 0.1, 0.05, 0.02, 0.01])).astype(int)
    parts = iterative_stratification(y, [0.7, 0.15, 0.15], seed=0)
    assert sorted(np.concatenate(parts).tolist()) == list(range(1000))
    for part, share in zip(parts, (0.7, 0.15, 0.15)):
        assert abs(len(part) - share * 1000) <= 3
        # each label's count in a part is within 1.5 of its share (a random split is off by ~sqrt(n))
        np.testing.assert_allclose(y[part].sum(0), share * y.sum(0), atol=1.5)


def test_positive_class_choice_and_json():
    assert LabelEncoder.fit([True, False, False]).positive is True
    assert LabelEncoder.fit(["benign", "malignant", "benign"]).positive == "malignant"
    # no name rule applies: the later class in sorted order, whatever the counts (stable as rows are added)
    assert LabelEncoder.fit(["a", "b", "b", "b"]).positive == "b"
    assert LabelEncoder.fit(["a", "a", "a", "b"]).positive == "b"
    assert LabelEncoder.fit([2, 5, 5], positive=5).positive == 5
    y, enc = encode_labels(pd.Series(["x", "y", "z", "x"]))
    again = LabelEncoder.fit(["q", "r"]).from_dict(json.loads(json.dumps(enc.to_dict())))
    assert again == enc and again.inverse_transform(y) == ["x", "y", "z", "x"]
    with pytest.raises(DataError, match="Expected at least two classes"):
        encode_labels(["a", "a"])
    with pytest.raises(DataError, match=r"Missing target values at index 1"):
        encode_labels([1.0, np.nan, 0.0])


def test_from_arrays_for_the_estimator():
    rng = np.random.default_rng(0)
    X = rng.normal(5, 3, size=(200, 4))
    y = (X[:, 0] > 5).astype(int)
    b = from_arrays(X, y, val_size=0.25, test_size=0.0, seed=0)
    assert len(b.test) == 0 and len(b.val) == 50 and b.label_names == ["1"]
    mean, std = X[b.train.index].mean(0), X[b.train.index].std(0)
    np.testing.assert_allclose(b.val.x.numpy(), (X[b.val.index] - mean) / std, atol=1e-5)
    state = DataState.from_dict(json.loads(json.dumps(b.state.to_dict())))
    np.testing.assert_array_equal(state.transform(X[b.val.index]).numpy(), b.val.x.numpy())
    with pytest.raises(DataError, match="X has 200 rows but y has 3 labels"):
        from_arrays(X, [0, 1, 0])


def test_task_override_and_dataframe_inputs():
    y, enc = encode_labels([0, 1, 1, 0], task="multiclass")
    assert enc.task is Task.MULTICLASS and y.dtype == torch.int64 and y.tolist() == [0, 1, 1, 0]
    with pytest.raises(DataError, match="task='binary' needs two classes"):
        encode_labels(["a", "b", "c"], task="binary")
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"n": rng.normal(size=60), "c": rng.choice(["u", "v"], 60)})
    Y = pd.DataFrame({"p": rng.integers(0, 2, 60), "q": rng.integers(0, 2, 60)})
    b = from_arrays(X, Y, val_size=0.2, test_size=0.2)
    assert b.task is Task.MULTILABEL and b.label_names == ["p", "q"] and b.input_shape == (3,)
    np.testing.assert_array_equal(b.test.y.numpy(), Y.to_numpy(np.float32)[b.test.index])
    np.testing.assert_array_equal(b.state.transform(X.iloc[b.test.index]).numpy(), b.test.x.numpy())
    assert enc.inverse_transform(torch.tensor([1, 0])) == [1, 0]


def _iterative_reference(y, proportions, seed):
    """Iterative stratification as first written: numpy bookkeeping of every label, row by row."""
    rng = np.random.default_rng(seed)
    mat = np.asarray(y).astype(bool)
    props = np.asarray(proportions, dtype=np.float64)
    want_rows, want_labels = props * len(mat), np.outer(props, mat.sum(axis=0)).astype(np.float64)
    want_rows[props <= 0], want_labels[props <= 0] = -np.inf, -np.inf
    assigned, left = np.full(len(mat), -1), mat.copy()

    def pick(primary, secondary):
        best = np.flatnonzero(primary == primary.max())
        if len(best) > 1:
            best = best[secondary[best] == secondary[best].max()]
        return int(best[0]) if len(best) == 1 else int(rng.choice(best))

    while (counts := left.sum(axis=0)).any():
        active = np.flatnonzero(counts > 0)
        label = int(rng.choice(active[counts[active] == counts[active].min()]))
        for row in rng.permutation(np.flatnonzero(left[:, label])):
            subset = pick(want_labels[:, label], want_rows)
            assigned[row] = subset
            want_labels[subset] -= mat[row]
            want_rows[subset] -= 1
            left[row] = False
    for row in rng.permutation(np.flatnonzero(assigned < 0)):
        subset = pick(want_rows, want_rows)
        assigned[row] = subset
        want_rows[subset] -= 1
    return [np.flatnonzero(assigned == k) for k in range(len(props))]


def test_iterative_stratification_same_split_as_row_by_row_bookkeeping():
    """The fast bookkeeping (wants brought up to date per label) splits exactly as the per-row one did."""
    rng = np.random.default_rng(1)
    shares = ([0.7, 0.15, 0.15], [0.5, 0.5], [0.2] * 5, [1 / 3] * 3, [0.8, 0.2, 0.0], [0.85, 0.0, 0.15])
    for _ in range(120):
        y = rng.random((int(rng.integers(1, 150)), int(rng.integers(1, 10)))) < rng.choice([0.03, 0.2, 0.6])
        props, seed = shares[int(rng.integers(len(shares)))], int(rng.integers(1000))
        got, want = iterative_stratification(y, props, seed=seed), _iterative_reference(y, props, seed)
        assert len(got) == len(want) and all(np.array_equal(a, b) for a, b in zip(got, want))
