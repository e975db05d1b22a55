"""What a Classifier fits on: the bundle made from ``X`` and ``y``, its label classes, and the untrained network.

Only the :mod:`logitlab.estimator` package imports this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ConfigError
from ..features import as_features, as_frame, as_targets

if TYPE_CHECKING:
    from torch import nn

    from ..data import DatasetBundle
    from ._crossfit import Plan

__all__ = ["as_classes", "build_network", "make_bundle", "refuse_soft_labels", "sorted_classes"]


def make_bundle(clf: Any, X: Any, y: Any) -> tuple[DatasetBundle, np.ndarray | None, int | None]:
    """A bundle from ``X, y`` (labels encoded, validation split, preprocessing fitted on train only).

    ``clf`` gives the parameters and ``seed_``. Returns the bundle, the DataFrame's column names (``None``
    for arrays and bundles) and the feature count of 2-D ``X`` (``None`` for bundles and images).
    """
    import pandas as pd

    from ..data import DatasetBundle, from_arrays
    from ..models.hf import is_hf
    from ..tasks import Task
    from ._hf import hf_bundle

    if isinstance(X, DatasetBundle):
        if y is not None:
            raise ConfigError(
                "Got a DatasetBundle and labels `y`; a bundle brings its own labels.",
                fix="call fit(bundle) without y.",
                code="bundle-with-y",
            )
        if clf.task != "auto" and Task.from_str(clf.task) is not X.task:
            raise ConfigError(
                f"Classifier(task={clf.task!r}) but the bundle was loaded for task {X.task.value!r}.",
                fix="pass task= to load_dataset, or leave Classifier(task='auto').",
                code="task-mismatch",
            )
        return (*hf_bundle(clf, X, None), None) if is_hf(clf.model) else (X, None, None)
    if y is None:
        raise ConfigError(
            f"{type(clf).__name__} requires y to be passed, but the target y is None.",
            fix="call fit(X, y) with one label (or label row) per row of X.",
            code="missing-y",
        )
    if is_hf(clf.model):  # one text column -> token ids
        return (*hf_bundle(clf, X, y), None)
    features = as_frame(X) if isinstance(X, pd.DataFrame) else as_features(X)
    bundle = from_arrays(
        features,
        as_targets(y),
        task=None if clf.task == "auto" else clf.task,
        val_size=clf.val_size,
        test_size=0.0,
        seed=clf.seed_,
        standardize=bool(clf.standardize),
        numeric_scaling=clf.numeric_scaling,
        positive=clf.positive,
        text_columns=clf.text_columns,
        label_map=clf.label_map,
    )
    if isinstance(X, pd.DataFrame):
        return bundle, np.asarray([str(c) for c in X.columns], dtype=object), int(X.shape[1])
    return bundle, None, int(features.shape[1]) if features.ndim == 2 else None


def build_network(
    params: Mapping[str, Any],
    *,
    seed: int,
    bundle: DatasetBundle,
    plan: Plan,
    input_shape: tuple[int, ...],
    n_outputs: int,
    task: str,
    sparse_input: bool,
) -> tuple[nn.Module, list[str]]:
    """The untrained network of ``params["model"]`` (one member per entry of ``plan``), and notes about it."""
    import torch

    from ..models import build_model
    from ..models.hf import build_hf, is_hf
    from ._choices import resolve_lr
    from ._hf import hf_notes

    model_options = dict(params["model_options"] or {})
    if "prior" in model_options and task != "binary":
        model_options.setdefault("task", task)
    torch.manual_seed(seed)
    model: nn.Module
    if is_hf(params["model"]):
        pad = bundle.preprocessor.pad_token_id
        model, built = build_hf(
            params["model"], n_outputs=n_outputs, task=task, options=params["model_options"], pad_token_id=pad
        )
        return model, [*built, *hf_notes(resolve_lr(params["lr"], params["model"]).lr)]
    model = build_model(
        params["model"],
        input_shape=input_shape,
        n_outputs=n_outputs,
        ensemble=len(plan.members),
        sparse_input=sparse_input,
        **model_options,
    )
    return model, []


def refuse_soft_labels(bundle: Any) -> None:
    """``TargetError`` (``soft-labels``) before training on fractional binary labels (probabilities, not classes).

    A classifier's thresholds, calibration and metrics need class labels; refused up front rather than
    at the first validation.
    """
    from ..errors import TargetError

    enc = getattr(bundle, "label_encoder", None)
    if enc is None or not enc.soft:
        return
    y = bundle.train.y.reshape(-1) if len(bundle.train) else None
    frac = [float(v) for v in (y[(y > 0) & (y < 1)][:3].tolist() if y is not None else [])]
    shown = f" (e.g. {', '.join(f'{v:g}' for v in frac)})" if frac else ""
    raise TargetError(
        f"The labels are fractions in [0, 1]{shown}, not classes: logitlab trains classifiers, whose "
        "thresholds, calibration and metrics need class labels.",
        fix="give class labels such as 0/1 (for example 1 where the fraction is at least 0.5), or keep "
        "only the rows labelled exactly 0 or 1.",
        code="soft-labels",
    )


def sorted_classes(classes: list[Any]) -> list[Any]:
    """Classes in scikit-learn's order (``np.unique``'s): sorted; by their text when they do not compare."""
    try:
        return sorted(classes)
    except TypeError:
        return sorted(classes, key=str)


def as_classes(classes: list[Any]) -> np.ndarray:
    """``classes_`` as scikit-learn keeps it: a 1-D array (object dtype when the types are mixed)."""
    arr = np.asarray(classes)
    if arr.ndim != 1 or arr.dtype.kind not in "biufUS":
        arr = np.empty(len(classes), dtype=object)
        arr[:] = classes
    return arr
