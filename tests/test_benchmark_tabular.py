"""benchmarks/tabular: the peers' CV threshold is scikit-learn's, and the new metrics against references.

``cv_threshold`` must give the threshold ``TunedThresholdClassifierCV`` finds with the same folds, and decide
``p >= threshold``; the calibration slope is the slope of an (unpenalised) scikit-learn logistic fit on
``logit(p)``, and 1 for probabilities drawn from themselves; the paired differences are hand-computable.
"""

from __future__ import annotations

import numpy as np
import pytest
from benchmarks.tabular_metrics import calibration_slope, paired_markdown
from benchmarks.tabular_models import cv_threshold
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, TunedThresholdClassifierCV


def _toy(n: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = (X[:, 0] + 0.8 * rng.normal(size=n) > 1.0).astype(int)  # ~20 % positives: the F1 cut is not 0.5
    return X, y


def test_cv_threshold_is_tuned_threshold_classifier_cv():
    X, y = _toy()
    ours = cv_threshold(LogisticRegression(), seed=3, thresholds=15).fit(X, y)
    folds = StratifiedKFold(5, shuffle=True, random_state=3)
    ref = TunedThresholdClassifierCV(
        LogisticRegression(), scoring="f1", cv=folds, random_state=3, thresholds=15
    )
    ref.fit(X, y)
    assert ours.best_threshold_ == pytest.approx(ref.best_threshold_, abs=1e-12)
    assert abs(ours.best_threshold_ - 0.5) > 0.05
    p = ours.predict_proba(X)[:, 1]
    np.testing.assert_array_equal(ours.predict(X), (p >= ours.best_threshold_).astype(int))


def test_calibration_slope_against_references():
    rng = np.random.default_rng(0)
    z = rng.normal(scale=2.0, size=20_000)
    p = 1 / (1 + np.exp(-z))
    y = (rng.random(z.size) < p).astype(float)
    assert calibration_slope("binary", y, p) == pytest.approx(1.0, abs=0.05)
    sharp = 1 / (1 + np.exp(-2 * z))  # twice the logit: over-confident, slope 1/2
    ref = LogisticRegression(C=1e12, tol=1e-10).fit(np.log(sharp / (1 - sharp))[:, None], y).coef_[0, 0]
    assert calibration_slope("binary", y, sharp) == pytest.approx(ref, abs=1e-3)
    assert ref == pytest.approx(0.5, abs=0.05)
    # multiclass: the temperature of softmax(s * log p); p drawn from itself gives s = 1
    logits = rng.normal(scale=2.0, size=(20_000, 3))
    proba = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = np.array([rng.choice(3, p=row) for row in proba]).astype(str)
    assert calibration_slope("multiclass", labels, proba, ["0", "1", "2"]) == pytest.approx(1.0, abs=0.05)


def test_paired_differences_by_hand():
    def rec(model: str, seed: int, ap: float, f1: float, ll: float) -> dict:
        metrics = {"ap": ap, "f1": f1, "log_loss": ll, "brier": ll / 2}
        return {"set": "t", "task": "binary", "model": model, "seed": seed, "metrics": metrics}

    records = [
        rec("logitlab", 0, 0.70, 0.50, 0.30),
        rec("logitlab", 1, 0.74, 0.52, 0.32),
        rec("a", 0, 0.73, 0.55, 0.25),
        rec("a", 1, 0.75, 0.55, 0.27),
        rec("b", 0, 0.60, 0.56, 0.40),
        rec("b", 1, 0.60, 0.58, 0.40),
    ]
    table = paired_markdown(records, "logitlab", ["a", "b"])
    # AP: best peer a, diffs -0.03 and -0.01: mean -0.020, SE std([-0.03, -0.01], ddof=1) / sqrt(2) = 0.010
    assert "ap -0.020 ± 0.010 (vs a)" in table
    assert "-0.060 ± 0.000 (vs b)" in table  # F1: best peer b (0.57), diffs -0.06, -0.06
    assert "+0.050 ± 0.000 (vs a)" in table  # log-loss: a is best (lower), diffs +0.05, +0.05
    assert "| yes / no (0.050 beyond) / no (0.030 beyond) |" in table  # -0.020 is at the tolerance
