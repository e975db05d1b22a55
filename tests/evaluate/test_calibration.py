"""calibrate against scikit-learn and float64 references; known-probability data; maps, decisions, round trips."""

import json
import math

import numpy as np
import pytest
import torch
from scipy.optimize import minimize
from sklearn import metrics as skm
from sklearn.calibration import _sigmoid_calibration, _TemperatureScaling

from logitlab.errors import ConfigError, ModelFileError
from logitlab.evaluate import (
    Calibration,
    calibrate,
    calibration_metrics,
    compute_metrics,
    predict_labels,
    tune_thresholds,
)
from logitlab.losses import BCEWithLogitsLoss
from logitlab.weights import pos_weight as balanced_pos_weight


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _ece(p, y, n_bins=15):
    """Float64 reference: equal-width bins (lo, hi], weighted |mean probability - frequency|."""
    edges, total = np.linspace(0, 1, n_bins + 1), 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (p > lo) & (p <= hi) if lo > 0 else (p >= lo) & (p <= hi)
        if m.any():
            total += m.mean() * abs(p[m].mean() - y[m].mean())
    return total


def _shifted_binary(n, rate, shift, slope, seed):
    """Logits of a model that is right up to a slope and a shift of the log-odds (a pos_weight's)."""
    rng = np.random.default_rng(seed)
    true = rng.normal(math.log(rate / (1 - rate)), 1.5, n)
    y = (rng.random(n) < _sigmoid(true)).astype(np.int64)
    return (true + shift) / slope, y


def _platt_mle(z, y):
    """Independent float64 reference: scipy BFGS on the mean log-loss of sigmoid(a z + b)."""

    def loss(ab):
        u = ab[0] * z + ab[1]
        return np.mean(np.logaddexp(0, u) - y * u)

    def grad(ab):
        r = _sigmoid(ab[0] * z + ab[1]) - y
        return np.array([np.mean(r * z), np.mean(r)])

    return minimize(loss, [1.0, 0.0], jac=grad, method="BFGS", options={"gtol": 1e-12}).x


# ---- against scikit-learn and float64 references -------------------------------------------------
@pytest.mark.parametrize(
    ("rate", "shift", "slope", "seed"), [(0.05, 3.0, 0.6, 0), (0.2, 1.0, 1.7, 1), (0.5, -0.5, 1.0, 2)]
)
def test_platt_matches_sklearn_sigmoid_calibration_with_the_same_smoothed_targets(rate, shift, slope, seed):
    z, y = _shifted_binary(5000, rate, shift, slope, seed)
    cal = calibrate(torch.tensor(z), torch.tensor(y), task="binary", platt_smoothing=True, pos_weight=7.0)
    a_sk, b_sk = _sigmoid_calibration(z, y)  # sklearn's p = expit(-(A z + B))
    p = cal.params[0]
    assert p["kind"] == "platt"
    assert p["a"] == pytest.approx(-a_sk, abs=1e-3) and p["b"] == pytest.approx(-b_sk, abs=1e-3)
    assert abs(p["a"] + a_sk) < 1e-5 and abs(p["b"] + b_sk) < 1e-5  # in fact far closer than asked


def test_platt_is_the_maximum_likelihood_and_its_gradient_is_zero():
    z, y = _shifted_binary(8000, 0.05, 2.9, 0.8, 3)
    cal = calibrate(torch.tensor(z), torch.tensor(y), task="binary", pos_weight=19.0)
    a, b = cal.params[0]["a"], cal.params[0]["b"]
    ref = _platt_mle(z, y)
    assert a == pytest.approx(ref[0], abs=1e-6) and b == pytest.approx(ref[1], abs=1e-6)
    r = _sigmoid(a * z + b) - y  # closed-form optimality: residuals sum to 0 and are orthogonal to z
    assert abs(r.mean()) < 1e-9 and abs((r * z).mean()) < 1e-9
    assert float(cal.transform(torch.tensor(z)).mean()) == pytest.approx(y.mean(), abs=1e-9)
    assert cal.log_loss_after[0] < cal.log_loss_before[0]


