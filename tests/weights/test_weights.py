import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.utils.class_weight import compute_class_weight

from logitlab.errors import ConfigError, LogitlabWarning, TargetError
from logitlab.weights import WEIGHT_STRATEGIES, class_weight, pos_weight

# float64 references written from the formulas, independent of the module


def _ref_pos_weight(y: np.ndarray, strategy: str, s: float = 1.0, beta: float = 0.999) -> np.ndarray:
    y = y.reshape(len(y), -1).astype(np.float64)
    pos = y.sum(0)
    neg = len(y) - pos
    if strategy == "none":
        return np.ones_like(pos)
    if strategy == "smoothed":
        return (neg + s) / (pos + s)
    pos, neg = np.where(pos > 0, pos, 1.0), np.where(neg > 0, neg, 1.0)
    if strategy == "effective":
        return ((1 - beta**neg) / (1 - beta)) / ((1 - beta**pos) / (1 - beta))
    w = neg / pos
    return np.sqrt(w) if strategy == "sqrt" else w


def _ref_class_weight(labels: np.ndarray, c: int, strategy: str, s: float = 1.0, beta: float = 0.999):
    counts = np.bincount(labels, minlength=c).astype(np.float64)
    n = counts.sum()
    if strategy == "none":
        return np.ones(c)
    if strategy == "smoothed":
        return (n + c * s) / (c * (counts + s))
    counts = np.where(counts > 0, counts, 1.0)
    if strategy == "effective":
        w = (1 - beta) / (1 - beta**counts)
        return w * c / w.sum()
    w = n / (c * counts)
    return np.sqrt(w) if strategy == "sqrt" else w


def test_strategies_constant():
    assert WEIGHT_STRATEGIES == ("balanced", "sqrt", "smoothed", "effective", "none")


@pytest.mark.parametrize("strategy", WEIGHT_STRATEGIES)
def test_pos_weight_matches_float64_formula(strategy):
    rng = np.random.default_rng(1)
    y = (rng.random((200, 4)) < np.array([0.02, 0.1, 0.5, 0.9])).astype(np.float32)
    out = pos_weight(torch.from_numpy(y), strategy, smoothing=0.5, beta=0.99)
    assert out.dtype == torch.float32 and out.shape == (4,)
    np.testing.assert_allclose(out.numpy(), _ref_pos_weight(y, strategy, 0.5, 0.99), rtol=1e-6)


def test_pos_weight_hand_computed_and_binary_shape():
    y = torch.tensor([1.0, 0, 0, 0, 0, 0, 0, 0])  # 1 positive, 7 negatives
    assert pos_weight(y).tolist() == [7.0]
    assert pos_weight(y.unsqueeze(1), "sqrt").shape == (1,)
    assert pos_weight(y, "sqrt").item() == pytest.approx(math.sqrt(7))
    assert pos_weight(y, "smoothed", smoothing=1.0).item() == pytest.approx(8 / 2)
    # beta -> 0: every effective number is 1; beta -> 1: effective number -> count (balanced)
    assert pos_weight(y, "effective", beta=0.0).item() == pytest.approx(1.0)
    assert pos_weight(y, "effective", beta=1 - 1e-9).item() == pytest.approx(7.0, rel=1e-6)
    assert pos_weight(torch.tensor([1, 0, 0, 1])).tolist() == [1.0]  # integer targets count too


def test_pos_weight_soft_targets_count_fractionally():
    y = torch.tensor([[0.5], [0.25], [0.25], [0.0]])
    assert pos_weight(y).item() == pytest.approx(3.0 / 1.0)


def test_pos_weight_zero_positive_label_is_finite_and_warned():
    y = torch.tensor([[0.0, 1.0], [0.0, 0.0], [0.0, 1.0]])
    with pytest.warns(LogitlabWarning, match="label 0 has no positives") as record:
        w = pos_weight(y)
    assert torch.isfinite(w).all() and w.tolist() == [3.0, 0.5]
    assert record[0].filename == __file__
    with pytest.warns(LogitlabWarning, match="labels 0, 1 have no negatives"):
        np.testing.assert_allclose(pos_weight(torch.ones(3, 2), "sqrt").numpy(), [3**-0.5] * 2, rtol=1e-6)


def test_max_weight_caps_and_warns_which_labels():
    y = torch.zeros(100, 3)
    y[:1, 0] = 1
    y[:50, 1] = 1
    y[:2, 2] = 1
    with pytest.warns(LogitlabWarning, match="labels 0, 2 at max_weight=10"):
        w = pos_weight(y, max_weight=10.0)
    assert w.tolist() == [10.0, 1.0, 10.0]


