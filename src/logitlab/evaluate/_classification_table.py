"""The fixed-width classification-report table (scikit-learn's layout), from ``compute_metrics`` output.

Pure formatting: it imports nothing from the package, so :mod:`~logitlab.evaluate.metrics` (which
holds ``classification_report``, logits to table) and the HTML report can both use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["format_classification_report"]


def format_classification_report(
    metrics: Mapping[str, Any], *, digits: int = 3, negative: str | None = None
) -> str:
    """Per-label precision, recall, F1 and support, then the averages, from :func:`compute_metrics` output.

    Args:
        metrics (dict): the dict returned by :func:`~logitlab.evaluate.compute_metrics`.
        digits (int): decimals shown. Default: ``3``.
        negative (str, optional): the binary negative class's name. Default: ``"not <positive>"``.

    Binary metrics get both rows, the negative class's from the confusion matrix, and the macro and
    support-weighted averages, as scikit-learn's ``classification_report`` prints them.

    Returns:
        str: a fixed-width table.
    """
    rows: list[tuple[str, list[str]]] = []
    f = f"{{:.{digits}f}}"
    if "per_label" in _suffix(metrics) or "per_class" in _suffix(metrics):
        sfx = _suffix(metrics)
        names = list(metrics.get("label_names") or range(len(metrics[f"f1_{sfx}"])))
        for j, name in enumerate(names):
            cells = [f.format(metrics[f"{k}_{sfx}"][j]) for k in ("precision", "recall", "f1")]
            rows.append((str(name), [*cells, str(metrics[f"support_{sfx}"][j])]))
        total = str(sum(metrics[f"support_{sfx}"]))
        rows.append(("", []))
        if sfx == "per_class":
            rows.append(("accuracy", ["", "", f.format(metrics["accuracy"]), str(metrics["n"])]))
        for avg in ("micro", "macro", "weighted"):
            if sfx == "per_class" and avg == "micro":
                continue
            cells = [f.format(metrics[f"{k}_{avg}"]) for k in ("precision", "recall", "f1")]
            rows.append((f"{avg} avg", [*cells, total]))
        if sfx == "per_label":
            rows.append(
                ("subset accuracy", ["", "", f.format(metrics["subset_accuracy"]), str(metrics["n"])])
            )
    else:
        rows.extend(_binary_rows(metrics, f, negative))
    width = max([len(name) for name, _ in rows] + [len("weighted avg")])
    header = " " * width + "".join(f"{h:>11}" for h in ("precision", "recall", "f1-score", "support"))
    lines = [header, ""]
    for name, cells in rows:
        lines.append((f"{name:>{width}}" + "".join(f"{c:>11}" for c in cells)) if cells else "")
    return "\n".join(lines)


def _binary_rows(metrics: Mapping[str, Any], f: str, negative: str | None) -> list[tuple[str, list[str]]]:
    positive = str(metrics.get("label_name", "1"))
    pos_row = [metrics["precision"], metrics["recall"], metrics["f1"], int(metrics["support"])]
    rows = []
    if isinstance(metrics.get("confusion_matrix"), list):  # [[tn, fp], [fn, tp]]
        (tn, fp), (fn, _tp) = metrics["confusion_matrix"]
        p = tn / (tn + fn) if tn + fn else 0.0
        r = tn / (tn + fp) if tn + fp else 0.0
        neg_row = [p, r, 2 * p * r / (p + r) if p + r else 0.0, tn + fp]
        rows.append((negative or f"not {positive}", [*(f.format(v) for v in neg_row[:3]), str(neg_row[3])]))
    rows.append((positive, [*(f.format(v) for v in pos_row[:3]), str(pos_row[3])]))
    rows.append(("", []))
    rows.append(("accuracy", ["", "", f.format(metrics["accuracy"]), str(metrics["n"])]))
    if len(rows) == 4:
        total = neg_row[3] + pos_row[3]
        for avg in ("macro", "weighted"):
            w = (0.5, 0.5) if avg == "macro" else (neg_row[3] / max(total, 1), pos_row[3] / max(total, 1))
            cells = [f.format(w[0] * neg_row[k] + w[1] * pos_row[k]) for k in range(3)]
            rows.append((f"{avg} avg", [*cells, str(total)]))
    return rows


def _suffix(metrics: Mapping[str, Any]) -> str:
    if "f1_per_label" in metrics:
        return "per_label"
    if "f1_per_class" in metrics:
        return "per_class"
    return ""
