"""Metrics of benchmarks.tabular (float64 NumPy / scikit-learn), and the markdown tables of the results.

Per task: binary ``ap`` (average precision of p(1)), ``f1`` (of the model's own decisions); multiclass
``accuracy``, ``macro_f1``; multilabel ``micro_f1``, ``macro_f1`` and ``macro_ap``. Calibration, for every
task: ``ece`` (15 equal-width bins: binary on p(1); multiclass on the top-class confidence; multilabel on
every (row, label) probability pooled), ``brier`` (binary mean (p - y)^2; multiclass mean over rows of the
squared error summed over classes; multilabel mean over rows and labels), ``log_loss`` (multilabel: mean
over labels of the binary log-loss), ``mean_p`` (binary: mean p(1), to set beside ``base_rate``).

Mean rank: per data set and metric, the models ranked on the mean over seeds (1 = best; ties share the
mean rank), then averaged over the data sets where the metric exists.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

__all__ = ["HIGHER_IS_BETTER", "MAIN_METRIC", "TASK_METRICS", "ece", "markdown", "mean_ranks", "score"]

N_BINS = 15
TASK_METRICS = {
    "binary": ("ap", "f1"),
    "multiclass": ("accuracy", "macro_f1"),
    "multilabel": ("micro_f1", "macro_f1", "macro_ap"),
}
CALIBRATION_METRICS = ("ece", "brier", "log_loss")
MAIN_METRIC = {"binary": "ap", "multiclass": "accuracy", "multilabel": "macro_f1"}
HIGHER_IS_BETTER = {"ap", "f1", "accuracy", "macro_f1", "micro_f1", "macro_ap"}
EPS = 1e-15


def ece(confidence: np.ndarray, correct: np.ndarray, n_bins: int = N_BINS) -> float:
    """Expected calibration error: sum over equal-width bins of |bin| / N * |mean(correct) - mean(conf)|."""
    conf = np.asarray(confidence, dtype=np.float64).ravel()
    hit = np.asarray(correct, dtype=np.float64).ravel()
    bins = np.clip((conf * n_bins).astype(np.int64), 0, n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        inside = bins == b
        if inside.any():
            total += inside.mean() * abs(hit[inside].mean() - conf[inside].mean())
    return float(total)


def _binary_log_loss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, EPS, 1 - EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def score(task: str, y: np.ndarray, proba: np.ndarray, pred: np.ndarray, classes: Any = None) -> dict:
    """Every metric of ``task`` from true labels, probabilities and decisions (shapes as fit_predict's)."""
    from sklearn.metrics import accuracy_score, average_precision_score, f1_score

    if task == "binary":
        y = y.astype(np.float64)
        return {
            "ap": float(average_precision_score(y, proba)),
            "f1": float(f1_score(y, pred, zero_division=0)),
            "ece": ece(proba, y),
            "brier": float(np.mean((proba - y) ** 2)),
            "log_loss": _binary_log_loss(proba, y),
            "mean_p": float(proba.mean()),
            "base_rate": float(y.mean()),
        }
    if task == "multiclass":
        onehot = (y[:, None] == np.asarray(classes)[None, :]).astype(np.float64)
        top = proba.argmax(1)
        return {
            "accuracy": float(accuracy_score(y, pred)),
            "macro_f1": float(f1_score(y, pred, average="macro", zero_division=0)),
            "ece": ece(proba.max(1), np.asarray(classes)[top] == y),
            "brier": float(np.mean(np.sum((proba - onehot) ** 2, axis=1))),
            "log_loss": float(-np.mean(np.log(np.clip((proba * onehot).sum(1), EPS, None)))),
        }
    y = y.astype(np.float64)
    has_pos = y.sum(0) > 0
    return {
        "micro_f1": float(f1_score(y, pred, average="micro", zero_division=0)),
        "macro_f1": float(f1_score(y, pred, average="macro", zero_division=0)),
        "macro_ap": float(average_precision_score(y[:, has_pos], proba[:, has_pos], average="macro")),
        "ece": ece(proba, y),
        "brier": float(np.mean((proba - y) ** 2)),
        "log_loss": float(np.mean([_binary_log_loss(proba[:, j], y[:, j]) for j in range(y.shape[1])])),
    }


def _grouped(records: list[dict]) -> dict[tuple[str, str], dict[str, list[float]]]:
    """``(set, model) -> metric -> values over seeds`` (``fit_s`` included)."""
    out: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        for k, v in {**r["metrics"], "fit_s": r["fit_s"]}.items():
            out[(r["set"], r["model"])][k].append(float(v))
    return out


def _ranks(values: dict[str, float], higher: bool) -> dict[str, float]:
    from scipy.stats import rankdata

    names = list(values)
    keys = np.array([-values[n] if higher else values[n] for n in names])
    return dict(zip(names, rankdata(keys, method="average").tolist()))


def mean_ranks(records: list[dict], models: list[str]) -> dict[str, dict[str, float]]:
    """``metric -> model -> mean rank`` over the data sets where every model in ``models`` has a result.

    Per set, the means are taken over the seeds that every model has, so that all are ranked on the
    same splits.
    """
    by_key = {(r["set"], r["model"], r["seed"]): r for r in records}
    per_metric: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for s in dict.fromkeys(r["set"] for r in records):
        seeds = set.intersection(*({k[2] for k in by_key if k[:2] == (s, m)} for m in models))
        if not seeds:
            continue
        rows = {m: [by_key[(s, m, seed)] for seed in sorted(seeds)] for m in models}
        task = rows[models[0]][0]["task"]
        metrics = [*TASK_METRICS[task], *CALIBRATION_METRICS, "fit_s"]
        for metric in metrics:
            means = {
                m: float(np.mean([r["fit_s"] if metric == "fit_s" else r["metrics"][metric] for r in rs]))
                for m, rs in rows.items()
            }
            ranks = _ranks(means, metric in HIGHER_IS_BETTER)
            for m, rank in ranks.items():
                per_metric[metric][m].append(rank)
                if metric == MAIN_METRIC[task]:
                    per_metric["main"][m].append(rank)
    return {k: {m: float(np.mean(v)) for m, v in d.items()} for k, d in per_metric.items()}


def _cell(values: list[float], digits: int) -> str:
    if not values:
        return "-"
    std = float(np.std(values)) if len(values) > 1 else 0.0
    return f"{np.mean(values):.{digits}f} ± {std:.{digits}f}"


def markdown(records: list[dict], models: list[str]) -> str:
    """Per data set a table (models x metrics, mean ± std over seeds), then the mean ranks."""
    grouped = _grouped(records)
    revisions = sorted({str(r["logitlab"]) for r in records if r.get("logitlab")})
    lines: list[str] = [f"logitlab measured at: {', '.join(revisions) or 'n/a'}"]
    for s in sorted({r["set"] for r in records}, key=lambda n: [r["set"] for r in records].index(n)):
        task = next(r["task"] for r in records if r["set"] == s)
        cols = [*TASK_METRICS[task], *CALIBRATION_METRICS, *(["mean_p"] if task == "binary" else []), "fit_s"]
        info = next(r for r in records if r["set"] == s)
        base = f", base rate {np.mean(grouped[(s, models[0])]['base_rate']):.3f}" if task == "binary" else ""
        lines += [
            f"\n**{s}** ({task}, {info['n_train']} train / {info['n_test']} test rows{base}; {info['source']})\n",
            "| model | seeds | " + " | ".join(cols) + " |",
            "|---|---|" + "---|" * len(cols),
        ]
        for m in models:
            got = grouped.get((s, m))
            if not got:
                lines.append(f"| {m} | 0 |" + " - |" * len(cols))
                continue
            cells = [_cell(got.get(c, []), 1 if c == "fit_s" else 3) for c in cols]
            lines.append(f"| {m} | {len(got['fit_s'])} | " + " | ".join(cells) + " |")
    ranks = mean_ranks(records, models)
    order = ["main", *sorted(k for k in ranks if k != "main")]
    n_sets = len(
        {
            r["set"]
            for r in records
            if all(any(q["set"] == r["set"] and q["model"] == m for q in records) for m in models)
        }
    )
    lines += [
        f"\n**Mean rank** (1 = best) over the {n_sets} sets where every model ran, on the seeds they share; "
        "main = AP (binary), accuracy (multiclass), macro-F1 (multilabel)\n"
    ]
    lines += ["| metric | " + " | ".join(models) + " |", "|---|" + "---|" * len(models)]
    for k in order:
        lines.append(f"| {k} | " + " | ".join(f"{ranks[k].get(m, float('nan')):.2f}" for m in models) + " |")
    return "\n".join(lines) + "\n"
