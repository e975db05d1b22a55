"""What every figure of :mod:`logitlab.report.plots` shares: an Agg figure, the atomic PNG write, the panel grid."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..files import atomic_path

__all__ = ["MAX_PANELS", "new_figure", "panel_grid", "panel_names", "save_figure"]

MAX_PANELS = 12
"""At most this many labels/classes get their own curve or panel."""


def new_figure(nrows: int = 1, ncols: int = 1, *, size: tuple[float, float] = (6.4, 4.4)) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size[0] * ncols, size[1] * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def save_figure(fig: Any, out: str | os.PathLike[str]) -> Path:
    with atomic_path(out) as tmp:  # the temporary name ends in .tmp: the format is named
        fig.savefig(tmp, format="png", dpi=110)
    return Path(out)


def panel_grid(n: int, *, size: tuple[float, float]) -> tuple[Any, list[tuple[int, Any]]]:
    """A figure with one panel per label (at most ``MAX_PANELS``, 4 per row); spare cells are hidden."""
    k = min(n, MAX_PANELS)
    ncols = min(k, 4)
    nrows = math.ceil(k / ncols)
    fig, axes = new_figure(nrows, ncols, size=size)
    cells = [axes[j // ncols][j % ncols] for j in range(nrows * ncols)]
    for ax in cells[k:]:
        ax.axis("off")
    return fig, list(enumerate(cells[:k]))


def panel_names(label_names: Sequence[str] | None, n: int) -> list[str]:
    return [str(x) for x in label_names][:n] if label_names is not None else [str(i) for i in range(n)]
