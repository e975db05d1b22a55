"""Missing-value markers (``?``, ``NA``, ``n/a``, ``-``, blanks, ...) in a numeric column: the streaming path
reads them as the in-memory path does (missing, named in a note), and both give the same features."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from logitlab.data import load_dataset
from logitlab.options import NA_MARKERS

SPELLED = ["?", "NA", "n/a", "-", "", "N/A", "None", "--", "null", "NaN"]


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    rng = np.random.default_rng(0)
    n = 240
    x = rng.normal(size=n).round(3).astype(object)
    at = rng.choice(np.arange(1, n), size=3 * len(SPELLED), replace=False)  # row 0 stays a number
    for i, row in enumerate(at):
        x[row] = SPELLED[i % len(SPELLED)]
    frame = pd.DataFrame({"x": x, "c": rng.choice(["u", "v", "?"], size=n), "y": np.arange(n) % 3 == 0})
    path = tmp_path_factory.mktemp("markers") / "t.csv"
    frame.to_csv(path, index=False)
    return path, frame, at


def test_markers_in_a_numeric_column_give_the_same_features_streamed_and_in_memory(table):
    path, frame, at = table
    kw = {"target": "y", "val_size": 0.0, "test_size": 0.0, "seed": 0}
    mem = load_dataset(path, **kw)
    streamed = load_dataset(path, streaming=True, **kw)
    assert streamed.preprocessor.to_dict() == mem.preprocessor.to_dict()
    assert [c.name for c in mem.preprocessor.numeric] == ["x"]  # not 40-odd categories
    assert [c.categories for c in mem.preprocessor.categorical] == [["?", "u", "v"]]  # text keeps its '?'
    got = streamed.train.materialize().numpy()
    np.testing.assert_array_equal(got, mem.preprocessor.transform(frame.drop(columns="y"), notes=[]))
    fill = mem.preprocessor.numeric[0]
    marker_rows = np.zeros(len(frame), bool)
    marker_rows[at] = True
    assert len(set(got[marker_rows, 0].tolist())) == 1  # every marker row holds the imputed value
    numbers = pd.to_numeric(frame["x"][~marker_rows]).to_numpy()  # every other cell is a number
    assert np.isnan(pd.to_numeric(frame["x"][marker_rows], errors="coerce")).all()
    order = np.argsort(numbers)
    assert (np.diff(got[~marker_rows, 0][order]) >= 0).all()  # the numbers, rescaled in order
    assert fill.fill == np.median(numbers)


def test_both_paths_name_the_markers_they_read(table):
    path, _, _ = table
    kw = {"target": "y", "val_size": 0.0, "test_size": 0.0}
    notes = [load_dataset(path, streaming=s, **kw).notes for s in (False, True)]
    marker_notes = [[n for n in ns if "missing-value marker" in n] for ns in notes]
    assert marker_notes[0] == marker_notes[1] and len(marker_notes[0]) == 1
    for shown in ("'?' (3 rows)", "'-' (3 rows)", "'--' (3 rows)"):
        assert shown in marker_notes[0][0]
    assert all(m.lower() in NA_MARKERS for m in SPELLED)  # the test spells only the listed markers
