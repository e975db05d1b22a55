"""Real tables: ``logitlab.Classifier()`` defaults against LogisticRegression, HistGradientBoosting, RealMLP-TD, TabM-D.

Thirteen real data sets that install with their packages (benchmarks.datasets_tabular: binary with 2-12%
positives, small and large multiclass, multilabel; heavy-tailed numerics, categoricals, NaN). For each split
seed: a stratified 30% test split (multilabel: logitlab.data.iterative_stratification), every model fitted on
the other 70% (each holds out its own validation rows from them, if it wants any), scored on the test rows
(benchmarks.tabular_metrics: task metrics, ECE/Brier/log-loss, fit seconds), then mean ± std over seeds and
the mean rank per model per metric.

Fairness: everything on the CPU with one thread (``OMP_NUM_THREADS=1``, ``torch.set_num_threads(1)``,
threadpoolctl for BLAS/OpenMP, pytabkit ``n_threads=1``); the fit seconds are wall time on a machine that
may be shared, so compare them within one run.

Each (set, seed, model) result is cached as JSON under ``--cache`` (default ``.bench-out/tabular-cache``), so
an interrupted or extended run computes only what is missing; ``--refresh`` recomputes. The run order is cheap
models first (``--models`` order for each set and seed, models outer), so a partial run already has a table.

Cost: the pytabkit models dominate. On one (shared) core a RealMLP-TD fit takes 1-5 min on the 3500-row
binary sets and 10-20 min on the multilabel sets (one model per label), TabM-D 5-10 min per set; the other
models take seconds. A full run (13 sets x 3 seeds x 5 models) is several hours on a 2-core machine: run it
in the background, or model by model (``--models``), the cache joining the pieces.

Run: OMP_NUM_THREADS=1 nice -n 10 python -m benchmarks.tabular [--sets caravan,wine] [--seeds 0,1,2]
     [--models logitlab,logreg,hgb,realmlp,tabm] [--out .bench-out/tabular.json] [--markdown FILE]
     [--logitlab-params '{"epochs": 60}' --tag NAME]   (a variant of the logitlab defaults, cached as NAME)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.datasets_tabular import SETS, Table, load
from benchmarks.tabular_metrics import markdown, score
from benchmarks.tabular_models import MODELS, fit_predict

TEST_SIZE = 0.3


def split(table: Table, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and test row positions: stratified 70/30 (multilabel: iterative stratification)."""
    if table.task == "multilabel":
        from logitlab.data import iterative_stratification

        train, test = iterative_stratification(table.y, [1 - TEST_SIZE, TEST_SIZE], seed=seed)
        return np.asarray(train), np.asarray(test)
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(table.y))
    train, test = train_test_split(idx, test_size=TEST_SIZE, stratify=table.y, random_state=seed)
    return np.sort(train), np.sort(test)


def logitlab_revision() -> str:
    """Where the measured logitlab came from: its git commit (``+dirty`` with uncommitted changes to src)."""
    import subprocess

    import logitlab

    root = Path(logitlab.__file__).resolve().parents[2]
    if (root / "REVISION").exists():  # an exported snapshot
        return (root / "REVISION").read_text().strip()

    def git(*args: str) -> str:
        out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
        return out.stdout.strip() if out.returncode == 0 else ""

    rev = git("rev-parse", "--short", "HEAD") or "unknown"
    return rev + ("+dirty" if git("status", "--porcelain", "src") else "")


def run_one(table: Table, seed: int, model: str, params: dict[str, Any] | None) -> dict[str, Any]:
    """Fit and score one model on one split; the record that is cached."""
    train, test = split(table, seed)
    classes = np.unique(table.y) if table.task == "multiclass" else None
    X_train, X_test = table.X.iloc[train].reset_index(drop=True), table.X.iloc[test].reset_index(drop=True)
    proba, pred, fit_s, predict_s = fit_predict(
        model,
        X_train,
        table.y[train],
        X_test,
        task=table.task,
        classes=classes,
        seed=seed,
        params=params,
    )
    return {
        "set": table.name,
        "task": table.task,
        "source": table.source,
        "seed": seed,
        "model": model,
        "n_train": len(train),
        "n_test": len(test),
        "fit_s": fit_s,
        "predict_s": predict_s,
        "metrics": score(table.task, table.y[test], proba, pred, classes),
        "logitlab": logitlab_revision() if model == "logitlab" else None,
    }


def _limit_threads() -> None:
    import torch
    from threadpoolctl import threadpool_limits

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    torch.set_num_threads(1)
    threadpool_limits(1)


