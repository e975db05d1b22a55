"""tune_thresholds against scikit-learn's precision-recall curve and brute force; Thresholds round trip."""

import json

import numpy as np
import pytest
import torch
from sklearn import metrics as skm
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from logitlab.errors import ConfigError, ModelFileError
from logitlab.evaluate import Thresholds, predict_labels, tune_thresholds


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _imbalanced_logits(weight, seed):
    """A logistic regression's validation decision_function on an imbalanced make_classification set."""
    x, y = make_classification(
        n_samples=3000, n_features=10, n_informative=4, weights=[weight], flip_y=0.02, random_state=seed
    )
    half = len(y) // 2
    lr = LogisticRegression(max_iter=500).fit(x[:half], y[:half])
    return lr.decision_function(x[half:]), y[half:]


@pytest.fixture(scope="module")
def imbalanced_multilabel():
    cols = [_imbalanced_logits(w, s) for w, s in ((0.97, 0), (0.9, 1), (0.75, 2), (0.6, 3))]
    return np.stack([c[0] for c in cols], 1), np.stack([c[1] for c in cols], 1)


def _max_fbeta_on_sklearn_curve(y, p, beta=1.0):
    prec, rec, _ = skm.precision_recall_curve(y, p)
    b2 = beta * beta
    with np.errstate(invalid="ignore", divide="ignore"):
        f = (1 + b2) * prec * rec / (b2 * prec + rec)
    return np.nanmax(f)


def test_binary_tuned_threshold_beats_half_and_is_the_pr_curve_max():
    z, y = _imbalanced_logits(0.97, 0)
    th = tune_thresholds(torch.tensor(z), torch.tensor(y), task="binary")
    p = _sigmoid(z)
    f_half = skm.f1_score(y, p >= 0.5)
    f_tuned = skm.f1_score(y, p >= th.values[0])
    assert th.values[0] != 0.5 and f_tuned > f_half
    assert f_tuned == pytest.approx(_max_fbeta_on_sklearn_curve(y, p), abs=1e-12)
    assert th.scores[0] == pytest.approx(f_tuned, abs=1e-12)
    assert predict_labels(torch.tensor(z)[:, None], task="binary", thresholds=th).shape == (len(z), 1)


def test_multilabel_every_changed_label_improves_and_reaches_the_max(imbalanced_multilabel):
    z, y = imbalanced_multilabel
    th = tune_thresholds(torch.tensor(z), torch.tensor(y), task="multilabel")
    p = _sigmoid(z)
    decided = predict_labels(torch.tensor(z), task="multilabel", thresholds=th).numpy()
    changed = 0
    for j in range(z.shape[1]):
        f_half = skm.f1_score(y[:, j], p[:, j] >= 0.5)
        f_tuned = skm.f1_score(y[:, j], decided[:, j])
        assert f_tuned == pytest.approx(_max_fbeta_on_sklearn_curve(y[:, j], p[:, j]), abs=1e-12), j
        if th.values[j] != 0.5:
            changed += 1
            assert f_tuned > f_half, j
        else:
            assert f_tuned == f_half
    assert changed >= 2  # the rare labels move


def test_fbeta_reaches_the_max_f2_of_the_curve():
    z, y = _imbalanced_logits(0.9, 1)
    th = tune_thresholds(torch.tensor(z), torch.tensor(y), task="binary", objective="fbeta", beta=2.0)
    p = _sigmoid(z)
    got = skm.fbeta_score(y, p >= th.values[0], beta=2.0)
    assert got == pytest.approx(_max_fbeta_on_sklearn_curve(y, p, 2.0), abs=1e-12)
    assert th.objective == "fbeta=2"


