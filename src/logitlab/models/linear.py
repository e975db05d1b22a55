"""A linear model: logistic (sigmoid tasks) or softmax (multiclass) regression on the preprocessed features.

One ``nn.Linear`` named ``head`` (so :func:`~logitlab.models.head_of` and the ``prior`` bias initialisation work
as for the MLP), zero-initialised: the fit is convex, so it needs no random start, and the classifier trains it
full-batch with L-BFGS and an L2 penalty (:func:`logitlab.train.fit_full_batch`).

Examples:
    >>> import torch
    >>> net = LinearModel(30, 3)
    >>> net(torch.randn(4, 30)).shape
    torch.Size([4, 3])
    >>> float(net.head.weight.abs().sum())
    0.0
"""

from __future__ import annotations

from torch import Tensor, nn

__all__ = ["LinearModel"]


class LinearModel(nn.Module):
    """Logits ``x @ W.T + b`` for inputs ``[N, ...]`` (flattened), ``[N, n_outputs]`` out.

    Args:
        in_features (int): flattened input size.
        n_outputs (int): number of logits.
    """

    def __init__(self, in_features: int, n_outputs: int) -> None:
        super().__init__()
        self.flatten = nn.Flatten()
        self.head = nn.Linear(in_features, n_outputs)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, x: Tensor) -> Tensor:
        """Logits ``[N, n_outputs]``."""
        out: Tensor = self.head(self.flatten(x))
        return out
