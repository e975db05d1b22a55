"""One epoch numbering, counted from 1 as the progress lines print it, everywhere a run shows an epoch."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from logitlab import Classifier
from logitlab.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "saved_2770bf6"


def test_cli_model_json_metrics_csv_and_report_agree_on_the_best_epoch(tmp_path, capsys):
    out = tmp_path / "run"
    args = [
        "train",
        "builtin:breast_cancer",
        "--epochs",
        "5",
        "--lr",
        "0.05",
        "--out",
        str(out),
        "--device",
        "cpu",
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    progress = [int(n) for n in re.findall(r"^epoch (\d+)/5", printed, flags=re.M)]
    assert progress == [1, 2, 3, 4, 5]
    cli_best, ran = map(int, re.search(r"^best epoch: (\d+) of (\d+)", printed, flags=re.M).groups())
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert [int(r["epoch"]) for r in rows] == progress[:ran]
    # the independent reference: the metrics.csv row with the lowest validation loss
    lowest = min(rows, key=lambda r: float(r["val_loss"]))
    assert cli_best == int(lowest["epoch"])
    decisions = json.loads((out / "model.json").read_text())["decisions"]
    assert decisions["best_epoch"] == cli_best and decisions["epochs_count_from"] == 1
    report = (out / "report.html").read_text()
    assert f"weights of epoch {cli_best}" in report
    assert Classifier.load(out).decisions_["best_epoch"] == cli_best  # a new file is not shifted again


def test_a_run_saved_when_epochs_counted_from_zero_loads_with_them_counted_from_one():
    for task in ("binary", "multiclass"):
        saved = json.loads((FIXTURES / task / "model.json").read_text())["decisions"]
        assert "epochs_count_from" not in saved  # written by 2770bf6, 0-based
        clf = Classifier.load(FIXTURES / task)
        assert clf.decisions_["best_epoch"] == saved["best_epoch"] + 1
        assert clf.decisions_["epochs_count_from"] == 1
