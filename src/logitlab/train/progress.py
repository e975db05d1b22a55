"""The progress callback: a rich bar per epoch on a terminal (rank 0), one plain line per epoch otherwise."""

from __future__ import annotations

import math
import sys
import time
from typing import Any

from ..hooks import Callback, StepInfo, TrainerView

__all__ = ["ProgressBar", "epoch_line"]


class ProgressBar(Callback):
    """Training progress on rank 0: a rich bar per epoch on a terminal, one plain line per epoch otherwise.

    The plain line (for logs, ``tee`` and CI) reads
    ``epoch 3/30  train_loss 0.2314  val_loss 0.2551  val_f1 0.8123  41,870 samples/s``.

    Args:
        force (bool): show the live bar even when stdout is not a terminal (notebooks). Default: ``False``.
    """

    def __init__(self, *, force: bool = False) -> None:
        self.force = force
        self._progress: Any = None
        self._task: Any = None
        self._start = 0.0

    def _enabled(self, trainer: TrainerView) -> bool:
        return trainer.is_main_process and (self.force or sys.stdout.isatty())

    def _plain(self, trainer: TrainerView) -> bool:
        return trainer.is_main_process and not (self.force or sys.stdout.isatty())

    def on_epoch_start(self, trainer: TrainerView, epoch: int) -> None:
        """Open the bar for this epoch."""
        if not self._enabled(trainer):
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        if self._progress is None:
            self._progress = Progress(
                TextColumn("epoch {task.fields[epoch]}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                TextColumn("loss {task.fields[loss]}  {task.fields[speed]} samples/s"),
                transient=False,
            )
            self._progress.start()
        self._start = time.perf_counter()
        self._task = self._progress.add_task(
            "train",
            total=trainer.steps_per_epoch,
            epoch=f"{epoch + 1}/{trainer.config.epochs}",
            loss="-",
            speed="-",
        )

    def on_train_batch_end(self, trainer: TrainerView, batch: StepInfo) -> None:
        """Advance; refresh the loss and speed every ``log_every`` steps."""
        if self._task is None:
            return
        fields = {}
        if batch.step % trainer.config.log_every == 0 and batch.loss_value is not None:
            seconds = max(time.perf_counter() - self._start, 1e-9)
            fields = {"loss": f"{batch.loss_value:.4f}", "speed": f"{trainer.epoch_samples / seconds:,.0f}"}
        self._progress.update(self._task, advance=1, **fields)

    def on_epoch_end(self, trainer: TrainerView, epoch: int, logs: dict[str, float]) -> None:
        """Show the epoch's mean loss and speed (a plain line when not on a terminal)."""
        if self._plain(trainer):
            print(epoch_line(epoch, trainer.config.epochs, logs), flush=True)
        if self._task is not None:
            speed = f"{logs.get('samples_per_s', 0.0):,.0f}"
            self._progress.update(self._task, loss=f"{logs.get('train_loss', math.nan):.4f}", speed=speed)
            self._task = None

    def on_fit_end(self, trainer: TrainerView) -> None:
        """Close the bar."""
        self._close()

    def on_exception(self, trainer: TrainerView, exc: BaseException) -> None:
        """Close the bar."""
        self._close()

    def _close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress, self._task = None, None


def epoch_line(epoch: int, epochs: int, logs: dict[str, Any]) -> str:
    """One epoch's history row as a plain log line: the losses and validation metrics, then the speed.

    Examples:
        >>> epoch_line(2, 30, {"epoch": 2, "train_loss": 0.23141, "val_loss": 0.2551, "val_f1": 0.8, "lr": 1e-3})
        'epoch 3/30  train_loss 0.2314  val_loss 0.2551  val_f1 0.8000'
    """
    parts = [f"epoch {epoch + 1}/{epochs}"]
    for key, value in logs.items():
        if (key in ("train_loss", "val_loss") or key.startswith("val_")) and isinstance(value, (int, float)):
            parts.append(f"{key} {value:.4f}")
    if isinstance(logs.get("samples_per_s"), (int, float)):
        parts.append(f"{logs['samples_per_s']:,.0f} samples/s")
    return "  ".join(parts)
