"""Binary cross entropy with logits: pos_weight, per-element weight and label smoothing toward 0.5."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ._common import (
    Reduction,
    check_pair,
    check_range,
    check_reduction,
    check_weight,
    reduce,
    register_sigmoid_weights,
)
from ._compiled import CompiledLoss, check_compile, use_compiled
from ._fused import FusedBCE, can_fuse

__all__ = ["BCEWithLogitsLoss", "bce_with_logits"]


def bce_elementwise(x: Tensor, t: Tensor, pos_weight: Tensor | None = None) -> Tensor:
    """Composite elementwise BCE ``-(pw*t*logsigmoid(x) + (1-t)*logsigmoid(-x))``; differentiable in every input."""
    if pos_weight is None:
        return F.softplus(x) - t * x
    return -(pos_weight * t * F.logsigmoid(x) + (1 - t) * F.logsigmoid(-x))


def bce_with_logits(
    logits: Tensor,
    targets: Tensor,
    *,
    pos_weight: Tensor | None = None,
    weight: Tensor | None = None,
    label_smoothing: float = 0.0,
    reduction: Reduction = "mean",
    fused: bool = True,
    compile: bool = False,
) -> Tensor:
    """Binary cross entropy on logits, ``-(pw*t*log sigmoid(x) + (1-t)*log(1-sigmoid(x)))``, in float32.

    Label smoothing moves targets toward 0.5: ``t' = t*(1-s) + s/2`` (Szegedy et al. 2016, "Rethinking
    the Inception Architecture", applied per label).

    Args:
        logits (Tensor[N] or Tensor[N, L]): raw scores.
        targets (Tensor): float in [0, 1], shaped like ``logits`` (see ``ll.prepare_targets``).
        pos_weight (Tensor[L], optional): weight of the positive term per label. Default: ``None``.
        weight (Tensor, optional): per-element/per-sample weight broadcastable to ``logits``. Default: ``None``.
        label_smoothing (float): ``s`` in [0, 1). Default: ``0.0``.
        reduction (str): ``"none"``, ``"mean"`` (an empty batch gives 0) or ``"sum"``. Default: ``"mean"``.
        fused (bool): use the fused kernel (one saved tensor; no double backward). Default: ``True``.
        compile (bool): run the fused math as ``torch.compile``'d kernels (opt-in; needs ``fused=True``):
            saves only the inputs, so about half the fused kernel's extra memory. The first call of each
            configuration compiles (seconds); needs a C/C++ compiler on CPU, Triton on CUDA, else a
            ConfigError. See ``logitlab.losses._compiled``. Default: ``False``.

    Returns:
        Tensor: float32 loss (scalar, or shaped like ``logits`` for ``"none"``).

    Examples:
        >>> x, y = torch.tensor([0.0, 2.0]), torch.tensor([1.0, 0.0])
        >>> bce_with_logits(x, y, reduction="none")
        tensor([0.6931, 2.1269])
    """
    check_pair(logits, targets, family="sigmoid", pos_weight=pos_weight)
    check_reduction(reduction)
    check_weight(weight, logits)
    check_range(
        "label_smoothing", label_smoothing, 0.0, 1.0, hi_open=True, fix="use a small value such as 0.1."
    )
    check_compile(compile, fused)
    if compile and can_fuse(targets, pos_weight, weight) and use_compiled(logits):
        spec = ("bce", (float(label_smoothing),))  # smoothing inside the kernel: the raw targets are saved
        return CompiledLoss.apply(logits, targets, pos_weight, weight, spec, reduction)
    t = targets if targets.dtype == torch.float64 else targets.float()
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if fused and can_fuse(targets, pos_weight, weight):
        return FusedBCE.apply(logits, t, pos_weight, weight, reduction)
    loss = bce_elementwise(logits.to(t.dtype), t, pos_weight)
    if weight is not None:
        loss = loss * weight
    return reduce(loss, reduction)


class BCEWithLogitsLoss(nn.Module):
    """Module form of :func:`bce_with_logits`; ``pos_weight`` [L] and ``weight`` are buffers.

    The ``compile`` option is stored as ``.compiled`` (``nn.Module.compile`` is a method).

    Examples:
        >>> loss = BCEWithLogitsLoss(pos_weight=torch.tensor([3.0]), label_smoothing=0.1)
        >>> round(loss(torch.zeros(4, 1), torch.ones(4, 1)).item(), 4)
        2.0101
    """

    family = "sigmoid"
    pos_weight: Tensor | None
    weight: Tensor | None

    def __init__(
        self,
        *,
        pos_weight: Tensor | None = None,
        weight: Tensor | None = None,
        label_smoothing: float = 0.0,
        reduction: Reduction = "mean",
        fused: bool = True,
        compile: bool = False,
    ) -> None:
        super().__init__()
        check_reduction(reduction)
        check_range(
            "label_smoothing", label_smoothing, 0.0, 1.0, hi_open=True, fix="use a small value such as 0.1."
        )
        check_compile(compile, fused)
        register_sigmoid_weights(self, pos_weight, weight)
        self.label_smoothing, self.reduction, self.fused = label_smoothing, reduction, fused
        self.compiled = compile  # not ``self.compile``: that is nn.Module's method

    def forward(self, logits: Tensor, targets: Tensor) -> Tensor:
        """Return the loss of ``logits`` against ``targets`` (see the function for shapes)."""
        return bce_with_logits(
            logits,
            targets,
            pos_weight=self.pos_weight,
            weight=self.weight,
            label_smoothing=self.label_smoothing,
            reduction=self.reduction,  # type: ignore[arg-type]
            fused=self.fused,
            compile=self.compiled,
        )
