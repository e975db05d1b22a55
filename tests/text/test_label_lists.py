"""Label lists written as JSON or Python list literals are parsed into multi-label targets, never split."""

import pandas as pd
import pytest

from logitlab.data import load_dataset
from logitlab.data.label_encoder import LabelEncoder, encode_labels
from logitlab.data.label_lists import list_literals
from logitlab.errors import DataError

JSON = ['["sports", "news"]', '["news"]', '["tech", "sports"]', "[]", '["tech"]'] * 8
PY = ["['sports', 'news']", "['news']", "['tech', 'sports']", "[]", "['tech']"] * 8
EXPECTED = [[1, 1, 0], [1, 0, 0], [0, 1, 1], [0, 0, 0], [0, 0, 1]] * 8  # news, sports, tech


@pytest.mark.parametrize("values", [JSON, PY], ids=["json", "python"])
@pytest.mark.parametrize("sep", ["|", ","])  # the old advice (',') must give the same, not fragments
def test_list_literals_become_multilabel_targets(values, sep):
    y, enc = encode_labels(values, label_sep=sep)
    assert enc.task.value == "multilabel"
    assert enc.classes == ["news", "sports", "tech"]  # no '["sports"' fragments
    assert y.tolist() == EXPECTED
    assert "list literals" in enc.reason


def test_mixed_json_and_python_quotes_and_integers():
    assert list_literals(['["a", "b"]', "['c', 3]", " [] ", ""]) == [["a", "b"], ["3", "c"], [], []]
    assert list_literals(["a|b", '["a"]']) is None  # not every value is a literal: not lists of this kind


@pytest.mark.parametrize("bad", ["[__import__('os').system('true')]", "[[1, 2]]", "[1.5]", "[True]", "[a, b"])
def test_bracketed_values_that_are_not_flat_lists_are_refused_never_evaluated(bad):
    values = ['["a"]', bad if bad.endswith("]") else bad + "]"]
    with pytest.raises(DataError) as info:
        LabelEncoder.fit(values)
    assert info.value.code == "bad-label-list" and "list literal" in str(info.value)


def test_a_saved_encoder_reads_new_literals_and_refuses_unknown_labels():
    enc = LabelEncoder.fit(JSON)
    again = LabelEncoder.from_dict(enc.to_dict())
    assert again.transform(["['tech', 'news']"]).tolist() == [[1.0, 0.0, 1.0]]
    with pytest.raises(DataError, match="Unknown label 'cars'"):
        again.transform(['["cars"]'])


def test_a_csv_label_column_of_json_lists_trains_multilabel(tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"x": range(40), "tags": JSON}).to_csv(path, index=False)
    bundle = load_dataset(path, target="tags")
    assert bundle.task.value == "multilabel"
    assert bundle.label_names == ["news", "sports", "tech"]
