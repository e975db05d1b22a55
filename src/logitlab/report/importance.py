"""Which input columns a fitted classifier relies on: permutation importance on held-out rows.

scikit-learn's :func:`sklearn.inspection.permutation_importance` shuffles one column at a time and
measures how much the score drops; run on the validation rows of the *raw* table (before one-hot
encoding and scaling) it ranks the columns a user knows by name, which is how an id column or a
leaked label driving the predictions shows up. :class:`~logitlab.Classifier` is a scikit-learn
estimator, so it is passed as it is; the score is the task's threshold-free headline where there is
one (binary: ROC AUC; multiclass: balanced accuracy; multilabel: macro F1 at the tuned thresholds).

The cost is capped: at most ``max_rows`` rows, ``repeats`` shuffles per column (one beyond 30
columns), and tables wider than ``max_columns`` are skipped with a reason.

Examples:
    >>> import numpy as np, pandas as pd
    >>> from logitlab import Classifier
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"signal": rng.normal(size=300), "noise": rng.normal(size=300)})
    >>> y = np.where(X["signal"] > 0, "yes", "no")
    >>> clf = Classifier(epochs=5, verbose=False).fit(X, y)
    >>> table = permutation_table(clf, X.iloc[:200], y[:200], task="binary")
    >>> table["columns"][0]["column"], table["score"]
    ('signal', 'roc_auc')
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..errors import LogitlabWarning

__all__ = ["SCORES", "informative_terms", "permutation_table"]

SCORES: dict[str, str] = {"binary": "roc_auc", "multiclass": "balanced_accuracy", "multilabel": "f1_macro"}
"""The score whose drop is measured, per task."""


def permutation_table(
    clf: Any,
    X: pd.DataFrame,
    y: Any,
    *,
    task: str,
    max_rows: int = 1000,
    max_columns: int = 200,
    repeats: int = 3,
    seed: int = 0,
) -> dict[str, Any]:
    """Permutation importance of each column of ``X`` for a fitted classifier.

    Args:
        clf (Classifier): fitted; its ``predict`` / ``decision_function`` take ``X`` as it is.
        X (DataFrame[N, F]): raw feature columns of held-out rows.
        y (array-like): their labels, as the classifier was trained on them.
        task (str): ``"binary"``, ``"multilabel"`` or ``"multiclass"``.
        max_rows (int): rows used at most (a seeded sample). Default: ``1000``.
        max_columns (int): wider tables are skipped. Default: ``200``.
        repeats (int): shuffles per column (1 beyond 30 columns). Default: ``3``.
        seed (int): seed of the sample and the shuffles. Default: ``0``.

    Returns:
        dict: ``score`` (its name), ``baseline`` (the unshuffled score), ``rows``, ``repeats`` and
        ``columns`` (``{"column", "mean", "std"}`` sorted by mean drop, largest first), or
        ``{"skipped": reason}``.
    """
    from sklearn.inspection import permutation_importance

    if X.shape[1] == 0 or len(X) < 2:
        return {"skipped": "no rows or columns to permute"}
    if X.shape[1] > max_columns:
        return {"skipped": f"{X.shape[1]} columns (more than {max_columns}); computing it would be slow"}
    if len(X) > max_rows:
        rows = np.sort(np.random.default_rng(seed).choice(len(X), max_rows, replace=False))
        X, y = X.iloc[rows], _take(y, rows)
    n_repeats = repeats if X.shape[1] <= 30 else 1
    scorer = _scorer(task)
    with warnings.catch_warnings():  # imputation/unknown-category notes would repeat per shuffle
        warnings.simplefilter("ignore", LogitlabWarning)
        warnings.simplefilter("ignore", UserWarning)
        baseline = scorer(clf, X, y)
        result = permutation_importance(clf, X, y, scoring=scorer, n_repeats=n_repeats, random_state=seed)
    order = np.argsort(-result.importances_mean, kind="stable")
    columns = [
        {
            "column": str(X.columns[j]),
            "mean": float(result.importances_mean[j]),
            "std": float(result.importances_std[j]),
        }
        for j in order
    ]
    return {
        "score": SCORES[task],
        "baseline": float(baseline),
        "rows": len(X),
        "repeats": n_repeats,
        "columns": columns,
    }


def _take(y: Any, rows: np.ndarray) -> Any:
    if isinstance(y, (pd.Series, pd.DataFrame)):
        return y.iloc[rows]
    return np.asarray(y)[rows]


def _scorer(task: str) -> Callable[[Any, pd.DataFrame, Any], float]:
    """``score(clf, X, y)`` for the task (the labels are encoded with the classifier's own encoder)."""
    from sklearn.metrics import balanced_accuracy_score, f1_score, roc_auc_score

    def score(clf: Any, X: pd.DataFrame, y: Any) -> float:
        truth = clf.label_encoder_.transform(y).numpy()
        if task == "binary":
            positive = truth.reshape(-1) >= 0.5
            if positive.all() or not positive.any():
                return float("nan")
            return float(roc_auc_score(positive, clf.predict_logits(X).numpy()[:, 0]))  # the positive's logit
        if task == "multiclass":
            predicted = np.asarray([str(c) for c in clf.predict(X)])
            return float(
                balanced_accuracy_score(
                    np.asarray([str(clf.label_encoder_.classes[t]) for t in truth]), predicted
                )
            )
        return float(f1_score(truth.astype(int), clf.predict(X), average="macro", zero_division=0))

    return score


def informative_terms(clf: Any, k: int = 10) -> dict[str, Any]:
    """Per label, the ``k`` features with the largest positive weights of a linear sparse model on text.

    A text model (``model="sparse"`` without a hidden layer, on a table with text columns) is one weight
    per feature and label on the TF-IDF features, which are never scaled; the largest weights are the
    terms that raise a label's logit most when they occur (``column:term`` for word n-grams,
    ``column:#chars#`` for character n-grams).

    Args:
        clf (Classifier): fitted.
        k (int): terms per label. Default: ``10``.

    Returns:
        dict: ``labels`` (``[{"label", "terms": [(feature name, weight), ...]}]``, largest weight first,
        positive weights only), or ``{"skipped": reason}`` for other models or data.
    """
    from ..data.text import TextTablePreprocessor
    from ..models.sparse import SparseNet

    model = getattr(clf, "model_", None)
    state = getattr(clf, "data_state_", None)
    preprocessor = getattr(state, "preprocessor", None)
    if not isinstance(preprocessor, TextTablePreprocessor):
        return {"skipped": "computed for text columns only"}
    if not isinstance(model, SparseNet) or model.out is not None:
        return {
            "skipped": "computed for the linear sparse model only (model='sparse' without a hidden layer)"
        }
    weight = model.first.weight.detach().cpu().double().numpy()  # [F, n_outputs]
    names = preprocessor.feature_names
    labels = []
    for j, label in enumerate(clf.label_names_):
        column = weight[:, j]
        top = np.argsort(-column, kind="stable")[:k]
        labels.append(
            {"label": str(label), "terms": [(names[i], float(column[i])) for i in top if column[i] > 0]}
        )
    return {"labels": labels}