def warm_up(model: str, params: dict[str, Any] | None) -> None:
    """One untimed fit on a tiny synthetic table, so that first-call costs (imports, kernels) are not timed."""
    import pandas as pd

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=120), "b": pd.Categorical(rng.choice(["u", "v"], size=120))})
    y = (X["a"] > 0).to_numpy().astype(np.int64)
    fit_predict(model, X, y, X, task="binary", classes=None, seed=0, params=params)


def _quiet() -> None:
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    for name in ("lightning", "pytorch_lightning", "lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)


def run(
    sets: list[str],
    seeds: list[int],
    models: list[str],
    cache: Path,
    *,
    refresh: bool = False,
    params: dict[str, Any] | None = None,
    tag: str | None = None,
) -> list[dict[str, Any]]:
    """Every (set, seed, model) record, computed when not cached; failures are reported and skipped."""
    from logitlab.files import write_json_atomic

    records: list[dict[str, Any]] = []
    tables: dict[str, Table] = {}
    for model in models:
        label = tag if (model == "logitlab" and tag) else model
        warm = False
        for name in sets:
            for seed in seeds:
                path = cache / name / f"seed{seed}" / f"{label}.json"
                if path.exists() and not refresh:
                    records.append(json.loads(path.read_text()))
                    continue
                if not warm:
                    warm_up(model, params if model == "logitlab" else None)
                    warm = True
                table = tables.get(name) or tables.setdefault(name, load(name))
                try:
                    rec = run_one(table, seed, model, params if model == "logitlab" else None)
                except Exception:  # noqa: BLE001 - one failed fit must not end a long run
                    print(f"FAILED {name} seed {seed} {label}:\n{traceback.format_exc()}", flush=True)
                    continue
                rec["model"] = label
                path.parent.mkdir(parents=True, exist_ok=True)
                write_json_atomic(path, rec)
                records.append(rec)
                main = next(iter(rec["metrics"].items()))
                print(
                    f"{name:9s} seed {seed} {label:10s} {main[0]}={main[1]:.3f} fit {rec['fit_s']:.1f}s",
                    flush=True,
                )
    return records


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", default=",".join(SETS), help=f"comma list of {list(SETS)}")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--models", default=",".join(MODELS), help=f"comma list of {list(MODELS)}")
    p.add_argument("--cache", default=".bench-out/tabular-cache")
    p.add_argument("--out", default=".bench-out/tabular.json")
    p.add_argument("--markdown", default=None, help="also write the markdown table to this file")
    p.add_argument("--refresh", action="store_true", help="recompute cached results")
    p.add_argument("--logitlab-params", default=None, help="JSON dict of Classifier parameters")
    p.add_argument("--tag", default=None, help="name of the logitlab variant in the cache and the table")
    p.add_argument("--table-only", action="store_true", help="only render what is cached")
    args = p.parse_args(argv)
    sets, models = _csv(args.sets), _csv(args.models)
    bad = sorted(set(sets) - set(SETS)) + sorted(set(models) - set(MODELS) if not args.table_only else [])
    if bad:
        print(f"unknown set(s)/model(s) {bad}; sets: {list(SETS)}, models: {list(MODELS)}", file=sys.stderr)
        return 2
    params = json.loads(args.logitlab_params) if args.logitlab_params else None
    if params and not args.tag:
        print("--logitlab-params needs --tag NAME (its cache name)", file=sys.stderr)
        return 2
    _limit_threads()
    _quiet()
    seeds = [int(s) for s in _csv(args.seeds)]
    if args.table_only:
        records = _cached(Path(args.cache), sets, seeds, models, args.tag)
    else:
        records = run(
            sets, seeds, models, Path(args.cache), refresh=args.refresh, params=params, tag=args.tag
        )
    from logitlab.files import write_json_atomic, write_text_atomic

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(args.out, records)
    labels = [args.tag if (m == "logitlab" and args.tag) else m for m in models]
    table = markdown(records, labels) if records else "no results\n"
    if args.markdown:
        write_text_atomic(args.markdown, table)
    print(table)
    return 0


def _cached(cache: Path, sets: list[str], seeds: list[int], models: list[str], tag: str | None) -> list[dict]:
    labels = [tag if (m == "logitlab" and tag) else m for m in models]
    paths = [cache / s / f"seed{seed}" / f"{m}.json" for m in labels for s in sets for seed in seeds]
    return [json.loads(p.read_text()) for p in paths if p.exists()]


if __name__ == "__main__":
    raise SystemExit(main())
