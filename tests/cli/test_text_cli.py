"""The CLI end to end on a CSV with a text column and a label column of JSON lists."""

import json

import numpy as np
import pandas as pd
import pytest

from tests.helpers import run_cli

TOPICS = {
    "sports": "ball goal team match score player win league".split(),
    "tech": "code python cpu software data model chip server".split(),
    "news": "today report said minister city people year vote".split(),
}


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


@pytest.mark.slow  # trains, then five commands on the run (in this process, through cli.main)
def test_train_evaluate_predict_doctor_report_export_on_text(tmp_path):
    _write(tmp_path / "docs.csv")
    train = run_cli("train", "docs.csv", "--target", "tags", "--id-column", "id", "--epochs", "3", "--out", "run",
                 cwd=tmp_path)  # fmt: skip
    assert train.returncode == 0, train.stderr
    assert "read as free text" in train.stdout and "model: sparse" in train.stdout
    assert "label lists written as list literals" in train.stdout
    assert (tmp_path / "run" / "report.html").is_file()
    meta = json.loads((tmp_path / "run" / "model.json").read_text())
    assert meta["preprocessing"]["preprocessor"]["type"] == "text_table"
    evaluate = run_cli("evaluate", "run", "docs.csv", cwd=tmp_path)
    assert evaluate.returncode == 0, evaluate.stderr
    assert "news, sports, tech" in evaluate.stdout
    predict = run_cli("predict", "run", "docs.csv", "--out", "p.csv", cwd=tmp_path)
    assert predict.returncode == 0, predict.stderr
    out = pd.read_csv(tmp_path / "p.csv")
    assert list(out["id"][:2]) == ["doc0", "doc1"] and {"p_news", "p_sports", "p_tech"} <= set(out.columns)
    doctor = run_cli("doctor", "docs.csv", "--target", "tags", "--text", "none", cwd=tmp_path)
    assert "text-read-as-category" in doctor.stdout, doctor.stdout + doctor.stderr
    export = run_cli("export", "run", "--format", "onnx", "--out", "serving", cwd=tmp_path)
    assert export.returncode == 2 and "no ONNX form" in export.stderr and "Traceback" not in export.stderr
