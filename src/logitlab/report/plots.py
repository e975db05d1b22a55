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

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ..evaluate import format_pair
from ..evaluate.decision import DecisionRule
from ..tasks import Task
from ._plot_base import MAX_PANELS, new_figure, panel_grid, panel_names, save_figure
from ._plotdata import columns, operating_point, operating_points, read_history, reliability_panels
from ._training_plots import plot_loss_curves, plot_training_curves

if TYPE_CHECKING:
    from ..evaluate.calibration import Calibration
    from ..evaluate.thresholds import Thresholds

__all__ = [
    "MAX_PANELS",
    "plot_all",
    "plot_confusion_matrix",
    "plot_logit_histograms",
    "plot_loss_curves",
    "plot_pr_curves",
    "plot_reliability",
    "plot_roc_curves",
    "plot_training_curves",
]


def _curves(
    kind: str, logits: Any, targets: Any, out: Any, task: Any, thresholds: Any, label_names: Any
) -> Path:
    from sklearn.metrics import precision_recall_curve, roc_curve

    t = Task.from_str(task)
    p, y, z, _ = columns(logits, targets, t)
    tuned = operating_points(z, t, thresholds) if thresholds is not None else None
    default = operating_points(z, t, None)
    names = panel_names(label_names, p.shape[1])
    fig, axes = new_figure(size=(6.4, 5.0))
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
    return save_figure(fig, out)


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
    d = DecisionRule(t, thresholds=thresholds).decide(z)  # z: on the thresholds' (calibrated) scale
    if t is Task.MULTICLASS:
        c = z.shape[1]
        cm = np.bincount((y * c + d).numpy(), minlength=c * c).reshape(c, c)
        longest = min(18, max(len(str(n)) for n in panel_names(label_names, c)))  # wrapped at 18 characters
        side = max(3.6, 0.55 * c + 1.5) + 0.06 * longest  # room for the (wrapped, rotated) names
        fig, axes = new_figure(size=(min(side + 0.5, 11.0), min(side, 10.5)))
        _draw_matrix(axes[0][0], cm, panel_names(label_names, c), "confusion matrix")
        return save_figure(fig, out)
    yy, dd = (y[:, None], d[:, None]) if t is Task.BINARY else (y, d)
    fig, panels = panel_grid(yy.shape[1], size=(3.0, 2.8))
    names = panel_names(label_names, yy.shape[1])
    for j, ax in panels:
        cm = np.bincount((yy[:, j] * 2 + dd[:, j]).numpy(), minlength=4).reshape(2, 2)
        _draw_matrix(ax, cm, ["0", "1"], names[j] if j < len(names) else str(j))
    return save_figure(fig, out)


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
    names = ["top-1"] if t is Task.MULTICLASS else panel_names(label_names, len(curves))
    fig, panels = panel_grid(len(curves), size=(3.6, 3.4))
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
    return save_figure(fig, out)


def plot_logit_histograms(logits: Any, targets: Any, out: str | os.PathLike[str], *, task: Task | str,
                          label_names: Sequence[str] | None = None, bins: int = 40) -> Path:  # fmt: skip
    """Per label (or class), histograms of its logit for positive and negative samples. Returns ``out``."""
    t = Task.from_str(task)
    _, y1, z, _ = columns(logits, targets, t)
    zz = z[:, None] if t is Task.BINARY else z
    fig, panels = panel_grid(zz.shape[1], size=(3.4, 2.6))
    names = panel_names(label_names, zz.shape[1])
    for j, ax in panels:
        col, yj = zz[:, j].numpy(), y1[:, j].numpy().astype(bool)
        edges = torch.linspace(float(col.min()), float(col.max()) + 1e-9, bins + 1).numpy()
        ax.hist(col[~yj], bins=edges, alpha=0.6, label="negative", color="tab:red")
        ax.hist(col[yj], bins=edges, alpha=0.6, label="positive", color="tab:blue")
        ax.set_title(names[j] if j < len(names) else str(j), fontsize=9)
        ax.set_xlabel("logit")
        ax.legend(fontsize=6)
    return save_figure(fig, out)


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
    decided = DecisionRule(task, calibration, thresholds).calibrated_logits(logits)  # where thresholds are
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
