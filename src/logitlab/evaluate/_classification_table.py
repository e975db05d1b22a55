"""The fixed-width classification-report table (scikit-learn's layout), from ``compute_metrics`` output.

Pure formatting: it imports nothing from the package, so :mod:`~logitlab.evaluate.metrics` (which
holds ``classification_report``, logits to table) and the HTML report can both use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["format_classification_report"]


def format_classification_report(metrics: Mapping[str, Any], *, digits: int = 3) -> str:
    """Per-label precision, recall, F1 and support, then the averages, from :func:`compute_metrics` output.

    Args:
        metrics (dict): the dict returned by :func:`~logitlab.evaluate.compute_metrics`.
        digits (int): decimals shown. Default: ``3``.

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
        cells = [f.format(metrics[k]) for k in ("precision", "recall", "f1")]
        rows.append((str(metrics.get("label_name", "1")), [*cells, str(metrics["support"])]))
        rows.append(("", []))
        rows.append(("accuracy", ["", "", f.format(metrics["accuracy"]), str(metrics["n"])]))
    width = max([len(name) for name, _ in rows] + [len("weighted avg")])
    header = " " * width + "".join(f"{h:>11}" for h in ("precision", "recall", "f1-score", "support"))
    lines = [header, ""]
    for name, cells in rows:
        lines.append((f"{name:>{width}}" + "".join(f"{c:>11}" for c in cells)) if cells else "")
    return "\n".join(lines)


def _suffix(metrics: Mapping[str, Any]) -> str:
    if "f1_per_label" in metrics:
        return "per_label"
    if "f1_per_class" in metrics:
        return "per_class"
    return ""
