"""The decisions a fit took, as the sentences ``logitlab train`` prints and the report shows.

One sentence each: the task, the loss, the imbalance weights, the cross-fitting, the best epoch, the
calibration (with its held-out log-loss), the thresholds, the model and the learning rate, then the
notes the fit wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..estimator import Classifier

__all__ = ["decision_lines", "decision_pairs", "weights_text"]


def decision_lines(clf: Classifier, *, held_out: Mapping[str, Any] | None = None) -> list[str]:
    """The decisions a fit took, one sentence each: task, loss, weights, best epoch, thresholds, model, lr, notes.

    ``held_out`` (``where``, ``before``, ``after``): the log-loss without and with the calibration map on rows
    it was not fitted on, which the calibration line reports (and calls worse where it is).
    """
    return [f"{name}: {text}" for name, text in decision_pairs(clf, held_out=held_out)]


def decision_pairs(clf: Classifier, *, held_out: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
    """:func:`decision_lines` as ``(name, sentence)`` pairs (the report's decisions table)."""
    d = clf.fit_decisions_
    lines = [
        ("task", f"{d.task} ({d.task_reason})"),
        ("loss", f"{d.loss.text if d.loss is not None else None}"),
    ]
    lines.append(("weights", weights_text(d.weights, clf.label_names_)))
    if d.best_epochs:  # cross-fitted folds or ensemble members: each has its own
        word = "fold" if d.cv is not None else "member"
        shown = ", ".join("-" if b is None else str(int(b)) for b in d.best_epochs)
        lines.append(
            (
                f"best epochs by {word}",
                f"{shown} (each {word}'s lowest log-loss on its own validation rows; its weights "
                f"kept; metrics.csv and the training curves show {word} 1)",
            )
        )
    elif d.best_epoch is not None:
        lines.append(
            (
                "best epoch",
                f"{int(d.best_epoch)} of {len(clf.history_)} (lowest validation log-loss; its weights kept)",
            )
        )
    if d.cv is not None:
        lines.append(("validation", _cv_text(d.cv.reason, d.validation)))
    lines.append(("calibration", _calibration_text(d.calibration, held_out, d.calibration_check)))
    lines.append(("thresholds", _thresholds_text(clf)))
    if getattr(clf, "model_spec_", None):
        shape = _shape_text(clf.input_shape_, clf.model_spec_, clf)
        lines.append(("model", f"{clf.model_spec_['name']} (model={clf.model!r}, input {shape})"))
    if d.lr is not None:  # not for model='linear' (L-BFGS), nor in older model files
        lines.append(("learning rate", d.lr.reason))
    if d.training is not None:  # not in older model files
        lines.append(("imbalance and weight decay", d.training.reason))
    tuned = (d.thresholds or {}).get("notes", [])
    notes = [*d.notes, *(f"thresholds: {_named_note(n, clf.label_names_)}" for n in tuned)]
    lines.extend(("note", n) for n in notes)
    return lines


def _cv_text(reason: str, validation: Mapping[str, Any] | None) -> str:
    """How the fit validated, and its validation numbers (out-of-fold when cross-fitted)."""
    shown = validation or {}
    numbers = ", ".join(
        f"{k}={shown[k]:.4f}"
        for k in ("log_loss", "f1", "f1_macro", "accuracy", "average_precision")
        if k in shown
    )
    rows = f"{shown['on']} rows: {shown['rows']}; {numbers}" if shown else "none"
    return f"{reason} ({rows})"


def _named_note(note: str, names: list[str]) -> str:
    """``"class 2: ..."`` / ``"label 0: ..."`` (a tuning note) with the class or label name."""
    import re

    m = re.match(r"(class|label) (\d+): ", note)
    if m is None or int(m.group(2)) >= len(names):
        return note
    return f"{m.group(1)} {names[int(m.group(2))]!r}: {note[m.end() :]}"


def _shape_text(shape: Any, spec: Mapping[str, Any], clf: Classifier | None = None) -> str:
    """What the network reads: ``30 features``, ``9 features encoded from 7 input columns``, ``1x8x8``."""
    dims = [int(v) for v in shape]
    if spec.get("name") == "hf":
        return f"up to {dims[0]} tokens"
    if len(dims) != 1:
        return "x".join(map(str, dims))
    columns = getattr(getattr(getattr(clf, "data_state_", None), "preprocessor", None), "columns", None)
    if columns is not None and len(columns) != dims[0]:  # a table: one-hot categories, text terms, indicators
        return f"{dims[0]} features encoded from {len(columns)} input columns"
    return f"{dims[0]} features"


def weights_text(weights: Mapping[str, Any] | None, names: Any = None) -> str:
    """The imbalance weights as people read them: ``none``, or each label's weight (``names`` label them)."""
    if not weights:
        return "none"
    values = list(weights["values"])
    named = names is not None and len(names) == len(values) and len(values) > 1
    items = [f"{names[j]} {v:.3g}" if named else f"{v:.3g}" for j, v in enumerate(values[:8])]
    shown = ", ".join(items) + (", ..." if len(values) > 8 else "")
    kind = "pos_weight" if weights.get("kind", "pos_weight") == "pos_weight" else "class weight"
    return f"{weights['strategy']} {kind} {shown}"


def _calibration_text(
    calibration: Mapping[str, Any] | None,
    held_out: Mapping[str, Any] | None = None,
    check: Mapping[str, Any] | None = None,
) -> str:
    """The calibration in two sentences: the map and its verdict, then its effect on the test rows.

    The verdict (kept or not) is judged on rows the map was not fitted on (folds over the calibration rows);
    the held-out test rows are a second, separate sentence.
    """
    prior = check and not check["kept"]
    if not calibration:
        text = "none (probabilities are the raw activation)"
    else:
        text = "prior correction of the weights (fitted on no data)" if prior else str(calibration["method"])
    if check:
        verdict = "kept" if check["kept"] else "fitted map not used"
        text += (
            f"; {verdict}: on rows it was not fitted on ({check['folds']}-fold over the {check['rows']} "
            f"calibration rows), log-loss {float(check['without']):.4f} without the fitted map, "
            f"{float(check['with']):.4f} with it"
        )
    before, after = (
        (calibration or {}).get("log_loss_before") or [],
        (calibration or {}).get("log_loss_after") or [],
    )
    if before and after:
        text += f" ({sum(before) / len(before):.4f} -> {sum(after) / len(after):.4f} on the rows it was fitted on)"
    text += "."
    if calibration and held_out:
        b, a = float(held_out["before"]), float(held_out["after"])
        verdict = "better" if a < b else "worse" if a > b else "unchanged"
        text += f" On the {held_out['where']}, held out: log-loss {b:.4f} -> {a:.4f} with it ({verdict})."
    return text


def _thresholds_text(clf: Classifier) -> str:
    scale = " of the calibrated probabilities" if clf.calibration_ is not None else ""
    if clf.thresholds_ is None:
        why = " (threshold_objective='auto': multiclass)" if clf.threshold_objective == "auto" else ""
        return f"default (0.5 / argmax{scale}){why}"
    values = clf.thresholds_.values
    names = clf.label_names_ if len(clf.label_names_) == len(values) and len(values) > 1 else None
    items = [f"{names[j]} {float(v):.3f}" if names else f"{float(v):.3f}" for j, v in enumerate(values[:8])]
    shown = ", ".join(items) + (", ..." if len(values) > 8 else "")
    what = "class bias" if clf.task_ == "multiclass" else "threshold" if len(values) == 1 else "thresholds"
    scale = " on the calibrated scale" if clf.calibration_ is not None else ""
    return f"{what} {shown} tuned on validation ({clf.thresholds_.objective}){scale}"
