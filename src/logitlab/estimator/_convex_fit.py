"""Which models :class:`~logitlab.Classifier` fits full-batch by L-BFGS, and what such a fit of the sparse model takes.

``model="linear"`` always; the sparse-native linear model (``model="sparse"`` with no hidden layer, what
text columns and scipy sparse ``X`` get) where its L-BFGS vectors fit in
:data:`~logitlab.options.SPARSE_FULL_BATCH`'s ``max_bytes``. The sparse model's L2 left at ``"auto"`` is
scikit-learn's ``C`` of that option (``1 / (C * rows)``, multi-label ``1 / (C * rows * labels)``), and its fit
starts from zero weights and the training rows' prior in the biases (the same optimum, fewer iterations).

Only :mod:`logitlab.estimator._training` imports this module.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor, nn

from ..options import SPARSE_FULL_BATCH

if TYPE_CHECKING:
    from ..data import Split
    from .decisions import TrainingChoice

__all__ = [
    "full_batch_data",
    "full_batch_kind",
    "minibatch_note",
    "pooled_rows",
    "sparse_penalty",
    "start_at_prior",
]


def _bytes(spec: dict[str, Any]) -> int:
    """Bytes of the L-BFGS state of a sparse linear model: ``2 * history + 6`` float32 copies of its weights."""
    weights = (int(spec["input_shape"][0]) + 1) * int(spec["n_outputs"])
    return (2 * int(SPARSE_FULL_BATCH["history"]) + 6) * weights * 4


def full_batch_kind(model: nn.Module, precision: str = "fp32") -> str | None:
    """``"linear"``, ``"sparse"`` (fitted by L-BFGS) or ``None`` (trained by minibatches).

    The sparse linear model is fitted by L-BFGS in float32 only; at another ``precision``, or where its
    L-BFGS vectors would exceed SPARSE_FULL_BATCH's ``max_bytes``, it is trained by minibatches.

    Examples:
        >>> from logitlab.models import build_model
        >>> full_batch_kind(build_model("sparse", input_shape=(50,), n_outputs=2))
        'sparse'
        >>> full_batch_kind(build_model("sparse", input_shape=(50,), n_outputs=2, hidden=[8])) is None
        True
    """
    spec = getattr(model, "model_spec", {})
    if spec.get("name") == "linear":
        return "linear"
    single = int(spec.get("ensemble", 1)) == 1  # seed members of a convex fit would all be the same
    fp32 = precision in ("fp32", "32", "32-true", "float32")
    if spec.get("name") == "sparse" and not spec.get("hidden") and single and fp32:
        return "sparse" if _bytes(spec) <= int(SPARSE_FULL_BATCH["max_bytes"]) else None
    return None


def minibatch_note(model: nn.Module, precision: str = "fp32") -> str | None:
    """Why a sparse linear model is trained by minibatches, not full-batch (for ``decisions_["notes"]``).

    ``None`` where it is fitted full-batch, or is no single sparse linear model.
    """
    spec = getattr(model, "model_spec", {})
    if spec.get("name") != "sparse" or spec.get("hidden") or full_batch_kind(model, precision) is not None:
        return None
    if int(spec.get("ensemble", 1)) > 1:
        return "the sparse linear model is trained by minibatches: ensemble > 1 (full-batch members would be the same)"
    if precision not in ("fp32", "32", "32-true", "float32"):
        return f"the sparse linear model is trained by minibatches: precision={precision!r} (L-BFGS runs in float32)"
    return (
        f"the sparse linear model is trained by minibatches: its L-BFGS state would take {_bytes(spec) / 2**30:.1f} "
        f"GiB (> options.SPARSE_FULL_BATCH['max_bytes'] = {int(SPARSE_FULL_BATCH['max_bytes']) / 2**30:.1f} GiB)"
    )


def full_batch_data(split: Split) -> tuple[Tensor, Tensor] | None:
    """``(x, y)`` of every row of ``split``: a tensor as it is, native sparse rows as one torch CSR matrix.

    ``None`` for rows read lazily otherwise (images, streamed or densified sparse rows).
    """
    from ..data.sparse import SparseRows

    if split.in_memory:
        x, y = split.training_data()  # type: ignore[misc]
        return x, y
    if isinstance(split.x, SparseRows) and split.x.native:
        return split.x.torch_batch(np.arange(len(split.x))), split.y
    return None


def pooled_rows(train: Split, val: Split) -> Split | None:
    """The rows of ``train`` and then ``val`` as one split, for a full-batch refit (``None``: not in memory).

    Native sparse rows of one matrix (the splits of one fit) stay views of it: one :class:`SparseRows`
    over both splits' row positions, with the same scaling.
    """
    from ..data import Split
    from ..data.sparse import SparseRows
    from ._crossfit import pool

    a, b = train.x, val.x
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return pool(train, val)
    same = (
        isinstance(a, SparseRows)
        and isinstance(b, SparseRows)
        and a.native
        and b.native
        and a.matrix is b.matrix
        and a.mean is None
        and b.mean is None
        and a.multiplier == b.multiplier
        and np.array_equal(a.scale, b.scale)
    )
    if not same:
        return None
    assert isinstance(a, SparseRows) and isinstance(b, SparseRows)
    every = np.arange(a.matrix.shape[0])
    index = np.concatenate([every if a.index is None else a.index, every if b.index is None else b.index])
    x = SparseRows(a.matrix, scale=a.scale, multiplier=a.multiplier, index=index, native=True)
    merged = pool(train, val)
    return Split(x, merged.y, merged.index)


def sparse_penalty(training: TrainingChoice, *, rows: int, n_outputs: int, task: str) -> TrainingChoice:
    """``training`` with the sparse model's L2: with ``weight_decay="auto"``, from SPARSE_FULL_BATCH's ``C``.

    A number given as ``weight_decay`` is the L2 itself (as for ``model="linear"``): ``training`` comes back
    as it is. Otherwise the L2 and its reason replace the minibatch weight decay that
    :func:`~logitlab.estimator._choices.resolve_training` chose (the other parts of its reason are kept).
    """
    from ._choices import training_reasons

    if training.asked["weight_decay"] != "auto":
        return training
    c = float(SPARSE_FULL_BATCH["C"])
    labels = int(n_outputs) if task == "multilabel" else 1
    l2 = 1.0 / (c * max(rows, 1) * labels)
    per = f" * {labels} labels" if labels > 1 else ""
    parts = training_reasons({"imbalance": training.imbalance}, training.asked, True, ("imbalance",))
    parts.append(
        f"weight_decay='auto' for the full-batch sparse linear model: L2 {l2:.3g} = 1 / (C={c:g} * "
        f"{rows} rows{per}), as scikit-learn's LogisticRegression(C={c:g}) (options.SPARSE_FULL_BATCH)"
    )
    return dataclasses.replace(training, weight_decay=l2, reason="; ".join(parts), C=c)


def start_at_prior(model: nn.Module, y: Tensor, task: str) -> None:
    """Zero ``model``'s weights and set its biases to the prior of ``y`` (log-odds, multiclass log-frequency)."""
    head: Any = getattr(model, "head")  # noqa: B009  # SparseNet's logit layer
    with torch.no_grad():
        head.weight.zero_()
        if task == "multiclass":
            counts = (
                y.float().sum(0)
                if y.ndim == 2
                else torch.bincount(y.long(), minlength=head.bias.numel()).float()
            )
            p = (counts / max(float(counts.sum()), 1.0)).clamp(1e-6, 1.0)
            head.bias.copy_(p.log() - p.log().mean())
        else:
            p = y.float().reshape(len(y), -1).mean(0).clamp(1e-6, 1 - 1e-6)
            head.bias.copy_((p / (1 - p)).log().reshape(head.bias.shape))
