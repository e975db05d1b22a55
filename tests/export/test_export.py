"""ONNX export: ONNX Runtime reproduces predict_proba (1e-5) and predict (exactly) from raw inputs, at batch 1 and 1,000.

The reference is the Classifier itself (``predict_proba``, ``predict``, ``predict_logits``), run on the
same raw inputs: a DataFrame with missing numbers, missing and unseen categories; arrays with NaN;
image files. Every task, tabular and image (cnn) models, calibration "none" and "auto", and hand-made
isotonic maps (knots inside the logit range, so both the interpolation and the extrapolation run).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
import pytest
import torch
from PIL import Image
from torch import nn

from logitlab import Calibration, Classifier, Thresholds
from logitlab.cli import main
from logitlab.data import load_dataset
from logitlab.errors import ConfigError, MissingExtraError, ModelFileError
from logitlab.export import OPSET, export_onnx, onnx_inputs, read_sidecar
from tests.helpers import fast

TRAIN, TEST = 300, 1000
FAST = fast(epochs=2)

pytestmark = pytest.mark.filterwarnings("ignore:column .* (imputed|encoded):logitlab.errors.LogitlabWarning")


def _table(n: int, seed: int, *, unseen: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.normal(40, 12, n)
    age[rng.random(n) < 0.05] = np.nan
    city = rng.choice(list("abcde"), n).astype(object)
    city[rng.random(n) < 0.05] = None
    plan = rng.choice(["basic", "pro"] + (["vip"] if unseen else []), n)
    return pd.DataFrame(
        {
            "age": age,
            "income": rng.normal(5e4, 1.5e4, n),
            "flag": rng.random(n) < 0.3,
            "city": city,
            "plan": plan,
        }
    )


def _table_score(X: pd.DataFrame) -> np.ndarray:
    return (X["age"].fillna(40) - 40) / 12 + (X["income"] - 5e4) / 1.5e4 + X["city"].isin(["a", "b"]) - 0.5


def _images(n: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, 1, 8, 8))
    x[0, 0, 0, 0] = np.nan
    return x


def _image_score(X: np.ndarray) -> np.ndarray:
    return np.nan_to_num(X[:, 0, :4, :4]).mean((1, 2)) * 4 - np.nan_to_num(X[:, 0, 4:, 4:]).mean((1, 2)) * 2


def _labels(score: np.ndarray, task: str, seed: int) -> np.ndarray:
    noisy = score + 0.5 * np.random.default_rng(seed).normal(size=len(score))
    if task == "binary":
        return np.where(noisy > 0.3, "yes", "no")
    if task == "multiclass":
        return np.asarray(["low", "mid", "high"])[np.digitize(noisy, [-0.5, 0.5])]
    return np.column_stack([noisy > 0, noisy > 0.8, noisy < -0.6]).astype(int)


def _data(kind: str, task: str):
    if kind == "table":
        train, test = _table(TRAIN, 1), _table(TEST, 2, unseen=True)
        return train, _labels(_table_score(train), task, 3), test
    train, test = _images(TRAIN, 1), _images(TEST, 2)
    return train, _labels(_image_score(train), task, 3), test


def _fit(kind: str, task: str, calibration: str) -> tuple[Classifier, object]:
    X, y, test = _data(kind, task)
    model = {"model": "mlp", "model_options": {"hidden": [16]}}
    if kind == "image":
        model = {"model": "cnn", "model_options": {"channels": [4, 8]}}
    return Classifier(task=task, calibration=calibration, **model, **FAST).fit(X, y), test


def _rows(X, n):
    return X.iloc[:n] if isinstance(X, pd.DataFrame) else X[:n]


def _session(path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _check(clf: Classifier, path, X, sizes=(1, TEST)) -> None:
    session = _session(path)
    for n in sizes:
        part = _rows(X, n)
        logits, proba, labels = session.run(None, onnx_inputs(part, path))
        assert logits.shape[0] == proba.shape[0] == labels.shape[0] == n
        expected = clf.outputs(part)  # what predict_logits, predict_proba and predict return
        np.testing.assert_allclose(logits, expected.logits.numpy(), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(proba, expected.proba, rtol=0, atol=1e-5)
        decided = labels if clf.task_ == "multilabel" else clf.classes_[labels]
        np.testing.assert_array_equal(decided, expected.labels)


@pytest.mark.slow
@pytest.mark.parametrize("calibration", ["none", "auto"])
@pytest.mark.parametrize("task", ["binary", "multilabel", "multiclass"])
@pytest.mark.parametrize("kind", ["table", "image"])
def test_onnx_runtime_reproduces_predict(kind, task, calibration, tmp_path):
    clf, test = _fit(kind, task, calibration)
    assert (clf.calibration_ is None) == (calibration == "none")
    path = clf.export_onnx(tmp_path / "model.onnx")
    _check(clf, path, test)
    model = onnx.load(str(path))
    assert {o.domain or "ai.onnx": o.version for o in model.opset_import} == {"ai.onnx": OPSET}
    assert [o.name for o in model.graph.output] == ["logits", "probabilities", "labels"]
    assert all(i.type.tensor_type.shape.dim[0].dim_param == "batch" for i in model.graph.input)


def _isotonic(z: np.ndarray) -> dict:
    """Strictly increasing knots over the middle 80% of the logits (the rest extrapolates)."""
    x = np.linspace(*np.quantile(z, [0.1, 0.9]), 25)
    u = 0.6 * x + 0.8 * np.tanh(2 * x) - 0.3
    return {"kind": "isotonic", "x": x.tolist(), "u": u.tolist()}


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "task"), [("table", "binary"), ("image", "multilabel")])
def test_isotonic_maps_are_exported(kind, task, tmp_path):
    clf, test = _fit(kind, task, "none")
    z = clf.predict_logits(test).numpy()
    params = [_isotonic(z[:, j]) for j in range(z.shape[1])]
    if task == "multilabel":  # one label of each kind
        params[1] = {"kind": "platt", "a": 0.7, "b": -0.4}
        params[2] = {"kind": "identity"}
    cal = Calibration(task, "isotonic", params)
    clf.thresholds_ = cal.map_thresholds(Thresholds(task, [0.35, 0.6, 0.45][: z.shape[1]]))
    clf.calibration_ = cal
    _check(clf, export_onnx(clf, tmp_path / "iso.onnx"), test)


@pytest.mark.slow
def test_image_folder_model_takes_decoded_resized_pixels(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for label, level in (("dark", 60), ("light", 190)):
        (tmp_path / "imgs" / label).mkdir(parents=True)
        for i in range(20):
            pixels = np.clip(rng.normal(level, 40, (10, 12)), 0, 255).astype(np.uint8)
            paths.append(tmp_path / "imgs" / label / f"{i}.png")
            Image.fromarray(pixels, mode="L").save(paths[-1])
    bundle = load_dataset(tmp_path / "imgs", image_size=8, val_size=0.2, test_size=0.0)
    clf = Classifier(model="cnn", model_options={"channels": [4]}, **FAST).fit(bundle)
    path = export_onnx(clf, tmp_path / "out" / "model.onnx")
    spec = read_sidecar(path)["inputs"]
    assert [(s["name"], s["dtype"], s["shape"]) for s in spec] == [("images", "float32", ["batch", 1, 8, 8])]
    _check(clf, path, [str(p) for p in paths], sizes=(1, len(paths)))


@pytest.mark.slow
def test_sidecar_describes_the_table_inputs(tmp_path):
    clf, test = _fit("table", "binary", "auto")
    path = export_onnx(clf, tmp_path / "model.onnx", opset=20)
    sidecar = json.loads((tmp_path / "model.onnx.json").read_text())
    assert sidecar["onnx"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert sidecar["onnx"]["opset"] == 20
    numeric, categorical = sidecar["inputs"]
    assert (numeric["name"], numeric["dtype"], numeric["columns"]) == (
        "numeric",
        "float64",
        ["age", "income", "flag"],
    )
    assert [c["name"] for c in categorical["columns"]] == ["city", "plan"]
    assert categorical["columns"][1]["categories"] == ["basic", "pro"]
    feed = onnx_inputs(test.iloc[:50], sidecar)
    codes = feed["categorical"]
    plan = test["plan"].iloc[:50].to_numpy()
    np.testing.assert_array_equal(codes[:, 1], np.select([plan == "basic", plan == "pro"], [0, 1], -2))
    assert np.isnan(feed["numeric"][:, 0]).sum() == test["age"].iloc[:50].isna().sum()
    # a client that sends -1 for a missing category gets the imputed mode, as predict does
    missing = test.iloc[:50].copy()
    missing["city"] = None
    session = _session(path)
    by_code = dict(feed, categorical=np.column_stack([np.full(50, -1), codes[:, 1]]))
    np.testing.assert_allclose(
        session.run(["probabilities"], by_code)[0], clf.predict_proba(missing), atol=1e-5
    )
    assert sidecar["classes"] == ["no", "yes"] and sidecar["calibration"]["method"] == "platt"


@pytest.mark.slow
def test_a_saved_run_exports_from_the_command_line(tmp_path, capsys):
    clf, test = _fit("image", "multiclass", "auto")
    clf.save(tmp_path / "run")
    rc = main(["export", str(tmp_path / "run"), "--format", "onnx", "--out", str(tmp_path / "serve")])
    assert rc == 0
    assert sorted(p.name for p in (tmp_path / "serve").iterdir()) == ["model.onnx", "model.onnx.json"]
    assert "images float64 ['batch', 1, 8, 8]" in capsys.readouterr().out
    _check(Classifier.load(tmp_path / "run"), tmp_path / "serve" / "model.onnx", test, sizes=(7,))


class _Eig(nn.Module):
    """Logits through an eigen-decomposition, which has no ONNX form."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(16, 2)

    def forward(self, x):
        h = self.linear(x.flatten(1))
        return torch.linalg.eigvals(h[:, :, None] * h[:, None, :]).real[:, :1]


