"""Fit time of ``Classifier()`` (the defaults: ``cv="auto"``, ``model="auto"``) on 10,000 rows x 50 columns, one CPU thread.

Issue 22's bar: <= 60 s. Synthetic numeric tables (a fixed draw): a linear signal in 10 of the 50 columns plus a
non-linear term, the label at a chosen positive rate (``binary3``: 3 % positives, ``binary50``: balanced) or
five classes (``multiclass5``). Each case is fitted ``--repeats`` times (the same data and seed; the first fit
of the process is preceded by an untimed warm-up on 200 rows, so imports and first-call costs are not timed).
Reported per case: wall seconds (median, min, max), CPU seconds of this process (``time.process_time``; on a
shared machine the wall time is inflated by other load, the CPU time of one thread much less so), the
1-minute load average before and after, and what the fit decided (cross-fitting or not, the model family
``model="auto"`` kept, epochs).

Run: OMP_NUM_THREADS=1 nice -n 5 python -m benchmarks.fit_time [--cases binary3,binary50,multiclass5]
     [--repeats 3] [--rows 10000] [--cols 50] [--out .bench-out/fit_time.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

CASES = ("binary3", "binary50", "multiclass5")


def make_table(case: str, rows: int, cols: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A fixed synthetic table for ``case``: features (float32) and labels (int64)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, cols)).astype(np.float32)
    w = np.zeros(cols)
    w[:10] = rng.normal(size=10)
    score = X @ w + 0.5 * np.sin(2 * X[:, 10]) * X[:, 11] + 0.5 * rng.normal(size=rows)
    if case == "multiclass5":
        y = np.digitize(score, np.quantile(score, [0.4, 0.65, 0.85, 0.95]))
    else:
        rate = 0.03 if case == "binary3" else 0.5
        y = (score > np.quantile(score, 1 - rate)).astype(np.int64)
    return X, y.astype(np.int64)


def _decided(clf: Any) -> dict[str, Any]:
    dec = getattr(clf, "decisions_", None) or {}
    model = dec.get("model")
    cv = dec.get("cv")
    epochs = dec.get("best_epoch")
    return {
        "model": model.get("chosen") if isinstance(model, dict) else model,
        "model_reason": model.get("reason") if isinstance(model, dict) else None,
        "cv": cv.get("folds") if isinstance(cv, dict) else cv,
        "cv_reason": cv.get("reason") if isinstance(cv, dict) else None,
        "epochs": epochs,
    }


def fit_once(X: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    from logitlab import Classifier

    clf = Classifier(random_state=0)
    load0 = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    clf.fit(X, y)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "load_before": load0,
        "load_after": os.getloadavg()[0],
        **_decided(clf),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", default=",".join(CASES), help=f"comma list of {list(CASES)}")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--rows", type=int, default=10_000)
    p.add_argument("--cols", type=int, default=50)
    p.add_argument("--out", default=".bench-out/fit_time.json")
    args = p.parse_args(argv)
    import logging
    import warnings

    import torch
    from threadpoolctl import threadpool_limits

    warnings.filterwarnings("ignore")
    logging.getLogger("logitlab").setLevel(logging.ERROR)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    torch.set_num_threads(1)
    threadpool_limits(1)
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    bad = sorted(set(cases) - set(CASES))
    if bad:
        p.error(f"unknown case(s) {bad}; choose from {list(CASES)}")
    fit_once(*make_table("binary50", 200, args.cols))  # warm-up, not timed
    results: dict[str, Any] = {}
    for case in cases:
        X, y = make_table(case, args.rows, args.cols)
        runs = []
        for i in range(args.repeats):
            run = fit_once(X, y)
            runs.append(run)
            print(
                f"{case} {i + 1}/{args.repeats}: wall {run['wall_s']:.1f} s, cpu {run['cpu_s']:.1f} s, "
                f"load {run['load_before']:.2f}->{run['load_after']:.2f}, model {run['model']}, cv {run['cv']}",
                flush=True,
            )
        walls = [r["wall_s"] for r in runs]
        cpus = [r["cpu_s"] for r in runs]
        results[case] = {
            "rows": args.rows,
            "cols": args.cols,
            "positives": float(np.mean(y == 1)) if case != "multiclass5" else None,
            "wall_median_s": statistics.median(walls),
            "wall_min_s": min(walls),
            "wall_max_s": max(walls),
            "cpu_median_s": statistics.median(cpus),
            "runs": runs,
        }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1, default=str))
    print("\n| case | rows x cols | wall s (median, min-max) | CPU s (median) | load avg (1 min) | chose |")
    print("|:--|--:|--:|--:|--:|:--|")
    for case, r in results.items():
        loads = [x["load_before"] for x in r["runs"]] + [x["load_after"] for x in r["runs"]]
        chose = sorted({f"{x['model']}, cv {x['cv']}" for x in r["runs"]})
        print(
            f"| {case} | {r['rows']:,} x {r['cols']} | {r['wall_median_s']:.1f} ({r['wall_min_s']:.1f}-"
            f"{r['wall_max_s']:.1f}) | {r['cpu_median_s']:.1f} | {min(loads):.2f}-{max(loads):.2f} | "
            f"{'; '.join(chose)} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