def _overconfident_multiclass(n=3000, c=4, temperature=2.5, seed=0):
    rng = np.random.default_rng(seed)
    true = rng.normal(0, 1.2, (n, c))
    p = np.exp(true) / np.exp(true).sum(1, keepdims=True)
    y = np.array([rng.choice(c, p=row) for row in p])
    return true * temperature, y


def test_temperature_matches_a_float64_grid_search_and_sklearn():
    z, y = _overconfident_multiclass()
    cal = calibrate(torch.tensor(z), torch.tensor(y), task="multiclass")
    t = cal.params[0]["temperature"]

    def nll(temps):  # float64 cross entropy of softmax(z / T) for each T of a grid
        u = z[None] / np.asarray(temps, np.float64).reshape(-1, 1, 1)
        top = u.max(2, keepdims=True)
        lse = np.log(np.exp(u - top).sum(2)) + top[..., 0]
        return (lse - u[:, np.arange(len(y)), y]).mean(1)

    coarse = np.linspace(0.5, 6.0, 551)  # steps of 0.01, then 1e-4, then 1e-6 around the best so far
    grid_t = coarse[np.argmin(nll(coarse))]
    for half in (0.01, 1e-4):
        fine = np.linspace(grid_t - half, grid_t + half, 201)
        grid_t = fine[np.argmin(nll(fine))]
    assert t == pytest.approx(grid_t, abs=2e-5)
    assert nll([t])[0] <= nll([grid_t])[0] + 1e-12
    beta_sk = float(_TemperatureScaling().fit(z, y).beta_)
    assert 1.0 / t == pytest.approx(beta_sk, abs=1e-3)
    q = torch.softmax(torch.tensor(z) / t, 1).numpy()  # optimality: E_q[u] - u_y averages to 0
    u = z / t
    assert abs(((q * u).sum(1) - u[np.arange(len(y)), y]).mean()) < 1e-8
    assert torch.allclose(cal.transform(torch.tensor(z)), torch.tensor(q, dtype=torch.float64))


def test_class_bias_is_kept_only_where_it_lowers_the_log_loss():
    z, y = _overconfident_multiclass(temperature=1.0, seed=1)
    w = torch.tensor([0.5, 1.0, 2.0, 4.0], dtype=torch.float64)
    shifted = calibrate(torch.tensor(z) + torch.log(w), torch.tensor(y), task="multiclass", class_weight=w)
    assert shifted.params[0]["bias"] == pytest.approx((-torch.log(w)).tolist())
    assert shifted.params[0]["temperature"] == pytest.approx(1.0, abs=0.1)
    assert any("kept" in n for n in shifted.notes)
    unshifted = calibrate(torch.tensor(z), torch.tensor(y), task="multiclass", class_weight=w)
    assert unshifted.params[0]["bias"] == [0.0] * 4 and any("dropped" in n for n in unshifted.notes)
    plain = calibrate(torch.tensor(z), torch.tensor(y), task="multiclass")
    assert plain.params[0]["temperature"] == unshifted.params[0]["temperature"]


