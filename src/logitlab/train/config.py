"""``TrainConfig``: every training option in one frozen, validated dataclass.

Validation happens once, in ``__post_init__``; a bad value raises :class:`~logitlab.errors.ConfigError`
naming the field, the value, what was expected and a fix. ``to_dict()`` / ``from_dict()`` round-trip the
config through JSON, so a run can be reproduced from its saved configuration.

Examples:
    >>> cfg = TrainConfig(epochs=3, lr=3e-4, precision="bf16")
    >>> TrainConfig.from_dict(cfg.to_dict()) == cfg
    True
    >>> TrainConfig(precision="16", device="cpu")
    Traceback (most recent call last):
    ...
    logitlab.errors.ConfigError: Expected `precision` "fp16" only on CUDA (it needs a GradScaler); got device='cpu'.
    Fix: use precision="bf16" on CPU, or device="cuda".
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from ..options import OPTIONS, PRECISIONS, Mode, NanPolicy, Optimizer, Precision, Schedule

__all__ = [
    "MODES",
    "NAN_POLICIES",
    "OPTIMIZERS",
    "PRECISIONS",
    "SCHEDULES",
    "TrainConfig",
]

# the option sets and their Literal types live in logitlab.options (OPTIONS: values, default, check, message)
OPTIMIZERS: tuple[str, ...] = OPTIONS["optimizer"].values
SCHEDULES: tuple[str, ...] = OPTIONS["schedule"].values
MODES: tuple[str, ...] = OPTIONS["mode"].values
NAN_POLICIES: tuple[str, ...] = OPTIONS["nan_policy"].values


def _fail(name: str, value: Any, expected: str, fix: str) -> ConfigError:
    return ConfigError(f"Expected `{name}` {expected}; got {value!r}.", fix=fix, code=f"bad-{name}")


@dataclass(frozen=True)
class TrainConfig:
    """The training options (nanoGPT-style: one typed object, a comment per field).

    ``batch_size`` is the *global* batch: under ``torchrun`` with ``W`` processes each rank takes
    ``batch_size // W`` rows per step, so 1 and ``W`` processes take the same optimizer steps.
    """

    # --- optimisation ---
    optimizer: Optimizer = "adamw"  # "adamw" (decoupled weight decay) or "sgd" (with `momentum`)
    lr: float = 1e-3  # peak learning rate, reached at the end of warmup
    weight_decay: float = 0.01  # L2 (sgd) or decoupled (adamw) weight decay; 0 turns it off
    momentum: float = 0.9  # SGD momentum; ignored by adamw
    epochs: int = 10  # passes over the training data
    batch_size: int = 64  # global batch per micro-step (summed over ranks); must divide by world size
    accumulation_steps: int = 1  # micro-batches per optimizer step (effective batch = batch_size * this)
    grad_clip: float | None = None  # clip the total gradient norm to this value; None turns clipping off
    # --- learning-rate schedule (per optimizer step) ---
    schedule: Schedule = "cosine"  # after warmup: "cosine" decay to `min_lr`, or "constant"
    warmup_steps: int = 0  # linear warmup steps from lr/(warmup+1); 0 -> use warmup_ratio
    warmup_ratio: float = 0.0  # warmup as a fraction of all optimizer steps (when warmup_steps == 0)
    min_lr: float = 0.0  # the learning rate cosine reaches at the last optimizer step
    # --- numerics ---
    precision: Precision = "fp32"  # "fp32", "bf16" autocast (CPU or GPU), "fp16" autocast + GradScaler (CUDA)
    nan_policy: NanPolicy = "stop"  # on a non-finite loss: "stop" (TrainingError) or "skip" the step
    health_monitor: bool = (
        True  # doctor.HealthMonitor: logit stats, gradient norms, loss spikes (~2% step time)
    )
    # --- early stopping and checkpoints ---
    monitor: str = "val_loss"  # the metric early stopping and the "best" checkpoint watch
    mode: Mode = "min"  # "min" if lower `monitor` is better, "max" if higher
    patience: int | None = None  # epochs without improvement before stopping; None turns it off
    min_delta: float = 0.0  # the smallest change of `monitor` that counts as an improvement
    checkpoint_every: int = 1  # save "last" every N epochs (needs a run_dir); 0 turns checkpoints off
    checkpoint_every_steps: int = 0  # also save "last" every N optimizer steps mid-epoch; 0: epoch ends only
    resume: str | None = None  # a checkpoint path, "auto" (run_dir's last checkpoint if any) or None
    # --- data ---
    shuffle: bool = True  # reshuffle the training data each epoch (seeded by seed + epoch)
    drop_last: bool = False  # drop the last incomplete global batch of each epoch
    balanced: bool = False  # class-balanced sampling with replacement (BalancedSampler) instead of shuffle
    num_workers: int = 0  # DataLoader workers for torch Datasets (in-memory tensors need none)
    # --- run ---
    seed: int = 0  # seeds torch/numpy/random (plus the rank) and the data order
    device: str = "auto"  # "auto" (CUDA if available), "cpu", "cuda", "cuda:N" or "mps"
    log_every: int = 10  # refresh the progress bar every N optimizer steps
    progress: bool = True  # show a rich progress bar (only on a terminal, only on rank 0)
    dist_timeout_s: float = 600.0  # process-group timeout: a failed rank ends the others after this long

    def __post_init__(self) -> None:
        precision = OPTIONS["precision"].aliases.get(str(self.precision), self.precision)
        object.__setattr__(self, "precision", precision)  # frozen: the alias is the same setting
        self._check_choices()
        self._check_numbers()
        self._check_combinations()

    def _check_choices(self) -> None:
        for name in ("optimizer", "precision", "schedule", "mode", "nan_policy"):
            OPTIONS[name].check(getattr(self, name))  # precision: its aliases were resolved above
        dev = self.device
        if not isinstance(dev, str) or not (dev in ("auto", "cpu", "cuda", "mps") or dev.startswith("cuda:")):
            raise _fail("device", dev, "to be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'", "use device='auto'.")
        if not isinstance(self.monitor, str) or not self.monitor:
            raise _fail("monitor", self.monitor, "to be a metric name", "use monitor='val_loss'.")
        if self.resume is not None and not isinstance(self.resume, str):
            raise _fail("resume", self.resume, "to be None, 'auto' or a path string", "pass str(path).")

    def _check_numbers(self) -> None:
        positive_ints = ("epochs", "batch_size", "accumulation_steps", "log_every")
        for name in positive_ints:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise _fail(name, value, "to be an int >= 1", f"use {name}=1 or more.")
        for name in ("warmup_steps", "checkpoint_every", "checkpoint_every_steps", "num_workers", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise _fail(name, value, "to be an int >= 0", f"use {name}=0.")
        if self.patience is not None and (not isinstance(self.patience, int) or self.patience < 1):
            raise _fail("patience", self.patience, "to be None or an int >= 1", "use patience=5.")
        for name in ("lr", "dist_timeout_s"):
            value = getattr(self, name)
            if not _is_number(value) or not value > 0 or not math.isfinite(value):
                raise _fail(name, value, "to be a finite number > 0", f"use {name}={_DEFAULTS[name]}.")
        for name in ("weight_decay", "momentum", "min_lr", "min_delta"):
            value = getattr(self, name)
            if not _is_number(value) or not value >= 0 or not math.isfinite(value):
                raise _fail(name, value, "to be a finite number >= 0", f"use {name}={_DEFAULTS[name]}.")
        if not _is_number(self.warmup_ratio) or not 0 <= self.warmup_ratio < 1:
            raise _fail("warmup_ratio", self.warmup_ratio, "to be in [0, 1)", "use warmup_ratio=0.05.")
        if self.grad_clip is not None and (not _is_number(self.grad_clip) or not self.grad_clip > 0):
            raise _fail("grad_clip", self.grad_clip, "to be None or a number > 0", "use grad_clip=1.0.")

    def _check_combinations(self) -> None:
        if self.warmup_steps and self.warmup_ratio:
            raise ConfigError(
                f"Expected one of `warmup_steps` and `warmup_ratio`; got both ({self.warmup_steps}, {self.warmup_ratio}).",
                fix="set the other to 0.",
                code="bad-warmup",
            )
        if self.min_lr > self.lr:
            raise ConfigError(
                f"Expected `min_lr` <= `lr`; got min_lr={self.min_lr} > lr={self.lr}.",
                fix=f"use min_lr={self.lr / 100:g} (lr / 100) or 0.",
                code="bad-min_lr",
            )
        if self.precision == "fp16":
            if self.device in ("cpu", "mps") or (self.device == "auto" and not _cuda_available()):
                raise ConfigError(
                    f'Expected `precision` "fp16" only on CUDA (it needs a GradScaler); got device={self.device!r}.',
                    fix='use precision="bf16" on CPU, or device="cuda".',
                    code="fp16-needs-cuda",
                )

    def to_dict(self) -> dict[str, Any]:
        """All fields as a JSON-serialisable dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Rebuild a config from :meth:`to_dict` output; unknown keys raise ``ConfigError``."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(
                f"Expected TrainConfig fields; got unknown key(s) {unknown}.",
                fix=f"remove them; known fields: {sorted(names)}.",
                code="unknown-config-key",
            )
        return cls(**data)

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)


_DEFAULTS = {f.name: f.default for f in dataclasses.fields(TrainConfig)}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())
