"""Sparse X in Classifier: the same results as the dense path, taken unscaled, bounded memory.

``model="auto"`` trains the sparse-native model on sparse X (batches of torch sparse CSR tensors);
``model="mlp"`` densifies batch by batch. The dense reference is the same matrix as a NumPy array. Both paths visit the rows in the same order
(``randperm`` seeded by ``seed + epoch``), but the sparse path trains through a ``DataLoader``, which
draws its base seed from torch's global generator each epoch; that shifts the dropout masks, so the
equality tests use ``dropout=0`` (every other computation is the same, bit for bit).
"""

from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest
import torch
from scipy import sparse

from logitlab import Classifier
from logitlab.data.sparse import SparseRows, column_scale
from logitlab.errors import DataError

# the MLP on both paths (model="auto" fits a linear candidate too on dense rows, never on sparse ones)
EXACT = {"epochs": 3, "device": "cpu", "model": "mlp", "model_options": {"dropout": 0.0}, "random_state": 0}


def _data(n=300, f=40, density=0.1, seed=0, multilabel=False):
    rng = np.random.default_rng(seed)
    X = sparse.random(n, f, density=density, random_state=seed, format="csr", dtype=np.float64) * 3.0
    z = X @ rng.normal(size=(f, 3 if multilabel else 1))
    y = (z > np.median(z, axis=0)).astype(int)
    return X, (y if multilabel else y[:, 0])


@pytest.mark.parametrize("multilabel", [False, True])
def test_sparse_fit_and_predict_equal_the_dense_path(multilabel):
    X, y = _data(multilabel=multilabel)
    # val_size=0: no validation rows, so dense X (which may be cross-fitted) and sparse rows (one split) train alike
    sp_clf = Classifier(**EXACT, standardize=False, val_size=0.0).fit(X, y)
    dense = Classifier(**EXACT, standardize=False, val_size=0.0).fit(X.toarray(), y)
    assert sp_clf.task_ == ("multilabel" if multilabel else "binary") and sp_clf.n_features_in_ == 40
    np.testing.assert_array_equal(sp_clf.decision_function(X), dense.decision_function(X.toarray()))
    np.testing.assert_array_equal(sp_clf.predict_proba(X), dense.predict_proba(X.toarray()))
    np.testing.assert_array_equal(sp_clf.predict(X), dense.predict(X.toarray()))
    assert [h["train_loss"] for h in sp_clf.history_] == [h["train_loss"] for h in dense.history_]


@pytest.mark.parametrize("kind", ["csc_matrix", "csr_array", "coo_array", "lil_matrix"])
def test_every_sparse_format_gives_the_csr_results(kind):
    X, y = _data()
    clf = Classifier(**EXACT).fit(X, y)
    other = getattr(sparse, kind)(X)
    np.testing.assert_array_equal(clf.predict_proba(other), clf.predict_proba(X))
    np.testing.assert_array_equal(Classifier(**EXACT).fit(other, y).predict_proba(X), clf.predict_proba(X))


def test_sparse_x_is_taken_unscaled_by_the_sparse_model_and_matches_the_dense_path():
    X, y = _data()
    clf = Classifier(**{**EXACT, "model": "auto"}, val_size=0.0).fit(
        X, y
    )  # no validation rows: dense X is not cross-fitted either
    pre = clf.data_state_.preprocessor
    assert clf.model_spec_["name"] == "sparse" and clf.model_spec_["hidden"] == []
    assert not any(pre.mean) and set(pre.scale) == {1.0}
    assert any("not scaled" in n for n in clf.decisions_["notes"])
    # the same linear model fitted on the dense matrix: both full-batch (L-BFGS) at the same L2, one on the
    # CSR matrix (embedding_bag, transposed product), one on the dense rows: the same optimum up to float
    # rounding (the solver's path moves a little with it)
    same = {**EXACT, "model": "auto", "val_size": 0.0}
    lazy = Classifier(**same).fit(X, y)
    dense = Classifier(**{**same, "model": "sparse"}, standardize=False).fit(X.toarray(), y)
    assert (
        "L-BFGS" in lazy.decisions_["epochs"]["solver"] and "L-BFGS" in dense.decisions_["epochs"]["solver"]
    )
    np.testing.assert_allclose(
        lazy.decision_function(X), dense.decision_function(X.toarray()), rtol=1e-3, atol=1e-3
    )
    # dense input to the sparse-trained model: the same transform
    np.testing.assert_allclose(clf.predict_proba(X.toarray()), clf.predict_proba(X), rtol=1e-5, atol=1e-6)


