"""A tabular multi-layer perceptron: ``Linear -> BatchNorm -> activation -> Dropout`` blocks, Kaiming init.

An optional periodic embedding of every input feature comes first (:class:`PeriodicEmbedding`, Gorishniy
et al., 2022, "On Embeddings for Numerical Features in Tabular Deep Learning": the "PLR" embedding).

Examples:
    >>> import torch
    >>> net = MLP(30, 1, hidden=(16, 8))
    >>> net(torch.randn(4, 30)).shape
    torch.Size([4, 1])
    >>> MLP(30, 1, hidden=(16,), embedding="periodic")(torch.randn(4, 30)).shape
    torch.Size([4, 1])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral
from typing import Literal

import torch
from torch import Tensor, nn

from ..errors import ConfigError

__all__ = ["ACTIVATIONS", "EMBEDDINGS", "MLP", "PeriodicEmbedding"]

ACTIVATIONS = ("relu", "gelu", "silu", "leaky_relu")
Activation = Literal["relu", "gelu", "silu", "leaky_relu"]
EMBEDDINGS = ("none", "periodic")
"""Input embeddings of the MLP: none (the features as they are) or :class:`PeriodicEmbedding`."""


class PeriodicEmbedding(nn.Module):
    """Periodic embedding of each scalar feature: ``ReLU(W_f [sin(2 pi c_f x), cos(2 pi c_f x)] + b_f)``.

    Every feature ``f`` has its own ``frequencies`` trainable frequencies ``c_f`` (initialised from
    ``N(0, sigma^2)``) and its own linear map to ``dim`` outputs, so a network can resolve fine
    structure in a standardised feature (thresholds, bumps, heavy tails) that one weight per input
    cannot: the PLR embedding of Gorishniy et al. (2022). Output ``[N, F * dim]``.

    Args:
        n_features (int): ``F``, the inputs embedded.
        frequencies (int): frequencies per feature. Default: ``16``.
        dim (int): outputs per feature. Default: ``16``.
        sigma (float): the standard deviation of the initial frequencies (for standardised inputs).
            Default: ``0.1``.
    """

    def __init__(self, n_features: int, frequencies: int = 16, dim: int = 16, sigma: float = 0.1) -> None:
        super().__init__()
        self.frequencies = nn.Parameter(torch.randn(n_features, frequencies) * sigma)
        self.weight = nn.Parameter(torch.randn(n_features, 2 * frequencies, dim) / math.sqrt(2 * frequencies))
        self.bias = nn.Parameter(torch.zeros(n_features, dim))

    def forward(self, x: Tensor) -> Tensor:
        """``[N, F]`` -> ``[N, F * dim]``."""
        angle = (2 * math.pi) * x.unsqueeze(-1) * self.frequencies  # [N, F, k]
        waves = torch.cat([torch.sin(angle), torch.cos(angle)], dim=-1)  # [N, F, 2k]
        mixed = torch.bmm(waves.transpose(0, 1), self.weight).transpose(0, 1)  # [N, F, dim]
        return torch.relu(mixed + self.bias).flatten(1)


def make_activation(name: str) -> nn.Module:
    """The activation module called ``name`` (one of :data:`ACTIVATIONS`)."""
    table: dict[str, type[nn.Module]] = {
        "relu": nn.ReLU,
        "gelu": nn.GELU,
        "silu": nn.SiLU,
        "leaky_relu": nn.LeakyReLU,
    }
    if name not in table:
        raise ConfigError(
            f"Expected option `activation` to be one of {', '.join(ACTIVATIONS)}; got {name!r}.",
            fix="use activation='relu'.",
            code="bad-activation",
        )
    return table[name]()


class MLP(nn.Module):
    """Multi-layer perceptron returning logits ``[N, n_outputs]``; inputs ``[N, ...]`` are flattened.

    Hidden layers are ``Linear -> BatchNorm1d -> activation -> Dropout`` with Kaiming-normal weights
    (He et al., 2015) and zero biases; the head is a plain ``Linear``.

    Args:
        in_features (int): flattened input size.
        n_outputs (int): number of logits.
        hidden (sequence of int): hidden layer widths. Default: ``(256, 128)``.
        dropout (float): dropout after each hidden layer, in [0, 1). Default: ``0.2``.
        batch_norm (bool): BatchNorm1d after each hidden Linear. Default: ``True``.
        activation (str): one of :data:`ACTIVATIONS`. Default: ``"relu"``.
        embedding (str): one of :data:`EMBEDDINGS`: ``"periodic"`` puts a :class:`PeriodicEmbedding`
            (16 outputs per feature) before the first layer. Default: ``"none"`` (the model registry's
            ``"auto"`` picks ``"periodic"`` for tables of up to 256 features).
    """

    def __init__(
        self,
        in_features: int,
        n_outputs: int,
        *,
        hidden: Sequence[int] = (256, 128),
        dropout: float = 0.2,
        batch_norm: bool = True,
        activation: Activation = "relu",
        embedding: str = "none",
    ) -> None:
        super().__init__()
        if embedding not in EMBEDDINGS:
            raise ConfigError(
                f"Expected option `embedding` to be one of {', '.join(EMBEDDINGS)}; got {embedding!r}.",
                fix="use embedding='periodic' (or 'none' for the features as they are).",
                code="bad-model-option",
            )
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ConfigError(
                f"Expected option `dropout` in [0, 1); got {dropout!r}.", fix="use dropout=0.2."
            )
        if (
            isinstance(hidden, (str, bytes))
            or not isinstance(hidden, Sequence)
            or not all(isinstance(h, Integral) and not isinstance(h, bool) and h >= 1 for h in hidden)
        ):
            raise ConfigError(
                f"Expected option `hidden` to hold positive integer widths; got {hidden!r:.80}.",
                fix="use hidden=[128, 64] (one positive width per hidden layer).",
                code="bad-model-option",
            )
        _check_size(in_features, n_outputs, [int(h) for h in hidden], embedding)
        layers: list[nn.Module] = [nn.Flatten()]
        width = in_features
        if embedding == "periodic":
            embed = PeriodicEmbedding(in_features)
            layers.append(embed)
            width = in_features * embed.bias.shape[1]
        for h in hidden:
            linear = nn.Linear(width, int(h), bias=not batch_norm)
            if activation == "leaky_relu":
                nn.init.kaiming_normal_(linear.weight, nonlinearity="leaky_relu")
            else:
                nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
            if linear.bias is not None:
                nn.init.zeros_(linear.bias)
            layers.append(linear)
            if batch_norm:
                layers.append(nn.BatchNorm1d(int(h)))
            layers.append(make_activation(activation))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = int(h)
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_outputs)
        nn.init.zeros_(self.head.bias)

    def forward(self, x: Tensor) -> Tensor:
        """Logits ``[N, n_outputs]`` for inputs ``[N, ...]``."""
        out: Tensor = self.head(self.body(x))
        return out


def _check_size(in_features: int, n_outputs: int, hidden: list[int], embedding: str) -> None:
    """``ConfigError`` before any allocation when the layers would hold more than ``MAX_MLP_PARAMETERS`` weights."""
    from ..options import MAX_MLP_PARAMETERS

    widths = [
        in_features * (16 if embedding == "periodic" else 1),
        *hidden,
        n_outputs,
    ]  # PeriodicEmbedding dim
    n = sum(a * b + b for a, b in zip(widths, widths[1:]))
    if n > MAX_MLP_PARAMETERS:
        raise ConfigError(
            f"Option `hidden`={hidden!r:.80} gives an mlp of {n:,} weights on {in_features} inputs "
            f"(about {4 * n / 1e9:.3g} GB in float32); logitlab builds at most {MAX_MLP_PARAMETERS:,}.",
            fix="use hidden=[256,128] (the default) or other widths of a few thousand at most.",
            code="model-too-large",
            param="model_options",
        )
