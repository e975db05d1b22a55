"""One streaming pass gives the statistics the in-memory path gives on the same rows.

The oracle is logitlab's in-memory path on a table that fits: ``TabularPreprocessor.fit`` on the
training rows (chosen by the same ``HashSplit``), ``encode_labels`` on every row, and
``imbalance_weights`` on the encoded training targets.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from logitlab.data import TabularPreprocessor, encode_labels, load_dataset
from logitlab.data.streaming import HashSplit, Manifest, scan_table
from logitlab.data.streaming.hashing import TRAIN, VAL, splitmix64
from logitlab.errors import DataError
from logitlab.weights import imbalance_weights

ROWS, SEED = 3000, 4


def frame(rng: np.random.Generator) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "a": rng.normal(size=ROWS),
            "b": np.where(rng.random(ROWS) < 0.1, np.nan, rng.normal(size=ROWS) * 3 + 1),
            "n": rng.integers(0, 5, ROWS),
            "flag": rng.random(ROWS) < 0.3,
            "city": rng.choice(["x", "y", "z", "w", "v"], ROWS, p=[0.4, 0.3, 0.15, 0.1, 0.05]),
            "label": rng.choice(["no", "yes"], ROWS, p=[0.85, 0.15]),
            "kind": rng.choice(["cat", "dog", "eel"], ROWS, p=[0.6, 0.3, 0.1]),
            "t1": (rng.random(ROWS) < 0.2).astype(int),
            "t2": (rng.random(ROWS) < 0.5).astype(int),
        }
    )
    df.loc[rng.random(ROWS) < 0.05, "city"] = None
    return df


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    root = tmp_path_factory.mktemp("stats")
    df = frame(np.random.default_rng(0))
    for i, (lo, hi) in enumerate([(0, 1100), (1100, 1900), (1900, ROWS)]):
        part = pa.Table.from_pandas(df.iloc[lo:hi], preserve_index=False)
        pq.write_table(part, root / f"p{i}.parquet", row_group_size=250)
    return root, df


LABELS = ["label", "kind", "t1", "t2"]


def in_memory(df: pd.DataFrame, split: HashSplit, code: int = TRAIN) -> pd.DataFrame:
    return df[split.assign(np.arange(len(df))) == code]


@pytest.mark.parametrize("scaling", ["robust", "standard", "quantile"])
@pytest.mark.parametrize(
    ("target", "task"), [(["label"], "binary"), (["kind"], "multiclass"), (["t1", "t2"], "multilabel")]
)
def test_preprocessing_labels_and_weights_equal_the_in_memory_ones(
    table: tuple[Path, pd.DataFrame], target: list[str], task: str, scaling: str
) -> None:
    root, df = table
    b = load_dataset(root, target=target if len(target) > 1 else target[0], streaming=True, seed=SEED, max_categories=3,
                     drop=[c for c in LABELS if c not in target], numeric_scaling=scaling)  # fmt: skip
    split = HashSplit(0.15, 0.15, SEED)
    train = in_memory(df, split)
    features = train.drop(columns=LABELS)
    ref = TabularPreprocessor.fit(features, max_categories=3, scaling=scaling)
    got = b.preprocessor
    assert [c.name for c in got.numeric] == [c.name for c in ref.numeric]
    for g, r in zip(got.numeric, ref.numeric):
        assert g.fill == r.fill  # the sample holds every training value here: the exact median
        assert g.mean == pytest.approx(r.mean, rel=1e-12, abs=1e-12)
        assert g.scale == pytest.approx(r.scale, rel=1e-12)
        assert g.scaling == r.scaling == scaling
        np.testing.assert_allclose(g.quantiles or [], r.quantiles or [], rtol=1e-12)
    assert [(c.name, c.categories, c.fill) for c in got.categorical] == [
        (c.name, c.categories, c.fill) for c in ref.categorical
    ]
    y_all, enc = encode_labels(df[target[0]] if len(target) == 1 else df[target], None)
    assert (b.task.value, b.label_encoder.classes, b.label_encoder.positive) == (
        task,
        enc.classes,
        enc.positive,
    )
    assert b.label_encoder.reason == enc.reason
    y_train = y_all[torch.from_numpy(split.assign(np.arange(ROWS)) == TRAIN)]
    expected = imbalance_weights(y_train, task, num_classes=enc.n_outputs)
    counted = imbalance_weights(
        b.train.label_counts(task, num_classes=enc.n_outputs), task, num_classes=enc.n_outputs
    )
    assert expected is not None and counted is not None
    torch.testing.assert_close(counted.values, expected.values)
    val = in_memory(df, split, VAL)
    torch.testing.assert_close(b.val.y, y_all[torch.from_numpy(split.assign(np.arange(ROWS)) == VAL)])
    np.testing.assert_array_equal(
        b.val.materialize().numpy(), ref.transform(val.drop(columns=LABELS), notes=[])
    )


def test_sharded_pass_merges_to_the_single_pass(table: tuple[Path, pd.DataFrame]) -> None:
    root, _ = table
    m, split = Manifest.scan(root), HashSplit(0.2, 0.1, 1)
    kw = {"target": ["label"], "features": ["a", "b", "city"], "splitter": split}
    whole = scan_table(m, **kw)
    merged = scan_table(m, **kw, part=(0, 2))
    merged.merge(scan_table(m, **kw, part=(1, 2)))
    np.testing.assert_array_equal(merged.unit_counts, whole.unit_counts)
    for name in ("a", "b"):
        got, want = merged.numeric[name].column(name, []), whole.numeric[name].column(name, [])
        assert got is not None and want is not None and got.fill == want.fill
        assert (got.mean, got.scale) == pytest.approx((want.mean, want.scale), rel=1e-12)
    assert merged.categorical["city"].counts == whole.categorical["city"].counts
    assert merged.categorical["city"].first == whole.categorical["city"].first
    assert {k: v.tolist() for k, v in merged.labels.counts.items()} == {
        k: v.tolist() for k, v in whole.labels.counts.items()
    }


def test_a_small_sample_gives_the_median_of_the_rows_with_the_smallest_hashes(
    table: tuple[Path, pd.DataFrame],
) -> None:
    root, df = table
    split = HashSplit(0.15, 0.15, 0)
    stats = scan_table(Manifest.scan(root), target=["label"], features=["b"], splitter=split, sample_rows=101)
    column = stats.numeric["b"].column("b", notes := [])
    ids = np.flatnonzero((split.assign(np.arange(ROWS)) == TRAIN) & df["b"].notna().to_numpy())
    hashes = splitmix64(ids.astype(np.uint64), 0x5A3C)  # the sample's salt
    chosen = ids[np.argsort(hashes)[:101]]
    assert column is not None and column.fill == float(np.median(df["b"].to_numpy()[chosen]))
    assert any("of a sample of 101 values" in n for n in notes)


def test_missing_label_names_the_file_and_row(tmp_path: Path) -> None:
    pq.write_table(pa.table({"x": [1.0, 2.0, 3.0], "y": ["a", None, "b"]}), tmp_path / "t.parquet")
    with pytest.raises(DataError, match=r"Missing target value in column 'y' at t.parquet row 2"):
        load_dataset(tmp_path, target="y", streaming=True)
