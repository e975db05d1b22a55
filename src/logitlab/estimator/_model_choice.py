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

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..data import DatasetBundle
    from ._persist import Persisting

__all__ = ["CANDIDATES", "model_choice", "single_network_reason", "validation_log_loss"]

CANDIDATES = ("linear", "mlp")
"""What ``model="auto"`` compares on a table held in memory."""


def single_network_reason(p: Mapping[str, Any], bundle: DatasetBundle) -> str | None:
    """Why ``model="auto"`` keeps the one network it builds on ``bundle`` for parameters ``p`` (``None``: compare)."""
    if bundle.kind != "tabular":
        return "image input: the cnn"
    if not (bundle.train.in_memory and bundle.val.in_memory):
        return "rows read lazily (text, sparse or streamed): the network model='auto' builds for them (the linear model is fitted in memory)"
    if int(p["ensemble"]) > 1:
        return f"ensemble={p['ensemble']}: an ensemble of MLPs (a linear fit is the same every time)"
    if str(p["precision"]) not in ("fp32", "32", "32-true", "float32"):
        return f"precision={p['precision']!r}: the mlp (the linear model is fitted in float32)"
    from ..models import ARCH_OPTIONS

    mlp_only = sorted(k for k in (p["model_options"] or {}) if k in ARCH_OPTIONS["mlp"])
    if mlp_only:
        return f"model_options {mlp_only} are the MLP's: the mlp"
    if len(bundle.val) == 0 and p["cv"] in (None, 1):
        return "no validation rows to compare on: the mlp"
    return None


def validation_log_loss(clf: Persisting, bundle: DatasetBundle) -> tuple[float, int, str] | None:
    """``(log-loss, rows, which rows)`` of ``clf``'s calibrated probabilities on its calibration rows."""
    import torch
    import torch.nn.functional as F

    from ..evaluate import DecisionRule

    got = clf.fit_decisions_.validation
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


def model_choice(
    scores: Mapping[str, tuple[float, int, str]], chosen: str, with_run_dir: bool
) -> dict[str, Any]:
    """What ``decisions_["model"]`` records of the comparison: the choice, its reason and each log-loss."""
    text = ", ".join(f"{k} {v[0]:.4f}" for k, v in scores.items())
    rows, on = next(iter(scores.values()))[1:] if scores else (0, "")
    out: dict[str, Any] = {
        "asked": "auto",
        "chosen": chosen,
        "reason": f"lower calibrated log-loss on {rows} {on} rows ({text})",
        "log_loss": {k: round(v[0], 6) for k, v in scores.items()},
    }
    if np.isfinite(scores.get(chosen, (np.nan,))[0]) and chosen != "mlp" and with_run_dir:
        out["note"] = "the run directory's metrics.csv is the MLP candidate's"
    return out
