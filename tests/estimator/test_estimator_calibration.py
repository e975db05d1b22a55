"""Calibrated probabilities by default: tested against the true probabilities of a known model.

Data with a logistic ground truth (about 5% positives) is trained with the default balanced
``pos_weight``, which shifts the learned log-odds by about ``log(pos_weight)``. With the default
calibration the probabilities on fresh rows match the true ones; without it they are far off. The
thresholds are tuned on the calibrated scale, so the decisions hardly change (F1 picks the same
validation rows on either scale), and with no tuning ``predict`` is ``argmax(predict_proba)``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from logitlab import Classifier
from logitlab.errors import ConfigError, ModelFileError
from logitlab.evaluate import Calibration, tune_thresholds
from logitlab.model_io import read_model_dir
from tests.helpers import fast

FAST = fast(epochs=6, batch_size=256)


def _logistic(n, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    z = X @ np.array([1.5, -1.0, 0.8, 0.0, 0.5]) - 4.0  # about 5% positives
    p = 1.0 / (1.0 + np.exp(-z))
    return X.astype(np.float32), (rng.random(n) < p).astype(int), p


def _ece(p, y, bins=15):
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    return sum(
        abs(p[which == b].mean() - y[which == b].mean()) * (which == b).mean()
        for b in range(bins)
        if (which == b).any()
    )


@pytest.fixture(scope="module")
def logistic_fits():
    X, y, _ = _logistic(20_000, 0)
    calibrated = Classifier(**FAST).fit(X, y)
    raw = Classifier(**FAST, calibration="none").fit(X, y)
    return calibrated, raw


@pytest.mark.slow
def test_default_probabilities_match_the_true_ones(logistic_fits):
    calibrated, raw = logistic_fits
    X, y, truth = _logistic(20_000, 1)
    p = calibrated.predict_proba(X)[:, 1]
    assert calibrated.decisions_["weights"]["values"][0] > 10  # balanced pos_weight, as the default
    assert _ece(p, y) <= 0.02
    assert abs(p.mean() - y.mean()) <= 0.01
    assert np.abs(p - truth).mean() <= 0.02
    q = raw.predict_proba(X)[:, 1]  # the same network without the map
    assert _ece(q, y) > 0.1 and q.mean() > y.mean() + 0.1


@pytest.mark.slow
def test_thresholds_are_tuned_on_the_calibrated_scale(logistic_fits):
    calibrated, raw = logistic_fits
    # the rows the map and the thresholds were fitted on: the calibration half of the validation split (one
    # split on 20,000 rows), or every row's out-of-fold logits when cross-fitted
    z, t = calibrated.validation_logits_, calibrated.validation_targets_
    expected = tune_thresholds(calibrated.calibration_.calibrated_logits(z), t, task="binary", objective="f1")
    assert calibrated.thresholds_.values == expected.values
    X_new, _, _ = _logistic(20_000, 2)
    np.testing.assert_array_equal(calibrated.decision_function(X_new), raw.decision_function(X_new))
    # F1 picks the same validation rows on either scale (the map is increasing): the same decisions
    assert (calibrated.predict(X_new) == raw.predict(X_new)).mean() >= 0.999
    assert calibrated.thresholds_.values[0] < 0.5 < raw.thresholds_.values[0]  # the raw cut sits high


@pytest.mark.parametrize("task", ["binary", "multilabel", "multiclass"])
def test_untuned_decisions_are_the_most_probable(task):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 3)).astype(np.float32)
    score = X @ np.array([1.5, -1.0, 0.5])
    y = {
        "binary": (score + rng.normal(size=600) > 1.0).astype(int),
        "multilabel": np.stack([score > 0.5, X[:, 1] + rng.normal(size=600) > 0], axis=1).astype(int),
        "multiclass": np.digitize(score + 0.5 * rng.normal(size=600), [-1.0, 1.5]),
    }[task]
    clf = Classifier(**FAST, threshold_objective="none").fit(X, y)
    assert clf.task_ == task and clf.calibration_ is not None and clf.thresholds_ is None
    proba, decided = clf.predict_proba(X), clf.predict(X)
    if task == "multilabel":
        np.testing.assert_array_equal(decided, (proba >= 0.5).astype(int))
    else:
        np.testing.assert_array_equal(decided, clf.classes_[np.argmax(proba, axis=1)])


@pytest.mark.slow
def test_confidence_is_measured_against_the_tuned_threshold(logistic_fits):
    calibrated, _ = logistic_fits
    X, _, _ = _logistic(5_000, 3)
    decided, confidence = calibrated.predict_with_confidence(X)
    p = calibrated.predict_proba(X)[:, 1]
    np.testing.assert_allclose(confidence, np.where(decided == 1, p, 1 - p))
    # rows just below the tuned cut are negatives the model is barely sure of (1 - p is close to 1 - t)
    t = calibrated.thresholds_.values[0]
    near = (p < t) & (p > t - 0.05)
    assert near.any() and np.allclose(confidence[near], 1 - p[near])


def test_multiclass_biases_are_tuned_after_the_temperature():
    rng = np.random.default_rng(0)
    centers = np.array([[2.0, 0.0], [0.0, 2.0], [-2.0, -2.0]])
    labels = rng.choice(3, size=1500, p=[0.7, 0.2, 0.1])
    X = (centers[labels] + rng.normal(size=(1500, 2))).astype(np.float32)
    # one model for both (model="auto" could pick another for each: its choice reads the calibrated loss)
    calibrated = Classifier(**FAST, model="mlp", threshold_objective="f1").fit(X, labels)
    raw = Classifier(**FAST, model="mlp", calibration="none", threshold_objective="f1").fit(X, labels)
    assert calibrated.calibration_.method == "temperature"
    # the tuned class biases act on the calibrated scale: argmax(log q + d)
    bias = np.asarray(calibrated.thresholds_.values)
    decided = np.argmax(np.log(calibrated.predict_proba(X)) + bias, axis=1)
    np.testing.assert_array_equal(calibrated.predict(X), calibrated.classes_[decided])
    assert (calibrated.predict(X) == raw.predict(X)).mean() >= 0.99  # tuned on either scale: nearly the same
    np.testing.assert_allclose(calibrated.predict_proba(X).sum(1), 1.0, atol=1e-9)


@pytest.mark.parametrize(
    ("param", "code"), [("sigmoid", "bad-param"), ("temperature", "bad-calibration-method")]
)
def test_a_wrong_calibration_method_fails_before_training(param, code, monkeypatch):
    from logitlab.train import Trainer

    monkeypatch.setattr(Trainer, "fit", lambda *a, **k: pytest.fail("training started"))
    X, y, _ = _logistic(300, 0)
    with pytest.raises(ConfigError) as info:
        Classifier(**FAST, calibration=param).fit(X, y)
    assert info.value.code == code


@pytest.mark.slow
def test_the_calibration_is_saved_and_old_model_directories_still_load(logistic_fits, tmp_path):
    calibrated, raw = logistic_fits
    X, _, _ = _logistic(500, 4)
    calibrated.save(tmp_path / "new")
    again = Classifier.load(tmp_path / "new")
    assert again.calibration_ == calibrated.calibration_
    np.testing.assert_array_equal(again.predict_proba(X), calibrated.predict_proba(X))
    _, meta = read_model_dir(tmp_path / "new")
    assert (
        meta["schema_version"] == 2 and Calibration.from_dict(meta["calibration"]) == calibrated.calibration_
    )
    # a schema_version 1 directory (written before calibration existed) loads with raw probabilities
    raw.save(tmp_path / "old")
    path = tmp_path / "old" / "model.json"
    old = json.loads(path.read_text())
    old["schema_version"] = 1
    del old["calibration"]
    path.write_text(json.dumps(old))
    loaded = Classifier.load(tmp_path / "old")
    assert loaded.calibration_ is None
    z = torch.as_tensor(loaded.decision_function(X), dtype=torch.float64)
    np.testing.assert_allclose(loaded.predict_proba(X)[:, 1], torch.sigmoid(z).numpy(), rtol=1e-6)
    np.testing.assert_array_equal(loaded.predict(X), raw.predict(X))
    old["calibration"] = None  # version 1 has no such field
    path.write_text(json.dumps(old))
    with pytest.raises(ModelFileError, match="unknown field"):
        Classifier.load(tmp_path / "old")


@pytest.mark.slow
def test_the_auto_objective_tunes_sigmoid_thresholds_and_leaves_multiclass_at_the_calibrated_argmax():
    from logitlab.evaluate import check_objective

    assert [check_objective("auto", t) for t in ("binary", "multilabel", "multiclass")] == [
        "f1",
        "f1",
        "none",
    ]
    assert check_objective("auto") == "auto"
    rng = np.random.default_rng(1)
    centers = np.array([[2.0, 0.0], [0.0, 2.0], [-2.0, -2.0]])
    labels = rng.choice(3, size=1500, p=[0.7, 0.2, 0.1])
    X = (centers[labels] + rng.normal(size=(1500, 2))).astype(np.float32)
    clf = Classifier(**FAST).fit(X, labels)
    assert clf.threshold_objective == "auto" and clf.thresholds_ is None
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[clf.predict_proba(X).argmax(1)])
    # macro-F1 biases trade accuracy for the rare classes; the calibrated argmax is the accuracy rule
    tuned = Classifier(**FAST, threshold_objective="f1").fit(X, labels)
    assert tuned.thresholds_ is not None
    assert (clf.predict(X) == labels).mean() >= (tuned.predict(X) == labels).mean() - 0.005
    binary = Classifier(**FAST).fit(X, labels == 2)
    assert binary.thresholds_ is not None and binary.thresholds_.objective == "f1"
