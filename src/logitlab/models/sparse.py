"""A sparse-native model: the first layer reads sparse rows directly, so its cost grows with the non-zeros.

Text features (TF-IDF of word and character n-grams) and user-passed ``scipy.sparse`` matrices have
hundreds of thousands of columns and a few hundred non-zeros a row. :func:`sparse_linear` computes
``x @ weight + bias`` from a torch sparse CSR batch with ``nn.functional.embedding_bag``
(``mode="sum"``, ``per_sample_weights`` = the stored values): one gather-and-add per non-zero, never
a dense ``[B, F]`` block; with a dense gradient (full-batch fits, :mod:`logitlab.train.full_batch`),
``weight``'s gradient is the transposed product ``x.T @ grad`` (the transpose made once per input and
kept while the input lives), 3x faster than ``embedding_bag``'s own backward. :class:`SparseNet` is a linear model on it (the default: one logit per
output, a one-vs-rest linear model, as for TF-IDF one uses), or, with ``hidden=[H]``, one small hidden
layer. A dense ``[B, F]`` input gives the same result with a dense product (ONNX export, tests).

Examples:
    >>> import torch
    >>> net = SparseNet(5, 2)
    >>> dense = torch.tensor([[0.0, 2.0, 0.0, 0.0, 1.0]])
    >>> torch.allclose(net(dense.to_sparse_csr()), net(dense))
    True
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["SparseLinear", "SparseNet", "sparse_linear"]


def sparse_linear(
    x: Tensor, weight: Tensor, bias: Tensor | None = None, *, sparse_grad: bool = False
) -> Tensor:
    """``x @ weight + bias`` for ``x`` a torch sparse CSR ``[B, F]`` (or dense) and ``weight`` ``[F, H]``.

    Args:
        x (Tensor[B, F], sparse CSR or strided): the inputs.
        weight (Tensor[F, H]): one row per input feature (an embedding table).
        bias (Tensor[H], optional): added to every row. Default: none.
        sparse_grad (bool): for a sparse ``x``, ``weight``'s gradient is a sparse COO tensor of the
            batch's columns (``embedding_bag(sparse=True)``; for an optimizer that takes sparse
            gradients, :class:`~logitlab.train.lazy_adamw.LazyAdamW`), not a dense ``[F, H]`` one.
            Default: ``False``.

    Returns:
        Tensor[B, H]: the float32 (weight's dtype) products.
    """
    if x.layout == torch.sparse_csr:
        if weight.requires_grad and torch.is_grad_enabled() and not sparse_grad:
            out = _CsrProduct.apply(x, weight)
        else:
            out = _csr_product(x, weight, sparse_grad)
    elif x.layout != torch.strided:
        return sparse_linear(x.to_sparse_csr(), weight, bias, sparse_grad=sparse_grad)
    else:
        out = x.to(weight.dtype) @ weight
    return out + bias if bias is not None else out


def _csr_product(x: Tensor, weight: Tensor, sparse_grad: bool = False) -> Tensor:
    crow, col, values = x.crow_indices(), x.col_indices(), x.values()
    out = nn.functional.embedding_bag(
        col,
        weight,
        crow[:-1],
        mode="sum",
        per_sample_weights=values.to(weight.dtype),
        include_last_offset=False,
        sparse=sparse_grad,
    )
    if out.shape[0] != x.shape[0]:  # trailing empty rows give no bag of their own
        out = torch.cat([out, out.new_zeros(x.shape[0] - out.shape[0], out.shape[1])])
    return out


# the transposes of the CSR inputs that took a dense gradient, kept while each input lives (a full-batch
# fit evaluates the same matrix a hundred times); by id, as sparse tensors cannot be compared as keys
_TRANSPOSES: dict[int, tuple[weakref.ref[Tensor], Tensor]] = {}


def _transpose(x: Tensor) -> Tensor:
    kept = _TRANSPOSES.get(id(x))
    if kept is not None and kept[0]() is x:
        return kept[1]
    t = x.t().to_sparse_csr()
    key = id(x)
    _TRANSPOSES[key] = (weakref.ref(x, lambda _: _TRANSPOSES.pop(key, None)), t)
    return t


class _CsrProduct(torch.autograd.Function):
    """``x @ weight`` for a CSR ``x`` with a dense gradient of ``weight``: ``x.T @ grad`` (no gradient of ``x``)."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, weight: Tensor) -> Tensor:
        ctx.x = x
        return _csr_product(x, weight.detach())

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[None, Tensor]:
        xt = _transpose(ctx.x)
        return None, (xt.to(grad.dtype) @ grad.contiguous())


class SparseLinear(nn.Module):
    """:func:`sparse_linear` with a learnt ``weight [F, H]`` (small normal init) and ``bias [H]``.

    ``sparse_grad`` (default ``False``, so any torch optimizer works) makes ``weight``'s gradient sparse;
    the trainer switches it on when it trains the layer with
    :class:`~logitlab.train.lazy_adamw.LazyAdamW` (``train._state.build_optimizer``).
    """

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(in_features, out_features) * 0.01)
        self.bias = nn.Parameter(torch.zeros(out_features))
        self.sparse_grad = False

    def forward(self, x: Tensor) -> Tensor:
        """``x @ weight + bias`` (see :func:`sparse_linear`)."""
        return sparse_linear(x, self.weight, self.bias, sparse_grad=self.sparse_grad)


class SparseNet(nn.Module):
    """Logits ``[B, n_outputs]`` of sparse rows: linear, or one small hidden layer.

    Args:
        in_features (int): input width ``F``.
        n_outputs (int): logits.
        hidden (list[int]): ``[]`` (the default): a linear model, the first layer is the head;
            ``[H]``: a sparse first layer of ``H`` units, ReLU, dropout, then a linear head.
        dropout (float): on the hidden units. Default: ``0.0``.
    """

    def __init__(
        self, in_features: int, n_outputs: int, *, hidden: Sequence[int] = (), dropout: float = 0.0
    ) -> None:
        super().__init__()
        widths = [int(h) for h in hidden]
        if len(widths) > 1:
            from ..errors import ConfigError

            raise ConfigError(
                f"Expected option `hidden` of the sparse model to be [] or one width [H]; got {widths}.",
                fix="use hidden=[] (linear) or hidden=[64].",
                code="bad-model-option",
            )
        self.first = SparseLinear(in_features, widths[0] if widths else n_outputs)
        self.hidden = nn.Sequential(nn.ReLU(), nn.Dropout(float(dropout))) if widths else None
        self.out = nn.Linear(widths[0], n_outputs) if widths else None

    @property
    def head(self) -> nn.Module:
        """The layer that emits the logits (the sparse layer itself for a linear model)."""
        return self.out if self.out is not None else self.first

    def forward(self, x: Tensor) -> Tensor:
        """Logits ``[B, n_outputs]`` of sparse CSR (or dense) rows ``[B, F]``."""
        h = self.first(x)
        if self.hidden is None or self.out is None:
            return h
        return self.out(self.hidden(h))
