"""Losses on logits for the three tasks, and ``make_loss``: the one string -> loss mapping.

Sigmoid family (binary, multi-label): ``bce``, ``focal``, ``dice``, ``bce_dice``, ``asymmetric``.
Softmax family (multi-class): ``ce``, ``focal``, ``logit_adjusted``, ``poly1``. The sigmoid BCE, focal
and ASL use fused autograd kernels by default (see ``_fused``); pass ``fused=False`` for double backward,
or opt in to ``compile=True`` for ``torch.compile``'d kernels (see ``_compiled``: half the memory, a
one-off compile of seconds per configuration, needs a C/C++ compiler on CPU or Triton on CUDA).

Examples:
    >>> import torch
    >>> loss = make_loss("multilabel", "focal", gamma=2.0, pos_weight=torch.tensor([1.0, 3.0]))
    >>> type(loss).__name__, loss.family
    ('SigmoidFocalLoss', 'sigmoid')
    >>> type(make_loss("multiclass")).__name__
    'CrossEntropyLoss'
"""

from __future__ import annotations

import inspect
from typing import Any

from torch import nn

from ..errors import ConfigError, LogitlabError
from ..tasks import Task
from .asymmetric import AsymmetricLoss, asymmetric_loss
from .balanced import (
    CrossEntropyLoss,
    LogitAdjustedCrossEntropyLoss,
    Poly1CrossEntropyLoss,
    cross_entropy,
    logit_adjusted_cross_entropy,
    poly1_cross_entropy,
)
from .bce import BCEWithLogitsLoss, bce_with_logits
from .dice import BCEDiceLoss, DiceLoss, bce_dice_loss, soft_dice_loss
from .focal import SigmoidFocalLoss, SoftmaxFocalLoss, sigmoid_focal_loss, softmax_focal_loss

__all__ = [
    "LOSS_NAMES",
    "AsymmetricLoss",
    "BCEDiceLoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "DiceLoss",
    "LogitAdjustedCrossEntropyLoss",
    "Poly1CrossEntropyLoss",
    "SigmoidFocalLoss",
    "SoftmaxFocalLoss",
    "asymmetric_loss",
    "bce_dice_loss",
    "bce_with_logits",
    "cross_entropy",
    "logit_adjusted_cross_entropy",
    "make_loss",
    "poly1_cross_entropy",
    "sigmoid_focal_loss",
    "soft_dice_loss",
    "softmax_focal_loss",
]

LOSS_NAMES: tuple[str, ...] = (
    "auto",
    "bce",
    "focal",
    "dice",
    "bce_dice",
    "asymmetric",
    "asl",
    "ce",
    "cross_entropy",
    "logit_adjusted",
    "poly1",
)

_ALIASES = {"asl": "asymmetric", "cross_entropy": "ce"}
_SIGMOID: dict[str, type[nn.Module]] = {
    "auto": BCEWithLogitsLoss,
    "bce": BCEWithLogitsLoss,
    "focal": SigmoidFocalLoss,
    "dice": DiceLoss,
    "bce_dice": BCEDiceLoss,
    "asymmetric": AsymmetricLoss,
}
_SOFTMAX: dict[str, type[nn.Module]] = {
    "auto": CrossEntropyLoss,
    "ce": CrossEntropyLoss,
    "focal": SoftmaxFocalLoss,
    "logit_adjusted": LogitAdjustedCrossEntropyLoss,
    "poly1": Poly1CrossEntropyLoss,
}


def make_loss(task: Task | str, name: str = "auto", **options: Any) -> nn.Module:
    """Build the loss ``name`` for ``task``, checking that the loss and every option fit the task.

    Args:
        task (Task or str): ``"binary"``, ``"multilabel"`` or ``"multiclass"``.
        name (str): one of ``LOSS_NAMES``; ``"auto"`` is BCE for sigmoid tasks, cross entropy for
            multi-class. Default: ``"auto"``.
        **options: keyword arguments of the loss class (e.g. ``gamma``, ``pos_weight``, ``weight``;
            ``compile=True`` for the compiled kernels of the sigmoid ``bce``, ``focal`` and ``asymmetric``).

    Returns:
        nn.Module: the loss, with ``forward(logits, targets)``, ``family`` and ``reduction``.

    Raises:
        ConfigError: for an unknown name, a loss of the other family (CE for multi-label), or an
            option the loss does not take (listing the accepted ones), or an out-of-range value.

    Examples:
        >>> make_loss("binary", "asl", clip=0.0).clip
        0.0
    """
    t = Task.from_str(task)
    key = str(name).strip().lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    if key not in LOSS_NAMES:
        raise ConfigError(
            f"Expected argument `name` to be one of {', '.join(LOSS_NAMES)}; got {name!r}.",
            fix='use name="auto" for the task\'s default loss.',
            code="unknown-loss",
        )
    table, other = (_SIGMOID, _SOFTMAX) if t.family == "sigmoid" else (_SOFTMAX, _SIGMOID)
    if key not in table:
        family = (
            ("BCE (sigmoid)" if t.family == "softmax" else "cross-entropy (softmax)")
            if key in other
            else "different"
        )
        raise ConfigError(
            f"Loss {name!r} is a {family}-family loss and does not fit a "
            f"{t.value} task; expected one of {', '.join(sorted(table))}.",
            fix=(
                "for independent labels use bce/focal/asymmetric; for one class per sample use task='multiclass'."
                if t.family == "sigmoid"
                else "for mutually exclusive classes use ce/focal/poly1/logit_adjusted, or task='multilabel'."
            ),
            code="loss-task-mismatch",
        )
    cls = table[key]
    accepted = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        hint = ""
        if "pos_weight" in unknown and t.family == "softmax":
            hint = " pos_weight is for sigmoid losses; softmax losses take class weights as weight=."
        raise ConfigError(
            f"Loss {key!r} for a {t.value} task does not take option(s) {', '.join(unknown)};{hint} "
            f"accepted options: {', '.join(accepted)}.",
            fix=f"remove {', '.join(unknown)} or pick a loss that takes it.",
            code="unknown-loss-option",
        )
    params = inspect.signature(cls.__init__).parameters.values()
    missing = [
        p.name for p in params if p.default is p.empty and p.kind is p.KEYWORD_ONLY and p.name not in options
    ]
    if missing:
        raise ConfigError(
            f"Loss {key!r} needs option(s) {', '.join(missing)}; got none.",
            fix=f"pass {', '.join(f'{m}=...' for m in missing)}"
            + (" (prior: the class frequencies of the training labels, [C])." if "prior" in missing else "."),
            code="missing-loss-option",
        )
    try:
        return cls(**options)
    except LogitlabError:
        raise
    except (TypeError, ValueError, RuntimeError) as exc:  # e.g. torch refusing a str weight
        raise ConfigError(
            f"Loss {key!r} cannot be built with options {', '.join(sorted(options))}: {exc}.",
            fix="pass numbers for scalar options and 1-D tensors (or lists of numbers) for weights.",
            code="bad-loss-option",
        ) from None
