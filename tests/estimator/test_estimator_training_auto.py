"""``imbalance="auto"`` and ``weight_decay="auto"`` (the defaults): today's values on tables, SPARSE_TRAINING's
on the sparse-native model, and a value given always used (``imbalance="balanced"`` on text included).

References: a fit with ``imbalance="balanced", weight_decay=1e-4`` given (same seed: the same weights bit for
bit), the balanced ``pos_weight`` n_neg / n_pos counted by hand, the optimiser's own weight decay read at its
first step, scikit-learn's ``clone``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import sparse
from sklearn.base import clone

from logitlab import Classifier
from logitlab.cli import build_parser, main
from logitlab.errors import ConfigError
from logitlab.options import AUTO_TRAINING, SPARSE_TRAINING
from logitlab.train import eager_optim
from tests.helpers import fast, linear_table

FAST = fast(model="mlp", cv=1)
# a hidden layer: the sparse model trained by minibatches (the linear one is fitted full-batch,
# tests/models/test_sparse_full_batch.py)
TEXT = {
    "epochs": 2,
    "cv": 1,
    "device": "cpu",
    "random_state": 0,
    "val_size": 0.0,
    "model_options": {"hidden": [8]},
}


def _sparse(n: int = 200, f: int = 30, seed: int = 0) -> tuple[sparse.csr_matrix, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = sparse.random(n, f, density=0.2, random_state=seed, format="csr", dtype=np.float64)
    y = (X @ rng.normal(size=f) > 0.6).astype(int)  # imbalanced: balanced weights are far from 1
    return X, y


def _first_decay(monkeypatch: pytest.MonkeyPatch, cls: type) -> list[float]:
    seen: list[float] = []
    step = cls.step

    def recording(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(max(float(g["weight_decay"]) for g in self.param_groups))
        return step(self, *args, **kwargs)

    monkeypatch.setattr(cls, "step", recording)
    return seen


@pytest.mark.parametrize("model", ["mlp", "linear"])
def test_auto_on_a_table_fits_as_balanced_and_1e_4_given(model):
    X, y = linear_table(cut=1.0)
    assert Classifier().get_params()["imbalance"] == "auto" and Classifier().weight_decay == "auto"
    auto = Classifier(**{**FAST, "model": model}).fit(X, y)
    given = Classifier(**{**FAST, "model": model}, imbalance="balanced", weight_decay=1e-4).fit(X, y)
    t = auto.decisions_["training"]
    assert (t["imbalance"], t["weight_decay"]) == (AUTO_TRAINING["imbalance"], AUTO_TRAINING["weight_decay"])
    assert t["asked"] == {"imbalance": "auto", "weight_decay": "auto"} and "'auto'" in t["reason"]
    assert given.decisions_["training"]["reason"] == "imbalance='balanced', weight_decay=0.0001 as given"
    assert (
        auto.decisions_["weights"] == given.decisions_["weights"] and auto.decisions_["weights"] is not None
    )
    assert auto.decisions_["weights"]["strategy"] == "balanced"
    for a, b in zip(auto.model_.state_dict().values(), given.model_.state_dict().values()):
        assert torch.equal(a, b)
    np.testing.assert_array_equal(auto.predict_proba(X), given.predict_proba(X))


def test_the_table_optimiser_decays_by_1e_4_under_auto(monkeypatch):
    X, y = linear_table(cut=1.0)
    seen = _first_decay(monkeypatch, eager_optim.AdamW)
    Classifier(**FAST).fit(X, y)
    assert seen[0] == AUTO_TRAINING["weight_decay"] == 1e-4


def test_sparse_auto_resolves_to_sparse_training(monkeypatch):
    X, y = _sparse()
    seen = _first_decay(monkeypatch, eager_optim.LazyAdamW)
    clf = Classifier(**TEXT).fit(X, y)
    assert clf.model_spec_["name"] == "sparse"
    t = clf.decisions_["training"]
    assert {k: t[k] for k in SPARSE_TRAINING} == dict(SPARSE_TRAINING)
    assert clf.decisions_["weights"] is None  # 'none': unweighted
    assert seen[0] == SPARSE_TRAINING["weight_decay"]
    assert any(line.startswith("imbalance and weight decay: 'auto'") for line in _lines(clf))


def _lines(clf: Classifier) -> list[str]:
    from logitlab.workflows.decisions import decision_lines

    return decision_lines(clf)


def test_explicit_balanced_and_decay_on_the_sparse_model_are_used(monkeypatch):
    X, y = _sparse()
    seen = _first_decay(monkeypatch, eager_optim.LazyAdamW)
    clf = Classifier(**TEXT, imbalance="balanced", weight_decay=1e-4).fit(X, y)
    assert clf.model_spec_["name"] == "sparse"
    t = clf.decisions_["training"]
    assert (t["imbalance"], t["weight_decay"]) == ("balanced", 1e-4)
    assert seen[0] == 1e-4
    n_pos = int(np.asarray(y).sum())  # val_size=0: every row trains; balanced pos_weight = n_neg / n_pos
    w = clf.decisions_["weights"]
    assert w["strategy"] == "balanced"
    assert w["values"][0] == pytest.approx((len(y) - n_pos) / n_pos, rel=1e-4)  # recorded to 4 digits
    assert w["values"][0] > 2.0


@pytest.mark.parametrize(
    ("param", "bad"),
    [("imbalance", "Auto"), ("imbalance", "weighted"), ("imbalance", None)]
    + [("weight_decay", b) for b in (-1e-4, "fast", "Auto", math.nan, math.inf, True, None)],
)
def test_bad_values_are_refused_naming_the_parameter(param, bad):
    X, y = linear_table(40, cut=1.0)
    with pytest.raises(ConfigError) as e:
        Classifier(**FAST, **{param: bad}).fit(X, y)
    assert e.value.param == param


def test_auto_survives_clone_and_a_save(tmp_path):
    X, y = linear_table(cut=1.0)
    clf = Classifier(**FAST)
    assert (
        clone(clf).get_params()["imbalance"] == "auto" and clone(clf).get_params()["weight_decay"] == "auto"
    )
    clf.fit(X, y).save(tmp_path / "m")
    back = Classifier.load(tmp_path / "m")
    assert (back.imbalance, back.weight_decay) == ("auto", "auto")
    assert back.decisions_["training"] == clf.decisions_["training"]


def test_cli_parses_auto_and_numbers(capsys):
    parser = build_parser()
    train = ["train", "builtin:breast_cancer", "--out", "unused"]
    args = parser.parse_args(train)
    assert (args.imbalance, args.weight_decay) == ("auto", "auto")
    args = parser.parse_args([*train, "--imbalance", "balanced", "--weight-decay", "0.01"])
    assert (args.imbalance, args.weight_decay) == ("balanced", 0.01)
    with pytest.raises(SystemExit) as e:
        parser.parse_args([*train, "--weight-decay", "big"])
    assert e.value.code == 2 and "expected 'auto' or a weight decay" in capsys.readouterr().err
    assert main([*train, "--weight-decay", "-1"]) == 2  # a float, refused by the Classifier
    err = capsys.readouterr().err
    assert "--weight-decay" in err and "Traceback" not in err
