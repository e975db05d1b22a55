"""Probabilities read from a model trained with a weighted loss are shifted: say by how much, and the fix.

Weighting the positive term of BCE by ``w`` makes the loss's minimiser ``log(w * p / (1 - p))``: the
learned log-odds move up by ``log(w)`` (class weights in cross entropy move each class's logit by
about ``log(weight)`` against the others). Decisions at tuned thresholds are unaffected; probabilities
are not. A finding of severity ``info``: a weighted loss is the recommended setup for imbalanced data
(correct setups must give no warning), and how the outputs are read later is not visible here.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
from torch import Tensor

if TYPE_CHECKING:
    from ._context import Batch

__all__ = ["check_weighted_probabilities"]

_FIX = (
    "take decisions at thresholds tuned on validation data (ll.tune_thresholds); for probabilities, "
    "calibrate them on a validation split (ll.calibrate; the Classifier's calibrated predict_proba), or "
    "as a first correction subtract log(pos_weight) (log(weight) per class) from the logits."
)


def _text(values: Tensor) -> str:
    shown = ", ".join(f"{v:.3g}" for v in values.flatten()[:6].tolist())
    return f"[{shown}{', ...' if values.numel() > 6 else ''}]"


def check_weighted_probabilities(b: Batch) -> None:
    """A loss with pos_weight != 1 or unequal class weights: its probabilities need calibrating."""
    if b.has_error or b.spec.expects != "logits" or b.spec.origin not in ("torch", "logitlab"):
        return
    if b.family == "sigmoid" and b.spec.pos_weight is not None:
        _sigmoid(b, b.spec.pos_weight.double().flatten())
    elif b.family == "softmax" and b.spec.weight is not None and b.outputs.ndim == 2:
        _softmax(b, b.spec.weight.double().flatten())


def _usable(w: Tensor) -> bool:
    return bool(torch.isfinite(w).all()) and bool((w > 0).all())


def _sigmoid(b: Batch, pw: Tensor) -> None:
    if not _usable(pw) or bool(((pw - 1).abs() < 1e-6).all()):
        return
    rates = ""
    t = b.targets.detach().double()
    if t.shape == b.outputs.shape and bool(((t == 0) | (t == 1)).all()):
        p = torch.sigmoid(b.outputs.detach().double()).mean().item()
        rates = f" In this batch the mean predicted probability is {p:.3f} against a base rate of {t.mean().item():.3f}."
    b.add(
        "uncalibrated-weighted-loss",
        f"The loss weights positives by pos_weight {_text(pw)}: a model trained with it learns log-odds shifted by "
        f"about log(pos_weight) = {_text(pw.log())}, so sigmoid(logits) overstates P(positive) where pos_weight > 1 "
        f"(and understates it below 1).{rates}",
        _FIX,
    )


def _softmax(b: Batch, w: Tensor) -> None:
    if not _usable(w) or w.numel() != b.n_outputs or w.max().item() / w.min().item() < 1 + 1e-6:
        return
    k = int(w.argmax())
    rates = ""
    t = b.targets.detach()
    if not t.is_floating_point() and t.shape == b.outputs.shape[:1]:
        p = torch.softmax(b.outputs.detach().double(), dim=1)[:, k].mean().item()
        rates = (
            f" In this batch class {k} (weight {w[k].item():.3g}) gets a mean predicted probability of {p:.3f} "
            f"against a frequency of {(t == k).double().mean().item():.3f}."
        )
    shift = w.log() - math.log(w.mean().item())
    b.add(
        "uncalibrated-weighted-loss",
        f"The loss weights classes by {_text(w)}: a model trained with it raises each class's logit by about "
        f"log(weight) against the others ({_text(shift)} around the mean), so softmax(logits) overstates the "
        f"up-weighted classes.{rates}",
        _FIX,
    )
