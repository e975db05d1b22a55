"""``Classifier.decisions_`` is a read-only view: a change in place raises instead of being lost."""

from __future__ import annotations

import copy
import json
import pickle

import numpy as np
import pytest

from logitlab import Classifier
from logitlab.errors import ConfigError


@pytest.fixture(scope="module")
def fitted() -> Classifier:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 3))
    y = (x[:, 0] + 0.3 * rng.normal(size=120) > 0).astype(int)
    return Classifier(model="linear", cv=1, device="cpu", calibration="none").fit(x, y)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.__setitem__("task", "multiclass"),
        lambda d: d["training"].__setitem__("weight_decay", 0.5),
        lambda d: d.update(task="x"),
        lambda d: d.pop("task"),
        lambda d: d["notes"].append("mine"),
    ],
)
def test_a_change_in_place_raises_and_the_fitted_state_is_unchanged(fitted, change):
    before = fitted.fit_decisions_.to_dict()
    with pytest.raises(ConfigError) as err:
        change(fitted.decisions_)
    assert err.value.code == "read-only-decisions" and "fit_decisions_" in str(err.value)
    assert fitted.fit_decisions_.to_dict() == before


def test_the_view_equals_the_plain_dict_and_copies_to_plain_ones(fitted):
    view, plain = fitted.decisions_, fitted.fit_decisions_.to_dict()
    assert view == plain and json.loads(json.dumps(view)) == json.loads(json.dumps(plain))
    for copied in (copy.deepcopy(view), pickle.loads(pickle.dumps(view))):
        assert type(copied) is dict and copied == plain
        copied["task"] = "edited"  # a copy is the user's to change
        copied["notes"].append("mine")
    assert fitted.decisions_ == plain
