"""logitlab losses, targets, doctor and thresholds in the Hugging Face ``Trainer`` (extra ``logitlab[hf]``).

* :func:`make_compute_loss` builds a loss with :func:`~logitlab.losses.make_loss` and wraps it as the
  ``compute_loss_func`` the ``Trainer`` calls as ``compute_loss_func(outputs, labels, num_items_in_batch=...)``
  (transformers >= 4.46): the logits are ``outputs["logits"]`` (or ``outputs[0]``), the labels are checked
  with :func:`~logitlab.targets.prepare_targets` against them, so a shape mistake is a
  :class:`~logitlab.errors.TargetError` with its fix, not a deep torch error;
* :class:`HealthMonitorCallback` is a ``TrainerCallback`` that runs logitlab's
  :class:`~logitlab.doctor.HealthMonitor` (the loss function hands it each micro-batch's logits and targets,
  the ``Trainer``'s callbacks never see them);
* :func:`tune_from_predictions` tunes decision thresholds from ``Trainer.predict(...)`` output.

Gradient accumulation: the ``Trainer`` takes a ``compute_loss_func`` loss as already normalised over the
accumulated batch; given ``num_items_in_batch`` (the label elements of all micro-batches, over all ranks),
the loss returned is the per-batch mean times ``labels.numel() / num_items_in_batch``, which is exactly the
mean over the accumulated batch for unweighted and ``pos_weight`` losses, and the micro-batch-size-weighted
mean of per-batch means for class-weighted cross entropy. Without accumulation it is the plain mean.

Examples:
    >>> import torch
    >>> loss = make_compute_loss("multilabel", pos_weight=torch.tensor([1.0, 3.0]))
    >>> outputs = {"logits": torch.zeros(4, 2)}
    >>> round(float(loss(outputs, torch.tensor([[1.0, 0.0]] * 4))), 4)
    0.6931
    >>> loss(outputs, torch.tensor([1.0, 0.0, 1.0, 1.0]))
    Traceback (most recent call last):
    ...
    logitlab.errors.TargetError: BCE-family losses need targets shaped like the logits [4, 2]; got targets [4].
    Fix: give one 0/1 (or soft) target per logit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..doctor.findings import Report
from ..doctor.monitor import HealthMonitor
from ..errors import ConfigError, TargetError
from ..evaluate import Thresholds, tune_thresholds
from ..extras import require_extra
from ..losses import make_loss
from ..targets import prepare_targets
from ..tasks import Task
from ._steps import StepBuffer

require_extra("hf")

from transformers import TrainerCallback  # noqa: E402

__all__ = ["ComputeLoss", "HealthMonitorCallback", "make_compute_loss", "tune_from_predictions"]


class HealthMonitorCallback(TrainerCallback):
    """Watch a Hugging Face ``Trainer`` run with logitlab's :class:`~logitlab.doctor.HealthMonitor`.

    Pass the same object to :func:`make_compute_loss` (``monitor=``) and to ``Trainer(callbacks=[...])``::

        monitor = HealthMonitorCallback()
        trainer = Trainer(model, args, train_dataset=ds, callbacks=[monitor],
                          compute_loss_func=make_compute_loss("multilabel", pos_weight=w, monitor=monitor))

    At ``on_pre_optimizer_step`` the step's loss is read once: on NaN/Inf the gradients are dropped (the step
    changes no weight) and the ``TrainingError`` (code ``nonfinite-loss``, naming step, epoch, batch, loss term
    and cause) is raised; otherwise the gradient norm is checked every ``grad_every`` steps and the last
    micro-batch's logits are recorded. ``step`` is ``state.global_step`` (from 0), ``epoch`` counts from 0,
    ``batch`` is the index within the epoch of the micro-batch. With the ``Trainer``'s gradient clipping on
    (``max_grad_norm > 0``, its default) the gradients are already clipped there, so ``exploding-gradients`` can
    only fire with clipping off (the ``Trainer`` logs the pre-clip ``grad_norm`` itself).

    Args:
        monitor (HealthMonitor, optional): the monitor to drive. Default: a new one built from ``options``.
        **options: keyword arguments of :class:`~logitlab.doctor.HealthMonitor`.
    """

    def __init__(self, monitor: HealthMonitor | None = None, **options: Any) -> None:
        self._steps = StepBuffer.of(monitor, options)
        self.monitor = self._steps.monitor
        self._epoch, self._batch_idx, self._fed = -1, 0, False

    def record(self, logits: Tensor, targets: Tensor, loss: Tensor) -> None:
        """Called by the loss for every training micro-batch (keeps detached tensors, reads nothing)."""
        self._steps.add(self._batch_idx, logits, targets, loss)
        self._batch_idx += 1
        self._fed = True

    def report(self) -> Report:
        """The findings so far (a :class:`~logitlab.doctor.Report`)."""
        return self.monitor.report()

    # ---- TrainerCallback hooks ------------------------------------------------------------------
    def on_epoch_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Count epochs from 0; batch indices restart."""
        self._epoch += 1
        self._batch_idx = 0

    def on_pre_optimizer_step(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Read the step's loss once; on NaN/Inf drop the gradients and raise, else check the gradients."""
        if not self._fed:
            raise ConfigError(
                "HealthMonitorCallback received no batches: the Trainer's loss does not feed it.",
                fix="pass the callback to the loss too: compute_loss_func=make_compute_loss(task, monitor=callback).",
                code="monitor-not-fed",
            )
        if not self._steps.micro:
            return
        value = self._steps.loss_value()
        step, model, optimizer = state.global_step, kwargs.get("model"), kwargs.get("optimizer")
        if not math.isfinite(value):
            if optimizer is not None:
                optimizer.zero_grad(set_to_none=True)  # the step then changes no weight
        elif model is not None:
            scaler = getattr(optimizer, "scaler", None)
            if scaler is not None and scaler.is_enabled():  # fp16: clipping unscales the gradients first
                scale = 1.0 if args.max_grad_norm and args.max_grad_norm > 0 else float(scaler.get_scale())
                self.monitor.after_backward(model, step=step, scale=scale, loss_scaling=True)
            else:
                self.monitor.after_backward(model, step=step)
        self._steps.finish(value, step=step, epoch=max(self._epoch, 0))

    def on_epoch_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Read the pending logit statistics."""
        self.monitor.flush()

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Read the pending logit statistics."""
        self.monitor.flush()


class ComputeLoss:
    """A logitlab loss as a ``Trainer(compute_loss_func=...)``; see the module docstring.

    Args:
        loss_fn (nn.Module): a logitlab (or any ``(logits, targets)``) loss; moved to the logits' device.
        task (Task or str): ``"binary"``, ``"multilabel"`` or ``"multiclass"``; the labels are checked for it.
        monitor (HealthMonitorCallback, optional): fed every training micro-batch. Default: ``None``.
        check_every_batch (bool): run the full :func:`~logitlab.targets.prepare_targets` check (values too:
            a few host reads) on every batch; by default it runs on the first batch of each label layout
            (dtype, shape past the batch axis, device) and later batches only get its dtype. Default: ``False``.
    """

    def __init__(
        self,
        loss_fn: nn.Module,
        task: Task | str,
        *,
        monitor: HealthMonitorCallback | None = None,
        check_every_batch: bool = False,
    ) -> None:
        self.loss_fn, self.task, self.monitor = loss_fn, Task.from_str(task), monitor
        self.check_every_batch = check_every_batch
        self._layout: tuple[Any, ...] | None = None
        self._dtype: torch.dtype | None = None
        self._device: torch.device | None = None
        if monitor is not None and monitor.monitor.loss_fn is None:
            monitor.monitor.loss_fn = loss_fn

    def __call__(self, outputs: Any, labels: Any, num_items_in_batch: Any = None) -> Tensor:
        """The loss of one batch: ``(outputs, labels, num_items_in_batch=None) -> Tensor[]``."""
        logits = _logits_of(outputs)
        targets = self._targets(labels, logits)
        if self._device != logits.device:
            self.loss_fn.to(logits.device)
            self._device = logits.device
        loss = self.loss_fn(logits.float(), targets)
        if self.monitor is not None and logits.requires_grad:  # training, not evaluation or predict
            self.monitor.record(logits, targets, loss)
        if num_items_in_batch is None:
            return loss
        return loss * (labels.numel() / num_items_in_batch)

    def _targets(self, labels: Any, logits: Tensor) -> Tensor:
        if labels is None:
            raise TargetError(
                "compute_loss_func got labels=None: the batches carry no `labels`.",
                fix="name the targets column 'labels' (or set TrainingArguments(label_names=[...])).",
                code="no-labels",
            )
        layout = (labels.dtype, tuple(labels.shape[1:]), labels.ndim, tuple(logits.shape[1:]), labels.device)
        if self.check_every_batch or layout != self._layout:
            targets = prepare_targets(labels, self.task, outputs=logits)
            self._layout, self._dtype = layout, targets.dtype
            return targets
        return labels if labels.dtype == self._dtype else labels.to(self._dtype)


def make_compute_loss(
    task: Task | str,
    name: str = "auto",
    *,
    monitor: HealthMonitorCallback | None = None,
    check_every_batch: bool = False,
    **options: Any,
) -> ComputeLoss:
    """Build ``make_loss(task, name, **options)`` as a ``compute_loss_func`` for the Hugging Face ``Trainer``.

    Args:
        task (Task or str): ``"binary"``, ``"multilabel"`` or ``"multiclass"``.
        name (str): a loss of :data:`~logitlab.losses.LOSS_NAMES` (``"bce"``, ``"focal"``, ``"asl"``, ``"ce"``,
            ...). Default: ``"auto"`` (BCE for sigmoid tasks, cross entropy for multi-class).
        monitor (HealthMonitorCallback, optional): the callback to feed. Default: ``None``.
        check_every_batch (bool): see :class:`ComputeLoss`. Default: ``False``.
        **options: the loss's options: ``pos_weight=`` (sigmoid, ``Tensor[L]``), ``weight=`` (class weights,
            ``Tensor[C]``), ``gamma=``, ...

    Returns:
        ComputeLoss: call it as ``loss(outputs, labels, num_items_in_batch=None)``.

    Raises:
        ConfigError: from :func:`~logitlab.losses.make_loss` (unknown loss, option or family mismatch).
    """
    return ComputeLoss(
        make_loss(task, name, **options), task, monitor=monitor, check_every_batch=check_every_batch
    )


def tune_from_predictions(
    output: Any, task: Task | str, *, objective: Any = "f1", beta: float = 1.0
) -> Thresholds:
    """Tune thresholds from ``Trainer.predict(dataset)`` output (or an ``EvalPrediction``) on validation data.

    Args:
        output (PredictionOutput or EvalPrediction): its ``predictions`` are the logits (the first array
            when the model returns several) and its ``label_ids`` the targets.
        task (Task or str): the task.
        objective (str or tuple): see :func:`~logitlab.evaluate.tune_thresholds`. Default: ``"f1"``.
        beta (float): the F-beta weight of recall. Default: ``1.0``.

    Returns:
        Thresholds: one threshold per label (sigmoid tasks) or a bias per class (multi-class).

    Raises:
        TargetError: the output has no ``label_ids``, or they do not fit the task and the logits.
    """
    predictions = output.predictions
    if isinstance(predictions, (tuple, list)):
        predictions = predictions[0]
    if output.label_ids is None:
        raise TargetError(
            "Trainer.predict output has no label_ids: the dataset had no labels.",
            fix="predict on a labelled validation split (with a 'labels' column).",
            code="no-labels",
        )
    logits = torch.as_tensor(np.asarray(predictions, dtype=np.float32))
    targets = prepare_targets(np.asarray(output.label_ids), task, outputs=logits)
    return tune_thresholds(logits, targets, task=task, objective=objective, beta=beta)


def _logits_of(outputs: Any) -> Tensor:
    if isinstance(outputs, Tensor):
        return outputs
    if isinstance(outputs, Mapping) and isinstance(outputs.get("logits"), Tensor):
        return outputs["logits"]
    if isinstance(outputs, (tuple, list)) and outputs and isinstance(outputs[0], Tensor):
        return outputs[0]
    raise ConfigError(
        f"compute_loss_func expects the model outputs to hold `logits`; got {type(outputs).__name__}"
        + (f" with keys {sorted(outputs)}" if isinstance(outputs, Mapping) else "")
        + ".",
        fix="return a ModelOutput / dict with 'logits', or a tuple whose first item is the logits.",
        code="missing-logits",
    )
