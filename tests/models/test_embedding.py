"""The MLP's periodic embedding (float64 reference), ``embedding="auto"``, and specs saved before it existed."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from logitlab import Classifier
from logitlab.errors import ConfigError
from logitlab.models import MLP, build_model, saved_model_spec
from logitlab.models.mlp import PeriodicEmbedding
from logitlab.models.registry import PERIODIC_MAX_FEATURES

FIXTURES = Path(__file__).parents[1] / "fixtures" / "saved_2770bf6"


def test_periodic_embedding_equals_the_float64_formula():
    torch.manual_seed(0)
    emb = PeriodicEmbedding(3, frequencies=4, dim=5, sigma=0.5).double()
    x = torch.randn(7, 3, dtype=torch.float64)
    c, w, b = (p.detach().numpy() for p in (emb.frequencies, emb.weight, emb.bias))
    xs = x.numpy()
    expected = np.zeros((7, 3 * 5))
    for n in range(7):
        for f in range(3):
            angle = 2 * math.pi * c[f] * xs[n, f]
            v = np.concatenate([np.sin(angle), np.cos(angle)])
            expected[n, f * 5 : (f + 1) * 5] = np.maximum(v @ w[f] + b[f], 0)
    np.testing.assert_allclose(emb(x).detach().numpy(), expected, rtol=1e-12, atol=1e-12)
    assert emb.frequencies.std().item() == pytest.approx(0.5, rel=0.5)


def test_the_mlp_embeds_before_its_first_layer_and_trains_the_frequencies():
    torch.manual_seed(0)
    net = MLP(4, 2, hidden=(8,), embedding="periodic")
    assert isinstance(net.body[1], PeriodicEmbedding) and net.body[2].in_features == 4 * 16
    loss = net(torch.randn(16, 4)).pow(2).mean()
    loss.backward()
    assert net.body[1].frequencies.grad is not None and net.body[1].frequencies.grad.abs().sum() > 0
    with pytest.raises(ConfigError, match="`embedding`"):
        MLP(4, 2, embedding="plr")


def test_auto_embeds_tables_up_to_the_cap_and_not_wider_inputs():
    narrow = build_model("mlp", input_shape=(PERIODIC_MAX_FEATURES,), n_outputs=1, hidden=[4])
    wide = build_model("mlp", input_shape=(PERIODIC_MAX_FEATURES + 1,), n_outputs=1, hidden=[4])
    assert narrow.model_spec["embedding"] == "periodic" and wide.model_spec["embedding"] == "none"
    assert not any(isinstance(m, PeriodicEmbedding) for m in wide.modules())
    # the spec records what was resolved, so it rebuilds the same network
    again = build_model(**json.loads(json.dumps(narrow.model_spec)))
    assert [n for n, _ in again.named_parameters()] == [n for n, _ in narrow.named_parameters()]


def test_a_spec_saved_before_the_option_rebuilds_without_an_embedding():
    old = {"name": "mlp", "input_shape": [4], "n_outputs": 1, "hidden": [8], "dropout": 0.2,
           "batch_norm": True, "activation": "relu"}  # fmt: skip
    assert saved_model_spec(old)["embedding"] == "none"
    assert saved_model_spec({**old, "embedding": "periodic"})["embedding"] == "periodic"
    assert saved_model_spec({"name": "cnn", "input_shape": [1, 8, 8], "n_outputs": 2}) == {
        "name": "cnn", "input_shape": [1, 8, 8], "n_outputs": 2}  # fmt: skip


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_model_directories_saved_before_the_new_defaults_predict_as_they_did(task):
    """Saved by logitlab 2770bf6 (tests/fixtures/saved_2770bf6/make.py): standard scaling, no embedding,
    multiclass biases tuned for macro-F1; loaded now, the same probabilities and labels."""
    expected = json.loads((FIXTURES / "expected.json").read_text())[task]
    X = pd.read_csv(FIXTURES / "inputs.csv")
    clf = Classifier.load(FIXTURES / task)
    assert clf.model_spec_["embedding"] == "none"
    proba = clf.predict_proba(
        X
    )  # the inputs have missing values, imputed as in training (a note, no warning)
    np.testing.assert_allclose(proba, np.asarray(expected["proba"]), rtol=1e-5, atol=1e-6)
    assert [str(v) for v in clf.predict(X)] == [str(v) for v in expected["predict"]]
