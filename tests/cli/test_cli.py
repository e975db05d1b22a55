"""The `logitlab` command line end to end: train -> evaluate -> predict per task.

Most commands run in this process through ``cli.main`` (``run_cli``); ``python -m logitlab`` itself, in a
subprocess, trains, evaluates and predicts once (binary) and answers one bad input with exit 2.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.helpers import run_cli

SRC = str(Path(__file__).resolve().parents[2] / "src")  # this checkout's code, whatever the subprocess's cwd
ENV = {
    **os.environ,
    "OMP_NUM_THREADS": "1",
    "PYTHONWARNINGS": "ignore",
    "PYTHONPATH": os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH", "")) if p),
}


def _subprocess_cli(*args, cwd=None, timeout=240):
    return subprocess.run(
        [sys.executable, "-m", "logitlab", *map(str, args)],
        capture_output=True, text=True, env=ENV, cwd=cwd, timeout=timeout,
    )  # fmt: skip


def test_help_is_fast_and_lists_every_command():
    out = _subprocess_cli("--help")
    assert out.returncode == 0, out.stderr
    for command in ("demo", "train", "evaluate", "predict", "doctor", "plot-loss"):
        assert command in out.stdout
    # the time is measured by benchmarks/import_time.py (not here: a timed test fails under load); this
    # guards what makes it fast, that building the parser imports no torch
    probe = "import sys, logitlab.cli; logitlab.cli.build_parser(); print('torch' in sys.modules)"
    assert (
        subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.strip()
        == "False"
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("spec", "task"),
    [
        ("builtin:breast_cancer", "binary"),
        ("builtin:digits-attributes", "multilabel"),
        ("builtin:digits", "multiclass"),
    ],
)
def test_train_evaluate_predict(tmp_path, spec, task):
    from logitlab import Classifier
    from logitlab.data import load_inputs

    # the entry point once, end to end, on the default (cross-fitted: under 2,000 rows) path; the other tasks
    # in this process on one validation split (cross-fitting has its own tests: five fits each here)
    cli, split = (_subprocess_cli, []) if task == "binary" else (run_cli, ["--cv", "1"])
    run = tmp_path / "run"
    out = cli("train", spec, "--epochs", 3, "--out", run, "--quiet", "--device", "cpu", *split)
    assert out.returncode == 0, out.stderr
    assert f"task: {task}" in out.stdout and "loss:" in out.stdout and "thresholds:" in out.stdout
    for name in ("config.json", "model.safetensors", "model.json", "metrics.csv", "report.html"):
        assert (run / name).is_file(), name
    config = json.loads((run / "config.json").read_text())
    assert config["data"] == spec and config["classifier"]["epochs"] == 3
    page = (run / "report.html").read_text()
    for section in (
        'id="decisions"',
        'id="doctor"',
        'id="metrics"',
        'id="plot-loss_curves"',
        'id="plot-pr_curves"',
    ):
        assert section in page, section

    ev = cli("evaluate", run, spec, "--json")
    assert ev.returncode == 0, ev.stderr
    metrics = json.loads(ev.stdout)
    # the test split is the same seeded split train used: the numbers agree with config.json
    key = {"binary": "roc_auc", "multilabel": "f1_macro", "multiclass": "accuracy"}[task]
    assert metrics[key] == pytest.approx(config["test_metrics"][key], abs=1e-6)

    pred = cli("predict", run, spec, "--out", tmp_path / "p.csv")
    assert pred.returncode == 0, pred.stderr
    table = pd.read_csv(tmp_path / "p.csv")
    clf = Classifier.load(run)
    inputs = load_inputs(spec, clf.data_state_)
    proba = clf.predict_proba(inputs)
    p_cols = [c for c in table.columns if c.startswith("p_")]
    expected = proba[:, 1:] if task == "binary" else proba
    np.testing.assert_allclose(table[p_cols].to_numpy(), expected, rtol=1e-5, atol=1e-6)
    if task == "multilabel":
        np.testing.assert_array_equal(table[[c[2:] for c in p_cols]].to_numpy(), clf.predict(inputs))
    else:
        assert [str(v) for v in table["prediction"]] == [str(v) for v in clf.predict(inputs)]


def test_bad_csv_row_fails_with_the_line_number_and_exit_2(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=40).round(3), "b": rng.normal(size=40).round(3)})
    frame["label"] = np.where(frame["a"] > 0, "yes", "no")
    frame = frame.astype(object)
    frame.loc[6, "a"] = "twelve"  # data row 6 is line 8 of the file (line 1 is the header)
    frame.to_csv(tmp_path / "bad.csv", index=False)
    out = run_cli("train", tmp_path / "bad.csv", "--target", "label", "--epochs", 1, "--out", tmp_path / "r")
    assert out.returncode == 2
    assert "line 8" in out.stderr and "Traceback" not in out.stderr
    assert "Fix:" in out.stderr


@pytest.mark.slow
def test_unknown_option_values_are_one_paragraph_errors(tmp_path):
    out = _subprocess_cli("plot-loss", "--loss", "no-such-loss", "--out", tmp_path / "x.png")
    assert out.returncode == 2 and "Traceback" not in out.stderr and "no-such-loss" in out.stderr
    missing = run_cli("evaluate", tmp_path / "nothing", "builtin:digits")
    assert missing.returncode == 2 and "ModelFileError" in missing.stderr


def test_plot_loss_writes_a_png(tmp_path):
    out = run_cli("plot-loss", "--loss", "focal", "--gamma", 2, "--out", tmp_path / "focal.png")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "focal.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_doctor_reports_findings_and_its_exit_code_follows_them(tmp_path):
    ok = run_cli("doctor", "builtin:breast_cancer")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=60), "tag_a": (rng.random(60) < 0.5).astype(int), "tag_b": 0})
    frame.to_csv(tmp_path / "tags.csv", index=False)
    out = run_cli("doctor", tmp_path / "tags.csv", "--target", "tag_a", "--target", "tag_b", "--json")
    reports = json.loads(out.stdout)
    findings = [f for r in reports.values() for f in r["findings"]]
    never_positive = [f for f in findings if f["code"] == "empty-label"]
    assert never_positive and "tag_b" in never_positive[0]["message"]
    has_error = any(f["severity"] == "error" for f in findings)
    assert out.returncode == (1 if has_error else 0), out.stderr


@pytest.mark.slow
@pytest.mark.distributed
def test_train_under_torchrun_writes_one_run_directory(tmp_path):
    run = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    cmd += ["-m", "logitlab", "train", "builtin:breast_cancer", "--epochs", "3", "--out", str(run)]
    cmd += ["--device", "cpu", "--quiet"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=ENV)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.count("data: builtin:breast_cancer") == 1  # rank 0 speaks, once
    assert out.stdout.count("run directory:") == 1
    for name in ("config.json", "model.safetensors", "model.json", "metrics.csv", "report.html"):
        assert (run / name).is_file(), name
    assert len((run / "metrics.csv").read_text().splitlines()) == 1 + 3  # header + one row per epoch
    from sklearn.metrics import roc_auc_score

    from logitlab import Classifier
    from logitlab.data import load_dataset

    clf = Classifier.load(run)
    test = load_dataset("builtin:breast_cancer", seed=0).test
    auc = roc_auc_score(test.y.numpy().reshape(-1), clf.predict_proba(test)[:, 1])
    config = json.loads((run / "config.json").read_text())
    assert auc == pytest.approx(config["test_metrics"]["roc_auc"], abs=1e-6) and auc > 0.9
