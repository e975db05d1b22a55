"""Targets in the form the task's loss needs: shape, dtype and range, checked once at the boundary.

* binary / multilabel (sigmoid family, BCE): float32 shaped like the logits, values in [0, 1];
* multiclass (softmax family, cross entropy): int64 class indices ``[N]`` in ``[0, C)``, or float32
  class probabilities ``[N, C]`` whose rows sum to 1 (kept as probabilities).

Widening that loses nothing (float64 -> float32, int32/uint8/bool -> int64 class ids) is the normal
form. Anything else (a reshape, an integer -> float cast, one-hot -> indices) is an error that names the
fix, or with ``fix=True`` a repair that is returned and warned, never silent.

Examples:
    >>> import torch
    >>> prepare_targets(torch.tensor([0.0, 1.0]), "binary", outputs=torch.zeros(2, 1))
    Traceback (most recent call last):
    ...
    logitlab.errors.TargetError: BCE-family losses need float targets shaped like the logits [2, 1]; got float32 targets [2].
    Fix: targets.unsqueeze(1), or make the model return [2].
    >>> prepare_targets([2, 0, 1], "multiclass", num_classes=3)
    tensor([2, 0, 1])
"""

from __future__ import annotations

import warnings
from typing import Any, Literal, overload

import numpy as np
import torch
from torch import Tensor

from .causes import label_range_cause
from .errors import ConfigError, LogitlabWarning, TargetError
from .tasks import Task

__all__ = ["prepare_targets"]

_INT64_MAX = np.iinfo(np.int64).max


@overload
def prepare_targets(
    y: Any,
    task: Task | str,
    *,
    outputs: Any = ...,
    num_classes: int | None = ...,
    fix: Literal[False] = ...,
) -> Tensor: ...
@overload
def prepare_targets(
    y: Any, task: Task | str, *, outputs: Any = ..., num_classes: int | None = ..., fix: Literal[True]
) -> tuple[Tensor, list[str]]: ...
def prepare_targets(
    y: Any, task: Task | str, *, outputs: Any = None, num_classes: int | None = None, fix: bool = False
) -> Tensor | tuple[Tensor, list[str]]:
    """Check targets against the task (and the logits) and return them in the loss's form.

    Args:
        y (array-like): targets as a tensor (its device is kept), NumPy array, list, or pandas
            Series/DataFrame.
        task (Task or str): ``"binary"``, ``"multilabel"`` or ``"multiclass"``.
        outputs (Tensor or tuple of int, optional): the logits (or their shape). Sigmoid tasks: the
            targets must be shaped like them; multiclass: ``[N, C]`` gives ``C``. Without it, binary
            targets may be ``[N]`` or ``[N, 1]`` and multilabel targets ``[N, L]``. Default: ``None``.
        num_classes (int, optional): ``C`` for multiclass when ``outputs`` is not given. Default: ``None``.
        fix (bool): repair what is safe (``[N]`` <-> ``[N, 1]``, int/bool -> float for BCE, one-hot
            -> indices and whole-number floats -> int64 for CE), warn each repair with a
            :class:`~logitlab.errors.LogitlabWarning` and return ``(targets, repairs)``. Default: ``False``.

    Returns:
        Tensor (float32 shaped like the logits; int64 ``[N]``; or float32 ``[N, C]``), or
        ``(Tensor, list[str])`` when ``fix`` is true.

    Raises:
        TargetError: with a stable ``code``: ``empty-targets``, ``nonfinite-targets``,
            ``non-numeric-targets``, ``bad-target-ndim``, ``bad-target-shape``, ``batch-size-mismatch``,
            ``target-shape-mismatch``, ``label-count-mismatch``, ``int-targets-for-bce``,
            ``targets-out-of-range``, ``class-index-out-of-range``, ``non-integer-labels``,
            ``float-labels-for-ce``, ``one-hot-for-ce``, ``multi-hot-with-cross-entropy``,
            ``bad-class-probabilities``, ``outputs-shape-for-task``, ``num-classes-mismatch``.

    Examples:
        >>> import torch
        >>> t, repairs = prepare_targets(torch.tensor([0, 1]), "binary", outputs=torch.zeros(2, 1), fix=True)
        >>> t, repairs
        (tensor([[0.],
                [1.]]), ['cast int64 targets to float32 for BCE', 'reshaped targets [2] -> [2, 1] to match the logits'])
    """
    task = Task.from_str(task)
    t = _as_tensor(y)
    out_shape = _shape_of(outputs)
    _check_common(t, out_shape)
    repairs: list[str] = []
    if task.family == "sigmoid":
        t = _sigmoid_targets(t, task, out_shape, fix, repairs)
    else:
        n_classes = _n_classes(out_shape, num_classes)
        t = _softmax_targets(t, n_classes, fix, repairs)
    for repair in repairs:
        warnings.warn(f"prepare_targets: {repair}.", LogitlabWarning, stacklevel=2)
    return (t, repairs) if fix else t


