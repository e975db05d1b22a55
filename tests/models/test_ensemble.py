"""Seed ensembles: members trained one after another, logits averaged, saved, loaded and exported as one model."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from logitlab import Classifier
from logitlab.errors import ConfigError
from logitlab.models import Ensemble, build_model


def _data(n: int = 600, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] ** 2 + rng.normal(scale=0.7, size=n) > 0.8).astype(int)
    return X, y


def test_the_ensemble_averages_its_members_logits_and_rebuilds_from_its_spec():
    torch.manual_seed(0)
    ens = build_model("mlp", input_shape=(5,), n_outputs=3, hidden=[8], ensemble=4).eval()
    assert isinstance(ens, Ensemble) and len(ens.members) == 4 and ens.model_spec["ensemble"] == 4
    x = torch.randn(7, 5)
    torch.testing.assert_close(ens(x), sum(m(x) for m in ens.members) / 4)
    w = [m.head.weight for m in ens.members]
    assert not torch.equal(w[0], w[1])  # each member its own initialisation
    again = build_model(**json.loads(json.dumps(ens.model_spec)))
    again.load_state_dict(ens.state_dict())
    torch.testing.assert_close(again.eval()(x), ens(x))
    assert "ensemble" not in build_model("mlp", input_shape=(5,), n_outputs=1).model_spec
    with pytest.raises(ConfigError, match="`ensemble`"):
        build_model("mlp", input_shape=(5,), n_outputs=1, ensemble=0)


def test_members_are_trained_separately_and_the_classifier_uses_their_mean(tmp_path):
    X, y = _data()
    one = Classifier(epochs=4, random_state=3, cv=1).fit(X, y)
    ens = Classifier(epochs=4, random_state=3, ensemble=3).fit(X, y)
    assert len(ens.decisions_["members"]) == 3 and isinstance(ens.model_, Ensemble)
    # member 0 is trained exactly as the single network of the same seed
    for a, b in zip(ens.model_.members[0].state_dict().values(), one.model_.state_dict().values()):
        torch.testing.assert_close(a, b)
    members = [m.eval() for m in ens.model_.members]
    z = torch.stack([m(torch.as_tensor(ens.data_state_.preprocessor.transform(X))) for m in members]).mean(0)
    np.testing.assert_allclose(ens.decision_function(X), z.detach().numpy()[:, 0], rtol=1e-5, atol=1e-5)
    ens.save(tmp_path / "m")
    loaded = Classifier.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict_proba(X), ens.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), ens.predict(X))
    with pytest.raises(ConfigError, match="ensemble") as info:
        Classifier(ensemble=0).fit(X, y)
    assert info.value.param == "ensemble"


@pytest.mark.slow
def test_an_ensemble_exports_to_onnx(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    from logitlab.export import export_onnx, onnx_inputs

    X, y = _data(300, 1)
    clf = Classifier(epochs=2, ensemble=2, model_options={"hidden": [8]}).fit(X, y)
    path = export_onnx(clf, tmp_path / "model.onnx")
    _, proba, labels = ort.InferenceSession(str(path)).run(None, onnx_inputs(X, path))
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-5)
    np.testing.assert_array_equal(labels, clf.predict(X))
