"""The fixed cost of a first ``Classifier().fit`` in a fresh process (imports, splitting, validation).

A small table's fit is mostly fixed cost: the first use of torch, scikit-learn and ``torch._dynamo``
(imported on first use, so charged to the first ``fit``), the split, calibration and thresholds. Prints
one JSON line: ``fit_s`` (the first ``fit``, wall clock), the modules it imported among the heavy ones,
and a checksum of the predicted probabilities (equal checksums: the same fitted model).

Run: OMP_NUM_THREADS=1 python -m benchmarks.fit_overhead --task binary|multilabel [--rows 2000] [--cols 20]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

HEAVY = ("torch._dynamo", "sklearn", "scipy.stats", "pandas", "torchmetrics")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--task", choices=["binary", "multilabel"], default="binary")
    p.add_argument("--rows", type=int, default=2000)
    p.add_argument("--cols", type=int, default=20)
    a = p.parse_args()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(a.rows, a.cols))
    noise = rng.normal(size=(a.rows, 5))
    y = (X[:, :5] + noise > 0).astype(int)
    if a.task == "binary":
        y = y[:, 0]
    t0 = time.perf_counter()
    from logitlab import Classifier

    before = {m for m in HEAVY if m in sys.modules}
    clf = Classifier(random_state=0, device="cpu")
    t1 = time.perf_counter()
    clf.fit(X, y)
    fit_s = time.perf_counter() - t1
    proba = clf.predict_proba(X)
    print(
        json.dumps(
            {
                "args": vars(a),
                "import_logitlab_s": round(t1 - t0, 2),
                "fit_s": round(fit_s, 2),
                "imported_by_fit": sorted(m for m in HEAVY if m in sys.modules and m not in before),
                "model": clf.decisions_["model"]["chosen"],
                "proba_checksum": round(
                    float(np.sum(proba * np.arange(1, proba.size + 1).reshape(proba.shape))), 6
                ),
            }
        )
    )


if __name__ == "__main__":
    main()