# ---- known probabilities: a model trained with balanced pos_weight -------------------------------
@pytest.fixture(scope="module")
def weighted_logistic():
    """Logistic ground truth, 5% positives; a logistic model fitted with BCE + balanced pos_weight (LBFGS, float64)."""
    g = torch.Generator().manual_seed(0)
    n, d = 20000, 5
    w_true = torch.tensor([1.5, -1.0, 0.8, 0.0, 0.5], dtype=torch.float64)
    x = torch.randn(3 * n, d, generator=g, dtype=torch.float64)
    p_true = torch.sigmoid(x @ w_true - 3.9)
    y = (torch.rand(3 * n, generator=g, dtype=torch.float64) < p_true).double()
    train, val, test = slice(0, n), slice(n, 2 * n), slice(2 * n, 3 * n)
    pw = balanced_pos_weight(y[train]).double()
    loss_fn = BCEWithLogitsLoss(pos_weight=pw, fused=False)
    model = torch.nn.Linear(d, 1).double()
    opt = torch.optim.LBFGS(model.parameters(), lr=1, max_iter=300, tolerance_grad=1e-12, tolerance_change=1e-14,
                            line_search_fn="strong_wolfe")  # fmt: skip

    def closure():
        opt.zero_grad()
        loss = loss_fn(model(x[train]), y[train, None])
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        z = model(x)[:, 0]
    return {"z": z, "y": y.long(), "p": p_true, "pw": pw, "val": val, "test": test}


def test_balanced_pos_weight_model_is_calibrated_after_platt(weighted_logistic):
    d = weighted_logistic
    z_val, y_val, z_test, y_test = d["z"][d["val"]], d["y"][d["val"]], d["z"][d["test"]], d["y"][d["test"]]
    base = float(y_test.double().mean())
    raw = torch.sigmoid(z_test).numpy()
    assert raw.mean() > base + 0.2  # the weights' shift: far from a probability before calibration
    cal = calibrate(z_val, y_val, task="binary", pos_weight=d["pw"])
    a, b = cal.params[0]["a"], cal.params[0]["b"]
    assert a == pytest.approx(1.0, abs=0.1) and b == pytest.approx(
        -math.log(float(d["pw"])), abs=0.2
    )  # ~ prior correction
    p = cal.transform(z_test).numpy()
    assert _ece(p, y_test.numpy()) <= 0.02
    assert abs(p.mean() - base) <= 0.01
    assert np.abs(p - d["p"][d["test"]].numpy()).mean() < 0.01  # close to the true probabilities
    assert _ece(raw, y_test.numpy()) > 0.2
    th = tune_thresholds(z_val, y_val, task="binary")
    same = predict_labels(cal.calibrated_logits(z_test), task="binary", thresholds=cal.map_thresholds(th))
    assert torch.equal(same, predict_labels(z_test, task="binary", thresholds=th))
    m_raw = compute_metrics(z_test, y_test, task="binary", thresholds=th)
    m_cal = compute_metrics(z_test, y_test, task="binary", thresholds=cal.map_thresholds(th), calibration=cal)
    assert m_cal["confusion_matrix"] == m_raw["confusion_matrix"] and m_cal[
        "average_precision"
    ] == pytest.approx(m_raw["average_precision"], abs=1e-12)
    assert m_cal["ece"] < 0.02 < m_raw["ece"] and m_cal["brier"] < m_raw["brier"]


def test_prior_correction_alone_removes_the_shift_of_a_well_specified_model(weighted_logistic):
    d = weighted_logistic
    few = calibrate(d["z"][d["val"]], d["y"][d["val"]], task="binary", pos_weight=d["pw"], min_count=10**6)
    assert few.params[0] == {"kind": "prior", "a": 1.0, "b": -math.log(float(d["pw"]))}
    assert "min_count" in few.notes[0]
    p = few.transform(d["z"][d["test"]]).numpy()
    assert abs(p.mean() - float(d["y"][d["test"]].double().mean())) <= 0.01


# ---- decisions: the same labels on the calibrated scale ------------------------------------------
def _tied_logits(n, k, seed):
    """float32 logits (as a model returns them) with many exact ties: quarter steps and repeated rows."""
    g = torch.Generator().manual_seed(seed)
    z = (torch.randn(n, k, generator=g) * 3).float()
    z[::3] = torch.round(z[::3] * 4) / 4
    z[1::7] = z[0]
    return z.double()


