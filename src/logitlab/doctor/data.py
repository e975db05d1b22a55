"""Diagnose a whole label set: imbalance with a suggested weighting, empty/constant labels, cardinality.

Examples:
    >>> report = diagnose_dataset([0] * 95 + [1] * 5)
    >>> "imbalanced-labels" in report, report.ok
    (True, True)
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import torch

from ..errors import LogitlabError
from ..options import TEXT_DETECTION
from ..tasks import Task, infer_task
from ..weights import class_weight, pos_weight
from .findings import DiagnoseTypeError, Finding, Report, make_finding

__all__ = ["diagnose_dataset", "diagnose_text_columns"]

Strategy = Literal["balanced", "sqrt"]  # the two strategies the doctor suggests
MIN_PER_CLASS = 3  # a stratified train/val/test split needs a sample of each class in each part
SHOW = 8


def diagnose_dataset(y: Any, *, task: Task | str | None = None, min_per_class: int = MIN_PER_CLASS) -> Report:
    """Check a label set before training: imbalance, empty/constant labels, cardinality, split-ability.

    Args:
        y (array-like): labels: 1-D class labels (ints or strings), a 2-D ``[N, L]`` 0/1 matrix (a
            pandas DataFrame keeps its column names), or one list of label names per row.
        task (Task or str, optional): the task; inferred from ``y`` (and reported) when left out.
        min_per_class (int): the fewest samples (positives, for labels) a stratified split needs.
            Default: ``3``.

    Returns:
        Report: findings ``imbalanced-labels`` (with a suggested ``pos_weight``/class-weight strategy),
        ``single-class``, ``empty-label``, ``constant-label``, ``label-cardinality``,
        ``too-few-for-stratified-split`` and ``task-inferred``. Unusable labels (NaN, continuous
        values) become an error finding too.

    Raises:
        DiagnoseTypeError: when ``y`` is a string or not array-like.

    Examples:
        >>> diagnose_dataset([[1, 0], [1, 1], [1, 0]]).codes
        ['constant-label', 'too-few-for-stratified-split', 'task-inferred', 'label-cardinality']
    """
    if isinstance(y, (str, bytes)) or not hasattr(y, "__len__"):
        raise DiagnoseTypeError(
            f"Expected argument `y` to be labels (array, tensor, list, pandas); got {type(y).__name__}.",
            fix="pass the label column(s), e.g. diagnose_dataset(df['label']).",
        )
    findings: list[Finding] = []
    try:
        inferred, reason = infer_task(y, return_reason=True)
    except LogitlabError as exc:
        if task is None:
            return Report(
                [
                    make_finding(
                        "single-class" if exc.code == "empty-targets" else "task-inferred",
                        str(exc.message),
                        exc.fix or "",
                        "error",
                    )
                ],
                title="logitlab doctor: dataset",
            )
        inferred, reason = Task.from_str(task), "given"
    chosen = Task.from_str(task) if task is not None else inferred
    if task is None:
        findings.append(
            make_finding("task-inferred", f"Task {chosen.value}: {reason}.", "pass task= to override.")
        )
    names, matrix = _indicator(y, chosen)
    if chosen is Task.MULTICLASS:
        findings += _class_findings(names, matrix, min_per_class)
    else:
        findings += _label_findings(names, matrix, chosen, min_per_class)
    return Report(findings, title="logitlab doctor: dataset")


def _indicator(y: Any, task: Task) -> tuple[list[str], np.ndarray]:
    """Label names and an [N, K] 0/1 float matrix (K classes or labels; 1 for binary)."""
    columns = list(getattr(y, "columns", [])) if getattr(y, "ndim", 1) == 2 else []
    if hasattr(y, "detach"):
        y = y.detach().cpu().float().numpy()
    elif hasattr(y, "to_numpy"):
        y = y.to_numpy()
    items = list(y)
    if (
        items
        and all(isinstance(v, (list, tuple, set, frozenset)) for v in items)
        and not _rectangular_numeric(items)
    ):
        vocab = sorted({str(x) for row in items for x in row})
        index = {name: i for i, name in enumerate(vocab)}
        matrix = np.zeros((len(items), len(vocab)))
        for r, row in enumerate(items):
            for x in row:
                matrix[r, index[str(x)]] = 1.0
        return vocab, matrix
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim == 2:
        names = [str(c) for c in columns] or [str(i) for i in range(arr.shape[1])]
        return names, (arr.astype(np.float64) > 0.5).astype(np.float64)
    values, inverse = np.unique(arr.astype(str) if arr.dtype.kind == "O" else arr, return_inverse=True)
    if task is Task.BINARY:
        positive = values[-1] if len(values) else 1
        return [str(positive)], (arr == positive).astype(np.float64).reshape(-1, 1)
    matrix = np.zeros((arr.shape[0], len(values)))
    matrix[np.arange(arr.shape[0]), inverse.reshape(-1)] = 1.0
    return [_name(v) for v in values], matrix


def _rectangular_numeric(items: list[Any]) -> bool:
    lengths = {len(v) for v in items}
    return len(lengths) == 1 and all(isinstance(x, (int, float, np.number)) for v in items for x in v)


def _name(v: Any) -> str:
    return str(int(v)) if isinstance(v, (float, np.floating)) and float(v).is_integer() else str(v)


def _class_findings(names: list[str], matrix: np.ndarray, min_per_class: int) -> list[Finding]:
    found: list[Finding] = []
    counts = matrix.sum(0)
    present = counts[counts > 0]
    if len(present) < 2:
        return [
            make_finding(
                "single-class",
                f"Only one class ({names[int(np.argmax(counts))]}) is present in "
                f"{int(counts.sum())} rows: there is nothing to learn.",
                "check the target column and the filtering.",
            )
        ]
    empty = [names[i] for i in np.flatnonzero(counts == 0)]
    if empty:
        found.append(
            make_finding(
                "empty-label",
                f"{len(empty)} class column(s) have no samples: {_list(empty)}.",
                "drop those columns (or add samples); a class that never occurs gets a -inf bias.",
            )
        )
    ratio = float(present.max() / present.min())
    if ratio >= 3:
        strategy: Strategy = "balanced" if ratio <= 50 else "sqrt"
        order = np.argsort(counts)
        shown = ", ".join(f"{names[i]}: {int(counts[i])}" for i in order[:SHOW] if counts[i] > 0)
        found.append(
            make_finding(
                "imbalanced-labels",
                f"Class imbalance {ratio:.1f}:1 (largest / smallest class); rarest: {shown}. "
                f"Suggested class weights ({strategy}): {_weights_text(matrix, strategy, softmax=True)}.",
                f"ll.class_weight(labels, strategy={strategy!r}) into the loss (or a balanced sampler); report "
                "macro-averaged metrics.",
                "warning" if ratio >= 10 else "info",
            )
        )
    few = [f"{names[i]} ({int(counts[i])})" for i in np.flatnonzero((counts > 0) & (counts < min_per_class))]
    if few:
        found.append(_too_few(few, min_per_class, "class"))
    return found


def _label_findings(names: list[str], m: np.ndarray, task: Task, min_per_class: int) -> list[Finding]:
    found: list[Finding] = []
    n, pos = m.shape[0], m.sum(0)
    neg = n - pos
    if task is Task.BINARY and (pos[0] == 0 or neg[0] == 0):
        return [
            make_finding(
                "single-class",
                f"All {n} labels are {'positive' if neg[0] == 0 else 'negative'}: there is nothing to learn.",
                "check the target column and the filtering.",
            )
        ]
    empty, full = [names[i] for i in np.flatnonzero(pos == 0)], [names[i] for i in np.flatnonzero(neg == 0)]
    if empty:
        found.append(
            make_finding(
                "empty-label",
                f"{len(empty)} label(s) are never positive in {n} rows: {_list(empty)}.",
                "drop those labels: nothing can be learned and a balanced pos_weight divides by zero.",
            )
        )
    if full:
        found.append(
            make_finding(
                "constant-label",
                f"{len(full)} label(s) are positive in all {n} rows: {_list(full)}.",
                "drop those labels: they carry no information.",
            )
        )
    usable = (pos > 0) & (neg > 0)
    ratio = np.where(usable, neg / np.maximum(pos, 1), 0.0)
    worst = float(ratio.max()) if usable.any() else 0.0
    if worst >= 3:
        strategy: Strategy = "balanced" if worst <= 50 else "sqrt"
        order = np.argsort(-ratio)[:SHOW]
        shown = ", ".join(f"{names[i]}: {ratio[i]:.1f}:1" for i in order if ratio[i] >= 3)
        found.append(
            make_finding(
                "imbalanced-labels",
                f"Negatives per positive reach {worst:.1f}:1 ({shown}). Suggested pos_weight ({strategy}): "
                f"{_weights_text(m, strategy, softmax=False)}.",
                f"ll.pos_weight(train_targets, strategy={strategy!r}) into the loss (or focal loss); tune "
                "thresholds on validation data instead of using 0.5.",
                "warning" if worst >= 10 else "info",
            )
        )
    if task is Task.MULTILABEL:
        card = m.sum(1)
        found.append(
            make_finding(
                "label-cardinality",
                f"{m.shape[1]} labels; {card.mean():.2f} positive labels per row on average (max {int(card.max())}, "
                f"{int((card == 0).sum())} rows with none).",
                "nothing to fix; many rows with no label favour per-label thresholds.",
            )
        )
    few = [
        f"{names[i]} ({int(min(pos[i], neg[i]))})"
        for i in np.flatnonzero(usable & (np.minimum(pos, neg) < min_per_class))
    ]
    if few:
        found.append(_too_few(few, min_per_class, "label"))
    return found


def _too_few(few: list[str], k: int, what: str) -> Finding:
    return make_finding(
        "too-few-for-stratified-split",
        f"{len(few)} {_plural(what, len(few))} {'has' if len(few) == 1 else 'have'} fewer than {k} samples on "
        f"the rarer side: {_list(few)}; a stratified "
        "train/validation/test split cannot put one in each part.",
        f"collect more samples, merge or drop those {what}s, or split without stratification.",
    )


def _weights_text(matrix: np.ndarray, strategy: Strategy, *, softmax: bool) -> str:
    """The weights :mod:`logitlab.weights` suggests, as a short list (the first ``SHOW`` of them)."""
    with warnings.catch_warnings():  # empty labels/classes are findings of their own
        warnings.simplefilter("ignore")
        if softmax:
            labels = torch.as_tensor(matrix.argmax(1), dtype=torch.long)
            weights = class_weight(labels, strategy, num_classes=matrix.shape[1]).numpy()
        else:
            weights = pos_weight(torch.as_tensor(matrix, dtype=torch.float32), strategy).numpy()
    shown = ", ".join(f"{w:.3g}" for w in weights[:SHOW])
    return f"[{shown}{', ...' if len(weights) > SHOW else ''}]"


def _plural(word: str, n: int) -> str:
    return word if n == 1 else (word + "es" if word.endswith("s") else word + "s")


def _list(items: list[str]) -> str:
    return ", ".join(items[:SHOW]) + (f" (+{len(items) - SHOW} more)" if len(items) > SHOW else "")


def diagnose_text_columns(
    profiles: Mapping[str, tuple[float, float, int]], read_as_text: Sequence[str] = ()
) -> list[Finding]:
    """``text-read-as-category`` for each column that looks like free text but is read as a category.

    Args:
        profiles (dict): column name -> ``(mean tokens per value, distinct ratio, present values)`` of
            the table's string columns (:func:`logitlab.data.text.text_profile`).
        read_as_text (list[str]): the columns that are read as text. Default: none.

    Examples:
        >>> [f.code for f in diagnose_text_columns({"review": (14.0, 0.98, 500), "city": (1.2, 0.01, 500)})]
        ['text-read-as-category']
    """
    rule = TEXT_DETECTION
    findings = []
    for name, (tokens, distinct, n) in profiles.items():
        if name in read_as_text or n < rule["min_rows"]:
            continue
        if (tokens >= rule["min_mean_tokens"] and distinct >= rule["min_distinct_ratio"]) or (
            tokens >= rule["long_mean_tokens"]
        ):
            findings.append(
                make_finding(
                    "text-read-as-category",
                    f"Column {name!r} holds free text ({tokens:.1f} tokens per value, {distinct:.0%} distinct) "
                    "but is not read as text: as a category only its most frequent values are one-hot encoded "
                    "(the rest become zeros; all-distinct values are dropped as an identifier), and its words "
                    "are never seen.",
                    f"read it as text: --text {name} (text_columns=[{name!r}]), or drop it if it is an identifier.",
                )
            )
    return findings
