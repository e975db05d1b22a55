"""Drive a :class:`~logitlab.doctor.HealthMonitor` from another framework's hooks, one optimizer step at a time.

Lightning and the Hugging Face ``Trainer`` hand a callback the pieces of a step at different moments; both
collect the step's micro-batches here (detached, on the device), read the step's loss once, and finish the
step the way logitlab's own ``Trainer`` does: on a non-finite loss, the first non-finite micro-batch is
explained and the ``TrainingError`` (code ``nonfinite-loss``) raised; otherwise the last micro-batch is
recorded.

Examples:
    >>> import torch
    >>> from logitlab.doctor import HealthMonitor
    >>> steps = StepBuffer(HealthMonitor(log_every=1))
    >>> steps.add(0, torch.zeros(4, 1), torch.ones(4, 1), torch.tensor(0.69))
    >>> value = steps.loss_value()
    >>> steps.finish(value, step=0, epoch=0)
    >>> round(value, 2), steps.monitor.history[-1]["logit_absmax"]
    (0.69, 0.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor

from ..doctor.monitor import HealthMonitor
from ..errors import ConfigError, TrainingError

__all__ = ["StepBuffer"]


@dataclass(slots=True)
class _Micro:
    batch_idx: int
    logits: Tensor
    targets: Tensor
    loss: Tensor


class StepBuffer:
    """The micro-batches of the current optimizer step, and the monitor they are reported to.

    Args:
        monitor (HealthMonitor): the monitor that runs the checks.
    """

    def __init__(self, monitor: HealthMonitor) -> None:
        self.monitor = monitor
        self.micro: list[_Micro] = []
        self._world: int | None = None

    @classmethod
    def of(cls, monitor: HealthMonitor | None, options: dict[str, Any]) -> StepBuffer:
        """A buffer for ``monitor``, or for a new ``HealthMonitor(**options)`` (a callback's two ways to get one).

        Raises:
            ConfigError: both a monitor and options.
        """
        if monitor is not None and options:
            raise ConfigError(
                f"Expected either `monitor` or HealthMonitor options; got both (options {sorted(options)}).",
                fix="set the options on the HealthMonitor you pass, or pass only the options.",
            )
        return cls(monitor if monitor is not None else HealthMonitor(**options))

    def add(self, batch_idx: int, logits: Tensor, targets: Tensor, loss: Tensor) -> None:
        """Keep one micro-batch (detached; nothing is read on the host)."""
        self.micro.append(_Micro(batch_idx, logits.detach(), targets.detach(), loss.detach()))

    def loss_value(self, losses: list[Tensor] | None = None) -> float:
        """The step's mean loss, read once on the host (averaged over ranks when a process group is up).

        Args:
            losses (list of Tensor, optional): the losses to average. Default: the kept micro-batches'.
        """
        parts = [m.loss for m in self.micro] if losses is None else losses
        if len(parts) == 1 and parts[0].ndim == 0:
            mean = parts[0]
        else:
            mean = torch.stack([p.float().mean() for p in parts]).mean()
        if self._world is None:  # asked once: the process group is up before the first step
            self._world = dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1
        if self._world > 1:
            mean = mean.float().clone()
            dist.all_reduce(mean)  # every rank must agree on NaN, or the finite ones hang in the next step
            mean = mean / self._world
        return float(mean)

    def finish(self, value: float, *, step: int, epoch: int) -> None:
        """Report the step to the monitor and forget its micro-batches.

        Raises:
            TrainingError: (with the monitor's ``fail_fast``) code ``nonfinite-loss`` when ``value`` is
                NaN/Inf, explaining the first non-finite micro-batch like logitlab's ``Trainer``.
        """
        micro, self.micro = self.micro, []
        if not micro:
            return
        if math.isfinite(value):
            last = micro[-1]
            self.monitor.observe(
                last.logits, last.targets, step=step, epoch=epoch, batch_idx=last.batch_idx, loss_value=value
            )
            return
        bad = next((m for m in micro if not bool(torch.isfinite(m.loss).all())), None)
        if bad is None:
            if self.monitor.fail_fast:
                raise TrainingError(
                    f"The loss is {value} at step {step} (epoch {epoch}) on another rank; this rank's batches "
                    "were finite.",
                    fix="see the other rank's error for the batch and its diagnosis.",
                    code="nonfinite-loss",
                )
            bad = micro[-1]
        self.monitor.observe(
            bad.logits, bad.targets, step=step, epoch=epoch, batch_idx=bad.batch_idx, loss_value=value
        )
