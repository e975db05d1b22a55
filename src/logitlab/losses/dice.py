"""Soft Dice loss (Milletari et al. 2016, "V-Net") for binary/multi-label logits, and BCE + Dice."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..errors import ConfigError
from ._common import (
    Reduction,
    check_pair,
    check_reduction,
    check_weight,
    reduce,
    register_sigmoid_weights,
)
from .bce import bce_with_logits

__all__ = ["BCEDiceLoss", "DiceLoss", "bce_dice_loss", "soft_dice_loss"]


def _check_smooth(smooth: float) -> None:
    if not isinstance(smooth, (int, float)) or not 0 <= smooth < float("inf"):
        raise ConfigError(
            f"Expected argument `smooth` to be >= 0; got {smooth!r}.",
            fix="use smooth=1.0.",
            code="bad-smooth",
        )


def soft_dice_loss(
    logits: Tensor,
    targets: Tensor,
    *,
    smooth: float = 1.0,
    weight: Tensor | None = None,
    reduction: Reduction = "mean",
) -> Tensor:
    """Per-label soft Dice over the batch: ``1 - (2 sum w p t + s) / (sum w p + sum w t + s)``, ``p = sigmoid(x)``.

    Args:
        logits (Tensor[N] or Tensor[N, L]): raw scores (``[N]`` counts as one label).
        targets (Tensor): float in [0, 1], shaped like ``logits``.
        smooth (float): additive smoothing ``s`` >= 0 (an empty label then scores 0). Default: ``1.0``.
        weight (Tensor, optional): per-element/per-sample weight broadcastable to ``logits``. Default: ``None``.
        reduction (str): ``"none"`` (one value per label, [L]), ``"mean"`` or ``"sum"`` over labels.
            Default: ``"mean"``.

    Examples:
        >>> soft_dice_loss(torch.tensor([[30.0, -30.0]]), torch.tensor([[1.0, 0.0]]), reduction="none")
        tensor([0., 0.])
    """
    check_pair(logits, targets, family="sigmoid")
    check_reduction(reduction)
    check_weight(weight, logits)
    _check_smooth(smooth)
    dtype = torch.float64 if logits.dtype == torch.float64 else torch.float32
    p, t = torch.sigmoid(logits.to(dtype)), targets.to(dtype)
    if weight is not None:
        w = weight.to(dtype).expand_as(p)
        p_w, t_w = p * w, t * w
    else:
        p_w, t_w = p, t
    if p.ndim == 1:
        p, p_w, t_w = p[:, None], p_w[:, None], t_w[:, None]
        t = t[:, None]
    dims = tuple(range(p.ndim - 1))
    inter = (p_w * t).sum(dims)
    dice = 1 - (2 * inter + smooth) / (p_w.sum(dims) + t_w.sum(dims) + smooth)
    return reduce(dice, reduction)


def bce_dice_loss(
    logits: Tensor,
    targets: Tensor,
    *,
    bce_weight: float = 1.0,
    dice_weight: float = 1.0,
    smooth: float = 1.0,
    pos_weight: Tensor | None = None,
    weight: Tensor | None = None,
    reduction: Reduction = "mean",
) -> Tensor:
    """``bce_weight * BCE + dice_weight * Dice``, each reduced the same way (``"mean"`` or ``"sum"``).

    Args:
        logits (Tensor[N] or Tensor[N, L]): raw scores.
        targets (Tensor): float in [0, 1], shaped like ``logits``.
        bce_weight (float): weight of the BCE term, >= 0. Default: ``1.0``.
        dice_weight (float): weight of the Dice term, >= 0. Default: ``1.0``.
        smooth (float): Dice smoothing. Default: ``1.0``.
        pos_weight (Tensor[L], optional): BCE positive weight per label. Default: ``None``.
        weight (Tensor, optional): per-element/per-sample weight, used by both terms. Default: ``None``.
        reduction (str): ``"mean"`` or ``"sum"`` (the terms have different shapes, so no ``"none"``).
            Default: ``"mean"``.

    Examples:
        >>> round(bce_dice_loss(torch.zeros(2, 1), torch.ones(2, 1)).item(), 4)  # log 2 + (1 - 3/4)
        0.9431
    """
    if reduction == "none":
        raise ConfigError(
            "Expected argument `reduction` to be 'mean' or 'sum' for BCE+Dice; got 'none'.",
            fix="call bce_with_logits and soft_dice_loss separately for per-element values.",
            code="bad-reduction",
        )
    for name, v in (("bce_weight", bce_weight), ("dice_weight", dice_weight)):
        if not isinstance(v, (int, float)) or not 0 <= v < float("inf"):
            raise ConfigError(
                f"Expected argument `{name}` to be >= 0; got {v!r}.",
                fix=f"use {name}=1.0.",
                code=f"bad-{name}",
            )
    bce = bce_with_logits(logits, targets, pos_weight=pos_weight, weight=weight, reduction=reduction)
    return bce_weight * bce + dice_weight * soft_dice_loss(
        logits, targets, smooth=smooth, weight=weight, reduction=reduction
    )


class DiceLoss(nn.Module):
    """Module form of :func:`soft_dice_loss`.

    Examples:
        >>> round(DiceLoss(smooth=0.0)(torch.zeros(4, 1), torch.ones(4, 1)).item(), 4)  # 1 - 2*2/(2+4)
        0.3333
    """

    family = "sigmoid"
    weight: Tensor | None

    def __init__(
        self, *, smooth: float = 1.0, weight: Tensor | None = None, reduction: Reduction = "mean"
    ) -> None:
        super().__init__()
        check_reduction(reduction)
        _check_smooth(smooth)
        self.register_buffer(
            "weight", None if weight is None else torch.as_tensor(weight, dtype=torch.float32)
        )
        self.smooth, self.reduction = smooth, reduction

    def forward(self, logits: Tensor, targets: Tensor) -> Tensor:
        """Return the loss of ``logits`` against ``targets`` (see the function for shapes)."""
        return soft_dice_loss(
            logits, targets, smooth=self.smooth, weight=self.weight, reduction=self.reduction
        )  # type: ignore[arg-type]


class BCEDiceLoss(nn.Module):
    """Module form of :func:`bce_dice_loss`.

    Examples:
        >>> round(BCEDiceLoss(dice_weight=0.0)(torch.zeros(2, 1), torch.ones(2, 1)).item(), 4)
        0.6931
    """

    family = "sigmoid"
    pos_weight: Tensor | None
    weight: Tensor | None

    def __init__(
        self,
        *,
        bce_weight: float = 1.0,
        dice_weight: float = 1.0,
        smooth: float = 1.0,
        pos_weight: Tensor | None = None,
        weight: Tensor | None = None,
        reduction: Reduction = "mean",
    ) -> None:
        super().__init__()
        bce_dice_loss(
            torch.zeros(1),
            torch.zeros(1),
            bce_weight=bce_weight,
            dice_weight=dice_weight,
            smooth=smooth,
            reduction=reduction,
        )
        register_sigmoid_weights(self, pos_weight, weight)
        self.bce_weight, self.dice_weight, self.smooth, self.reduction = (
            bce_weight,
            dice_weight,
            smooth,
            reduction,
        )

    def forward(self, logits: Tensor, targets: Tensor) -> Tensor:
        """Return the loss of ``logits`` against ``targets`` (see the function for shapes)."""
        return bce_dice_loss(
            logits,
            targets,
            bce_weight=self.bce_weight,
            dice_weight=self.dice_weight,
            smooth=self.smooth,
            pos_weight=self.pos_weight,
            weight=self.weight,
            reduction=self.reduction,  # type: ignore[arg-type]
        )
