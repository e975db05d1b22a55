"""Metrics of benchmarks.tabular (float64 NumPy / scikit-learn), and the markdown tables of the results.

Per task: binary ``ap`` (average precision of p(1)), ``f1`` (of the model's own decisions); multiclass
``accuracy``, ``macro_f1``; multilabel ``micro_f1``, ``macro_f1`` and ``macro_ap``. Calibration, for every
task: ``ece`` (15 equal-width bins: binary on p(1); multiclass on the top-class confidence; multilabel on
every (row, label) probability pooled), ``brier`` (binary mean (p - y)^2; multiclass mean over rows of the
squared error summed over classes; multilabel mean over rows and labels), ``log_loss`` (multilabel: mean
over labels of the binary log-loss), ``mean_p`` (binary: mean p(1), to set beside ``base_rate``), ``cal_slope``
(the calibration slope, 1 = calibrated, below 1 = over-confident: binary the slope ``b`` of the logistic fit
``y ~ a + b * logit(p)``; multilabel its mean over the labels with both values in the test rows; multiclass the
``s`` of the best ``softmax(s * log p)``).

Paired differences (:func:`paired_markdown`): per set and metric, each peer is paired with logitlab on the seeds
both ran (the same splits), and the best peer is the one logitlab trails most (or leads least); ``logitlab - best``
is shown as mean ± its standard error (std / sqrt(seeds)), with whether it is within the issue's tolerance (main metric -0.02, F1 -0.01,
log-loss +0.02).

Mean rank: per data set and metric, the models ranked on the mean over seeds (1 = best; ties share the
mean rank), then averaged over the data sets where the metric exists.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

__all__ = [
    "HIGHER_IS_BETTER",
    "MAIN_METRIC",
    "TASK_METRICS",
    "calibration_slope",
    "ece",
    "markdown",
    "mean_ranks",
    "paired_markdown",
    "score",
]

N_BINS = 15
TASK_METRICS = {
    "binary": ("ap", "f1"),
    "multiclass": ("accuracy", "macro_f1"),
    "multilabel": ("micro_f1", "macro_f1", "macro_ap"),
}
CALIBRATION_METRICS = ("ece", "brier", "log_loss", "cal_slope")
MAIN_METRIC = {"binary": "ap", "multiclass": "accuracy", "multilabel": "macro_ap"}
F1_METRIC = {"binary": "f1", "multiclass": "macro_f1", "multilabel": "macro_f1"}
HIGHER_IS_BETTER = {"ap", "f1", "accuracy", "macro_f1", "micro_f1", "macro_ap"}
TOLERANCE = {"main": 0.02, "f1": 0.01, "log_loss": 0.02}
"""How far below the best peer (main metric, F1) or above it (log-loss) counts as "within" (issue 22)."""
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


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-12, 1 - 1e-12)
    return np.log(p) - np.log1p(-p)


def _binary_slope(p: np.ndarray, y: np.ndarray) -> float:
    from scipy.optimize import minimize

    z = _logit(p)

    def nll(ab: np.ndarray) -> float:
        t = ab[0] + ab[1] * z
        return float(np.mean(np.logaddexp(0, t) - y * t))

    return float(minimize(nll, np.array([0.0, 1.0]), method="BFGS").x[1])


def calibration_slope(task: str, y: np.ndarray, proba: np.ndarray, classes: Any = None) -> float:
    """The calibration slope (1 = calibrated; see the module docstring); NaN where a label has one value."""
    if task == "binary":
        return _binary_slope(proba, y) if 0 < y.mean() < 1 else float("nan")
    if task == "multilabel":
        slopes = [_binary_slope(proba[:, j], y[:, j]) for j in range(y.shape[1]) if 0 < y[:, j].mean() < 1]
        return float(np.mean(slopes)) if slopes else float("nan")
    from scipy.optimize import minimize_scalar
    from scipy.special import log_softmax

    logp = np.log(np.clip(proba, 1e-12, None))
    hit = y[:, None] == np.asarray(classes)[None, :]

    def nll(t: float) -> float:
        return float(-np.mean(log_softmax(t * logp, axis=1)[hit]))

    return float(minimize_scalar(nll, bounds=(0.01, 20.0), method="bounded").x)


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
            "cal_slope": calibration_slope(task, y, proba),
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
            "cal_slope": calibration_slope(task, y, proba, classes),
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
        "cal_slope": calibration_slope(task, y, proba),
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
        metrics = [*TASK_METRICS[task], "ece", "brier", "log_loss", "fit_s"]
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
    values = [v for v in values if v == v]  # a NaN slope (one-valued label) is left out
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
        rates = [v for m in models for v in grouped.get((s, m), {}).get("base_rate", [])]
        base = f", base rate {np.mean(rates):.3f}" if task == "binary" and rates else ""
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
    order = [*(["main"] if "main" in ranks else []), *sorted(k for k in ranks if k != "main")]
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


def _paired(
    by_key: dict[tuple[str, str, int], dict], s: str, target: str, peers: list[str], metric: str
) -> tuple[str, list[float], int] | None:
    """The best peer on ``metric`` and ``target - best`` per seed: each peer is paired with ``target`` on the
    seeds both have (a peer run on fewer seeds is compared on those), the best by its mean paired difference."""
    mine = {k[2] for k in by_key if k[:2] == (s, target)}
    pairs: dict[str, list[float]] = {}
    for m in peers:
        seeds = sorted(mine & {k[2] for k in by_key if k[:2] == (s, m)})
        diffs = [
            by_key[(s, target, d)]["metrics"][metric] - by_key[(s, m, d)]["metrics"][metric] for d in seeds
        ]
        if diffs and all(v == v for v in diffs):
            pairs[m] = diffs
    if not pairs:
        return None
    higher = metric in HIGHER_IS_BETTER
    best = (
        min(pairs, key=lambda m: np.mean(pairs[m])) if higher else max(pairs, key=lambda m: np.mean(pairs[m]))
    )
    return best, pairs[best], len(pairs[best])


def paired_markdown(records: list[dict], target: str, peers: list[str]) -> str:
    """Per set: ``target - best peer`` (mean ± standard error over the shared seeds) on the main metric, F1,
    log-loss and Brier, and whether the first three are within :data:`TOLERANCE`."""
    by_key = {(r["set"], r["model"], r["seed"]): r for r in records}
    lines = [
        f"| set | task | seeds | main metric: {target} - best peer | F1: {target} - best | "
        f"log-loss: {target} - best | Brier: {target} - best | within (main/F1/log-loss) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in dict.fromkeys(r["set"] for r in records):
        task = next(r["task"] for r in records if r["set"] == s)
        cells, within, n = [], [], 0
        for key, metric in (
            ("main", MAIN_METRIC[task]),
            ("f1", F1_METRIC[task]),
            ("log_loss", "log_loss"),
            ("brier", "brier"),
        ):
            got = _paired(by_key, s, target, peers, metric)
            if got is None:
                cells.append("-")
                continue
            best, diffs, n = got
            mean, se = (
                float(np.mean(diffs)),
                float(np.std(diffs, ddof=1) / np.sqrt(len(diffs))) if len(diffs) > 1 else float("nan"),
            )
            name = metric if key == "main" else ""
            cells.append(f"{name} {mean:+.3f} ± {se:.3f} (vs {best})".strip())
            if key in TOLERANCE:
                ok = (
                    mean >= -TOLERANCE[key] - 1e-9
                    if metric in HIGHER_IS_BETTER
                    else mean <= TOLERANCE[key] + 1e-9
                )
                within.append("yes" if ok else f"no ({abs(mean) - TOLERANCE[key]:.3f} beyond)")
        lines.append(f"| {s} | {task} | {n} | " + " | ".join(cells) + f" | {' / '.join(within) or '-'} |")
    return "\n".join(lines) + "\n"
