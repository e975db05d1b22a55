"""Quality with defaults: ``Classifier()`` on two scikit-learn tables, checked against fixed floors.

These were tests once; a default fit scales its epochs to the data and takes minutes on a busy CPU, so a
test's outcome depended on the machine's load (issue 26). Here they are a check that ``make bench`` runs and
that fails (exit 1) when a number falls below its floor:

* ``breast_cancer``: mean ROC-AUC of 5-fold stratified CV (shuffle, ``random_state=0``) over the 569 rows,
  floor 0.99 (one 86-row test split is too small to pin it: even LogisticRegression scores 0.988 there).
* ``digits``: accuracy on the 270-row test split of ``load_dataset("builtin:digits", seed=0)``, floor 0.95.

Run: python -m benchmarks.quality [--sets breast_cancer,digits]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

FLOORS = {"breast_cancer": 0.99, "digits": 0.95}


def breast_cancer() -> float:
    """Mean 5-fold ROC-AUC of a default ``Classifier()``."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    from logitlab import Classifier

    X, y = load_breast_cancer(return_X_y=True)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    scores = cross_val_score(Classifier(device="cpu"), X, y, cv=folds, scoring="roc_auc")
    print(f"  folds: {np.round(scores, 4).tolist()}")
    return float(scores.mean())


def digits() -> float:
    """Test accuracy of a default ``Classifier()`` on the seed-0 split of ``builtin:digits``."""
    from sklearn.metrics import accuracy_score

    from logitlab import Classifier
    from logitlab.data import load_dataset

    bundle = load_dataset("builtin:digits", seed=0)
    clf = Classifier(device="cpu").fit(bundle)
    truth = np.asarray(bundle.label_encoder.classes)[bundle.test.y.numpy()]
    return float(accuracy_score(truth.astype(str), clf.predict(bundle.test).astype(str)))


CHECKS: dict[str, Callable[[], float]] = {"breast_cancer": breast_cancer, "digits": digits}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(CHECKS), help="comma-separated: " + ", ".join(CHECKS))
    names = [s for s in parser.parse_args(argv).sets.split(",") if s]
    failed = []
    print(f"{'set':<14} {'value':>7} {'floor':>6} {'seconds':>8}  result")
    for name in names:
        start = time.perf_counter()
        value = CHECKS[name]()
        ok = value >= FLOORS[name]
        failed += [] if ok else [name]
        print(
            f"{name:<14} {value:7.4f} {FLOORS[name]:6.2f} {time.perf_counter() - start:8.1f}  {'ok' if ok else 'BELOW'}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
