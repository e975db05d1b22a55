"""Multi-label attributes: each 8x8 digit image gets several independent yes/no labels.

`builtin:digits-attributes` derives labels such as "even", ">= 5", "prime" and "has a loop" from
scikit-learn's digits. The task is inferred as multilabel (sigmoid per label, BCE family), each label
gets its own pos_weight and its own tuned threshold. We compare BCE with the focal and asymmetric losses.

Run: python examples/multilabel_attributes.py   (about 30 s on 2 CPU cores)
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import f1_score

import logitlab as ll

LOSSES = (("bce", None), ("focal", {"gamma": 2.0}), ("asl", None))


def main() -> None:
    bundle = ll.load_dataset("builtin:digits-attributes", seed=0)
    print(bundle.summary())
    x_test, y_test = bundle.test, bundle.test.y.numpy().astype(int)
    for loss, options in LOSSES:
        clf = ll.Classifier(loss=loss, loss_options=options, epochs=20, device="cpu", random_state=0).fit(
            bundle
        )
        pred = clf.predict(x_test)
        per_label = f1_score(y_test, pred, average=None, zero_division=0)
        thresholds = np.asarray(clf.thresholds_.to_dict()["thresholds"], dtype=float).reshape(-1)
        print(
            f"\nloss={loss} {options or ''}: macro F1 {per_label.mean():.3f}, subset accuracy "
            f"{(pred == y_test).all(axis=1).mean():.3f}"
        )
        for name, f1, t in zip(clf.classes_, per_label, thresholds):
            print(f"  {name:>12}: F1 {f1:.3f}  threshold {t:.2f}")
    labels, confidence = clf.predict_with_confidence(x_test)
    for row, conf in list(zip(labels, confidence))[:3]:
        names = [str(n) for n, on in zip(clf.classes_, row) if on]
        print(f"labels {names} confidence {[round(float(c), 2) for c in conf]}")


if __name__ == "__main__":
    main()
