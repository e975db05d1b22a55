"""What ``"auto"`` resolves to for a fit: the epochs and patience, the learning rate, imbalance and weight decay.

Only the :mod:`logitlab.estimator` package imports this module.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..options import AUTO_EPOCHS, AUTO_LR, AUTO_TRAINING, SPARSE_TRAINING
from .decisions import LrChoice, TrainingChoice

__all__ = ["resolve_lr", "resolve_training", "training_budget", "training_reasons"]


def training_budget(
    epochs: Any, n_train: int, batch_size: int, has_val: bool, budget: Mapping[str, int] = AUTO_EPOCHS
) -> tuple[int, int | None]:
    """The epochs to train and the early-stopping patience (``None``: none) for ``epochs`` (an int or ``"auto"``).

    ``"auto"`` follows ``budget`` (:data:`~logitlab.options.AUTO_EPOCHS`; :data:`~logitlab.options.HF_AUTO_EPOCHS`
    for a pretrained transformer); a number is trained in full.

    Examples:
        >>> training_budget("auto", 170, 64, True)  # 3 steps an epoch
        (667, 166)
        >>> training_budget("auto", 100_000, 64, True), training_budget(12, 170, 64, True)
        ((30, 10), (12, None))
    """
    if epochs != "auto":
        return int(epochs), None
    steps_per_epoch = max(1, math.ceil(n_train / batch_size))
    n = min(budget["max_epochs"], max(budget["min_epochs"], math.ceil(budget["steps"] / steps_per_epoch)))
    return n, (max(budget["min_patience"], n // 4) if has_val else None)


def resolve_lr(lr: Any, model: Any) -> LrChoice:
    """The learning rate a fit uses for ``lr`` (a number or ``"auto"``) and ``model``, with its warmup and reason.

    ``"auto"`` follows :data:`~logitlab.options.AUTO_LR`; a number is used as it is, without a warmup.
    The result is what ``decisions_["lr"]`` records.

    Examples:
        >>> resolve_lr("auto", "mlp").lr, resolve_lr("auto", "hf:/models/bert").warmup_ratio
        (0.001, 0.06)
        >>> resolve_lr(0.01, "hf:/models/bert")
        LrChoice(lr=0.01, asked=0.01, warmup_ratio=0.0, reason='lr=0.01 as given')
    """
    from ..models.hf import is_hf

    if lr != "auto":
        return LrChoice(float(lr), lr, 0.0, f"lr={float(lr):g} as given")
    if is_hf(model):
        ratio = AUTO_LR["hf_warmup_ratio"]
        return LrChoice(
            AUTO_LR["hf"],
            "auto",
            ratio,
            f"lr='auto': {AUTO_LR['hf']:g} for fine-tuning a pretrained transformer (hf:), "
            f"with a linear warmup over the first {ratio:.0%} of the planned optimiser steps",
        )
    if str(model).lower() == "sparse":
        return LrChoice(
            AUTO_LR["sparse"],
            "auto",
            0.0,
            f"lr='auto': {AUTO_LR['sparse']:g} for the sparse-native linear model (text, scipy sparse X)",
        )
    return LrChoice(
        AUTO_LR["default"],
        "auto",
        0.0,
        f"lr='auto': {AUTO_LR['default']:g} (AdamW's default) for a network trained from scratch",
    )


def resolve_training(imbalance: Any, weight_decay: Any, model_name: str) -> TrainingChoice:
    """The ``imbalance`` and ``weight_decay`` a fit of ``model_name`` uses, with what was asked and the reason.

    ``"auto"`` takes :data:`~logitlab.options.SPARSE_TRAINING`'s value for the sparse-native model and
    :data:`~logitlab.options.AUTO_TRAINING`'s for every other model; a value given is used as it is. The
    result is what ``decisions_["training"]`` records.

    Examples:
        >>> resolve_training("auto", "auto", "sparse").imbalance, resolve_training("auto", "auto", "mlp").imbalance
        ('none', 'balanced')
        >>> resolve_training("balanced", 0.5, "sparse")
        TrainingChoice(imbalance='balanced', weight_decay=0.5, asked={'imbalance': 'balanced', 'weight_decay': 0.5}, reason="imbalance='balanced', weight_decay=0.5 as given", C=None)
    """
    sparse = str(model_name).lower() == "sparse"
    auto = SPARSE_TRAINING if sparse else AUTO_TRAINING
    asked = {"imbalance": imbalance, "weight_decay": weight_decay}
    out: dict[str, Any] = {
        "imbalance": auto["imbalance"] if imbalance == "auto" else imbalance,
        "weight_decay": float(auto["weight_decay"] if weight_decay == "auto" else weight_decay),
    }
    return TrainingChoice(
        out["imbalance"], out["weight_decay"], asked, "; ".join(training_reasons(out, asked, sparse))
    )


def training_reasons(
    out: Mapping[str, Any],
    asked: Mapping[str, Any],
    sparse: bool,
    keys: tuple[str, ...] = ("imbalance", "weight_decay"),
) -> list[str]:
    """The parts of :func:`resolve_training`'s reason for the values ``out`` of ``keys`` (``asked``: as given)."""
    given = [f"{k}={out[k]!r}" for k in keys if asked[k] != "auto"]
    chosen = [f"{k}={out[k]!r}" for k in keys if asked[k] == "auto"]
    why = (
        "for the sparse-native model (options.SPARSE_TRAINING: balanced weights of rare labels cost ranking)"
        if sparse
        else "(options.AUTO_TRAINING)"
    )
    return ([f"'auto': {', '.join(chosen)} {why}"] if chosen else []) + (
        [f"{', '.join(given)} as given"] if given else []
    )
