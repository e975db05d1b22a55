"""The CLI end to end on a CSV with a text column and a label column of JSON lists."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore",
       "PYTHONPATH": os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH", "")) if p)}  # fmt: skip
TOPICS = {
    "sports": "ball goal team match score player win league".split(),
    "tech": "code python cpu software data model chip server".split(),
    "news": "today report said minister city people year vote".split(),
}


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "logitlab", *map(str, args)], capture_output=True, text=True,
                          env=ENV, cwd=cwd, timeout=240)  # fmt: skip


def _write(path, n=200):
    rng = np.random.default_rng(0)
    bodies, tags = [], []
    for _ in range(n):
        labels = [k for k in TOPICS if rng.random() < 0.4] or ["news"]
        words = [rng.choice(TOPICS[k]) for k in labels for _ in range(4)] + list(
            rng.choice(["the", "a", "of"], 4)
        )
        rng.shuffle(words)
        bodies.append(" ".join(words))
        tags.append(json.dumps(labels))
    ids = [f"doc{i}" for i in range(n)]
    pd.DataFrame({"id": ids, "body": bodies, "price": rng.normal(size=n), "tags": tags}).to_csv(
        path, index=False
    )


@pytest.mark.slow  # six subprocesses, each importing torch
def test_train_evaluate_predict_doctor_report_export_on_text(tmp_path):
    _write(tmp_path / "docs.csv")
    train = _cli("train", "docs.csv", "--target", "tags", "--id-column", "id", "--epochs", "3", "--out", "run",
                 cwd=tmp_path)  # fmt: skip
    assert train.returncode == 0, train.stderr
    assert "read as free text" in train.stdout and "model: sparse" in train.stdout
    assert "label lists written as list literals" in train.stdout
    assert (tmp_path / "run" / "report.html").is_file()
    meta = json.loads((tmp_path / "run" / "model.json").read_text())
    assert meta["preprocessing"]["preprocessor"]["type"] == "text_table"
    evaluate = _cli("evaluate", "run", "docs.csv", cwd=tmp_path)
    assert evaluate.returncode == 0, evaluate.stderr
    assert "news, sports, tech" in evaluate.stdout
    predict = _cli("predict", "run", "docs.csv", "--out", "p.csv", cwd=tmp_path)
    assert predict.returncode == 0, predict.stderr
    out = pd.read_csv(tmp_path / "p.csv")
    assert list(out["id"][:2]) == ["doc0", "doc1"] and {"p_news", "p_sports", "p_tech"} <= set(out.columns)
    doctor = _cli("doctor", "docs.csv", "--target", "tags", "--text", "none", cwd=tmp_path)
    assert "text-read-as-category" in doctor.stdout, doctor.stdout + doctor.stderr
    export = _cli("export", "run", "--format", "onnx", "--out", "serving", cwd=tmp_path)
    assert export.returncode == 2 and "no ONNX form" in export.stderr and "Traceback" not in export.stderr
