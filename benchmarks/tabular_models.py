"""The models of benchmarks.tabular, each built for one task and one seed, all on the CPU with one thread.

* ``logitlab``: ``logitlab.Classifier()`` with its defaults (only ``seed`` and ``verbose=False`` passed; the
  DataFrame goes in as it is: the library imputes, standardises and one-hot encodes it itself).
* ``logreg``: scikit-learn Pipeline: numeric median imputation + StandardScaler, categorical most-frequent
  imputation + OneHotEncoder(handle_unknown="ignore"); LogisticRegression(max_iter=2000) at its default C=1,
  unweighted (a class-weighted fit shifts its probabilities; unweighted log-loss keeps them calibrated).
* ``hgb``: HistGradientBoostingClassifier(categorical_features="from_dtype"), native NaN and categoricals.
* ``lightgbm``: LGBMClassifier defaults (``n_jobs=1``), native NaN and ``category`` columns.
* ``catboost``: CatBoostClassifier defaults (1,000 trees, ``thread_count=1``), categoricals as ``cat_features``
  (missing categories as the string ``"nan"``), native NaN in numeric columns.
* ``realmlp``, ``tabm``: pytabkit's RealMLP_TD_Classifier and TabM_D_Classifier (their tuned defaults;
  ``device="cpu", n_threads=1``). pytabkit takes ``category`` columns natively; missing numeric values are
  imputed with the training median first (pytabkit does not accept NaN in numeric columns).

The same decision rule for every peer: binary F1 thresholds tuned by 5-fold cross-validation with scikit-learn's
``TunedThresholdClassifierCV(scoring="f1", cv=StratifiedKFold(5, shuffle=True))`` (refit on all training rows,
so six fits); multilabel the same per label; multiclass the argmax (what maximises accuracy, as logitlab's
default). logitlab tunes its own thresholds. No peer gets a post-hoc calibration map: each is fitted by
unweighted log-loss, whose probabilities are calibrated by construction (measured: ``cal_slope`` in the table).

Multilabel: logitlab fits one network with one sigmoid output per label; the others are wrapped in
``_PerLabel`` (one binary model per label, like scikit-learn's MultiOutputClassifier: pytabkit's classifiers
have no multilabel mode).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

__all__ = ["MODELS", "fit_predict"]

MODELS = ("logitlab", "logreg", "hgb", "lightgbm", "catboost", "realmlp", "tabm")
CV_FOLDS = 5
# Options of the local prototype (benchmarks.tabular_prototype), not of Classifier: tried before changing defaults.
PROTOTYPE_OPTIONS = ("preprocess", "ensemble", "min_steps", "embeddings")


def _categoricals(X: pd.DataFrame) -> list[str]:
    return [str(c) for c in X.columns if str(X[c].dtype) == "category"]


def _logreg(X: pd.DataFrame, seed: int) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    cats = _categoricals(X)
    nums = [str(c) for c in X.columns if str(c) not in cats]
    pre = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), nums),
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")
                ),
                cats,
            ),
        ]
    )
    lr = LogisticRegression(max_iter=2000, random_state=seed)
    return make_pipeline(pre, lr)


def _hgb(X: pd.DataFrame, seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=seed)


class _MedianImputed(ClassifierMixin, BaseEstimator):
    """Fill NaN in numeric columns with the training median, then fit/predict the wrapped estimator."""

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator

    def _fill(self, X: pd.DataFrame) -> pd.DataFrame:
        return X.fillna(self.medians_) if len(self.medians_) else X

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> _MedianImputed:
        nums = [c for c in X.columns if str(X[c].dtype) != "category"]
        self.medians_ = X[nums].median()
        self.estimator.fit(self._fill(X), y)
        self.classes_ = self.estimator.classes_
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.estimator.predict(self._fill(X)))

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.estimator.predict_proba(self._fill(X)))


def _lightgbm(seed: int) -> Any:
    from lightgbm import LGBMClassifier

    return LGBMClassifier(n_jobs=1, verbose=-1, random_state=seed)


class _CatBoost(ClassifierMixin, BaseEstimator):
    """CatBoostClassifier with the ``category`` columns as ``cat_features`` (missing ones as ``"nan"``)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def _frame(self, X: pd.DataFrame) -> pd.DataFrame:
        X = X.copy()
        for c in _categoricals(X):
            X[c] = X[c].astype(object).where(X[c].notna(), "nan").astype(str)
        return X

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> _CatBoost:
        from catboost import CatBoostClassifier

        self.model_ = CatBoostClassifier(
            thread_count=1,
            verbose=0,
            random_seed=self.seed,
            cat_features=_categoricals(X),
            allow_writing_files=False,
        )
        self.model_.fit(self._frame(X), y)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.model_.predict(self._frame(X))).reshape(len(X))

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.model_.predict_proba(self._frame(X)))


