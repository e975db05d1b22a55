"""The built-in callbacks: early stopping, checkpoints, ``metrics.csv`` and a progress bar (:mod:`.progress`).

The callback protocol (the eight hooks, the order a run calls them, ``Callback`` and ``StepInfo``)
lives in :mod:`logitlab.hooks`, below the doctor, so that the doctor's ``HealthMonitor`` can be a
``Callback`` without importing the trainer (the trainer imports the doctor); it is re-exported here
and as ``logitlab.train.Callback``. A callback may read ``trainer.model``, ``optimizer``,
``scheduler``, ``scaler``, ``config``, ``epoch``, ``global_step``, ``is_main_process``, ``run_dir``,
``history`` and set ``trainer.should_stop``.

Examples:
    >>> stop = EarlyStopping(monitor="val_loss", patience=2)
    >>> class T: should_stop = False
    >>> t = T()
    >>> for epoch, loss in enumerate([1.0, 0.9, 0.95, 0.93]):
    ...     stop.on_epoch_end(t, epoch, {"val_loss": loss})
    >>> t.should_stop, stop.best, stop.best_epoch
    (True, 0.9, 1)
"""

from __future__ import annotations

import csv
import io
import math
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from ..files import write_text_atomic
from ..hooks import HOOKS, Callback, StepInfo, TrainerView
from .progress import ProgressBar

if TYPE_CHECKING:
    from torch import Tensor


__all__ = [
    "HOOKS",
    "CSVLogger",
    "Callback",
    "CheckpointCallback",
    "EarlyStopping",
    "ProgressBar",
    "ReduceLROnPlateau",
    "RestoreBestWeights",
    "StepInfo",
]


