"""``lr="auto"`` (the default): 1e-3 for the networks logitlab builds, what an explicit ``lr=1e-3`` gives.

References: a fit with ``lr=1e-3`` given as a number (same seed: the same weights bit for bit), the
optimiser's own learning rate read at every step, scikit-learn's ``clone``. The ``hf:`` side (5e-5 and
its warmup) is in ``tests/models/test_hf.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.base import clone

from logitlab import Classifier
from logitlab.cli import build_parser, main
from logitlab.errors import ConfigError
from logitlab.train import eager_optim
from tests.helpers import fast, linear_table

FAST = fast(model="mlp", cv=1)


def _record_lrs(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The learning rate of each AdamW step (read from the optimiser as it steps)."""
    seen: list[float] = []
    step = eager_optim.AdamW.step  # torch's AdamW, as build_optimizer creates it

    def recording(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(float(self.param_groups[0]["lr"]))
        return step(self, *args, **kwargs)

    monkeypatch.setattr(eager_optim.AdamW, "step", recording)
    return seen


def test_auto_is_1e_3_for_a_table_and_fits_as_an_explicit_1e_3(monkeypatch):
    X, y = linear_table()
    assert Classifier().get_params()["lr"] == "auto"
    lrs = _record_lrs(monkeypatch)
    auto = Classifier(**FAST).fit(X, y)
    auto_steps = list(lrs)
    lrs.clear()
    given = Classifier(**FAST, lr=1e-3).fit(X, y)
    assert auto.lr == "auto" and auto.decisions_["lr"]["lr"] == 1e-3
    assert auto.decisions_["lr"]["warmup_ratio"] == 0.0 and "lr='auto'" in auto.decisions_["lr"]["reason"]
    assert given.decisions_["lr"] == {
        "lr": 1e-3,
        "asked": 1e-3,
        "warmup_ratio": 0.0,
        "reason": "lr=0.001 as given",
    }
    assert auto_steps == lrs and auto_steps[0] == 1e-3  # no warmup: the cosine starts at its peak
    for a, b in zip(auto.model_.state_dict().values(), given.model_.state_dict().values()):
        assert torch.equal(a, b)
    np.testing.assert_array_equal(auto.predict_proba(X), given.predict_proba(X))


def test_an_explicit_number_is_the_optimisers_rate(monkeypatch):
    X, y = linear_table()
    lrs = _record_lrs(monkeypatch)
    clf = Classifier(**FAST, lr=0.02).fit(X, y)
    assert lrs[0] == pytest.approx(0.02) and max(lrs) == pytest.approx(0.02)
    assert clf.decisions_["lr"]["lr"] == 0.02


@pytest.mark.parametrize("bad", [-1, 0, "fast", "Auto", math.nan, math.inf, True, None, [1e-3]])
def test_bad_lr_is_refused_naming_lr(bad):
    X, y = linear_table(40)
    with pytest.raises(ConfigError) as e:
        Classifier(**FAST, lr=bad).fit(X, y)
    assert e.value.param == "lr" and "lr='auto'" in (e.value.fix or "")


def test_auto_survives_clone_set_params_and_a_save(tmp_path):
    X, y = linear_table()
    clf = Classifier(**FAST)
    assert clone(clf).get_params()["lr"] == "auto"
    assert clf.set_params(lr=0.01).lr == 0.01 and clf.set_params(lr="auto").lr == "auto"
    clf.fit(X, y).save(tmp_path / "m")
    back = Classifier.load(tmp_path / "m")
    assert back.lr == "auto" and back.decisions_["lr"] == clf.decisions_["lr"]
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))


def test_linear_records_no_learning_rate():
    X, y = linear_table()
    clf = Classifier(**{**FAST, "model": "linear"}).fit(X, y)
    assert "lr" not in clf.decisions_  # L-BFGS: no learning rate


def test_cli_lr_parses_auto_and_numbers_and_refuses_words(capsys):
    parser = build_parser()
    train = ["train", "builtin:breast_cancer", "--out", "unused"]
    assert parser.parse_args(train).lr == "auto"
    assert parser.parse_args([*train, "--lr", "auto"]).lr == "auto"
    assert parser.parse_args([*train, "--lr", "0.01"]).lr == 0.01
    with pytest.raises(SystemExit) as e:
        parser.parse_args([*train, "--lr", "fast"])
    assert e.value.code == 2 and "expected 'auto' or a learning rate" in capsys.readouterr().err
    assert main([*train, "--lr", "nan"]) == 2  # a float, refused by the Classifier naming --lr
    err = capsys.readouterr().err
    assert "--lr" in err and "ConfigError" in err and "Traceback" not in err
