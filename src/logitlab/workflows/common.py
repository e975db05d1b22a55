"""What every workflow shares: reading data with the CLI's options, the demo runs, headline metrics, named labels."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..data import DatasetBundle
    from ..estimator import Classifier

__all__ = [
    "DEMOS",
    "HEADLINE_METRICS",
    "Echo",
    "headline",
    "is_main_process",
    "load_data",
    "model_metrics",
    "named_labels",
]

Echo = Callable[[str], Any]

DEMOS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("breast_cancer", "builtin:breast_cancer", {"epochs": 30}),
    ("digits-attributes", "builtin:digits-attributes", {"epochs": 30}),
    ("digits", "builtin:digits", {"epochs": 30}),
)
"""The demo runs: (name, data spec, Classifier parameters)."""

HEADLINE_METRICS: Mapping[str, tuple[str, ...]] = {
    "binary": ("roc_auc", "average_precision", "f1", "accuracy"),
    "multilabel": ("roc_auc", "f1_macro", "f1_micro", "subset_accuracy", "hamming_loss"),
    "multiclass": ("accuracy", "f1_macro", "roc_auc", "balanced_accuracy"),
}
"""The metrics a one-line summary shows, per task."""


def is_main_process() -> bool:
    """Rank 0 of a ``torchrun`` launch (or a plain process): the one that writes and prints."""
    return int(os.environ.get("RANK", "0")) == 0


def load_data(spec: str, load: Mapping[str, Any], *, task: str = "auto", seed: int = 0) -> DatasetBundle:
    """:func:`~logitlab.data.load_dataset` with the CLI's reading options (``None`` means the default)."""
    from ..data import load_dataset

    options = {k: v for k, v in load.items() if v is not None}
    return load_dataset(spec, task=None if task == "auto" else task, seed=seed, **options)


def model_metrics(clf: Classifier, logits: Any, targets: Any) -> dict[str, Any]:
    """:func:`~logitlab.evaluate.compute_metrics` of ``clf``'s logits, with its thresholds, calibration and names."""
    from ..evaluate import compute_metrics

    return dict(
        compute_metrics(
            logits,
            targets,
            task=clf.task_,
            thresholds=clf.thresholds_,
            calibration=clf.calibration_,
            label_names=list(clf.label_names_),
        )
    )


def headline(task: str, metrics: Mapping[str, Any]) -> str:
    """The task's headline metrics as ``name=value`` pairs (every float metric when none of them is there)."""
    parts = [f"{k}={metrics[k]:.4f}" for k in HEADLINE_METRICS[task] if isinstance(metrics.get(k), float)]
    if not parts:
        parts = [f"{k}={v:.4f}" for k, v in metrics.items() if isinstance(v, float)]
    return ", ".join(parts)


def named_labels(labels: Any, bundle: DatasetBundle) -> Any:
    """Labels with their names, so the doctor's findings name the labels/classes rather than indices."""
    import numpy as np
    import pandas as pd

    if bundle.task.value == "multilabel":
        return pd.DataFrame(labels.numpy().astype(int), columns=[str(n) for n in bundle.label_names])
    classes = np.asarray([str(c) for c in bundle.label_encoder.classes], dtype=object)
    return classes[labels.numpy().reshape(len(labels), -1)[:, 0].round().astype(int)]
