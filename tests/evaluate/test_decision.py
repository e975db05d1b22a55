"""One decision rule and one isotonic interpolation, against independent float64 references.

References: ``np.interp`` and scikit-learn's ``IsotonicRegression.predict`` for the interpolation; the
rule written out in numpy (``sigmoid(a z + b) >= t``, ``argmax((z + c) / T + b)``) for
:class:`~logitlab.evaluate.DecisionRule`, which every site uses; the ONNX graph's torch module for
the export.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from logitlab.evaluate import Calibration, DecisionRule, Thresholds, compute_metrics, predict_labels
from logitlab.evaluate.interpolation import piecewise_linear
from logitlab.export.graph import Decisions

F64 = torch.float64


def _knots(k: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.cumsum(torch.rand(k, generator=g, dtype=F64) + 0.05, 0) - k / 2
    u = torch.cumsum(torch.rand(k, generator=g, dtype=F64) + 0.01, 0) - k / 3
    return x, u


def _sigmoid(v: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-v))


@pytest.mark.parametrize("count", [False, True])
def test_piecewise_linear_is_np_interp_inside_and_the_mean_slope_outside(count: bool) -> None:
    x, u = _knots(9, 0)
    g = torch.Generator().manual_seed(1)
    z = torch.cat([(torch.rand(500, generator=g, dtype=F64) - 0.5) * 3 * (x[-1] - x[0]), x])  # the knots too
    got = piecewise_linear(z, x, u, count=count).numpy()
    zn, xn, un = z.numpy(), x.numpy(), u.numpy()
    slope = (un[-1] - un[0]) / (xn[-1] - xn[0])
    want = np.where(
        zn < xn[0],
        un[0] + (zn - xn[0]) * slope,
        np.where(zn > xn[-1], un[-1] + (zn - xn[-1]) * slope, np.interp(zn, xn, un)),
    )
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    inside = (zn >= xn[0]) & (zn <= xn[-1])
    assert inside.sum() > 100 and (~inside).sum() > 100


def test_the_graph_form_finds_the_same_segment() -> None:
    x, u = _knots(40, 2)
    g = torch.Generator().manual_seed(3)
    z = torch.cat([torch.randn(2000, generator=g, dtype=F64) * 20, x, torch.nextafter(x, x + 1)])
    assert torch.equal(piecewise_linear(z, x, u), piecewise_linear(z, x, u, count=True))


def test_piecewise_linear_matches_scikit_learns_isotonic_predict() -> None:
    from sklearn.isotonic import IsotonicRegression

    g = np.random.default_rng(4)
    s = g.normal(size=400)
    y = (g.random(400) < _sigmoid(2 * s)).astype(float)
    iso = IsotonicRegression(out_of_bounds="clip").fit(s, y)
    x, u = torch.tensor(iso.X_thresholds_), torch.tensor(iso.y_thresholds_)
    z = np.linspace(x[0].item(), x[-1].item(), 1001)
    got = piecewise_linear(torch.tensor(z), x, u, count=False).numpy()
    np.testing.assert_allclose(got, iso.predict(z), rtol=0, atol=1e-12)


def _binary() -> tuple[Calibration, Thresholds, torch.Tensor]:
    cal = Calibration("binary", "platt", [{"kind": "platt", "a": 1.7, "b": -0.4}])
    z = torch.linspace(-3, 3, 61, dtype=torch.float32)
    return cal, Thresholds("binary", [0.35]), z


def test_binary_rule_is_the_calibrated_probability_against_its_threshold() -> None:
    cal, th, z = _binary()
    rule = DecisionRule("binary", cal, th)
    p = _sigmoid(1.7 * z.double().numpy() - 0.4)
    got = rule.apply(z)
    np.testing.assert_allclose(got.probabilities.numpy(), p, rtol=1e-14)
    assert got.labels.tolist() == (p >= 0.35).astype(int).tolist()
    assert rule.labels(z).tolist() == got.labels.tolist()
    proba, codes = rule.outputs(z[:, None])
    np.testing.assert_allclose(proba, np.column_stack([1 - p, p]), rtol=1e-14)
    assert codes.tolist() == (p >= 0.35).astype(int).tolist()
    flipped, flipped_codes = DecisionRule("binary", cal, th, order=[1, 0]).outputs(z[:, None])
    np.testing.assert_array_equal(flipped, proba[:, ::-1])
    assert flipped_codes.tolist() == (p < 0.35).astype(int).tolist()  # position in the class order


def test_multilabel_rule_with_an_isotonic_label() -> None:
    x, u = _knots(6, 5)
    cal = Calibration(
        "multilabel",
        "isotonic",
        [{"kind": "isotonic", "x": x.tolist(), "u": u.tolist()}, {"kind": "identity"}],
    )
    th = Thresholds("multilabel", [0.6, 0.2])
    z = torch.randn(300, 2, generator=torch.Generator().manual_seed(6)) * 4
    zn = z.double().numpy()
    un = np.column_stack([np.interp(zn[:, 0], x.numpy(), u.numpy()), zn[:, 1]])
    inside = (zn[:, 0] >= x[0].item()) & (zn[:, 0] <= x[-1].item())
    proba, labels = DecisionRule("multilabel", cal, th).outputs(z)
    np.testing.assert_allclose(proba[inside], _sigmoid(un[inside]), rtol=1e-12)
    want = _sigmoid(un) >= np.array([0.6, 0.2])
    assert (labels[inside] == want[inside]).all() and labels.dtype == np.int64


def test_multiclass_rule_is_argmax_of_the_calibrated_logits_plus_the_biases() -> None:
    cal = Calibration(
        "multiclass", "temperature", [{"kind": "temperature", "temperature": 2.5, "bias": [0.3, -0.2, 0.0]}]
    )
    th = Thresholds("multiclass", [0.0, 0.4, -0.1])
    z = torch.randn(400, 3, generator=torch.Generator().manual_seed(7)) * 3
    un = (z.double().numpy() + np.array([0.3, -0.2, 0.0])) / 2.5
    q = np.exp(un - un.max(1, keepdims=True))
    q /= q.sum(1, keepdims=True)
    order = [2, 0, 1]
    proba, codes = DecisionRule("multiclass", cal, th, order=order).outputs(z)
    np.testing.assert_allclose(proba, q[:, order], rtol=1e-12)
    decided = (un + np.array([0.0, 0.4, -0.1])).argmax(1)
    assert [order[c] for c in codes] == decided.tolist()
    plain = DecisionRule("multiclass", cal).labels(z)
    assert plain.tolist() == q.argmax(1).tolist()  # untuned: the most probable calibrated class


def test_without_a_calibration_the_rule_is_the_raw_activation_and_predict_labels() -> None:
    z = torch.randn(50, 4, generator=torch.Generator().manual_seed(8))
    th = Thresholds("multilabel", [0.5, 0.3, 0.7, 0.9])
    rule = DecisionRule("multilabel", thresholds=th)
    assert rule.calibrated_logits(z) is z
    assert torch.equal(rule.probabilities(z), torch.sigmoid(z))
    assert torch.equal(rule.labels(z), predict_labels(z, task="multilabel", thresholds=th))


def test_metrics_decide_with_the_rule() -> None:
    cal, th, z = _binary()
    y = (torch.arange(61) % 3 == 0).long()
    m = compute_metrics(z, y, task="binary", thresholds=th, calibration=cal)
    d = DecisionRule("binary", cal, th).labels(z)
    tp = int(((d == 1) & (y == 1)).sum())
    assert m["confusion_matrix"][1][1] == tp and m["threshold"] == 0.35


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_the_export_graph_takes_its_parameters_from_the_rule(task: str) -> None:
    if task == "binary":
        cal, th, z = _binary()
        z, order = z[:, None], [1, 0]
    else:
        cal = Calibration(
            "multiclass",
            "temperature",
            [{"kind": "temperature", "temperature": 0.7, "bias": [0.1, 0.0, -0.3]}],
        )
        th, order = Thresholds("multiclass", [0.2, 0.0, 0.0]), [1, 2, 0]
        z = torch.randn(200, 3, generator=torch.Generator().manual_seed(9))
    rule = DecisionRule(task, cal, th, order=order)
    graph_proba, graph_labels = Decisions.from_rule(rule, z.shape[1])(z)
    proba, codes = rule.outputs(z)
    np.testing.assert_allclose(graph_proba.numpy(), proba, rtol=1e-15, atol=0)
    assert graph_labels.tolist() == codes.tolist()
    identity = Decisions.from_rule(DecisionRule(task, order=order), z.shape[1])(z)
    proba0, codes0 = DecisionRule(task, order=order).outputs(z)
    np.testing.assert_allclose(identity[0].numpy(), proba0, rtol=1e-6)  # float32 logits: raw activation
    assert identity[1].tolist() == codes0.tolist()
