"""Training health: running logit statistics, gradient norms, loss spikes and NaN/Inf fail-fast.

Cheap enough to leave on: logit statistics accumulate on the device and are read once per
``log_every`` steps; gradient norms are read every ``grad_every`` steps; the only per-step value
read is the loss the caller already reads (the trainer's ``loss_value``, or ``loss`` in
:meth:`HealthMonitor.observe`).

Layering: this module is part of the doctor, below the trainer. ``HealthMonitor`` subclasses the
callback base of :mod:`logitlab.hooks` (which imports nothing from logitlab), so it imports nothing
from :mod:`logitlab.train`; the trainer imports it from :mod:`logitlab.doctor` to install it when
``TrainConfig.health_monitor`` is on.

Examples:
    >>> import torch
    >>> monitor = HealthMonitor(log_every=1)
    >>> monitor.observe(torch.zeros(4, 1), torch.ones(4, 1), torch.tensor(0.69), step=0)
    >>> monitor.history[-1]["logit_absmax"]
    0.0
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from typing import Any

import torch
from torch import Tensor, nn

from ..errors import ConfigError, TrainingError
from ..hooks import Callback
from ._inspect import chance_loss, spec_of
from ._nonfinite import explain_nonfinite, nonfinite_parts
from ._outputs import CONSTANT_TOLERANCE
from .findings import Finding, Report, make_finding

__all__ = ["HealthMonitor", "explain_nonfinite"]

SATURATION = 17.0


class HealthMonitor(Callback):
    """Watch a training run: logit statistics, gradient norms, loss spikes, NaN/Inf fail-fast.

    Use it as a trainer callback, or in a plain loop::

        monitor = HealthMonitor(loss_fn=criterion)
        for step, (x, y) in enumerate(loader):
            logits = model(x); loss = criterion(logits, y)
            monitor.observe(logits, y, loss, step=step)   # raises TrainingError on NaN/Inf
            loss.backward(); monitor.after_backward(model, step=step); opt.step(); opt.zero_grad()
        print(monitor.report())

    Args:
        log_every (int): read the on-device logit statistics every this many steps. Default: ``50``.
        stats_every (int): add a step's logits to the statistics every this many steps. Default: ``5``.
        grad_every (int): compute the gradient norm every this many steps. Default: ``50``.
        spike_factor (float): a loss above ``spike_factor`` x the running median is a spike. Default: ``4.0``.
        window (int): how many recent loss values the running median uses. Default: ``50``.
        grad_explode (float): gradient norm called exploding. Default: ``1e3``.
        grad_vanish (float): gradient norm called vanishing. Default: ``1e-7``.
        loss_fn (callable, optional): the loss, named in NaN reports. Default: the trainer's, if any.
        fail_fast (bool): raise ``TrainingError`` on NaN/Inf loss, logits or gradients. Default: ``True``.
    """

    def __init__(
        self,
        *,
        log_every: int = 50,
        stats_every: int = 5,
        grad_every: int = 50,
        spike_factor: float = 4.0,
        window: int = 50,
        grad_explode: float = 1e3,
        grad_vanish: float = 1e-7,
        loss_fn: Any = None,
        fail_fast: bool = True,
    ) -> None:
        checked = (
            ("log_every", log_every),
            ("stats_every", stats_every),
            ("grad_every", grad_every),
            ("window", window),
        )
        for name, value in checked:
            if not isinstance(value, int) or value < 1:
                raise ConfigError(
                    f"Expected argument `{name}` to be an int >= 1; got {value!r}.", fix=f"use {name}=50."
                )
        if spike_factor <= 1:
            raise ConfigError(
                f"Expected `spike_factor` > 1; got {spike_factor}.", fix="use spike_factor=4.0."
            )
        self.log_every, self.stats_every, self.grad_every = log_every, stats_every, grad_every
        self.spike_factor = float(spike_factor)
        self.grad_explode, self.grad_vanish = grad_explode, grad_vanish
        self.loss_fn, self.fail_fast = loss_fn, fail_fast
        self.losses: deque[float] = deque(maxlen=window)
        self.history: list[dict[str, float]] = []
        self.grad_norms: list[tuple[int, float]] = []
        self._findings: dict[str, tuple[Finding, int]] = {}
        self._pending: list[Tensor] = []  # per sampled step: [sum, sum of squares, absmax], on the device
        self._count = 0
        self._last = (0, 0, 0)
        self._shape: tuple[int, ...] = ()

    # ---- plain-loop API -------------------------------------------------------------------------
    def observe(
        self,
        logits: Tensor,
        targets: Tensor | None = None,
        loss: Tensor | float | None = None,
        *,
        step: int,
        epoch: int = 0,
        batch_idx: int | None = None,
        loss_value: float | None = None,
    ) -> None:
        """Record one step. Reads ``loss`` once (the value the loop logs anyway) unless ``loss_value`` is given.

        Raises:
            TrainingError: (with ``fail_fast``) when the loss or the logits are NaN/Inf, naming the
                batch, the logit range and the loss term.
        """
        batch_idx = step if batch_idx is None else batch_idx
        self._last = (step, epoch, batch_idx)
        if step % self.stats_every == 0 and logits.numel():  # a few kernels, no host read
            x = logits.detach().float()
            spread = (x.amax(0) - x.amin(0)).amax() if x.ndim and x.shape[0] > 1 else x.new_tensor(math.inf)
            self._pending.append(torch.stack((x.sum(), x.square().sum(), x.abs().amax(), spread)))
            self._count += x.numel()
            self._shape = tuple(logits.shape)
        if loss_value is None and loss is not None:
            loss_value = float(loss.detach().float().mean()) if isinstance(loss, Tensor) else float(loss)
        if loss_value is not None:
            self._check_loss(loss_value, logits, targets, step, epoch, batch_idx)
        if (step + 1) % self.log_every == 0:
            self._flush(step, logits, targets)

    def after_backward(
        self, model: nn.Module, *, step: int, scale: float = 1.0, loss_scaling: bool | None = None
    ) -> float | None:
        """Every ``grad_every`` steps: the total gradient norm (divided by ``scale`` for fp16 loss scaling).

        ``loss_scaling`` says whether an fp16 gradient scaler will skip a step with non-finite gradients
        (then they are recorded, not raised); default: ``scale != 1.0``. Pass ``True`` with ``scale=1.0``
        when the loop has already unscaled the gradients (Lightning, Hugging Face after clipping).
        """
        if step % self.grad_every:
            return None
        grads = [p.grad.detach() for p in model.parameters() if p.grad is not None]
        if not grads:
            return None
        norms = torch.stack([torch.linalg.vector_norm(g.float()) for g in grads])
        total = float(torch.linalg.vector_norm(norms)) / scale
        self.grad_norms.append((step, total))
        if not math.isfinite(total):
            scaler_skips = (scale != 1.0) if loss_scaling is None else loss_scaling
            if scaler_skips:  # fp16 loss scaling: the scaler skips this step and lowers the scale
                return total
            self._note(
                "nonfinite-gradients",
                f"The gradient norm is {total} at step {step}.",
                "lower the learning rate, clip gradients, check inputs for NaN/Inf.",
            )
            if self.fail_fast:
                raise TrainingError(
                    f"Non-finite gradient norm ({total}) at step {step}.",
                    fix="lower the learning rate, clip gradients (max_norm=1.0), check the inputs.",
                    code="nonfinite-gradients",
                )
        elif total > self.grad_explode:
            self._note(
                "exploding-gradients",
                f"The gradient norm reached {total:.4g} at step {step}.",
                "clip gradients (max_norm=1.0), lower the learning rate, normalise the inputs.",
            )
        elif total < self.grad_vanish:
            self._note(
                "vanishing-gradients",
                f"The gradient norm fell to {total:.3g} at step {step}.",
                "check for dead ReLUs, saturated activations or a sigmoid/softmax before the loss.",
            )
        return total

    def flush(self) -> None:
        """Read the pending on-device logit statistics now (what the trainer does at each epoch's end).

        Raises:
            TrainingError: (with ``fail_fast``) code ``nonfinite-outputs`` when they hold NaN/Inf.
        """
        self._flush(self._last[0], None, None)

    def report(self) -> Report:
        """The findings so far (each code once, with how often it happened)."""
        items = []
        for finding, count in self._findings.values():
            suffix = f" (seen {count} times)" if count > 1 else ""
            items.append(Finding(finding.code, finding.severity, finding.message + suffix, finding.fix))
        return Report(items, title="logitlab doctor: training health")

    # ---- trainer callback API -------------------------------------------------------------------
    def on_train_batch_end(self, trainer: Any, batch: Any) -> None:
        """Trainer hook: records the step; the trainer itself raises on a non-finite loss."""
        if self.loss_fn is None:
            self.loss_fn = getattr(trainer, "loss_fn", None)
        self.observe(
            batch.logits,
            batch.targets,
            None,
            step=batch.step,
            epoch=batch.epoch,
            batch_idx=batch.batch_idx,
            loss_value=batch.loss_value,
        )

    def on_after_backward(self, trainer: Any, step: int) -> None:
        """Trainer hook: gradient norm every ``grad_every`` steps (unscaled when fp16 scaling is on)."""
        scaler = getattr(trainer, "scaler", None)
        scale = 1.0
        if (
            scaler is not None
            and step % self.grad_every == 0
            and getattr(scaler, "is_enabled", lambda: False)()
        ):
            scale = float(scaler.get_scale())
        self.after_backward(trainer.model, step=step, scale=scale)

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        """Trainer hook: read the pending statistics."""
        self._flush(self._last[0], None, None)

    def on_fit_end(self, trainer: Any) -> None:
        """Trainer hook: read the pending statistics."""
        self._flush(self._last[0], None, None)

    # ---- internals ------------------------------------------------------------------------------
    def _check_loss(
        self, value: float, logits: Tensor, targets: Tensor | None, step: int, epoch: int, batch_idx: int
    ) -> None:
        if not math.isfinite(value):
            self._note(
                "nonfinite-loss", f"The loss is {value} at step {step}.", "see the TrainingError text."
            )
            if self.fail_fast:
                tgt = targets if targets is not None else torch.zeros(0)
                message, fix = nonfinite_parts(
                    logits, tgt, self.loss_fn, step=step, epoch=epoch, batch_idx=batch_idx
                )
                raise TrainingError(message, fix=fix, code="nonfinite-loss")
            return
        if len(self.losses) >= 10:
            median = statistics.median(self.losses)
            if value > self.spike_factor * median and value - median > 0.05:
                self._note(
                    "loss-spike",
                    f"The loss jumped to {value:.4g} at step {step} (running median {median:.4g}).",
                    "lower the learning rate or add warmup, clip gradients, look for bad samples in that batch.",
                )
        self.losses.append(value)

    def _flush(self, step: int, logits: Tensor | None, targets: Tensor | None) -> None:
        if not self._pending:
            return
        rows = torch.stack(self._pending).double().tolist()  # the one read per log interval
        count, self._pending, self._count = self._count, [], 0
        total, sq, absmax = (sum(r[0] for r in rows), sum(r[1] for r in rows), max(r[2] for r in rows))
        spread = max(r[3] for r in rows)
        bad = not (math.isfinite(total) and math.isfinite(sq) and math.isfinite(absmax))
        mean = total / count
        std = math.sqrt(max(sq / count - mean * mean, 0.0)) if not bad else float("nan")
        self.history.append(
            {
                "step": float(step),
                "logit_mean": mean,
                "logit_std": std,
                "logit_absmax": absmax,
                "nonfinite": float(bad),
                "logit_spread": spread,
            }
        )
        if bad and self.fail_fast:
            step_, epoch, batch_idx = self._last
            if logits is not None and targets is not None:
                message, fix = nonfinite_parts(
                    logits, targets, self.loss_fn, step=step_, epoch=epoch, batch_idx=batch_idx
                )
            else:
                message, fix = (
                    f"Non-finite logits at or before step {step_} (epoch {epoch}, batch {batch_idx}).",
                    "lower the learning rate, clip gradients, check the inputs for NaN/Inf.",
                )
            raise TrainingError(message, fix=fix, code="nonfinite-outputs")
        if not bad and len(rows) >= 2 and spread <= CONSTANT_TOLERANCE * max(1.0, absmax):
            self._note_constant(len(rows), step, mean)
        if absmax > SATURATION:
            self._note(
                "saturated-logits",
                f"|logits| reached {absmax:.4g} by step {step} (mean {mean:.3g}, std {std:.3g}).",
                "add weight decay or label smoothing; tune thresholds on validation data.",
            )

    def _note_constant(self, sampled: int, step: int, mean: float) -> None:
        """The logits were identical across the batch in every sampled step of an interval."""
        level = ""
        if self.losses:
            loss = statistics.median(self.losses)
            family = spec_of(self.loss_fn).family or (
                "softmax" if len(self._shape) == 2 and self._shape[1] > 1 else "sigmoid"
            )
            n_cls = self._shape[1] if family == "softmax" and len(self._shape) >= 2 else 1
            chance = chance_loss(family, n_cls)
            at = f", the chance level ({'ln 2' if family == 'sigmoid' else f'ln {n_cls}'} = {chance:.4g})"
            level = f"; the loss sits at {loss:.4g}{at if abs(loss - chance) < 0.01 * chance else ''}"
        self._note(
            "constant-outputs",
            f"The logits were the same for every row of the batch in all {sampled} sampled steps up to step {step} "
            f"(mean {mean:.3g}): the model gives every input the same answer{level}.",
            "check that the inputs reach the model and differ (not all zeros, normalised, not detached), look for "
            "dead ReLUs, and lower the learning rate or add warmup if the model collapsed during training.",
        )

    def _note(self, code: str, message: str, fix: str) -> None:
        first, count = self._findings.get(code, (make_finding(code, message, fix), 0))
        self._findings[code] = (first, count + 1)
