"""``classes_`` in scikit-learn's order (issue 26), whichever class is positive; old models keep their order.

The network's logit order is the label encoder's (binary: ``[negative, positive]``); ``classes_`` is sorted as
``sklearn.preprocessing.LabelEncoder`` sorts, and ``predict_proba``'s columns, ``predict`` and
``decision_function`` (positive for ``classes_[1]``) follow it, so scikit-learn's scorers read them right.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from sklearn.metrics import get_scorer, roc_auc_score
from sklearn.preprocessing import LabelEncoder

from logitlab import Classifier

RAW = {"epochs": 3, "device": "cpu", "calibration": "none", "threshold_objective": "none"}


def _data(labels, n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)).astype(np.float32)
    k = len(labels)
    codes = np.digitize(
        X[:, 0] + 0.3 * rng.normal(size=n), np.quantile(X[:, 0], np.linspace(0, 1, k + 1)[1:-1])
    )
    return X, np.asarray(labels, dtype=object if isinstance(labels[0], str) else None)[codes]


@pytest.mark.parametrize(
    "labels",
    [[2, 1], ["2", "1"], ["legit", "fraud"], ["no", "yes"], [True, False], ["c", "a", "b"], [30, 10, 20]],
    ids=[
        "ints-1-positive",
        "text-1-positive",
        "fraud-positive-first",
        "yes-positive",
        "bools",
        "abc",
        "ints",
    ],
)
def test_classes_are_sorted_as_scikit_learn_and_every_output_follows_them(labels):
    X, y = _data(labels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the positive class may hold most rows here
        clf = Classifier(**RAW).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, LabelEncoder().fit(y).classes_)
    proba, logits = clf.predict_proba(X), clf.predict_logits(X).numpy().astype(np.float64)
    order = [list(map(str, clf.label_encoder_.classes)).index(str(c)) for c in clf.classes_]
    if clf.task_ == "binary":
        p = 1.0 / (1.0 + np.exp(-logits[:, 0]))  # the positive class's probability
        column = [str(c) for c in clf.classes_].index(str(clf.label_encoder_.positive))
        np.testing.assert_allclose(proba[:, column], p, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(proba[:, 1 - column], 1.0 - p, rtol=1e-5, atol=1e-7)
        decision = clf.decision_function(X)  # > 0: classes_[1] is the likelier
        np.testing.assert_array_equal(decision, logits[:, 0].astype(np.float32) * (1 if column == 1 else -1))
        np.testing.assert_array_equal(clf.predict(X), clf.classes_[(decision > 0).astype(int)])
    else:
        e = np.exp(logits - logits.max(1, keepdims=True))
        np.testing.assert_allclose(proba, (e / e.sum(1, keepdims=True))[:, order], rtol=1e-5, atol=1e-7)
        np.testing.assert_array_equal(clf.decision_function(X), logits[:, order].astype(np.float32))
    assert (clf.predict(X) == clf.classes_[proba.argmax(1)]).mean() > 0.98  # ties at 0.5 aside


def test_scikit_learn_scorers_read_a_positive_class_that_sorts_first():
    X, y = _data(["legit", "fraud"])  # fraud is positive (a positive-like name) and classes_[0]
    clf = Classifier(**{**RAW, "epochs": 8}).fit(X, y)
    assert clf.label_encoder_.positive == "fraud" and clf.classes_.tolist() == ["fraud", "legit"]
    truth = roc_auc_score(y == "fraud", clf.predict_logits(X).numpy()[:, 0])
    assert truth > 0.8
    assert get_scorer("roc_auc")(clf, X, y) == pytest.approx(truth, abs=1e-12)  # not 1 - truth
    assert get_scorer("neg_log_loss")(clf, X, y) > -0.7


def test_a_model_saved_with_the_old_order_loads_with_it(tmp_path):
    X, y = _data([2, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = Classifier(**{**RAW, "calibration": "auto", "threshold_objective": "f1"}).fit(X, y)
    clf.save(tmp_path / "new")
    meta_path = tmp_path / "new" / "model.json"
    assert json.loads(meta_path.read_text())["classes"] == [1, 2]
    # earlier versions saved classes_ in the logit order [negative, positive] = [2, 1]
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "model.safetensors").write_bytes(
        (tmp_path / "new" / "model.safetensors").read_bytes()
    )
    meta = json.loads(meta_path.read_text())
    (tmp_path / "old" / "model.json").write_text(json.dumps({**meta, "classes": [2, 1]}))
    old, new = Classifier.load(tmp_path / "old"), Classifier.load(tmp_path / "new")
    assert old.classes_.tolist() == [2, 1] and new.classes_.tolist() == [1, 2]
    np.testing.assert_array_equal(old.predict(X), clf.predict(X))
    np.testing.assert_array_equal(new.predict(X), clf.predict(X))
    np.testing.assert_array_equal(old.predict_proba(X), new.predict_proba(X)[:, ::-1])
    np.testing.assert_array_equal(old.decision_function(X), -new.decision_function(X))


def test_onnx_probabilities_and_labels_follow_the_sorted_classes(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    from logitlab.export import export_onnx, onnx_inputs

    X, y = _data(["legit", "fraud"])
    clf = Classifier(epochs=3, device="cpu").fit(X, y)
    path = export_onnx(clf, tmp_path / "m.onnx")
    _, proba, labels = ort.InferenceSession(str(path)).run(None, onnx_inputs(X, path))
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-5)
    np.testing.assert_array_equal(clf.classes_[labels], clf.predict(X))
    assert json.loads(path.with_name("m.onnx.json").read_text())["classes"] == ["fraud", "legit"]
