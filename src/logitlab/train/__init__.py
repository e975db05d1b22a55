"""Training: ``TrainConfig``, the ``Trainer`` loop, callbacks, schedules, checkpoints and DDP helpers.

Examples:
    >>> from logitlab.train import TrainConfig
    >>> TrainConfig(epochs=2).epochs
    2
"""

from __future__ import annotations

from ..data.batches import BalancedSampler, InMemoryLoader
from ._state import RunState
from .callbacks import (
    Callback,
    CheckpointCallback,
    CSVLogger,
    EarlyStopping,
    ProgressBar,
    ReduceLROnPlateau,
    RestoreBestWeights,
    StepInfo,
)
from .checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from .config import TrainConfig
from .full_batch import fit_full_batch
from .schedule import build_scheduler, lr_factor
from .trainer import History, Trainer

__all__ = [
    "BalancedSampler",
    "CSVLogger",
    "Callback",
    "CheckpointCallback",
    "Checkpoint",
    "EarlyStopping",
    "History",
    "InMemoryLoader",
    "ProgressBar",
    "ReduceLROnPlateau",
    "RestoreBestWeights",
    "RunState",
    "StepInfo",
    "TrainConfig",
    "Trainer",
    "build_scheduler",
    "fit_full_batch",
    "load_checkpoint",
    "lr_factor",
    "save_checkpoint",
]