def test_precision_at_recall_and_recall_at_precision_follow_the_curve():
    z, y = _imbalanced_logits(0.9, 1)
    p = _sigmoid(z)
    prec, rec, _ = skm.precision_recall_curve(y, p)
    th = tune_thresholds(
        torch.tensor(z), torch.tensor(y), task="binary", objective=("precision_at_recall", 0.8)
    )
    pred = p >= th.values[0]
    assert skm.recall_score(y, pred) >= 0.8
    assert skm.precision_score(y, pred) == pytest.approx(prec[rec >= 0.8].max(), abs=1e-12)
    th = tune_thresholds(
        torch.tensor(z), torch.tensor(y), task="binary", objective=("recall_at_precision", 0.7)
    )
    pred = p >= th.values[0]
    assert skm.precision_score(y, pred) >= 0.7
    assert skm.recall_score(y, pred) == pytest.approx(rec[prec >= 0.7].max(), abs=1e-12)
    th = tune_thresholds(
        torch.tensor(z), torch.tensor(y), task="binary", objective=("recall_at_precision", 1.0)
    )
    assert th.values[0] == 0.5 or skm.precision_score(y, p >= th.values[0]) == 1.0


@pytest.mark.parametrize(
    ("spelled", "as_call"),
    [
        ("fbeta=2", {"objective": "fbeta", "beta": 2.0}),
        ("precision_at_recall=0.8", {"objective": ("precision_at_recall", 0.8)}),
        ("recall_at_precision=0.7", {"objective": ("recall_at_precision", 0.7)}),
    ],
)
def test_objectives_spelled_as_recorded_strings_mean_the_same(spelled, as_call):
    z, y = (torch.tensor(a) for a in _imbalanced_logits(0.9, 1))
    th = tune_thresholds(z, y, task="binary", objective=spelled)
    assert th.values == tune_thresholds(z, y, task="binary", **as_call).values
    assert th.objective == spelled  # the string round-trips through model.json
    for bad in ("fbeta=x", "precision_at_recall=1.5", "recall_at=0.5"):
        with pytest.raises(ConfigError, match="objective|beta"):
            tune_thresholds(z, y, task="binary", objective=bad)


def test_ties_brute_force_over_unique_scores():
    rng = np.random.default_rng(0)
    for _ in range(30):
        n = int(rng.integers(5, 40))
        z = rng.integers(-3, 4, size=n).astype(np.float64)  # many ties
        y = (rng.random(n) < 0.3).astype(int)
        if y.sum() in (0, n):
            continue
        th = tune_thresholds(torch.tensor(z), torch.tensor(y), task="binary")
        p = _sigmoid(z)
        brute = max(skm.f1_score(y, p >= t) for t in np.unique(p))
        got = skm.f1_score(y, p >= th.values[0])
        assert got == pytest.approx(max(brute, skm.f1_score(y, p >= 0.5)), abs=1e-12)


def test_degenerate_labels_keep_half_with_a_note():
    z = torch.randn(50, 3)
    y = torch.zeros(50, 3, dtype=torch.long)
    y[:, 1] = 1
    y[::3, 2] = 1
    th = tune_thresholds(z, y, task="multilabel")
    assert th.values[:2] == [0.5, 0.5]
    assert any("label 0: no positives" in n for n in th.notes)
    assert any("label 1: no negatives" in n for n in th.notes)


def test_multiclass_bias_improves_macro_f1_and_reports_it():
    x, y = make_classification(
        n_samples=3000, n_features=12, n_informative=6, n_classes=4, weights=[0.7, 0.2, 0.07, 0.03],
        random_state=0,
    )  # fmt: skip
    half = len(y) // 2
    z = LogisticRegression(max_iter=1000).fit(x[:half], y[:half]).decision_function(x[half:])
    yv = y[half:]
    th = tune_thresholds(torch.tensor(z), torch.tensor(yv), task="multiclass")
    plain = skm.f1_score(yv, z.argmax(1), average="macro")
    tuned_pred = predict_labels(torch.tensor(z), task="multiclass", thresholds=th).numpy()
    tuned = skm.f1_score(yv, tuned_pred, average="macro")
    assert np.array_equal(tuned_pred, (z + np.array(th.values)).argmax(1))
    assert th.scores[0] == pytest.approx(tuned, abs=1e-12)
    assert tuned >= plain
    # a class pushed down by 4 logits is brought back by its bias
    z2 = z.copy()
    z2[:, 2] -= 4.0
    th2 = tune_thresholds(torch.tensor(z2), torch.tensor(yv), task="multiclass")
    tuned2 = skm.f1_score(yv, (z2 + np.array(th2.values)).argmax(1), average="macro")
    assert th2.values[2] > 2.0
    assert tuned2 > skm.f1_score(yv, z2.argmax(1), average="macro") + 0.05


