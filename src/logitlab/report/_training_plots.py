"""The figures of training: the history's curves and the loss (and its gradient) against the logit.

Part of :mod:`logitlab.report.plots`, which exports them; matplotlib is imported only when a figure is drawn.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from ..errors import ConfigError
from ..tasks import Task
from ._plot_base import new_figure, save_figure
from ._plotdata import read_history

__all__ = ["plot_loss_curves", "plot_training_curves"]


def plot_training_curves(
    history: Sequence[Mapping[str, Any]] | str | os.PathLike[str], out: str | os.PathLike[str]
) -> Path:
    """Loss, metrics and learning rate per epoch.

    Args:
        history (list[dict] or path): the trainer's history rows, or its ``metrics.csv``.
        out (path): the PNG to write.

    Returns:
        Path: ``out``.
    """
    rows = read_history(history)
    keys = list(dict.fromkeys(k for r in rows for k in r))
    x = [r.get("epoch", float(i + 1)) for i, r in enumerate(rows)]  # epochs count from 1
    scored = ("val_", "train_", "test_")  # metrics; throughput, step counters etc. are not plotted
    groups = {
        "loss": [k for k in keys if k.endswith("loss")],
        "metrics": [k for k in keys if k.startswith(scored) and not k.endswith("loss")],
        "learning rate": [k for k in keys if k == "lr"],
    }
    fig, axes = new_figure(1, 3, size=(4.6, 3.8))
    for ax, (title, names) in zip(axes[0], groups.items()):
        for name in names:
            ax.plot(x, [r.get(name, math.nan) for r in rows], marker="o", markersize=3, label=name)
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        if names:
            ax.legend(fontsize=7)
        else:
            ax.text(0.5, 0.5, f"no {title} logged", ha="center", va="center", transform=ax.transAxes)
    if groups["learning rate"]:
        axes[0][2].ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    return save_figure(fig, out)


def _option_text(key: str, value: Any, names: Sequence[str] | None) -> str:
    """A loss option for a title: every label's weight named (the curves use the first), a range past six."""
    values = (
        [float(v) for v in torch.as_tensor(value).reshape(-1).tolist()]
        if key in ("pos_weight", "weight")
        else []
    )
    if len(values) <= 1:
        return f"{key} {values[0]:.3g}" if values else f"{key} {value}"
    labels = (
        list(names)
        if names is not None and len(names) == len(values)
        else [str(j) for j in range(len(values))]
    )
    drawn = f" (curves: {labels[0]})" if key == "pos_weight" else ""
    if len(values) <= 6:
        return f"{key} " + ", ".join(f"{n} {v:.3g}" for n, v in zip(labels, values)) + drawn
    return f"{key} {min(values):.3g} to {max(values):.3g} over {len(values)} labels" + drawn


def _loss_and_grad(task: Task, loss_fn: Any, z: torch.Tensor, y: float) -> tuple[list[float], list[float]]:
    zz = z.clone().requires_grad_(True)
    if task.family == "sigmoid":
        logits = zz[:, None]
        targets = torch.full_like(logits, y)
    else:  # two classes: the logit margin z of class 1 over class 0
        logits = torch.stack([torch.zeros_like(zz), zz], dim=1)
        targets = torch.full((len(zz),), int(y), dtype=torch.long)
    loss = loss_fn(logits, targets).reshape(len(zz), -1).sum(1)
    (grad,) = torch.autograd.grad(loss.sum(), zz)
    return loss.detach().tolist(), grad.tolist()


def plot_loss_curves(
    out: str | os.PathLike[str],
    *,
    task: Task | str = "binary",
    name: str = "auto",
    logit_range: float = 8.0,
    points: int = 401,
    compare: bool | str = True,
    label_names: Sequence[str] | None = None,
    **options: Any,
) -> Path:
    """Four panels: the loss against the logit for target 1 and 0, and its gradient, for one configuration.

    The loss is the module ``logitlab.losses.make_loss(task, name, **options)``; gradients come from
    autograd on a logit grid. Multiclass losses are drawn for two classes against the margin ``z`` of
    class 1 over class 0. With ``compare`` the task's plain loss (BCE / CE) is drawn dashed.

    Args:
        out (path): the PNG to write.
        task (Task or str): picks the loss family. Default: ``"binary"``.
        name (str): the loss name (``logitlab.losses.LOSS_NAMES``). Default: ``"auto"``.
        logit_range (float): the grid spans ``[-logit_range, logit_range]``. Default: ``8.0``.
        points (int): grid size. Default: ``401``.
        compare (bool or str): also draw the plain loss (``True``) or the loss of that name, dashed;
            ``False`` or ``""`` draws nothing else. Default: ``True``.
        label_names (list[str], optional): the labels a per-label ``pos_weight`` belongs to, named in the
            title (which lists every label's weight, or their range past six). Default: ``None``.
        **options: loss options (``gamma``, ``pos_weight`` as a number or list, ``clip``, ...).

    Returns:
        Path: ``out``.
    """
    from ..losses import make_loss

    t = Task.from_str(task)
    if not (logit_range > 0 and points >= 2):
        raise ConfigError(
            f"Expected logit_range > 0 and points >= 2; got {logit_range!r}, {points!r}.",
            fix="use logit_range=8.0, points=401.",
            code="bad-plot-range",
        )
    opts = {k: (torch.as_tensor(v, dtype=torch.float32).reshape(-1) if k in ("pos_weight", "weight") else v)
            for k, v in options.items()}  # fmt: skip
    if t.family == "sigmoid" and "pos_weight" in opts:
        opts["pos_weight"] = opts["pos_weight"][:1]
    curves = [(name, make_loss(t, name, reduction="none", **opts), "-")]
    plain = ("auto", "bce", "ce", "cross_entropy")
    other = "auto" if compare is True else str(compare or "")
    if other and other != name and not (other in plain and name in plain):
        label = "plain" if other in plain else other
        curves.append((label, make_loss(t, other, reduction="none"), "--"))
    z = torch.linspace(-logit_range, logit_range, points, dtype=torch.float32)
    fig, axes = new_figure(2, 2, size=(5.0, 3.6))
    shown = "; ".join(_option_text(k, v, label_names) for k, v in options.items())
    for label, loss_fn, style in curves:
        for col, y in ((0, 1.0), (1, 0.0)):
            loss, grad = _loss_and_grad(t, loss_fn, z, y)
            axes[0][col].plot(z.tolist(), loss, style, label=label)
            axes[1][col].plot(z.tolist(), grad, style, label=label)
    for col, y in ((0, 1), (1, 0)):
        axes[0][col].set_title(f"loss, target {y}")
        axes[1][col].set_title(f"d loss / d logit, target {y}")
        for row in (0, 1):
            ax = axes[row][col]
            ax.set_xlabel("logit z" if t.family == "sigmoid" else "margin z (class 1 - class 0)")
            ax.axvline(0, color="grey", lw=0.6)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
    fig.suptitle(f"{name} ({t.value}{'; ' + shown if shown else ''})")
    return save_figure(fig, out)
