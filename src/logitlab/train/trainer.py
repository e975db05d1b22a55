"""The training loop: mixed precision, accumulation, clipping, warmup + cosine, NaN guard, DDP, resume.

The step reads like nanoGPT's ``train.py``: forward under autocast, scale the loss for accumulation,
backward (without gradient sync on the non-final micro-steps under DDP), unscale, clip, step, update
the scaler, zero the gradients, step the schedule. The loss is read on the host once per optimizer
step (for the progress bar and the NaN guard); nothing else syncs.

Run it in one process, or with ``torchrun --nproc_per_node N script.py``: the trainer detects the
launch, starts gloo (CPU) or nccl (CUDA), wraps the model in ``DistributedDataParallel``, shards the
data by global batch, averages the metrics over ranks and writes files on rank 0 only.

Beside this module: ``_state`` (device, optimizer, seeds, autocast, checkpoint state, ``RunState``, restore),
``_data`` (loaders), ``_evaluation`` (validation loss/metrics and ``predict``), ``distributed``
(process group, collectives, peer-failure errors), ``callbacks`` and ``checkpoint``. The built-in
``HealthMonitor`` comes from :mod:`logitlab.doctor`, which sits below this package (it imports only
:mod:`logitlab.hooks` for the callback base), so nothing here imports upwards.

Examples:
    >>> import torch
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> x = torch.randn(256, 4); y = (x[:, :1] > 0).float()
    >>> model = torch.nn.Linear(4, 1)
    >>> cfg = TrainConfig(epochs=20, batch_size=32, lr=0.05, progress=False)
    >>> history = Trainer(model, torch.nn.BCEWithLogitsLoss(), cfg).fit((x, y), (x, y))
    >>> history[-1]["val_loss"] < history[0]["val_loss"]
    True
"""

from __future__ import annotations

import contextlib
import math
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from ..doctor import HealthMonitor, explain_nonfinite
from ..errors import CheckpointError, ConfigError, LogitlabError, LogitlabWarning, TrainingError
from ..hooks import TrainerView, bound_hooks
from . import _data, _evaluation
from ._state import (
    History,
    RunState,
    autocast,
    build_optimizer,
    checkpoint_state,
    checkpoint_to_resume,
    resolve_device,
    restore,
    seed_everything,
)
from .callbacks import Callback, CheckpointCallback, CSVLogger, EarlyStopping, ProgressBar, StepInfo
from .checkpoint import save_checkpoint, write_json_atomic
from .config import TrainConfig
from .distributed import all_reduce_mean, detect, init_process_group, peer_failure, shutdown
from .schedule import build_scheduler, resolve_warmup

__all__ = ["History", "Trainer"]

MetricsFn = Callable[[Tensor, Tensor], dict[str, Any]]