def test_multiclass_bias_stays_zero_when_argmax_is_already_best():
    y = torch.arange(4).repeat(10)
    z = torch.nn.functional.one_hot(y, 4).double() * 3  # perfect argmax
    th = tune_thresholds(z, y, task="multiclass")
    assert th.values == [0.0] * 4 and th.scores == [1.0]


def test_json_round_trip_keeps_the_decisions():
    z, y = _imbalanced_logits(0.97, 0)
    th = tune_thresholds(torch.tensor(z), torch.tensor(y), task="binary")
    back = Thresholds.from_dict(json.loads(json.dumps(th.to_dict())))
    assert back == th
    assert torch.equal(
        predict_labels(torch.tensor(z), task="binary", thresholds=back),
        predict_labels(torch.tensor(z), task="binary", thresholds=th),
    )
    mc = Thresholds("multiclass", [0.0, -1.5, 2.25], objective="f1", scores=[0.5])
    assert Thresholds.from_dict(json.loads(json.dumps(mc.to_dict()))) == mc


def test_defaults_and_errors():
    z = torch.tensor([[0.2, -0.1], [-3.0, 4.0]])
    assert predict_labels(z, task="multilabel").tolist() == [[1, 0], [0, 1]]
    assert torch.equal(predict_labels(z, task="multilabel", thresholds=Thresholds.default("multilabel", 2)),
                       predict_labels(z, task="multilabel"))  # fmt: skip
    with pytest.raises(ConfigError, match="thresholds are for a binary task"):
        predict_labels(z, task="multilabel", thresholds=Thresholds.default("binary", 1))
    with pytest.raises(ConfigError, match="objective"):
        tune_thresholds(z, torch.tensor([[1, 0], [0, 1]]), task="multilabel", objective="auc")
    with pytest.raises(ConfigError, match="macro-F1"):
        tune_thresholds(z, torch.tensor([0, 1]), task="multiclass", objective=("precision_at_recall", 0.9))
    with pytest.raises(ConfigError, match="in \\[0, 1\\]"):
        Thresholds("binary", [1.5])
    with pytest.raises(ModelFileError, match="values"):
        Thresholds.from_dict({"task": "binary"})


def test_builtin_fraud_tuned_threshold_beats_half():
    data = pytest.importorskip("logitlab.data")
    bundle = data.load_dataset("builtin:fraud")
    x, y = bundle.train.x.numpy(), bundle.train.y.numpy().ravel()
    z = LogisticRegression(max_iter=1000).fit(x, y).decision_function(bundle.val.x.numpy())
    yv = bundle.val.y.numpy().ravel()
    th = tune_thresholds(torch.tensor(z)[:, None], bundle.val.y, task="binary")
    p = _sigmoid(z)
    assert th.values[0] != 0.5
    assert skm.f1_score(yv, p >= th.values[0]) > skm.f1_score(yv, p >= 0.5)
    assert skm.f1_score(yv, p >= th.values[0]) == pytest.approx(_max_fbeta_on_sklearn_curve(yv, p), abs=1e-12)


