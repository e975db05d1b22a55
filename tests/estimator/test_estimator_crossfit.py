"""Cross-fitting (``Classifier(cv=...)``), where calibration and thresholds are fitted, and the split rules.

References: scikit-learn's ``StratifiedKFold`` and ``train_test_split(stratify=...)``, F1 of every cut of the
pooled out-of-fold probabilities (what ``TunedThresholdClassifierCV`` maximises, on our pooled logits),
and float64 formulas for the prior correction and the log-loss.
"""

from __future__ import annotations

import dataclasses
import math
import types

import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import f1_score, log_loss
from sklearn.model_selection import StratifiedKFold, TunedThresholdClassifierCV, train_test_split

from logitlab import Classifier
from logitlab.data import Split, from_arrays, split_indices
from logitlab.data.split import fold_indices
from logitlab.errors import ConfigError, DataError, LogitlabWarning
from logitlab.estimator._calibrate import bound_sharpening
from logitlab.estimator._crossfit import resolve_cv
from logitlab.estimator._training import selection_metrics
from logitlab.evaluate import Calibration, calibrate
from logitlab.models import Ensemble
from logitlab.train import ReduceLROnPlateau, build_scheduler


def _binary(n: int, rate: float, seed: int = 0, features: int = 4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, features)).astype("float32")
    y = (X[:, 0] + 0.7 * rng.normal(size=n) > np.quantile(X[:, 0], 1 - rate)).astype(int)
    return X, y


# ----------------------------------------------------------------------------------------- folds and splits
def test_folds_are_scikit_learns_stratified_kfold_without_singletons():
    rng = np.random.default_rng(0)
    y = rng.choice(4, size=203, p=[0.5, 0.3, 0.15, 0.05])
    folds, notes = fold_indices(y, "multiclass", 5, seed=3)
    ref = StratifiedKFold(5, shuffle=True, random_state=3).split(np.zeros(len(y)), y)
    assert not notes
    for (train, held), (ref_train, ref_held) in zip(folds, ref):
        np.testing.assert_array_equal(held, np.sort(ref_held))
        np.testing.assert_array_equal(train, np.sort(ref_train))
    y = np.append(y, 7)  # a class of one row: in every fold's training rows, held out nowhere
    folds, notes = fold_indices(y, "multiclass", 5, seed=3)
    held = np.concatenate([h for _, h in folds])
    assert len(held) == len(np.unique(held)) == len(y) - 1 and len(y) - 1 not in held
    assert all(len(y) - 1 in train for train, _ in folds) and "single row" in notes[0]


def test_multilabel_folds_hold_every_row_out_once_and_spread_each_label():
    rng = np.random.default_rng(1)
    y = (rng.random((300, 4)) < [0.5, 0.2, 0.08, 0.03]).astype(int)
    folds, _ = fold_indices(y, "multilabel", 5, seed=0)
    held = np.concatenate([h for _, h in folds])
    assert sorted(held.tolist()) == list(range(300))
    for train, h in folds:
        assert len(np.intersect1d(train, h)) == 0 and len(train) + len(h) == 300
        assert np.all(np.abs(y[h].sum(0) - y.sum(0) / 5) <= 1.0 + 1e-9)


def test_a_singleton_class_stays_in_training_and_the_rest_stays_stratified():
    y = np.array([0] * 140 + [1] * 60 + [2])
    train, val, _, notes = split_indices(y, "multiclass", val_size=0.15, test_size=0.0, seed=0)
    assert 200 in train and "single row" in notes[0] and "kept in training" in notes[0]
    rest = np.arange(200)
    _, ref_val = train_test_split(rest, test_size=31 / 200, random_state=1, stratify=y[rest])
    assert np.bincount(y[val], minlength=3).tolist() == np.bincount(y[ref_val], minlength=3).tolist()


# ----------------------------------------------------------------------------------------- cv="auto"
def _resolve(y: np.ndarray, task: str, **params):
    bundle = from_arrays(np.zeros((len(y), 1), dtype="float32"), y, val_size=0.15, test_size=0.0)
    clf = types.SimpleNamespace(**{"cv": "auto", "ensemble": 1, "task_": task, **params})
    return resolve_cv(clf, bundle)


def test_auto_cross_fits_small_tables_and_rare_classes_only():
    folds, why = _resolve(np.array([0, 1] * 500), "binary")  # about 75 validation rows of each class
    assert folds == 5 and "small" in why
    folds, why = _resolve(np.array([0, 1] * 1500), "binary")
    assert folds == 1 and "one validation split" in why
    folds, why = _resolve(np.array([1] * 60 + [0] * 2940), "binary")
    assert folds == 5 and "about 9 rows of the rarest class" in why
    folds, why = _resolve(np.array([1] * 60 + [0] * 5940), "binary")  # rare, but above max_rows: the cost
    assert folds == 1 and "6000 rows > 5000" in why
    folds, why = _resolve(np.array([0, 1] * 150), "binary", cv=1)
    assert folds == 1


