"""``model="auto"`` on tables: the linear model or the MLP, whichever has the lower calibrated log-loss.

References: each candidate fitted on its own (``model="linear"`` / ``"mlp"``, same seed), whose predictions the
chosen model must reproduce exactly, and scikit-learn's ``log_loss`` on the validation rows (the split
``from_arrays`` makes with the same seed) for the scores recorded in ``decisions_``.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from sklearn.metrics import log_loss

from logitlab import Classifier
from logitlab.data import from_arrays
from tests.helpers import fast

FAST = fast(epochs=8, cv=1)


def _fast(**extra):
    params = {**FAST, **extra}
    if "cv" not in Classifier().get_params():  # before cross-fitting existed
        params.pop("cv")
    return params


def _linear_table(n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    return X, (X[:, 0] - X[:, 1] + 0.7 * rng.normal(size=n) > 0).astype(int)


def _ring_table(n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, ((X**2).sum(1) > 1.4).astype(int)  # no line separates it: linear log-loss ~ 0.69


@pytest.mark.parametrize("data", [_linear_table, _ring_table])
def test_auto_keeps_the_candidate_of_lower_validation_log_loss(data):
    X, y = data()
    clf = Classifier(**_fast()).fit(X, y)
    got = clf.decisions_["model"]
    assert got["chosen"] == min(got["log_loss"], key=got["log_loss"].get)
    alone = Classifier(model=got["chosen"], **_fast()).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), alone.predict_proba(X))
    assert clf.model_spec_["name"] == got["chosen"] and clf.get_params()["model"] == "auto"
    if "validation" not in alone.decisions_:  # one validation split: score it with scikit-learn
        bundle = from_arrays(X, y, val_size=0.15, test_size=0.0, seed=0)
        rows = bundle.val.index
        ref = log_loss(y[rows], alone.predict_proba(X[rows]), labels=[0, 1])
        assert got["log_loss"][got["chosen"]] == pytest.approx(ref, abs=1e-4)


@pytest.mark.slow
def test_ring_needs_the_mlp_and_a_line_the_linear_model():
    X, y = _ring_table()
    ring = Classifier(**_fast(epochs=40)).fit(X, y).decisions_["model"]
    assert ring["chosen"] == "mlp" and ring["log_loss"]["linear"] > 0.6


def test_no_choice_where_the_linear_model_cannot_run(tmp_path):
    X, y = _linear_table()
    clf = Classifier(**_fast(epochs=2)).fit(sparse.csr_matrix(X), y)
    got = clf.decisions_["model"]
    assert got["chosen"] == clf.model_spec_["name"] != "linear" and "lazily" in got["reason"]
    ens = Classifier(**_fast(epochs=2, ensemble=2, cv=1)).fit(X, y)
    assert ens.decisions_["model"]["chosen"] == "mlp" and "ensemble=2" in ens.decisions_["model"]["reason"]


def test_a_chosen_linear_model_saves_and_loads(tmp_path):
    X, y = _linear_table()
    clf = Classifier(**_fast(epochs=1)).fit(X, y)  # one MLP epoch: the linear fit wins
    assert clf.decisions_["model"]["chosen"] == "linear"
    again = Classifier.load(clf.save(tmp_path / "m"))
    assert again.model_spec_["name"] == "linear"
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_mlp_options_mean_the_mlp():
    X, y = _linear_table()
    clf = Classifier(**_fast(epochs=1, model_options={"hidden": [8], "dropout": 0.0})).fit(X, y)
    assert clf.decisions_["model"]["chosen"] == "mlp" and "MLP's" in clf.decisions_["model"]["reason"]
    assert clf.model_spec_["hidden"] == [8]