class Trainer:
    """Train a model that returns logits with a loss, following a :class:`TrainConfig`.

    Args:
        model (nn.Module): returns logits for a batch of inputs.
        loss_fn (callable): ``loss_fn(logits, targets) -> Tensor[]`` (mean over the batch).
        config (TrainConfig, optional): the options. Default: ``TrainConfig()``.
        callbacks (sequence of Callback): extra callbacks (after the built-in ones). Default: none.
        run_dir (path, optional): where ``metrics.csv``, ``train_config.json`` and ``checkpoints/`` go
            (rank 0). Default: nothing is written.
        metrics_fn (callable, optional): ``metrics_fn(logits, targets) -> dict`` on the whole validation
            set (gathered over ranks); its scalar values are logged as ``val_<name>``.

    Attributes:
        history (History): one row per epoch. epoch, global_step (int): the position in the run.
        should_stop (bool): set by a callback to end the run after the current epoch.
        health (HealthMonitor or None): the run's health monitor (``config.health_monitor``, or one passed
            in ``callbacks``); ``health.report()`` lists what it saw.
    """

    def __init__(
        self,
        model: nn.Module,
        loss_fn: Callable[[Tensor, Tensor], Tensor],
        config: TrainConfig | None = None,
        *,
        callbacks: Sequence[Callback] = (),
        run_dir: str | Path | None = None,
        metrics_fn: MetricsFn | None = None,
    ) -> None:
        self.config = config if config is not None else TrainConfig()
        self.dist = detect()
        self.device = resolve_device(self.config.device, self.dist.local_rank)
        self.model, self.loss_fn, self.metrics_fn = model, loss_fn, metrics_fn
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.user_callbacks = list(callbacks)
        self.optimizer: torch.optim.Optimizer | None = None
        self.scheduler: torch.optim.lr_scheduler.LambdaLR | None = None
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.config.precision == "fp16")
        self.history = History()
        self.epoch = self.global_step = self.start_epoch = self.steps_per_epoch = 0
        self.epoch_samples = self.skipped_steps = 0
        self.position: dict[str, Any] | None = None  # mid-epoch: where the epoch stands (checkpoints, resume)
        self.should_stop = False
        self._engine: nn.Module = model
        self.health: HealthMonitor | None = None  # the HealthMonitor watching this run (set by fit)
        self.callbacks: list[Callback] = []
        self._hooks = bound_hooks(())  # set by fit: per hook, the callbacks' overriding methods

    @property
    def is_main_process(self) -> bool:
        """True on rank 0 (always, in a single process)."""
        return self.dist.is_main

    # ---- fit -------------------------------------------------------------------------------------
    def fit(self, train: Any, val: Any = None) -> History:
        """Train for ``config.epochs`` epochs (or until a callback stops it) and return the history.

        Args:
            train: ``(x, y)`` tensors, an object with ``.x``/``.y``, a torch ``Dataset`` of ``(x, y)`` items,
                or your own ``DataLoader`` / ``InMemoryLoader``.
            val: the same kinds, or ``None``; evaluated after every epoch (``val_loss``, ``val_<metric>``).

        Raises:
            TrainingError: a non-finite loss with ``nan_policy="stop"``, naming the batch.
            CheckpointError: ``resume`` points at a missing or damaged checkpoint.
        """
        cfg = self.config
        if val is None and cfg.patience is not None and cfg.monitor.startswith("val_"):
            raise ConfigError(
                f"Early stopping (patience={cfg.patience}) monitors {cfg.monitor!r}, but fit() got no validation data.",
                fix="pass fit(train, val), or patience=None.",
                code="monitor-needs-val",
            )
        started = init_process_group(self.dist, self.device, timeout_s=self.config.dist_timeout_s)
        try:
            loader = self._setup(train)
            self._resume()
            self._call("on_fit_start")
            for epoch in range(self.start_epoch, self.config.epochs):
                if self.should_stop:  # resumed from a run that had already stopped early
                    break
                self.epoch = epoch
                self._call("on_epoch_start", epoch)
                logs = self._train_epoch(loader, epoch)
                if val is not None:
                    metrics = {f"val_{k}": v for k, v in _evaluation.evaluate(self, val).items()}
                    self._call("on_validation_end", epoch, metrics)
                    logs.update(metrics)
                self.history.append(logs)
                self._call("on_epoch_end", epoch, logs)
                if self.should_stop:
                    break
            self._call("on_fit_end")
        except BaseException as exc:
            for hook in self._hooks["on_exception"]:
                with contextlib.suppress(Exception):  # the original error matters more
                    hook(self, exc)
            failure = peer_failure(
                exc, self.dist, epoch=self.epoch, step=self.global_step, timeout_s=cfg.dist_timeout_s
            )
            if failure is not None:
                raise failure from exc
            raise
        finally:
            if started:
                shutdown()
        return self.history

    def _setup(self, train: Any) -> Iterable[Any]:
        cfg = self.config
        seed_everything(cfg.seed + self.dist.rank)
        self.model.to(self.device)
        self._engine = self.model
        if self.dist.enabled:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self._engine = DistributedDataParallel(self.model, device_ids=ids)
        loader = _data.train_loader(train, cfg, self.dist, self.device)
        self.steps_per_epoch = -(-len(loader) // cfg.accumulation_steps)  # type: ignore[arg-type]
        if self.steps_per_epoch == 0:
            raise TrainingError(
                "Expected at least one training batch; got an empty loader.",
                fix="pass more rows than batch_size, or drop_last=False.",
                code="empty-train",
            )
        total = cfg.epochs * self.steps_per_epoch
        self.optimizer = build_optimizer(self.model, cfg, self.device, distributed=self.dist.enabled)
        warmup = resolve_warmup(total, cfg.warmup_steps, cfg.warmup_ratio)
        self.scheduler = build_scheduler(
            self.optimizer, total_steps=total, warmup_steps=warmup, min_lr=cfg.min_lr, schedule=cfg.schedule
        )
        self.callbacks = self._default_callbacks() + self.user_callbacks
        if cfg.progress:
            self.callbacks.append(ProgressBar())
        self._hooks = bound_hooks(self.callbacks)
        # a checkpoint holds every callback's state after the epoch (early stopping's count, the best
        # epoch): the checkpoint writers end the epoch, so a resumed run picks up where this one stood
        self._hooks["on_epoch_end"].sort(
            key=lambda hook: isinstance(getattr(hook, "__self__", None), CheckpointCallback)
        )
        if self.run_dir is not None and self.is_main_process:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            write_json_atomic(self.run_dir / "train_config.json", cfg.to_dict())
        return loader

    def _default_callbacks(self) -> list[Callback]:
        cfg, out = self.config, list[Callback]()
        if cfg.patience is not None:
            out.append(
                EarlyStopping(cfg.monitor, mode=cfg.mode, patience=cfg.patience, min_delta=cfg.min_delta)
            )
        if cfg.health_monitor and not any(isinstance(cb, HealthMonitor) for cb in self.user_callbacks):
            out.append(HealthMonitor(loss_fn=self.loss_fn, fail_fast=cfg.nan_policy == "stop"))
        self.health = next((cb for cb in [*out, *self.user_callbacks] if isinstance(cb, HealthMonitor)), None)
        if self.run_dir is not None:
            out.append(CSVLogger())
            if cfg.checkpoint_every:
                out.append(CheckpointCallback(cfg.checkpoint_every, monitor=cfg.monitor, mode=cfg.mode))
        return out

    def _call(self, name: str, *args: Any) -> None:
        view: TrainerView = self  # what the hooks are typed to read (checked here by mypy)
        for hook in self._hooks[name]:
            hook(view, *args)

    # ---- the loop --------------------------------------------------------------------------------
    def _train_epoch(self, loader: Any, epoch: int) -> dict[str, Any]:
        cfg, engine, device = self.config, self._engine, self.device
        engine.train()
        target: Any = loader if hasattr(loader, "set_epoch") else getattr(loader, "sampler", None)
        if hasattr(target, "set_epoch"):  # the order of epoch e is seeded by seed + e (exact resume)
            target.set_epoch(epoch)
        n_batches, k = len(loader), cfg.accumulation_steps
        ddp = isinstance(engine, DistributedDataParallel)
        micro: list[tuple[int, Tensor, Tensor, Tensor]] = []
        at, self.position = self.position or {"batches": 0, "loss_total": 0.0, "steps": 0, "samples": 0}, None
        loss_total, steps, start = float(at["loss_total"]), int(at["steps"]), time.perf_counter()
        self.epoch_samples = int(at["samples"])
        batches = _data.resume_batches(loader, int(at["batches"]))
        for batch_idx, batch in enumerate(batches, start=int(at["batches"])):
            x, y = _data.split_batch(batch)
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            group_start = batch_idx - batch_idx % k
            group_size = min(k, n_batches - group_start)
            final_micro = batch_idx - group_start == group_size - 1
            sync = contextlib.nullcontext() if final_micro or not ddp else engine.no_sync()  # type: ignore[operator]
            with sync:
                with autocast(cfg.precision, device):
                    logits = engine(x)
                loss = self.loss_fn(logits.float(), y)
                # scale the loss to account for gradient accumulation
                self.scaler.scale(loss / group_size if group_size > 1 else loss).backward()
            micro.append((batch_idx, logits.detach(), y, loss.detach()))
            self.epoch_samples += len(x) * self.dist.world_size
            if final_micro:
                value = self._optimizer_step(micro, epoch)
                if value is not None:
                    loss_total, steps = loss_total + value, steps + 1
                micro = []
                if batch_idx + 1 < n_batches:
                    self._mid_epoch_checkpoint(
                        {"batches": batch_idx + 1, "loss_total": loss_total, "steps": steps}
                    )
        seconds = time.perf_counter() - start
        lr = self.optimizer.param_groups[0]["lr"] if self.optimizer is not None else math.nan
        return {
            "epoch": epoch + 1,  # 1-based, as the progress line prints it
            "train_loss": loss_total / steps if steps else math.nan,
            "lr": lr,
            "seconds": seconds,
            "samples_per_s": self.epoch_samples / seconds if seconds > 0 else math.nan,
        }

    def _optimizer_step(self, micro: list[tuple[int, Tensor, Tensor, Tensor]], epoch: int) -> float | None:
        cfg, opt = self.config, self.optimizer
        assert opt is not None and self.scheduler is not None
        loss = micro[0][3] if len(micro) == 1 else torch.stack([m[3] for m in micro]).mean()
        if self.dist.enabled:  # every rank must agree on NaN, so the mean over ranks is what is read
            loss = all_reduce_mean(loss.float().clone())
        value = loss.item()  # the one host sync per optimizer step
        if not math.isfinite(value):
            self._nonfinite(micro, epoch, value)
            opt.zero_grad(set_to_none=True)
            return None
        self._call("on_after_backward", self.global_step)
        if cfg.grad_clip is not None:
            self.scaler.unscale_(opt)
            nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
        self.scaler.step(opt)
        self.scaler.update()
        opt.zero_grad(set_to_none=True)
        self.scheduler.step()
        if self._hooks["on_train_batch_end"]:
            batch_idx, logits, y, _ = micro[-1]
            info = StepInfo(self.global_step, epoch, batch_idx, logits, y, loss, value)
            self._call("on_train_batch_end", info)
        self.global_step += 1
        return value

    def _mid_epoch_checkpoint(self, position: dict[str, Any]) -> None:
        """Write ``last`` mid-epoch every ``checkpoint_every_steps`` optimizer steps, with the epoch's position."""
        every = self.config.checkpoint_every_steps
        if every and self.run_dir is not None and self.global_step % every == 0:
            self.position = {**position, "samples": self.epoch_samples}
            self.save_checkpoint(("last",))
            self.position = None

    def _nonfinite(self, micro: list[tuple[int, Tensor, Tensor, Tensor]], epoch: int, value: float) -> None:
        """Raise TrainingError explaining the first non-finite micro-batch, or warn and skip the step."""
        bad = next((m for m in micro if not torch.isfinite(m[3]).all()), None)
        if self.config.nan_policy == "skip":
            self.skipped_steps += 1
            where = f"batch {bad[0]}" if bad is not None else "a batch on another rank"
            warnings.warn(
                f"Skipped optimizer step {self.global_step} (epoch {epoch}, {where}): the loss is {value}.",
                LogitlabWarning,
                stacklevel=3,
            )
            return
        if bad is None:
            raise TrainingError(
                f"The loss is {value} at step {self.global_step} (epoch {epoch}) on another rank; rank {self.dist.rank}'s batches were finite.",
                fix="see the other rank's error for the batch and its diagnosis.",
                code="nonfinite-loss",
            )
        batch_idx, logits, y, _ = bad
        text = explain_nonfinite(
            logits, y, self.loss_fn, step=self.global_step, epoch=epoch, batch_idx=batch_idx
        )
        message, _, fix = text.partition("\nFix: ")
        raise TrainingError(message, fix=fix or None, code="nonfinite-loss")

    # ---- evaluation ------------------------------------------------------------------------------
    def evaluate(self, data: Any) -> dict[str, float]:
        """The mean loss (``"loss"``) and ``metrics_fn`` metrics over ``data`` (all ranks' rows under DDP)."""
        return _evaluation.evaluate(self, data)

    def predict(self, data: Any) -> Tensor:
        """Logits for every row of ``data`` in order, on the CPU (gathered over ranks under DDP).

        Args:
            data: an ``x`` tensor, ``(x, y)``, an object with ``.x``, or a Dataset of ``x`` / ``(x, y)`` items.

        Returns:
            Tensor[N, ...]: float32 logits.
        """
        return _evaluation.predict(self, data)

    # ---- checkpoints -----------------------------------------------------------------------------
    def checkpoint_state(self) -> tuple[dict[str, Tensor], dict[str, Any], dict[str, Any]]:
        """(model state, tensor state, JSON meta) of the run now; collective under DDP (RNG states gathered)."""
        return checkpoint_state(self)

    def save_checkpoint(self, names: Iterable[str] = ("last",)) -> Path | None:
        """Write a checkpoint to ``run_dir/checkpoints`` (rank 0) and point ``names`` at it."""
        model_state, state, meta = self.checkpoint_state()
        if self.run_dir is None or not self.is_main_process:
            return None
        return save_checkpoint(self.run_dir / "checkpoints", model_state, state, meta, names=tuple(names))

    def _resume(self) -> None:
        ckpt = checkpoint_to_resume(self.config.resume, self.run_dir)
        if ckpt is None:
            return  # a fresh run
        try:
            assert self.optimizer is not None and self.scheduler is not None  # set up by _setup
            state = restore(
                ckpt, self.model, self.optimizer, self.scheduler, self.scaler, self.dist, self.config
            )
            self.apply_run_state(state)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError, RecursionError) as exc:
            if isinstance(exc, LogitlabError):
                raise
            raise CheckpointError(  # a state.pt or meta.json edited with matching checksums
                f"The checkpoint {ckpt.path} does not hold a resumable state ({type(exc).__name__}: {exc!s:.200}).",
                fix="resume from another checkpoint (best.json) or start over.",
                code="checkpoint-unreadable",
            ) from None

    def apply_run_state(self, state: RunState) -> None:
        """Take back where a checkpointed run stood: its history, position, next epoch and step, callbacks' states."""
        self.history, self.position = state.history, state.position
        self.start_epoch, self.global_step = state.start_epoch, state.global_step
        for cb in self.callbacks:
            if type(cb).__name__ in state.callbacks and hasattr(cb, "load_state_dict"):
                cb.load_state_dict(state.callbacks[type(cb).__name__])
