"""Decision thresholds tuned on validation data, stored with the model and applied by ``predict``.

Binary and multi-label: one probability threshold per label, found exactly by sweeping every
distinct validation score (the precision-recall curve, vectorised). Multi-class: one additive
bias per class on the logits (``argmax(z + b)``), found by exact coordinate ascent on macro-F1 and
kept only where it improves on plain argmax.

Examples:
    >>> import torch
    >>> logits = torch.tensor([-2.0, -1.0, -0.5, 0.5, 1.0, 2.0])
    >>> targets = torch.tensor([0, 1, 1, 0, 1, 1])
    >>> th = tune_thresholds(logits, targets, task="binary")
    >>> th.values  # midway between sigmoid(-2) and sigmoid(-1): F1 0.89 instead of 0.67 at 0.5
    [0.19407217169605634]
    >>> round(th.scores[0], 4)
    0.8889
    >>> predict_labels(logits, task="binary", thresholds=th).tolist()
    [0, 1, 1, 1, 1, 1]
    >>> Thresholds.from_dict(th.to_dict()) == th
    True
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import Tensor

from ..errors import ConfigError, LogitlabWarning, ModelFileError
from ..options import AUTO_OBJECTIVE
from ..tasks import Task
from ._inputs import as_logits, format_pair
from ._sweep import best_bias, best_cut

__all__ = ["OBJECTIVES", "Objective", "Thresholds", "check_objective", "predict_labels", "tune_thresholds"]

OBJECTIVES: tuple[str, ...] = ("f1", "fbeta", "precision_at_recall", "recall_at_precision")
"""Objective names; the last two take a target level: ``("precision_at_recall", 0.9)``."""

Objective = Literal["f1", "fbeta"] | tuple[str, float]


@dataclass
class Thresholds:
    """Tuned decisions for one task.

    Args:
        task (str): ``"binary"``, ``"multilabel"`` or ``"multiclass"``.
        values (list[float]): binary/multilabel: one probability threshold per label (predict 1 when
            ``sigmoid(z) >= t``); multiclass: one additive bias per class (predict ``argmax(z + b)``).
        objective (str): what was maximised, e.g. ``"f1"`` or ``"precision_at_recall=0.9"``. Default: ``"default"``.
        scores (list[float]): the objective on the tuning data at each label's value (multiclass: the
            macro score, once). Default: empty.
        notes (list[str]): what could not be tuned and why (degenerate labels). Default: empty.
    """

    task: str
    values: list[float]
    objective: str = "default"
    scores: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.task = Task.from_str(self.task).value
        self.values = [float(v) for v in self.values]
        if not self.values or not all(math.isfinite(v) for v in self.values):
            raise ConfigError(
                f"Expected `values` to be a non-empty list of finite numbers; got {self.values!r}.",
                fix="use Thresholds.default(task, n) or tune_thresholds(...).",
                code="bad-thresholds",
            )
        if self.task != "multiclass" and not all(0.0 <= v <= 1.0 for v in self.values):
            raise ConfigError(
                f"Expected probability thresholds in [0, 1]; got {self.values!r}.",
                fix="give thresholds on probabilities, e.g. 0.5.",
                code="bad-thresholds",
            )

    @property
    def kind(self) -> str:
        """``"bias"`` for multiclass, else ``"threshold"``."""
        return "bias" if self.task == "multiclass" else "threshold"

    @classmethod
    def default(cls, task: Task | str, n: int) -> Thresholds:
        """0.5 for every label (sigmoid tasks) or zero bias for every class (plain argmax)."""
        t = Task.from_str(task)
        return cls(t.value, [0.0 if t is Task.MULTICLASS else 0.5] * n)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict; ``values`` is the first list in it."""
        return {
            "task": self.task,
            "kind": self.kind,
            "values": list(self.values),
            "objective": self.objective,
            "scores": list(self.scores),
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Thresholds:
        """Rebuild from :meth:`to_dict` output (e.g. read from ``model.json``).

        Raises:
            ModelFileError: when a field is missing or has the wrong type.
        """
        if not isinstance(data, Mapping) or not isinstance(data.get("values"), list) or "task" not in data:
            raise ModelFileError(
                f"Expected a thresholds dict with `task` and a list `values`; got {data!r}.",
                fix="save the model again; do not edit the thresholds by hand.",
                code="bad-thresholds",
            )
        return cls(
            task=str(data["task"]),
            values=list(data["values"]),
            objective=str(data.get("objective", "default")),
            scores=[float(s) for s in data.get("scores", [])],
            notes=[str(n) for n in data.get("notes", [])],
        )


def predict_labels(logits: Any, *, task: Task | str, thresholds: Thresholds | None = None) -> Tensor:
    """Decisions from logits with the tuned thresholds (or 0.5 / plain argmax).

    Args:
        logits (Tensor[N], Tensor[N, 1], Tensor[N, L] or Tensor[N, C]): raw model outputs.
        task (Task or str): the task.
        thresholds (Thresholds, optional): from :func:`tune_thresholds`. Default: ``None`` (0.5 / argmax).

    Returns:
        Tensor: int64 0/1 shaped like ``logits`` (binary, multilabel), or class indices ``[N]``.

    Examples:
        >>> import torch
        >>> predict_labels(torch.tensor([[2.0, 2.5], [1.0, 0.0]]), task="multiclass").tolist()
        [1, 0]
    """
    t = Task.from_str(task)
    z = logits.detach() if isinstance(logits, Tensor) else torch.as_tensor(logits)
    shape = z.shape
    z64 = as_logits(z, t)
    n = z64.shape[1] if z64.ndim == 2 else 1
    th = thresholds if thresholds is not None else Thresholds.default(t, n)
    if th.task != t.value or len(th.values) != n:
        raise ConfigError(
            f"The thresholds are for a {th.task} task with {len(th.values)} outputs; the logits are "
            f"{t.value} with {n}.",
            fix="tune the thresholds on this model's validation logits.",
            code="thresholds-mismatch",
        )
    values = torch.tensor(th.values, dtype=torch.float64)
    if t is Task.MULTICLASS:
        return (z64 + values).argmax(dim=1).to(z.device)
    decided = (torch.sigmoid(z64) >= (values if z64.ndim == 2 else values[0])).long()
    return decided.reshape(shape).to(z.device)


def check_objective(objective: Any, task: Task | str | None = None, *, beta: float = 1.0) -> str:
    """Check a threshold objective (and, given the task, that the task can use it); its canonical name.

    Args:
        objective (str or tuple): as :func:`tune_thresholds` takes it, ``"none"`` (no tuning) or ``"auto"``
            (:data:`~logitlab.options.AUTO_OBJECTIVE`: ``"f1"`` for binary and multi-label, ``"none"`` for
            multiclass; given the task, the resolved name is returned).
        task (Task or str, optional): the task; constrained objectives need per-label thresholds.
        beta (float): the F-beta weight, for ``"fbeta"``. Default: ``1.0``.

    Returns:
        str: ``"none"``, ``"f1"``, ``"fbeta=2"``, ``"precision_at_recall=0.9"``, ... (``"auto"`` without a task)

    Raises:
        ConfigError: an unknown objective, a level outside (0, 1], or a constrained objective for multiclass.

    Examples:
        >>> check_objective(("precision_at_recall", 0.9), "binary")
        'precision_at_recall=0.9'
        >>> check_objective("recall_at_precision=0.8", "multiclass")
        Traceback (most recent call last):
        ...
        logitlab.errors.ConfigError: Objective 'recall_at_precision' needs per-label thresholds; a multiclass task tunes class biases on macro-F1/F-beta only.
        Fix: use objective="f1" or "fbeta" for multiclass.
    """
    if objective == "auto":
        return AUTO_OBJECTIVE[Task.from_str(task).value] if task is not None else "auto"
    if objective == "none":
        return "none"
    kind, level = _parse_objective(objective, beta)
    if task is not None and Task.from_str(task) is Task.MULTICLASS and kind != "fbeta":
        raise ConfigError(
            f"Objective {kind!r} needs per-label thresholds; a multiclass task tunes class biases on "
            "macro-F1/F-beta only.",
            fix='use objective="f1" or "fbeta" for multiclass.',
            code="bad-objective",
        )
    return "f1" if objective == "f1" or (kind == "fbeta" and level == 1.0) else f"{kind}={level:g}"


def _parse_objective(objective: Any, beta: float) -> tuple[str, float]:
    if isinstance(objective, str) and "=" in objective:  # the spelling Thresholds.objective records
        name, _, value = objective.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if name == "fbeta":
            return _parse_objective("fbeta", number)
        if name in OBJECTIVES[2:]:
            return _parse_objective((name, number), beta)
    if isinstance(objective, (tuple, list)) and len(objective) == 2 and objective[0] in OBJECTIVES[2:]:
        level = float(objective[1])
        if not 0.0 < level <= 1.0:
            raise ConfigError(
                f"Expected the level of {objective[0]} to be in (0, 1]; got {objective[1]!r}.",
                fix=f'use objective=("{objective[0]}", 0.9).',
                code="bad-objective",
            )
        return str(objective[0]), level
    if objective in ("f1", "fbeta"):
        if not (isinstance(beta, (int, float)) and beta > 0 and math.isfinite(beta)):
            raise ConfigError(f"Expected `beta` > 0; got {beta!r}.", fix="use beta=1.0.", code="bad-beta")
        return "fbeta", 1.0 if objective == "f1" else float(beta)
    raise ConfigError(
        f"Expected `objective` to be one of 'f1', 'fbeta', ('precision_at_recall', r) or "
        f"('recall_at_precision', p); got {objective!r}.",
        fix='use objective="f1".',
        code="bad-objective",
    )


def tune_thresholds(
    logits: Any,
    targets: Any,
    *,
    task: Task | str,
    objective: Any = "f1",
    beta: float = 1.0,
    probabilities: bool | None = None,
    min_count: int = 1,
) -> Thresholds:
    """Tune decision thresholds on validation logits.

    Binary/multilabel: for each label, the probability threshold that maximises the objective over
    every distinct validation score (exact, like ``sklearn.metrics.precision_recall_curve``); for F1/F-beta
    the threshold moves off 0.5 only when that strictly improves the score. A label with no positives
    (or no negatives), or fewer than ``min_count``, keeps 0.5 with a note. Multiclass: per-class logit
    biases by coordinate ascent on macro-F1 (or macro-F-beta), each kept only where it improves the
    score; a class with fewer than ``min_count`` rows keeps bias 0.

    The scores are logits unless ``probabilities=True`` says otherwise; the kind is never guessed
    from the values (a confident model's logits can all lie in [0, 1] too). Because probabilities
    passed as logits give silently wrong thresholds (``sigmoid(p)`` lies in [0.5, 0.73]), scores that
    all lie in [0, 1] with ``probabilities`` left unset get a warning; the result is the same.

    Args:
        logits (Tensor[N], Tensor[N, 1], Tensor[N, L] or Tensor[N, C]): validation logits (or, with
            ``probabilities=True``, sigmoid probabilities / softmax rows of the same shapes).
        targets (Tensor): 0/1 targets shaped like the logits, or class indices ``[N]``.
        task (Task or str): the task.
        objective (str or tuple): ``"f1"``, ``"fbeta"``, ``("precision_at_recall", r)`` (highest precision
            with recall >= r) or ``("recall_at_precision", p)`` (highest recall with precision >= p;
            sigmoid tasks only); also spelled ``"fbeta=2"``, ``"precision_at_recall=0.9"``,
            ``"recall_at_precision=0.95"`` (as ``Thresholds.objective`` records it). Default: ``"f1"``.
        beta (float): the F-beta weight of recall, for ``"fbeta"``. Default: ``1.0``.
        probabilities (bool, optional): ``True``: the scores are probabilities; ``False``: they are
            logits (no warning); ``None``: logits, with a warning when every value lies in [0, 1].
            Default: ``None``.
        min_count (int): the fewest positives and negatives of a label (rows of a class) to tune on.
            Default: ``1``.

    Returns:
        Thresholds: one value per label/class (probability thresholds whatever the input scores).

    Raises:
        ConfigError: an unknown objective, a constrained objective with a multiclass task, or
            ``probabilities=True`` with values outside [0, 1].

    Examples:
        >>> import torch
        >>> p = torch.tensor([0.1, 0.3, 0.35, 0.6, 0.7, 0.9])
        >>> y = torch.tensor([0, 1, 1, 0, 1, 1])
        >>> [round(v, 4) for v in tune_thresholds(p, y, task="binary", probabilities=True).values]  # a cut on p
        [0.2]
    """
    t = Task.from_str(task)
    kind, level = _parse_objective(objective, beta)
    name = "f1" if objective == "f1" else f"{kind}={level:g}"
    check_objective(objective, t, beta=beta)
    z, y = format_pair(logits, targets, t)
    _check_scores(z, probabilities)
    if t is Task.MULTICLASS:
        counts = torch.bincount(y, minlength=z.shape[1])
        frozen = [c for c in range(z.shape[1]) if int(counts[c]) < min_count]
        zc = torch.log(z.clamp_min(1e-300)) if probabilities else z
        bias, score = best_bias(zc, y, beta=level, frozen=frozen)
        notes = [f"class {c}: {int(counts[c])} rows in the tuning data (fewer than {min_count}); bias kept 0"
                 for c in frozen]  # fmt: skip
        return Thresholds(t.value, bias.tolist(), objective=name, scores=[score], notes=notes)
    z2, y2 = (z[:, None], y[:, None]) if t is Task.BINARY else (z, y)
    values, scores, notes = [], [], []
    for j in range(z2.shape[1]):
        p = z2[:, j] if probabilities else torch.sigmoid(z2[:, j])
        value, score, note = best_cut(p, y2[:, j], kind=kind, level=level, min_count=min_count)
        values.append(value)
        scores.append(score)
        if note:
            notes.append(f"label {j}: {note}")
    return Thresholds(t.value, values, objective=name, scores=scores, notes=notes)


def _check_scores(z: Tensor, probabilities: bool | None) -> None:
    """Refuse probabilities outside [0, 1]; warn when logits look like probabilities and nobody said."""
    inside = bool(((z >= 0) & (z <= 1)).all())
    if probabilities and not inside:
        raise ConfigError(
            f"Got probabilities=True, but the scores range over [{float(z.min()):.4g}, {float(z.max()):.4g}].",
            fix="pass probabilities=False for logits (the model's raw outputs).",
            code="bad-probabilities",
            param="probabilities",
        )
    if probabilities is None and inside:
        warnings.warn(
            f"tune_thresholds takes logits, and all {z.numel()} scores lie in [0, 1] as probabilities do; "
            f"they were used as logits (sigmoid maps them into [0.5, 0.73]). Fix: pass probabilities=True "
            "if they are probabilities, or probabilities=False to say they are logits.",
            LogitlabWarning,
            stacklevel=3,
        )
