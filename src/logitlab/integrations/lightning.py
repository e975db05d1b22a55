"""logitlab's training doctor as a PyTorch Lightning callback (extra ``logitlab[lightning]``).

:class:`HealthMonitorCallback` runs the checks of :class:`~logitlab.doctor.HealthMonitor` (it drives one):
running logit statistics, gradient norms, loss spikes, and NaN/Inf fail-fast with the same finding codes and
the same :class:`~logitlab.errors.TrainingError` (code ``nonfinite-loss``, naming the step, epoch, batch,
loss term and cause) as logitlab's own ``Trainer``.

The contract: ``training_step`` returns a dict with ``loss`` (the scalar to minimise), ``logits`` (the
model's raw outputs, ``Tensor[B, ...]``) and ``targets`` (what the loss was computed against)::

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self.net(x)
        loss = self.loss_fn(logits, y)
        return {"loss": loss, "logits": logits, "targets": y}

How it hooks in (automatic optimization): ``on_before_backward`` keeps each micro-batch's loss on the device;
``on_before_optimizer_step`` (after the backward of the step's last micro-batch, before Lightning clips and
steps) reads the step's loss once, and on NaN/Inf drops the gradients so the step changes no weight (as
logitlab's ``Trainer`` does), else computes the gradient norm every ``grad_every`` steps (already unscaled under
``precision="16-mixed"``); ``on_train_batch_end`` hands the logits and targets to the monitor and raises the
``TrainingError`` for a NaN step. ``step`` is Lightning's ``global_step`` (optimizer steps, from 0),
``epoch`` its ``current_epoch``, ``batch`` the index within the epoch of the step's last micro-batch.
Under DDP the loss is averaged over the ranks first, so every rank stops at the same step.

Examples:
    >>> callback = HealthMonitorCallback(log_every=10)
    >>> callback.monitor.log_every, callback.report().ok
    (10, True)
"""

from __future__ import annotations

import math
from typing import Any

from torch import Tensor

from ..doctor.findings import Report
from ..doctor.monitor import HealthMonitor
from ..errors import ConfigError
from ..extras import require_extra
from ._steps import StepBuffer

require_extra("lightning")

from lightning.pytorch import Callback, LightningModule, Trainer  # noqa: E402

__all__ = ["CONTRACT_KEYS", "HealthMonitorCallback"]

CONTRACT_KEYS: tuple[str, ...] = ("loss", "logits", "targets")  # what training_step returns


class HealthMonitorCallback(Callback):
    """Watch a Lightning run with logitlab's :class:`~logitlab.doctor.HealthMonitor`.

    Args:
        monitor (HealthMonitor, optional): the monitor to drive. Default: a new one built from ``options``.
        **options: keyword arguments of :class:`~logitlab.doctor.HealthMonitor` (``log_every``,
            ``grad_every``, ``loss_fn``, ``fail_fast``, ...). ``loss_fn`` defaults to the module's ``loss_fn``
            attribute, if it has one (it is named in NaN reports).

    Attributes:
        monitor (HealthMonitor): its ``report()``, ``history`` and ``grad_norms`` are the run's health.
    """

    def __init__(self, monitor: HealthMonitor | None = None, **options: Any) -> None:
        self._steps = StepBuffer.of(monitor, options)
        self.monitor = self._steps.monitor
        self._losses: list[Tensor] = []
        self._pending: tuple[int, float] | None = None  # (step, loss value) read before the optimizer step

    def report(self) -> Report:
        """The findings so far (a :class:`~logitlab.doctor.Report`)."""
        return self.monitor.report()

    # ---- Lightning hooks ------------------------------------------------------------------------
    def on_fit_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        """Name the module's ``loss_fn`` in reports unless one was given."""
        if self.monitor.loss_fn is None:
            self.monitor.loss_fn = getattr(pl_module, "loss_fn", None)

    def on_before_backward(self, trainer: Trainer, pl_module: LightningModule, loss: Tensor) -> None:
        """Keep the micro-batch's loss (as Lightning backpropagates it: divided by the accumulation, scaled)."""
        self._losses.append(loss.detach())

    def on_before_optimizer_step(self, trainer: Trainer, pl_module: LightningModule, optimizer: Any) -> None:
        """Read the step's loss once; drop NaN gradients, else check the gradient norm."""
        losses, self._losses = self._losses, []
        if not losses:  # manual optimization without manual_backward: nothing to read
            return
        scaler = getattr(trainer.precision_plugin, "scaler", None)
        factor = float(trainer.accumulate_grad_batches)
        if scaler is not None:
            factor /= float(scaler.get_scale())
        value = self._steps.loss_value(losses) * factor
        step = trainer.global_step
        self._pending = (step, value)
        if not math.isfinite(value):
            optimizer.zero_grad(set_to_none=True)  # the step then changes no weight
            return
        self.monitor.after_backward(pl_module, step=step, loss_scaling=scaler is not None)

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        """Hand the step's logits and targets to the monitor (raises ``TrainingError`` on NaN/Inf)."""
        if outputs is None:  # training_step returned None: Lightning skipped the step
            return
        logits, targets, loss = _unpack(outputs)
        self._steps.add(batch_idx, logits, targets, loss)
        if self._pending is not None:  # this micro-batch closed an optimizer step
            (step, value), self._pending = self._pending, None
            self._steps.finish(value, step=step, epoch=trainer.current_epoch)

    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        """Read the pending logit statistics."""
        self.monitor.flush()

    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        """Read the pending logit statistics."""
        self.monitor.flush()


def _unpack(outputs: Any) -> tuple[Tensor, Tensor, Tensor]:
    if isinstance(outputs, dict) and all(isinstance(outputs.get(k), Tensor) for k in CONTRACT_KEYS):
        return outputs["logits"], outputs["targets"], outputs["loss"]
    got = sorted(outputs) if isinstance(outputs, dict) else type(outputs).__name__
    raise ConfigError(
        f"HealthMonitorCallback reads {', '.join(CONTRACT_KEYS)} (tensors) from what training_step returns; "
        f"got {got}.",
        fix='return {"loss": loss, "logits": logits, "targets": targets} from training_step.',
        code="step-outputs-contract",
    )
