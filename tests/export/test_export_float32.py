"""``export_onnx(input_dtype="float32")``: float32 graph inputs, cast to float64 inside the graph; parity with PyTorch."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from logitlab import Classifier
from logitlab.errors import ConfigError

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

pytestmark = pytest.mark.slow  # a fit and two ONNX exports (torch.onnx.export takes seconds)


@pytest.fixture(scope="module")
def table_fit():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "amount": rng.lognormal(8, 2, 160),  # values up to ~1e6: float32 keeps 7 digits of them
            "rate": rng.normal(0, 1e-3, 160),
            "group": rng.choice(["a", "b", "c"], 160),
        }
    )
    X.loc[::11, "amount"] = np.nan
    y = ((np.log(X["amount"].fillna(3000)) > 8) ^ (X["group"] == "b")).astype(int)
    return Classifier(epochs=2, model_options={"hidden": [16]}, random_state=0, verbose=False).fit(X, y), X


def test_float32_inputs_match_predict_proba_as_float64_inputs_do(table_fit, tmp_path):
    from logitlab.export import onnx_inputs

    clf, X = table_fit
    ref, labels = clf.predict_proba(X), clf.predict(X)
    got = {}
    for dtype in ("float64", "float32"):
        path = clf.export_onnx(tmp_path / dtype / "model.onnx", input_dtype=dtype)
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        kinds = {i.name: i.type for i in session.get_inputs()}
        assert kinds["numeric"] == ("tensor(float)" if dtype == "float32" else "tensor(double)")
        assert kinds["categorical"] == "tensor(int64)"
        feed = onnx_inputs(X, path)
        assert feed["numeric"].dtype == np.dtype(dtype)
        sidecar = json.loads(path.with_name("model.onnx.json").read_text())
        assert sidecar["inputs"][0]["dtype"] == dtype and ("cast" in sidecar["inputs"][0]) == (
            dtype == "float32"
        )
        _, proba, decided = session.run(None, feed)
        got[dtype] = proba
        assert (np.asarray(clf.classes_)[decided] == labels).all()
    # the stated parity (docs/export.md): within 1e-5 of predict_proba, as the float64 graph is
    np.testing.assert_allclose(got["float32"], ref, atol=1e-5, rtol=0)
    np.testing.assert_allclose(got["float64"], ref, atol=1e-5, rtol=0)


def test_a_bad_input_dtype_is_refused_with_the_choices(table_fit, tmp_path):
    clf, _ = table_fit
    with pytest.raises(ConfigError, match="'float64' or 'float32'") as err:
        clf.export_onnx(tmp_path / "m.onnx", input_dtype="float16")
    assert err.value.code == "bad-input-dtype"