@pytest.mark.parametrize("strategy", WEIGHT_STRATEGIES)
def test_class_weight_matches_float64_formula(strategy):
    labels = np.random.default_rng(2).choice(5, size=300, p=[0.45, 0.3, 0.15, 0.07, 0.03])
    out = class_weight(torch.from_numpy(labels), strategy, num_classes=5, smoothing=2.0, beta=0.995)
    assert out.dtype == torch.float32 and out.shape == (5,)
    np.testing.assert_allclose(out.numpy(), _ref_class_weight(labels, 5, strategy, 2.0, 0.995), rtol=1e-6)


def test_class_weight_balanced_equals_sklearn():
    labels = np.random.default_rng(3).choice(4, size=257, p=[0.6, 0.25, 0.1, 0.05])
    ref = compute_class_weight("balanced", classes=np.arange(4), y=labels)
    np.testing.assert_allclose(class_weight(labels).numpy(), ref, rtol=1e-6)
    np.testing.assert_allclose(class_weight(labels, "sqrt").numpy(), np.sqrt(ref), rtol=1e-6)


def test_class_weight_effective_sums_to_c():
    w = class_weight([0] * 90 + [1] * 9 + [2], "effective", beta=0.9)
    assert float(w.sum()) == pytest.approx(3.0)
    assert w[2] > w[1] > w[0]


def test_class_weight_accepts_one_hot_and_probabilities():
    labels = np.array([0, 0, 1, 2, 2, 2])
    ref = compute_class_weight("balanced", classes=np.arange(3), y=labels)
    np.testing.assert_allclose(class_weight(np.eye(3)[labels]).numpy(), ref, rtol=1e-6)
    probs = torch.tensor([[0.5, 0.5, 0.0], [0.0, 0.5, 0.5]])  # counts [0.5, 1, 0.5]
    np.testing.assert_allclose(class_weight(probs).numpy(), [2 / 1.5, 2 / 3, 2 / 1.5], rtol=1e-6)


def test_class_weight_absent_class_is_finite_and_warned():
    with pytest.warns(LogitlabWarning, match="class 2 has no samples"):
        w = class_weight([0, 0, 1, 3], num_classes=4)
    np.testing.assert_allclose(w.numpy(), [0.5, 1.0, 1.0, 1.0])
    with pytest.warns(LogitlabWarning, match="smoothing alone"):
        assert torch.isfinite(class_weight([0, 1], "smoothed", num_classes=3)).all()


def test_class_weight_max_weight():
    with pytest.warns(LogitlabWarning, match="class 1 at max_weight=2"):
        w = class_weight([0] * 9 + [1], max_weight=2.0)
    np.testing.assert_allclose(w.numpy(), [10 / 18, 2.0])


def test_no_warning_when_nothing_to_say():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pos_weight(torch.tensor([0.0, 1.0]))
        class_weight([0, 1, 2])


def test_errors_name_the_fix():
    with pytest.raises(ConfigError, match="one of 'balanced', 'sqrt', 'smoothed', 'effective' or 'none'"):
        pos_weight([0, 1], "inverse")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="`beta`"):
        class_weight([0, 1], "effective", beta=1.0)
    with pytest.raises(ConfigError, match="`smoothing`"):
        pos_weight([0, 1], smoothing=-1)
    with pytest.raises(ConfigError, match="`max_weight`"):
        pos_weight([0, 1], max_weight=0)
    with pytest.raises(TargetError, match="got values in \\[0, 2\\]") as info:
        pos_weight([0, 2, 1])
    assert info.value.code == "targets-out-of-range"
    with pytest.raises(TargetError, match="class indices in \\[0, 1\\]; got labels in \\[0, 2\\]"):
        class_weight([0, 2], num_classes=2)
    with pytest.raises(TargetError, match="empty"):
        class_weight([])
    with pytest.raises(TargetError, match="NaN"):
        pos_weight([0.0, float("nan")])
    with pytest.raises(TargetError, match="non-integer"):
        class_weight([0.5, 1.0])
    with pytest.raises(TargetError, match="Expected 3 class columns"):
        class_weight(np.eye(2), num_classes=3)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=1, max_size=60), st.sampled_from(WEIGHT_STRATEGIES))
def test_property_class_weight_finite_positive(labels, strategy):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogitlabWarning)
        w = class_weight(labels, strategy, num_classes=6)
    assert w.shape == (6,) and torch.isfinite(w).all() and (w > 0).all()
    np.testing.assert_allclose(w.numpy(), _ref_class_weight(np.array(labels), 6, strategy), rtol=1e-5)
