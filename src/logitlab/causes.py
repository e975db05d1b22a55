"""The causes of shape, label and weight mistakes, each worded once.

The doctor's findings, the losses' boundary errors and ``prepare_targets`` name a mistake with the same
code, message and fix. Each function here reads only shapes (free: no value leaves the device) or
numbers the caller already holds, and returns a :class:`Cause`, or None when nothing is wrong. The
checks are ordered so that the most specific cause wins, and every fix applies to the shapes at hand.

Examples:
    >>> sigmoid_shape_cause((32, 1), (32,)).code
    'broadcast-trap'
    >>> softmax_shape_cause((8, 4), (32,), kind="int").code
    'flattened-targets'
    >>> print(label_range_cause(-1, 2, 3).fix)
    if -1 marks unlabelled rows, pass ignore_index=-1 (nn.CrossEntropyLoss(ignore_index=-1)) or drop those rows; otherwise remap the labels to 0..C-1 (sklearn.preprocessing.LabelEncoder).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .errors import TargetError

__all__ = [
    "Cause",
    "TargetKind",
    "batchless_one_hot_cause",
    "class_weight_cause",
    "element_weight_cause",
    "label_index_lists_cause",
    "label_range_cause",
    "pos_weight_cause",
    "sigmoid_shape_cause",
    "softmax_shape_cause",
]

Shape = tuple[int, ...]
TargetKind = Literal["int", "float", "bool"]

_BATCHLESS_FIX = (
    "give the batch dimension back: logits.unsqueeze(0) (x.unsqueeze(0) for a single input), and "
    "squeeze with an explicit dim (.squeeze(1)), never a bare .squeeze() that also drops a batch of one."
)


@dataclass(frozen=True)
class Cause:
    """One named cause: a stable ``code``, what was seen (``message``) and a ``fix`` that applies."""

    code: str
    message: str
    fix: str

    def error(self) -> TargetError:
        """The cause as the ``TargetError`` a loss raises at its boundary."""
        return TargetError(self.message, fix=self.fix, code=self.code)


def _s(shape: Sequence[int]) -> str:
    return str(list(shape))


def _numel(shape: Sequence[int]) -> int:
    return math.prod(shape)


def sigmoid_shape_cause(out: Sequence[int], tgt: Sequence[int]) -> Cause | None:
    """Why targets shaped ``tgt`` do not fit a sigmoid (BCE-family) loss on logits shaped ``out``.

    Args:
        out (tuple of int): the logits' shape.
        tgt (tuple of int): the targets' shape.

    Returns:
        Cause or None: None when the shapes are equal.
    """
    out, tgt = tuple(out), tuple(tgt)
    if out == tgt:
        return None
    need = f"BCE-family losses need targets shaped like the logits {_s(out)}; got targets {_s(tgt)}"
    n = out[0] if out else 1
    if {out, tgt} == {(n,), (n, 1)}:
        return Cause(
            "broadcast-trap",
            f"{need}: an element-wise loss would broadcast them to [{n}, {n}] (every logit against every target).",
            "targets.view_as(logits) (or logits.squeeze(1)) so both have the same shape.",
        )
    batchless = _batchless(out, tgt, need)
    if batchless is not None:
        return batchless
    if len(out) >= 2 and out[1] >= 2 and tgt == out[:1] + out[2:]:
        return _indices_for_bce(out, tgt, need)
    if len(out) == 2 and tgt == (out[0] * out[1],) and out[1] >= 2:
        return _flattened(out, tgt, need, softmax=False)
    return _batch_or_columns(out, tgt, need, sigmoid=True)


def _indices_for_bce(out: Shape, tgt: Shape, need: str) -> Cause:
    c = out[1]
    per = "row" if len(out) == 2 else "position"
    one_hot = f"F.one_hot(targets, {c}).float()" + (".movedim(-1, 1)" if len(out) > 2 else "")
    binary = (
        f", or keep one logit per {per} (a [N, 1{', ...' if len(out) > 2 else ''}] output) with float 0/1 targets"
        if c == 2
        else ""
    )
    return Cause(
        "class-indices-for-bce",
        f"{need}: one class index per {per} where a sigmoid loss needs one 0/1 target per logit "
        f"(a one-hot or multi-hot [{', '.join(['N', str(c), *(['...'] if len(out) > 2 else [])])}] matrix).",
        f'for one class per sample use cross entropy on the {c} logits (ll.make_loss("multiclass")); for '
        f"independent labels give {one_hot}{binary}.",
    )


def label_index_lists_cause(out: Sequence[int], tgt: Sequence[int], hi: int) -> Cause:
    """Targets ``[N, k]`` holding up to ``k`` label indices per row, given to a sigmoid loss over ``[N, C]``.

    Args:
        out (tuple of int): the logits' shape ``[N, C]``.
        tgt (tuple of int): the targets' shape ``[N, k]`` with ``k != C``.
        hi (int): the largest target value (a label index, > 1).
    """
    n, c = out[0], out[1]
    return Cause(
        "class-indices-for-bce",
        f"BCE-family losses need targets shaped like the logits {_s(out)}; got targets {_s(tgt)} holding label "
        f"indices (up to {tgt[1]} per row, values up to {hi}) where a sigmoid loss needs a multi-hot [{n}, {c}] matrix.",
        f"scatter them into a multi-hot matrix: torch.zeros({n}, {c}).scatter_(1, targets, 1.0) (drop the padding "
        "index first), or sklearn.preprocessing.MultiLabelBinarizer on the label lists.",
    )


def _batchless(out: Shape, tgt: Shape, need: str) -> Cause | None:
    if len(tgt) >= 1 and tgt[0] == 1 and out == tgt[1:] and _numel(out) > 1:
        return Cause(
            "missing-batch-dimension",
            f"{need}: the logits {_s(out)} have no batch dimension (one sample, or a .squeeze() on a batch of one).",
            _BATCHLESS_FIX,
        )
    lost = out[1:] if len(out) >= 2 and out[0] == 1 else None
    if lost is not None and tgt and (tgt == lost or (len(out) > 2 and out[1] == 1 and tgt == out[2:])):
        return Cause(
            "missing-batch-dimension",
            f"{need}: the targets lost their batch dimension (a batch of one squeezed).",
            "targets.view_as(logits) here; where the batch is built, squeeze with an explicit dim, never a bare .squeeze().",
        )
    if len(out) == 1 and out[0] >= 2 and tgt in ((), (1,)):
        return Cause(
            "missing-batch-dimension",
            f"{need}: {out[0]} logits for one sample without its batch dimension, with a single class index.",
            f"{_BATCHLESS_FIX} Then give the sample a one-hot row F.one_hot(targets.view(1), {out[0]}).float(), or "
            "use cross entropy for one class per sample.",
        )
    return None


def _flattened(out: Shape, tgt: Shape, need: str, *, softmax: bool) -> Cause:
    n, c = out[0], out[1]
    fix = (
        f"keep the targets [{n}, {c}] (drop the .view(-1) / .flatten()): targets.view({n}, {c}).argmax(1) gives "
        "class indices for one-hot rows; rows with several 1s are multi-label targets for BCE."
        if softmax
        else f"keep the targets [{n}, {c}]: targets.view({n}, {c}), and drop the .view(-1) / .flatten()."
    )
    return Cause(
        "flattened-targets",
        f"{need}: {tgt[0]} = {n} x {c} values, the [{n}, {c}] label matrix flattened (.view(-1) / .flatten()).",
        fix,
    )


def _batch_or_columns(out: Shape, tgt: Shape, need: str, *, sigmoid: bool) -> Cause:
    if out and tgt and tgt[0] and out[0] != tgt[0] and out[0] % tgt[0] == 0:
        k = out[0] // tgt[0]
        return Cause(
            "reshape-folded-batch",
            f"{need}: the logits have {k}x the targets' rows ({out[0]} vs {tgt[0]}). A reshape folded {k} values "
            f"per sample into the batch axis (x.view(-1, F) with F {k}x too small, or logits.view(-1, n) with n "
            f"smaller than the model's outputs), or the model builds its output for a fixed batch size that a "
            "smaller last batch does not have.",
            "flatten per sample with x.flatten(1) (or x.view(x.size(0), -1)), reshape logits with their real "
            "size, and take the batch size from x.size(0), not from a setting.",
        )
    if out and tgt and out[0] != tgt[0]:
        return Cause(
            "batch-size-mismatch",
            f"{need}: {out[0]} rows of logits but {tgt[0]} rows of targets.",
            "pass the targets of the same batch as the logits (check how inputs and targets are paired, and drop_last).",
        )
    if sigmoid and len(out) == len(tgt) == 2:
        return Cause(
            "label-count-mismatch",
            f"{need}: {tgt[1]} label columns for {out[1]} logits per row.",
            f"make the model return {tgt[1]} logits (one per label column), or select the {out[1]} target columns it predicts.",
        )
    return Cause(
        "target-shape-mismatch",
        f"{need}.",
        "give one 0/1 (or soft) target per logit: ll.prepare_targets(y, task, outputs=logits) checks and converts them.",
    )


def softmax_shape_cause(out: Sequence[int], tgt: Sequence[int], *, kind: TargetKind) -> Cause | None:
    """Why targets shaped ``tgt`` (of ``kind``) do not fit cross entropy on logits shaped ``out``.

    Valid forms (None): int class indices ``[N, ...]`` for logits ``[N, C, ...]``, float probabilities
    shaped like the logits, and torch's single unbatched sample (logits ``[C]`` with a 0-d index or
    ``[C]`` probabilities; torch also reads ``[C]`` with a ``[1]`` index as one row). 1-D logits against 1-D targets of the same length are left to the caller
    (one logit per sample or one batchless sample, which only the values tell apart).

    Args:
        out (tuple of int): the logits' shape.
        tgt (tuple of int): the targets' shape.
        kind (str): ``"int"``, ``"float"`` or ``"bool"``, the targets' dtype family.

    Returns:
        Cause or None.
    """
    out, tgt = tuple(out), tuple(tgt)
    if len(out) == 1:
        return _softmax_batchless(out, tgt, kind)
    if not out:
        return None
    c, index_shape = out[1], out[:1] + out[2:]
    if (kind == "int" and tgt == index_shape) or (kind == "float" and tgt == out):
        return None
    need = (
        f"Cross entropy over {c} classes needs int64 class indices {_s(index_shape)} or float probabilities "
        f"{_s(out)}; got {kind} targets {_s(tgt)}"
    )
    if tgt == out[:1] + (1,) + out[2:]:
        return Cause("class-targets-wrong-form", f"{need}: indices with an extra axis.", "targets.squeeze(1).")
    if len(out) == 2 and tgt == (out[0] * c,) and c >= 2:
        return _flattened(out, tgt, need, softmax=True)
    if out[0] == 1 and ((tgt and tgt == out[2:]) or (len(out) == 2 and tgt == ())):
        return Cause(
            "missing-batch-dimension",
            f"{need}: the targets lost their batch dimension (a batch of one squeezed).",
            f"targets.view({', '.join(map(str, index_shape))}) here; where the batch is built, squeeze with an "
            "explicit dim, never a bare .squeeze().",
        )
    if tgt and tgt[0] != out[0]:
        return _batch_or_columns(out, tgt, need, sigmoid=False)
    if len(out) == len(tgt) == 2 and tgt[1] != c:
        return Cause(
            "label-count-mismatch",
            f"{need}: {tgt[1]} target columns for {c} classes.",
            f"make the model return one logit per class ({tgt[1]} if the targets are right), or give one class "
            "index per row.",
        )
    return _softmax_form(out, tgt, kind, need)


def _softmax_form(out: Shape, tgt: Shape, kind: TargetKind, need: str) -> Cause:
    index_shape = out[:1] + out[2:]
    if kind != "int" and tgt == index_shape:
        return Cause("class-targets-wrong-form", f"{need}.", "targets.long() for class indices.")
    if kind != "float" and tgt == out:
        return Cause(
            "class-targets-wrong-form",
            f"{need}: integer targets shaped like the logits.",
            "targets.argmax(1) for one-hot rows (class indices), or targets.float() to use them as class "
            "probabilities; rows with several 1s are multi-label targets for BCE.",
        )
    return Cause("class-targets-wrong-form", f"{need}.", f"give int64 class indices shaped {_s(index_shape)}.")


def _softmax_batchless(out: Shape, tgt: Shape, kind: TargetKind) -> Cause | None:
    c = out[0]
    if (kind == "int" and tgt in ((), (1,))) or (kind == "float" and tgt == out) or c < 2 or tgt == out:
        return None  # torch's unbatched sample (it reads [C] with [1] as one row), or 1-D logits (caller decides)
    return Cause(
        "missing-batch-dimension",
        f"Cross entropy got logits {_s(out)} without a batch dimension (torch reads them as one sample of {c} class "
        f"scores) and {kind} targets {_s(tgt)}.",
        f"{_BATCHLESS_FIX} Cross entropy then takes targets [N] of class indices.",
    )


def batchless_one_hot_cause(out: Sequence[int]) -> Cause:
    """Logits ``[C]`` of one sample against its one-hot target row ``[C]`` (integers), for cross entropy."""
    c = out[0]
    return Cause(
        "missing-batch-dimension",
        f"Cross entropy got logits [{c}] and a one-hot integer target [{c}]: one sample without its batch "
        f"dimension (torch reads the logits as {c} class scores and wants a single class index).",
        f"{_BATCHLESS_FIX} Give class indices: targets.argmax().view(1).",
    )


def label_range_cause(
    lo: float, hi: float, n_classes: int | None, *, ignore_index: int | None = None
) -> Cause | None:
    """Class indices outside ``[0, C)``: the message of ``prepare_targets``, with the fix that fits the values.

    Args:
        lo (float): the smallest label (``ignore_index`` values excluded).
        hi (float): the largest label.
        n_classes (int, optional): ``C``; None when unknown (only negative labels are then wrong).
        ignore_index (int, optional): the loss's ``ignore_index``, named in the fix for negative labels.
    """
    if lo >= 0 and (n_classes is None or hi < n_classes):
        return None
    span = f"[0, {n_classes - 1}]" if n_classes is not None else "[0, C-1]"
    message = f"Cross entropy needs class indices in {span}; got labels in [{lo:.0f}, {hi:.0f}]."
    if lo < 0:
        now = f" (the loss ignores {ignore_index})" if ignore_index is not None else ""
        fix = (
            f"if {lo:.0f} marks unlabelled rows, pass ignore_index={lo:.0f} (nn.CrossEntropyLoss(ignore_index={lo:.0f})){now} "
            "or drop those rows; otherwise remap the labels to 0..C-1 (sklearn.preprocessing.LabelEncoder)."
        )
    elif n_classes is not None and lo >= 1 and hi == n_classes:
        fix = f"the labels run 1..{n_classes}: subtract 1 (targets - 1) so they run 0..{n_classes - 1}."
    elif n_classes is not None and 128 <= hi <= 255 and n_classes < 32:
        fix = (
            f"labels up to {hi:.0f} for {n_classes} classes look like raw pixel values of a mask: map them to class "
            "ids (e.g. (mask > 127).long() for a 0/255 mask, or a value -> id lookup)."
        )
    else:
        fix = (
            "remap the labels to 0..C-1 (sklearn.preprocessing.LabelEncoder), or make the model return "
            f"{int(hi) + 1} logits."
        )
    return Cause("class-index-out-of-range", message, fix)


def pos_weight_cause(pw: Sequence[int], out: Sequence[int]) -> Cause | None:
    """``pos_weight`` shaped ``pw`` against sigmoid logits shaped ``out`` (torch broadcasts it against the last axis).

    Returns:
        Cause or None: ``pos-weight-wrong-axis`` or ``pos-weight-wrong-length``.
    """
    pw, out = tuple(pw), tuple(out)
    n = out[0] if out else 1
    n_labels = out[1] if len(out) >= 2 else 1
    count = _numel(pw)
    if count == 1:
        return None
    spatial = len(out) - 2
    if spatial > 0 and count == n_labels:
        want = (n_labels,) + (1,) * spatial
        if pw[-len(want) :] == want and all(d == 1 for d in pw[: -len(want)]):
            return None
        return Cause(
            "pos-weight-wrong-axis",
            f"pos_weight {_s(pw)} for logits {_s(out)}: torch lines pos_weight up with the last axis ({out[-1]}), "
            f"not the label axis 1 ({n_labels}).",
            f"pos_weight.view({', '.join(map(str, want))}) so it broadcasts along axis 1.",
        )
    if spatial <= 0 and pw[-1:] == (n_labels,) and all(d == 1 for d in pw[:-1]) and n_labels > 1:
        return None
    if (count == n_labels and n_labels > 1) or (count == n and n > 1):
        return Cause(
            "pos-weight-wrong-axis",
            f"pos_weight {_s(pw)} would broadcast along the batch axis of logits {_s(out)}; it must be 1-D, one "
            f"entry per label ([{n_labels}]).",
            "pos_weight.flatten() with one entry per label column (ll.pos_weight(targets) returns [L]); per-sample "
            "weights go in `weight`.",
        )
    if count == 2:
        return Cause(
            "pos-weight-wrong-length",
            f"pos_weight {_s(pw)} looks like one weight per class (0 and 1), but the logits {_s(out)} have "
            f"{n_labels} label(s): BCE's pos_weight multiplies the positive term of each label only.",
            "one entry per label: pos_weight = torch.tensor([w1 / w0]) for one label, or ll.pos_weight(train_targets).",
        )
    return Cause(
        "pos-weight-wrong-length",
        f"pos_weight has {count} entries {_s(pw)}; the logits {_s(out)} have {n_labels} label(s).",
        "give one entry per label: ll.pos_weight(train_targets) returns [L].",
    )


def class_weight_cause(w: Sequence[int], n_classes: int) -> Cause | None:
    """A cross-entropy class ``weight`` shaped ``w`` for ``n_classes`` logits."""
    w = tuple(w)
    if w == (n_classes,):
        return None
    count = _numel(w)
    if count == n_classes:
        return Cause(
            "weight-wrong-shape",
            f"Cross entropy's class weight has shape {_s(w)}; it must be 1-D [{n_classes}], one per class.",
            "weight.flatten() (ll.class_weight(labels, num_classes=C) returns [C]).",
        )
    return Cause(
        "weight-wrong-shape",
        f"Cross entropy's class weight has {count} entries {_s(w)}; the logits have {n_classes} classes.",
        f"one weight per class: ll.class_weight(train_labels, num_classes={n_classes}) returns [{n_classes}]; if "
        f"there really are {count} classes, make the model return {count} logits.",
    )


def element_weight_cause(w: Sequence[int], out: Sequence[int]) -> Cause | None:
    """A sigmoid loss's per-element ``weight`` shaped ``w`` that does not broadcast to the logits ``out``."""
    w, out = tuple(w), tuple(out)
    if len(w) <= len(out) and all(a in (1, b) for a, b in zip(reversed(w), reversed(out))):
        return None
    if len(w) == 1 and len(out) == 2 and w[0] == out[0]:
        return Cause(
            "weight-wrong-shape",
            f"Expected `weight` broadcastable to the logits {_s(out)}; got {_s(w)}: one weight per sample lines up "
            "with the label axis.",
            "per-sample weights need [N, 1]: weight.unsqueeze(1).",
        )
    return Cause(
        "weight-wrong-shape",
        f"Expected `weight` broadcastable to the logits {_s(out)}; got {_s(w)}.",
        "pass per-sample weights as [N, 1] (or [N] for 1-D logits), per-label weights as [L], or per-element "
        "weights shaped like the logits.",
    )
