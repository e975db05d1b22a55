"""Issue 24: ``evaluate --split test`` never scores training rows picked by position from another file.

A run trained on a 600-row table is evaluated on the file itself, the file shuffled, and the file
with 200 rows removed: the scored rows are exactly the held-out test rows the file still holds
(checked against the split ``load_dataset`` makes, by the rows' values), and the metrics equal
scikit-learn's on ``predict``'s probabilities for those rows. A file none of whose rows were held out,
and a run trained with ``test_size=0``, are refused with a fix that says ``--split all``.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from logitlab.errors import DataError

pytestmark = pytest.mark.slow  # two small trainings in a module fixture (about 10 s on a quiet machine)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from logitlab import workflows

    root = tmp_path_factory.mktemp("heldout")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 3))
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    frame["target"] = (x[:, 0] + 0.7 * rng.normal(size=600) > 0).astype(int)
    frame.to_csv(root / "train.csv", index=False)
    frame.sample(frac=1.0, random_state=1).to_csv(root / "shuffled.csv", index=False)
    frame.iloc[200:].to_csv(root / "cut.csv", index=False)
    scaled = frame.copy()
    scaled[["a", "b", "c"]] *= 10
    scaled.to_csv(root / "scaled.csv", index=False)
    params = {"epochs": 2, "device": "cpu", "random_state": 0}
    lines: dict[str, list[str]] = {"run": [], "novalid": []}
    workflows.train(str(root / "train.csv"), root / "run", params=params, load={}, echo=lines["run"].append)
    workflows.train(
        str(root / "train.csv"),
        root / "notest",
        params=params,
        load={"test_size": 0.0},
        echo=lines["novalid"].append,
    )
    return {"root": root, "frame": frame, "lines": lines}


def _held_out_values(runs: dict[str, Any]) -> set[tuple[float, ...]]:
    """The raw rows train held out (its seeded split, recomputed), less any row also in train/validation."""
    from logitlab.data import load_dataset

    frame = runs["frame"]
    bundle = load_dataset(runs["root"] / "train.csv", seed=0)
    fitted = {tuple(r) for r in frame.iloc[np.concatenate([bundle.train.index, bundle.val.index])].to_numpy()}
    return {tuple(r) for r in frame.iloc[bundle.test.index].to_numpy()} - fitted


@pytest.mark.parametrize("name", ["train.csv", "shuffled.csv", "cut.csv"])
def test_test_split_of_any_file_is_its_held_out_rows(runs: dict[str, Any], name: str) -> None:
    from logitlab import workflows

    root = runs["root"]
    table = pd.read_csv(root / name)
    held = _held_out_values(runs)
    rows = np.flatnonzero([tuple(r) in held for r in table.to_numpy()])
    result = workflows.evaluate(root / "run", str(root / name))
    assert result["split"] == "test" and result["rows"] == len(rows)
    workflows.predict(root / "run", str(root / name), root / f"p-{name}")
    proba = pd.read_csv(root / f"p-{name}")["p_target"].to_numpy()
    truth = table["target"].to_numpy()
    # predict writes %.6g: the metrics of rows this close agree to far better than 1e-3
    assert result["metrics"]["average_precision"] == pytest.approx(
        average_precision_score(truth[rows], proba[rows]), abs=2e-3
    )
    assert result["metrics"]["roc_auc"] == pytest.approx(roc_auc_score(truth[rows], proba[rows]), abs=2e-3)
    if name == "cut.csv":  # 200 rows gone: fewer test rows, never a training row in their place
        assert 0 < len(rows) < 90
        assert any("not the training file" in n for n in result["notes"])
    else:
        assert len(rows) == 90
    config = json.loads((root / "run" / "config.json").read_text())
    if name == "shuffled.csv":  # the same rows as train's own headline, in another order
        assert result["metrics"]["average_precision"] == pytest.approx(
            config["test_metrics"]["average_precision"], abs=1e-9
        )


def test_a_file_without_held_out_rows_is_refused_with_split_all(runs: dict[str, Any]) -> None:
    from logitlab import workflows

    root = runs["root"]
    with pytest.raises(DataError, match="None of the 600 rows of .*scaled.csv") as err:
        workflows.evaluate(root / "run", str(root / "scaled.csv"))
    assert err.value.code == "test-rows-unknown" and "split='all'" in (err.value.fix or "")
    assert workflows.evaluate(root / "run", str(root / "scaled.csv"), split="all")["rows"] == 600


def test_a_run_without_a_test_split_has_none_to_evaluate_and_says_its_headline_is_validation(
    runs: dict[str, Any],
) -> None:
    from logitlab import workflows

    root = runs["root"]
    with pytest.raises(DataError, match="test_size=0: it has no test split") as err:
        workflows.evaluate(root / "notest", str(root / "train.csv"))
    assert err.value.code == "no-test-split"
    config = json.loads((root / "notest" / "config.json").read_text())
    assert config["load"]["test_size"] == 0.0 and config["split"]["test_size"] == 0.0
    assert config["metrics_split"] == "validation" and "test_metrics" not in config
    headline = [line for line in runs["lines"]["novalid"] if line.startswith("validation (")]
    assert headline and "not held out" in headline[0]
    assert any(line.startswith("test (90 rows, held out)") for line in runs["lines"]["run"])
    assert workflows.evaluate(root / "notest", str(root / "train.csv"), split="all")["rows"] == 600