# ---------------------------------------------------------------------------------------------- input


def _as_tensor(y: Any) -> Tensor:
    if isinstance(y, Tensor):
        if y.is_complex() or y.dtype in (torch.uint16, torch.uint32, torch.uint64):
            y = y.cpu().numpy()  # handled below: complex is refused, wide unsigned is range-checked
        else:
            return y
    if hasattr(y, "to_numpy"):  # pandas Series / DataFrame
        y = y.to_numpy()
    try:
        arr = np.asarray(y)
    except (ValueError, TypeError) as exc:
        raise TargetError(
            f"Expected rectangular numeric targets; NumPy could not convert them ({exc}).",
            fix="give one label per row, or a 2-D [N, L] matrix with the same length in every row.",
            code="bad-target-shape",
        ) from None
    kind = arr.dtype.kind
    if kind not in "biuf":
        raise TargetError(
            f"Expected numeric targets (bool, integer or float); got dtype {arr.dtype} of shape {list(arr.shape)}.",
            fix="encode label names as integers first (sklearn.preprocessing.LabelEncoder, or "
            "MultiLabelBinarizer for lists of labels per row).",
            code="non-numeric-targets",
        )
    if kind == "u" and arr.size and int(arr.max()) > _INT64_MAX:
        raise TargetError(
            f"Expected labels that fit in int64; got a maximum of {int(arr.max())}.",
            fix="remap the labels to 0..C-1 (sklearn.preprocessing.LabelEncoder).",
            code="class-index-out-of-range",
        )
    if not arr.dtype.isnative:  # big-endian data from a file: torch only takes native byte order
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if kind in "iu":
        arr = arr.astype(np.int64)
    elif kind == "f" and arr.dtype.itemsize > 8:
        arr = arr.astype(np.float64)
    return torch.tensor(arr)


def _shape_of(outputs: Any) -> tuple[int, ...] | None:
    if outputs is None:
        return None
    shape = outputs.shape if hasattr(outputs, "shape") else outputs
    try:
        return tuple(int(s) for s in shape)
    except TypeError:
        raise ConfigError(
            f"Expected argument `outputs` to be the logits or their shape; got {type(outputs).__name__}.",
            fix="pass outputs=logits (a tensor) or outputs=logits.shape.",
            code="bad-outputs",
        ) from None


def _check_common(t: Tensor, out_shape: tuple[int, ...] | None) -> None:
    if t.numel() == 0:
        raise TargetError(
            f"Expected at least one target; got an empty tensor of shape {list(t.shape)}.",
            fix="check the data split or the target column; drop empty batches.",
            code="empty-targets",
        )
    if t.ndim == 0:
        raise TargetError(
            f"Expected one target per sample ([N] or [N, L]); got a scalar {t.item()}.",
            fix="pass the whole batch of targets, e.g. torch.tensor([y]).",
            code="bad-target-ndim",
        )
    if t.is_floating_point():
        bad = int((~torch.isfinite(t)).sum())
        if bad:
            raise TargetError(
                f"Expected finite targets; got {bad} NaN/Inf values in targets {list(t.shape)}.",
                fix="drop or impute the rows with missing labels before training.",
                code="nonfinite-targets",
            )
    if out_shape is not None and (len(out_shape) == 0 or out_shape[0] != t.shape[0]):
        raise TargetError(
            f"Expected one target row per logits row; got targets {list(t.shape)} for logits {list(out_shape)}.",
            fix="pass the targets of the same batch as the logits (check the data loader and drop_last).",
            code="batch-size-mismatch",
        )


def _minmax(t: Tensor) -> tuple[float, float]:
    if t.dtype == torch.bool:
        t = t.to(torch.uint8)
    lo, hi = torch.aminmax(t.detach())
    return float(lo), float(hi)  # one host sync, at the public boundary


# ------------------------------------------------------------------------------ sigmoid (BCE) family


