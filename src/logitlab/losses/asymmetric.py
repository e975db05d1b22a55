"""Asymmetric loss (Ridnik et al. 2021, "Asymmetric Loss For Multi-Label Classification")."""

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
    reduce,
    register_sigmoid_weights,
    safe_pow,
)
from ._compiled import CompiledLoss, check_compile, use_compiled
from ._fused import FusedASL, can_fuse

__all__ = ["AsymmetricLoss", "asymmetric_loss"]


def _check(gamma_pos: float, gamma_neg: float, clip: float) -> None:
    for name, g in (("gamma_pos", gamma_pos), ("gamma_neg", gamma_neg)):
        if not isinstance(g, (int, float)) or not 0 <= g < float("inf"):
            raise ConfigError(
                f"Expected argument `{name}` to be >= 0; got {g!r}.",
                fix="use the paper's defaults gamma_pos=0, gamma_neg=4.",
                code="bad-gamma",
            )
    check_range(
        "clip", clip, 0.0, 1.0, hi_open=True, fix="use clip=0.05 (the paper's default) or 0 for none."
    )


def asymmetric_loss(
    logits: Tensor,
    targets: Tensor,
    *,
    gamma_pos: float = 0.0,
    gamma_neg: float = 4.0,
    clip: float = 0.05,
    pos_weight: Tensor | None = None,
    weight: Tensor | None = None,
    reduction: Reduction = "mean",
    fused: bool = True,
    compile: bool = False,
) -> Tensor:
    """ASL: ``-t (1-p)**gp log p - (1-t) q**gn log(1-q)``, ``q = max(p - clip, 0)`` (Ridnik et al. 2021).

    Always computed in float32 (float64 stays float64), also under bf16 autocast; the result is float32.
    Note: the mean is over elements (the paper's reference code sums).

    Args:
        logits (Tensor[N] or Tensor[N, L]): raw scores.
        targets (Tensor): float in [0, 1], shaped like ``logits``.
        gamma_pos (float): focusing of positives, >= 0. Default: ``0.0``.
        gamma_neg (float): focusing of negatives, >= 0. Default: ``4.0``.
        clip (float): probability margin for negatives in [0, 1). Default: ``0.05``.
        pos_weight (Tensor[L], optional): weight of the positive term per label. Default: ``None``.
        weight (Tensor, optional): per-element/per-sample weight broadcastable to ``logits``. Default: ``None``.
        reduction (str): ``"none"``, ``"mean"`` (empty -> 0) or ``"sum"``. Default: ``"mean"``.
        fused (bool): fused kernel (no double backward). Default: ``True``.
        compile (bool): run the fused math as ``torch.compile``'d kernels (opt-in; needs ``fused=True``):
            saves only the inputs, so about half the fused kernel's extra memory. The first call of each
            configuration compiles (seconds); needs a C/C++ compiler on CPU, Triton on CUDA, else a
            ConfigError. See ``logitlab.losses._compiled``. Default: ``False``.

    Examples:
        >>> asymmetric_loss(torch.tensor([0.0, 0.0]), torch.tensor([1.0, 0.0]), reduction="none")
        tensor([0.6931, 0.0245])
    """
    check_pair(logits, targets, family="sigmoid", pos_weight=pos_weight)
    check_reduction(reduction)
    check_weight(weight, logits)
    _check(gamma_pos, gamma_neg, clip)
    check_compile(compile, fused)
    with torch.autocast(logits.device.type, enabled=False):
        if fused and can_fuse(targets, pos_weight, weight):
            if compile and use_compiled(logits):
                spec = ("asl", (float(gamma_pos), float(gamma_neg), float(clip)))
                return CompiledLoss.apply(logits, targets, pos_weight, weight, spec, reduction)
            return FusedASL.apply(
                logits,
                targets,
                float(gamma_pos),
                float(gamma_neg),
                float(clip),
                pos_weight,
                weight,
                reduction,
            )
        dtype = torch.float64 if logits.dtype == torch.float64 else torch.float32
        x, t = logits.to(dtype), targets.to(dtype)
        p = torch.sigmoid(x)
        if clip > 0:
            one_q = (torch.sigmoid(-x) + clip).clamp(max=1.0)
            q, log1q = 1 - one_q, one_q.log()
        else:
            q, log1q = p, -F.softplus(x)
        lpos = -((1 - p) ** gamma_pos) * -F.softplus(-x)
        if pos_weight is not None:
            lpos = lpos * pos_weight
        lneg = -safe_pow(q, gamma_neg) * log1q
        loss = t * lpos + (1 - t) * lneg
        if weight is not None:
            loss = loss * weight
        return reduce(loss, reduction)


class AsymmetricLoss(nn.Module):
    """Module form of :func:`asymmetric_loss`; the ``compile`` option is stored as ``.compiled``.

    Examples:
        >>> loss = AsymmetricLoss(gamma_pos=0.0, gamma_neg=0.0, clip=0.0)  # == BCE
        >>> round(loss(torch.zeros(3, 2), torch.ones(3, 2)).item(), 4)
        0.6931
    """

    family = "sigmoid"
    pos_weight: Tensor | None
    weight: Tensor | None

    def __init__(
        self,
        *,
        gamma_pos: float = 0.0,
        gamma_neg: float = 4.0,
        clip: float = 0.05,
        pos_weight: Tensor | None = None,
        weight: Tensor | None = None,
        reduction: Reduction = "mean",
        fused: bool = True,
        compile: bool = False,
    ) -> None:
        super().__init__()
        check_reduction(reduction)
        _check(gamma_pos, gamma_neg, clip)
        check_compile(compile, fused)
        register_sigmoid_weights(self, pos_weight, weight)
        self.gamma_pos, self.gamma_neg, self.clip = gamma_pos, gamma_neg, clip
        self.reduction, self.fused = reduction, fused
        self.compiled = compile  # not ``self.compile``: that is nn.Module's method

    def forward(self, logits: Tensor, targets: Tensor) -> Tensor:
        """Return the loss of ``logits`` against ``targets`` (see the function for shapes)."""
        return asymmetric_loss(
            logits,
            targets,
            gamma_pos=self.gamma_pos,
            gamma_neg=self.gamma_neg,
            clip=self.clip,
            pos_weight=self.pos_weight,
            weight=self.weight,
            reduction=self.reduction,  # type: ignore[arg-type]
            fused=self.fused,
            compile=self.compiled,
        )
