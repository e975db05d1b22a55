"""Value causes: class indices out of range, and weights of the wrong length or axis."""

from __future__ import annotations

from collections.abc import Sequence

from .base import Cause, numel, shape_text

__all__ = ["class_weight_cause", "element_weight_cause", "label_range_cause", "pos_weight_cause"]


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
    count = numel(pw)
    if count == 1:
        return None
    spatial = len(out) - 2
    if spatial > 0 and count == n_labels:
        want = (n_labels,) + (1,) * spatial
        if pw[-len(want) :] == want and all(d == 1 for d in pw[: -len(want)]):
            return None
        return Cause(
            "pos-weight-wrong-axis",
            f"pos_weight {shape_text(pw)} for logits {shape_text(out)}: torch lines pos_weight up with the last axis ({out[-1]}), "
            f"not the label axis 1 ({n_labels}).",
            f"pos_weight.view({', '.join(map(str, want))}) so it broadcasts along axis 1.",
        )
    if spatial <= 0 and pw[-1:] == (n_labels,) and all(d == 1 for d in pw[:-1]) and n_labels > 1:
        return None
    if (count == n_labels and n_labels > 1) or (count == n and n > 1):
        return Cause(
            "pos-weight-wrong-axis",
            f"pos_weight {shape_text(pw)} would broadcast along the batch axis of logits {shape_text(out)}; it must be 1-D, one "
            f"entry per label ([{n_labels}]).",
            "pos_weight.flatten() with one entry per label column (ll.pos_weight(targets) returns [L]); per-sample "
            "weights go in `weight`.",
        )
    if count == 2:
        return Cause(
            "pos-weight-wrong-length",
            f"pos_weight {shape_text(pw)} looks like one weight per class (0 and 1), but the logits {shape_text(out)} have "
            f"{n_labels} label(s): BCE's pos_weight multiplies the positive term of each label only.",
            "one entry per label: pos_weight = torch.tensor([w1 / w0]) for one label, or ll.pos_weight(train_targets).",
        )
    return Cause(
        "pos-weight-wrong-length",
        f"pos_weight has {count} entries {shape_text(pw)}; the logits {shape_text(out)} have {n_labels} label(s).",
        "give one entry per label: ll.pos_weight(train_targets) returns [L].",
    )


def class_weight_cause(w: Sequence[int], n_classes: int) -> Cause | None:
    """A cross-entropy class ``weight`` shaped ``w`` for ``n_classes`` logits."""
    w = tuple(w)
    if w == (n_classes,):
        return None
    count = numel(w)
    if count == n_classes:
        return Cause(
            "weight-wrong-shape",
            f"Cross entropy's class weight has shape {shape_text(w)}; it must be 1-D [{n_classes}], one per class.",
            "weight.flatten() (ll.class_weight(labels, num_classes=C) returns [C]).",
        )
    return Cause(
        "weight-wrong-shape",
        f"Cross entropy's class weight has {count} entries {shape_text(w)}; the logits have {n_classes} classes.",
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
            f"Expected `weight` broadcastable to the logits {shape_text(out)}; got {shape_text(w)}: one weight per sample lines up "
            "with the label axis.",
            "per-sample weights need [N, 1]: weight.unsqueeze(1).",
        )
    return Cause(
        "weight-wrong-shape",
        f"Expected `weight` broadcastable to the logits {shape_text(out)}; got {shape_text(w)}.",
        "pass per-sample weights as [N, 1] (or [N] for 1-D logits), per-label weights as [L], or per-element "
        "weights shaped like the logits.",
    )
