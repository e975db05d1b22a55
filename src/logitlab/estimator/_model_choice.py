"""``model="auto"`` on tables: the linear model and the MLP, fitted the same way, the one of lower log-loss kept.

Both candidates are fitted on the same bundle (same split or folds, same preprocessing, same seed); each is
scored by the log-loss of its calibrated probabilities on the rows its calibration was fitted on: the pooled
out-of-fold rows when cross-fitting (``decisions_["validation"]``), else the validation split. The choice and
its numbers go to ``decisions_["model"]``. Images (``cnn``), data read lazily (text and sparse rows: the
``sparse`` model; streamed rows: the ``mlp``; the linear model is fitted full-batch in memory), ``ensemble > 1``, ``model_options`` of the MLP (``hidden``,
``dropout``, ...) and fits without validation rows keep the single network ``model="auto"`` always built
(``mlp`` for features).

Only the :mod:`logitlab.estimator` package imports this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..data import DatasetBundle
    from .classifier import Classifier

__all__ = ["CANDIDATES", "choose_model", "validation_log_loss"]

CANDIDATES = ("linear", "mlp")
"""What ``model="auto"`` compares on a table held in memory."""


def _why_not(clf: Classifier, bundle: DatasetBundle) -> str | None:
    if bundle.kind != "tabular":
        return "image input: the cnn"
    if not (bundle.train.in_memory and bundle.val.in_memory):
        return "rows read lazily (text, sparse or streamed): the network model='auto' builds for them (the linear model is fitted in memory)"
    if int(clf.ensemble) > 1:
        return f"ensemble={clf.ensemble}: an ensemble of MLPs (a linear fit is the same every time)"
    if str(clf.precision) not in ("fp32", "32", "32-true", "float32"):
        return f"precision={clf.precision!r}: the mlp (the linear model is fitted in float32)"
    from ..models import ARCH_OPTIONS

    mlp_only = sorted(k for k in (clf.model_options or {}) if k in ARCH_OPTIONS["mlp"])
    if mlp_only:
        return f"model_options {mlp_only} are the MLP's: the mlp"
    if len(bundle.val) == 0 and getattr(clf, "cv", None) in (None, 1):
        return "no validation rows to compare on: the mlp"
    return None


def validation_log_loss(clf: Classifier, bundle: DatasetBundle) -> tuple[float, int, str] | None:
    """``(log-loss, rows, which rows)`` of ``clf``'s calibrated probabilities on its calibration rows."""
    import torch
    import torch.nn.functional as F

    from ..evaluate import DecisionRule

    got = (clf.decisions_ or {}).get("validation")
    if isinstance(got, dict) and got.get("log_loss") is not None:
        return float(got["log_loss"]), int(got.get("rows", 0)), str(got.get("on", "validation"))
    if len(bundle.val) == 0:
        return None
    z = clf.predict_logits(bundle.val).to(torch.float64)
    z = DecisionRule(clf.task_, clf.calibration_).calibrated_logits(z).to(torch.float64)
    y = bundle.val.y
    if clf.task_ == "multiclass":
        target = y.to(torch.float64) if y.ndim == 2 else y.long().reshape(-1)
        loss = F.cross_entropy(z, target)
    else:
        loss = F.binary_cross_entropy_with_logits(z, y.to(torch.float64).reshape(z.shape))
    return float(loss), len(y), "validation"


def choose_model(clf: Classifier, X: Any, y: Any, run_dir: Any, *, resume: bool = False) -> Classifier:
    """Fit ``clf`` (``model="auto"``): on a table, both :data:`CANDIDATES`, keeping the lower log-loss.

    ``resume`` continues the MLP candidate (the one with checkpoints) from ``run_dir``; the linear one,
    fitted full-batch and deterministically, is fitted again.
    """
    from .._sklearn_base import clone  # scikit-learn's, without importing scikit-learn (seconds)
    from ._state import resolve_seed

    clf.check_params()
    seed = resolve_seed(clf.random_state, clf.seed)
    clf.seed_ = seed
    bundle = clf._bundle(X, y)  # once: both candidates see the same rows, split and preprocessing
    why_not = _why_not(clf, bundle)
    if why_not is not None:
        clf._fit(bundle, None, run_dir, resume=resume)
        clf.decisions_["model"] = {"asked": "auto", "chosen": clf.model_spec_["name"], "reason": why_not}
        return clf
    fitted: dict[str, tuple[Classifier, tuple[float, int, str] | None]] = {}
    for name in CANDIDATES:
        cand = clone(clf).set_params(model=name, random_state=seed, seed=None)
        try:
            mlp = name == "mlp"
            cand._fit(bundle, None, run_dir if mlp else None, resume=resume and mlp)
        except Exception:
            clf.health_ = getattr(cand, "health_", None)  # what the monitor saw before the failure
            raise
        fitted[name] = (cand, validation_log_loss(cand, bundle))
    scores = {k: v[1] for k, v in fitted.items() if v[1] is not None}
    chosen = min(scores, key=lambda k: scores[k][0]) if len(scores) == len(CANDIDATES) else "mlp"
    best = fitted[chosen][0]
    for key, value in vars(best).items():
        if (
            key.endswith("_")
            and not key.startswith("_")
            and key not in ("feature_names_in_", "n_features_in_")
        ):
            setattr(clf, key, value)
    text = ", ".join(f"{k} {v[0]:.4f}" for k, v in scores.items())
    rows, on = next(iter(scores.values()))[1:] if scores else (0, "")
    clf.decisions_ = dict(clf.decisions_)
    clf.decisions_["model"] = {
        "asked": "auto",
        "chosen": chosen,
        "reason": f"lower calibrated log-loss on {rows} {on} rows ({text})",
        "log_loss": {k: round(v[0], 6) for k, v in scores.items()},
    }
    if np.isfinite(scores.get(chosen, (np.nan,))[0]) and chosen != "mlp" and run_dir is not None:
        clf.decisions_["model"]["note"] = "the run directory's metrics.csv is the MLP candidate's"
    return clf
