"""The Classifier's parameter checks that need no data, its seed and its device.

Only the :mod:`logitlab.estimator` package imports this module.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..options import (
    CALIBRATION_METHODS,
    DEVICES,
    IMBALANCE_STRATEGIES,
    MAX_SEED,
    NUMERIC_SCALINGS,
    OBJECTIVE_SPELLINGS,
    PRECISION_ALIASES,
    PRECISIONS,
    TASK_CHOICES,
    VAL_SIZE,
    choices_text,
)

__all__ = ["check_params", "is_int", "resolve_device", "resolve_seed"]


def is_int(v: Any, low: int) -> bool:
    return bool(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= low)


def _is_number(v: Any) -> bool:
    return (
        isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool) and math.isfinite(v)
    )


def check_params(p: Mapping[str, Any]) -> None:
    """Check every Classifier parameter that needs no data; a ``ConfigError`` names the first bad one."""
    from ..evaluate import check_objective
    from ._crossfit import check_cv

    checks = [
        (
            "calibration",
            p["calibration"] in CALIBRATION_METHODS,
            f"one of {choices_text(CALIBRATION_METHODS)}",
        ),
        ("task", p["task"] in TASK_CHOICES, f"one of {choices_text(TASK_CHOICES)}"),
        ("epochs", p["epochs"] == "auto" or is_int(p["epochs"], 1), "epochs='auto' or a number such as 30"),
        ("batch_size", is_int(p["batch_size"], 1), "batch_size=64"),
        ("ensemble", is_int(p["ensemble"], 1), "ensemble=1 (one network) or a small number such as 5"),
        ("cv", check_cv(p["cv"]), "cv='auto', cv=5 (5-fold cross-fitting) or cv=1 (one validation split)"),
        (
            "lr",
            p["lr"] == "auto" if isinstance(p["lr"], str) else _is_number(p["lr"]) and p["lr"] > 0,
            "lr=1e-3, or lr='auto' (1e-3; 5e-5 with a warmup for hf: models)",
        ),
        (
            "weight_decay",
            p["weight_decay"] == "auto"
            if isinstance(p["weight_decay"], str)
            else _is_number(p["weight_decay"]) and p["weight_decay"] >= 0,
            "weight_decay=1e-4 (a number >= 0), or weight_decay='auto' (1e-4; 0.01 for the sparse model)",
        ),
        ("val_size", _is_number(p["val_size"]) and 0 <= p["val_size"] < 1, f"val_size={VAL_SIZE}"),
        (
            "random_state",
            _is_random_state(p["random_state"]),
            f"random_state=0 (an integer from 0 to {MAX_SEED}: NumPy's and scikit-learn's seeds are 32-bit)",
        ),
        (
            "seed",
            p.get("seed") is None or (is_int(p["seed"], 0) and p["seed"] <= MAX_SEED),
            f"random_state=0 (an integer from 0 to {MAX_SEED}; `seed` is deprecated)",
        ),
        ("imbalance", p["imbalance"] in IMBALANCE_STRATEGIES, f"one of {choices_text(IMBALANCE_STRATEGIES)}"),
        (
            "numeric_scaling",
            p["numeric_scaling"] in NUMERIC_SCALINGS,
            f"one of {choices_text(NUMERIC_SCALINGS)}",
        ),
        (
            "precision",
            p["precision"] in (*PRECISIONS, *PRECISION_ALIASES),
            f"one of {choices_text(PRECISIONS)}",
        ),
        ("device", _is_device(p["device"]), f"one of {choices_text(DEVICES)} (or 'cuda:N')"),
        ("model", isinstance(p["model"], str), "model='mlp'"),
        ("loss", isinstance(p["loss"], str), "loss='auto'"),
        ("positive", p.get("positive") is None or _is_label(p["positive"]), "positive='yes' (a class of y)"),
        (
            "text_columns",
            p.get("text_columns", "auto") == "auto"
            or (
                isinstance(p.get("text_columns"), (list, tuple))
                and all(isinstance(c, str) for c in p["text_columns"])
            ),
            "text_columns='auto' (detected), a list of column names, or [] (none)",
        ),
    ]
    for name, ok, fix in checks:
        if not ok:
            raise ConfigError(
                f"Got an invalid value for argument `{name}`: {p[name]!r}.",
                fix=f"use {fix}.",
                code="bad-param",
                param=name,
            )
    if p.get("label_map") is not None:
        from ..data.label_map import parse_label_map

        parse_label_map(p["label_map"])  # a ConfigError naming label_map
    if isinstance(p["cv"], (int, np.integer)) and p["cv"] > 1 and p["ensemble"] > 1:
        raise ConfigError(
            f"Got cv={p['cv']} and ensemble={p['ensemble']}: cross-fitting already averages {p['cv']} fold "
            "models, each early-stopped on its own fold.",
            fix=f"use cv={p['cv']} alone, or ensemble={p['ensemble']} with cv=1 (a seed ensemble on one split).",
            code="bad-param",
            param="ensemble",
        )
    if p["model"] == "linear" and p["ensemble"] > 1:  # cross-fitted linear fold models are an Ensemble
        raise ConfigError(
            f"Got ensemble={p['ensemble']} with model 'linear'; its fit is convex and deterministic, so every "
            "member would be the same model.",
            fix="use ensemble=1 with model='linear' (or model='mlp' for an ensemble).",
            code="bad-param",
            param="ensemble",
        )
    for name in ("loss_options", "model_options"):
        if p[name] is not None and not isinstance(p[name], dict):
            raise ConfigError(
                f"Expected argument `{name}` to be a dict or None; got {type(p[name]).__name__}.",
                fix=f"pass {name}={{...}} with keyword options.",
                code="bad-param",
                param=name,
            )
    try:
        check_objective(p["threshold_objective"])
    except ConfigError as exc:
        raise ConfigError(
            f"Got an invalid value for argument `threshold_objective`: {p['threshold_objective']!r} ({exc.message})",
            fix=f"use one of {choices_text(OBJECTIVE_SPELLINGS)}.",
            code="bad-param",
            param="threshold_objective",
        ) from None
    _check_device_available(p["device"])


def _is_random_state(v: Any) -> bool:
    return v is None or (is_int(v, 0) and v <= MAX_SEED) or isinstance(v, np.random.RandomState)


def resolve_seed(random_state: Any, seed: Any = None) -> int:
    """The integer seed of a fit: ``random_state`` (``None``: a fresh one; a ``RandomState``: its next integer).

    ``seed`` is the deprecated spelling: given, it is used (with a ``FutureWarning``) unless ``random_state``
    was also changed from its default, which is refused.

    Examples:
        >>> resolve_seed(7), resolve_seed(np.random.RandomState(0)) == resolve_seed(np.random.RandomState(0))
        (7, True)
    """
    import warnings

    from ..options import CLASSIFIER_DEFAULTS

    if seed is not None:
        if (
            random_state is not None
            and random_state != CLASSIFIER_DEFAULTS["random_state"]
            and random_state != seed
        ):
            raise ConfigError(
                f"Got seed={seed!r} and random_state={random_state!r}; `seed` is the old name of `random_state`.",
                fix=f"pass random_state={seed!r} only.",
                code="bad-param",
                param="seed",
            )
        warnings.warn(
            "Classifier(seed=...) is deprecated and will be removed; use random_state=... as in scikit-learn.",
            FutureWarning,
            stacklevel=4,
        )
        return int(seed)
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0] % 2**31)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31))
    return int(random_state)


def _is_label(v: Any) -> bool:
    return isinstance(v, (str, bool, int, np.integer)) or (
        _is_number(v) and isinstance(v, (float, np.floating))
    )


def _is_device(device: Any) -> bool:
    return isinstance(device, str) and (
        device in DEVICES or (device.startswith("cuda:") and device[5:].isdigit())
    )


def _check_device_available(device: str) -> None:
    import torch

    if device.startswith("cuda") and not torch.cuda.is_available():
        missing = "CUDA"
    elif device == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        missing = "MPS"
    else:
        return
    raise ConfigError(
        f"Got device={device!r}, but {missing} is not available on this machine.",
        fix="use device='auto' (the GPU when there is one) or device='cpu'.",
        code="device-unavailable",
        param="device",
    )


def resolve_device(device: str | os.PathLike[str]) -> str:
    device = str(device)
    if device != "auto":
        _check_device_available(device)
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
