"""The trainer's callback protocol: the eight hooks, the ``Callback`` base class, ``StepInfo`` and ``TrainerView``.

This module sits at the bottom of the package (it imports nothing from logitlab, not even under
``TYPE_CHECKING``) so that any layer can define a callback: the doctor's
:class:`~logitlab.doctor.HealthMonitor` subclasses ``Callback`` here, and the trainer (above the doctor)
installs it, without the doctor importing the trainer. The hooks are typed with :class:`TrainerView`,
what a callback may read on the trainer (and ``should_stop``, which it may set);
:class:`~logitlab.train.Trainer` has all of it. ``logitlab.train.Callback`` and ``logitlab.train.StepInfo``
are these classes.

Hooks, in the order a run calls them (each takes the :class:`~logitlab.train.Trainer` first)::

    on_fit_start(trainer)
      on_epoch_start(trainer, epoch)
        on_after_backward(trainer, step)        # per optimizer step: grads present, before unscale/clip/step
        on_train_batch_end(trainer, info)       # per optimizer step: a StepInfo
      on_validation_end(trainer, epoch, metrics)
      on_epoch_end(trainer, epoch, logs)        # logs: the epoch's history row
    on_fit_end(trainer)
    on_exception(trainer, exc)                  # instead of on_fit_end when the run fails

Only the hooks a callback overrides are called, so an unused hook costs nothing in the training loop.

Examples:
    >>> class Count(Callback):
    ...     def __init__(self):
    ...         self.epochs = 0
    ...     def on_epoch_end(self, trainer, epoch, logs):
    ...         self.epochs += 1
    >>> cb = Count(); cb.on_fit_start(None); cb.on_epoch_end(None, 0, {}); cb.epochs
    1
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import Tensor, nn

__all__ = ["HOOKS", "Callback", "StepInfo", "TrainerView", "bound_hooks"]

HOOKS: tuple[str, ...] = (
    "on_fit_start",
    "on_epoch_start",
    "on_train_batch_end",
    "on_after_backward",
    "on_validation_end",
    "on_epoch_end",
    "on_fit_end",
    "on_exception",
)


@dataclass(slots=True)
class StepInfo:
    """One optimizer step, as ``on_train_batch_end`` sees it.

    Attributes:
        step (int): the global optimizer step (from 0). epoch (int): the epoch (from 0).
        batch_idx (int): the index, within the epoch, of the step's last micro-batch.
        logits (Tensor[B, ...]): the last micro-batch's outputs (detached). targets (Tensor): its targets.
        loss (Tensor[]): the step's loss (detached; the mean over micro-batches and ranks).
        loss_value (float or None): ``loss`` read on the host (the trainer reads it every step).
    """

    step: int
    epoch: int
    batch_idx: int
    logits: Tensor
    targets: Tensor
    loss: Tensor
    loss_value: float | None = None


class RunConfig(Protocol):
    """The options of a run that the built-in callbacks read (a :class:`~logitlab.train.TrainConfig` has them)."""

    @property
    def epochs(self) -> int:
        """Epochs in the run."""

    @property
    def log_every(self) -> int:
        """Optimizer steps between progress updates."""


class TrainerView(Protocol):
    """What a callback may read on the trainer that calls it, and ``should_stop``, which it may set."""

    should_stop: bool  #: set to end the run after the current epoch

    @property
    def model(self) -> nn.Module:
        """The network being trained."""

    @property
    def config(self) -> RunConfig:
        """The run's options."""

    @property
    def optimizer(self) -> torch.optim.Optimizer | None:
        """The optimizer (set up when the run starts)."""

    @property
    def scheduler(self) -> Any:
        """The learning-rate schedule (a ``LambdaLR``; set up when the run starts)."""

    @property
    def history(self) -> list[dict[str, Any]]:
        """One row per finished epoch."""

    @property
    def run_dir(self) -> Path | None:
        """Where the run's files go (rank 0), or ``None``."""

    @property
    def is_main_process(self) -> bool:
        """True on rank 0."""

    @property
    def start_epoch(self) -> int:
        """The first epoch of this fit (after a resume: the checkpoint's next)."""

    @property
    def steps_per_epoch(self) -> int:
        """Optimizer steps in an epoch."""

    @property
    def epoch_samples(self) -> int:
        """Rows of the current epoch trained on so far."""

    def save_checkpoint(self, names: Iterable[str] = ("last",)) -> Path | None:
        """Write a checkpoint (rank 0) and point ``names`` at it."""


class Callback:
    """Base class: every hook is a no-op; override the ones you need (see the module docstring)."""

    def on_fit_start(self, trainer: TrainerView) -> None:
        """Before the first epoch (after setup and resume)."""

    def on_epoch_start(self, trainer: TrainerView, epoch: int) -> None:
        """Before the first batch of ``epoch``."""

    def on_train_batch_end(self, trainer: TrainerView, batch: StepInfo) -> None:
        """After each optimizer step."""

    def on_after_backward(self, trainer: TrainerView, step: int) -> None:
        """Gradients are in ``.grad`` (scaled if fp16), before unscale, clipping and the optimizer step."""

    def on_validation_end(self, trainer: TrainerView, epoch: int, metrics: dict[str, float]) -> None:
        """After validation; ``metrics`` keys are prefixed ``val_``."""

    def on_epoch_end(self, trainer: TrainerView, epoch: int, logs: dict[str, float]) -> None:
        """After validation; ``logs`` is the epoch's history row (train and validation metrics)."""

    def on_fit_end(self, trainer: TrainerView) -> None:
        """After the last epoch (or an early stop)."""

    def on_exception(self, trainer: TrainerView, exc: BaseException) -> None:
        """The run failed with ``exc`` (it is re-raised after every callback has seen it)."""


def bound_hooks(callbacks: Iterable[Any]) -> dict[str, list[Callable[..., None]]]:
    """Per hook name, the callbacks' methods that override :class:`Callback`'s no-op, in order.

    Only these are called, so an unused hook costs nothing in the training loop.
    """
    callbacks = list(callbacks)
    return {
        name: [
            getattr(cb, name)
            for cb in callbacks
            if getattr(type(cb), name, None) is not getattr(Callback, name, None)
        ]
        for name in HOOKS
    }
