"""The fitted state as types: ``Decisions`` both ways, ``decisions_`` as its dict view, ``FittedState`` and
``Classifier.from_fitted``, and the train workflow reading the loss from fields, not from its sentence."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from logitlab import Classifier, make_loss
from logitlab.errors import ConfigError
from logitlab.estimator import Decisions
from logitlab.estimator.decisions import CvChoice, LossChoice
from tests.helpers import fast

FIXTURES = Path(__file__).parents[1] / "fixtures"


@pytest.fixture(scope="module")
def fitted() -> tuple[Classifier, np.ndarray]:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(160, 3)).astype("float32")
    y = np.where(X[:, 0] + 0.5 * rng.normal(size=160) > 0.3, "yes", "no")
    clf = Classifier(**fast(model="mlp", epochs=2, cv=1, loss="focal", loss_options={"gamma": 2.0}))
    return clf.fit(X, y), X


def test_decisions_view_is_the_typed_decisions_as_json(fitted):
    clf, _ = fitted
    d = clf.fit_decisions_
    view = clf.decisions_
    assert view == d.to_dict() and view == json.loads(json.dumps(view))  # plain JSON, what model.json keeps
    assert view["loss"] == "SigmoidFocalLoss (loss='focal', gamma=2.0)"  # the sentence, as before
    assert view["loss_spec"] == {"class": "SigmoidFocalLoss", "name": "focal", "options": {"gamma": 2.0}}
    assert d.loss is not None and d.loss.class_name == type(make_loss("binary", "focal", gamma=2.0)).__name__
    assert view["cv"] == {"folds": 1, "reason": d.cv.reason, "fitted_on": "half of validation"}
    assert view["epochs"] == {"epochs": 2, "patience": None, "asked": 2, "schedule": "cosine"}
    assert view["training"]["weight_decay"] == d.training.weight_decay == 1e-4
    with pytest.raises(ConfigError, match="read-only"):  # read-only: an edit would be lost, so it raises
        view["task"] = "edited"
    assert clf.decisions_["task"] == "binary"


def test_decisions_round_trip_and_keep_what_they_do_not_know():
    d = Decisions("binary", "two classes", ["n"], cv=CvChoice(5, "why", "out-of-fold"))
    d.loss = LossChoice.of("BCEWithLogitsLoss", "auto", None)
    d.calibration_check = {}
    raw = {**d.to_dict(), "from_a_newer_version": [1, 2]}
    back = Decisions.from_dict(raw)
    assert back.to_dict() == raw and back.extra == {"from_a_newer_version": [1, 2]}
    assert raw["calibration_check"] is None  # judged, nothing to report: null, as before
    older = {
        "task": "binary",
        "loss": "BCEWithLogitsLoss (loss='auto')",
        "training": {"imbalance": "balanced"},
    }
    old = Decisions.from_dict(older)  # an older shape is kept as it is, not refused
    assert old.training is None and old.to_dict()["training"] == {"imbalance": "balanced"}
    assert old.loss is not None and old.loss.class_name is None and old.loss.text == older["loss"]
    with pytest.raises(ValueError):
        Decisions.from_dict({"task": "binary", "best_epoch": "x"})


def test_an_old_model_file_loads_and_saves_its_decisions_unchanged(tmp_path):
    saved = json.loads((FIXTURES / "saved_2770bf6" / "binary" / "model.json").read_text())["decisions"]
    clf = Classifier.load(FIXTURES / "saved_2770bf6" / "binary")
    assert clf.fit_decisions_.loss is not None and clf.fit_decisions_.loss.class_name is None
    view = clf.decisions_
    for key, value in saved.items():
        assert view[key] == (value + 1 if key == "best_epoch" else value)  # 0-based epochs counted from 1
    clf.save(tmp_path / "again")
    assert Classifier.load(tmp_path / "again").decisions_ == view


def test_from_fitted_rebuilds_the_same_predictions(fitted):
    clf, X = fitted
    again = Classifier.from_fitted(clf.get_params(), clf.fitted_state())
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(again.predict(X), clf.predict(X))
    assert again.decisions_ == clf.decisions_ and again.classes_.tolist() == clf.classes_.tolist()
    assert again.history_ == [] and again.health_ is None


@pytest.mark.parametrize(("imbalance", "kept"), [("auto", "'auto': imbalance='none' for the sparse-native model"),
                                                 ("balanced", "imbalance='balanced' as given")])  # fmt: skip
def test_the_sparse_l2_replaces_the_minibatch_weight_decay_in_the_recorded_choice(imbalance, kept):
    from logitlab.estimator._choices import resolve_training
    from logitlab.estimator._convex_fit import sparse_penalty
    from logitlab.options import SPARSE_FULL_BATCH

    asked = resolve_training(imbalance, "auto", "sparse")
    got = sparse_penalty(asked, rows=200, n_outputs=3, task="multilabel")
    c = float(SPARSE_FULL_BATCH["C"])
    assert got.weight_decay == pytest.approx(1.0 / (c * 200 * 3)) and got.C == c  # sklearn's C, per label
    parts = got.reason.split("; ")
    assert len(parts) == 2 and parts[0].startswith(kept) and "weight_decay=" not in parts[0]
    assert parts[1].startswith(
        f"weight_decay='auto' for the full-batch sparse linear model: L2 {got.weight_decay:.3g}"
    )
    assert got.to_dict()["C"] == c and "C" not in asked.to_dict()  # C only where the L2 came from it
    given = resolve_training(imbalance, 0.5, "sparse")
    assert sparse_penalty(given, rows=200, n_outputs=3, task="multilabel") is given  # a number given: the L2
