"""What a run report shows: :class:`ReportContent`, the one typed input of :func:`logitlab.report.write_report`."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["ReportContent"]


@dataclass(frozen=True)
class ReportContent:
    """Everything ``report.html`` shows; every part is optional (a section without its part says so).

    Given ``logits``, ``targets`` and ``task``, the metrics (when not given) and the standard plots
    (:func:`logitlab.report.plots.plot_all`) are made from them; ``plots`` adds to or replaces those by name.
    Without ``history``, the run directory's ``metrics.csv`` is used when it exists. Given a ``calibration``
    too, ``logits`` stay the raw model outputs, ``thresholds`` are on the calibrated scale (as ``predict``
    applies them), the metrics and curves are the calibrated ones, the reliability diagram shows the curves
    before and after, and the metrics section gets a before/after table of ECE, Brier score and log-loss per
    label and overall.

    Attributes:
        title (str): the page title. Default: ``"logitlab run report"``.
        run_info (dict, optional): what the metrics come from, shown first: e.g. ``{"data": ..., "split":
            "test", "rows": 23, "epochs": "30 (best 28)"}``.
        decisions (dict or list of pairs, optional): what the run decided (task, loss, weights, thresholds,
            notes); the CLI gives the sentences it printed, as ``(name, sentence)`` pairs.
        findings (doctor Report or list of dicts/Findings, optional): the doctor's findings.
        metrics (dict, optional): :func:`logitlab.evaluate.compute_metrics` output (or any flat dict).
        logits (Tensor, optional): evaluation logits for the metrics and plots.
        targets (Tensor, optional): their targets.
        task (Task or str, optional): the task.
        thresholds (Thresholds, optional): tuned decisions (on the calibrated scale with a calibration).
        calibration (Calibration, optional): the map fitted on validation (:func:`logitlab.evaluate.calibrate`).
        label_names (list[str], optional): names of the labels/classes.
        class_names (list[str], optional): the classes in target order (binary: ``[negative, positive]``),
            for the confusion matrix. Default: the label names, else 0, 1.
        history (list[dict] or path, optional): trainer rows for the training curves.
        loss_config (dict, optional): ``{"name": ..., **options}`` for the loss-against-logit figure.
        importance (dict, optional): :func:`logitlab.report.importance.permutation_table` output.
        terms (dict, optional): :func:`logitlab.report.importance.informative_terms` output (text models).
        plots (dict[str, path], optional): PNG files to embed, by name.
    """

    title: str = "logitlab run report"
    run_info: Mapping[str, Any] | None = None
    decisions: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None
    findings: Any = None
    metrics: Mapping[str, Any] | None = None
    logits: Any = None
    targets: Any = None
    task: Any = None
    thresholds: Any = None
    calibration: Any = None
    label_names: Sequence[str] | None = None
    class_names: Sequence[str] | None = None
    history: Any = None
    loss_config: Mapping[str, Any] | None = None
    importance: Mapping[str, Any] | None = None
    terms: Mapping[str, Any] | None = None
    plots: Mapping[str, str | os.PathLike[str]] | None = None
