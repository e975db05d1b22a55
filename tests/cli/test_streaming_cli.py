"""``logitlab train 'data/*.parquet' --target y --streaming``, then ``evaluate``, against an in-memory oracle.

The test rows are the ones the hash split picks (computed here from the row ids); the saved model,
loaded and run on those rows read whole with pandas, must give the ROC AUC (scikit-learn) the run reported.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from logitlab import Classifier
from logitlab.cli import main
from logitlab.data.streaming.hashing import TEST, HashSplit
from tests.train import _stream_script


def test_train_streaming_glob_then_evaluate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _stream_script.write_data(tmp_path / "data")
    run = tmp_path / "run"
    args = ["train", str(data / "*.parquet"), "--target", "y", "--streaming", "--epochs", "1"]
    assert main([*args, "--device", "cpu", "--quiet", "--seed", "0", "--out", str(run)]) == 0
    printed = capsys.readouterr().out
    assert "streaming: 960 rows in 3 parquet file(s)" in printed
    config = json.loads((run / "config.json").read_text())
    assert config["load"]["streaming"] is True

    frame = pd.concat([pd.read_parquet(p) for p in sorted(data.glob("*.parquet"))], ignore_index=True)
    test = frame[HashSplit(0.15, 0.15, 0).assign(np.arange(len(frame))) == TEST]
    assert config["test_metrics"]["n"] == len(test)
    clf = Classifier.load(run)
    proba = clf.predict_proba(test.drop(columns=["y"]))[:, 1]
    assert config["test_metrics"]["roc_auc"] == pytest.approx(roc_auc_score(test["y"], proba), abs=1e-6)

    assert main(["evaluate", str(run), str(data / "*.parquet"), "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["roc_auc"] == pytest.approx(config["test_metrics"]["roc_auc"], abs=1e-9)