def _sigmoid_shape(t: Tensor, task: Task, out_shape: tuple[int, ...] | None) -> tuple[int, ...]:
    """The shape the targets must have: the logits' shape, or the task's form when no logits came."""
    shape = tuple(t.shape)
    if out_shape is not None:
        if task is Task.BINARY and (len(out_shape) > 2 or (len(out_shape) == 2 and out_shape[1] != 1)):
            raise TargetError(
                f"A binary task takes one logit per sample ([N] or [N, 1]); got logits {list(out_shape)}.",
                fix="use task='multiclass' for C logits with cross entropy, or task='multilabel' for L labels.",
                code="outputs-shape-for-task",
            )
        if shape == out_shape or shape[1:] in ((), (1,)) and out_shape[1:] in ((), (1,)):
            return out_shape
        if len(shape) == len(out_shape) == 2:
            raise TargetError(
                f"Expected {out_shape[1]} labels per row, like the logits {list(out_shape)}; got targets {list(shape)}.",
                fix=f"make the model return {shape[1]} logits, or select the {out_shape[1]} target columns it predicts.",
                code="label-count-mismatch",
            )
        raise TargetError(
            f"BCE-family losses need targets shaped like the logits {list(out_shape)}; got targets {list(shape)}.",
            fix="give one 0/1 (or soft) target per logit.",
            code="target-shape-mismatch",
        )
    if task is Task.BINARY and not (t.ndim == 1 or (t.ndim == 2 and shape[1] == 1)):
        raise TargetError(
            f"Binary targets are one label per sample, [N] or [N, 1]; got targets {list(shape)}.",
            fix="use task='multilabel' for an [N, L] indicator matrix, or task='multiclass' for one-hot rows.",
            code="target-shape-mismatch",
        )
    if task is Task.MULTILABEL and t.ndim != 2:
        raise TargetError(
            f"Multi-label targets are an [N, L] 0/1 matrix; got targets {list(shape)}.",
            fix="for class ids use task='multiclass' (or F.one_hot(y, L).float()); for one label use task='binary'.",
            code="target-shape-mismatch" if t.ndim == 1 else "bad-target-ndim",
        )
    return shape


def _sigmoid_targets(
    t: Tensor, task: Task, out_shape: tuple[int, ...] | None, fix: bool, repairs: list[str]
) -> Tensor:
    want = _sigmoid_shape(t, task, out_shape)
    lo, hi = _minmax(t)
    if lo < 0 or hi > 1:
        raise TargetError(
            f"BCE-family losses need targets in [0, 1]; got values in [{lo:.4g}, {hi:.4g}].",
            fix="map the classes to 0/1, e.g. (y == positive_label).float(); for class ids use task='multiclass'.",
            code="targets-out-of-range",
        )
    steps = []
    is_int = not t.is_floating_point()
    if is_int:
        steps.append(".float()")
    if tuple(t.shape) != want:
        steps.append(".unsqueeze(1)" if t.ndim < len(want) else ".squeeze(1)")
    if steps and not fix:
        other = f", or make the model return {list(t.shape)}" if tuple(t.shape) != want else ""
        raise TargetError(
            f"BCE-family losses need float targets shaped like the logits {list(want)}; "
            f"got {str(t.dtype).removeprefix('torch.')} targets {list(t.shape)}.",
            fix=f"targets{''.join(steps)}{other}.",
            code="int-targets-for-bce" if is_int else "target-shape-mismatch",
        )
    if is_int:
        repairs.append(f"cast {str(t.dtype).removeprefix('torch.')} targets to float32 for BCE")
    if tuple(t.shape) != want:
        repairs.append(f"reshaped targets {list(t.shape)} -> {list(want)} to match the logits")
        t = t.reshape(want)
    return t.to(torch.float32)


# ------------------------------------------------------------------------------ softmax (CE) family


def _n_classes(out_shape: tuple[int, ...] | None, num_classes: int | None) -> int | None:
    if num_classes is not None and (
        isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1
    ):
        raise ConfigError(
            f"Expected argument `num_classes` to be a positive int; got {num_classes!r}.",
            fix="pass num_classes=C, the number of classes the model predicts.",
            code="bad-num-classes",
        )
    if out_shape is None:
        return num_classes
    if len(out_shape) != 2 or out_shape[1] < 2:
        raise TargetError(
            f"A multiclass task takes logits [N, C] with C >= 2; got logits {list(out_shape)}.",
            fix="make the model return one logit per class, or use task='binary' with one logit.",
            code="outputs-shape-for-task",
        )
    if num_classes is not None and num_classes != out_shape[1]:
        raise TargetError(
            f"Argument `num_classes`={num_classes} disagrees with the logits {list(out_shape)}.",
            fix=f"leave num_classes out (the logits say C={out_shape[1]}), or fix the model's output size.",
            code="num-classes-mismatch",
        )
    return out_shape[1]


