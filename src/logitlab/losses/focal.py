"""Focal losses (Lin et al. 2017, "Focal Loss for Dense Object Detection"): sigmoid and softmax forms."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import ConfigError
from ._common import (
    Reduction,
    check_pair,
    check_range,
    check_reduction,
    check_weight,
    label_errors,
    reduce,
    register_sigmoid_weights,
    safe_pow,
    to_buffer,
)
from ._compiled import CompiledLoss, check_compile, use_compiled
from ._fused import FusedFocal, can_fuse
from .bce import bce_elementwise

__all__ = ["SigmoidFocalLoss", "SoftmaxFocalLoss", "sigmoid_focal_loss", "softmax_focal_loss"]


def _check_gamma_alpha(gamma: float, alpha: float | None) -> None:
    if not isinstance(gamma, (int, float)) or not gamma >= 0 or gamma == float("inf"):
        raise ConfigError(
            f"Expected argument `gamma` to be >= 0; got {gamma!r}.",
            fix="use gamma=2.0 (the paper's default).",
            code="bad-gamma",
        )
    if alpha is not None:
        check_range("alpha", alpha, 0.0, 1.0, fix="use alpha=0.25 (the paper's default) or alpha=None.")


def sigmoid_focal_loss(
    logits: Tensor,
    targets: Tensor,
    *,
    gamma: float = 2.0,
    alpha: float | None = 0.25,
    pos_weight: Tensor | None = None,
    weight: Tensor | None = None,
    reduction: Reduction = "mean",
    fused: bool = True,
    compile: bool = False,
) -> Tensor:
    """Sigmoid focal loss ``alpha_t * BCE_w * (1 - p_t)**gamma`` (Lin et al. 2017), in float32.

    ``p_t = exp(-BCE)`` comes from the unweighted BCE (for 0/1 targets ``p*t + (1-p)*(1-t)``, as in
    torchvision), so ``pos_weight`` scales the loss but not the focusing; ``1 - p_t`` is computed as
    ``-expm1(-BCE)`` in log space. ``alpha_t = alpha*t + (1-alpha)*(1-t)``.

    Args:
        logits (Tensor[N] or Tensor[N, L]): raw scores.
        targets (Tensor): float in [0, 1], shaped like ``logits``.
        gamma (float): focusing parameter, >= 0. Default: ``2.0``.
        alpha (float, optional): positive-class balance in [0, 1]; ``None`` for none. Default: ``0.25``.
        pos_weight (Tensor[L], optional): positive-term weight per label. Default: ``None``.
        weight (Tensor, optional): per-element/per-sample weight broadcastable to ``logits``. Default: ``None``.
        reduction (str): ``"none"``, ``"mean"`` (empty batch -> 0) or ``"sum"``. Default: ``"mean"``.
        fused (bool): fused kernel (no double backward). Default: ``True``.
        compile (bool): run the fused math as ``torch.compile``'d kernels (opt-in; needs ``fused=True``):
            saves only the inputs, so about half the fused kernel's extra memory. The first call of each
            configuration compiles (seconds); needs a C/C++ compiler on CPU, Triton on CUDA, else a
            ConfigError. See ``logitlab.losses._compiled``. Default: ``False``.

    Examples:
        >>> x, y = torch.tensor([0.0, 3.0]), torch.tensor([1.0, 1.0])
        >>> sigmoid_focal_loss(x, y, reduction="none")
        tensor([4.3322e-02, 2.7321e-05])
    """
    check_pair(logits, targets, family="sigmoid", pos_weight=pos_weight)
    check_reduction(reduction)
    check_weight(weight, logits)
    _check_gamma_alpha(gamma, alpha)
    check_compile(compile, fused)
    if fused and can_fuse(targets, pos_weight, weight):
        if compile and use_compiled(logits):
            spec = ("focal", (float(gamma), None if alpha is None else float(alpha)))
            return CompiledLoss.apply(logits, targets, pos_weight, weight, spec, reduction)
        return FusedFocal.apply(logits, targets, float(gamma), alpha, pos_weight, weight, reduction)
    dtype = torch.float64 if logits.dtype == torch.float64 else torch.float32
    x, t = logits.to(dtype), targets.to(dtype)
    ce = bce_elementwise(x, t)
    ce_w = ce if pos_weight is None else bce_elementwise(x, t, pos_weight)
    loss = ce_w * safe_pow(-torch.expm1(-ce), gamma)
    if alpha is not None:
        loss = loss * (alpha * t + (1 - alpha) * (1 - t))
    if weight is not None:
        loss = loss * weight
    return reduce(loss, reduction)


def softmax_focal_loss(
    logits: Tensor,
    targets: Tensor,
    *,
    gamma: float = 2.0,
    weight: Tensor | None = None,
    reduction: Reduction = "mean",
) -> Tensor:
    """Softmax focal loss ``-sum_c alpha_c t_c (1 - p_c)**gamma log p_c`` (Lin et al. 2017), in float32.

    Args:
        logits (Tensor[N, C]): raw scores.
        targets (Tensor[N] int64 or Tensor[N, C] float): class indices or class probabilities.
        gamma (float): focusing parameter, >= 0. Default: ``2.0``.
        weight (Tensor[C], optional): class weights ``alpha_c``. Default: ``None``.
        reduction (str): ``"none"`` ([N]), ``"mean"`` (plain mean over samples; empty -> 0) or ``"sum"``.
            Default: ``"mean"``.

    Examples:
        >>> round(softmax_focal_loss(torch.zeros(1, 2), torch.tensor([0])).item(), 4)
        0.1733
    """
    check_pair(logits, targets, family="softmax", class_weight=weight)
    check_reduction(reduction)
    _check_gamma_alpha(gamma, None)
    dtype = torch.float64 if logits.dtype == torch.float64 else torch.float32
    logp = torch.log_softmax(logits.to(dtype), dim=-1)
    if targets.is_floating_point():
        t = targets.to(dtype)
    else:
        with label_errors(logits, targets):
            t = F.one_hot(targets, logits.shape[-1]).to(dtype)
    elem = -t * safe_pow(-torch.expm1(logp), gamma) * logp
    if weight is not None:
        elem = elem * weight.to(dtype)
    return reduce(elem.sum(-1), reduction)


class SigmoidFocalLoss(nn.Module):
    """Module form of :func:`sigmoid_focal_loss`; the ``compile`` option is stored as ``.compiled``.

    Examples:
        >>> loss = SigmoidFocalLoss(gamma=2.0, alpha=None)
        >>> round(loss(torch.zeros(2, 3), torch.ones(2, 3)).item(), 4)
        0.1733
    """

    family = "sigmoid"
    pos_weight: Tensor | None
    weight: Tensor | None

    def __init__(
        self,
        *,
        gamma: float = 2.0,
        alpha: float | None = 0.25,
        pos_weight: Tensor | None = None,
        weight: Tensor | None = None,
        reduction: Reduction = "mean",
        fused: bool = True,
        compile: bool = False,
    ) -> None:
        super().__init__()
        check_reduction(reduction)
        _check_gamma_alpha(gamma, alpha)
        check_compile(compile, fused)
        register_sigmoid_weights(self, pos_weight, weight)
        self.gamma, self.alpha, self.reduction, self.fused = gamma, alpha, reduction, fused
        self.compiled = compile  # not ``self.compile``: that is nn.Module's method

    def forward(self, logits: Tensor, targets: Tensor) -> Tensor:
        """Return the loss of ``logits`` against ``targets`` (see the function for shapes)."""
        return sigmoid_focal_loss(
            logits,
            targets,
            gamma=self.gamma,
            alpha=self.alpha,
            pos_weight=self.pos_weight,
            weight=self.weight,
            reduction=self.reduction,  # type: ignore[arg-type]
            fused=self.fused,
            compile=self.compiled,
        )


class SoftmaxFocalLoss(nn.Module):
    """Module form of :func:`softmax_focal_loss`; class weights [C] are the ``weight`` buffer.

    Examples:
        >>> loss = SoftmaxFocalLoss(gamma=0.0)
        >>> round(loss(torch.zeros(1, 4), torch.tensor([2])).item(), 4)  # log 4
        1.3863
    """

    family = "softmax"
    weight: Tensor | None

    def __init__(
        self, *, gamma: float = 2.0, weight: Tensor | None = None, reduction: Reduction = "mean"
    ) -> None:
        super().__init__()
        check_reduction(reduction)
        _check_gamma_alpha(gamma, None)
        self.register_buffer("weight", to_buffer("weight", weight, kind="class"))
        self.gamma, self.reduction = gamma, reduction

    def forward(self, logits: Tensor, targets: Tensor) -> Tensor:
        """Return the loss of ``logits`` against ``targets`` (see the function for shapes)."""
        return softmax_focal_loss(
            logits,
            targets,
            gamma=self.gamma,
            weight=self.weight,
            reduction=self.reduction,  # type: ignore[arg-type]
        )
