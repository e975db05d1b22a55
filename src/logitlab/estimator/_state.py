"""The parts of :class:`~logitlab.Classifier` that are not its public face.

Parameter checks, the training run, and the conversion between a fitted classifier and the
``model.json`` fields of :mod:`logitlab.model_io`. Only the :mod:`logitlab.estimator` package imports this module.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ..errors import ConfigError, ModelFileError
from ..options import (
    AUTO_EPOCHS,
    AUTO_LR,
    AUTO_SCHEDULE,
    AUTO_TRAINING,
    CALIBRATION_METHODS,
    DEVICES,
    HF_AUTO_EPOCHS,
    IMBALANCE_STRATEGIES,
    MAX_SEED,
    NUMERIC_SCALINGS,
    OBJECTIVE_SPELLINGS,
    PRECISION_ALIASES,
    PRECISIONS,
    SPARSE_TRAINING,
    TASK_CHOICES,
    VAL_SIZE,
    choices_text,
)

if TYPE_CHECKING:
    from torch import nn

    from ._crossfit import Plan
    from .classifier import Classifier, TrainingSetup

__all__ = [
    "check_params",
    "describe_loss",
    "forward_logits",
    "refuse_soft_labels",
    "resolve_lr",
    "resolve_seed",
    "resolve_training",
    "restore",
    "saved_meta",
    "selection_metrics",
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
    from ..evaluate import check_objective
    from ._crossfit import check_cv

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
            p.get("seed") is None or (_is_int(p["seed"], 0) and p["seed"] <= MAX_SEED),
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


def _is_random_state(v: Any) -> bool:
    return v is None or (_is_int(v, 0) and v <= MAX_SEED) or isinstance(v, np.random.RandomState)


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


def describe_loss(loss_fn: nn.Module, name: str, options: Mapping[str, Any] | None) -> str:
    """``"SigmoidFocalLoss (loss='focal', gamma=2.0)"``: the loss class and how it was asked for."""
    shown = "".join(f", {k}={v!r}" for k, v in (options or {}).items())
    return f"{type(loss_fn).__name__} (loss={name!r}{shown})"


def training_budget(
    epochs: Any, n_train: int, batch_size: int, has_val: bool, budget: Mapping[str, int] = AUTO_EPOCHS
) -> tuple[int, int | None]:
    """The epochs to train and the early-stopping patience (``None``: none) for ``epochs`` (an int or ``"auto"``).

    ``"auto"`` follows ``budget`` (:data:`~logitlab.options.AUTO_EPOCHS`; :data:`~logitlab.options.HF_AUTO_EPOCHS`
    for a pretrained transformer); a number is trained in full.

    Examples:
        >>> training_budget("auto", 170, 64, True)  # 3 steps an epoch
        (667, 166)
        >>> training_budget("auto", 100_000, 64, True), training_budget(12, 170, 64, True)
        ((30, 10), (12, None))
    """
    if epochs != "auto":
        return int(epochs), None
    steps_per_epoch = max(1, math.ceil(n_train / batch_size))
    n = min(budget["max_epochs"], max(budget["min_epochs"], math.ceil(budget["steps"] / steps_per_epoch)))
    return n, (max(budget["min_patience"], n // 4) if has_val else None)


def resolve_lr(lr: Any, model: Any) -> dict[str, Any]:
    """The learning rate a fit uses for ``lr`` (a number or ``"auto"``) and ``model``, with its warmup and reason.

    ``"auto"`` follows :data:`~logitlab.options.AUTO_LR`; a number is used as it is, without a warmup.
    The result is what ``decisions_["lr"]`` records.

    Examples:
        >>> resolve_lr("auto", "mlp")["lr"], resolve_lr("auto", "hf:/models/bert")["warmup_ratio"]
        (0.001, 0.06)
        >>> resolve_lr(0.01, "hf:/models/bert")
        {'lr': 0.01, 'asked': 0.01, 'warmup_ratio': 0.0, 'reason': 'lr=0.01 as given'}
    """
    from ..models.hf import is_hf

    if lr != "auto":
        return {"lr": float(lr), "asked": lr, "warmup_ratio": 0.0, "reason": f"lr={float(lr):g} as given"}
    if is_hf(model):
        ratio = AUTO_LR["hf_warmup_ratio"]
        return {
            "lr": AUTO_LR["hf"],
            "asked": "auto",
            "warmup_ratio": ratio,
            "reason": f"lr='auto': {AUTO_LR['hf']:g} for fine-tuning a pretrained transformer (hf:), "
            f"with a linear warmup over the first {ratio:.0%} of the planned optimiser steps",
        }
    if str(model).lower() == "sparse":
        return {
            "lr": AUTO_LR["sparse"],
            "asked": "auto",
            "warmup_ratio": 0.0,
            "reason": f"lr='auto': {AUTO_LR['sparse']:g} for the sparse-native linear model (text, scipy sparse X)",
        }
    return {
        "lr": AUTO_LR["default"],
        "asked": "auto",
        "warmup_ratio": 0.0,
        "reason": f"lr='auto': {AUTO_LR['default']:g} (AdamW's default) for a network trained from scratch",
    }


def selection_metrics(task: str) -> Any:
    """The trainer's ``metrics_fn``: :func:`~logitlab.evaluate.epoch_metrics` plus the unweighted ``log_loss``.

    The best epoch is picked on this log-loss (``val_log_loss``), not on the weighted training loss
    (``val_loss``), in which three rows of a rare class can carry a fifth of the total.
    """
    import torch.nn.functional as F

    from ..evaluate import epoch_metrics

    cheap = epoch_metrics(task)

    def metrics(logits: Any, targets: Any) -> dict[str, float]:
        z = logits.detach().float()
        if task == "multiclass":
            y = targets if targets.ndim == 2 else targets.long().reshape(-1)
            loss = F.cross_entropy(z, y.float() if y.ndim == 2 else y)
        else:
            loss = F.binary_cross_entropy_with_logits(z, targets.float().reshape(z.shape))
        return {**cheap(logits, targets), "log_loss": float(loss)}

    return metrics


def forward_logits(model: nn.Module, batches: Any, n_outputs: int) -> Any:
    """``model`` on float32 input batches, without gradients: logits ``[N, n_outputs]`` on the CPU."""
    import torch

    device = next(model.parameters()).device
    model.eval()
    out = []
    with torch.inference_mode():
        for b in batches:
            n = int(b.shape[0])
            if 0 < n < _MIN_ROWS and b.layout == torch.strided:
                b = torch.cat([b, b[-1:].expand(_MIN_ROWS - n, *b.shape[1:])])
            out.append(model(b.to(device)).float().cpu()[:n])
    logits = torch.cat(out) if out else torch.empty(0, n_outputs)
    return logits.reshape(len(logits), n_outputs)


# inference batches of fewer rows are padded to this many (repeating the last row): BLAS takes other
# kernels below 16 rows (measured: 8 rows still differ), whose float32 rounding would make a row's output
# depend on its batch (scikit-learn's check_methods_subset_invariance predicts row by row)
_MIN_ROWS = 16


def resolve_training(imbalance: Any, weight_decay: Any, model_name: str) -> dict[str, Any]:
    """The ``imbalance`` and ``weight_decay`` a fit of ``model_name`` uses, with what was asked and the reason.

    ``"auto"`` takes :data:`~logitlab.options.SPARSE_TRAINING`'s value for the sparse-native model and
    :data:`~logitlab.options.AUTO_TRAINING`'s for every other model; a value given is used as it is. The
    result is what ``decisions_["training"]`` records.

    Examples:
        >>> resolve_training("auto", "auto", "sparse")["imbalance"], resolve_training("auto", "auto", "mlp")["imbalance"]
        ('none', 'balanced')
        >>> resolve_training("balanced", 0.5, "sparse")
        {'imbalance': 'balanced', 'weight_decay': 0.5, 'asked': {'imbalance': 'balanced', 'weight_decay': 0.5}, 'reason': "imbalance='balanced', weight_decay=0.5 as given"}
    """
    sparse = str(model_name).lower() == "sparse"
    auto = SPARSE_TRAINING if sparse else AUTO_TRAINING
    asked = {"imbalance": imbalance, "weight_decay": weight_decay}
    out: dict[str, Any] = {
        "imbalance": auto["imbalance"] if imbalance == "auto" else imbalance,
        "weight_decay": float(auto["weight_decay"] if weight_decay == "auto" else weight_decay),
    }
    given = [f"{k}={out[k]!r}" for k in ("imbalance", "weight_decay") if asked[k] != "auto"]
    chosen = [f"{k}={out[k]!r}" for k in ("imbalance", "weight_decay") if asked[k] == "auto"]
    why = (
        "for the sparse-native model (options.SPARSE_TRAINING: balanced weights of rare labels cost ranking)"
        if sparse
        else "(options.AUTO_TRAINING)"
    )
    parts = ([f"'auto': {', '.join(chosen)} {why}"] if chosen else []) + (
        [f"{', '.join(given)} as given"] if given else []
    )
    return {**out, "asked": asked, "reason": "; ".join(parts)}


def train_model(
    clf: Classifier, setup: TrainingSetup, run_dir: Any, plan: Plan, *, resume: bool = False
) -> tuple[Any, ...]:
    """Train each member of ``setup.model`` on its rows of ``plan``, keeping its best epoch's weights.

    With ``resume``, each member's trainer continues from the last checkpoint in its run directory
    (``TrainConfig(resume="auto")``), if it has one.

    Every member is early-stopped on its own rows (a fold, or the first half of the validation split)
    by the unweighted validation log-loss. The last batch of an epoch is dropped when it would hold a
    single row (BatchNorm cannot train on one row; the rows are reshuffled every epoch, so none is
    left out for good).

    Returns:
        (model, history, health monitor, best epoch or None, out-of-fold logits or None): the model in
        eval mode (on the CPU when the run was on the CPU); the out-of-fold logits of
        ``plan.calibration``'s rows when cross-fitting.
    """
    import torch

    from ..data.batches import rows_per_batch
    from ..doctor.monitor import HealthMonitor
    from ..models import Ensemble
    from ..train import EarlyStopping, ReduceLROnPlateau, RestoreBestWeights, TrainConfig, Trainer
    from ._convex_fit import full_batch_kind, minibatch_note

    # fitted by L-BFGS: model='linear', the sparse linear model (where its state fits, in float32)
    linear = full_batch_kind(setup.model, clf.precision) is not None
    note = minibatch_note(setup.model, clf.precision)
    if note is not None:
        clf.decisions_["notes"] = list(dict.fromkeys([*clf.decisions_["notes"], note]))
    hf = getattr(setup.model, "model_spec", {}).get("name") == "hf"
    members = list(setup.model.members) if isinstance(setup.model, Ensemble) else [setup.model]
    assert len(members) == len(plan.members), "one plan entry per member"
    batch = int(clf.batch_size)
    oof = torch.zeros(len(plan.calibration), int(clf.n_outputs_)) if plan.fit_rows else None
    lr = resolve_lr(
        clf.lr, "sparse" if getattr(setup.model, "model_spec", {}).get("name") == "sparse" else clf.model
    )
    if not linear:  # model='linear' and the sparse linear model are fitted by L-BFGS: no learning rate
        clf.decisions_["lr"] = lr
    runs: list[tuple[list[dict[str, Any]], int | None]] = []
    described: list[dict[str, Any]] = []
    for k, (member, (train, stop)) in enumerate(zip(members, plan.members)):
        if linear:
            runs.append((train_linear(clf, member, setup.loss_fn, train, stop), None))
        else:
            budget = HF_AUTO_EPOCHS if hf else AUTO_EPOCHS
            epochs, patience = training_budget(clf.epochs, len(train), batch, stop is not None, budget)
            plateau = patience is not None and AUTO_SCHEDULE["schedule"] == "plateau"
            described.append(
                {
                    "epochs": epochs,
                    "patience": patience,
                    "asked": clf.epochs,
                    "schedule": "plateau" if plateau else "cosine",
                }
            )
            config = TrainConfig(
                epochs=epochs,
                batch_size=batch,
                lr=lr["lr"],
                warmup_ratio=lr["warmup_ratio"],
                weight_decay=float(clf.decisions_["training"]["weight_decay"]),
                precision=clf.precision,  # type: ignore[arg-type]  # checked by check_params and TrainConfig
                seed=clf.seed_ + 1000 * k,
                device=clf.device,
                progress=bool(clf.verbose),
                drop_last=len(train) > batch and len(train) % batch == 1,
                schedule="constant" if plateau else "cosine",
                resume="auto" if resume else None,
            )
            # on by default: reads only the loss the trainer reads anyway; set before training, so a run
            # that fails still shows what the monitor saw
            monitor = HealthMonitor(loss_fn=setup.loss_fn)
            if k == 0:
                clf.health_ = monitor
            best = RestoreBestWeights(monitor="val_log_loss", mode="min")
            callbacks: list[Any] = [monitor, best] if stop is not None else [monitor]
            if patience is not None:
                callbacks.append(EarlyStopping("val_log_loss", mode="min", patience=patience))
            if plateau:
                assert patience is not None
                wait = max(AUTO_SCHEDULE["min_patience"], patience // AUTO_SCHEDULE["patience_divisor"])
                callbacks.append(
                    ReduceLROnPlateau(
                        "val_log_loss",
                        patience=wait,
                        factor=AUTO_SCHEDULE["factor"],
                        max_reductions=AUTO_SCHEDULE["reductions"],
                    )
                )
            trainer = Trainer(
                member,
                setup.loss_fn,
                config,
                callbacks=callbacks,
                run_dir=run_dir if (run_dir is None or k == 0) else os.path.join(run_dir, "members", str(k)),
                metrics_fn=selection_metrics(clf.task_),
            )
            val = stop.training_data() if stop is not None else None
            history = list(trainer.fit(train.training_data(), val) or [])
            runs.append(
                (
                    history,  # 1-based best epoch
                    best.best_epoch + 1 if stop is not None and best.best_epoch >= 0 else None,
                )
            )
        if oof is not None and stop is not None:
            rows = rows_per_batch(tuple(clf.input_shape_))
            oof[torch.from_numpy(plan.fit_rows[k])] = forward_logits(member, stop.batches(rows), oof.shape[1])
    if described:
        clf.decisions_["epochs"] = described[0]
    if len(members) > 1:
        clf.decisions_["members"] = [
            {"rows": len(t), "stop_rows": len(s) if s is not None else 0, "epochs": len(h), "best_epoch": b}
            for (t, s), (h, b) in zip(plan.members, runs)
        ]
        if any(b is not None for _, b in runs):  # decisions_["best_epoch"] is member 1's (its history_)
            clf.decisions_["best_epochs"] = [b for _, b in runs]
    model = setup.model.eval()
    if next(model.parameters()).device.type == "cpu":
        model = model.cpu()
    if linear:
        clf.health_ = None
    return model, runs[0][0], clf.health_, runs[0][1], oof


def train_linear(
    clf: Classifier, model: nn.Module, loss_fn: nn.Module, train: Any, val: Any
) -> list[dict[str, Any]]:
    """Fit ``model="linear"`` (or the sparse linear model) full-batch with L-BFGS, L2 = ``weight_decay``.

    The penalty is ``weight_decay / 2 * ||W||^2`` on the mean training loss (scikit-learn's
    ``LogisticRegression(C=1 / (weight_decay * n))``, :func:`~logitlab.train.fit_full_batch`); ``epochs``,
    ``lr`` and ``batch_size`` do not apply. The sparse model takes its rows as one torch CSR matrix, its L2
    from :data:`~logitlab.options.SPARSE_FULL_BATCH` (:mod:`logitlab._convex_fit`).
    Returns the history: one row (``train_loss``, and ``val_loss`` with validation rows); no best epoch.
    ``model`` is fitted in place (one fold model when cross-fitting).

    Raises:
        ConfigError: a training split that is not one in-memory tensor (lazy images, streamed rows), or a
            precision other than fp32.
    """
    import torch

    from ..options import SPARSE_FULL_BATCH
    from ..train import fit_full_batch
    from ._convex_fit import full_batch_data, full_batch_kind, sparse_penalty, start_at_prior

    kind = full_batch_kind(model, clf.precision)
    data = full_batch_data(train)
    val_data = full_batch_data(val) if val is not None and len(val) else None
    lazy = data is None or (val is not None and len(val) and val_data is None)
    if lazy or clf.precision not in ("fp32", "32", "32-true", "float32"):
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
    model, loss_fn = model.to(device), loss_fn.to(device)
    assert data is not None
    x, y = (t.to(device) for t in data)
    torch.manual_seed(clf.seed_)
    if kind == "sparse":
        start_at_prior(model, y, clf.task_)
        labels = int(clf.n_outputs_) if clf.task_ == "multilabel" else 1  # the loss is a mean over labels
        l2, tol = sparse_penalty(clf, len(y)), float(SPARSE_FULL_BATCH["tolerance"]) / labels
        fit = fit_full_batch(
            model, loss_fn, x, y, l2=l2, history=int(SPARSE_FULL_BATCH["history"]), tolerance=tol
        )
    else:
        fit = fit_full_batch(model, loss_fn, x, y, l2=float(clf.decisions_["training"]["weight_decay"]))
    clf.decisions_["epochs"] = {
        "epochs": None,
        "patience": None,
        "asked": clf.epochs,
        "solver": f"L-BFGS, {fit['iterations']} iterations"
        + ("" if fit["converged"] else " (not converged)"),
    }
    row: dict[str, Any] = {"epoch": 1, "train_loss": fit["loss"], "objective": fit["objective"]}  # 1-based
    if val is not None and len(val):
        with torch.no_grad():
            assert val_data is not None
            vx, vy = (t.to(device) for t in val_data)
            logits = model(vx)
            row["val_loss"] = float(loss_fn(logits, vy))
            row.update({f"val_{k}": float(v) for k, v in selection_metrics(clf.task_)(logits, vy).items()})
    model.eval()
    if device.type == "cpu":
        model.cpu()
    return [row]


# ---------------------------------------------------------------------------- model.json <-> Classifier
def saved_meta(clf: Classifier) -> dict[str, Any]:
    """The ``model.json`` fields of a fitted classifier (all but those :func:`write_model_dir` fills in)."""
    from .. import __version__

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


def restore(
    cls: type[Classifier], state: dict[str, Any], meta: dict[str, Any], *, device: str, directory: Any = None
) -> Classifier:
    """A fitted Classifier from a validated ``model.json`` and its weights.

    Every field is checked against the others and the spec against the stored tensors
    (:mod:`logitlab.model_io.check`) before anything is built; a malformed field is a ``ModelFileError``
    naming it. A text model of ``model="hf:..."`` reads its ``tokenizer.json`` from ``directory``
    (checked against the SHA-256 in ``model.json``).
    """
    from ..data import DataState, LabelEncoder
    from ..evaluate import Calibration, Thresholds
    from ..model_io.check import check_model_meta, guarded

    tensors = {k: (list(v.shape), str(v.dtype)) for k, v in state.items()}
    spec, model = check_model_meta(meta, tensors)  # first: nothing is built from an unchecked field
    valid = set(cls().get_params())
    params = dict(meta["params"])
    if "random_state" not in params and "seed" in params:  # saved before `random_state`: the same seed
        params["random_state"] = params.pop("seed")
    clf = cls(**{k: v for k, v in params.items() if k in valid})
    try:
        check_params({**clf.get_params(), "device": "cpu"})  # the device is chosen at load time
    except ConfigError as exc:
        raise ModelFileError(
            f"model.json field `params.{exc.param}` is invalid: {exc.message}",
            fix="save the model again with Classifier.save(dir); do not edit model.json by hand.",
            code="model-json-inconsistent",
        ) from None
    saved_seed = params.get("seed") if params.get("seed") is not None else params.get("random_state")
    clf.seed_ = int(cast(int, saved_seed)) if _is_int(saved_seed, 0) else 0
    clf.label_encoder_ = guarded("label_encoder", lambda: LabelEncoder.from_dict(meta["label_encoder"]))
    clf._set_label_attributes(tuple(meta["input_shape"]), list(meta["classes"]))  # the saved order
    decisions = dict(meta.get("decisions") or {"task": clf.task_, "task_reason": "", "notes": []})
    clf.decisions_ = guarded("decisions", lambda: _epochs_from_one(decisions))
    clf.model_spec_ = spec  # older specs rebuild as they were trained
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelFileError(
            f"The weights do not fit the model described in model.json ({str(exc).splitlines()[0]}).",
            fix="save the model again, or copy model.safetensors and model.json together.",
            code="model-weights-mismatch",
        ) from None
    clf.model_ = model.to(_resolve_device(device)).eval()
    th = meta["thresholds"]
    clf.thresholds_ = guarded("thresholds", lambda: Thresholds.from_dict(th)) if th is not None else None
    stored = meta.get("calibration")  # schema_version 1 files have none: their probabilities stay raw
    clf.calibration_ = (
        guarded("calibration", lambda: Calibration.from_dict(stored)) if stored is not None else None
    )
    clf.data_state_ = guarded("preprocessing", lambda: DataState.from_dict(meta["preprocessing"]))
    pre = clf.data_state_.preprocessor
    if getattr(pre, "kind", None) == "hf_text":
        from ..model_io.safe_read import read_tokenizer

        if directory is None:
            raise ModelFileError(
                "A text model of model='hf:...' needs its tokenizer.json; no model directory was given.",
                fix="load it with Classifier.load(directory).",
                code="model-file-missing",
            )
        pre.attach(read_tokenizer(directory), str(pre.recorded_sha256))
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
