"""Numeric scaling of tables (robust + smooth clip, standard, quantile) against scikit-learn, saved and reloaded."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import QuantileTransformer, RobustScaler, StandardScaler

from logitlab import Classifier
from logitlab.data import load_dataset, preprocessor_from_dict
from logitlab.data.numeric_columns import smooth_clip
from logitlab.data.tabular_preprocessor import TabularPreprocessor
from logitlab.errors import ConfigError


def _heavy(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "income": rng.lognormal(3, 1.5, size=n),  # heavy right tail
            "count": rng.poisson(0.7, size=n).astype(float),  # many ties
            "z": rng.standard_t(2, size=n),  # outliers both ways
            "city": rng.choice(["a", "b", "c"], size=n),
        }
    )
    df.loc[::13, "income"] = np.nan
    df.loc[5, "z"] = 1e9
    return df


def _sklearn(df: pd.DataFrame, scaler) -> np.ndarray:
    num = df[["income", "count", "z"]].to_numpy(dtype=np.float64)
    filled = SimpleImputer(strategy="median").fit_transform(num)
    return scaler.fit(filled).transform(filled)


def test_robust_scaling_is_robustscaler_with_unit_variance_then_the_smooth_clip():
    df = _heavy()
    pre = TabularPreprocessor.fit(df, scaling="robust")
    out = pre.transform(df, notes=[])[:, :3].astype(np.float64)
    z = _sklearn(df, RobustScaler(unit_variance=True))
    np.testing.assert_allclose(out, z / np.sqrt(1 + (z / 3) ** 2), rtol=1e-6, atol=1e-6)
    assert np.abs(out).max() <= 3 and out[5, 2] == pytest.approx(3, abs=1e-6)  # the 1e9 outlier is bounded


def test_robust_scaling_falls_back_to_half_the_range_where_the_iqr_is_zero():
    df = pd.DataFrame({"rare": [0.0] * 90 + [4.0] * 10})  # IQR 0: scikit-learn would scale by 1
    col = TabularPreprocessor.fit(df, scaling="robust").numeric[0]
    assert (col.mean, col.scale) == (0.0, 2.0)
    assert smooth_clip(np.array([2.0])) == pytest.approx(2 / np.sqrt(1 + 4 / 9))


def test_quantile_scaling_is_quantiletransformer_to_a_normal():
    df = _heavy()
    out = TabularPreprocessor.fit(df, scaling="quantile").transform(df, notes=[])[:, :3]
    expected = _sklearn(df, QuantileTransformer(n_quantiles=len(df), output_distribution="normal"))
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    # more rows than the stored quantiles: 1,000 of them, as scikit-learn's default
    big = _heavy(3000, seed=1)
    pre = TabularPreprocessor.fit(big, scaling="quantile")
    assert len(pre.numeric[0].quantiles) == 1000
    expected = _sklearn(big, QuantileTransformer(n_quantiles=1000, output_distribution="normal"))
    np.testing.assert_allclose(pre.transform(big, notes=[])[:, :3], expected, rtol=1e-5, atol=1e-5)


def test_standard_scaling_is_standardscaler():
    df = _heavy()
    out = TabularPreprocessor.fit(df, scaling="standard").transform(df, notes=[])[:, :3]
    np.testing.assert_allclose(out, _sklearn(df, StandardScaler()), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("scaling", ["robust", "standard", "quantile"])
def test_every_scaling_round_trips_through_json(scaling):
    df = _heavy()
    pre = TabularPreprocessor.fit(df, scaling=scaling)
    again = preprocessor_from_dict(json.loads(json.dumps(pre.to_dict())))
    new = _heavy(50, seed=7)
    np.testing.assert_array_equal(again.transform(new, notes=[]), pre.transform(new, notes=[]))


def test_a_column_saved_before_scaling_existed_is_standardised():
    d = TabularPreprocessor.fit(_heavy(), scaling="standard").to_dict()
    for c in d["numeric"]:
        del c["scaling"], c["quantiles"]
    old = preprocessor_from_dict(d)
    assert {c.scaling for c in old.numeric} == {"standard"}
    df = _heavy()
    np.testing.assert_allclose(old.transform(df, notes=[])[:, :3], _sklearn(df, StandardScaler()), atol=1e-5)


def test_the_estimator_and_load_dataset_take_the_option_and_refuse_a_bad_one(tmp_path):
    df = _heavy(300)
    y = (df["z"] > 0).astype(int).to_numpy()
    clf = Classifier(epochs=2, numeric_scaling="quantile").fit(df, y)
    assert {c.scaling for c in clf.data_state_.preprocessor.numeric} == {"quantile"}
    clf.save(tmp_path / "m")
    again = Classifier.load(tmp_path / "m")
    np.testing.assert_array_equal(again.predict_proba(df), clf.predict_proba(df))
    with pytest.raises(ConfigError, match="numeric_scaling") as info:
        Classifier(numeric_scaling="minmax").fit(df, y)
    assert info.value.param == "numeric_scaling"
    path = tmp_path / "t.csv"
    df.assign(y=y).to_csv(path, index=False)
    assert {c.scaling for c in load_dataset(path, target="y").preprocessor.numeric} == {"robust"}
    with pytest.raises(ConfigError, match="numeric_scaling"):
        load_dataset(path, target="y", numeric_scaling="log")