def _boundary_neighbours(values, k):
    """Logits 1e-12 (relative) either side of logit(t) for each threshold t in (0, 1), as [M, k] rows."""
    out = []
    for t in values:
        if 0.0 < t < 1.0:
            z0 = math.log(t) - math.log1p(-t)
            out += [z0 - 1e-12 * max(1.0, abs(z0)), z0 + 1e-12 * max(1.0, abs(z0))]
    return torch.tensor(out, dtype=torch.float64)[:, None].expand(-1, k)


@pytest.mark.parametrize("method", ["platt", "isotonic", "none"])
def test_mapped_thresholds_give_identical_decisions_including_ties(method):
    z = _tied_logits(6000, 3, 0)
    p_true = torch.where(z < 0, 0.05, torch.where(z < 1, 0.5, 0.6))  # not a sigmoid: isotonic helps here
    y = (torch.rand(z.shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64) < p_true).long()
    cal = calibrate(z, y, task="multilabel", method=method, pos_weight=torch.tensor([3.0, 10.0, 0.5]))
    if method == "isotonic":
        assert [p["kind"] for p in cal.params] == ["isotonic"] * 3
    from logitlab.evaluate import Thresholds

    for th in (
        tune_thresholds(z, y, task="multilabel"),
        Thresholds("multilabel", [0.5, 0.01, 0.99]),
        Thresholds("multilabel", [1.0, 0.0, 0.3]),
    ):
        zz = torch.cat([z, _boundary_neighbours(th.values, 3), -z.flip(0)])
        mapped = cal.map_thresholds(th)
        assert all(0.0 <= v <= 1.0 for v in mapped.values)
        got = predict_labels(cal.calibrated_logits(zz), task="multilabel", thresholds=mapped)
        assert torch.equal(got, predict_labels(zz, task="multilabel", thresholds=th))


def test_platt_threshold_is_sigmoid_of_a_logit_t_plus_b():
    z, y = _shifted_binary(3000, 0.1, 2.0, 1.3, 4)
    cal = calibrate(torch.tensor(z), torch.tensor(y), task="binary")
    a, b = cal.params[0]["a"], cal.params[0]["b"]
    th = tune_thresholds(torch.tensor(z), torch.tensor(y), task="binary")
    t = th.values[0]
    assert cal.map_thresholds(th).values[0] == pytest.approx(
        _sigmoid(a * math.log(t / (1 - t)) + b), rel=1e-12
    )
    z32 = torch.tensor(z, dtype=torch.float32)[:, None]  # [N, 1] binary logits keep their shape
    assert cal.transform(z32).shape == (len(z), 1)
    got = predict_labels(cal.calibrated_logits(z32), task="binary", thresholds=cal.map_thresholds(th))
    assert torch.equal(got, predict_labels(z32, task="binary", thresholds=th))


