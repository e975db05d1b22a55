"""Label names <-> target tensors: the :class:`LabelEncoder` and :func:`encode_labels`.

The encoder turns raw labels (strings, ints, bools, float codes, label lists ``"a|b"``, 0/1 columns)
into the target form of the task (binary float ``[N, 1]``, multilabel float ``[N, L]``, multiclass
int64 ``[N]``) and back, and serialises to JSON so a saved model can decode its predictions.

Examples:
    >>> y, enc = encode_labels(["no", "yes", "no", "no"])
    >>> enc.task, enc.classes, enc.positive
    (<Task.BINARY: 'binary'>, ['no', 'yes'], 'yes')
    >>> y.squeeze(1).tolist()
    [0.0, 1.0, 0.0, 0.0]
    >>> y, enc = encode_labels(["cat|indoor", "dog", ""])
    >>> enc.task, enc.classes, y.tolist()
    (<Task.MULTILABEL: 'multilabel'>, ['cat', 'dog', 'indoor'], [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from ..errors import ConfigError, DataError
from ..options import LABEL_SEP
from ..tasks import Task
from .label_choice import fit_values
from .label_lists import label_lists
from .label_map import check_keys, map_labels, parse_label_map, spelling_groups
from .label_parsing import (
    class_indices,
    indicator_matrix,
    json_scalar,
    label_array,
    missing_label_rows,
    quoted,
)
from .row_names import INDEX, RowNamer

__all__ = ["LabelEncoder", "check_label_sep", "encode_labels", "spelling_groups"]


@dataclass
class LabelEncoder:
    """Maps label values to target tensors for one task, and back.

    Attributes:
        task (Task): the task the targets are encoded for.
        classes (list): JSON scalars. Binary: ``[negative, positive]``; multiclass: the ``C`` classes in
            logit order (sorted); multilabel: the ``L`` label names in logit order.
        positive: the positive class of a binary task (``classes[1]``), else ``None``.
        reason (str): why this task and (for binary) this positive class were chosen.
        label_sep (str): separator of label lists in one string (multilabel). Default: ``"|"``.
        soft (bool): binary targets are probabilities in [0, 1] rather than two classes.
    """

    task: Task
    classes: list[Any]
    positive: Any = None
    reason: str = ""
    label_sep: str = LABEL_SEP
    soft: bool = False
    notes: list[str] = field(default_factory=list)
    output_name: str | None = None
    label_map: dict[str, Any] | None = None  # spellings -> one value, applied before encoding (label_map.py)

    @property
    def n_outputs(self) -> int:
        """Number of logits a model needs: 1 (binary), ``L`` (multilabel) or ``C`` (multiclass)."""
        return 1 if self.task is Task.BINARY else len(self.classes)

    @property
    def output_names(self) -> list[str]:
        """Names of the ``n_outputs`` logits: ``[positive]`` for binary, else the classes/labels."""
        if self.task is Task.BINARY:
            return [self.output_name or str(self.positive)]
        return [str(c) for c in self.classes]

    # ----------------------------------------------------------------- fit
    @classmethod
    def fit(
        cls,
        y: Any,
        task: Task | str | None = None,
        *,
        label_sep: str = LABEL_SEP,
        positive: Any = None,
        label_names: Sequence[str] | None = None,
        row_name: RowNamer = INDEX,
        counts: Sequence[int] | None = None,
        label_map: Any = None,
    ) -> LabelEncoder:
        """Choose the task (unless given), the classes and the positive class from labels ``y``.

        Args:
            y (array-like): 1-D labels, label lists (``"a|b"`` strings or lists), or a 2-D ``[N, L]``
                0/1 matrix / DataFrame of 0/1 columns.
            task (Task or str, optional): override the inferred task. Default: inferred.
            label_sep (str): separator for label-list strings. Default: ``"|"``.
            positive (optional): the positive class of a binary task. Default: chosen (see notes).
            label_names (list[str], optional): names of the columns of a 2-D matrix.
            row_name (RowNamer): names row ``i`` in error messages. Default: ``"index i"``.
            counts (list[int], optional): ``y`` holds distinct 1-D labels and ``counts[i]`` rows hold
                ``y[i]`` (what a streaming pass collects); the encoder is the one the rows would give.
            label_map (dict or str, optional): label spellings mapped to one value before anything else
                (:mod:`logitlab.data.label_map`); kept, and applied by :meth:`transform` too.

        Raises:
            DataError: missing labels (naming the rows), a single class, or labels that do not fit ``task``.
        """
        check_label_sep(label_sep)
        forced = Task.from_str(task) if task is not None else None
        if isinstance(y, pd.DataFrame):
            label_names = [str(c) for c in y.columns] if label_names is None else label_names
            y = y.to_numpy()
        elif isinstance(y, Tensor):
            y = y.detach().cpu().numpy()
        values = label_array(y, row_name, sep=label_sep, lists=forced is Task.MULTILABEL)
        mapping = parse_label_map(label_map)
        if mapping:
            check_keys(values, mapping, label_sep)
            values = map_labels(values, mapping, label_sep)
        enc = fit_values(cls, values, forced, label_sep, positive, label_names, row_name, counts)
        enc.label_map = mapping
        return enc

    # ----------------------------------------------------------------- transform
    def transform(self, y: Any, *, row_name: RowNamer = INDEX) -> Tensor:
        """Encode labels as targets: binary float ``[N, 1]``, multilabel float ``[N, L]``, multiclass int64 ``[N]``.

        Raises:
            DataError: a missing or unknown label, naming the row and listing the known labels.
        """
        if isinstance(y, pd.DataFrame):
            y = y.to_numpy()
        elif isinstance(y, Tensor):
            y = y.detach().cpu().numpy()
        multilabel = self.task is Task.MULTILABEL
        values = label_array(y, row_name, sep=self.label_sep if multilabel else None, lists=multilabel)
        values = map_labels(values, self.label_map, self.label_sep if multilabel else None)
        if multilabel:
            return self._transform_multilabel(values, row_name)
        if values.ndim == 2 and values.shape[1] > 1:  # one-hot matrix for a multiclass task
            return torch.from_numpy(np.argmax(values.astype(np.float64), axis=1).astype(np.int64))
        values = values.reshape(-1)
        if self.soft:
            out = values.astype(np.float32)
            bad = np.flatnonzero((out < 0) | (out > 1))
            if len(bad):
                raise DataError(
                    f"Soft binary label out of [0, 1] at {row_name(int(bad[0]))}: {values[bad[0]]!r}."
                )
            return torch.from_numpy(out).reshape(-1, 1)
        index = class_indices(values, self.classes, row_name)
        if self.task is Task.BINARY:
            return torch.from_numpy(index.astype(np.float32)).reshape(-1, 1)
        return torch.from_numpy(index.astype(np.int64))

    def usable_rows(self, y: Any, *, row_name: RowNamer = INDEX) -> tuple[np.ndarray, list[str]]:
        """Which rows :meth:`transform` can encode: a bool mask ``[N]`` and a note on the others.

        A row is left out when its label is missing or was never seen in training (a class, or a
        label of a label list); the note counts both and names a few of the unseen labels.

        Examples:
            >>> enc = LabelEncoder.fit(["a", "b", "a"])
            >>> mask, notes = enc.usable_rows(["a", "c", None, "c"])
            >>> mask.tolist(), notes
            ([True, False, False, False], ['3 of 4 rows left out: 1 without a label, 2 with labels unseen in training (c)'])
        """
        if isinstance(y, pd.DataFrame):
            y = y.to_numpy()
        elif isinstance(y, Tensor):
            y = y.detach().cpu().numpy()
        multilabel = self.task is Task.MULTILABEL
        missing = missing_label_rows(y, sep=self.label_sep if multilabel else None, lists=multilabel)
        unseen: dict[str, int] = {}
        known = ~missing
        if not self.soft and not (multilabel and np.asarray(y).ndim == 2):
            present = np.flatnonzero(known)
            values = label_array(np.asarray(y, dtype=object)[present], row_name.subset(present),
                                 sep=self.label_sep if multilabel else None, lists=multilabel)  # fmt: skip
            values = map_labels(values, self.label_map, self.label_sep if multilabel else None)
            for i, row in zip(present, self._label_sets(values)):
                new = [lab for lab in row if lab not in self._lookup]
                if new:
                    known[i] = False
                    for lab in new:
                        unseen[lab] = unseen.get(lab, 0) + 1
        n_out = int((~known).sum())
        if not n_out:
            return known, []
        parts = [f"{int(missing.sum())} without a label"] if missing.any() else []
        if unseen:
            n_unseen = n_out - int(missing.sum())
            shown = ", ".join(str(k) for k in sorted(unseen, key=lambda k: -unseen[k])[:5])
            parts.append(f"{n_unseen} with labels unseen in training ({shown})")
        return known, [f"{n_out} of {len(known)} rows left out: {', '.join(parts)}"]

    def empty_targets(self) -> Tensor:
        """Targets of no rows, shaped as :meth:`transform` shapes them (``[0, 1]``, ``[0, L]`` or ``[0]``)."""
        if self.task is Task.MULTICLASS:
            return torch.zeros(0, dtype=torch.int64)
        return torch.zeros((0, self.n_outputs), dtype=torch.float32)

    @property
    def _lookup(self) -> set[Any]:
        return {*self.classes, *(str(c) for c in self.classes)}

    def _label_sets(self, values: np.ndarray) -> list[list[Any]]:
        """Each row's labels as a list (one class, or the labels of a label list)."""
        if self.task is Task.MULTILABEL:
            return label_lists(values, self.label_sep, Task.MULTILABEL) or []
        keys = [v.strip() if isinstance(v, str) else json_scalar(v) for v in values.reshape(-1)]
        return [[k if k in self._lookup else str(k)] for k in keys]

    def _transform_multilabel(self, values: np.ndarray, row_name: RowNamer) -> Tensor:
        lists = label_lists(values, self.label_sep, Task.MULTILABEL)
        if lists is None:  # a 0/1 matrix
            mat = indicator_matrix(values, row_name, self.classes)
            if mat.shape[1] != len(self.classes):
                raise DataError(
                    f"Expected {len(self.classes)} label columns ({quoted(self.classes)}); got {mat.shape[1]}.",
                    fix="give the same label columns as at training time.",
                    code="label-columns-mismatch",
                )
            return torch.from_numpy(mat)
        pos = {name: j for j, name in enumerate(self.classes)}
        out = np.zeros((len(lists), len(self.classes)), dtype=np.float32)
        for i, row in enumerate(lists):
            for lab in row:
                if lab not in pos:
                    raise DataError(
                        f"Unknown label {lab!r} at {row_name(i)}; the known labels are {quoted(self.classes)}.",
                        fix="remove or rename the label, or retrain with it.",
                        code="unknown-label",
                    )
                out[i, pos[lab]] = 1.0
        return torch.from_numpy(out)

    def inverse_transform(self, decisions: Any) -> list[Any]:
        """Decode decisions to labels.

        Binary 0/1 ``[N]``/``[N, 1]`` -> classes; multiclass indices -> classes; multilabel 0/1
        ``[N, L]`` -> a list of label-name lists per row.

        Examples:
            >>> enc = LabelEncoder.fit(["b", "a", "c"])
            >>> enc.inverse_transform([2, 0])
            ['c', 'a']
        """
        arr = np.asarray(decisions.detach().cpu() if isinstance(decisions, Tensor) else decisions)
        if self.task is Task.MULTILABEL:
            return [[self.classes[j] for j in np.flatnonzero(row)] for row in arr.reshape(len(arr), -1)]
        idx = arr.reshape(-1).astype(np.int64)
        return [self.classes[i] for i in idx]

    # ----------------------------------------------------------------- JSON
    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict; :meth:`from_dict` rebuilds an equal encoder."""
        return {
            "task": self.task.value,
            "classes": [json_scalar(c) for c in self.classes],
            "positive": json_scalar(self.positive),
            "reason": self.reason,
            "label_sep": self.label_sep,
            "soft": self.soft,
            "notes": list(self.notes),
            "output_name": self.output_name,
            **({"label_map": dict(self.label_map)} if self.label_map else {}),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LabelEncoder:
        """Rebuild an encoder from :meth:`to_dict` output."""
        return cls(
            Task.from_str(d["task"]),
            list(d["classes"]),
            d.get("positive"),
            d.get("reason", ""),
            d.get("label_sep", LABEL_SEP),
            bool(d.get("soft", False)),
            list(d.get("notes", [])),
            d.get("output_name"),
            parse_label_map(d.get("label_map")),
        )


def check_label_sep(label_sep: Any) -> str:
    """``label_sep`` if it is a non-empty string.

    Raises:
        ConfigError: ``bad-param`` for an empty or non-string separator (it would split every label).
    """
    if not isinstance(label_sep, str) or not label_sep:
        raise ConfigError(
            f"Expected argument `label_sep` to be a non-empty string such as '|'; got {label_sep!r}.",
            fix="use label_sep='|' (the default), or the character that joins the labels of one row.",
            code="bad-param",
            param="label_sep",
        )
    return label_sep


def encode_labels(
    y: Any,
    task: Task | str | None = None,
    *,
    label_sep: str = LABEL_SEP,
    positive: Any = None,
    label_names: Sequence[str] | None = None,
    row_name: RowNamer = INDEX,
    label_map: Any = None,
) -> tuple[Tensor, LabelEncoder]:
    """Fit a :class:`LabelEncoder` on ``y`` and encode ``y``; returns ``(targets, encoder)``.

    See :meth:`LabelEncoder.fit` for the arguments.

    Examples:
        >>> y, enc = encode_labels([3, 1, 2, 3])
        >>> enc.task.value, y.tolist()
        ('multiclass', [2, 0, 1, 2])
    """
    enc = LabelEncoder.fit(
        y, task, label_sep=label_sep, positive=positive, label_names=label_names, row_name=row_name,
        label_map=label_map,
    )  # fmt: skip
    return enc.transform(y, row_name=row_name), enc