def _val_rows(X, y):
    from logitlab.data import from_arrays

    return from_arrays(X, y, val_size=0.15, test_size=0.0, seed=0).val.index


def test_a_dense_trained_model_takes_sparse_input():
    X, y = _data()
    clf = Classifier(**EXACT).fit(X.toarray(), y)  # centred: mean != 0
    assert any(clf.data_state_.preprocessor.mean)
    np.testing.assert_allclose(clf.predict_proba(X), clf.predict_proba(X.toarray()), rtol=1e-6, atol=1e-7)


def test_column_scale_matches_numpy_with_duplicates_and_empty_columns():
    rng = np.random.default_rng(3)
    rows, cols = rng.integers(0, 50, 400), rng.integers(0, 30, 400)
    coo = sparse.coo_array((rng.normal(size=400), (rows, cols)), shape=(50, 31))  # duplicates, col 30 empty
    dense = coo.toarray()
    std = dense.std(axis=0)
    from logitlab.data.sparse import as_sparse

    np.testing.assert_allclose(column_scale(as_sparse(coo)), np.where(std > 0, std, 1.0), rtol=1e-12)
    rows_ds = SparseRows(as_sparse(coo), scale=column_scale(as_sparse(coo)))
    np.testing.assert_allclose(
        torch.stack(rows_ds.__getitems__([0, 7, 49])).numpy(), (dense[[0, 7, 49]] / rows_ds.scale), rtol=1e-6
    )


def test_sparse_model_saves_and_loads(tmp_path):
    X, y = _data(multilabel=True)
    clf = Classifier(**EXACT).fit(X, y)
    clf.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["preprocessing"]["preprocessor"]["scale"] == clf.data_state_.preprocessor.scale
    again = Classifier.load(tmp_path / "m")
    np.testing.assert_array_equal(again.predict(X), clf.predict(X))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_sparse_input_errors_name_the_fix():
    X, y = _data()
    bad = X.copy()
    bad.data[5] = np.nan
    with pytest.raises(DataError, match="NaN") as info:
        Classifier(**EXACT).fit(bad, y)
    assert "nan_to_num" in info.value.fix
    bad.data[5] = np.inf
    with pytest.raises(DataError, match="inf"):
        Classifier(**EXACT).fit(bad, y)
    clf = Classifier(**EXACT).fit(X, y)
    with pytest.raises(DataError, match="X has 39 features, but Classifier is expecting 40"):
        clf.predict(X[:, :39])
    with pytest.raises(DataError, match="Complex data not supported"):
        clf.predict(X.astype(np.complex128))


@pytest.mark.slow
def test_memory_is_bounded_by_the_batch_not_the_matrix():
    n, f = 12_000, 25_000  # dense float64: 2.4 GB; as CSR at 0.02%: 60,000 values, under 1 MB
    X = sparse.random(n, f, density=2e-4, random_state=0, format="csr", dtype=np.float64)
    row_sums = np.asarray(X.sum(axis=1)).ravel()
    y = (row_sums > np.median(row_sums)).astype(int)
    options = {
        "epochs": 1,
        "batch_size": 256,
        "device": "cpu",
        "model_options": {"hidden": [8]},
        "val_size": 0.1,
    }
    Classifier(**options).fit(X[:200], y[:200])  # imports done before measuring
    clf = Classifier(**options)
    tracemalloc.start()
    try:
        clf.fit(X, y)
        proba = clf.predict_proba(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert proba.shape == (n, 2)
    dense_bytes = n * f * 8
    # the largest NumPy buffers are a densified inference batch or two (64 MiB of float32 each)
    assert peak < 0.1 * dense_bytes, f"peak {peak / 1e6:.0f} MB vs dense {dense_bytes / 1e9:.1f} GB"