def test_multiclass_decisions_are_argmax_of_log_q_plus_mapped_bias():
    z, y = _overconfident_multiclass(n=4000, seed=2)
    w = torch.tensor([0.5, 1.0, 2.0, 4.0], dtype=torch.float64)
    zt = torch.tensor(z) + torch.log(w)
    cal = calibrate(zt, torch.tensor(y), task="multiclass", class_weight=w)
    assert cal.params[0]["bias"] != [0.0] * 4
    th = tune_thresholds(zt, torch.tensor(y), task="multiclass")
    mapped = cal.map_thresholds(th)
    fresh = zt + torch.randn(zt.shape, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    for logits in (zt, fresh):
        raw = predict_labels(logits, task="multiclass", thresholds=th)
        log_q = torch.log_softmax(cal.calibrated_logits(logits), 1)
        assert torch.equal((log_q + torch.tensor(mapped.values)).argmax(1), raw)
        assert torch.equal(
            predict_labels(cal.calibrated_logits(logits), task="multiclass", thresholds=mapped), raw
        )


def test_temperature_without_bias_keeps_ties_and_argmax():
    z = torch.round(torch.tensor(_overconfident_multiclass(n=2000, seed=5)[0]))  # many ties between classes
    y = torch.tensor(_overconfident_multiclass(n=2000, seed=5)[1])
    cal = calibrate(z, y, task="multiclass")
    assert cal.params[0]["bias"] == [0.0] * 4
    mapped = cal.map_thresholds(None)
    assert torch.equal(
        predict_labels(cal.calibrated_logits(z), task="multiclass", thresholds=mapped), z.argmax(1)
    )
    assert torch.equal(cal.transform(z).argmax(1), z.argmax(1))


def test_isotonic_map_is_strictly_increasing_json_knots_and_keeps_the_ranking():
    z = _tied_logits(6000, 1, 7)[:, 0]
    y = (
        torch.rand(6000, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
        < torch.where(z < 0.5, 0.1, 0.7)
    ).long()
    cal = calibrate(z, y, task="binary", method="isotonic")
    p = cal.params[0]
    assert p["kind"] == "isotonic" and "isotonic" in cal.notes[0]
    assert all(b > a for a, b in zip(p["x"], p["x"][1:])) and all(b > a for a, b in zip(p["u"], p["u"][1:]))
    grid = torch.linspace(-40, 40, 200001, dtype=torch.float64)
    assert bool((torch.diff(cal.transform(grid)) >= 0).all())
    assert bool((torch.diff(cal.calibrated_logits(grid)) > 0).all())  # strictly: no new ties
    q = cal.transform(z).numpy()
    assert skm.roc_auc_score(y, q) == pytest.approx(skm.roc_auc_score(y, z.numpy()), abs=1e-12)
    assert Calibration.from_dict(json.loads(json.dumps(cal.to_dict()))) == cal
    assert cal.log_loss_after[0] < calibrate(z, y, task="binary").log_loss_after[0]


def test_isotonic_needs_enough_data_and_says_so():
    z, y = _shifted_binary(800, 0.3, 0.0, 1.0, 9)
    cal = calibrate(torch.tensor(z), torch.tensor(y), task="binary", method="isotonic")
    assert cal.params[0]["kind"] == "platt" and "1000 rows" in cal.notes[0]


# ---- guards ----------------------------------------------------------------------------------------
def test_few_positives_keep_the_prior_correction_per_label():
    z, y = _shifted_binary(3000, 0.2, 1.0, 1.0, 10)
    y2 = np.stack([y, np.r_[np.ones(5, np.int64), np.zeros(2995, np.int64)]], 1)
    z2 = np.stack([z, z], 1)
    cal = calibrate(torch.tensor(z2), torch.tensor(y2), task="multilabel", pos_weight=[4.0, 599.0])
    assert cal.params[0]["kind"] == "platt"
    assert cal.params[1] == {"kind": "prior", "a": 1.0, "b": -math.log(599.0)}
    assert cal.notes == ["label 1: 5 positives and 2995 negatives (fewer than min_count=10): kept the prior "
                         "correction b = -log(pos_weight) = -6.395"]  # fmt: skip


def test_a_reversed_score_is_refused_not_flipped():
    z, y = _shifted_binary(3000, 0.3, 0.0, 1.0, 11)
    cal = calibrate(torch.tensor(-z), torch.tensor(y), task="binary", pos_weight=2.0)
    assert cal.params[0] == {"kind": "prior", "a": 1.0, "b": -math.log(2.0)}
    assert "reverse the order" in cal.notes[0]


def test_separable_targets_use_platt_smoothing_and_stay_finite():
    z = torch.linspace(-5, 5, 400, dtype=torch.float64)
    y = (z > 0.3).long()
    cal = calibrate(z, y, task="binary")
    assert cal.params[0]["kind"] == "platt" and math.isfinite(cal.params[0]["a"]) and cal.params[0]["a"] > 0
    assert "smoothed targets" in cal.notes[0]
    a_sk, b_sk = _sigmoid_calibration(z.numpy(), y.numpy())
    assert cal.params[0]["a"] == pytest.approx(-a_sk, abs=1e-3) and cal.params[0]["b"] == pytest.approx(
        -b_sk, abs=1e-3
    )


def test_constant_logits_fit_the_intercept_only():
    y = torch.tensor([1] * 30 + [0] * 70)
    cal = calibrate(torch.full((100,), 2.0), y, task="binary")
    assert cal.transform(torch.full((3,), 2.0)).tolist() == pytest.approx([0.3] * 3, abs=1e-12)


def test_separable_multiclass_keeps_t_1_and_says_why():
    z = torch.eye(3, dtype=torch.float64).repeat(20, 1) * 5
    y = torch.arange(3).repeat(20)
    cal = calibrate(z, y, task="multiclass")
    assert cal.params[0]["temperature"] == 1.0 and "separable" in cal.notes[0]


# ---- identity, round trips, errors ----------------------------------------------------------------
@pytest.mark.parametrize("task", ["binary", "multilabel", "multiclass"])
def test_none_is_the_identity_and_auto_resolves(task):
    z, y = _overconfident_multiclass(n=600, seed=12)
    y_task = {"binary": (y == 0).astype(int), "multilabel": (z > 1).astype(int), "multiclass": y}[task]
    z_task = torch.tensor(z[:, 0] if task == "binary" else z)
    none = calibrate(z_task, torch.tensor(y_task), task=task, method="none")
    act = torch.softmax(z_task, 1) if task == "multiclass" else torch.sigmoid(z_task)
    assert torch.equal(none.transform(z_task), act)
    assert none.params == Calibration.identity(task, 1 if task == "binary" else 4).params
    assert none.log_loss_before == none.log_loss_after
    auto = calibrate(z_task, torch.tensor(y_task), task=task)
    assert auto.method == ("temperature" if task == "multiclass" else "platt")
    assert Calibration.from_dict(json.loads(json.dumps(auto.to_dict()))) == auto


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {"task": "binary", "method": "platt"},
        {"task": "binary", "method": "platt", "params": "nope"},
        {"task": "binary", "method": "platt", "params": []},
        {"task": "binary", "method": "platt", "params": [{"kind": "spline"}]},
        {"task": "binary", "method": "platt", "params": [{"kind": "platt", "a": -1.0, "b": 0.0}]},
        {"task": "binary", "method": "platt", "params": [{"kind": "platt", "a": 1.0, "b": float("nan")}]},
        {"task": "binary", "method": "platt", "params": [{"kind": "platt", "a": "1", "b": 0.0}]},
        {
            "task": "binary",
            "method": "isotonic",
            "params": [{"kind": "isotonic", "x": [0.0, 1.0], "u": [1.0, 0.0]}],
        },
        {
            "task": "binary",
            "method": "isotonic",
            "params": [{"kind": "isotonic", "x": [0.0, 1.0, 2.0], "u": [0.0, 1.0]}],
        },
        {"task": "binary", "method": "temperature", "params": [{"kind": "platt", "a": 1.0, "b": 0.0}]},
        {
            "task": "multiclass",
            "method": "temperature",
            "params": [{"kind": "temperature", "temperature": 0.0, "bias": [0.0, 0.0]}],
        },
        {
            "task": "multiclass",
            "method": "temperature",
            "params": [{"kind": "temperature", "temperature": 1.0, "bias": [0.0]}],
        },
        {
            "task": "multiclass",
            "method": "platt",
            "params": [{"kind": "temperature", "temperature": 1.0, "bias": [0.0, 0.0]}],
        },
        {"task": "ternary", "method": "platt", "params": [{"kind": "identity"}]},
    ],
)
def test_bad_dicts_raise_model_file_error(data):
    with pytest.raises(ModelFileError) as info:
        Calibration.from_dict(data)
    assert info.value.code == "bad-calibration"


