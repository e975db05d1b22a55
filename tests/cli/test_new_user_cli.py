"""The command line as a new user meets it, through ``cli.main`` in this process (``run_cli``).

The iris reproduction of issue 14: ``evaluate`` on a file with fewer classes or rescaled features
scores the model as trained (no re-fitted labels or scaling), so its metrics are those of
``predict`` on the same rows, recomputed here with scikit-learn.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from tests.helpers import run_cli as _cli


def _ok(proc):
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def iris(tmp_path_factory):
    from sklearn.datasets import load_iris

    root = tmp_path_factory.mktemp("iris")
    data = load_iris(as_frame=True)
    frame = data.frame.drop(columns=["target"])
    frame["Species"] = np.asarray(data.target_names)[data.target.to_numpy()]
    frame.to_csv(root / "iris.csv", index=False)
    frame[frame["Species"] != "setosa"].to_csv(root / "subset.csv", index=False)
    scaled = frame.copy()
    scaled.iloc[:, :4] *= 10
    scaled.to_csv(root / "scaled.csv", index=False)
    _ok(_cli("train", root / "iris.csv", "--target", "Species", "--epochs", 15, "--out", root / "run",
             "--quiet", "--device", "cpu"))  # fmt: skip
    return root, frame


def _predicted(root: Path, name: str) -> pd.DataFrame:
    if not (root / f"p-{name}").is_file():  # one predict per file for the tests that share it
        _ok(_cli("predict", root / "run", root / name, "--out", root / f"p-{name}"))
    return pd.read_csv(root / f"p-{name}")


def _evaluated(root: Path, name: str, split: str) -> dict:
    return json.loads(_ok(_cli("evaluate", root / "run", root / name, "--split", split, "--json")).stdout)


def _reference(truth: np.ndarray, predicted: np.ndarray) -> dict:
    classes = ["setosa", "versicolor", "virginica"]
    return {
        "accuracy": skm.accuracy_score(truth, predicted),
        "support": [int((truth == c).sum()) for c in classes],
        "f1": skm.f1_score(truth, predicted, labels=classes, average=None, zero_division=0).tolist(),
    }


def _check(metrics: dict, reference: dict) -> None:
    assert metrics["accuracy"] == pytest.approx(reference["accuracy"], abs=1e-6)
    assert metrics["support_per_class"] == reference["support"]
    assert metrics["f1_per_class"] == pytest.approx(reference["f1"], abs=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["iris.csv", "subset.csv", "scaled.csv"])
def test_evaluate_all_rows_gives_the_metrics_of_predict(iris, name):
    root, _ = iris
    truth = pd.read_csv(root / name)["Species"].to_numpy()
    predicted = _predicted(root, name)["prediction"].to_numpy()
    _check(_evaluated(root, name, "all"), _reference(truth, predicted))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["iris.csv", "subset.csv", "shuffled.csv"])
def test_evaluate_test_split_is_the_rows_train_held_out_wherever_they_stand(iris, name):
    """The training file: train's seeded split. Another file: only its rows that were held out (by value)."""
    from logitlab.data import load_dataset

    root, frame = iris
    if name == "shuffled.csv":
        frame.sample(frac=1.0, random_state=3).to_csv(root / name, index=False)
    table = pd.read_csv(root / name)
    trained = load_dataset(root / "iris.csv", target="Species", seed=0)
    fitted = {
        tuple(r) for r in frame.iloc[np.concatenate([trained.train.index, trained.val.index])].to_numpy()
    }
    held = {
        tuple(r) for r in frame.iloc[trained.test.index].to_numpy()
    } - fitted  # duplicates were trained on
    if name == "iris.csv":
        test = np.asarray(trained.test.index)
    else:
        test = np.flatnonzero([tuple(r) in held for r in table.to_numpy()])
        assert 0 < len(test) <= len(trained.test.index)
    predicted = _predicted(root, name)["prediction"].to_numpy()
    metrics = _evaluated(root, name, "test")
    _check(metrics, _reference(table["Species"].to_numpy()[test], predicted[test]))
    if len(test) == len(trained.test.index):  # every held-out row is there: train's own test metrics
        config = json.loads((root / "run" / "config.json").read_text())
        assert metrics["accuracy"] == pytest.approx(config["test_metrics"]["accuracy"], abs=1e-6)


