"""Real tables: ``logitlab.Classifier()`` defaults against LogisticRegression, HistGradientBoosting, LightGBM,
CatBoost, RealMLP-TD and TabM-D, on a DEVELOPMENT and a HELD-OUT suite.

Two suites (``--suite``): ``development``, the thirteen tables of benchmarks.datasets_tabular, on which the
defaults were chosen (binary with 2-12% positives, small and large multiclass, multilabel; heavy-tailed numerics,
categoricals, NaN); ``heldout``, the eleven tables of benchmarks.datasets_heldout (263 to 53,940 rows, cut to
5,000), never used to choose anything and run for the final report only. For each split seed: a stratified 30%
test split (multilabel: logitlab.data.iterative_stratification), every model fitted on the other 70% (each
holds out its own validation rows from them, if it wants any), scored on the test rows
(benchmarks.tabular_metrics: task metrics, ECE/Brier/log-loss/calibration slope, fit seconds), then mean ± std
over seeds, the mean rank per model per metric, and the paired difference of logitlab to the best peer per
metric (mean ± standard error over the seeds).

Same decision rule for every peer (benchmarks.tabular_models): binary and multilabel F1 thresholds tuned by
5-fold CV (scikit-learn's ``TunedThresholdClassifierCV``); multiclass argmax.

Fairness: everything on the CPU with one thread (``OMP_NUM_THREADS=1``, ``torch.set_num_threads(1)``,
threadpoolctl for BLAS/OpenMP, LightGBM ``n_jobs=1``, CatBoost ``thread_count=1``, pytabkit ``n_threads=1``);
the fit seconds are wall time on a machine that may be shared, so compare them within one run.

Each (set, seed, model) result is cached as JSON under ``--cache`` (default ``.bench-out/tabular-cache``), so
an interrupted or extended run computes only what is missing; ``--refresh`` recomputes. The run order is
models outer (``--models`` order), then seeds, then sets, so a partial run has every table on its first seeds.

Cost: the pytabkit models and CatBoost dominate (CatBoost's 1,000 trees are fitted six times per binary label
for the CV threshold: 20-140 s per table on one shared core); logreg, hgb and lightgbm take seconds.

Run: OMP_NUM_THREADS=1 nice -n 10 python -m benchmarks.tabular --suite heldout --seeds 5
     [--sets caravan,wine] [--models logitlab,logreg,hgb,lightgbm,catboost,realmlp,tabm]
     [--out .bench-out/tabular.json] [--markdown FILE]
     [--logitlab-params '{"epochs": 60}' --tag NAME]   (a variant of the logitlab defaults, cached as NAME)
     --quick: seeds 0,1, at most 1,000 rows a table, models logitlab,logreg,lightgbm (its own cache)
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

from benchmarks.datasets_tabular import MAX_ROWS, Table, load, suites
from benchmarks.tabular_metrics import markdown, paired_markdown, score
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
    info: dict[str, Any] = {}
    proba, pred, fit_s, predict_s = fit_predict(
        model,
        X_train,
        table.y[train],
        X_test,
        task=table.task,
        classes=classes,
        seed=seed,
        params=params,
        info=info,
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
        "decisions": info or None,
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
    max_rows: int = MAX_ROWS,
) -> list[dict[str, Any]]:
    """Every (set, seed, model) record, computed when not cached; failures are reported and skipped."""
    from logitlab.files import write_json_atomic

    records: list[dict[str, Any]] = []
    tables: dict[str, Table] = {}
    for model in models:
        label = tag if (model == "logitlab" and tag) else model
        warm = False
        for seed in seeds:  # seeds outer: a partial run has every table on its first seeds
            for name in sets:
                path = cache / name / f"seed{seed}" / f"{label}.json"
                if path.exists() and not refresh:
                    records.append(json.loads(path.read_text()))
                    continue
                if not warm:
                    warm_up(model, params if model == "logitlab" else None)
                    warm = True
                table = tables.get(name) or tables.setdefault(name, load(name, max_rows=max_rows))
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


def _seeds(text: str) -> list[int]:
    """``"5"`` -> seeds 0..4; ``"0,3"`` -> those seeds."""
    return (
        list(range(int(text))) if "," not in text and text.strip().isdigit() else [int(v) for v in _csv(text)]
    )


QUICK = {"seeds": "0,1", "models": "logitlab,logreg,lightgbm", "max_rows": 1000}


def main(argv: list[str] | None = None) -> int:
    every = suites()
    names = [n for suite in every.values() for n in suite]
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--suite", choices=[*every, "all"], default="development", help="which tables (default: development)"
    )
    p.add_argument("--sets", default=None, help=f"comma list of tables instead of a suite: {names}")
    p.add_argument("--seeds", default="0,1,2", help="a count (5: seeds 0-4) or a comma list")
    p.add_argument("--models", default=",".join(MODELS), help=f"comma list of {list(MODELS)}")
    p.add_argument("--quick", action="store_true", help="seeds 0,1, 1,000 rows a table, three models")
    p.add_argument(
        "--max-rows", type=int, default=MAX_ROWS, help="cut larger tables (stratified, fixed draw)"
    )
    p.add_argument(
        "--cache", default=None, help="default .bench-out/tabular-cache (quick: tabular-quick-cache)"
    )
    p.add_argument("--out", default=".bench-out/tabular.json")
    p.add_argument("--markdown", default=None, help="also write the markdown table to this file")
    p.add_argument("--refresh", action="store_true", help="recompute cached results")
    p.add_argument("--logitlab-params", default=None, help="JSON dict of Classifier parameters")
    p.add_argument("--tag", default=None, help="name of the logitlab variant in the cache and the table")
    p.add_argument("--table-only", action="store_true", help="only render what is cached")
    args = p.parse_args(argv)
    if args.quick:
        args.seeds, args.max_rows = QUICK["seeds"], QUICK["max_rows"]
        args.models = QUICK["models"] if args.models == ",".join(MODELS) else args.models
    cache = Path(
        args.cache or (".bench-out/tabular-quick-cache" if args.quick else ".bench-out/tabular-cache")
    )
    if args.sets:
        sets = _csv(args.sets)
    else:
        sets = names if args.suite == "all" else list(every[args.suite])
    models = _csv(args.models)
    bad = sorted(set(sets) - set(names)) + sorted(set(models) - set(MODELS) if not args.table_only else [])
    if bad:
        print(f"unknown set(s)/model(s) {bad}; sets: {names}, models: {list(MODELS)}", file=sys.stderr)
        return 2
    params = json.loads(args.logitlab_params) if args.logitlab_params else None
    if params and not args.tag:
        print("--logitlab-params needs --tag NAME (its cache name)", file=sys.stderr)
        return 2
    _limit_threads()
    _quiet()
    seeds = _seeds(args.seeds)
    if args.table_only:
        records = _cached(cache, sets, seeds, models, args.tag)
    else:
        records = run(
            sets,
            seeds,
            models,
            cache,
            refresh=args.refresh,
            params=params,
            tag=args.tag,
            max_rows=args.max_rows,
        )
    from logitlab.files import write_json_atomic, write_text_atomic

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(args.out, records)
    labels = [args.tag if (m == "logitlab" and args.tag) else m for m in models]
    table = markdown(records, labels) if records else "no results\n"
    target = args.tag or "logitlab"
    if records and target in labels and len(labels) > 1:
        peers = [m for m in labels if m != target]
        table += f"\n**{target} minus the best peer** (paired by seed; mean ± standard error)\n\n"
        table += paired_markdown(records, target, peers)
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
