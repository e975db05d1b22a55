"""A small convolutional network for small images (``1 x 8 x 8`` digits, ``3 x 32 x 32`` CIFAR-like).

Each stage is two ``3x3 conv -> BatchNorm -> ReLU`` layers, then a 2x2 max-pool while the feature map
is at least 4 pixels on its short side; global average pooling and a dropout + linear head follow.

Examples:
    >>> import torch
    >>> net = SmallCNN((1, 8, 8), 10, channels=(8, 16))
    >>> net(torch.randn(2, 1, 8, 8)).shape
    torch.Size([2, 10])
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from ..errors import ConfigError

__all__ = ["SmallCNN"]


class SmallCNN(nn.Module):
    """Small CNN returning logits ``[N, n_outputs]`` for images ``[N, C, H, W]``.

    Args:
        input_shape (tuple[int, int, int]): ``(C, H, W)``.
        n_outputs (int): number of logits.
        channels (sequence of int): output channels of each stage. Default: ``(32, 64, 128)``.
        dropout (float): dropout before the head, in [0, 1). Default: ``0.2``.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        n_outputs: int,
        *,
        channels: Sequence[int] = (32, 64, 128),
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        if len(input_shape) != 3:
            raise ConfigError(
                f"Model 'cnn' needs image input_shape (C, H, W); got {tuple(input_shape)}.",
                fix="use model 'mlp' for tabular data, or give images as [N, C, H, W].",
                code="bad-input-shape",
            )
        if not 0 <= dropout < 1 or not channels or min(channels) < 1:
            raise ConfigError(
                f"Expected cnn options channels (positive widths) and dropout in [0, 1); "
                f"got channels={list(channels)}, dropout={dropout}.",
                fix="use channels=[32, 64, 128], dropout=0.2.",
                code="bad-model-option",
            )
        c, size = int(input_shape[0]), min(int(input_shape[1]), int(input_shape[2]))
        layers: list[nn.Module] = []
        for out in channels:
            for _ in range(2):
                conv = nn.Conv2d(c, int(out), 3, padding=1, bias=False)
                nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
                layers += [conv, nn.BatchNorm2d(int(out)), nn.ReLU(inplace=True)]
                c = int(out)
            if size >= 4:
                layers.append(nn.MaxPool2d(2))
                size //= 2
        self.features = nn.Sequential(*layers)
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout))
        self.head = nn.Linear(c, n_outputs)
        nn.init.zeros_(self.head.bias)

    def forward(self, x: Tensor) -> Tensor:
        """Logits ``[N, n_outputs]``."""
        out: Tensor = self.head(self.pool(self.features(x)))
        return out
