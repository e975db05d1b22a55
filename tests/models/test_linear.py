"""``model="linear"``: the optimum of scikit-learn's LogisticRegression at the same L2, every task, and the
classifier's machinery around it (weights, calibration, thresholds, save/load, ONNX).

The reference is scikit-learn's ``LogisticRegression`` (lbfgs, float64, tolerance 1e-10) on the features the
classifier trains on (its own preprocessing, ``data_state_.transform``), at ``C = 1 / (weight_decay * n)``
(``1 / (weight_decay * sum of the row weights)`` with weights): both minimise the same objective, so their
logits agree to float32 precision.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.special import expit, log_softmax
from sklearn.linear_model import LogisticRegression

from logitlab import Classifier
from logitlab.errors import ConfigError
from logitlab.losses import make_loss
from logitlab.models import LinearModel, build_model
from logitlab.train import fit_full_batch
from logitlab.train.full_batch import penalised_loss

pytestmark = pytest.mark.filterwarnings("ignore:column .* (imputed|encoded):logitlab.errors.LogitlabWarning")

EXACT = {"model": "linear", "calibration": "none", "val_size": 0.0, "device": "cpu"}


def _data(task: str, n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6)) * np.array([1, 2, 0.5, 1, 3, 1])
    score = X @ np.array([1.0, -0.5, 2.0, 0.0, 0.3, 0.0]) + rng.normal(size=n)
    if task == "binary":
        return X, (score > 1.2).astype(int)  # ~25 % positives
    if task == "multiclass":
        return X, np.digitize(score + X[:, 3], [-1.5, 0.5, 2.5])
    return X, np.column_stack([score > 0, X[:, 3] + rng.normal(size=n) > 0.8, score < -2]).astype(int)


def _reference(
    Z: np.ndarray, y: np.ndarray, C: float, weight: np.ndarray | None = None
) -> LogisticRegression:
    return LogisticRegression(C=C, tol=1e-10, max_iter=10_000).fit(Z, y, sample_weight=weight)


def _features(clf: Classifier, X: np.ndarray) -> np.ndarray:
    return clf.data_state_.transform(X).numpy().astype(np.float64)


@pytest.mark.parametrize("wd", [1e-3, 3e-2])
def test_binary_logits_match_sklearn_at_the_same_l2(wd):
    X, y = _data("binary")
    clf = Classifier(imbalance="none", weight_decay=wd, **EXACT).fit(X, y)
    Z = _features(clf, X)
    ref = _reference(Z, y, C=1 / (wd * len(y)))
    np.testing.assert_allclose(clf.decision_function(X), ref.decision_function(Z), atol=2e-3)
    ours = -np.mean(
        y * np.log(expit(clf.decision_function(X))) + (1 - y) * np.log(expit(-clf.decision_function(X)))
    )
    theirs = -np.mean(y * np.log(ref.predict_proba(Z)[:, 1]) + (1 - y) * np.log(ref.predict_proba(Z)[:, 0]))
    assert abs(ours - theirs) < 1e-4


def test_multiclass_softmax_matches_sklearn_with_class_weights():
    X, y = _data("multiclass")
    wd = 1e-2
    clf = Classifier(imbalance="balanced", weight_decay=wd, **EXACT).fit(X, y)
    w = np.asarray(clf.decisions_["weights"]["values"])[y]  # the CE weights per row (rounded to 4 digits)
    Z = _features(clf, X)
    ref = _reference(Z, y, C=1 / (wd * w.sum()), weight=w)
    ours, theirs = clf.decision_function(X), ref.decision_function(Z)
    # softmax logits are defined up to a constant per row: compare log-probabilities
    np.testing.assert_allclose(log_softmax(ours, axis=1), log_softmax(theirs, axis=1), atol=5e-3)


def test_binary_pos_weight_is_a_row_weight_of_the_positives():
    X, y = _data("binary")
    wd = 1e-2
    clf = Classifier(imbalance="balanced", weight_decay=wd, **EXACT).fit(X, y)
    pw = clf.decisions_["weights"]["values"][0]
    assert pw == pytest.approx((y == 0).sum() / (y == 1).sum(), rel=1e-3)
    Z = _features(clf, X)
    ref = _reference(Z, y, C=1 / (wd * len(y)), weight=np.where(y == 1, pw, 1.0))
    np.testing.assert_allclose(clf.decision_function(X), ref.decision_function(Z), atol=5e-3)


def test_multilabel_is_one_logistic_regression_per_label():
    X, Y = _data("multilabel")
    wd = 1e-2
    clf = Classifier(imbalance="none", weight_decay=wd, **EXACT).fit(X, Y)
    Z, L = _features(clf, X), Y.shape[1]
    ours = clf.decision_function(X)
    for j in range(L):  # the BCE mean runs over rows and labels: C = 1 / (wd * n * L) per label
        ref = _reference(Z, Y[:, j], C=1 / (wd * len(Y) * L))
        np.testing.assert_allclose(ours[:, j], ref.decision_function(Z), atol=3e-3)


def test_other_losses_reach_a_stationary_point_in_float64():
    """Focal loss has no scikit-learn twin: the reference is the gradient of the objective, in float64, at the fit."""
    X, y = _data("binary", n=300)
    x = torch.tensor(X, dtype=torch.float32)
    t = torch.tensor(y, dtype=torch.float32)[:, None]
    model = LinearModel(6, 1)
    loss = make_loss("binary", "focal", gamma=2.0)
    out = fit_full_batch(model, loss, x, t, l2=1e-2)
    assert out["converged"]
    double = LinearModel(6, 1).double()
    double.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
    objective = penalised_loss(double, make_loss("binary", "focal", gamma=2.0), x.double(), t.double(), 1e-2)
    grads = torch.autograd.grad(objective, list(double.parameters()))
    assert max(float(g.abs().max()) for g in grads) < 1e-4


def test_validation_split_gives_calibration_thresholds_and_a_loss_row():
    X, y = _data("binary", n=600)
    clf = Classifier(model="linear", device="cpu").fit(X, y)
    assert clf.calibration_ is not None and clf.thresholds_ is not None
    assert clf.model_spec_["name"] == "linear" and clf.decisions_["best_epoch"] is None
    assert "L-BFGS" in clf.decisions_["epochs"]["solver"]
    assert set(clf.history_[0]) >= {"train_loss", "val_loss"}
    proba = clf.predict_proba(X)[:, 1]
    assert abs(proba.mean() - y.mean()) < 0.05  # the balanced weights' shift is undone by the calibration


def test_save_load_gives_identical_outputs(tmp_path):
    X, y = _data("multiclass")
    frame = pd.DataFrame(X, columns=list("abcdef")).assign(g=np.where(X[:, 0] > 0, "u", "v"))
    clf = Classifier(model="linear", device="cpu").fit(frame, y)
    again = Classifier.load(clf.save(tmp_path / "m"))
    np.testing.assert_array_equal(again.predict_proba(frame), clf.predict_proba(frame))
    np.testing.assert_array_equal(again.predict(frame), clf.predict(frame))
    assert again.model_spec_ == clf.model_spec_


@pytest.mark.parametrize(
    "task",
    [
        "binary",
        pytest.param("multiclass", marks=pytest.mark.slow),
        pytest.param("multilabel", marks=pytest.mark.slow),
    ],
)
def test_onnx_export_reproduces_predict(task, tmp_path):
    pytest.importorskip("onnxruntime")
    from tests.export.test_export import _check
    from tests.export.test_export import _data as table_data

    X, y, test = table_data("table", task)
    clf = Classifier(model="linear", task=task, device="cpu").fit(X, y)
    _check(clf, clf.export_onnx(tmp_path / "model.onnx"), test, sizes=(1, 200))


def test_refusals_name_the_fix():
    with pytest.raises(ConfigError, match="every\\s+member would be the same"):
        Classifier(model="linear", ensemble=3).check_params()
    with pytest.raises(ConfigError, match="needs image input_shape"):
        build_model("cnn", input_shape=(3,), n_outputs=1)
    X, y = _data("binary", n=100)
    from scipy import sparse

    with pytest.raises(ConfigError, match="model='mlp'"):
        Classifier(model="linear", device="cpu").fit(sparse.csr_matrix(X), y)
