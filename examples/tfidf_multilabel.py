"""Multi-label text tagging on sparse TF-IDF features: which arguments does an API function take?

The texts are real and ship with the installed packages: the descriptions (the docstring up to its
"Parameters" / "Args" section, signature lines removed) of about 2,500 public functions and classes of
NumPy, SciPy, scikit-learn, pandas and PyTorch. Each gets a tag per argument it takes among
``axis``, ``dtype``, ``out``, ``random_state``, ``copy``, ``sample_weight``, ``n_jobs`` and ``keepdims``,
read from ``inspect.signature``, so the labels are not in the text: "Compute the median along the
specified axis" suggests ``axis`` and ``keepdims``; "Fit the model ... with stochastic gradient
descent" suggests ``random_state``. No download.

``TfidfVectorizer`` gives a scipy CSR matrix (about 20,000 columns, 0.5% filled). ``Classifier`` takes
it as it is: the columns are scaled by their standard deviation without centring (the matrix stays
sparse), and training and prediction densify one batch of rows at a time. The task is inferred as
multilabel (a sigmoid per tag, BCE with a ``pos_weight`` per tag), each tag gets its own threshold, and
a one-vs-rest logistic regression on the same features is the baseline.

Run: python examples/tfidf_multilabel.py   (about 45 s of CPU time; macro F1 about 0.71, the logistic baseline 0.69)
"""

from __future__ import annotations

import importlib
import inspect
import re
import warnings

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.multiclass import OneVsRestClassifier

import logitlab as ll

TAGS = ["axis", "dtype", "out", "random_state", "copy", "sample_weight", "n_jobs", "keepdims"]
MODULES = [
    *("numpy", "numpy.linalg", "numpy.fft", "numpy.ma", "pandas"),
    *(f"scipy.{m}" for m in ("linalg", "stats", "signal", "optimize", "special", "ndimage", "interpolate")),
    *(f"scipy.{m}" for m in ("integrate", "spatial", "sparse")),
    *(f"sklearn.{m}" for m in ("metrics", "preprocessing", "utils", "datasets", "linear_model", "cluster")),
    *(
        f"sklearn.{m}"
        for m in ("decomposition", "model_selection", "ensemble", "feature_selection", "neighbors")
    ),
    *(f"sklearn.{m}" for m in ("svm", "tree", "manifold", "covariance", "mixture")),
    *("torch", "torch.nn.functional", "torch.linalg", "torch.fft", "torch.special"),
]
SECTION = re.compile(
    r"\n\s*(Parameters|Args|Arguments|Keyword args|Keyword arguments|Other Parameters)\s*:?\s*\n"
)
SIGNATURE = re.compile(r"^\s*[\w.]+\(.*\)\s*(->.*)?$")


def api_descriptions() -> tuple[list[str], list[str], np.ndarray]:
    """Names, descriptions and 0/1 argument tags ``[N, len(TAGS)]`` of the public callables of MODULES."""
    seen: dict[int, tuple[str, str, list[int]]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecated aliases warn when touched
        for module_name in MODULES:
            module = importlib.import_module(module_name)
            for attr in getattr(module, "__all__", dir(module)):
                try:
                    obj = getattr(module, attr, None)
                    params = set(inspect.signature(obj).parameters) if callable(obj) else None
                except (
                    ImportError,
                    TypeError,
                    ValueError,
                ):  # experimental names, builtins without a signature
                    continue
                if attr.startswith("_") or params is None or id(obj) in seen:
                    continue
                text = SECTION.split("\n" + (inspect.getdoc(obj) or ""))[0]
                text = "\n".join(line for line in text.splitlines() if not SIGNATURE.match(line))
                if len(text.split()) >= 5:
                    seen[id(obj)] = (f"{module_name}.{attr}", text, [int(t in params) for t in TAGS])
    names, texts, tags = zip(*seen.values())
    return list(names), list(texts), np.asarray(tags)


def main() -> None:
    names, texts, tags = api_descriptions()
    train_text, test_text, y_train, y_test = train_test_split(texts, tags, test_size=0.25, random_state=0)
    vectorizer = TfidfVectorizer(sublinear_tf=True, min_df=2, ngram_range=(1, 2))
    X_train, X_test = vectorizer.fit_transform(train_text), vectorizer.transform(test_text)
    csr_mb = (X_train.data.nbytes + X_train.indices.nbytes + X_train.indptr.nbytes) / 1e6
    print(
        f"{len(names)} descriptions; TF-IDF {type(X_train).__name__} {X_train.shape}, {X_train.nnz} values "
        f"({100 * X_train.nnz / np.prod(X_train.shape):.2f}% filled): {csr_mb:.1f} MB as CSR, "
        f"{4 * np.prod(X_train.shape) / 1e6:.0f} MB dense float32"
    )
    print("tag rates:", ", ".join(f"{t} {r:.0%}" for t, r in zip(TAGS, tags.mean(axis=0))))

    clf = ll.Classifier(epochs=15, model_options={"hidden": [64]}, device="cpu", random_state=0)
    clf.fit(X_train, pd.DataFrame(y_train, columns=TAGS))  # the column names name the labels
    pred = clf.predict(X_test)
    baseline = OneVsRestClassifier(LogisticRegression(max_iter=2000, class_weight="balanced"))
    base_pred = baseline.fit(X_train, y_train).predict(X_test)
    ours, theirs = (f1_score(y_test, p, average=None, zero_division=0) for p in (pred, base_pred))
    thresholds = np.asarray(clf.thresholds_.values, dtype=float).reshape(-1)
    print(f"\ntask {clf.task_} ({clf.decisions_['task_reason']}); loss {clf.decisions_['loss']}")
    print(f"{'tag':>14}  F1 logitlab  F1 logistic  threshold")
    assert list(clf.classes_) == TAGS
    for tag, a, b, t in zip(TAGS, ours, theirs, thresholds):
        print(f"{tag:>14}  {a:11.3f}  {b:11.3f}  {t:9.2f}")
    print(f"{'macro':>14}  {ours.mean():11.3f}  {theirs.mean():11.3f}")

    new = [
        "Compute the weighted median along the specified axis, ignoring NaNs.",
        "Fit the model with stochastic gradient descent on shuffled mini-batches.",
        "Return a new array of given shape filled with ones.",
    ]
    labels, confidence = clf.predict_with_confidence(vectorizer.transform(new))
    for text, row, conf in zip(new, labels, confidence):
        picked = [f"{t} ({c:.2f})" for t, on, c in zip(TAGS, row, conf) if on]
        print(f"\n{text!r}\n  -> {', '.join(picked) or 'no tag'}")


if __name__ == "__main__":
    main()
