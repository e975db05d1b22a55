"""Issue 24, bad data and flags through the Python API: each ends in one logitlab error naming the value.

Infinite features and labels, soft labels, an empty ``label_sep``, a codec that is not a text encoding,
a seed past 32 bits, an mlp too large to allocate, text in a streamed numeric column, and the smooth
clip of robust scaling for any finite value (numpy, streaming, the ONNX graph's torch module).
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import torch

from logitlab.errors import ConfigError, DataError, TargetError
from tests.helpers import ab_frame

BIG = [0.0, 1.0, -2.5, 3.0, 1e3, -1e9, 1e154, 1e155, -1e156, 1e200, 1e300, -1e308, 1.7976931348623157e308]


def _reference(z: np.ndarray) -> np.ndarray:
    """``z / sqrt(1 + (z / 3)^2)`` in float64 without overflow: ``z / hypot(1, z / 3)``."""
    return z / np.hypot(1.0, z / 3.0)


def test_smooth_clip_keeps_its_sign_up_to_the_float_maximum_numpy_and_torch():
    from logitlab.data.numeric_columns import smooth_clip
    from logitlab.export.graph import smooth_clip as torch_smooth_clip

    z = np.array(BIG + [-v for v in BIG], dtype=np.float64)
    want = _reference(z)
    got = smooth_clip(z)
    np.testing.assert_allclose(got, want, rtol=1e-15, atol=0)
    assert np.all(np.isfinite(got)) and np.all(np.abs(got) <= 3.0)
    assert np.all(np.sign(got) == np.sign(z))
    huge = np.abs(z) >= 1e154
    np.testing.assert_array_equal(np.abs(got[huge]), 3.0)  # was 0 (sign lost) past ~1e155
    torch_got = torch_smooth_clip(torch.from_numpy(z)).numpy()
    np.testing.assert_allclose(torch_got, want, rtol=1e-15, atol=0)
    small = np.linspace(-3, 3, 601)  # |z| <= 3: the operations of the plain formula, bit for bit
    np.testing.assert_array_equal(smooth_clip(small), small / np.sqrt(1.0 + (small / 3.0) ** 2))


def test_streaming_encoder_clips_like_the_table_preprocessor_for_huge_values():
    from logitlab.data.numeric_columns import NumericColumn
    from logitlab.data.streaming.encode import TableEncoder
    from logitlab.data.tabular_preprocessor import TabularPreprocessor

    z = np.array(BIG + [-v for v in BIG], dtype=np.float64)
    pre = TabularPreprocessor([NumericColumn("a", 0.0, 0.0, 1.0, "robust")])
    want = pre.transform(pd.DataFrame({"a": z}))
    got = TableEncoder(pre).features(pa.record_batch({"a": pa.array(z)}))
    np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(got[:, 0], _reference(z).astype(np.float32), rtol=1e-6)


@pytest.mark.slow
def test_onnx_graph_clips_huge_values_to_three_with_their_sign(tmp_path: Path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    import onnxruntime as ort

    from logitlab.data.numeric_columns import NumericColumn
    from logitlab.data.tabular_preprocessor import TabularPreprocessor
    from logitlab.export.graph import build_preprocess

    pre = TabularPreprocessor([NumericColumn("a", 0.0, 0.0, 1.0, "robust")])
    module = build_preprocess(pre).eval()
    x = torch.tensor([[v] for v in BIG + [-v for v in BIG]], dtype=torch.float64)
    path = tmp_path / "clip.onnx"
    torch.onnx.export(module, (x,), str(path), dynamo=True, verbose=False)
    session = ort.InferenceSession(str(path))
    (got,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    np.testing.assert_allclose(got[:, 0], _reference(x.numpy()[:, 0]).astype(np.float32), rtol=1e-6)


def test_inf_in_a_feature_is_a_data_error_naming_column_and_row(tmp_path: Path):
    from logitlab.data import load_dataset

    frame = ab_frame()
    frame.loc[4, "b"] = -np.inf
    frame.to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(DataError, match=r"Column 'b' holds -inf at line 6 \(1 infinite") as err:
        load_dataset(tmp_path / "d.csv")
    assert err.value.code == "nonfinite-features"
    assert "drop=['b']" in (err.value.fix or "")


def test_inf_at_predict_time_names_the_column_with_a_fix_that_fits_a_trained_model():
    from logitlab.data.tabular_preprocessor import TabularPreprocessor

    frame = ab_frame()
    pre = TabularPreprocessor.fit(frame[["a", "b"]], scaling="robust")
    bad = frame[["a", "b"]].copy()
    bad.loc[2, "a"] = np.inf
    with pytest.raises(DataError, match=r"Column 'a' holds inf at row 3") as err:
        pre.transform(bad)
    fix = err.value.fix or ""
    assert "blank the infinite cells of column 'a'" in fix and "drop" not in fix


def test_inf_in_a_streamed_column_names_the_file_and_row(tmp_path: Path):
    from logitlab.data.numeric_columns import NumericColumn
    from logitlab.data.row_names import RowNamer
    from logitlab.data.streaming.encode import TableEncoder
    from logitlab.data.tabular_preprocessor import TabularPreprocessor

    pre = TabularPreprocessor([NumericColumn("a", 0.0, 0.0, 1.0, "robust")])
    batch = pa.record_batch({"a": pa.array([1.0, 2.0, np.inf])})
    with pytest.raises(DataError, match=r"Column 'a' holds inf at x.parquet row 3"):
        TableEncoder(pre).features(batch, lambda: RowNamer("x.parquet row", 1))


@pytest.mark.parametrize("spelling", ["inf", "-inf", "Infinity"])
def test_infinite_labels_are_a_target_error_not_an_extra_class(tmp_path: Path, spelling: str):
    from logitlab.data import encode_labels, load_dataset

    frame = ab_frame().astype({"target": object})
    frame.loc[7, "target"] = spelling
    frame.to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(TargetError, match=r"Infinite target values at line 9 \(1 rows\)") as err:
        load_dataset(tmp_path / "d.csv")
    assert err.value.code == "nonfinite-targets"
    with pytest.raises(TargetError, match="Infinite target"):
        encode_labels(np.array([0.0, 1.0, float(spelling)]))


def test_soft_labels_are_refused_before_training_not_at_the_first_validation():
    from logitlab import Classifier

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(50, 3)), rng.uniform(size=50).round(2)
    clf = Classifier(epochs=1, device="cpu")
    with pytest.raises(TargetError, match="fractions in \\[0, 1\\].*not classes") as err:
        clf.fit(X, y)
    assert err.value.code == "soft-labels"
    assert not hasattr(clf, "model_")


def test_empty_label_sep_and_non_text_codecs_and_large_seeds_are_config_errors(tmp_path: Path):
    from logitlab import Classifier
    from logitlab.data import encode_labels, load_dataset

    with pytest.raises(ConfigError, match="`label_sep` to be a non-empty string") as err:
        encode_labels(["a", "b"], label_sep="")
    assert err.value.param == "label_sep"
    ab_frame().to_csv(tmp_path / "d.csv", index=False)
    for codec in ("rot13", "base64", "zlib"):
        with pytest.raises(ConfigError, match=f"Unknown text encoding '{codec}'"):
            load_dataset(tmp_path / "d.csv", encoding=codec)
    with pytest.raises(ConfigError, match="4294967296") as err:
        Classifier(random_state=2**32).check_params()
    assert err.value.param == "random_state"
    Classifier(random_state=2**32 - 1).check_params()


def test_mlp_too_large_is_refused_before_anything_is_allocated():
    import tracemalloc

    from logitlab.models import build_model

    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(ConfigError, match=r"gives an mlp of [\d,]+ weights.*at most 500,000,000") as err:
        build_model("mlp", input_shape=(3,), n_outputs=1, hidden=[100_000_000])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert time.perf_counter() - start < 1.0 and peak < 50e6
    assert err.value.code == "model-too-large"
    assert sum(p.numel() for p in build_model("mlp", input_shape=(3,), n_outputs=1).parameters()) > 0


def test_text_in_a_streamed_numeric_column_names_column_value_file_and_row():
    from logitlab.data.row_names import RowNamer
    from logitlab.data.streaming.encode import numeric_values

    np.testing.assert_array_equal(numeric_values(pa.array(["1.5", None, "2"]), "a"), [1.5, np.nan, 2.0])
    with pytest.raises(DataError, match=r"Column 'a' is numeric but holds 'oops' at b.parquet row 3") as err:
        numeric_values(pa.array(["1.5", "2", "oops"]), "a", lambda: RowNamer("b.parquet row", 1))
    assert "drop=['a']" in (err.value.fix or "")
    assert math.isnan(float(numeric_values(pa.array([None], pa.string()), "a")[0]))


def test_mixed_spellings_of_one_label_are_warned_with_their_counts(tmp_path: Path):
    from logitlab.data import load_dataset
    from logitlab.data.label_encoder import LabelEncoder
    from logitlab.errors import LogitlabWarning

    frame = ab_frame(80).astype({"target": object})
    frame.loc[:5, "target"] = ["0.0", "1.0", "True", "False", "0.0", "1.0"]
    frame.to_csv(tmp_path / "d.csv", index=False)
    counts = frame["target"].astype(str).value_counts()
    with pytest.warns(LogitlabWarning, match="spelled differently") as caught:
        bundle = load_dataset(tmp_path / "d.csv")
    message = str(caught[0].message)
    for spelling in ("0", "0.0", "False", "1", "1.0", "True"):
        assert f"'{spelling}' ({counts[spelling]} rows)" in message
    assert any("spelled differently" in n for n in bundle.notes)
    for labels, counted in (
        (["Yes", "yes", "no"], [3, 40, 37]),
        (["\uff39\uff45\uff53", "yes", "no"], [3, 40, 37]),  # full-width: NFKC-equal
        ([0, 1, "no", "yes"], [10, 12, 30, 28]),  # a streamed 0/1 file beside yes/no files
    ):
        with pytest.warns(LogitlabWarning, match="spelled differently"):
            enc = LabelEncoder.fit(labels, counts=counted)
        assert any("rows)" in n for n in enc.notes)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", LogitlabWarning)
        LabelEncoder.fit(["cat", "dog", "cat"], task="multiclass")  # distinct values: no warning


def test_infinite_labels_in_a_streamed_column_are_a_target_error_too():
    from logitlab.data.streaming.encode import arrow_labels

    assert arrow_labels(pa.array([0.0, 1.0, 1.0])).tolist() == [0, 1, 1]
    with pytest.raises(TargetError, match=r"Infinite target values in a streamed label column \(1 rows"):
        arrow_labels(pa.array([0.0, 1.0, -np.inf]))
