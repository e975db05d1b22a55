"""Start-up: a command imports only what it needs (timings: ``benchmarks/import_time.py``).

Predicting with a saved table run must not import torchvision, ``torch._dynamo``, matplotlib, torchmetrics,
transformers or tokenizers (used only by ``model="hf:..."``) or scikit-learn (together they cost more than
``import torch``); evaluating one, or the doctor on a table, none of them either (the split is scikit-learn's
draw, made by ``data/shuffle_split`` without importing it). The check runs the real command in a fresh interpreter and reads
``sys.modules`` after it, so any eager import anywhere on the path fails it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "saved_2770bf6"
SRC = str(Path(__file__).resolve().parents[2] / "src")
HEAVY = (
    "torchvision",
    "torch._dynamo",
    "matplotlib",
    "torchmetrics",
    "sklearn",
    "scipy.stats",
    "transformers",
    "tokenizers",
)

PROBE = """
import json, sys
from logitlab.cli import main
heavy = sys.argv[1].split(",")
code = main(sys.argv[2:])
print(json.dumps({"code": code, "loaded": sorted(m for m in heavy if m in sys.modules)}))
"""


def _run_probe(*argv: str) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": SRC}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(HEAVY), *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_predict_with_a_saved_table_run_imports_no_heavy_module(tmp_path):
    dest = tmp_path / "scores.csv"
    res = _run_probe("predict", str(FIXTURES / "binary"), str(FIXTURES / "inputs.csv"), "--out", str(dest))
    assert res["code"] == 0
    assert dest.read_text().count("\n") == 41  # header + the 40 rows: the command really predicted
    assert res["loaded"] == []


@pytest.mark.slow
def test_evaluate_and_doctor_of_a_table_import_no_heavy_module():
    # a CLI table run (tests/fixtures/evaluate_run/make.py) scored on its own data (the held-out test split),
    # then the doctor on that table, in one interpreter: sys.modules after both
    run = Path(__file__).resolve().parents[1] / "fixtures" / "evaluate_run"
    data = str(run / "data.csv")
    probe = PROBE.replace("code = main(sys.argv[2:])", "code = main(sys.argv[2:5]) + main(sys.argv[5:])")
    assert probe != PROBE
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": SRC}
    argv = [",".join(HEAVY), "evaluate", str(run / "run"), data, "doctor", data, "--target", "y"]
    out = subprocess.run(
        [sys.executable, "-c", probe, *argv], capture_output=True, text=True, env=env, timeout=240
    )
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["code"] == 0 and "== dataset" in out.stdout, out.stdout[-500:]  # both commands ran
    assert res["loaded"] == [], res  # the split is scikit-learn's draw, made without importing it


@pytest.mark.slow
def test_the_probe_sees_an_import_when_one_happens(tmp_path):
    # the same probe around a command that draws a figure: it must report matplotlib, or the test above could
    # pass by reading sys.modules wrongly
    res = _run_probe("plot-loss", "--loss", "bce", "--out", str(tmp_path / "bce.png"))
    assert res["code"] == 0 and "matplotlib" in res["loaded"]


def test_refusing_an_existing_run_directory_imports_no_torch(tmp_path):
    (tmp_path / "model.json").write_text("{}")  # a run lives here
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": SRC}
    probe = PROBE.replace("heavy = sys.argv[1]", "heavy = ['torch']; _ = sys.argv[1]")
    out = subprocess.run(
        [sys.executable, "-c", probe, "", "train", "builtin:breast_cancer", "--out", str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res == {"code": 2, "loaded": []}, out.stderr
    assert "--overwrite" in out.stderr