class _Shape(nn.Module):
    def forward(self, x):
        return x.flatten(1)


@pytest.fixture(scope="module")
def small():
    X = np.random.default_rng(0).normal(size=(120, 16))
    return Classifier(model_options={"hidden": [4]}, **dict(FAST, epochs=1)).fit(X, X[:, 0] > 0)


@pytest.mark.parametrize(
    ("network", "phrase"), [(_Eig, "aten.linalg_eig"), (_Shape, "expected logits [3, 1]")]
)
def test_a_network_without_onnx_form_is_a_clear_error(small, network, phrase, tmp_path):
    clf = copy.copy(small)
    clf.model_ = network()
    with pytest.raises(ConfigError, match="cannot be exported to ONNX") as err:
        export_onnx(clf, tmp_path / "model.onnx")
    assert err.value.code == "onnx-unsupported" and phrase in err.value.message
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_other_parts_that_cannot_be_exported(small, tmp_path, monkeypatch):
    clf = copy.copy(small)
    clf.data_state_ = dataclasses.replace(small.data_state_, preprocessor=object())
    with pytest.raises(ConfigError, match="preprocessor object has no ONNX form") as err:
        export_onnx(clf, tmp_path / "model.onnx")
    assert err.value.code == "onnx-unsupported"
    with pytest.raises(ConfigError, match="one of 18, 19") as err:
        small.export_onnx(tmp_path / "model.onnx", opset=13)
    assert err.value.code == "bad-opset"
    monkeypatch.setitem(sys.modules, "onnxscript", None)
    with pytest.raises(MissingExtraError, match=r"logitlab\[onnx\]"):
        export_onnx(small, tmp_path / "model.onnx")
    with pytest.raises(ModelFileError) as bad:
        onnx_inputs(np.zeros((1, 16)), {"format": "something-else"})
    assert bad.value.code == "bad-onnx-sidecar"


@pytest.mark.slow
@pytest.mark.parametrize("scaling", ["robust", "standard", "quantile"])
def test_table_scalings_export_or_say_why_not(scaling, tmp_path):
    X, y, test = _data("table", "binary")
    clf = Classifier(model="mlp", model_options={"hidden": [8]}, numeric_scaling=scaling, **FAST).fit(X, y)
    if scaling == "quantile":
        with pytest.raises(ConfigError, match="quantile scaling") as err:
            export_onnx(clf, tmp_path / "model.onnx")
        assert err.value.code == "onnx-unsupported" and list(tmp_path.iterdir()) == []
        return
    path = export_onnx(clf, tmp_path / "model.onnx")
    _check(clf, path, test)
