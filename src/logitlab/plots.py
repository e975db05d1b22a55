"""The run's figures as PNG files: training curves, loss vs logit, PR/ROC, confusion, calibration, logits.

Training curves, the loss and its gradient against the logit, PR and ROC curves, the confusion
matrix, the reliability diagram and logit histograms.

matplotlib is imported inside each function and draws on an Agg canvas (no pyplot, no global
backend switch, no display needed), so ``import logitlab`` stays light. Every function writes its PNG
atomically (:func:`logitlab.files.atomic_path`) and returns the path.

Examples:
    >>> import tempfile, torch
    >>> path = plot_loss_curves(tempfile.mkdtemp() + "/focal.png", task="binary", name="focal", gamma=2.0)
    >>> path.stat().st_size > 1000
    True
"""

# Slightly over the 400-line aim: one figure function per plot the report embeds, sharing the panel helpers.

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from .errors import ConfigError
from .evaluate._inputs import format_pair
from .evaluate._plotdata import columns, operating_point, operating_points, read_history, reliability_panels
from .evaluate.thresholds import Thresholds, predict_labels
from .files import atomic_path
from .tasks import Task

if TYPE_CHECKING:
    from .evaluate.calibration import Calibration

__all__ = [
    "plot_all",
    "plot_confusion_matrix",
    "plot_logit_histograms",
    "plot_loss_curves",
    "plot_pr_curves",
    "plot_reliability",
    "plot_roc_curves",
    "plot_training_curves",
]

MAX_PANELS = 12
"""At most this many labels/classes get their own curve or panel."""


def _figure(nrows: int = 1, ncols: int = 1, *, size: tuple[float, float] = (6.4, 4.4)) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size[0] * ncols, size[1] * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def _save(fig: Any, out: str | os.PathLike[str]) -> Path:
    with atomic_path(out) as tmp:  # the temporary name ends in .tmp: the format is named
        fig.savefig(tmp, format="png", dpi=110)
    return Path(out)


