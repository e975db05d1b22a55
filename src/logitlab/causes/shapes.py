"""Shape causes: targets against the logits of a sigmoid (BCE-family) or softmax (cross-entropy) loss."""

from __future__ import annotations

from collections.abc import Sequence

from .base import Cause, Shape, TargetKind, numel, shape_text

__all__ = [
    "batchless_one_hot_cause",
    "label_index_lists_cause",
    "sigmoid_shape_cause",
    "softmax_shape_cause",
]

_BATCHLESS_FIX = (
    "give the batch dimension back: logits.unsqueeze(0) (x.unsqueeze(0) for a single input), and "
    "squeeze with an explicit dim (.squeeze(1)), never a bare .squeeze() that also drops a batch of one."
)


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
    need = f"BCE-family losses need targets shaped like the logits {shape_text(out)}; got targets {shape_text(tgt)}"
    if _singleton_axis(out, tgt) or _singleton_axis(tgt, out):
        wide = max(out, tgt, key=len)
        n = wide[0]
        spread = shape_text(("N", "N", *wide[2:]) if n == 1 else (n, n, *wide[2:]))
        return Cause(
            "broadcast-trap",
            f"{need}: an element-wise loss would broadcast them to {spread} (every logit against every target)"
            + (", and torch's BCE refuses them." if n == 1 else "."),
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


def _singleton_axis(a: Shape, b: Shape) -> bool:
    """``a`` is ``b`` with an extra size-1 axis 1 (``[N, 1]`` against ``[N]``, ``[N, 1, H, W]`` against ``[N, H, W]``)."""
    return len(a) == len(b) + 1 and len(b) >= 1 and a == b[:1] + (1,) + b[1:]


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
        f"BCE-family losses need targets shaped like the logits {shape_text(out)}; got targets {shape_text(tgt)} holding label "
        f"indices (up to {tgt[1]} per row, values up to {hi}) where a sigmoid loss needs a multi-hot [{n}, {c}] matrix.",
        f"scatter them into a multi-hot matrix: torch.zeros({n}, {c}).scatter_(1, targets, 1.0) (drop the padding "
        "index first), or sklearn.preprocessing.MultiLabelBinarizer on the label lists.",
    )


def _batchless(out: Shape, tgt: Shape, need: str) -> Cause | None:
    if len(tgt) >= 1 and tgt[0] == 1 and out == tgt[1:] and numel(out) > 1:
        return Cause(
            "missing-batch-dimension",
            f"{need}: the logits {shape_text(out)} have no batch dimension (one sample, or a .squeeze() on a batch of one).",
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
    if sigmoid and len(out) > 2 and tgt == out[:1]:
        return Cause(
            "target-shape-mismatch",
            f"{need}: one target per sample for a map of {numel(out[1:])} logits per sample.",
            f"expand the targets over the map (targets.view({out[0]}, {', '.join('1' * (len(out) - 1))}).expand_as(logits)), "
            "or make the model return one logit per sample.",
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
        f"Cross entropy on logits {shape_text(out)} ({c} classes) needs int64 class indices {shape_text(index_shape)} or float "
        f"probabilities shaped like the logits; got {kind} targets {shape_text(tgt)}"
    )
    if tgt == out[:1] + (1,) + out[2:]:
        return Cause(
            "class-targets-wrong-form", f"{need}: indices with an extra axis.", "targets.squeeze(1)."
        )
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
    return Cause(
        "class-targets-wrong-form", f"{need}.", f"give int64 class indices shaped {shape_text(index_shape)}."
    )


def _softmax_batchless(out: Shape, tgt: Shape, kind: TargetKind) -> Cause | None:
    c = out[0]
    if (kind == "int" and tgt in ((), (1,))) or (kind == "float" and tgt == out) or c < 2 or tgt == out:
        return None  # torch's unbatched sample (it reads [C] with [1] as one row), or 1-D logits (caller decides)
    return Cause(
        "missing-batch-dimension",
        f"Cross entropy got logits {shape_text(out)} without a batch dimension (torch reads them as one sample of {c} class "
        f"scores) and {kind} targets {shape_text(tgt)}.",
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
