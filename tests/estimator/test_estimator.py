"""logitlab.Classifier: scikit-learn conventions, predictions against independent references, save/load."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from logitlab import Classifier
from logitlab.errors import ConfigError, DataError, ModelFileError, TrainingError
from logitlab.model_io import read_model_dir, validate_model_json, write_model_dir
from tests.helpers import fast, scored

FAST = fast(epochs=4)  # batch_size 64, the default


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))


@pytest.fixture(scope="module")
def binary_fit():
    X, score = scored()
    y = np.where(score + 0.3 * np.random.default_rng(1).normal(size=len(score)) > 0.5, "fraud", "ok")
    clf = Classifier(**FAST, model="mlp").fit(X, y)  # the network's history and health monitor are read
    return clf, X, y


# ----------------------------------------------------------------------------- sklearn conventions
def test_init_only_stores_params_and_clone_roundtrips():
    clf = Classifier(model="mlp", loss="focal", loss_options={"gamma": 2.0}, epochs=3, lr=0.01)
    params = clf.get_params()
    assert params["loss_options"] == {"gamma": 2.0} and params["epochs"] == 3
    assert not any(k.endswith("_") for k in vars(clf))  # nothing fitted in __init__
    twin = clone(clf)
    assert twin.get_params() == params and twin is not clf
    twin.set_params(epochs=7, imbalance="sqrt")
    assert twin.epochs == 7 and clf.epochs == 3


@pytest.mark.parametrize(
    ("param", "value", "phrase"),
    [
        ("epochs", 0, "`epochs`"),
        ("lr", -1.0, "`lr`"),
        ("val_size", 1.5, "`val_size`"),
        ("task", "regression", "`task`"),
        ("threshold_objective", "precision_at_recall=2", "`threshold_objective`"),
        ("threshold_objective", "accuracy", "`threshold_objective`"),
    ],
)
def test_bad_params_fail_at_fit_with_the_argument_named(param, value, phrase):
    X, score = scored(40)
    with pytest.raises(ConfigError, match=phrase):
        Classifier(**{**FAST, param: value}).fit(X, score > 0)


def test_bad_features_are_data_errors():
    X, score = scored(40)
    with pytest.raises(DataError, match="Expected 2D array"):
        Classifier(**FAST).fit(X[:, 0], score > 0)
    X[3, 1] = np.inf
    with pytest.raises(DataError, match="row positions 3"):
        Classifier(**FAST).fit(X, score > 0)


# ----------------------------------------------------------------------------- binary
def test_binary_outputs_agree_with_an_independent_reference(binary_fit):
    clf, X, y = binary_fit
    assert clf.task_ == "binary"
    assert list(clf.classes_) == ["fraud", "ok"]  # sorted, as scikit-learn's
    assert clf.label_encoder_.positive == "fraud"  # chosen by name: the first column
    z = clf.predict_logits(X).numpy()[:, 0]  # the positive class's logit
    np.testing.assert_array_equal(clf.decision_function(X), -z)  # scikit-learn's: > 0 for classes_[1]
    proba = clf.predict_proba(X)[:, ::-1]  # [ok, fraud]: the positive column second, as below
    assert z.shape == (len(X),) and proba.shape == (len(X), 2)
    # predict_proba is Platt's sigmoid(a z + b) with the parameters fitted on validation
    (platt,) = clf.calibration_.params
    assert clf.calibration_.method == "platt" and platt["a"] > 0
    np.testing.assert_allclose(proba[:, 1], _sigmoid(platt["a"] * z + platt["b"]), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    # predict applies the tuned threshold to the positive probability
    threshold = float(np.asarray(clf.thresholds_.values).reshape(-1)[0])
    assert 0.0 < threshold < 1.0
    expected = np.where(proba[:, 1] >= threshold, "fraud", "ok")
    assert (clf.predict(X) == expected).mean() >= 0.99  # ties at the threshold only
    assert clf.score(X, y) > 0.85
    decided, confidence = clf.predict_with_confidence(X)
    assert (decided == clf.predict(X)).all()
    # the probability that the decision taken at the tuned threshold is right: p or 1 - p
    np.testing.assert_allclose(confidence, np.where(decided == "fraud", proba[:, 1], proba[:, 0]), atol=1e-6)


def test_save_load_predicts_identically_and_rejects_edits(binary_fit, tmp_path):
    clf, X, _ = binary_fit
    clf.save(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["model.json", "model.safetensors"]
    again = Classifier.load(tmp_path / "m")
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(again.predict(X), clf.predict(X))
    assert again.get_params() == clf.get_params()

    meta_path = tmp_path / "m" / "model.json"
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "task": "regression"}))
    with pytest.raises(ModelFileError, match="task 'regression'"):
        Classifier.load(tmp_path / "m")
    meta_path.write_text(json.dumps(meta)[:-40])
    with pytest.raises(ModelFileError, match="not valid JSON"):
        Classifier.load(tmp_path / "m")
    meta_path.write_text(json.dumps(meta))
    weights = tmp_path / "m" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-16])
    with pytest.raises(ModelFileError, match="SHA-256"):
        Classifier.load(tmp_path / "m")
    with pytest.raises(ModelFileError, match="missing"):
        Classifier.load(tmp_path / "nowhere")


def test_model_files_hold_no_pickle_and_validate_every_field(tmp_path):
    state = {"w": torch.arange(6.0).reshape(2, 3)}
    meta = {
        "library_version": "0", "task": "multiclass", "classes": [0, 1, 2], "label_names": ["0", "1", "2"],
        "label_encoder": {}, "n_outputs": 3, "input_shape": [3], "model_spec": {},
        "thresholds": None, "preprocessing": {}, "feature_names": None, "params": {},
    }  # fmt: skip
    write_model_dir(tmp_path, state, meta)
    loaded, saved = read_model_dir(tmp_path)
    assert torch.equal(loaded["w"], state["w"]) and saved["tensors"] == {
        "w": {"shape": [2, 3], "dtype": "torch.float32"}
    }
    assert b"pickle" not in (tmp_path / "model.safetensors").read_bytes()[:200]
    for field in ("task", "n_outputs", "thresholds"):
        broken = {k: v for k, v in saved.items() if k != field}
        with pytest.raises(ModelFileError, match=repr(field)):
            validate_model_json(broken)
    with pytest.raises(ModelFileError, match="n_outputs"):
        validate_model_json({**saved, "n_outputs": "3"})
    with pytest.raises(ModelFileError, match="label_names for n_outputs"):
        validate_model_json({**saved, "n_outputs": 4})


# ----------------------------------------------------------------------------- history and training health
def test_history_logs_val_metrics_and_the_health_monitor_watches_every_fit(binary_fit):
    from logitlab.doctor import HealthMonitor

    clf, _, _ = binary_fit
    assert [row["epoch"] for row in clf.history_] == list(range(1, FAST["epochs"] + 1))  # 1-based
    for row in clf.history_:
        assert {"train_loss", "val_loss", "val_roc_auc", "val_f1"} <= set(row)
        assert 0.0 <= row["val_roc_auc"] <= 1.0 and 0.0 <= row["val_f1"] <= 1.0
    assert clf.history_[-1]["val_roc_auc"] > 0.8
    monitor = clf.health_
    assert isinstance(monitor, HealthMonitor)
    assert monitor.loss_fn is not None and monitor.losses  # saw every step's loss
    assert monitor.grad_norms and monitor.grad_norms[0][0] == 0  # gradient norm at step 0
    assert monitor.history and all(row["nonfinite"] == 0.0 for row in monitor.history)
    assert all(f.code != "nonfinite-loss" for f in monitor.report().findings)


def test_multiclass_and_multilabel_histories_have_their_val_metrics():
    X, score = scored(200)
    y_mc = np.digitize(score, [-1.0, 1.0])
    mc = Classifier(**{**FAST, "epochs": 2, "model": "mlp"}).fit(X, y_mc)
    assert {"val_accuracy", "val_f1_macro"} <= set(mc.history_[-1])
    ml = Classifier(**{**FAST, "epochs": 2, "model": "mlp"}).fit(
        X, np.stack([score > 0, X[:, 2] > 0], axis=1).astype(int)
    )
    assert {"val_roc_auc", "val_f1_macro"} <= set(ml.history_[-1])


def test_a_diverging_fit_stops_with_a_training_error_naming_the_cause():
    X, score = scored(120)
    clf = Classifier(**{**FAST, "lr": 1e30})
    with pytest.raises(TrainingError, match="Non-finite loss at step") as info:
        clf.fit(X, score > 0)
    text = str(info.value)
    assert info.value.code == "nonfinite-loss" and "BCEWithLogitsLoss" in text
    assert "Cause:" in text and "Fix:" in text
    assert clf.health_.grad_norms[0][0] == 0  # the monitor watched the steps before the failure


# ----------------------------------------------------------------------------- multilabel, multiclass
def test_multilabel_dataframe_labels_are_the_columns(tmp_path):
    X, _ = scored(300)
    Y = pd.DataFrame(
        {"a": (X[:, 0] > 0).astype(int), "b": (X[:, 1] > 0.3).astype(int), "c": (X[:, 2] < 0).astype(int)}
    )
    clf = Classifier(**{**FAST, "epochs": 8}).fit(pd.DataFrame(X, columns=list("pqrs")), Y)
    assert clf.task_ == "multilabel" and list(clf.classes_) == ["a", "b", "c"]
    assert list(clf.feature_names_in_) == list("pqrs") and clf.n_features_in_ == 4
    proba = clf.predict_proba(X)
    a = np.array([p["a"] for p in clf.calibration_.params])
    b = np.array([p["b"] for p in clf.calibration_.params])
    np.testing.assert_allclose(proba, _sigmoid(a * clf.decision_function(X) + b), rtol=1e-5, atol=1e-6)
    pred = clf.predict(X)
    assert pred.shape == (300, 3) and set(np.unique(pred)) <= {0, 1}
    thresholds = np.asarray(clf.thresholds_.values, dtype=np.float64).reshape(-1)
    assert ((proba >= thresholds) == pred.astype(bool)).mean() >= 0.99
    assert clf.score(X, Y) == pytest.approx(float((pred == Y.to_numpy()).all(axis=1).mean()))
    clf.save(tmp_path)
    np.testing.assert_array_equal(Classifier.load(tmp_path).predict(X), pred)


def test_multiclass_from_tensors_softmax_rows_and_argmax():
    g = torch.Generator().manual_seed(0)
    centers = torch.tensor([[3.0, 0.0], [0.0, 3.0], [-3.0, -3.0]])
    labels = torch.randint(0, 3, (300,), generator=g)
    X = centers[labels] + 0.7 * torch.randn(300, 2, generator=g)
    clf = Classifier(**{**FAST, "epochs": 10}).fit(X, labels)
    assert clf.task_ == "multiclass" and list(clf.classes_) == [0, 1, 2]
    proba = clf.predict_proba(X)
    (temperature,) = clf.calibration_.params  # softmax((z + c) / T), fitted on validation
    z = (clf.decision_function(X).astype(np.float64) + np.array(temperature["bias"])) / temperature[
        "temperature"
    ]
    ref = np.exp(z - z.max(axis=1, keepdims=True))
    np.testing.assert_allclose(proba, ref / ref.sum(axis=1, keepdims=True), rtol=1e-5, atol=1e-6)
    assert clf.score(X, labels) > 0.95
    decided, confidence = clf.predict_with_confidence(X)
    np.testing.assert_allclose(confidence, proba.max(axis=1))


# ----------------------------------------------------------------------------- scikit-learn tools
def test_pipeline_with_scaler_and_cross_val_score():
    """Pipeline, clone and cross_val_score work: each fold's score is roc_auc_score of that fold's own fit.

    How good a default fit is on this table (5-fold ROC-AUC at least 0.99) is ``benchmarks/quality.py``'s floor.
    """
    X, y = load_breast_cancer(return_X_y=True)
    X, y = X[::3], y[::3]  # 190 rows
    clf = Classifier(**fast(epochs=2, cv=1), standardize=False)
    pipe = Pipeline([("scale", StandardScaler()), ("clf", clf)])
    folds = list(StratifiedKFold(2, shuffle=True, random_state=0).split(X, y))
    scores = cross_val_score(pipe, X, y, cv=folds, scoring="roc_auc")
    by_hand = [
        roc_auc_score(y[held], clone(pipe).fit(X[train], y[train]).predict_proba(X[held])[:, 1])
        for train, held in folds
    ]
    np.testing.assert_allclose(scores, by_hand, rtol=0, atol=1e-12)
    assert scores.min() > 0.9, scores  # learnt, not a constant: the table is nearly separable


def test_save_refuses_an_unfitted_model(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        Classifier().save(tmp_path)
    assert not Path(tmp_path, "model.json").exists()
