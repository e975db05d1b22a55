"""The sparse-native model's training values where left at 'auto': the linear model fitted full-batch
(options.SPARSE_FULL_BATCH, its optimum checked in tests/models/test_sparse_full_batch.py), the model with a
hidden layer by minibatches (AUTO_LR's sparse rate, options.SPARSE_TRAINING)."""

import numpy as np
import pytest
from scipy import sparse

from logitlab import Classifier
from logitlab.options import AUTO_LR, AUTO_TRAINING, SPARSE_FULL_BATCH, SPARSE_TRAINING

HIDDEN = {"model_options": {"hidden": [8]}}


def _data(n=200, f=30, seed=0):
    rng = np.random.default_rng(seed)
    X = sparse.random(n, f, density=0.2, random_state=seed, format="csr", dtype=np.float64)
    y = (X @ rng.normal(size=(f, 2)) > 0.1).astype(int)
    return X, y


def test_the_linear_sparse_model_is_fitted_full_batch_at_its_c_and_says_so():
    X, y = _data()
    clf = Classifier(device="cpu", random_state=0).fit(X, y)
    assert clf.model_spec_["name"] == "sparse" and clf.model_spec_["hidden"] == []
    training = clf.decisions_["training"]
    assert training["imbalance"] == SPARSE_TRAINING["imbalance"] and training["C"] == SPARSE_FULL_BATCH["C"]
    assert "lr" not in clf.decisions_ and clf.decisions_["epochs"]["solver"].startswith("L-BFGS")
    assert "options.SPARSE_FULL_BATCH" in training["reason"] and "weight_decay=0.01" not in training["reason"]


def test_the_sparse_model_with_a_hidden_layer_trains_with_its_own_values_and_says_so():
    X, y = _data()
    clf = Classifier(epochs=2, device="cpu", random_state=0, **HIDDEN).fit(X, y)
    assert clf.model_spec_["name"] == "sparse"
    training = clf.decisions_["training"]
    assert {k: training[k] for k in SPARSE_TRAINING} == dict(SPARSE_TRAINING)
    assert training["asked"] == {"imbalance": "auto", "weight_decay": "auto"}
    assert clf.decisions_["lr"]["lr"] == AUTO_LR["sparse"]
    # what the optimizer ran with: the same schedule (epochs=2: a cosine) as an explicit lr gives
    same = Classifier(epochs=2, device="cpu", random_state=0, lr=AUTO_LR["sparse"], **HIDDEN).fit(X, y)
    assert [h["lr"] for h in clf.history_] == [h["lr"] for h in same.history_]
    assert clf.decisions_.get("weights") is None  # imbalance='none': no pos_weight
    assert "options.SPARSE_TRAINING" in training["reason"]


def test_values_given_and_other_models_are_used_as_they_are():
    X, y = _data()
    given = Classifier(epochs=2, device="cpu", lr=0.02, imbalance="sqrt", **HIDDEN).fit(X, y)
    assert given.decisions_["lr"]["lr"] == 0.02
    assert given.decisions_["training"]["imbalance"] == "sqrt"
    assert given.decisions_["weights"]["strategy"] == "sqrt"
    assert given.decisions_["training"]["weight_decay"] == SPARSE_TRAINING["weight_decay"]  # left at 'auto'
    mlp = Classifier(epochs=2, device="cpu", model="mlp").fit(X, y)
    assert {k: mlp.decisions_["training"][k] for k in AUTO_TRAINING} == dict(AUTO_TRAINING)
    # the schedule's shape is the same, scaled by the peak rate each run trained with
    assert given.history_[0]["lr"] / 0.02 == pytest.approx(mlp.history_[0]["lr"] / AUTO_LR["default"])
