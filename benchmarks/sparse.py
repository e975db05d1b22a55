"""Sparse input at scale: ``Classifier`` on a 100,000 x 200,000 CSR matrix at 0.01% density.

The matrix holds 2 million values (about 24 MB as CSR: float64 data, int32 indices) and would take
80 GB as float32 dense (160 GB as float64). Labels: 5 multi-label tags from a hidden sparse linear
model (``z = X @ W``, tag ``j`` on where ``z_j`` is above its median). Measured, in one process:

* the resident set (``VmRSS``) after the data is built, the baseline;
* ``fit`` (``epochs`` epochs, the default MLP unless ``--hidden``), then ``predict_proba`` on every row;
  for each, the wall time and the peak resident set (``VmHWM``, reset through ``/proc/self/clear_refs``
  before each step; Linux), so a densified copy of the matrix, or of a large part of it, would show.

The first ``Linear`` layer is dense: on 200,000 inputs and 256 units it holds 51 M weights (AdamW keeps
three more copies), and every batch costs ``2 * 64 * 200,000 * 256`` FLOPs forward. On a shared 2-core
CPU pass ``--rows`` smaller than 100,000 and/or ``--hidden 64`` to keep one epoch within minutes; the
memory claim does not depend on either (the batch is the same).

Run: OMP_NUM_THREADS=2 python -m benchmarks.sparse [--rows 100000] [--features 200000] [--density 1e-4]
     [--epochs 1] [--batch-size 64] [--hidden 256 128] [--model auto|mlp]

``--model auto`` (the default) trains the sparse-native model (:mod:`logitlab.models.sparse`: the first
layer reads the CSR batch through ``embedding_bag``, its gradient is sparse and
:class:`~logitlab.train.lazy_adamw.LazyAdamW` updates only the rows a batch touches); ``--model mlp``
densifies each batch as before. ``epoch_seconds`` in the printed JSON is the training loop alone (``fit``
also imports, validates, calibrates and tunes thresholds).
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
from scipy import sparse

from logitlab import Classifier


def status(key: str) -> int:
    """A ``/proc/self/status`` field in bytes (``VmRSS``, ``VmHWM``)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


def reset_peak() -> None:
    """Reset the resident-set high-water mark (``VmHWM``) to the current resident set."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def make_data(rows: int, features: int, density: float, seed: int = 0) -> tuple[sparse.csr_array, np.ndarray]:
    """A random CSR matrix (memory O(nnz): coordinates drawn directly) and 5 tags from a sparse linear model."""
    rng = np.random.default_rng(seed)
    nnz = int(round(rows * features * density))
    coo = sparse.coo_array(
        (rng.random(nnz), (rng.integers(0, rows, nnz), rng.integers(0, features, nnz))),
        shape=(rows, features),
    )
    X = coo.tocsr()  # duplicates summed
    W = sparse.random(features, 5, density=0.05, random_state=seed, format="csr")
    z = np.asarray((X @ W).todense())
    return X, (z > np.median(z, axis=0)).astype(np.int64)


def measure(step, label: str) -> tuple[object, dict[str, float]]:
    reset_peak()
    before = status("VmRSS")
    t0 = time.perf_counter()
    out = step()
    seconds = time.perf_counter() - t0
    peak = status("VmHWM")
    row = {
        "seconds": round(seconds, 1),
        "peak_rss_gb": round(peak / 1e9, 3),
        "rise_gb": round((peak - before) / 1e9, 3),
    }
    print(f"{label}: {row}", flush=True)
    return out, row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--features", type=int, default=200_000)
    p.add_argument("--density", type=float, default=1e-4)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--hidden", type=int, nargs="+", default=[256, 128])
    p.add_argument("--model", default="auto", help="auto: the sparse-native model; mlp: densified batches")
    a = p.parse_args()
    (X, y), build = measure(lambda: make_data(a.rows, a.features, a.density), "build data")
    csr_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    print(
        f"X: {X.shape[0]} x {X.shape[1]} CSR, {X.nnz} values ({csr_bytes / 1e6:.0f} MB); dense float32 "
        f"{4 * X.shape[0] * X.shape[1] / 1e9:.0f} GB; baseline RSS {status('VmRSS') / 1e9:.2f} GB",
        flush=True,
    )
    clf = Classifier(
        model=a.model,
        epochs=a.epochs,
        batch_size=a.batch_size,
        model_options={"hidden": a.hidden},
        device="cpu",
    )
    _, fit = measure(lambda: clf.fit(X, y), "fit")
    proba, predict = measure(lambda: clf.predict_proba(X), "predict_proba")
    assert proba.shape == (X.shape[0], 5)
    print(
        json.dumps(
            {
                "args": vars(a),
                "threads": os.environ.get("OMP_NUM_THREADS"),
                "nnz": int(X.nnz),
                "csr_mb": round(csr_bytes / 1e6, 1),
                "dense_float32_gb": round(4 * X.shape[0] * X.shape[1] / 1e9, 1),
                "build": build,
                "fit": fit,
                "predict_proba": predict,
                "epoch_seconds": round(sum(h["seconds"] for h in clf.history_), 1),  # the training loop alone
                "train_loss": clf.history_[-1]["train_loss"],
                "val_loss": clf.history_[-1].get("val_loss"),
            }
        )
    )


if __name__ == "__main__":
    main()