def cv_threshold(model: Any, seed: int, *, thresholds: int = 100) -> Any:
    """``model`` with its F1 threshold tuned by 5-fold CV: scikit-learn's ``TunedThresholdClassifierCV``
    (its default grid of 100 thresholds; fewer only to keep a test fast)."""
    from sklearn.model_selection import StratifiedKFold, TunedThresholdClassifierCV

    folds = StratifiedKFold(CV_FOLDS, shuffle=True, random_state=seed)
    return TunedThresholdClassifierCV(model, scoring="f1", cv=folds, random_state=seed, thresholds=thresholds)


def _pytabkit(name: str, seed: int) -> Any:
    from pytabkit import RealMLP_TD_Classifier, TabM_D_Classifier

    cls = RealMLP_TD_Classifier if name == "realmlp" else TabM_D_Classifier
    return _MedianImputed(cls(device="cpu", random_state=seed, n_threads=1, verbosity=0))


def _logitlab(seed: int, params: dict[str, Any]) -> Any:
    from logitlab import Classifier

    params = dict(params)
    prototype = {k: params.pop(k) for k in PROTOTYPE_OPTIONS if k in params}
    accepted = set(Classifier().get_params())
    wanted = {"random_state": seed, "verbose": False, **params}
    unknown = sorted(set(wanted) - accepted)
    if unknown:
        raise KeyError(f"Classifier() has no parameter(s) {unknown}; it takes {sorted(accepted)}")
    if prototype:
        from benchmarks.tabular_prototype import Prototype

        return Prototype(wanted, **prototype)
    return Classifier(**wanted)


def build(name: str, X: pd.DataFrame, task: str, seed: int, params: dict[str, Any] | None = None) -> Any:
    """An unfitted model ``name`` (one of :data:`MODELS`) for ``task``."""
    if name == "logitlab":
        return _logitlab(seed, params or {})
    if name == "logreg":
        model = _logreg(X, seed)
    elif name == "hgb":
        model = _hgb(X, seed)
    elif name == "lightgbm":
        model = _lightgbm(seed)
    elif name == "catboost":
        model = _CatBoost(seed)
    elif name in ("realmlp", "tabm"):
        model = _pytabkit(name, seed)
    else:
        raise KeyError(f"unknown model {name!r}; expected one of {MODELS}")
    if task in ("binary", "multilabel"):
        model = cv_threshold(model, seed)
    if task == "multilabel":
        model = _PerLabel(model)
    return model


class _PerLabel:
    """One clone of a binary model per label (scikit-learn's MultiOutputClassifier without ``clone``)."""

    def __init__(self, template: Any) -> None:
        self.template = template

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> _PerLabel:
        import copy

        self.models_ = [copy.deepcopy(self.template).fit(X, y[:, j]) for j in range(y.shape[1])]
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return np.column_stack([m.predict(X) for m in self.models_]).astype(np.int64)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return np.column_stack([_positive_column(m, m.predict_proba(X)) for m in self.models_])


def _positive_column(model: Any, proba: np.ndarray) -> np.ndarray:
    classes = list(np.asarray(model.classes_).tolist())
    return proba[:, classes.index(1)] if 1 in classes else np.zeros(len(proba))


def fit_predict(
    name: str,
    X_train: pd.DataFrame,
    y_train: np.ndarray,
    X_test: pd.DataFrame,
    *,
    task: str,
    classes: np.ndarray | None,
    seed: int,
    params: dict[str, Any] | None = None,
    info: dict[str, Any] | None = None,
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Fit ``name`` and predict ``X_test``.

    Returns:
        (proba, pred, fit_s, predict_s): binary ``p(1)`` [N] and 0/1 [N]; multiclass ``[N, C]`` over
        ``classes`` and class strings [N]; multilabel ``[N, L]`` probabilities and 0/1 ``[N, L]``. A dict
        ``info`` receives logitlab's ``decisions_["model"]``, ``["cv"]`` and ``["validation"]``.
    """
    import time

    model = build(name, X_train, task, seed, params)
    t0 = time.perf_counter()
    model.fit(X_train, y_train)
    fit_s = time.perf_counter() - t0
    decisions = getattr(model, "decisions_", None)
    if info is not None and isinstance(decisions, dict):  # logitlab: which model and folds it chose, and why
        info.update({k: decisions[k] for k in ("model", "cv", "validation") if k in decisions})
    t0 = time.perf_counter()
    proba = np.asarray(model.predict_proba(X_test), dtype=np.float64)
    pred = np.asarray(model.predict(X_test))
    predict_s = time.perf_counter() - t0
    if task == "binary":
        proba = _positive_column(model, proba)
        pred = pred.astype(np.int64)
    elif task == "multiclass":
        order = [list(map(str, np.asarray(model.classes_).tolist())).index(c) for c in classes]
        proba = proba[:, order]
        pred = pred.astype(str)
    else:
        pred = pred.astype(np.int64).reshape(proba.shape)
    return proba, pred, fit_s, predict_s