def test_option_and_shape_errors_name_the_fix():
    z, y = torch.randn(50, 3, dtype=torch.float64), torch.randint(0, 3, (50,))
    with pytest.raises(ConfigError, match="one of 'auto', 'platt'") as info:
        calibrate(z, y, task="multiclass", method="beta")  # type: ignore[arg-type]
    assert info.value.code == "bad-calibration-method"
    with pytest.raises(ConfigError, match="does not apply to a multiclass"):
        calibrate(z, y, task="multiclass", method="platt")
    with pytest.raises(ConfigError, match="pass `class_weight`"):
        calibrate(z, y, task="multiclass", pos_weight=2.0)
    with pytest.raises(ConfigError, match="3 finite positive weights"):
        calibrate(z, y, task="multiclass", class_weight=[1.0, 2.0])
    with pytest.raises(ConfigError, match="min_count"):
        calibrate(z[:, 0], (y > 0).long(), task="binary", min_count=0)
    cal = calibrate(z, y, task="multiclass")
    with pytest.raises(ConfigError, match="3 multiclass outputs; the logits have 4") as info:
        cal.transform(torch.randn(5, 4))
    assert info.value.code == "calibration-mismatch"
    with pytest.raises(ConfigError, match="thresholds are for a binary"):
        cal.map_thresholds(tune_thresholds(z[:, 0], (y > 0).long(), task="binary"))


