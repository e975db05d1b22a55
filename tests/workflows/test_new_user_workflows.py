"""The workflows a new user runs first, in process: the run directory, the report, the estimator's new defaults."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from logitlab import Classifier, workflows
from logitlab.errors import ConfigError

PARAMS = {"epochs": 4, "device": "cpu", "verbose": False, "model": "mlp"}  # the report counts MLP epochs


def _leaky_table(path, n: int = 300, seed: int = 0):
    """A binary table whose `account` column (an id-like number, not named like an index) gives the label away."""
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.4
    frame = pd.DataFrame(
        {
            "account": np.where(y, 5000, 1000) + rng.integers(0, 900, n),
            "noise": rng.normal(size=n).round(3),
            "plan": rng.choice(["basic", "pro"], n),
            "churn": np.where(y, "left", "stayed"),
        }
    )
    frame.to_csv(path, index=False)
    return frame


@pytest.fixture(scope="module")
def leaky_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("leaky")
    frame = _leaky_table(root / "churn.csv")
    lines: list[str] = []
    result = workflows.train(
        str(root / "churn.csv"), root / "run", params=PARAMS, load={"target": ["churn"]}, echo=lines.append
    )
    return root, frame, result, lines


@pytest.mark.slow
def test_the_report_names_its_data_split_rows_and_epochs_and_uses_class_names(leaky_run):
    root, frame, result, _ = leaky_run
    page = (root / "run" / "report.html").read_text()
    config = json.loads((root / "run" / "config.json").read_text())
    n_test = int(config["test_metrics"]["n"])
    assert f"data: {root / 'churn.csv'}; split: test; rows: {n_test}; epochs: 4" in page
    # binary confusion matrix: [negative, positive] by name; no name rule applies, so the positive
    # class is the later one in sorted order
    negative, positive = sorted(set(frame["churn"]))
    header = f"<th>true \\ predicted</th><th>{negative}</th><th>{positive}</th>"
    assert header in page and f"<tr><td>{positive}</td>" in page
    assert 'id="importance"' in page and "permutation_importance" in page


def test_permutation_importance_puts_the_leaking_column_first(leaky_run):
    _, _, _, lines = leaky_run
    line = next(x for x in lines if x.startswith("feature importance:"))
    assert line.split(": ", 1)[1].startswith("account ")


def test_each_note_is_printed_once(leaky_run):
    _, _, _, lines = leaky_run
    notes = [x for x in lines if x.startswith("note: ")]
    assert notes and len(notes) == len(set(notes))
    assert sum("positive class 'stayed'" in x for x in notes) == 1


def test_an_existing_run_is_kept_unless_overwrite(leaky_run):
    root, _, _, _ = leaky_run
    with pytest.raises(ConfigError, match="already holds a run") as info:
        workflows.train(str(root / "churn.csv"), root / "run", params=PARAMS, load={"target": ["churn"]})
    assert info.value.code == "run-exists" and info.value.param == "overwrite"
    assert workflows.check_run_dir(root / "run", overwrite=True) == root / "run"
    with pytest.raises(ConfigError, match="is a file"):
        workflows.check_run_dir(root / "churn.csv")
    with pytest.raises(ConfigError, match="is a folder"):
        workflows.check_predictions_path(root / "run")


def test_model_auto_picks_a_cnn_for_images_and_linear_or_mlp_for_tables():
    rng = np.random.default_rng(0)
    images = rng.normal(size=(80, 1, 8, 8)).astype("float32")
    y = (images.mean(axis=(1, 2, 3)) > 0).astype(int)
    assert Classifier(epochs=1, device="cpu").fit(images, y).model_spec_["name"] == "cnn"
    table = images.reshape(80, -1)
    fitted = Classifier(epochs=1, device="cpu").fit(table, y)
    assert fitted.model_spec_["name"] == fitted.decisions_["model"]["chosen"] in ("linear", "mlp")
    assert Classifier(model="mlp", epochs=1, device="cpu").fit(images, y).model_spec_["name"] == "mlp"


def test_classifier_positive_is_a_parameter():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 2))
    y = np.where(X[:, 0] > 0, "cat", "dog")
    default = Classifier(epochs=1, device="cpu").fit(X, y)
    assert default.classes_.tolist() == ["cat", "dog"] and default.label_encoder_.positive == "dog"
    cat = Classifier(epochs=1, device="cpu", positive="cat").fit(X, y)
    # classes_ stays in scikit-learn's sorted order; the parameter moves the positive class only
    assert cat.classes_.tolist() == ["cat", "dog"] and cat.label_encoder_.positive == "cat"
    with pytest.raises(ConfigError, match="positive"):
        Classifier(positive=[1, 2]).check_params()


def test_a_tiny_validation_split_keeps_the_default_thresholds_and_says_so():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    clf = Classifier(epochs=2, device="cpu", cv=1).fit(X, y)  # 9 validation rows: < 10 of each class
    assert clf.thresholds_.values == [0.5]
    assert any(n.startswith("validation split:") for n in clf.decisions_["notes"])
    assert any("kept 0.5" in n for n in clf.thresholds_.notes)
