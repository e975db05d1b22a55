"""The run report: one self-contained ``report.html`` (plots embedded as base64 PNG) and a terminal summary.

The page opens with what the metrics come from (the data, the split, its rows, the epochs), then
has five sections with stable ids, in this order: ``decisions`` (task, loss, weights, thresholds and
notes), ``doctor`` (findings with their fixes), ``metrics`` (headline numbers, a per-label table,
confusion matrices labelled with the class names, the classification report), ``importance``
(permutation importance of the input columns) and ``plots``.

Examples:
    >>> import tempfile
    >>> content = ReportContent(decisions={"task": "binary"}, metrics={"f1": 0.5})
    >>> path = write_report(tempfile.mkdtemp(), content)
    >>> path.name, 'id="metrics"' in path.read_text()
    ('report.html', True)
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..files import write_text_atomic
from .content import ReportContent
from .html import finding_rows, fmt, render_page

__all__ = ["SECTIONS", "ReportContent", "terminal_summary", "write_report"]

SECTIONS: tuple[str, ...] = ("decisions", "doctor", "metrics", "importance", "plots")
"""The ids of the report's sections, in page order."""


def write_report(run_dir: str | os.PathLike[str], content: ReportContent) -> Path:
    """Write ``run_dir/report.html`` (created if missing): decisions, doctor findings, metrics and plots in one file.

    ``content`` (:class:`~logitlab.report.content.ReportContent`) says what is shown; the standard plots made
    from its logits go to ``run_dir/plots/``.

    Returns:
        Path: the written ``report.html``.
    """
    c = content
    decisions, findings, metrics, plots, title = c.decisions, c.findings, c.metrics, c.plots, c.title
    logits, targets, task, thresholds, calibration = c.logits, c.targets, c.task, c.thresholds, c.calibration
    label_names, class_names, history, loss_config = c.label_names, c.class_names, c.history, c.loss_config
    run_info, importance, terms = c.run_info, c.importance, c.terms
    run = Path(run_dir)
    all_plots: dict[str, str | os.PathLike[str]] = {}
    before = after = None
    if logits is not None and targets is not None and task is not None:
        from ..evaluate import calibration_metrics, compute_metrics
        from .plots import plot_all

        csv_path = run / "metrics.csv"
        hist = history if history is not None else (csv_path if csv_path.is_file() else None)
        all_plots.update(plot_all(run / "plots", logits, targets, task=task, thresholds=thresholds, label_names=label_names,
                                  history=hist, loss_config=loss_config, calibration=calibration))  # fmt: skip
        if metrics is None:
            metrics = compute_metrics(logits, targets, task=task, thresholds=thresholds, label_names=label_names,
                                      calibration=calibration)  # fmt: skip
        if calibration is not None:
            before = calibration_metrics(logits, targets, task=task)
            after = calibration_metrics(logits, targets, task=task, calibration=calibration)
    page = render_page(
        title=title,
        run_info=run_info,
        decisions=decisions,
        findings=findings,
        metrics=metrics,
        class_names=class_names,
        calibration=(calibration, before, after, label_names),
        importance=importance,
        terms=terms,
        plots={**all_plots, **(plots or {})},
    )
    return write_text_atomic(run / "report.html", page)


def terminal_summary(
    metrics: Mapping[str, Any],
    *,
    decisions: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
    findings: Any = None,
    title: str = "logitlab",
    as_text: bool = False,
) -> Any:
    """A rich renderable (or plain text) of the decisions, the doctor's findings and the headline metrics.

    Args:
        metrics (dict): metrics to show (scalars only; lists are summarised by the report).
        decisions (dict, optional): decisions to show first.
        findings (doctor Report or list, optional): findings, one line each.
        title (str): the table title. Default: ``"logitlab"``.
        as_text (bool): return a plain string instead of a renderable. Default: ``False``.

    Examples:
        >>> print(terminal_summary({"accuracy": 0.9}, as_text=True))  # doctest: +NORMALIZE_WHITESPACE
        logitlab
        metric     value
        accuracy   0.9000
    """
    from rich.console import Console, Group
    from rich.table import Table
    from rich.text import Text

    parts: list[Any] = []
    if decisions:
        pairs = decisions.items() if isinstance(decisions, Mapping) else decisions
        lines = [f"{k}: {fmt(v)}" for k, v in pairs]
        parts.append(Text("\n".join(lines)))
    rows = finding_rows(findings)
    if rows:
        style = {"error": "bold red", "warning": "yellow", "info": "cyan"}
        parts.append(Text("\n".join(f"[{r['severity']}] {r['code']}: {r['message']}" for r in rows),
                          style=style.get(rows[0]["severity"], "")))  # fmt: skip
    table = Table(title=title, box=None, show_edge=False)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in metrics.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            table.add_row(key, fmt(value))
    parts.append(table)
    group = Group(*parts)
    if not as_text:
        return group
    buffer = io.StringIO()
    Console(file=buffer, width=100, color_system=None, force_terminal=False).print(group)
    return "\n".join(line.rstrip() for line in buffer.getvalue().rstrip().splitlines())
