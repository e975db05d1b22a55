"""Development-set runs behind the text defaults (``benchmarks/RESULTS.md``, "Text (issue 23)").

Only the development set ``docs-params`` of :mod:`benchmarks.text` (or one named with ``--set``, e.g. the
multi-class development set ``docs-subpackage-dev``) is read.

* ``vectorizers``: fit and transform time, width and non-zeros a row of ``TextColumn`` with word 1-2
  grams, word unigrams, and word 1-2 grams plus ``char_wb`` 3-5 and 2-5 grams.
* ``classifier``: ``Classifier()`` with the vectoriser settings (``"vec"``), ``options.SPARSE_FULL_BATCH``
  values (``"full_batch"``) and parameters of a JSON object, scored as :mod:`benchmarks.text` scores its peers.

Run: OMP_NUM_THREADS=1 python -m benchmarks.text_dev vectorizers
     OMP_NUM_THREADS=1 python -m benchmarks.text_dev classifier '{"vec": {"char_ngrams": null}, "lr": 0.05}'
"""

from __future__ import annotations

import argparse
import json
import time

import pandas as pd
from sklearn.preprocessing import MultiLabelBinarizer

from benchmarks import text as bt

VARIANTS = {
    "word 1-2": {"char_ngrams": None},
    "word 1": {"char_ngrams": None, "word_ngrams": [1, 1]},
    "word 1-2 + char_wb 3-5": {"char_ngrams": [3, 5]},
    "word 1-2 + char_wb 2-5": {"char_ngrams": [2, 5]},
}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=["vectorizers", "classifier"])
    p.add_argument("config", nargs="?", default="{}")
    p.add_argument("--set", default="docs-params")
    a = p.parse_args()
    import logitlab.data.text as lt

    frame, task = bt.make_sets(12000)[a.set]
    train, test = bt.split(frame)
    texts = frame["text"].to_numpy()
    if a.what == "vectorizers":
        for name, settings in VARIANTS.items():
            t0 = time.perf_counter()
            col = lt.TextColumn.fit("text", pd.Series(texts[train]), settings=settings)
            t1 = time.perf_counter()
            X = col.transform(pd.Series(texts[train]))
            col.transform(pd.Series(texts[test]))
            row = {"variant": name, "fit_s": round(t1 - t0, 1), "transform_s": round(time.perf_counter() - t1, 1),
                   "features": col.n_features, "nnz_per_row": round(X.nnz / X.shape[0])}  # fmt: skip
            print(json.dumps(row), flush=True)
        return
    cfg = json.loads(a.config)
    lt.TEXT_VECTORIZER = {**lt.TEXT_VECTORIZER, **cfg.pop("vec", {})}  # type: ignore[assignment]
    if "full_batch" in cfg:  # a variant of options.SPARSE_FULL_BATCH, where both its readers see it
        import logitlab.estimator._convex_fit as cf
        import logitlab.options as lo

        lo.SPARSE_FULL_BATCH = cf.SPARSE_FULL_BATCH = {**lo.SPARSE_FULL_BATCH, **cfg.pop("full_batch")}  # type: ignore[misc]
    labels = frame["labels"].to_numpy()
    lists = [[lab] if task == "multiclass" else list(lab) for lab in labels]
    classes = list(MultiLabelBinarizer().fit([lists[i] for i in train]).classes_)
    Y_test = MultiLabelBinarizer(classes=classes).fit_transform(
        [[x for x in lists[i] if x in set(classes)] for i in test]
    )
    from logitlab import Classifier

    t0 = time.perf_counter()
    y_fit = list(labels[train]) if task == "multiclass" else [list(x) for x in labels[train]]
    clf = Classifier(random_state=0, device="cpu", **cfg).fit(pd.DataFrame({"text": texts[train]}), y_fit)
    fit = time.perf_counter() - t0
    X = pd.DataFrame({"text": texts[test]})
    order = [list(clf.classes_).index(c) for c in classes]
    proba, pred = clf.predict_proba(X)[:, order], clf.predict(X)
    if task == "multiclass":
        pred = (pred[:, None] == pd.Series(classes).to_numpy()[None, :]).astype(int)
    else:
        pred = pred[:, order]
    row = {"set": a.set, **cfg, "fit_s": round(fit, 1), **bt.scores(task, Y_test, pred, proba),
           "best_epoch": clf.decisions_.get("best_epoch"), "solver": (clf.decisions_.get("epochs") or {}).get("solver"),
           "refit": [n for n in clf.decisions_["notes"] if "fitted again" in n]}  # fmt: skip
    print(json.dumps(row, default=str), flush=True)


if __name__ == "__main__":
    main()
