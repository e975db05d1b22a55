"""Several networks of one architecture whose logits are averaged: a seed ensemble.

:class:`Ensemble` holds ``members`` (an ``nn.ModuleList``) and returns the mean of their logits, so the
calibration, the tuned thresholds, saving and ONNX export see one model. Its members are trained one
after another, each with its own initialisation and batch order (``Classifier(ensemble=K)``), not jointly:
the loss of the mean would let the members co-adapt into one wider network.

Examples:
    >>> import torch
    >>> from logitlab.models.mlp import MLP
    >>> ens = Ensemble([MLP(4, 2, hidden=(8,)) for _ in range(3)]).eval()
    >>> x = torch.randn(5, 4)
    >>> torch.allclose(ens(x), torch.stack([m(x) for m in ens.members]).mean(0))
    True
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

__all__ = ["Ensemble"]


class Ensemble(nn.Module):
    """The mean of the logits of ``members`` (each mapping ``[N, ...]`` to ``[N, n_outputs]``)."""

    def __init__(self, members: Sequence[nn.Module]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x: Tensor) -> Tensor:
        """Mean logits ``[N, n_outputs]``.

        Summed member by member, elementwise: a reduction over a stacked ``[K, N, C]`` tensor may be
        vectorised differently for different ``N``, which would make a row's output depend on its batch.
        """
        total = self.members[0](x)
        for member in list(self.members)[1:]:
            total = total + member(x)
        return total / len(self.members)