def _softmax_targets(t: Tensor, n_classes: int | None, fix: bool, repairs: list[str]) -> Tensor:
    if t.ndim == 2 and t.shape[1] == 1:
        _problem(
            fix,
            repairs,
            f"cross entropy needs class indices [N]; got targets {list(t.shape)}.",
            "targets.squeeze(1)",
            "target-shape-mismatch",
            f"reshaped targets {list(t.shape)} -> [{t.shape[0]}]",
        )
        t = t.squeeze(1)
    if t.ndim == 1:
        return _class_indices(t, n_classes, fix, repairs)
    if t.ndim == 2:
        return _class_matrix(t, n_classes, fix, repairs)
    raise TargetError(
        f"Cross entropy needs class indices [N] or class probabilities [N, C]; got targets {list(t.shape)}.",
        fix="flatten per-pixel or per-token labels to [N] together with the logits to [N, C].",
        code="bad-target-ndim",
    )


def _class_indices(t: Tensor, n_classes: int | None, fix: bool, repairs: list[str]) -> Tensor:
    lo, hi = _minmax(t)
    if t.is_floating_point() and not bool((t == t.round()).all()):
        raise TargetError(
            f"Cross entropy needs whole-number class indices; got {str(t.dtype).removeprefix('torch.')} "
            f"targets in [{lo:.4g}, {hi:.4g}] that are not integers.",
            fix="for soft labels give class probabilities [N, C]; for a regression target use a regression loss.",
            code="non-integer-labels",
        )
    cause = label_range_cause(lo, hi, n_classes)
    if cause is not None:  # the code and wording the losses and the doctor use
        raise cause.error()
    if t.is_floating_point():
        dtype = str(t.dtype).removeprefix("torch.")
        _problem(
            fix,
            repairs,
            f"cross entropy needs int64 class indices; got {dtype} targets {list(t.shape)} holding whole numbers.",
            "targets.long()",
            "float-labels-for-ce",
            f"cast whole-number {dtype} class ids to int64",
        )
    return t.to(torch.int64)


def _class_matrix(t: Tensor, n_classes: int | None, fix: bool, repairs: list[str]) -> Tensor:
    if n_classes is not None and t.shape[1] != n_classes:
        raise TargetError(
            f"Expected {n_classes} class columns like the logits; got targets {list(t.shape)}.",
            fix=f"make the model return {t.shape[1]} logits, or give targets with one column per class.",
            code="label-count-mismatch",
        )
    lo, hi = _minmax(t)
    if lo < 0 or hi > 1:
        raise TargetError(
            f"Class-probability targets must lie in [0, 1]; got values in [{lo:.4g}, {hi:.4g}].",
            fix="give class indices [N], or rows of probabilities that sum to 1.",
            code="targets-out-of-range",
        )
    sums = t.double().sum(1)
    if not t.is_floating_point():
        if not bool((sums == 1).all()):
            raise TargetError(
                f"Cross entropy needs exactly one class per row; got a 0/1 matrix {list(t.shape)} whose rows hold "
                f"{int(sums.min())} to {int(sums.max())} ones.",
                fix="use task='multilabel' for independent labels, or give one class index per row.",
                code="multi-hot-with-cross-entropy",
            )
        _problem(
            fix,
            repairs,
            f"cross entropy needs class indices [N]; got a one-hot {str(t.dtype).removeprefix('torch.')} "
            f"matrix {list(t.shape)}.",
            "targets.argmax(1)",
            "one-hot-for-ce",
            f"converted one-hot targets {list(t.shape)} to class indices [{t.shape[0]}]",
        )
        return t.argmax(1)
    if not bool(torch.allclose(sums, torch.ones_like(sums), atol=1e-3)):
        raise TargetError(
            f"Class-probability targets [N, C] need rows that sum to 1; got row sums in "
            f"[{float(sums.min()):.4g}, {float(sums.max()):.4g}].",
            fix="normalise: targets / targets.sum(1, keepdim=True), or use task='multilabel' for independent labels.",
            code="bad-class-probabilities",
        )
    return t.to(torch.float32)


def _problem(fix: bool, repairs: list[str], message: str, how: str, code: str, repair: str) -> None:
    """Raise a repairable problem, or record its repair when ``fix`` is true."""
    if not fix:
        raise TargetError(message[0].upper() + message[1:], fix=f"{how}, or pass fix=True.", code=code)
    repairs.append(repair)
