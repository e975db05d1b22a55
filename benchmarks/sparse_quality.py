"""Test log-loss of ``Classifier()`` on a synthetic text-like sparse problem (for optimizer changes).

Rows hold 30 columns drawn with Zipf frequencies (``p_j ~ 1 / j^1.1``, as words in text), ``log1p`` counts
scaled to unit norm; 5 labels drawn from a hidden sparse linear model through a sigmoid (so the best
log-loss is well above 0). The first 80% of rows train ``Classifier(random_state=0, device="cpu")`` with its
defaults (the sparse-native model); the mean per-label log-loss and ROC-AUC on the other 20% are printed.

Run: OMP_NUM_THREADS=1 python -m benchmarks.sparse_quality [--rows 20000] [--features 20000]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from scipy import sparse
from sklearn.metrics import log_loss, roc_auc_score

from logitlab import Classifier


def make_data(rows: int, features: int, per_row: int = 30, labels: int = 5, seed: int = 0):
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, features + 1) ** 1.1
    cols = rng.choice(features, size=(rows, per_row), p=p / p.sum())
    X = sparse.csr_array(
        (np.ones(rows * per_row), (np.repeat(np.arange(rows), per_row), cols.ravel())), shape=(rows, features)
    )  # duplicates summed: counts
    X.data = np.log1p(X.data)
    X = sparse.csr_array(X.multiply(1 / np.sqrt(X.multiply(X).sum(axis=1)).reshape(-1, 1)))
    W = rng.normal(size=(features, labels)) * (rng.random((features, labels)) < 0.2)
    z = X @ W * 4
    y = (rng.random((rows, labels)) < 1 / (1 + np.exp(-(z - np.median(z, axis=0))))).astype(int)
    return X, y


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=20_000)
    p.add_argument("--features", type=int, default=20_000)
    a = p.parse_args()
    X, y = make_data(a.rows, a.features)
    cut = int(a.rows * 0.8)
    t0 = time.perf_counter()
    clf = Classifier(random_state=0, device="cpu").fit(X[:cut], y[:cut])
    fit = time.perf_counter() - t0
    P = clf.predict_proba(X[cut:])
    labels = range(y.shape[1])
    print(
        json.dumps(
            {
                "rows": a.rows,
                "features": a.features,
                "model": clf.model_spec_["name"],
                "epochs": len(clf.history_),
                "fit_s": round(fit, 1),
                "test_logloss": round(float(np.mean([log_loss(y[cut:, j], P[:, j]) for j in labels])), 4),
                "test_auc": round(float(np.mean([roc_auc_score(y[cut:, j], P[:, j]) for j in labels])), 4),
            }
        )
    )


if __name__ == "__main__":
    main()
