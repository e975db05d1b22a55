from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.preprocessing import RobustScaler, StandardScaler

from logitlab.data import DataState, load_dataset, load_inputs, preprocessor_from_dict
from logitlab.errors import DataError
from logitlab.tasks import Task


def _frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.normal(40, 10, n).round(1),
            "income": rng.lognormal(10, 1, n).round(2),
            "city": rng.choice(["paris", "lyon", "nice"], n),
            "churn": np.where(rng.random(n) < 0.2, "yes", "no"),
        }
    )


def test_csv_binary_string_target(tmp_path):
    df = _frame()
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    b = load_dataset(path, target="churn", seed=1)
    assert b.task is Task.BINARY and b.kind == "tabular"
    assert b.label_encoder.classes == ["no", "yes"] and b.label_names == ["yes"]
    assert any("positive class 'yes'" in n for n in b.notes)
    assert b.input_shape == (2 + 3,)
    assert len(b.train) + len(b.val) + len(b.test) == len(df)
    # targets: independent recomputation from the file
    expected = (df["churn"].to_numpy() == "yes").astype(np.float32)
    for split in (b.train, b.val, b.test):
        assert split.y.shape == (len(split), 1) and split.y.dtype == torch.float32
        np.testing.assert_array_equal(split.y[:, 0].numpy(), expected[split.index])
    # numeric features scaled on the train split (default: robust): sklearn's RobustScaler, smoothly clipped
    raw = df[["age", "income"]].to_numpy()
    z = RobustScaler(unit_variance=True).fit(raw[b.train.index]).transform(raw[b.test.index])
    np.testing.assert_allclose(b.test.x[:, :2].numpy(), z / np.sqrt(1 + (z / 3) ** 2), rtol=1e-5, atol=1e-5)
    # numeric_scaling="standard": same as sklearn's StandardScaler
    std = load_dataset(path, target="churn", seed=1, numeric_scaling="standard")
    scaler = StandardScaler().fit(raw[std.train.index])
    np.testing.assert_allclose(
        std.test.x[:, :2].numpy(), scaler.transform(raw[std.test.index]), rtol=1e-5, atol=1e-5
    )
    # one-hot in sorted category order
    onehot = pd.get_dummies(df["city"]).reindex(columns=["lyon", "nice", "paris"]).to_numpy(dtype=np.float32)
    np.testing.assert_array_equal(b.val.x[:, 2:].numpy(), onehot[b.val.index])


def test_parquet_multiclass_int_codes_and_predict_roundtrip(tmp_path):
    df = _frame()
    df["grade"] = np.arange(len(df)) % 3 + 1
    df = df.drop(columns=["churn"])
    path = tmp_path / "t.parquet"
    df.to_parquet(path)
    b = load_dataset(path, target="grade")
    assert b.task is Task.MULTICLASS and b.label_encoder.classes == [1, 2, 3]
    assert b.train.y.dtype == torch.int64
    np.testing.assert_array_equal(b.train.y.numpy(), df["grade"].to_numpy()[b.train.index] - 1)
    state = DataState.from_dict(json.loads(json.dumps(b.state.to_dict())))
    inputs = load_inputs(path, state)
    np.testing.assert_array_equal(inputs.x[b.test.index].numpy(), b.test.x.numpy())
    np.testing.assert_array_equal(inputs.y[b.test.index].numpy(), b.test.y.numpy())
    assert inputs.ids[0] == 1 and inputs.id_name == "row"  # rows numbered from 1, as for CSV


def test_multilabel_columns_and_label_lists(tmp_path):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=120), "a": rng.integers(0, 2, 120), "b": rng.integers(0, 2, 120)})
    df.to_csv(tmp_path / "m.csv", index=False)
    b = load_dataset(tmp_path / "m.csv", target=["a", "b"])
    assert b.task is Task.MULTILABEL and b.label_names == ["a", "b"]
    np.testing.assert_array_equal(b.train.y.numpy(), df[["a", "b"]].to_numpy(np.float32)[b.train.index])
    lists = ["|".join(n for n, v in (("a", r.a), ("b", r.b)) if v) for r in df.itertuples()]
    df2 = pd.DataFrame({"x": df["x"], "tags": lists})
    df2.to_csv(tmp_path / "l.csv", index=False)
    b2 = load_dataset(tmp_path / "l.csv", target="tags", task="multilabel")
    assert b2.task is Task.MULTILABEL and b2.label_names == ["a", "b"]
    np.testing.assert_array_equal(b2.train.y.numpy(), df[["a", "b"]].to_numpy(np.float32)[b2.train.index])
    # unknown label at predict time names the line
    df2.loc[5, "tags"] = "a|zebra"
    df2.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(DataError, match=r"Unknown label 'zebra' at line 7"):
        load_inputs(tmp_path / "bad.csv", b2.state)


def test_missing_target_column_lists_columns(tmp_path):
    _frame().to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(
        DataError, match=r"'label' not in the table; the columns are: age, income, city, churn"
    ):
        load_dataset(tmp_path / "t.csv", target="label")
    with pytest.raises(DataError, match="No target column given"):
        load_dataset(tmp_path / "t.csv")


def test_bad_rows_name_line_and_column(tmp_path):
    df = _frame(50)
    df["age"] = df["age"].astype(object)
    df.loc[9, "age"] = "forty"
    df.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(DataError, match=r"Column 'age' is numeric but holds 'forty' at line 11"):
        load_dataset(tmp_path / "bad.csv", target="churn", val_size=0, test_size=0)
    df = _frame(50)
    df.loc[[3, 7], "churn"] = None
    df.to_csv(tmp_path / "missing.csv", index=False)
    with pytest.raises(DataError, match=r"Missing target values at line 5, line 9 \(2 rows\)"):
        load_dataset(tmp_path / "missing.csv", target="churn", missing_target="error")


def test_imputation_unknown_categories_and_json_roundtrip(tmp_path):
    df = _frame(100)
    df.loc[[1, 2, 3], "income"] = np.nan
    df.loc[[4], "city"] = None
    df.to_csv(tmp_path / "t.csv", index=False)
    b = load_dataset(tmp_path / "t.csv", target="churn", val_size=0.2, test_size=0.2)
    assert any("income" in n and "median" in n for n in b.notes)
    pre = b.preprocessor
    again = preprocessor_from_dict(json.loads(json.dumps(pre.to_dict())))
    new = df.drop(columns=["churn"]).iloc[:20].copy()
    new.loc[0, "city"] = "marseille"
    notes: list[str] = []
    out = again.transform(new, notes=notes)
    np.testing.assert_array_equal(out, pre.transform(new, notes=[]))
    assert out[0, 2:].sum() == 0 and any("marseille" in n for n in notes)
    train = df.iloc[b.train.index]
    median = float(np.nanmedian(train["income"]))
    assert pre.numeric[1].fill == pytest.approx(median)
    with warnings.catch_warnings():  # a few unknown values are routine at predict time: a note, no warning
        warnings.simplefilter("error")
        again.transform(new)


def test_column_named_file_with_numbers_is_a_table(tmp_path):
    df = _frame(60)
    df["file"] = np.arange(60) % 7
    df.to_csv(tmp_path / "t.csv", index=False)
    b = load_dataset(tmp_path / "t.csv", target="churn")
    assert b.kind == "tabular" and b.input_shape == (6,)
