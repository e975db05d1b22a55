"""What the outputs are: predictions instead of logits, or the same answer for every row."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch

from ._inspect import chance_loss, reference_loss

if TYPE_CHECKING:
    from ._context import Batch

__all__ = ["CONSTANT_TOLERANCE", "check_constant_outputs", "check_predictions", "constant_spread"]

CONSTANT_TOLERANCE = 1e-6  # rows whose outputs differ by less than this (relative to |x| >= 1) are identical
# autograd nodes of operations that turn logits into predictions (their gradient is zero or undefined)
_PREDICTION_NODES = ("Round", "Floor", "Ceil", "Trunc", "Sign", "Heaviside")
_PREDICTIONS_FIX = (
    "pass the model's raw float outputs (logits) to the loss; make predictions (logits.argmax(1), "
    "logits > 0) only for metrics, after the loss."
)


def check_predictions(b: Batch) -> None:
    """Integer outputs, or whole numbers made by rounding: predictions passed where logits belong."""
    x = b.outputs
    if not x.is_floating_point():
        lo, hi = (int(x.min()), int(x.max())) if x.numel() else (0, 0)
        b.add(
            "predictions-not-logits",
            f"The outputs are {x.dtype} values in [{lo}, {hi}] (shape {list(x.shape)}): class predictions from "
            "argmax, a threshold or rounding, not logits. The loss needs the raw float scores, and no gradient "
            "flows back through argmax or rounding.",
            _PREDICTIONS_FIX,
        )
        b.done = True  # every later check would describe the predictions as if they were logits
        return
    d = x.detach()
    if d.numel() < 4 or not bool(torch.isfinite(d).all()) or not bool((d == d.round()).all()):
        return
    if d.min().item() < 0 or not bool((d != d.flatten()[0]).any()):
        return  # logits can be whole numbers by chance only when constant (zeros): that is another finding
    node = type(x.grad_fn).__name__ if x.grad_fn is not None else None
    if node is not None and not node.startswith(_PREDICTION_NODES):
        return
    how = f"made by {node}" if node else "with no autograd graph"
    b.add(
        "predictions-not-logits",
        f"The outputs hold only whole numbers in [{d.min().item():.0f}, {d.max().item():.0f}] ({how}): these look "
        "like predictions (argmax or rounded probabilities), not logits. The loss on them trains nothing: the "
        "gradient of rounding and argmax is zero or missing.",
        _PREDICTIONS_FIX,
        "error" if node else "warning",
    )
    b.done = True  # every later check would describe the predictions as if they were logits


def constant_spread(x: torch.Tensor) -> float:
    """The largest difference between rows of ``x`` (axis 0), over every other position."""
    rows = x.detach().reshape(x.shape[0], -1).double()
    return (rows.max(0).values - rows.min(0).values).max().item()


def check_constant_outputs(b: Batch) -> None:
    """Outputs identical for every row: the model ignores its input (a loss at ln 2 or ln C)."""
    x = b.outputs.detach()
    if b.has_error or not x.is_floating_point() or x.ndim == 0 or x.shape[0] < 4 or not x.numel():
        return
    if (b.family == "softmax" and x.ndim == 1) or not bool(torch.isfinite(x).all()):
        return  # one batchless sample has a single row
    scale = max(1.0, x.abs().max().item())
    if constant_spread(x) > CONSTANT_TOLERANCE * scale:
        return
    first = x.reshape(x.shape[0], -1)[0].double().tolist()
    shown = ", ".join(f"{v:.4g}" for v in first[:6]) + (", ..." if len(first) > 6 else "")
    ref = reference_loss(b.outputs, b.targets, b.family).item()
    n_cls = x.shape[-1] if b.family == "softmax" and x.ndim == 1 else b.n_outputs
    chance = chance_loss(b.family, n_cls)
    what = "ln 2 per label" if b.family == "sigmoid" else f"ln {n_cls}"
    level = (
        f", the chance level ({what} = {chance:.4g})"
        if math.isfinite(ref) and abs(ref - chance) < 1e-3
        else ""
    )
    b.add(
        "constant-outputs",
        f"All {x.shape[0]} rows of the outputs are the same ([{shown}]): the model gives every input the same "
        f"answer, so it cannot rank or separate them; the unweighted loss is {ref:.4g}{level}.",
        "check that the inputs reach the model and differ (not all zeros or one constant, normalised, not "
        "detached), and look for dead ReLUs (diagnose(..., model=, inputs=) shows the gradients); a model that "
        "collapsed during training needs a lower learning rate or warmup.",
    )
