"""What a trained run shows people: one epoch numbering (counted from 1, as the progress lines print it) in the
CLI, model.json, metrics.csv and the report; a report without Python reprs, read as text and in Chromium."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from logitlab import Classifier
from logitlab.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "saved_2770bf6"
REPR = re.compile(r"[\[\]{}]")  # a list or dict written out as Python prints it


class _Text(HTMLParser):
    """The text a reader sees: everything outside <style>, <script> and tags."""

    def __init__(self) -> None:
        super().__init__()
        self.depth, self.parts = 0, []

    def handle_starttag(self, tag, attrs):
        self.depth += tag in ("style", "script")

    def handle_endtag(self, tag):
        self.depth -= tag in ("style", "script")

    def handle_data(self, data):
        if not self.depth:
            self.parts.append(data)


def visible_text(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    return " ".join(parser.parts)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "bc"
    args = [
        "train",
        "builtin:breast_cancer",
        "--epochs",
        "5",
        "--lr",
        "0.05",
        "--cv",
        "1",
        "--out",
        str(out),
        "--device",
        "cpu",
    ]
    capture = pytest.MonkeyPatch()
    import io
    import sys

    buffer = io.StringIO()
    capture.setattr(sys, "stdout", buffer)
    try:
        assert main(args) == 0
    finally:
        capture.undo()
    return out, buffer.getvalue()


def test_cli_model_json_metrics_csv_and_report_agree_on_the_best_epoch(run):
    out, printed = run
    progress = [int(n) for n in re.findall(r"^epoch (\d+)/5", printed, flags=re.M)]
    assert progress == [1, 2, 3, 4, 5]
    cli_best, ran = map(int, re.search(r"^best epoch: (\d+) of (\d+)", printed, flags=re.M).groups())
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert [int(r["epoch"]) for r in rows] == progress[:ran]
    # the independent reference: the metrics.csv row with the lowest (unweighted) validation log-loss
    lowest = min(rows, key=lambda r: float(r["val_log_loss"]))
    assert cli_best == int(lowest["epoch"])
    decisions = json.loads((out / "model.json").read_text())["decisions"]
    assert decisions["best_epoch"] == cli_best and decisions["epochs_count_from"] == 1
    text = visible_text((out / "report.html").read_text())
    assert f"weights of epoch {cli_best}" in text and f"best epoch {cli_best} of {ran}" in text
    assert Classifier.load(out).decisions_["best_epoch"] == cli_best  # a new file is not shifted again


def test_a_run_saved_when_epochs_counted_from_zero_loads_with_them_counted_from_one():
    for task in ("binary", "multiclass"):
        saved = json.loads((FIXTURES / task / "model.json").read_text())["decisions"]
        assert "epochs_count_from" not in saved  # written by 2770bf6, 0-based
        clf = Classifier.load(FIXTURES / task)
        assert clf.decisions_["best_epoch"] == saved["best_epoch"] + 1
        assert clf.decisions_["epochs_count_from"] == 1


def test_the_report_reads_as_sentences_without_python_reprs(run):
    out, printed = run
    text = visible_text((out / "report.html").read_text())
    assert not REPR.search(text), REPR.search(text) and text[max(0, REPR.search(text).start() - 80) :][:160]
    for line in printed.splitlines():  # the decisions table holds the sentences the CLI printed
        if line.startswith(("weights: ", "calibration: ", "thresholds: ")):
            assert line.split(": ", 1)[1] in text
    # the calibration is judged on the test rows it was not fitted on, better or worse said in words
    held = re.search(
        r"\. On the 86 test rows, held out: log-loss ([\d.]+) -> ([\d.]+) with it \((\w+)\)\.", printed
    )
    assert held is not None
    before, after, verdict = float(held[1]), float(held[2]), held[3]
    assert verdict == ("better" if after < before else "worse" if after > before else "unchanged")
    # one validation split: the importance is measured on the validation rows, and the line says how many
    val_rows = int(re.search(r"train/val/test = \d+/(\d+)/86", printed)[1])
    assert f"drop when a column is shuffled, on the {val_rows} validation rows)" in printed
    assert "(top 5 of 30 input columns)" in printed


def test_the_binary_classification_report_has_both_rows_as_scikit_learn(run):
    from sklearn.metrics import precision_recall_fscore_support

    out, _ = run
    text = visible_text((out / "report.html").read_text())
    (tn, fp), (fn, tp) = _confusion(text)
    y = [0] * (tn + fp) + [1] * (fn + tp)
    pred = [0] * tn + [1] * fp + [0] * fn + [1] * tp
    p, r, f, s = precision_recall_fscore_support(y, pred)
    for name, j in (("benign", 0), ("malignant", 1)):
        row = re.search(rf"^\s*{name}\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)$", text, flags=re.M)
        assert row is not None, name
        assert [float(row[1]), float(row[2]), float(row[3])] == pytest.approx([p[j], r[j], f[j]], abs=6e-4)
        assert int(row[4]) == s[j]


def _confusion(text: str) -> list[list[int]]:
    m = re.search(
        r"true \\ predicted\s+benign\s+malignant\s+benign\s+(\d+)\s+(\d+)\s+malignant\s+(\d+)\s+(\d+)", text
    )
    assert m is not None
    return [[int(m[1]), int(m[2])], [int(m[3]), int(m[4])]]


@pytest.mark.slow
def test_the_report_rendered_by_chromium_has_no_python_reprs(run, tmp_path):
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    out, _ = run
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
           f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", (out / "report.html").as_uri()]  # fmt: skip
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    text = visible_text(dom.stdout)
    assert "Decisions" in text and "best epoch" in text  # the page rendered
    assert not REPR.search(text)


def test_a_cross_fitted_run_states_each_folds_best_epoch_alike_in_cli_model_json_and_report(tmp_path):
    import io
    import sys

    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(150, 4)), columns=list("abcd"))
    frame["y"] = (frame["a"] + 0.5 * rng.normal(size=150) > 0).astype(int)
    frame.to_csv(tmp_path / "t.csv", index=False)
    out, buffer = tmp_path / "run", io.StringIO()
    args = ["train", str(tmp_path / "t.csv"), "--target", "y", "--model", "mlp", "--cv", "3", "--epochs", "4"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "stdout", buffer)
        patch.setattr(
            "logitlab.report.plots.plot_all", lambda *a, **k: {}
        )  # the figures are not under test: 4/5 of the time
        assert main([*args, "--lr", "0.05", "--device", "cpu", "--out", str(out)]) == 0
    printed = buffer.getvalue()
    decisions = json.loads((out / "model.json").read_text())["decisions"]
    # the reference: each fold's own best epoch, from its history (fold 1 in metrics.csv, the others in members/)
    per_fold = []
    for k, folder in enumerate([out, out / "members" / "1", out / "members" / "2"]):
        rows = list(csv.DictReader((folder / "metrics.csv").open()))
        per_fold.append(int(min(rows, key=lambda r: float(r["val_log_loss"]))["epoch"]))
        assert decisions["members"][k]["best_epoch"] == per_fold[k]
    assert decisions["best_epochs"] == per_fold and decisions["best_epoch"] == per_fold[0]
    line = f"best epochs by fold: {', '.join(map(str, per_fold))} ("
    assert line in printed and "best epoch: " not in printed  # no single number standing for three folds
    text = visible_text((out / "report.html").read_text())
    assert line.replace(": ", " ", 1) in text and "show fold 1" in text
    ran = len(list(csv.DictReader((out / "metrics.csv").open())))
    assert re.search(rf"epochs: {ran}\b[^;]*, fold 1 of 3", text)  # the run's epochs line says whose they are
    # cross-fitted: every validation row trained all fold models but one, so the importance is on the test rows
    test_rows = int(re.search(r"train/val/test = \d+/\d+/(\d+)", printed)[1])
    assert f"drop when a column is shuffled, on the {test_rows} test rows)" in printed
    assert f"on {test_rows} test rows (rows the model did not train on)" in text


def test_a_text_run_refitted_on_its_validation_rows_measures_importance_on_the_test_rows(tmp_path):
    import numpy as np
    import pandas as pd

    from tests.helpers import run_cli

    rng = np.random.default_rng(0)
    vocab = {
        "a": ["plot", "axis", "figure"],
        "b": ["tensor", "grad", "layer"],
        "c": ["frame", "merge", "index"],
    }
    noise = sum(vocab.values(), [])
    tags = rng.choice(list(vocab), size=300)
    texts = [" ".join([*rng.choice(vocab[t], size=4), *rng.choice(noise, size=3)]) for t in tags]
    pd.DataFrame({"text": texts, "tag": tags}).to_csv(tmp_path / "t.csv", index=False)
    out = tmp_path / "run"
    done = run_cli("train", tmp_path / "t.csv", "--target", "tag", "--device", "cpu", "--out", out)
    assert done.returncode == 0, done.stderr
    decisions = json.loads((out / "model.json").read_text())["decisions"]
    sizes = re.search(r"train/val/test = (\d+)/(\d+)/(\d+)", done.stdout)
    train, val, test = (int(v) for v in sizes.groups())
    # the sparse linear model was fitted again on the training and validation rows: those are not held out
    assert decisions["cv"]["refitted_rows"] == train + val
    assert f"fitted again on all {train + val} training and validation rows" in done.stdout
    assert f"drop when a column is shuffled, on the {test} test rows)" in done.stdout
