"""The parts of :class:`~logitlab.Classifier` that are not its public face.

Parameter checks, the training run, and the conversion between a fitted classifier and the
``model.json`` fields of :mod:`logitlab.model_io`. Only :mod:`logitlab.estimator` imports this module.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from .errors import ConfigError, ModelFileError
from .options import (
    AUTO_EPOCHS,
    CALIBRATION_METHODS,
    DEVICES,
    FEW_ROWS,
    IMBALANCE_STRATEGIES,
    NUMERIC_SCALINGS,
    OBJECTIVE_SPELLINGS,
    PRECISION_ALIASES,
    PRECISIONS,
    TASK_CHOICES,
    choices_text,
)

if TYPE_CHECKING:
    from torch import nn

    from .estimator import Classifier, TrainingSetup

__all__ = [
    "calibrate_and_tune",
    "check_params",
    "describe_loss",
    "resolve_seed",
    "restore",
    "saved_meta",
    "train_linear",
    "train_model",
    "training_budget",
]


def _is_int(v: Any, low: int) -> bool:
    return bool(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= low)


def _is_number(v: Any) -> bool:
    return (
        isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool) and math.isfinite(v)
    )


def check_params(p: Mapping[str, Any]) -> None:
    """Check every Classifier parameter that needs no data; a ``ConfigError`` names the first bad one."""
    from .evaluate import check_objective

    checks = [
        (
            "calibration",
            p["calibration"] in CALIBRATION_METHODS,
            f"one of {choices_text(CALIBRATION_METHODS)}",
        ),
        ("task", p["task"] in TASK_CHOICES, f"one of {choices_text(TASK_CHOICES)}"),
        ("epochs", p["epochs"] == "auto" or _is_int(p["epochs"], 1), "epochs='auto' or a number such as 30"),
        ("batch_size", _is_int(p["batch_size"], 1), "batch_size=64"),
        ("ensemble", _is_int(p["ensemble"], 1), "ensemble=1 (one network) or a small number such as 5"),
        ("lr", _is_number(p["lr"]) and p["lr"] > 0, "lr=1e-3"),
        ("weight_decay", _is_number(p["weight_decay"]) and p["weight_decay"] >= 0, "weight_decay=1e-4"),
        ("val_size", _is_number(p["val_size"]) and 0 <= p["val_size"] < 1, "val_size=0.15"),
        ("random_state", _is_random_state(p["random_state"]), "random_state=0 (or None for a fresh seed)"),
        ("seed", p.get("seed") is None or _is_int(p["seed"], 0), "random_state=0 (`seed` is deprecated)"),
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
    ]
    for name, ok, fix in checks:
        if not ok:
            raise ConfigError(
                f"Got an invalid value for argument `{name}`: {p[name]!r}.",
                fix=f"use {fix}.",
                code="bad-param",
                param=name,
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
    return v is None or (_is_int(v, 0) and v < 2**32) or isinstance(v, np.random.RandomState)


def resolve_seed(random_state: Any, seed: Any = None) -> int:
    """The integer seed of a fit: ``random_state`` (``None``: a fresh one; a ``RandomState``: its next integer).

    ``seed`` is the deprecated spelling: given, it is used (with a ``FutureWarning``) unless ``random_state``
    was also changed from its default, which is refused.

    Examples:
        >>> resolve_seed(7), resolve_seed(np.random.RandomState(0)) == resolve_seed(np.random.RandomState(0))
        (7, True)
    """
    import warnings

    from .options import CLASSIFIER_DEFAULTS

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


def describe_loss(loss_fn: nn.Module, name: str, options: Mapping[str, Any] | None) -> str:
    """``"SigmoidFocalLoss (loss='focal', gamma=2.0)"``: the loss class and how it was asked for."""
    shown = "".join(f", {k}={v!r}" for k, v in (options or {}).items())
    return f"{type(loss_fn).__name__} (loss={name!r}{shown})"


def training_budget(epochs: Any, n_train: int, batch_size: int, has_val: bool) -> tuple[int, int | None]:
    """The epochs to train and the early-stopping patience (``None``: none) for ``epochs`` (an int or ``"auto"``).

    ``"auto"`` follows :data:`~logitlab.options.AUTO_EPOCHS`; a number is trained in full.

    Examples:
        >>> training_budget("auto", 170, 64, True)  # 3 steps an epoch
        (667, 166)
        >>> training_budget("auto", 100_000, 64, True), training_budget(12, 170, 64, True)
        ((30, 10), (12, None))
    """
    if epochs != "auto":
        return int(epochs), None
    steps_per_epoch = max(1, math.ceil(n_train / batch_size))
    budget = AUTO_EPOCHS
    n = min(budget["max_epochs"], max(budget["min_epochs"], math.ceil(budget["steps"] / steps_per_epoch)))
    return n, (max(budget["min_patience"], n // 4) if has_val else None)


def train_model(
    clf: Classifier, setup: TrainingSetup, run_dir: Any, *, resume: bool = False
) -> tuple[Any, list[dict[str, Any]], Any, Any]:
    """Train ``setup.model`` with the library's Trainer, keeping the best validation epoch's weights.

    With ``resume``, each member's trainer continues from the last checkpoint in its run directory
    (``TrainConfig(resume="auto")``), if it has one.

    Returns:
        (model, history, health monitor, best epoch or None): the model in eval mode (on the CPU when
        the run was on the CPU).
    """
    from .doctor.monitor import HealthMonitor
    from .evaluate import epoch_metrics
    from .models import Ensemble
    from .train import EarlyStopping, RestoreBestWeights, TrainConfig, Trainer

    if getattr(setup.model, "model_spec", {}).get("name") == "linear":
        return train_linear(clf, setup)
    bundle = setup.bundle
    has_val = len(bundle.val) > 0
    epochs, patience = training_budget(clf.epochs, len(bundle.train), int(clf.batch_size), has_val)
    clf.decisions_["epochs"] = {"epochs": epochs, "patience": patience, "asked": clf.epochs}
    config = TrainConfig(
        epochs=epochs,
        batch_size=int(clf.batch_size),
        lr=float(clf.lr),
        weight_decay=float(clf.weight_decay),
        precision=clf.precision,  # type: ignore[arg-type]  # checked by check_params and TrainConfig
        seed=clf.seed_,
        device=clf.device,
        progress=bool(clf.verbose),
        resume="auto" if resume else None,
    )
    val = bundle.val.training_data() if has_val else None
    members = list(setup.model.members) if isinstance(setup.model, Ensemble) else [setup.model]
    runs = []
    for k, member in enumerate(members):  # one after another: each its own init, batch order and best epoch
        # on by default: reads only the loss the trainer reads anyway; set before training, so a run
        # that fails still shows what the monitor saw
        monitor = HealthMonitor(loss_fn=setup.loss_fn)
        if k == 0:
            clf.health_ = monitor
        best = RestoreBestWeights(monitor="val_loss", mode="min")
        callbacks: list[Any] = [monitor, best] if has_val else [monitor]
        if patience is not None:
            callbacks.append(EarlyStopping("val_loss", mode="min", patience=patience))
        trainer = Trainer(
            member,
            setup.loss_fn,
            dataclasses.replace(config, seed=clf.seed_ + 1000 * k),
            callbacks=callbacks,
            run_dir=run_dir if (run_dir is None or k == 0) else os.path.join(run_dir, "members", str(k)),
            metrics_fn=epoch_metrics(clf.task_),
        )
        history = list(trainer.fit(bundle.train.training_data(), val) or [])
        runs.append((history, best.best_epoch + 1 if has_val and best.best_epoch >= 0 else None))  # 1-based
    if len(members) > 1:
        clf.decisions_["members"] = [{"epochs": len(h), "best_epoch": b} for h, b in runs]
    model = setup.model.eval()
    if trainer.device.type == "cpu":
        model = model.cpu()
    return model, runs[0][0], clf.health_, runs[0][1]


def train_linear(clf: Classifier, setup: TrainingSetup) -> tuple[Any, list[dict[str, Any]], Any, Any]:
    """Fit ``model="linear"`` full-batch with L-BFGS (:func:`~logitlab.train.fit_full_batch`), L2 = ``weight_decay``.

    The penalty is ``weight_decay / 2 * ||W||^2`` on the mean training loss (scikit-learn's
    ``LogisticRegression(C=1 / (weight_decay * n))``); ``epochs``, ``lr`` and ``batch_size`` do not apply.
    The history has one row (``train_loss``, and ``val_loss`` with a validation split); no best epoch.

    Raises:
        ConfigError: a training split that is not one in-memory tensor (lazy images, sparse or streamed
            rows), or a precision other than fp32.
    """
    import torch

    from .train import fit_full_batch

    train, val = setup.bundle.train, setup.bundle.val
    if not (train.in_memory and val.in_memory) or clf.precision not in ("fp32", "32", "32-true", "float32"):
        raise ConfigError(
            "model='linear' is fitted full-batch in float32 on rows held in memory; this data is read "
            "lazily (images, sparse or streamed rows)"
            if clf.precision in ("fp32", "32", "32-true", "float32")
            else f"model='linear' is fitted in float32; got precision={clf.precision!r}.",
            fix="use model='mlp' for data read batch by batch, and precision='fp32' with model='linear'.",
            code="bad-param",
            param="model",
        )
    device = torch.device(_resolve_device(clf.device))
    model, loss_fn = setup.model.to(device), setup.loss_fn.to(device)
    x, y = (t.to(device) for t in train.training_data())  # type: ignore[union-attr]
    torch.manual_seed(clf.seed_)
    fit = fit_full_batch(model, loss_fn, x, y, l2=float(clf.weight_decay))
    clf.decisions_["epochs"] = {
        "epochs": None,
        "patience": None,
        "asked": clf.epochs,
        "solver": f"L-BFGS, {fit['iterations']} iterations"
        + ("" if fit["converged"] else " (not converged)"),
    }
    row: dict[str, Any] = {"epoch": 0, "train_loss": fit["loss"], "objective": fit["objective"]}
    if len(val):
        with torch.no_grad():
            vx, vy = (t.to(device) for t in val.training_data())  # type: ignore[union-attr]
            row["val_loss"] = float(loss_fn(model(vx), vy))
    model = model.eval()
    if device.type == "cpu":
        model = model.cpu()
    clf.health_ = None
    return model, [row], None, None


def calibrate_and_tune(clf: Classifier, setup: TrainingSetup) -> tuple[Any, Any]:
    """The calibration map and the decision thresholds, both fitted on the validation split.

    The map is fitted first, and the thresholds are tuned on the calibrated logits: ``predict``
    applies them to the probabilities ``predict_proba`` returns, and they move off 0.5 / zero class
    bias only where that strictly improves the objective on validation, so ``predict ==
    argmax(predict_proba)`` holds wherever they did not move (the rule of
    :mod:`logitlab.evaluate.calibration`). Without a validation split: neither (raw 0.5 / argmax).
    With ``threshold_objective="none"`` (and ``"auto"`` for multiclass, :data:`~logitlab.options.AUTO_OBJECTIVE`):
    no thresholds (0.5 / argmax of the calibrated probabilities).

    Returns:
        (Calibration or None, Thresholds or None)
    """
    from .evaluate import calibrate, check_objective, tune_thresholds

    val = setup.bundle.val
    if len(val) == 0:
        return None, None
    logits = clf.predict_logits(val)
    cal = None
    if clf.calibration != "none":
        w = setup.weights
        pos = w.values if w is not None and w.kind == "pos_weight" else None
        cls = w.values if w is not None and w.kind == "class_weight" else None
        method = cast(Any, clf.calibration)
        cal = calibrate(logits, val.y, task=clf.task_, method=method, pos_weight=pos, class_weight=cls)
    objective = check_objective(clf.threshold_objective, clf.task_)  # "auto" -> the task's objective
    if objective == "none":
        return cal, None
    scale = logits if cal is None else cal.calibrated_logits(logits)
    tuned = tune_thresholds(
        scale,
        val.y,
        task=clf.task_,
        objective=objective,
        probabilities=False,
        min_count=FEW_ROWS,
    )
    return cal, tuned


# ---------------------------------------------------------------------------- model.json <-> Classifier
def saved_meta(clf: Classifier) -> dict[str, Any]:
    """The ``model.json`` fields of a fitted classifier (all but those :func:`write_model_dir` fills in)."""
    from . import __version__

    return {
        "library_version": __version__,
        "task": clf.task_,
        "classes": [c.item() if isinstance(c, np.generic) else c for c in clf.classes_],
        "label_names": list(clf.label_names_),
        "label_encoder": clf.label_encoder_.to_dict(),
        "n_outputs": int(clf.n_outputs_),
        "input_shape": [int(d) for d in clf.input_shape_],
        "model_spec": dict(clf.model_spec_),
        "thresholds": clf.thresholds_.to_dict() if clf.thresholds_ is not None else None,
        "calibration": clf.calibration_.to_dict() if clf.calibration_ is not None else None,
        "preprocessing": clf.data_state_.to_dict(),
        "feature_names": list(clf.feature_names_in_) if hasattr(clf, "feature_names_in_") else None,
        "params": {k: _json_param(v) for k, v in clf.get_params().items()},
        "decisions": clf.decisions_,
    }


def _epochs_from_one(decisions: dict[str, Any]) -> dict[str, Any]:
    """Decisions saved before epochs counted from 1 (no ``epochs_count_from``): their epoch numbers plus one."""
    if decisions.get("epochs_count_from") == 1 or "best_epoch" not in decisions:
        return decisions
    if decisions["best_epoch"] is not None:
        decisions["best_epoch"] = int(decisions["best_epoch"]) + 1
    if isinstance(decisions.get("members"), list):
        decisions["members"] = [
            {**m, "best_epoch": None if m.get("best_epoch") is None else int(m["best_epoch"]) + 1}
            for m in decisions["members"]
        ]
    decisions["epochs_count_from"] = 1
    return decisions


def _json_param(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool, dict, list, type(None))) else repr(value)


def restore(cls: type[Classifier], state: dict[str, Any], meta: dict[str, Any], *, device: str) -> Classifier:
    """A fitted Classifier from a validated ``model.json`` and its weights."""
    from .data import DataState, LabelEncoder
    from .evaluate import Calibration, Thresholds
    from .models import build_model, saved_model_spec

    valid = set(cls().get_params())
    params = dict(meta["params"])
    if "random_state" not in params and "seed" in params:  # saved before `random_state`: the same seed
        params["random_state"] = params.pop("seed")
    clf = cls(**{k: v for k, v in params.items() if k in valid})
    saved_seed = params.get("seed") if params.get("seed") is not None else params.get("random_state")
    clf.seed_ = int(cast(int, saved_seed)) if _is_int(saved_seed, 0) else 0
    clf.label_encoder_ = LabelEncoder.from_dict(meta["label_encoder"])
    clf._set_label_attributes(tuple(meta["input_shape"]))
    if [str(c) for c in clf.classes_] != [str(c) for c in meta["classes"]] or clf.task_ != meta["task"]:
        raise ModelFileError(
            "model.json is inconsistent: `classes`/`task` differ from `label_encoder`.",
            fix="save the model again; do not edit model.json by hand.",
            code="model-json-inconsistent",
        )
    clf.decisions_ = _epochs_from_one(
        dict(meta.get("decisions") or {"task": clf.task_, "task_reason": "", "notes": []})
    )
    clf.model_spec_ = saved_model_spec(meta["model_spec"])  # older specs rebuild as they were trained
    model = build_model(**clf.model_spec_)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelFileError(
            f"The weights do not fit the model described in model.json ({str(exc).splitlines()[0]}).",
            fix="save the model again, or copy model.safetensors and model.json together.",
            code="model-weights-mismatch",
        ) from None
    clf.model_ = model.to(_resolve_device(device)).eval()
    clf.thresholds_ = Thresholds.from_dict(meta["thresholds"]) if meta["thresholds"] is not None else None
    stored = meta.get("calibration")  # schema_version 1 files have none: their probabilities stay raw
    clf.calibration_ = Calibration.from_dict(stored) if stored is not None else None
    clf.data_state_ = DataState.from_dict(meta["preprocessing"])
    if meta["feature_names"] is not None:
        clf.feature_names_in_ = np.asarray(meta["feature_names"], dtype=object)
    if len(clf.input_shape_) == 1:
        clf.n_features_in_ = clf.input_shape_[0]
    clf.history_ = []
    clf.health_ = None
    return clf


def _resolve_device(device: str | os.PathLike[str]) -> str:
    device = str(device)
    if device != "auto":
        _check_device_available(device)
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