@pytest.mark.slow
def test_evaluate_test_split_of_a_file_with_no_held_out_rows_is_refused(iris):
    root, _ = iris
    proc = _cli("evaluate", root / "run", root / "scaled.csv", "--split", "test")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "None of the 150 rows of" in proc.stderr and "Fix: use --split all" in proc.stderr


@pytest.mark.slow
def test_evaluate_leaves_out_unseen_labels_and_predict_ignores_the_target(iris):
    root, frame = iris
    odd = frame.copy().astype({"Species": object})
    odd.loc[[0, 1, 2], "Species"] = "unknown-iris"
    odd.loc[3, "Species"] = None
    odd.to_csv(root / "odd.csv", index=False)
    ev = _ok(_cli("evaluate", root / "run", root / "odd.csv", "--split", "all"))
    assert (
        "4 of 150 rows left out: 1 without a label, 3 with labels unseen in training (unknown-iris)"
        in ev.stdout
    )
    assert "146 rows, 4 left out" in ev.stdout
    unlabelled = frame.drop(columns=["Species"])
    unlabelled.to_csv(root / "new.csv", index=False)
    for name in ("odd.csv", "new.csv"):
        pred = _ok(_cli("predict", root / "run", root / name, "--out", root / f"p-{name}"))
        assert "wrote 150 rows" in pred.stdout
    same = pd.read_csv(root / "p-odd.csv")
    np.testing.assert_allclose(same.filter(like="p_").to_numpy(),
                               pd.read_csv(root / "p-new.csv").filter(like="p_").to_numpy())  # fmt: skip
    assert same["row"].tolist() == list(range(1, 151))
    missing = unlabelled.drop(columns=["petal width (cm)"])
    missing.to_csv(root / "missing.csv", index=False)
    out = _cli("predict", root / "run", root / "missing.csv", "--out", root / "p.csv")
    assert out.returncode == 2 and "'petal width (cm)'" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.slow
def test_predict_reports_its_notes_once_and_carries_the_ids(tmp_path):
    rng = np.random.default_rng(0)
    n = 200
    frame = pd.DataFrame(
        {
            "customer": [f"c{i:04d}" for i in range(n)],
            "income": rng.normal(50, 10, n).round(1),
            "student": rng.choice(["yes", "no"], n),
            "default": np.where(rng.random(n) < 0.3, "yes", "no"),
        }
    )
    frame.to_csv(tmp_path / "train.csv", sep=";", index=False)
    train = _ok(_cli("train", tmp_path / "train.csv", "--target", "default", "--id-column", "customer",
                     "--epochs", 2, "--out", tmp_path / "run", "--quiet", "--device", "cpu"))  # fmt: skip
    assert train.stdout.count("separator ';'") == 1
    new = frame.drop(columns=["default"]).head(30).copy()
    new.loc[:9, "student"] = "Yes"  # a category in another letter case
    new.loc[10:12, "income"] = np.nan
    new.to_parquet(tmp_path / "new.parquet")
    pred = _ok(_cli("predict", tmp_path / "run", tmp_path / "new.parquet", "--out", tmp_path / "p.csv"))
    notes = [line for line in pred.stdout.splitlines() if line.startswith("note: ")]
    assert len(notes) == len(set(notes)) == 2, pred.stdout
    assert any("10 values of unknown categories ('Yes')" in x and "'Yes' for 'yes'" in x for x in notes)
    assert any("3 missing values imputed" in x for x in notes)
    table = pd.read_csv(tmp_path / "p.csv")
    assert table.columns[0] == "customer" and table["customer"].tolist() == new["customer"].tolist()


@pytest.mark.slow
def test_image_folders_train_a_cnn_at_the_asked_size(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    for label, level in (("cat", 40), ("dog", 200)):
        (tmp_path / "imgs" / label).mkdir(parents=True)
        for i in range(12):
            pixels = np.clip(rng.normal(level, 20, (20, 20, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(tmp_path / "imgs" / label / f"{i}.png")
    out = _ok(_cli("train", tmp_path / "imgs", "--image-size", 12, "--epochs", 1, "--out", tmp_path / "run",
                   "--quiet", "--device", "cpu"))  # fmt: skip
    assert "model: cnn (--model auto, input 3x12x12)" in out.stdout
    spec = json.loads((tmp_path / "run" / "model.json").read_text())["model_spec"]
    assert spec["name"] == "cnn" and spec["input_shape"] == [3, 12, 12]
