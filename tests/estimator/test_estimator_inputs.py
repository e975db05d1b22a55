"""Classifier's input boundary: logitlab error types carrying scikit-learn's phrases and a fix line.

Each refusal is a ``DataError`` (a ``ValueError``) or a ``DataTypeError`` (also a ``TypeError``), whose
message holds the phrase scikit-learn's own validation uses, so tools written against scikit-learn
recognise it; the conversions (a column-vector ``y``) warn once with scikit-learn's warning type.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import DataConversionWarning

from logitlab import Classifier
from logitlab.errors import ConfigError, DataError, DataTypeError
from tests.helpers import fast

FAST = fast(epochs=2)


def _data(n=60, f=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, f))
    return X, np.arange(n) % 3


@pytest.fixture(scope="module")
def fitted():
    X, y = _data()
    return Classifier(**FAST).fit(X, y), X, y


def test_values_that_are_not_numbers_are_a_type_error():
    X, y = _data()
    X = X.astype(object)
    X[0, 0] = {"foo": "bar"}
    with pytest.raises(TypeError, match="argument must be a string or a real number") as info:
        Classifier(**FAST).fit(X, y)
    assert isinstance(info.value, DataTypeError) and isinstance(info.value, DataError)
    assert "DataFrame" in info.value.fix


@pytest.mark.parametrize(
    ("X", "phrase"),
    [
        (np.ones((4, 2)) + 1j, "Complex data not supported"),
        (np.empty((0, 3)), r"0 sample\(s\) \(shape=\(0, 3\)\) while a minimum of 1 is required"),
        (np.empty((12, 0)), r"0 feature\(s\) \(shape=\(12, 0\)\) while a minimum of 1 is required"),
        (np.ones(5), "Reshape your data"),
        (np.array([["a", "b"]] * 4), "could not convert string to float"),
    ],
)
def test_unusable_features_are_refused_at_fit(X, phrase):
    with pytest.raises(DataError, match=phrase) as info:
        Classifier(**FAST).fit(X, np.arange(len(X)) % 2)
    assert info.value.fix


def test_predict_checks_the_number_of_features_and_the_shape(fitted):
    clf, X, _ = fitted
    for method in (clf.predict, clf.predict_proba, clf.decision_function):
        with pytest.raises(
            DataError, match="X has 1 features, but Classifier is expecting 3 features as input"
        ):
            method(X[:, [1]])
        with pytest.raises(DataError, match="Reshape your data"):
            method(X[0])
    with pytest.raises(DataError, match=r"0 sample\(s\)"):
        clf.predict(X[:0])


def test_y_none_names_what_is_required():
    X, _ = _data()
    with pytest.raises(ConfigError, match="requires y to be passed, but the target y is None"):
        Classifier(**FAST).fit(X, None)


def test_a_column_vector_y_is_flattened_loudly(fitted):
    clf, X, y = fitted
    with pytest.warns(DataConversionWarning, match="A column-vector y was passed"):
        flat = Classifier(**FAST).fit(X, y[:, None])
    assert flat.task_ == "multiclass"
    np.testing.assert_array_equal(flat.predict(X), clf.predict(X))
    # a one-column 0/1 matrix is a binary task either way
    with pytest.warns(DataConversionWarning):
        binary = Classifier(**FAST).fit(X, (y[:, None] == 1).astype(int))
    assert binary.task_ == "binary" and binary.predict(X).shape == (len(X),)


class _ArrayOnly:
    """Has ``__array__`` and nothing else (no ``len``), like scikit-learn's ``_NotAnArray``."""

    def __init__(self, data):
        self.data = np.asarray(data)

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)


def test_array_likes_and_integer_named_frames_fit_like_arrays(fitted):
    clf, X, y = fitted
    np.testing.assert_array_equal(
        Classifier(**FAST).fit(_ArrayOnly(X), _ArrayOnly(y)).predict(X), clf.predict(X)
    )
    frame = pd.DataFrame(X)  # columns 0, 1, 2 (integers)
    by_frame = Classifier(**FAST).fit(frame, pd.Series(y))
    assert by_frame.predict(frame).shape == (len(X),)


def test_nan_is_imputed_in_dense_features(fitted):
    _, X, y = fitted
    X = X.copy()
    X[[1, 5], 0] = np.nan
    clf = Classifier(**FAST).fit(X, y)
    assert any("imputed" in n for n in clf.decisions_["notes"])
    assert np.isfinite(clf.predict_proba(X)).all()
    assert Classifier().__sklearn_tags__().input_tags.allow_nan


def test_outputs_do_not_depend_on_how_many_rows_come_together(fitted):
    clf, X, _ = fitted
    one_by_one = np.vstack([clf.predict_proba(row[None]) for row in X[:10]])
    np.testing.assert_array_equal(one_by_one, clf.predict_proba(X)[:10])