def test_cross_fitting_is_refused_under_ddp_and_auto_falls_back(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("LOCAL_RANK", "0")
    with pytest.raises(ConfigError, match="cross-fitting is not supported on a DDP run") as info:
        _resolve(np.array([0, 1] * 100), "binary", cv=5)
    assert info.value.code == "cv-unsupported"
    assert _resolve(np.array([0, 1] * 100), "binary")[0] == 1


class _Rows(torch.utils.data.IterableDataset):
    def __iter__(self):
        return iter(torch.zeros(4, 1))


def test_cross_fitting_is_refused_on_a_streaming_table_and_auto_falls_back():
    y = np.array([0, 1] * 100)  # small: cv="auto" would cross-fit in memory
    bundle = from_arrays(np.zeros((len(y), 1), dtype="float32"), y, val_size=0.15, test_size=0.0)
    streamed = dataclasses.replace(bundle, train=Split(_Rows(), bundle.train.y, bundle.train.index))
    clf = types.SimpleNamespace(cv=5, ensemble=1, task_="binary")
    with pytest.raises(ConfigError, match="not supported on a streaming table") as info:
        resolve_cv(clf, streamed)
    assert info.value.code == "cv-unsupported" and info.value.param == "cv"
    folds, why = resolve_cv(types.SimpleNamespace(cv="auto", ensemble=1, task_="binary"), streamed)
    assert folds == 1 and "streaming table" in why
    assert resolve_cv(types.SimpleNamespace(cv="auto", ensemble=1, task_="binary"), bundle)[0] == 5


def test_cv_and_ensemble_together_are_refused_with_a_fix():
    with pytest.raises(ConfigError, match="already averages 5 fold models"):
        Classifier(cv=5, ensemble=3).check_params()
    with pytest.raises(ConfigError, match="`cv`"):
        Classifier(cv="folds").check_params()


# ----------------------------------------------------------------------------------------- the fitted recipe
@pytest.fixture(scope="module")
def crossfit():
    X, y = _binary(240, 0.3, seed=2)
    return Classifier(cv=3, epochs=4, device="cpu", random_state=1).fit(X, y), X, y


def test_cross_fit_averages_its_fold_models_and_validates_out_of_fold(crossfit):
    clf, X, y = crossfit
    assert isinstance(clf.model_, Ensemble) and len(clf.model_.members) == 3
    assert clf.decisions_["cv"]["folds"] == 3 and clf.decisions_["validation"]["on"] == "out-of-fold"
    assert clf.decisions_["validation"]["rows"] == len(y) and len(clf.decisions_["members"]) == 3
    x = clf.data_state_.transform(X)
    with torch.no_grad():
        mean = torch.stack([m.eval()(x) for m in clf.model_.members]).mean(0)
    torch.testing.assert_close(clf.predict_logits(X), mean, rtol=1e-5, atol=1e-5)


def test_each_validation_logit_comes_from_the_fold_model_that_never_trained_on_its_row(crossfit):
    clf, X, y = crossfit
    bundle = from_arrays(X, y, val_size=0.15, test_size=0.0, seed=clf.seed_)
    rows = np.concatenate([bundle.train.index, bundle.val.index])  # the pool: training rows, then validation
    np.testing.assert_array_equal(clf.validation_targets_.numpy().ravel(), y[rows])
    folds = StratifiedKFold(3, shuffle=True, random_state=clf.seed_).split(rows, y[rows])
    x = clf.data_state_.transform(X[rows])
    members = zip(clf.model_.members, clf.decisions_["members"], folds, strict=True)
    for member, described, (trained, held) in members:  # each trained on the other folds, stopped on its own
        assert (described["rows"], described["stop_rows"]) == (len(trained), len(held))
        with torch.no_grad():
            out = member.eval()(x[held])
        torch.testing.assert_close(clf.validation_logits_[held], out, rtol=1e-5, atol=1e-5)


def test_calibration_and_threshold_are_fitted_on_the_pooled_out_of_fold_logits(crossfit):
    clf, _, _ = crossfit
    z, t = clf.validation_logits_, clf.validation_targets_
    pos_weight = clf.decisions_["weights"]["values"]
    ref = calibrate(z, t, task="binary", pos_weight=pos_weight)
    check = clf.decisions_["calibration_check"]  # the Platt map is kept only where it helps out of sample
    prior = torch.sigmoid(z.double().ravel() - math.log(pos_weight[0])).numpy()
    truth = t.numpy().ravel().astype(int)
    assert check["without"] == pytest.approx(
        log_loss(truth, prior), rel=1e-6
    )  # the no-data map's log-loss (float32 logits)
    assert check["kept"] == (check["with"] < check["without"]) and check["folds"] == 5
    expected = [p["a"] for p in ref.params] if check["kept"] else [1.0]  # else the prior correction, a = 1
    assert [p["a"] for p in clf.calibration_.params] == pytest.approx(expected)
    proba = torch.sigmoid(clf.calibration_.calibrated_logits(z)).numpy().ravel()
    truth = t.numpy().ravel().astype(int)
    best = max(f1_score(truth, proba >= c) for c in np.unique(proba))  # every cut of the pooled OOF scores
    ours = f1_score(truth, proba >= clf.thresholds_.values[0])
    assert ours == pytest.approx(best, abs=1e-9)
    assert clf.decisions_["validation"]["f1"] == pytest.approx(ours, abs=1e-6)
    ref_loss = log_loss(truth, np.clip(proba.astype(np.float64), 1e-15, 1 - 1e-15))
    assert clf.decisions_["validation"]["log_loss"] == pytest.approx(ref_loss, rel=1e-4)


class _Scores(ClassifierMixin, BaseEstimator):
    """A prefit classifier whose scores are fixed per row: ``X`` holds row positions (for scikit-learn)."""

    def __init__(self, proba=None):
        self.proba = proba

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        p = self.proba[np.asarray(X, dtype=int).ravel()]
        return np.column_stack([1 - p, p])


def test_the_threshold_matches_scikit_learns_tuned_threshold_on_the_same_scores(crossfit):
    clf, _, _ = crossfit
    z, t = clf.validation_logits_, clf.validation_targets_.numpy().ravel().astype(int)
    proba = torch.sigmoid(clf.calibration_.calibrated_logits(z)).numpy().ravel()
    rows = np.arange(len(t))[:, None]
    scores = _Scores(proba).fit(rows, t)
    tuned = TunedThresholdClassifierCV(
        scores, scoring="f1", cv="prefit", refit=False, thresholds=np.unique(proba)
    ).fit(rows, t)
    ref = f1_score(t, proba >= tuned.best_threshold_)
    assert f1_score(t, proba >= clf.thresholds_.values[0]) == pytest.approx(ref, abs=1e-9)


def test_a_cross_fitted_model_saves_and_loads_identically(crossfit, tmp_path):
    clf, X, _ = crossfit
    again = Classifier.load(clf.save(tmp_path / "m"))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(again.predict(X), clf.predict(X))


def test_one_split_picks_the_epoch_and_fits_the_calibration_on_different_halves():
    X, y = _binary(400, 0.4, seed=3)
    clf = Classifier(cv=1, epochs=3, device="cpu").fit(X, y)
    member = clf.decisions_
    assert member["cv"]["fitted_on"] == "half of validation"
    val = len(clf.validation_targets_)
    assert 25 <= val <= 35 and member["validation"]["rows"] == val  # half of the 60 validation rows


# ----------------------------------------------------------------------------------------- training rule
def test_selection_log_loss_is_the_unweighted_float64_formula():
    rng = np.random.default_rng(0)
    z, y = rng.normal(size=(50, 1)) * 2, (rng.random((50, 1)) < 0.2).astype(float)
    got = selection_metrics("binary")(torch.tensor(z, dtype=torch.float32), torch.tensor(y))["log_loss"]
    p = 1 / (1 + np.exp(-z))
    assert got == pytest.approx(float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean()), rel=1e-5)
    zc, yc = rng.normal(size=(40, 3)), rng.integers(0, 3, 40)
    got = selection_metrics("multiclass")(torch.tensor(zc, dtype=torch.float32), torch.tensor(yc))["log_loss"]
    ref = log_loss(yc, np.exp(zc) / np.exp(zc).sum(1, keepdims=True), labels=[0, 1, 2])
    assert got == pytest.approx(ref, rel=1e-5)