# ---- metrics ----------------------------------------------------------------------------------------
def test_calibration_metrics_match_sklearn_before_and_after():
    z, y = _overconfident_multiclass(n=1500, seed=13)
    cal = calibrate(torch.tensor(z), torch.tensor(y), task="multiclass")
    for c in (None, cal):
        m = calibration_metrics(torch.tensor(z), torch.tensor(y), task="multiclass", calibration=c)
        q = (c.transform(torch.tensor(z)) if c else torch.softmax(torch.tensor(z), 1)).numpy()
        assert m["brier"] == pytest.approx(skm.brier_score_loss(y, q, labels=[0, 1, 2, 3]), abs=1e-12)
        assert m["log_loss"] == pytest.approx(skm.log_loss(y, q, labels=[0, 1, 2, 3]), abs=1e-9)
        assert m["ece"] == pytest.approx(_ece(q.max(1), (q.argmax(1) == y).astype(float)), abs=1e-6)
        assert sum(m["brier_per_label"]) == pytest.approx(m["brier"], abs=1e-12)
        full = compute_metrics(torch.tensor(z), torch.tensor(y), task="multiclass", calibration=c)
        assert full["brier"] == pytest.approx(m["brier"], abs=1e-12) and full["ece"] == pytest.approx(
            m["ece"], abs=1e-6
        )
    zl, yl = z[:, :3], (z[:, :3] + np.random.default_rng(0).normal(0, 2, (1500, 3)) > 1).astype(int)
    cal = calibrate(torch.tensor(zl), torch.tensor(yl), task="multilabel")
    m = calibration_metrics(torch.tensor(zl), torch.tensor(yl), task="multilabel", calibration=cal)
    p = cal.transform(torch.tensor(zl)).numpy()
    for j in range(3):
        assert m["brier_per_label"][j] == pytest.approx(skm.brier_score_loss(yl[:, j], p[:, j]), abs=1e-12)
        assert m["log_loss_per_label"][j] == pytest.approx(skm.log_loss(yl[:, j], p[:, j]), abs=1e-9)
        assert m["ece_per_label"][j] == pytest.approx(_ece(p[:, j], yl[:, j]), abs=1e-6)
    full = compute_metrics(torch.tensor(zl), torch.tensor(yl), task="multilabel", calibration=cal)
    assert full["brier_per_label"] == pytest.approx(m["brier_per_label"], abs=1e-12)
    assert full["brier"] == pytest.approx(m["brier"], abs=1e-12)
