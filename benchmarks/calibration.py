"""Calibration on real tables: logitlab's probabilities before and after its default map, next to the peers.

One ``Classifier()`` fit per split gives both columns: ``logitlab-raw`` is the task's activation of the raw
logits (what ``predict_proba`` returned before calibration existed), ``logitlab`` is ``predict_proba`` with the
default ``calibration="auto"`` fitted on the validation split. Decisions are the same by construction
(``predict`` is unchanged by the map), so F1 / AP / accuracy are reported once, and checked equal. The peers
are HistGradientBoosting and a scaled, balanced LogisticRegression on the same stratified 70/30 splits
(``benchmarks.tabular``). ECE has 15 equal-width bins (multiclass: of the top-class confidence).

Run: python -m benchmarks.calibration [--sets a,b] [--seeds 0,1,2] [--out .bench-out/calibration.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.datasets_tabular import load
from benchmarks.tabular import split
from benchmarks.tabular_metrics import score
from benchmarks.tabular_models import fit_predict

SETS = ("default", "hmda", "nasscds", "shuttle", "caravan", "penguins", "chile", "yeast")
PEERS = ("hgb", "logreg")
SHOWN = ("ece", "brier", "log_loss")


def _logitlab(table: Any, seed: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Raw and calibrated scores of one Classifier() fit."""
    from logitlab import Classifier

    train, test = split(table, seed)
    X_train, X_test = table.X.iloc[train].reset_index(drop=True), table.X.iloc[test].reset_index(drop=True)
    y_test = table.y[test]
    classes = np.unique(table.y) if table.task == "multiclass" else None
    clf = Classifier(random_state=seed).fit(X_train, table.y[train])
    out = clf.outputs(X_test)
    z = out.logits.double()
    raw = (z.softmax(1) if table.task == "multiclass" else z.sigmoid()).numpy()
    cal = out.proba
    pred = out.labels
    if table.task == "binary":
        raw, cal, pred = raw[:, 0], cal[:, 1], np.asarray(pred).astype(int)
    assert np.array_equal(pred, clf.predict(X_test)), "calibration must not change a decision"
    return score(table.task, y_test, raw, pred, classes), score(table.task, y_test, cal, pred, classes)


def run(sets: list[str], seeds: list[int]) -> list[dict[str, Any]]:
    records = []
    for name in sets:
        table = load(name)
        for seed in seeds:
            start = time.perf_counter()
            raw, cal = _logitlab(table, seed)
            records += [
                {"set": name, "task": table.task, "seed": seed, "model": "logitlab-raw", "metrics": raw},
                {"set": name, "task": table.task, "seed": seed, "model": "logitlab", "metrics": cal},
            ]
            for peer in PEERS:
                train, test = split(table, seed)
                classes = np.unique(table.y) if table.task == "multiclass" else None
                proba, pred, _, _ = fit_predict(
                    peer,
                    table.X.iloc[train].reset_index(drop=True),
                    table.y[train],
                    table.X.iloc[test].reset_index(drop=True),
                    task=table.task,
                    classes=classes,
                    seed=seed,
                    params=None,
                )
                metrics = score(table.task, table.y[test], proba, pred, classes)
                records.append(
                    {"set": name, "task": table.task, "seed": seed, "model": peer, "metrics": metrics}
                )
            print(f"{name} seed {seed}: {time.perf_counter() - start:.0f} s", flush=True)
    return records


def markdown(records: list[dict[str, Any]]) -> str:
    """One row per set: ECE / Brier / log-loss (mean over seeds) per model, and the decision metric."""
    models = ("logitlab-raw", "logitlab", *PEERS)
    head = (
        "| set | task | "
        + " | ".join(f"ECE {m}" for m in models)
        + " | Brier raw -> cal | log-loss raw -> cal | main metric (logitlab) |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for name in dict.fromkeys(r["set"] for r in records):
        rows = [r for r in records if r["set"] == name]
        task = rows[0]["task"]

        def mean(model: str, key: str, rows: list[dict[str, Any]] = rows) -> float:
            return float(np.mean([r["metrics"][key] for r in rows if r["model"] == model]))

        main = {"binary": "ap", "multiclass": "accuracy", "multilabel": "macro_f1"}[task]
        ece = " | ".join(f"{mean(m, 'ece'):.3f}" for m in models)
        lines.append(
            f"| {name} | {task} | {ece} | {mean('logitlab-raw', 'brier'):.4f} -> {mean('logitlab', 'brier'):.4f} | "
            f"{mean('logitlab-raw', 'log_loss'):.3f} -> {mean('logitlab', 'log_loss'):.3f} | "
            f"{main} {mean('logitlab', main):.3f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--out", default=".bench-out/calibration.json")
    args = parser.parse_args(argv)
    records = run(args.sets.split(","), [int(s) for s in args.seeds.split(",")])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(records, indent=1))
    print(markdown(records))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
