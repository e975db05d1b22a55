"""The HTML of the run report: the page, its sections and their tables (see :func:`logitlab.report.write_report`).

Everything shown is escaped; numbers are formatted for people (:func:`fmt`), figures are embedded as
base64 PNG so the page is one self-contained file.
"""

from __future__ import annotations

import base64
import html
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["finding_rows", "fmt", "render_page"]


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}
h1{font-size:1.6rem}h2{border-bottom:1px solid #ddd;padding-bottom:.3rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #ddd;padding:.25rem .6rem;text-align:left}
th{background:#f4f4f4;overflow-wrap:anywhere}table.decisions th{width:11rem;vertical-align:top}
table.cm th{max-width:8rem;font-size:.85rem}.worse{color:#b00020}td.num{text-align:right;font-variant-numeric:tabular-nums}
.error{color:#b00020;font-weight:bold}.warning{color:#a15c00;font-weight:bold}.info{color:#006680}
figure{margin:1rem 0}img{max-width:100%;border:1px solid #eee}pre{background:#f8f8f8;padding:.6rem;overflow-x:auto}
.muted{color:#777}
"""


def fmt(value: Any) -> str:
    """A value for people: 4 decimals, lists without brackets or quotes, mappings as ``key value; ...``."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4f}" if abs(value) < 1e4 else f"{value:.4g}"
    if isinstance(value, (list, tuple)):  # for people: no brackets, no quotes
        shown = ", ".join(fmt(v) for v in list(value)[:12])
        return (shown or "none") + (", ..." if len(value) > 12 else "")
    if isinstance(value, Mapping):
        return "; ".join(
            f"{str(k).replace('_', ' ')} {fmt(v)}" for k, v in value.items() if v not in (None, [], {})
        )
    return str(value)


def finding_rows(findings: Any) -> list[dict[str, str]]:
    """The doctor's findings (a ``Report``, ``Finding``s or dicts) as ``severity``/``code``/``message``/``fix`` rows."""
    if findings is None:
        return []
    if hasattr(findings, "to_dict"):
        findings = findings.to_dict().get("findings", [])
    rows = []
    for f in findings:
        get = f.get if isinstance(f, Mapping) else (lambda k, f=f: getattr(f, k, ""))
        rows.append({k: str(get(k) or "") for k in ("severity", "code", "message", "fix")})
    return rows


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], css: str = "") -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    thead = f"<thead><tr>{head}</tr></thead>" if header else ""
    body = []
    for row in rows:
        cells = []
        for cell in row:
            cls = ' class="num"' if isinstance(cell, (int, float)) and not isinstance(cell, bool) else ""
            cells.append(f"<td{cls}>{html.escape(fmt(cell))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cls = f' class="{css}"' if css else ""
    return f"<table{cls}>{thead}<tbody>{''.join(body)}</tbody></table>"


def _decisions_html(decisions: Mapping[str, Any] | Sequence[tuple[str, Any]]) -> str:
    """A key/value table: sentences as given, a nested dict as its own small key/value table, lists joined."""
    pairs = list(decisions.items()) if isinstance(decisions, Mapping) else list(decisions)
    if not pairs:
        return '<p class="muted">No decisions recorded.</p>'
    rows = []
    for key, value in pairs:
        if isinstance(value, Mapping):
            inner = [(str(k).replace("_", " "), v) for k, v in value.items() if v not in (None, [], {})]
            cell = _table((), inner) if inner else "none"
        else:
            cell = html.escape(fmt(value))
        rows.append(f"<tr><th>{html.escape(str(key).replace('_', ' '))}</th><td>{cell}</td></tr>")
    return f'<table class="decisions"><tbody>{"".join(rows)}</tbody></table>'


def _doctor_html(rows: list[dict[str, str]]) -> str:
    if not rows:
        return "<p>The doctor found nothing to report.</p>"
    body = "".join(
        f'<tr><td class="{html.escape(r["severity"])}">{html.escape(r["severity"])}</td>'
        f"<td>{html.escape(r['code'])}</td><td>{html.escape(r['message'])}</td><td>{html.escape(r['fix'])}</td></tr>"
        for r in rows
    )
    return f"<table><thead><tr><th>severity</th><th>code</th><th>finding</th><th>fix</th></tr></thead><tbody>{body}</tbody></table>"


def _per_label_rows(metrics: Mapping[str, Any]) -> tuple[list[str], list[list[Any]]]:
    sfx = "per_label" if "f1_per_label" in metrics else "per_class" if "f1_per_class" in metrics else ""
    if not sfx:
        return [], []
    keys = [k for k in metrics if k.endswith(f"_{sfx}")]
    n = len(metrics[keys[0]])
    names = list(metrics.get("label_names") or range(n))
    header = ["label" if sfx == "per_label" else "class", *[k[: -len(sfx) - 1] for k in keys]]
    return header, [[str(names[j]), *[metrics[k][j] for k in keys]] for j in range(n)]


def _metrics_html(metrics: Mapping[str, Any], class_names: Sequence[str] | None = None) -> str:
    if not metrics:
        return '<p class="muted">No metrics.</p>'
    scalars = [(k, v) for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    parts = [_table(("metric", "value"), scalars)]
    header, rows = _per_label_rows(metrics)
    if rows:
        parts.append(f"<h3>Per {header[0]}</h3>" + _table(header, rows))
    names = [str(n) for n in metrics.get("label_names") or []]
    if isinstance(metrics.get("confusion_matrix"), list):
        cm = metrics["confusion_matrix"]
        given = [str(c) for c in class_names or []]
        labels = (
            given
            if len(given) == len(cm)
            else names
            if len(names) == len(cm)
            else ["0", "1"]
            if len(cm) == 2
            else [str(i) for i in range(len(cm))]
        )
        rows_cm = [[labels[i], *row] for i, row in enumerate(cm)]
        cm_table = _table(["true \\ predicted", *labels], rows_cm, css="cm")
        parts.append("<h3>Confusion matrix</h3>" + cm_table)
    if isinstance(metrics.get("confusion_matrices"), list):
        rows_ml = [[names[j] if j < len(names) else str(j), *[v for row in m for v in row]]
                   for j, m in enumerate(metrics["confusion_matrices"])]  # fmt: skip
        parts.append(
            "<h3>Confusion matrix per label</h3>" + _table(["label", "tn", "fp", "fn", "tp"], rows_ml)
        )
    negative = (
        str(class_names[0])
        if class_names and len(class_names) == 2 and "f1_per_class" not in metrics
        else None
    )
    try:
        from ..evaluate import format_classification_report

        parts.append(
            "<h3>Classification report</h3><pre>"
            + html.escape(format_classification_report(metrics, negative=negative))
            + "</pre>"
        )
    except (KeyError, TypeError, IndexError):
        pass  # a partial metrics dict: the tables above say it all
    return "\n".join(parts)


def _calibration_html(
    calibration: Any,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    names: Sequence[str] | None,
    where: str = "evaluation rows",
) -> str:
    """The calibration judged on ``where`` (rows it was not fitted on), then ECE, Brier and log-loss per label."""
    parts = [f"<h3>Calibration</h3><p>Method: {html.escape(str(calibration.method))}.</p>"]
    if before is not None and after is not None:
        b, a = float(before["log_loss"]), float(after["log_loss"])
        verdict = "better" if a < b else "worse" if a > b else "unchanged"
        css = ' class="worse"' if verdict == "worse" else ""
        parts.append(
            f"<p>On the {html.escape(where)}, which the map was not fitted on: log-loss {b:.4f} without it, "
            f"{a:.4f} with it (<span{css}>{verdict}</span>).</p>"
        )
    if calibration.log_loss_before and calibration.log_loss_after:
        fb, fa = calibration.log_loss_before, calibration.log_loss_after
        parts.append(
            f'<p class="muted">On the rows it was fitted on (in-sample, not a judgement): log-loss '
            f"{sum(fb) / len(fb):.4f} before, {sum(fa) / len(fa):.4f} after.</p>"
        )
    if before is not None and after is not None:
        keys = ("ece", "brier", "log_loss")
        header = ["label", *[f"{k.replace('_', '-')} {w}" for k in keys for w in ("before", "after")]]
        n = len(before["ece_per_label"])
        shown = [str(x) for x in names][:n] if names is not None else []
        rows: list[list[Any]] = []
        for j in range(n):
            cells = [
                m[f"{k}_per_label"][j] if f"{k}_per_label" in m else "" for k in keys for m in (before, after)
            ]
            rows.append([shown[j] if j < len(shown) else str(j), *cells])
        rows.append(["overall", *[m[k] for k in keys for m in (before, after)]])
        parts.append(_table(header, rows))
    if calibration.notes:
        items = "".join(f"<li>{html.escape(str(note))}</li>" for note in calibration.notes)
        parts.append(f"<ul>{items}</ul>")
    return "\n".join(parts)


def _importance_html(importance: Mapping[str, Any] | None) -> str:
    if not importance:
        return '<p class="muted">Not computed.</p>'
    if "skipped" in importance:
        return f'<p class="muted">Not computed: {html.escape(str(importance["skipped"]))}.</p>'
    intro = (
        f"<p>How much {html.escape(str(importance['score']))} drops (from {fmt(importance['baseline'])}) "
        f"when one column is shuffled, on {importance['rows']} {importance.get('on', 'validation')} rows "
        f"(rows the model did not train on), {importance['repeats']} "
        "shuffle(s) each (scikit-learn's <code>permutation_importance</code> on the fitted Classifier). "
        "A column far ahead of the others, such as an id, deserves a look.</p>"
    )
    rows = [(c["column"], c["mean"], c["std"]) for c in importance["columns"]]
    return intro + _table(("column", "mean drop", "std"), rows)


def _terms_html(terms: Mapping[str, Any] | None) -> str:
    if not terms or not terms.get("labels"):
        return ""
    rows = [
        (t["label"], ", ".join(f"{name} ({weight:.2f})" for name, weight in t["terms"]) or "none positive")
        for t in terms["labels"]
    ]
    return (
        "<h3>Most informative terms</h3><p>Per label, the features with the largest positive weights of the "
        "linear text model (the terms that raise the label's logit most when they occur).</p>"
        + _table(["label", "terms (weight)"], rows)
    )


def _run_html(run: Mapping[str, Any] | None) -> str:
    if not run:
        return ""
    parts = "; ".join(f"{html.escape(str(k))}: {html.escape(fmt(v))}" for k, v in run.items())
    return f'<p id="run">{parts}</p>'


def _plots_html(plots: Mapping[str, str | os.PathLike[str]]) -> str:
    if not plots:
        return '<p class="muted">No plots.</p>'
    parts = []
    for name, path in plots.items():
        data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
        safe = html.escape(str(name))
        parts.append(
            f'<figure id="plot-{safe}"><img src="data:image/png;base64,{data}" alt="{safe}">'
            f"<figcaption>{safe.replace('_', ' ')}</figcaption></figure>"
        )
    return "\n".join(parts)


def render_page(
    *,
    title: str,
    run_info: Mapping[str, Any] | None,
    decisions: Mapping[str, Any] | Sequence[tuple[str, Any]] | None,
    findings: Any,
    metrics: Mapping[str, Any] | None,
    class_names: Sequence[str] | None,
    calibration: tuple[Any, Any, Any, Sequence[str] | None],
    importance: Mapping[str, Any] | None,
    terms: Mapping[str, Any] | None,
    plots: Mapping[str, str | os.PathLike[str]],
) -> str:
    """The report page: the run line, then the :data:`~logitlab.report.SECTIONS` in order.

    ``calibration`` is ``(the fitted map or None, its metrics before, after, the label names)``.
    """
    where = (
        f"{run_info.get('rows', '')} {run_info.get('split', 'evaluation')} rows".strip()
        if run_info
        else "evaluation rows"
    )
    fitted, before, after, label_names = calibration
    calibration_part = (
        _calibration_html(fitted, before, after, label_names, where) if fitted is not None else ""
    )
    sections = {
        "decisions": ("Decisions", _decisions_html(decisions or {})),
        "doctor": ("Doctor", _doctor_html(finding_rows(findings))),
        "metrics": ("Metrics", _metrics_html(metrics or {}, class_names) + calibration_part),
        "importance": ("Feature importance", _importance_html(importance) + _terms_html(terms)),
        "plots": ("Plots", _plots_html(plots)),
    }
    body = "\n".join(
        f'<section id="{sid}"><h2>{name}</h2>\n{content}\n</section>'
        for sid, (name, content) in sections.items()
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_CSS}</style></head>\n<body><h1>{html.escape(title)}</h1>\n{_run_html(run_info)}\n{body}\n</body></html>\n"
    )