def test_reduce_on_plateau_scales_the_schedule_and_stops_after_its_last_reduction():
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=1.0)
    sched = build_scheduler(opt, total_steps=100, warmup_steps=0, min_lr=0.0, schedule="constant")
    trainer = types.SimpleNamespace(optimizer=opt, scheduler=sched, should_stop=False)
    cb = ReduceLROnPlateau("val_log_loss", patience=2, factor=0.5, max_reductions=1)
    lrs = []
    for epoch, loss in enumerate([1.0, 0.9, 0.95, 0.95, 0.95, 0.95]):
        cb.on_epoch_end(trainer, epoch, {"val_log_loss": loss})
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
        if trainer.should_stop:
            break
    assert lrs == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5] and trainer.should_stop and epoch == 5


# ----------------------------------------------------------------------------------------- calibration rules
def test_no_validation_applies_the_prior_correction_so_probabilities_match_the_base_rate():
    X, y = _binary(1200, 0.06, seed=4)
    clf = Classifier(val_size=0, epochs=8, device="cpu").fit(X, y)
    w = (len(y) - y.sum()) / y.sum()  # balanced pos_weight of all rows
    assert clf.calibration_.params[0] == {
        "kind": "prior",
        "a": 1.0,
        "b": pytest.approx(-math.log(w), rel=1e-6),
    }
    assert clf.predict_proba(X)[:, 1].mean() == pytest.approx(y.mean(), abs=0.03)


