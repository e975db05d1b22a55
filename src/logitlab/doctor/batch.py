"""Diagnose one batch: outputs, targets, the loss and (optionally) the model and its gradients.

Examples:
    >>> import torch
    >>> logits = torch.zeros(8, 1, requires_grad=True)
    >>> report = diagnose(torch.sigmoid(logits), torch.ones(8, 1), torch.nn.BCEWithLogitsLoss())
    >>> report.ok, report.codes[0]
    (False, 'sigmoid-before-logits-loss')
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..tasks import Task
from . import _checks
from ._context import Batch
from ._inspect import spec_of
from .findings import DiagnoseTypeError, Report

__all__ = ["diagnose"]


def diagnose(
    outputs: Any,
    targets: Any,
    loss_fn: Any = None,
    *,
    task: Task | str | None = None,
    model: nn.Module | None = None,
    inputs: Any = None,
) -> Report:
    """Check a classification setup on one batch and say what is wrong, with the fix.

    The doctor never raises on bad tensors: NaNs, wrong shapes or a loss that raises are findings.
    Activations are detected structurally (the autograd node behind ``outputs``, the model's last
    module); the value range is only a weaker hint. Every finding code is in ``docs/doctor.md``.

    Args:
        outputs (Tensor[N], Tensor[N, 1], Tensor[N, L] or Tensor[N, C]): what the model returned.
        targets (Tensor or array-like): the targets given to the loss.
        loss_fn (callable, optional): a torch loss (module or functional), a logitlab loss, or a
            hand-written callable ``loss_fn(outputs, targets)`` (checked against a float64 reference).
            Default: None (targets and outputs are checked against the task alone).
        task (Task or str, optional): the intended task; inferred from the loss and shapes when left out.
        model (nn.Module, optional): the model, for its last module and its gradients.
        inputs (Tensor, optional): the batch's inputs; with ``model`` the doctor runs one forward pass
            (buffers restored) to find the last module run and the gradients.

    Returns:
        Report: the findings; ``report.ok`` is False when any is an error.

    Raises:
        DiagnoseTypeError: when ``outputs``/``targets`` are not tensors or arrays, ``loss_fn`` is not
            callable, or ``model`` is not an ``nn.Module`` (misuse, not a finding).

    Examples:
        >>> import torch
        >>> diagnose(torch.randn(16, 3), torch.arange(16) % 3, torch.nn.CrossEntropyLoss()).ok
        True
    """
    batch = _resolve(outputs, targets, loss_fn, task, model, inputs)
    if batch.outputs.numel() == 0 or batch.targets.numel() == 0:
        shapes = f"outputs {list(batch.outputs.shape)}, targets {list(batch.targets.shape)}"
        batch.add("empty-batch", f"Nothing to check: {shapes}.", "check the data loader and drop_last.")
        return Report(batch.findings, title="logitlab doctor: batch")
    for check in _checks.CHECKS:
        check(batch)
        if batch.done:
            break
    return Report(batch.findings, title="logitlab doctor: batch")


def _as_tensor(value: Any, name: str) -> Tensor:
    if isinstance(value, Tensor) and not value.is_complex():
        return value
    if isinstance(value, (np.ndarray, list, tuple)) or np.isscalar(value) and not isinstance(value, str):
        try:
            tensor = torch.as_tensor(np.asarray(value))
            if not tensor.is_complex():
                return tensor
        except (TypeError, ValueError, RuntimeError):
            pass
    raise DiagnoseTypeError(
        f"Expected argument `{name}` to be a real-valued tensor (or a NumPy array / nested list of numbers); "
        f"got {type(value).__name__} {str(value)[:40]!r}.",
        fix=f"pass the {name} tensor itself, e.g. diagnose(model(x), y, loss_fn).",
    )


def _resolve(outputs: Any, targets: Any, loss_fn: Any, task: Any, model: Any, inputs: Any) -> Batch:
    out, tgt = _as_tensor(outputs, "outputs"), _as_tensor(targets, "targets")
    if loss_fn is not None and not callable(loss_fn):
        raise DiagnoseTypeError(
            f"Expected argument `loss_fn` to be callable; got {type(loss_fn).__name__} {str(loss_fn)[:40]!r}.",
            fix='pass a loss object, e.g. torch.nn.BCEWithLogitsLoss() or ll.make_loss(task, "bce").',
        )
    if model is not None and not isinstance(model, nn.Module):
        raise DiagnoseTypeError(
            f"Expected argument `model` to be a torch.nn.Module; got {type(model).__name__}.",
            fix="pass the model object, or leave model out.",
        )
    spec = spec_of(loss_fn)
    task_obj = Task.from_str(task) if task is not None else None
    family = spec.family or (task_obj.family if task_obj else _guess_family(out, tgt))
    if task_obj is None:
        multi = out.ndim >= 2 and out.shape[1] > 1
        task_obj = Task.MULTICLASS if family == "softmax" else Task.MULTILABEL if multi else Task.BINARY
    batch = Batch(out, tgt, loss_fn, spec, family, task_obj, task is not None, model, inputs)
    if model is not None and isinstance(inputs, Tensor):
        batch.last_module, batch.model_outputs = _run_model(model, inputs)
    return batch


def _guess_family(out: Tensor, tgt: Tensor) -> str:
    int_targets = not tgt.is_floating_point() and tgt.dtype != torch.bool
    if out.ndim >= 2 and out.shape[1] > 1 and int_targets and tgt.ndim == out.ndim - 1:
        return "softmax"
    return "sigmoid"


def _run_model(model: nn.Module, inputs: Tensor) -> tuple[nn.Module | None, Tensor | None]:
    """One forward pass recording the last leaf module run; buffers (BatchNorm stats) are restored."""
    order: list[nn.Module] = []
    leaves = [m for m in model.modules() if not list(m.children())]
    handles = [m.register_forward_hook(lambda mod, _i, _o: order.append(mod)) for m in leaves]
    # run on clones of the buffers (BatchNorm statistics), then put the originals back untouched:
    # restoring in place would bump their version and break the caller's autograd graph
    saved = [(m, name, buf) for m in model.modules() for name, buf in m.named_buffers(recurse=False)]
    for module, name, buf in saved:
        setattr(module, name, buf.clone())
    try:
        with torch.enable_grad():
            out = model(inputs)
    except Exception:  # the model itself fails: nothing structural to learn here
        out = None
    finally:
        for handle in handles:
            handle.remove()
        for module, name, buf in saved:
            setattr(module, name, buf)
    return (order[-1] if order else None), (out if isinstance(out, Tensor) else None)
