"""Warnings where a mistake is likely, notes for routine repairs (issue 26).

A categorical column none of whose values the model knows, columns the model does not read, and a positive
class that holds most rows are one ``LogitlabWarning`` per call; imputing a missing value at predict time is
routine and warns nothing. Missing-value markers (``?``, ``NA``, ``-``, ...) in a numeric column are missing
values, not categories; categorical missing values are a category of their own.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import OneHotEncoder

from logitlab import Classifier
from logitlab.data import LabelEncoder, TabularPreprocessor, preprocessor_from_dict
from logitlab.data.categorical_columns import CategoricalColumn
from logitlab.errors import LogitlabWarning
from logitlab.options import MISSING_CATEGORY, NA_MARKERS


def _frame(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(size=n), "city": rng.choice(["oslo", "paris", "rome"], n)})


def _logitlab_warnings(call) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [str(w.message) for w in caught if issubclass(w.category, LogitlabWarning)]


def test_a_categorical_column_with_no_known_value_warns_once_and_a_few_unknown_values_do_not():
    pre = TabularPreprocessor.fit(_frame())
    new = _frame(10, seed=1)
    new["city"] = new["city"].str.upper()  # another coding: none of them is known
    told = _logitlab_warnings(lambda: pre.transform(new))
    assert len(told) == 1 and "column 'city': none of its values is a training category" in told[0]
    assert "'PARIS' for 'paris'" in told[0]  # the hint names the case difference
    some = _frame(10, seed=1)
    some.loc[0, "city"] = "madrid"
    notes: list[str] = []
    assert _logitlab_warnings(lambda: pre.transform(some, notes=notes)) == []
    assert any("1 values of unknown categories ('madrid')" in n for n in notes)
    # inside training (validation/test rows) the same finding is a note, not a warning
    quiet: list[str] = []
    assert _logitlab_warnings(lambda: pre.transform(new, notes=quiet, warn=False)) == []
    assert any("none of its values" in n for n in quiet)


def test_columns_the_model_does_not_read_are_named_in_one_warning_unless_known():
    pre = TabularPreprocessor.fit(_frame())
    new = _frame(10).assign(extra=1.0, other="a")
    told = _logitlab_warnings(lambda: pre.transform(new))
    assert told == ["2 column(s) the model was not trained on are ignored: 'extra', 'other'"]
    assert _logitlab_warnings(lambda: pre.transform(new, ignore=["extra", "other"])) == []
    np.testing.assert_array_equal(pre.transform(new, ignore=["extra", "other"]), pre.transform(_frame(10)))


def test_predict_with_missing_values_warns_nothing_and_gives_the_imputed_answer():
    X = _frame(120).assign(y=lambda d: np.where(d["x"] > 0, "a", "b"))
    clf = Classifier(epochs=2, device="cpu").fit(X[["x", "city"]], X["y"])
    new = X[["x", "city"]].head(12).copy()
    new.loc[[0, 3], "x"] = np.nan
    for _ in range(2):  # not on every call, not once: never
        assert _logitlab_warnings(lambda: clf.predict(new)) == []
    filled = new.fillna({"x": clf.data_state_.preprocessor.numeric[0].fill})
    np.testing.assert_array_equal(clf.predict_proba(new), clf.predict_proba(filled))
    told = _logitlab_warnings(lambda: clf.predict(new.assign(note="n/a")))
    assert told == ["1 column(s) the model was not trained on are ignored: 'note'"]


@pytest.mark.parametrize("marker", ["?", "NA", "n/a", "-", "", " ? "])
def test_missing_value_markers_in_a_numeric_column_are_missing_values(marker):
    rng = np.random.default_rng(2)
    age = rng.uniform(20, 70, 80).round()
    text = age.astype(object)
    text[[3, 9, 40]] = marker
    notes: list[str] = []
    pre = TabularPreprocessor.fit(pd.DataFrame({"age": text}), scaling="standard", notes=notes)
    assert pre.feature_names == ["age"]  # a number column, not 40 categories
    kept = np.delete(age, [3, 9, 40])
    assert pre.numeric[0].fill == pytest.approx(float(np.median(kept)))  # the median of the numbers
    assert any(f"{marker.strip()!r} (3 rows) read as missing values" in n for n in notes), notes
    out = pre.transform(pd.DataFrame({"age": [marker, "30"]}))  # at predict time too: imputed
    filled = np.where(np.isin(np.arange(80), [3, 9, 40]), np.median(kept), age)
    np.testing.assert_allclose(
        out[:, 0], (np.array([np.median(kept), 30.0]) - filled.mean()) / filled.std(), rtol=1e-6
    )


def test_a_column_of_words_with_a_marker_stays_categorical():
    pre = TabularPreprocessor.fit(pd.DataFrame({"c": ["a", "b", "?", "a"] * 10}))
    assert pre.feature_names == ["c=?", "c=a", "c=b"]
    assert set(NA_MARKERS) >= {"", "?", "-", "na", "n/a"}


def test_categorical_missing_values_are_their_own_category_as_scikit_learn_one_hot():
    train = pd.DataFrame({"city": ["oslo", None, "paris", "oslo", None, "rome", None] * 5})
    notes: list[str] = []
    pre = TabularPreprocessor.fit(train, notes=notes)
    assert pre.feature_names == ["city=oslo", "city=paris", "city=rome", f"city={MISSING_CATEGORY}"]
    assert any(f"15 missing values encoded as their own category {MISSING_CATEGORY!r}" in n for n in notes)
    new = pd.DataFrame({"city": [None, "rome", "oslo", np.nan, "lima"]})

    # scikit-learn's encoder keeps None as a category of its own (sorted last), unknown -> zeros
    def raw(col):  # None for every missing value, as scikit-learn's object arrays hold it
        return np.array([[None if pd.isna(v) else v] for v in col], dtype=object)

    ref = OneHotEncoder(handle_unknown="ignore").fit(raw(train["city"])).transform(raw(new["city"]))
    np.testing.assert_array_equal(pre.transform(new), ref.toarray())
    again = preprocessor_from_dict(pre.to_dict())
    np.testing.assert_array_equal(again.transform(new), pre.transform(new))


def test_a_column_saved_before_the_missing_category_still_imputes_its_mode():
    old = TabularPreprocessor(categorical=[CategoricalColumn("city", ["oslo", "paris"], "paris")])
    notes: list[str] = []
    out = old.transform(pd.DataFrame({"city": [None, "oslo"]}), notes=notes)
    np.testing.assert_array_equal(out, [[0.0, 1.0], [1.0, 0.0]])
    assert notes == ["column 'city': 1 missing values imputed with 'paris'"]


def test_a_positive_class_that_holds_most_rows_is_a_warning_unless_chosen():
    y = np.array([2] * 3 + [1] * 197)  # coded 1/2: 1 reads as positive, and it is 98.5% of the rows
    told = _logitlab_warnings(lambda: LabelEncoder.fit(y))
    assert len(told) == 1 and "the positive class 1 is the majority (98.5% of the labelled rows)" in told[0]
    assert "pass positive=2" in told[0]
    assert _logitlab_warnings(lambda: LabelEncoder.fit(y, positive=1)) == []  # asked for: no warning
    assert _logitlab_warnings(lambda: LabelEncoder.fit(np.array([0] * 150 + [1] * 50))) == []
    assert _logitlab_warnings(lambda: LabelEncoder.fit(np.array([2] * 150 + [1] * 50))) == []