def test_a_map_fitted_on_few_rows_does_not_sharpen():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 40)
    z = torch.tensor(np.eye(3)[y] * 0.5 + rng.normal(size=(40, 3)) * 0.3)  # underconfident: T < 1 fits
    cal = calibrate(z, torch.tensor(y), task="multiclass")
    assert cal.params[0]["temperature"] < 1
    bounded = bound_sharpening(cal, z, torch.tensor(y))
    assert bounded.params[0]["temperature"] == 1.0 and "bounded to 1" in bounded.notes[-1]
    u = z.numpy() + np.asarray(bounded.params[0]["bias"])
    ref = log_loss(y, np.exp(u) / np.exp(u).sum(1, keepdims=True), labels=[0, 1, 2])
    assert bounded.log_loss_after[0] == pytest.approx(ref, rel=1e-9)
    zb = torch.tensor(rng.normal(size=40) * 0.2)
    tb = (zb + torch.tensor(rng.normal(size=40) * 0.05) > 0).double()
    sharp = Calibration("binary", "platt", [{"kind": "platt", "a": 8.0, "b": 0.3}])
    kept = bound_sharpening(sharp, zb, tb).params[0]
    p = 1 / (1 + np.exp(-(zb.numpy() + kept["b"])))
    assert kept["a"] == 1.0 and p.mean() == pytest.approx(tb.numpy().mean(), abs=1e-9)  # the score equation


# ----------------------------------------------------------------------------------------- coverage, batches
def test_a_class_without_training_rows_is_refused():
    rng = np.random.default_rng(0)
    y = np.array([0] * 40 + [1] * 40 + [2] * 10)
    bundle = from_arrays(rng.normal(size=(90, 3)), y, val_size=0.3, test_size=0.0)
    keep = np.flatnonzero(bundle.train.y.numpy() != 2)
    train = Split(bundle.train.x[keep], bundle.train.y[keep], bundle.train.index[keep])
    with pytest.raises(DataError, match="no rows of '2'") as info:
        Classifier(cv=1, epochs=1, device="cpu").fit(dataclasses.replace(bundle, train=train))
    assert info.value.code == "class-not-in-training"


def test_a_label_without_training_positives_is_warned_about_and_noted():
    rng = np.random.default_rng(1)
    y = (rng.random((120, 3)) < [0.5, 0.4, 0.2]).astype(int)
    bundle = from_arrays(rng.normal(size=(120, 3)), y, val_size=0.3, test_size=0.0)
    assert (
        bundle.val.y[:, 2].sum() > 0
    )  # positives of the third label in validation only, after the cut below
    keep = np.flatnonzero(bundle.train.y[:, 2].numpy() == 0)
    train = Split(bundle.train.x[keep], bundle.train.y[keep], bundle.train.index[keep])
    with pytest.warns(LogitlabWarning, match=r"\(positives\): no training rows"):
        clf = Classifier(cv=1, epochs=1, device="cpu").fit(dataclasses.replace(bundle, train=train))
    assert any("(positives): no training rows" in n for n in clf.decisions_["notes"])


def test_a_class_without_validation_rows_is_warned_about_and_noted():
    rng = np.random.default_rng(0)
    y = np.array(["a"] * 60 + ["b"] * 60 + ["c"])
    with pytest.warns(LogitlabWarning, match="'c' has no validation"):
        clf = Classifier(cv=1, epochs=1, device="cpu").fit(rng.normal(size=(121, 3)), y)
    assert any("'c' has no validation" in n for n in clf.decisions_["notes"])


def test_a_last_batch_of_one_row_trains_without_a_batchnorm_error():
    X, y = _binary(321, 0.5, seed=5)
    clf = Classifier(val_size=0, epochs=2, batch_size=64, device="cpu").fit(X, y)  # 321 = 5 * 64 + 1
    assert len(clf.history_) == 2
    X, y = _binary(81, 0.5, seed=6)  # folds of 16-17 rows: 64-65 training rows each
    clf = Classifier(cv=5, epochs=1, batch_size=64, device="cpu").fit(X, y)
    assert 65 in [m["rows"] for m in clf.decisions_["members"]]