def _improved(value: float, best: float, mode: str, min_delta: float) -> bool:
    return value < best - min_delta if mode == "min" else value > best + min_delta


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    Args:
        monitor (str): a key of the epoch logs, e.g. ``"val_loss"``. Default: ``"val_loss"``.
        mode (str): ``"min"`` or ``"max"``. Default: ``"min"``.
        patience (int): epochs without improvement before stopping. Default: ``5``.
        min_delta (float): the smallest change that counts as improvement. Default: ``0.0``.
    """

    def __init__(
        self, monitor: str = "val_loss", *, mode: str = "min", patience: int = 5, min_delta: float = 0.0
    ) -> None:
        if mode not in ("min", "max"):
            raise ConfigError(f"Expected `mode` 'min' or 'max'; got {mode!r}.", fix="use mode='min'.")
        if patience < 1:
            raise ConfigError(f"Expected `patience` >= 1; got {patience}.", fix="use patience=5.")
        self.monitor, self.mode, self.patience, self.min_delta = monitor, mode, patience, min_delta
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch, self.wait = -1, 0

    def on_fit_start(self, trainer: Any) -> None:
        """A run resumed after it had already decided to stop (``patience`` used up) trains no further."""
        if trainer.start_epoch > 0 and self.wait >= self.patience:
            trainer.should_stop = True

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        """Update the best value; ask the trainer to stop after ``patience`` epochs without improvement."""
        if self.monitor not in logs:
            raise ConfigError(
                f"EarlyStopping monitors {self.monitor!r}, which the epoch logs do not have; got {sorted(logs)}.",
                fix="pass validation data to fit(), or monitor one of the logged names.",
                code="unknown-monitor",
            )
        value = logs[self.monitor]
        if _improved(value, self.best, self.mode, self.min_delta):
            self.best, self.best_epoch, self.wait = value, epoch, 0
        else:
            self.wait += 1
            if self.wait >= self.patience:
                trainer.should_stop = True

    def state_dict(self) -> dict[str, Any]:
        """The state to checkpoint."""
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output."""
        self.best, self.best_epoch, self.wait = state["best"], state["best_epoch"], state["wait"]


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` after ``patience`` epochs without improvement of ``monitor``.

    Scales the trainer's schedule (``scheduler.base_lrs``, so a warmup or a ``"constant"`` schedule goes on
    from the lower rate, and a checkpoint keeps it). With ``max_reductions``, a run that has not improved for
    ``patience`` epochs after its last allowed reduction stops: the kept epoch then lies where the learning
    rate has annealed, which a cosine over a budget that early stopping cuts short never reaches.

    Args:
        monitor (str): a key of the epoch logs. Default: ``"val_loss"``.
        mode (str): ``"min"`` or ``"max"``. Default: ``"min"``.
        patience (int): epochs without improvement before each reduction. Default: ``5``.
        factor (float): the multiplier, in (0, 1). Default: ``0.25``.
        max_reductions (int, optional): reductions before the run stops at the next plateau. Default: none.

    Examples:
        >>> cb = ReduceLROnPlateau(patience=1, factor=0.5)
        >>> cb.patience, cb.factor, cb.reductions
        (1, 0.5, 0)
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        *,
        mode: str = "min",
        patience: int = 5,
        factor: float = 0.25,
        max_reductions: int | None = None,
    ) -> None:
        if mode not in ("min", "max"):
            raise ConfigError(f"Expected `mode` 'min' or 'max'; got {mode!r}.", fix="use mode='min'.")
        if patience < 1:
            raise ConfigError(f"Expected `patience` >= 1; got {patience}.", fix="use patience=5.")
        if not 0 < factor < 1:
            raise ConfigError(f"Expected `factor` in (0, 1); got {factor}.", fix="use factor=0.25.")
        self.monitor, self.mode, self.patience, self.factor = monitor, mode, patience, factor
        self.max_reductions = max_reductions
        self.best = math.inf if mode == "min" else -math.inf
        self.wait, self.reductions = 0, 0
        self.stopped = False  # the last reduction was used up: the run stopped

    def state_dict(self) -> dict[str, Any]:
        """The state to checkpoint (the reduced rates are the scheduler's, checkpointed with it)."""
        return {"best": self.best, "wait": self.wait, "reductions": self.reductions, "stopped": self.stopped}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output."""
        self.best, self.wait, self.reductions = state["best"], int(state["wait"]), int(state["reductions"])
        self.stopped = bool(state.get("stopped", False))

    def on_fit_start(self, trainer: Any) -> None:
        """A run resumed after this callback stopped it trains no further."""
        if trainer.start_epoch > 0 and self.stopped:
            trainer.should_stop = True

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        """Reduce the rate after ``patience`` epochs without improvement (stop after the last reduction)."""
        value = logs.get(self.monitor)
        if value is None:
            raise ConfigError(
                f"ReduceLROnPlateau monitors {self.monitor!r}, which the epoch logs do not have; got {sorted(logs)}.",
                fix="pass validation data to fit(), or monitor one of the logged names.",
                code="unknown-monitor",
            )
        if _improved(value, self.best, self.mode, 0.0):
            self.best, self.wait = value, 0
            return
        self.wait += 1
        if self.wait < self.patience:
            return
        self.wait = 0
        if self.max_reductions is not None and self.reductions >= self.max_reductions:
            trainer.should_stop = self.stopped = True
            return
        self.reductions += 1
        scheduler = trainer.scheduler
        scheduler.base_lrs = [lr * self.factor for lr in scheduler.base_lrs]
        for group, base, factor in zip(
            trainer.optimizer.param_groups, scheduler.base_lrs, scheduler.lr_lambdas
        ):
            group["lr"] = base * factor(scheduler.last_epoch)


class RestoreBestWeights(Callback):
    """Keep a CPU copy of the weights at the best ``monitor`` epoch and load it back when the run ends.

    Keras' ``restore_best_weights``: the model a run returns is the one of its best validation epoch,
    not its last. Under DDP ``monitor`` is averaged over the ranks, so every rank keeps the same epoch.
    A resumed run goes on with the best epoch of the checkpoint it resumes from: the value and epoch are
    checkpointed, and the weights are read back from the run's ``best`` checkpoint (written at that epoch
    when the checkpoint's ``monitor`` and ``mode`` are these; otherwise a warning says the search restarts).

    Args:
        monitor (str): a key of the epoch logs. Default: ``"val_loss"``.
        mode (str): ``"min"`` or ``"max"``. Default: ``"min"``.

    Attributes:
        best (float), best_epoch (int): the best value and its epoch (``-1`` before the first).
    """

    def __init__(self, monitor: str = "val_loss", *, mode: str = "min") -> None:
        if mode not in ("min", "max"):
            raise ConfigError(f"Expected `mode` 'min' or 'max'; got {mode!r}.", fix="use mode='min'.")
        self.monitor, self.mode = monitor, mode
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch = -1
        self._weights: dict[str, Tensor] | None = None

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        """Copy the weights when ``monitor`` improved (NaN never does)."""
        value = logs.get(self.monitor, math.nan)
        if math.isfinite(value) and _improved(value, self.best, self.mode, 0.0):
            self.best, self.best_epoch = value, epoch
            self._weights = {
                k: v.detach().to("cpu", copy=True) for k, v in trainer.model.state_dict().items()
            }

    def on_fit_end(self, trainer: Any) -> None:
        """Load the best epoch's weights back into the model."""
        if self._weights is not None:
            trainer.model.load_state_dict(self._weights)
            self._weights = None

    def state_dict(self) -> dict[str, Any]:
        """The state to checkpoint (the weights themselves are the run's ``best`` checkpoint)."""
        return {"best": self.best, "best_epoch": self.best_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output; :meth:`on_fit_start` reads the weights back."""
        self.best, self.best_epoch = state["best"], int(state["best_epoch"])
        self._weights = None

    def on_fit_start(self, trainer: Any) -> None:
        """After a resume: the best epoch's weights, from the run's ``best`` checkpoint of that epoch."""
        if self.best_epoch < 0 or self._weights is not None:
            return
        from ..errors import LogitlabWarning
        from .checkpoint import load_checkpoint

        root = trainer.run_dir / "checkpoints" if trainer.run_dir is not None else None
        try:
            ckpt = load_checkpoint(root, name="best") if root is not None else None
        except Exception:  # a missing or damaged best checkpoint: said below
            ckpt = None
        if ckpt is not None and ckpt.meta.get("epoch") == self.best_epoch and not ckpt.meta.get("position"):
            self._weights = ckpt.model_state
            return
        warnings.warn(
            f"The resumed run's best epoch ({self.best_epoch + 1}) has no `best` checkpoint to read its "
            "weights from; the best epoch is searched again from the epoch the run resumes at.",
            LogitlabWarning,
            stacklevel=2,
        )
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = -1


class CheckpointCallback(Callback):
    """Save ``last`` every ``every`` epochs (and at the end) and ``best`` when ``monitor`` improves.

    Files go to ``trainer.run_dir / "checkpoints"`` (see :mod:`logitlab.train.checkpoint`); only rank 0
    writes, but every rank calls :meth:`Trainer.checkpoint_state` (it gathers the ranks' RNG states).
    """

    def __init__(self, every: int = 1, *, monitor: str = "val_loss", mode: str = "min") -> None:
        self.every, self.monitor, self.mode = every, monitor, mode
        self.best = math.inf if mode == "min" else -math.inf
        self._unsaved: int | None = None  # an epoch trained since the last "last"

    def on_fit_start(self, trainer: TrainerView) -> None:
        """Nothing trained yet in this fit."""
        self._unsaved = None

    def on_epoch_end(self, trainer: TrainerView, epoch: int, logs: dict[str, float]) -> None:
        """Write ``last`` every ``every`` epochs and ``best`` when the monitored value improves."""
        if trainer.run_dir is None:
            return
        names = []
        value = logs.get(self.monitor)
        if value is not None and _improved(value, self.best, self.mode, 0.0):
            self.best = value
            names.append("best")
        if (epoch + 1) % self.every == 0 or epoch + 1 == trainer.config.epochs:
            names.append("last")
        self._unsaved = None if "last" in names else epoch
        if names:
            trainer.save_checkpoint(names)

    def on_fit_end(self, trainer: TrainerView) -> None:
        """An early stop between two saves: write ``last`` for the final epoch."""
        if trainer.run_dir is not None and self._unsaved is not None:
            trainer.save_checkpoint(["last"])
            self._unsaved = None

    def state_dict(self) -> dict[str, Any]:
        """The state to checkpoint."""
        return {"best": self.best}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output."""
        self.best = state["best"]


class CSVLogger(Callback):
    """Write the history to ``metrics.csv`` (one row per epoch; rank 0 only; atomic rewrite each epoch).

    Args:
        path (path, optional): the file. Default: ``trainer.run_dir / "metrics.csv"``.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else None

    def on_epoch_end(self, trainer: TrainerView, epoch: int, logs: dict[str, float]) -> None:
        """Rewrite the file from ``trainer.history`` (so a resumed run never duplicates rows)."""
        path = self.path or (trainer.run_dir / "metrics.csv" if trainer.run_dir is not None else None)
        if path is None or not trainer.is_main_process:
            return
        columns: list[str] = []
        for row in trainer.history:
            columns.extend(k for k in row if k not in columns)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(trainer.history)
        write_text_atomic(path, out.getvalue())
