"""The cross-entropy family: class weights, label smoothing, soft targets, logit adjustment, poly-1."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import ConfigError
from ._common import Reduction, check_pair, check_range, check_reduction, label_errors, reduce, to_buffer

__all__ = [
    "CrossEntropyLoss",
    "LogitAdjustedCrossEntropyLoss",
    "Poly1CrossEntropyLoss",
    "cross_entropy",
    "logit_adjusted_cross_entropy",
    "poly1_cross_entropy",
]

_SMOOTH_FIX = "use a small value such as 0.1."


def _per_sample(
    logits: Tensor, targets: Tensor, weight: Tensor | None, label_smoothing: float
) -> tuple[Tensor, Tensor]:
    """Per-sample weighted CE [N] (torch's formula) and the per-sample normaliser for the mean."""
    dtype = torch.float64 if logits.dtype == torch.float64 else torch.float32
    x = logits.to(dtype)
    w = None if weight is None else weight.to(dtype)
    t = targets.to(dtype) if targets.is_floating_point() else targets
    with label_errors(logits, targets):
        loss = F.cross_entropy(x, t, weight=w, label_smoothing=label_smoothing, reduction="none")
    if w is None or targets.is_floating_point():
        return loss, torch.ones_like(loss)
    return loss, w[targets]


def _mean(loss: Tensor, norm: Tensor, reduction: str) -> Tensor:
    if reduction != "mean":
        return reduce(loss, reduction)
    return loss.sum() / norm.sum().clamp_min(torch.finfo(norm.dtype).tiny) if norm.numel() else loss.sum()


def cross_entropy(
    logits: Tensor,
    targets: Tensor,
    *,
    weight: Tensor | None = None,
    label_smoothing: float = 0.0,
    reduction: Reduction = "mean",
) -> Tensor:
    """Cross entropy with class weights, label smoothing and soft targets (torch's conventions), in float32.

    With class-index targets and ``weight``, ``"mean"`` divides by the sum of the targets' weights, as
    :func:`torch.nn.functional.cross_entropy` does; an empty batch gives 0.

    Args:
        logits (Tensor[N, C]): raw scores.
        targets (Tensor[N] int64 or Tensor[N, C] float): class indices or class probabilities.
        weight (Tensor[C], optional): class weights. Default: ``None``.
        label_smoothing (float): in [0, 1) (Szegedy et al. 2016). Default: ``0.0``.
        reduction (str): ``"none"`` ([N]), ``"mean"`` or ``"sum"``. Default: ``"mean"``.

    Examples:
        >>> round(cross_entropy(torch.zeros(2, 3), torch.tensor([0, 2])).item(), 4)  # log 3
        1.0986
    """
    check_pair(logits, targets, family="softmax", class_weight=weight)
    check_reduction(reduction)
    check_range("label_smoothing", label_smoothing, 0.0, 1.0, hi_open=True, fix=_SMOOTH_FIX)
    loss, norm = _per_sample(logits, targets, weight, label_smoothing)
    return _mean(loss, norm, reduction)


def logit_adjusted_cross_entropy(
    logits: Tensor,
    targets: Tensor,
    *,
    prior: Tensor,
    tau: float = 1.0,
    weight: Tensor | None = None,
    label_smoothing: float = 0.0,
    reduction: Reduction = "mean",
) -> Tensor:
    """Logit-adjusted CE (Menon et al. 2021, "Long-tail learning via logit adjustment"): CE on ``logits + tau*log(prior)``.

    Predict with the plain logits; the adjustment applies only in the training loss.

    Args:
        logits (Tensor[N, C]): raw scores.
        targets (Tensor[N] int64 or Tensor[N, C] float): class indices or class probabilities.
        prior (Tensor[C]): class frequencies (positive; normalised to sum 1).
        tau (float): adjustment strength, >= 0. Default: ``1.0``.
        weight (Tensor[C], optional): class weights. Default: ``None``.
        label_smoothing (float): in [0, 1). Default: ``0.0``.
        reduction (str): ``"none"``, ``"mean"`` or ``"sum"``. Default: ``"mean"``.

    Examples:
        >>> prior = torch.tensor([0.75, 0.25])
        >>> round(logit_adjusted_cross_entropy(torch.zeros(1, 2), torch.tensor([1]), prior=prior).item(), 4)
        1.3863
    """
    check_pair(logits, targets, family="softmax")
    _check_tau(tau)
    log_prior = torch.log(prior / prior.sum()).to(logits.device)
    return cross_entropy(
        logits + tau * log_prior, targets, weight=weight, label_smoothing=label_smoothing, reduction=reduction
    )


def poly1_cross_entropy(
    logits: Tensor,
    targets: Tensor,
    *,
    epsilon: float = 1.0,
    weight: Tensor | None = None,
    label_smoothing: float = 0.0,
    reduction: Reduction = "mean",
) -> Tensor:
    """Poly-1 loss (Leng et al. 2022, "PolyLoss"): ``CE + epsilon * (1 - p_t)``.

    ``p_t`` is the predicted probability of the (smoothed or soft) target, ``sum_c t_c p_c``; class
    weights scale both terms; the mean follows :func:`cross_entropy`.

    Args:
        logits (Tensor[N, C]): raw scores.
        targets (Tensor[N] int64 or Tensor[N, C] float): class indices or class probabilities.
        epsilon (float): weight of the poly-1 term (>= -1). Default: ``1.0``.
        weight (Tensor[C], optional): class weights. Default: ``None``.
        label_smoothing (float): in [0, 1). Default: ``0.0``.
        reduction (str): ``"none"``, ``"mean"`` or ``"sum"``. Default: ``"mean"``.

    Examples:
        >>> round(poly1_cross_entropy(torch.zeros(1, 2), torch.tensor([0])).item(), 4)  # log 2 + 0.5
        1.1931
    """
    check_pair(logits, targets, family="softmax", class_weight=weight)
    check_reduction(reduction)
    check_range("label_smoothing", label_smoothing, 0.0, 1.0, hi_open=True, fix=_SMOOTH_FIX)
    _check_epsilon(epsilon)
    loss, norm = _per_sample(logits, targets, weight, label_smoothing)
    n_cls = logits.shape[-1]
    t = targets.to(loss.dtype) if targets.is_floating_point() else F.one_hot(targets, n_cls).to(loss.dtype)
    t = t * (1 - label_smoothing) + label_smoothing / n_cls
    pt = (t * torch.softmax(logits.to(loss.dtype), dim=-1)).sum(-1)
    poly = epsilon * (1 - pt)
    if weight is not None and not targets.is_floating_point():
        poly = poly * norm
    return _mean(loss + poly, norm, reduction)


def _check_tau(tau: float) -> None:
    if not isinstance(tau, (int, float)) or not 0 <= tau < float("inf"):
        raise ConfigError(
            f"Expected argument `tau` to be >= 0; got {tau!r}.",
            fix="use tau=1.0 (the paper's default).",
            code="bad-tau",
        )


def _check_epsilon(epsilon: float) -> None:
    if not isinstance(epsilon, (int, float)) or not -1 <= epsilon < float("inf"):
        raise ConfigError(
            f"Expected argument `epsilon` to be >= -1; got {epsilon!r}.",
            fix="use epsilon=1.0 (the paper's default).",
            code="bad-epsilon",
        )


class CrossEntropyLoss(nn.Module):
    """Module form of :func:`cross_entropy`; class weights [C] are the ``weight`` buffer.

    Examples:
        >>> round(CrossEntropyLoss(label_smoothing=0.1)(torch.zeros(2, 4), torch.tensor([1, 3])).item(), 4)
        1.3863
    """

    family = "softmax"
    weight: Tensor | None

    def __init__(
        self, *, weight: Tensor | None = None, label_smoothing: float = 0.0, reduction: Reduction = "mean"
    ) -> None:
        super().__init__()
        check_reduction(reduction)
        check_range("label_smoothing", label_smoothing, 0.0, 1.0, hi_open=True, fix=_SMOOTH_FIX)
        self.register_buffer("weight", to_buffer("weight", weight, kind="class"))
        self.label_smoothing, self.reduction = label_smoothing, reduction

    def forward(self, logits: Tensor, targets: Tensor) -> Tensor:
        """Return the loss of ``logits`` against ``targets`` (see the function for shapes)."""
        return cross_entropy(
            logits,
            targets,
            weight=self.weight,
            label_smoothing=self.label_smoothing,
            reduction=self.reduction,
        )  # type: ignore[arg-type]


class LogitAdjustedCrossEntropyLoss(CrossEntropyLoss):
    """Module form of :func:`logit_adjusted_cross_entropy`; ``prior`` [C] is a buffer.

    Examples:
        >>> loss = LogitAdjustedCrossEntropyLoss(prior=torch.tensor([0.5, 0.5]))
        >>> round(loss(torch.zeros(1, 2), torch.tensor([0])).item(), 4)
        0.6931
    """

    prior: Tensor

    def __init__(
        self,
        *,
        prior: Tensor,
        tau: float = 1.0,
        weight: Tensor | None = None,
        label_smoothing: float = 0.0,
        reduction: Reduction = "mean",
    ) -> None:
        super().__init__(weight=weight, label_smoothing=label_smoothing, reduction=reduction)
        _check_tau(tau)
        self.register_buffer("prior", to_buffer("prior", prior, kind="class"))
        self.tau = tau

    def forward(self, logits: Tensor, targets: Tensor) -> Tensor:
        """Return the loss of ``logits`` against ``targets`` (see the function for shapes)."""
        return logit_adjusted_cross_entropy(
            logits,
            targets,
            prior=self.prior,
            tau=self.tau,
            weight=self.weight,
            label_smoothing=self.label_smoothing,
            reduction=self.reduction,  # type: ignore[arg-type]
        )


class Poly1CrossEntropyLoss(CrossEntropyLoss):
    """Module form of :func:`poly1_cross_entropy`.

    Examples:
        >>> round(Poly1CrossEntropyLoss(epsilon=0.0)(torch.zeros(1, 2), torch.tensor([0])).item(), 4)
        0.6931
    """

    def __init__(
        self,
        *,
        epsilon: float = 1.0,
        weight: Tensor | None = None,
        label_smoothing: float = 0.0,
        reduction: Reduction = "mean",
    ) -> None:
        super().__init__(weight=weight, label_smoothing=label_smoothing, reduction=reduction)
        _check_epsilon(epsilon)
        self.epsilon = epsilon

    def forward(self, logits: Tensor, targets: Tensor) -> Tensor:
        """Return the loss of ``logits`` against ``targets`` (see the function for shapes)."""
        return poly1_cross_entropy(
            logits,
            targets,
            epsilon=self.epsilon,
            weight=self.weight,
            label_smoothing=self.label_smoothing,
            reduction=self.reduction,  # type: ignore[arg-type]
        )