def _panel_grid(n: int, *, size: tuple[float, float]) -> tuple[Any, list[tuple[int, Any]]]:
    """A figure with one panel per label (at most ``MAX_PANELS``, 4 per row); spare cells are hidden."""
    k = min(n, MAX_PANELS)
    ncols = min(k, 4)
    nrows = math.ceil(k / ncols)
    fig, axes = _figure(nrows, ncols, size=size)
    cells = [axes[j // ncols][j % ncols] for j in range(nrows * ncols)]
    for ax in cells[k:]:
        ax.axis("off")
    return fig, list(enumerate(cells[:k]))


def _names(label_names: Sequence[str] | None, n: int) -> list[str]:
    return [str(x) for x in label_names][:n] if label_names is not None else [str(i) for i in range(n)]


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
    fig, axes = _figure(1, 3, size=(4.6, 3.8))
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
    return _save(fig, out)


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
    from .losses import make_loss

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
    fig, axes = _figure(2, 2, size=(5.0, 3.6))
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
    return _save(fig, out)


def _curves(
    kind: str, logits: Any, targets: Any, out: Any, task: Any, thresholds: Any, label_names: Any
) -> Path:
    from sklearn.metrics import precision_recall_curve, roc_curve

    t = Task.from_str(task)
    p, y, z, _ = columns(logits, targets, t)
    tuned = operating_points(z, t, thresholds) if thresholds is not None else None
    default = operating_points(z, t, None)
    names = _names(label_names, p.shape[1])
    fig, axes = _figure(size=(6.4, 5.0))
    ax = axes[0][0]
    for j in range(min(p.shape[1], MAX_PANELS)):
        yj, pj = y[:, j].numpy(), p[:, j].numpy()
        if yj.min() == yj.max():
            continue
        if kind == "pr":
            prec, rec, _ = precision_recall_curve(yj, pj)
            (line,) = ax.plot(rec, prec, lw=1.2, label=names[j] if j < len(names) else str(j))
        else:
            fpr, tpr, _ = roc_curve(yj, pj)
            (line,) = ax.plot(fpr, tpr, lw=1.2, label=names[j] if j < len(names) else str(j))
        for marks, marker, size in ((default, "o", 5), (tuned, "*", 12)):
            if marks is not None:
                ax.plot(
                    *operating_point(kind, marks[:, j].numpy(), yj),
                    marker,
                    color=line.get_color(),
                    ms=size,
                    mec="k",
                )
    if kind == "roc":
        ax.plot([0, 1], [0, 1], ":", color="grey")
    ax.set_xlabel("recall" if kind == "pr" else "false positive rate")
    ax.set_ylabel("precision" if kind == "pr" else "true positive rate")
    marks_text = "o: 0.5 / argmax" + (", *: tuned" if thresholds is not None else "")
    ax.set_title(f"{'precision-recall' if kind == 'pr' else 'ROC'} curves ({marks_text})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower left" if kind == "pr" else "lower right")
    return _save(fig, out)


def plot_pr_curves(logits: Any, targets: Any, out: str | os.PathLike[str], *, task: Task | str,
                   thresholds: Thresholds | None = None, label_names: Sequence[str] | None = None) -> Path:  # fmt: skip
    """Precision-recall curve per label (multiclass: one-vs-rest per class), operating points marked.

    The 0.5 / argmax operating point is a circle, the tuned one a star. Returns ``out``.
    """
    return _curves("pr", logits, targets, out, task, thresholds, label_names)


def plot_roc_curves(logits: Any, targets: Any, out: str | os.PathLike[str], *, task: Task | str,
                    thresholds: Thresholds | None = None, label_names: Sequence[str] | None = None) -> Path:  # fmt: skip
    """ROC curve per label (multiclass: one-vs-rest per class), operating points marked. Returns ``out``."""
    return _curves("roc", logits, targets, out, task, thresholds, label_names)


def _draw_matrix(ax: Any, cm: Any, names: list[str], title: str) -> None:
    rows = cm.sum(1, keepdims=True).clip(min=1)
    norm = cm / rows
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            color = "white" if norm[i, j] > 0.6 else "black"
            ax.text(
                j, i, f"{int(cm[i, j])}\n{norm[i, j]:.0%}", ha="center", va="center", fontsize=7, color=color
            )
    import textwrap

    wrapped = [textwrap.fill(str(n), 18, max_lines=4, placeholder="...") for n in names]
    long = len(names) > 4 or any(len(str(n)) > 8 for n in names)
    ax.set_xticks(range(len(names)), wrapped, rotation=40 if long else 0, ha="right" if long else "center",
                  rotation_mode="anchor", fontsize=7)  # fmt: skip
    ax.set_yticks(range(len(names)), wrapped, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)


def plot_confusion_matrix(logits: Any, targets: Any, out: str | os.PathLike[str], *, task: Task | str,
                          thresholds: Thresholds | None = None, label_names: Sequence[str] | None = None) -> Path:  # fmt: skip
    """Confusion matrix (counts and row fractions); multilabel: one 2x2 matrix per label. Returns ``out``."""
    import numpy as np

    t = Task.from_str(task)
    z, y = format_pair(logits, targets, t)
    d = predict_labels(z, task=t, thresholds=thresholds)
    if t is Task.MULTICLASS:
        c = z.shape[1]
        cm = np.bincount((y * c + d).numpy(), minlength=c * c).reshape(c, c)
        longest = min(18, max(len(str(n)) for n in _names(label_names, c)))  # wrapped at 18 characters
        side = max(3.6, 0.55 * c + 1.5) + 0.06 * longest  # room for the (wrapped, rotated) names
        fig, axes = _figure(size=(min(side + 0.5, 11.0), min(side, 10.5)))
        _draw_matrix(axes[0][0], cm, _names(label_names, c), "confusion matrix")
        return _save(fig, out)
    yy, dd = (y[:, None], d[:, None]) if t is Task.BINARY else (y, d)
    fig, panels = _panel_grid(yy.shape[1], size=(3.0, 2.8))
    names = _names(label_names, yy.shape[1])
    for j, ax in panels:
        cm = np.bincount((yy[:, j] * 2 + dd[:, j]).numpy(), minlength=4).reshape(2, 2)
        _draw_matrix(ax, cm, ["0", "1"], names[j] if j < len(names) else str(j))
    return _save(fig, out)


def plot_reliability(logits: Any, targets: Any, out: str | os.PathLike[str], *, task: Task | str,
                     n_bins: int | None = None, calibration: Calibration | None = None,
                     label_names: Sequence[str] | None = None) -> Path:  # fmt: skip
    """Reliability diagram: observed frequency against mean predicted probability per bin, before and after calibration.

    One panel per label (binary: one; at most ``MAX_PANELS``); multiclass: one panel of the top-1
    confidence against whether the argmax is right. Each panel has the uncalibrated curve and, given a
    ``calibration``, the calibrated one (their ECE over the same bins in the legend), the diagonal, and
    the share of rows per bin (of the last curve) as light bars. Bins are equal-mass (edges at the
    quantiles of the predicted probabilities, each bin about the same number of rows, its count printed
    by its point): on a small split, equal-width bins are mostly noise.

    Args:
        logits (Tensor[N], Tensor[N, L] or Tensor[N, C]): raw model outputs.
        targets (Tensor): their targets (as for :func:`logitlab.evaluate.compute_metrics`).
        out (path): the PNG to write.
        task (Task or str): the task.
        n_bins (int, optional): equal-mass bins per curve. Default: about 25 rows a bin, 2 to 10 bins.
        calibration (Calibration, optional): adds the calibrated curve. Default: ``None``.
        label_names (list[str], optional): panel titles. Default: ``None``.

    Returns:
        Path: ``out``.
    """
    t = Task.from_str(task)
    curves = reliability_panels(logits, targets, t, calibration, n_bins)
    names = ["top-1"] if t is Task.MULTICLASS else _names(label_names, len(curves))
    fig, panels = _panel_grid(len(curves), size=(3.6, 3.4))
    styles = {"uncalibrated": ("tab:red", "--"), "calibrated": ("tab:blue", "-")}
    for j, ax in panels:
        share = ax.twinx()
        for name, bins, ece in curves[j]:
            color, line = styles[name]
            seen = bins["count"] > 0
            xs, ys = bins["confidence"][seen].numpy(), bins["frequency"][seen].numpy()
            ax.plot(xs, ys, line, marker="o", ms=3, color=color, label=f"{name} (ECE {ece:.3f})")
            if name == curves[j][-1][0]:  # the rows per bin, by the points of the last curve
                for x0, y0, n in zip(xs, ys, bins["count"][seen].tolist()):
                    ax.annotate(f"{int(n)}", (x0, y0), textcoords="offset points", xytext=(3, -9), fontsize=6,
                                color=color)  # fmt: skip
        edges = bins["edges"].numpy()
        share.bar(edges[:-1], (bins["count"] / bins["count"].sum()).numpy(), width=edges[1:] - edges[:-1],
                  align="edge", color="tab:grey", alpha=0.2, edgecolor="white")  # fmt: skip
        share.set_ylim(0, 3)
        share.set_yticks([])
        ax.plot([0, 1], [0, 1], ":", color="grey")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("confidence (top-1)" if t is Task.MULTICLASS else "predicted probability")
        ax.set_ylabel("fraction correct" if t is Task.MULTICLASS else "fraction positive")
        n_bins_drawn = len(bins["count"])
        ax.set_title(f"{names[j] if j < len(names) else j} ({n_bins_drawn} equal-mass bins)", fontsize=9)
        ax.legend(fontsize=7, loc="upper left")
    return _save(fig, out)


def plot_logit_histograms(logits: Any, targets: Any, out: str | os.PathLike[str], *, task: Task | str,
                          label_names: Sequence[str] | None = None, bins: int = 40) -> Path:  # fmt: skip
    """Per label (or class), histograms of its logit for positive and negative samples. Returns ``out``."""
    t = Task.from_str(task)
    _, y1, z, _ = columns(logits, targets, t)
    zz = z[:, None] if t is Task.BINARY else z
    fig, panels = _panel_grid(zz.shape[1], size=(3.4, 2.6))
    names = _names(label_names, zz.shape[1])
    for j, ax in panels:
        col, yj = zz[:, j].numpy(), y1[:, j].numpy().astype(bool)
        edges = torch.linspace(float(col.min()), float(col.max()) + 1e-9, bins + 1).numpy()
        ax.hist(col[~yj], bins=edges, alpha=0.6, label="negative", color="tab:red")
        ax.hist(col[yj], bins=edges, alpha=0.6, label="positive", color="tab:blue")
        ax.set_title(names[j] if j < len(names) else str(j), fontsize=9)
        ax.set_xlabel("logit")
        ax.legend(fontsize=6)
    return _save(fig, out)


def plot_all(
    out_dir: str | os.PathLike[str],
    logits: Any,
    targets: Any,
    *,
    task: Task | str,
    thresholds: Thresholds | None = None,
    label_names: Sequence[str] | None = None,
    history: Sequence[Mapping[str, Any]] | str | os.PathLike[str] | None = None,
    loss_config: Mapping[str, Any] | None = None,
    calibration: Calibration | None = None,
) -> dict[str, Path]:
    """Every figure for a run, into ``out_dir``: ``{name: path}`` in report order.

    Args:
        out_dir (path): the folder for the PNG files (created if missing).
        logits (Tensor[N], Tensor[N, L] or Tensor[N, C]): evaluation logits.
        targets (Tensor): their targets (as for :func:`logitlab.evaluate.compute_metrics`).
        task (Task or str): the task.
        thresholds (Thresholds, optional): tuned decisions, marked on the curves. Default: ``None``.
        label_names (list[str], optional): names of the labels/classes. Default: ``None``.
        history (list[dict] or path, optional): trainer rows or ``metrics.csv``; the training curves are
            drawn when it has rows. Default: ``None``.
        loss_config (dict, optional): ``{"name": ..., **options}`` for :func:`plot_loss_curves`. Default: ``None``.
        calibration (Calibration, optional): the reliability diagram shows the curves before and after it;
            the PR/ROC curves and the confusion matrix are drawn on its calibrated scale, where
            ``thresholds`` then are. Default: ``None``.

    Returns:
        dict[str, Path]: the written files by name.
    """
    d = Path(out_dir)
    kw: dict[str, Any] = {"task": task, "label_names": label_names}
    paths: dict[str, Path] = {}
    if history is not None and read_history(history):
        paths["training_curves"] = plot_training_curves(history, d / "training_curves.png")
    if loss_config is not None:
        cfg = dict(loss_config)
        paths["loss_curves"] = plot_loss_curves(
            d / "loss_curves.png", task=task, name=cfg.pop("name", "auto"), label_names=label_names, **cfg
        )
    decided = calibration.calibrated_logits(logits) if calibration is not None else logits
    paths["pr_curves"] = plot_pr_curves(decided, targets, d / "pr_curves.png", thresholds=thresholds, **kw)
    paths["roc_curves"] = plot_roc_curves(decided, targets, d / "roc_curves.png", thresholds=thresholds, **kw)
    paths["confusion_matrix"] = plot_confusion_matrix(
        decided, targets, d / "confusion_matrix.png", thresholds=thresholds, **kw
    )
    paths["reliability"] = plot_reliability(
        logits, targets, d / "reliability.png", calibration=calibration, **kw
    )
    paths["logit_histograms"] = plot_logit_histograms(logits, targets, d / "logit_histograms.png", **kw)
    return paths
