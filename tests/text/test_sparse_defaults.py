"""The sparse-native model's training values (AUTO_LR's sparse rate, options.SPARSE_TRAINING) where left at defaults."""

import numpy as np
import pytest
from scipy import sparse

from logitlab import Classifier
from logitlab.options import AUTO_LR, CLASSIFIER_DEFAULTS, SPARSE_TRAINING


def _data(n=200, f=30, seed=0):
    rng = np.random.default_rng(seed)
    X = sparse.random(n, f, density=0.2, random_state=seed, format="csr", dtype=np.float64)
    y = (X @ rng.normal(size=(f, 2)) > 0.1).astype(int)
    return X, y


def test_the_sparse_model_trains_with_its_own_values_and_says_so():
    X, y = _data()
    clf = Classifier(epochs=2, device="cpu", random_state=0).fit(X, y)
    assert clf.model_spec_["name"] == "sparse"
    assert clf.decisions_["training"] == dict(SPARSE_TRAINING)
    assert clf.decisions_["lr"]["lr"] == AUTO_LR["sparse"]
    # what the optimizer ran with: the same schedule (epochs=2: a cosine) as an explicit lr gives
    same = Classifier(epochs=2, device="cpu", random_state=0, lr=AUTO_LR["sparse"]).fit(X, y)
    assert [h["lr"] for h in clf.history_] == [h["lr"] for h in same.history_]
    assert clf.decisions_.get("weights") is None  # imbalance='none': no pos_weight
    assert any("options.SPARSE_TRAINING" in n for n in clf.decisions_["notes"])


def test_values_given_and_other_models_are_used_as_they_are():
    X, y = _data()
    given = Classifier(epochs=2, device="cpu", lr=0.02, imbalance="sqrt").fit(X, y)
    assert given.decisions_["lr"]["lr"] == 0.02
    assert given.decisions_["training"]["imbalance"] == "sqrt"
    assert given.decisions_["weights"]["strategy"] == "sqrt"
    assert given.decisions_["training"]["weight_decay"] == SPARSE_TRAINING["weight_decay"]  # left at default
    mlp = Classifier(epochs=2, device="cpu", model="mlp").fit(X, y)
    assert mlp.decisions_["training"] == {k: CLASSIFIER_DEFAULTS[k] for k in SPARSE_TRAINING}
    # the schedule's shape is the same, scaled by the peak rate each run trained with
    assert given.history_[0]["lr"] / 0.02 == pytest.approx(mlp.history_[0]["lr"] / AUTO_LR["default"])
