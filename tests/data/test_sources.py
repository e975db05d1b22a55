"""One dispatch: each spec goes to exactly one source, picked once; a new source plugs in as one class."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from logitlab.data import (
    SOURCES,
    DatasetBundle,
    Inputs,
    LoadOptions,
    RowNamer,
    Source,
    Spec,
    from_arrays,
    load_dataset,
    load_inputs,
)
from logitlab.data import sources as sources_module
from logitlab.data.row_names import CSV_LINES, INDEX, TABLE_ROWS
from logitlab.data.sources import pick_source
from logitlab.data.sources.builtin import BuiltinSource
from logitlab.data.sources.images import ImageCsvSource, ImageFolderSource
from logitlab.data.sources.table import TableSource
from logitlab.errors import DataError


def _png(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((4, 4, 3), value, np.uint8)).save(path)


def _specs(tmp_path):
    for i in range(4):
        _png(tmp_path / "imgs" / "a" / f"{i}.png", 10)
        _png(tmp_path / "imgs" / "b" / f"{i}.png", 240)
    paths = [f"imgs/a/{i}.png" for i in range(4)] + [f"imgs/b/{i}.png" for i in range(4)]
    pd.DataFrame({"path": paths, "label": ["a"] * 4 + ["b"] * 4}).to_csv(tmp_path / "images.csv", index=False)
    table = pd.DataFrame({"file": [f"r{i}" for i in range(20)], "x": range(20), "target": [0, 1] * 10})
    table.to_csv(tmp_path / "table.csv", index=False)  # a column called "file" that holds no image paths
    table.to_parquet(tmp_path / "table.parquet")
    return {
        "builtin:digits": BuiltinSource,
        str(tmp_path / "imgs"): ImageFolderSource,
        str(tmp_path / "images.csv"): ImageCsvSource,
        str(tmp_path / "table.csv"): TableSource,
        str(tmp_path / "table.parquet"): TableSource,
    }


def test_each_spec_has_exactly_one_source(tmp_path):
    for spec, expected in _specs(tmp_path).items():
        chosen = [type(s) for s in SOURCES if s.detect(Spec.of(spec))]
        assert chosen[0] is expected, spec
        assert type(pick_source(Spec.of(spec))) is expected
        # first match wins: the image-CSV source is asked before the table source, which reads any table
        assert chosen == ([ImageCsvSource, TableSource] if expected is ImageCsvSource else [expected]), spec


def test_load_and_inputs_pick_the_source_once(tmp_path, monkeypatch):
    spec = str(tmp_path / "images.csv")
    _specs(tmp_path)
    calls: list[str] = []

    def counted(source):
        real = source.detect
        return lambda s: (calls.append(type(source).__name__), real(s))[1]

    for source in SOURCES:
        monkeypatch.setattr(source, "detect", counted(source))
    bundle = load_dataset(spec, val_size=0.25, test_size=0.25)
    assert calls == ["StreamingSource", "BuiltinSource", "ImageFolderSource", "ImageCsvSource"]
    calls.clear()
    inputs = load_inputs(spec, bundle.state)
    assert calls == ["StreamingSource", "BuiltinSource", "ImageFolderSource", "ImageCsvSource"]
    assert inputs.ids[0] == "imgs/a/0.png" and len(inputs) == 8


class _StreamSource(Source):
    """A stand-in for a later streaming source: claims ``stream:`` specs."""

    describe = "a stream: spec"

    def detect(self, spec: Spec) -> bool:
        return spec.text.startswith("stream:")

    def load(self, spec: Spec, options: LoadOptions) -> DatasetBundle:
        rng = np.random.default_rng(options.seed)
        return from_arrays(
            rng.normal(size=(40, 2)), np.arange(40) % 2, val_size=options.val_size, test_size=0
        )

    def inputs(self, spec: Spec, state, *, require_targets: bool) -> Inputs:
        x = state.transform(np.zeros((3, 2)))
        return Inputs(x, None, INDEX.ids(3))


def test_a_new_source_plugs_in_as_one_class(monkeypatch):
    monkeypatch.setattr(sources_module, "SOURCES", (_StreamSource(), *SOURCES))
    bundle = load_dataset("stream:ticks", val_size=0.25, seed=3)
    assert len(bundle.train) == 30 and len(bundle.val) == 10
    assert load_inputs("stream:ticks", bundle.state).ids == ["index 0", "index 1", "index 2"]
    assert load_inputs("stream:ticks", bundle.state, labels="ignore").y is None  # a source without `labels`
    with pytest.raises(DataError, match="a stream: spec") as info:
        load_dataset("no/such/place.csv")
    assert info.value.code == "no-such-file"


def test_specs_no_source_reads(tmp_path):
    with pytest.raises(DataError, match="No such file or folder") as info:
        load_dataset(tmp_path / "missing.csv")
    assert info.value.code == "no-such-file"
    for source in SOURCES:  # the fix lists what every source reads
        assert source.describe in info.value.fix
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match=r"Unsupported file type '\.txt'") as info:
        load_dataset(tmp_path / "notes.txt")
    assert info.value.code == "unsupported-file"


def test_table_inputs_refuse_an_array_trained_model(tmp_path):
    bundle = from_arrays(np.random.default_rng(0).normal(size=(30, 2)), np.arange(30) % 2, test_size=0)
    pd.DataFrame({"a": [1.0], "b": [2.0]}).to_csv(tmp_path / "new.csv", index=False)
    with pytest.raises(DataError, match="not on a table's named columns") as info:
        load_inputs(tmp_path / "new.csv", bundle.state)
    assert info.value.code == "data-kind-mismatch"


def test_row_namer_names_rows_like_the_file():
    assert [CSV_LINES(i) for i in range(3)] == [f"line {i + 2}" for i in range(3)]
    assert [TABLE_ROWS(i) for i in range(3)] == [f"row {i + 1}" for i in range(3)]
    positions = np.array([7, 2, 5])
    inner = np.array([2, 0])
    namer = CSV_LINES.subset(positions).subset(inner)
    assert namer.ids(2) == [f"line {positions[j] + 2}" for j in inner]
    files = RowNamer.files(["x/a.png", "x/b.png"]).subset([1])
    assert files(0) == "file x/b.png"


@pytest.mark.parametrize("suffix, name", [(".csv", "line 4"), (".parquet", "row 3")])
def test_a_bad_row_has_the_same_name_in_labels_and_features(tmp_path, suffix, name):
    frame = pd.DataFrame({"x": ["1.5", "2.5", "oops"] + ["3.0"] * 37, "target": ["a", "b"] * 20})
    frame_labels = pd.DataFrame({"x": [1.0] * 40, "target": ["a", "b", None] + ["a"] * 37})
    for f, what in ((frame, "holds 'oops' at"), (frame_labels, "Missing target values at")):
        path = tmp_path / f"t{suffix}"
        f.to_csv(path, index=False) if suffix == ".csv" else f.to_parquet(path)
        with pytest.raises(DataError, match=f"{what} {name}"):
            load_dataset(path, val_size=0.2, test_size=0.2, missing_target="error")
    # by default the row without a label is left out, named the same way in the note
    bundle = load_dataset(path, val_size=0.2, test_size=0.2)
    assert f"1 row without a label left out ({name})" in bundle.notes
    assert len(bundle.train) + len(bundle.val) + len(bundle.test) == 39 and 2 not in bundle.train.index


def test_builtin_inputs_match_the_bundle():
    for spec in ("builtin:digits", "builtin:digits-attributes"):
        bundle = load_dataset(spec, seed=1)
        inputs = load_inputs(spec, bundle.state)
        torch.testing.assert_close(inputs.x[bundle.test.index], bundle.test.x)
        torch.testing.assert_close(inputs.y[bundle.test.index], bundle.test.y)
        assert inputs.ids[:2] == [1, 2] and inputs.id_name == "row"  # rows numbered from 1