def test_classifier_predict_uses_the_tuned_thresholds_after_save_and_load(tmp_path):
    ll = pytest.importorskip("logitlab")
    x, y = make_classification(n_samples=600, n_features=8, weights=[0.9], random_state=0)
    clf = ll.Classifier(epochs=3).fit(x, y)
    assert clf.thresholds_ is not None
    clf.save(tmp_path / "model")
    back = ll.Classifier.load(tmp_path / "model")
    assert back.thresholds_ == clf.thresholds_
    assert back.calibration_ == clf.calibration_
    # the thresholds apply on the calibrated scale, where predict_proba lives
    calibrated = back.calibration_.calibrated_logits(torch.tensor(back.decision_function(x)))
    expected = predict_labels(calibrated, task="binary", thresholds=back.thresholds_)
    assert np.array_equal(back.predict(x), back.classes_[expected.numpy()])
    assert np.array_equal(
        back.predict(x), (back.predict_proba(x)[:, 1] >= back.thresholds_.values[0]).astype(int)
    )
    assert np.array_equal(back.predict(x), clf.predict(x))


# ------------------------------------------------------------------ probabilities are said, never guessed
def test_probabilities_are_taken_when_said_and_warned_about_when_not():
    import warnings

    from logitlab.errors import LogitlabWarning

    z, y = _imbalanced_logits(0.9, 5)
    p = _sigmoid(z)
    from_logits = tune_thresholds(torch.tensor(z), torch.tensor(y), task="binary").values[0]
    from_p = tune_thresholds(torch.tensor(p), torch.tensor(y), task="binary", probabilities=True).values[0]
    assert from_p == pytest.approx(from_logits, abs=1e-6)
    assert _f1_at(y, p, from_p) == pytest.approx(_max_fbeta_on_sklearn_curve(y, p), abs=1e-9)  # the oracle
    with pytest.warns(LogitlabWarning, match="probabilities=True"):
        as_logits = tune_thresholds(torch.tensor(p), torch.tensor(y), task="binary").values[0]
    assert 0.5 <= as_logits <= 0.74 and abs(as_logits - from_p) > 0.05  # what the silent mistake gave
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tune_thresholds(
            torch.tensor(p), torch.tensor(y), task="binary", probabilities=False
        )  # said: no warning
        tune_thresholds(torch.tensor(z), torch.tensor(y), task="binary")  # logits outside [0, 1]: none
    with pytest.raises(ConfigError, match="probabilities=True") as info:
        tune_thresholds(torch.tensor(z), torch.tensor(y), task="binary", probabilities=True)
    assert info.value.param == "probabilities"


def test_multiclass_probabilities_give_the_biases_of_their_logits():
    rng = np.random.default_rng(0)
    z = torch.tensor(rng.normal(size=(300, 3)) + np.eye(3)[rng.integers(0, 3, 300)])
    y = torch.tensor(rng.integers(0, 3, 300))
    from_logits = tune_thresholds(z, y, task="multiclass")
    from_p = tune_thresholds(torch.softmax(z, 1), y, task="multiclass", probabilities=True)
    # log-softmax differs from the logits by one constant per row: argmax(z + b) decides alike
    np.testing.assert_array_equal(
        predict_labels(z, task="multiclass", thresholds=from_logits).numpy(),
        predict_labels(z, task="multiclass", thresholds=from_p).numpy(),
    )


def test_min_count_keeps_the_default_for_rare_labels_and_classes():
    z = torch.tensor([-2.0, -1.0, -0.5, 0.5, 1.0, 2.0] * 3)
    y = torch.tensor([0, 1, 1, 0, 1, 1] * 3)
    tuned = tune_thresholds(z, y, task="binary")
    assert tuned.values != [0.5]
    kept = tune_thresholds(z, y, task="binary", min_count=10)  # 6 negatives < 10
    assert kept.values == [0.5] and "only 6 negatives" in kept.notes[0]
    zc = torch.randn(60, 3)
    yc = torch.tensor([0] * 28 + [1] * 28 + [2] * 4)
    biased = tune_thresholds(zc, yc, task="multiclass", min_count=10)
    assert biased.values[2] == 0.0 and any("class 2: 4 rows" in n for n in biased.notes)


def _f1_at(y, p, t):
    return skm.f1_score(y, (p >= t).astype(int))
