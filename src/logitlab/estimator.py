"""``Classifier``: the whole recipe behind a scikit-learn estimator.

``fit`` infers the task (and says why), encodes the labels, splits off a stratified validation set,
computes imbalance weights from the training split only, builds the task's loss and the model,
trains with :class:`~logitlab.train.Trainer`, and tunes the decision thresholds on the validation
split. ``predict`` uses those thresholds; ``predict_proba`` uses the task's activation.

Examples:
    >>> import numpy as np
    >>> from logitlab import Classifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)).astype("float32")
    >>> y = np.where(X[:, 0] + 0.1 * rng.normal(size=200) > 0, "yes", "no")
    >>> clf = Classifier(epochs=5, verbose=False).fit(X, y)
    >>> clf.task_, clf.classes_.tolist()
    ('binary', ['no', 'yes'])
    >>> float(clf.score(X, y)) > 0.9
    True
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from .errors import ConfigError, DataError
from .run import read_model_dir, write_model_dir

if TYPE_CHECKING:
    from torch import Tensor

__all__ = ["Classifier"]

_DEVICES = ("auto", "cpu", "cuda", "mps")
_OBJECTIVE_FIX = (
    "threshold_objective='f1', 'fbeta=2', 'precision_at_recall=0.9', 'recall_at_precision=0.9' or 'none'"
)
_IMBALANCE = ("balanced", "sqrt", "smoothed", "effective", "none")


@dataclass
class _Prepared:
    """Features and targets of the train and validation splits, after encoding and scaling."""

    x_train: Tensor
    t_train: Tensor
    x_val: Tensor | None
    t_val: Tensor | None


class Classifier(ClassifierMixin, BaseEstimator):
    """A PyTorch classifier for binary, multi-label and multi-class tasks, with scikit-learn conventions.

    ``__init__`` only stores the parameters (so ``get_params``/``set_params``/``sklearn.base.clone``
    work); everything is checked and built in :meth:`fit`.

    Args:
        model (str): model name for :func:`~logitlab.models.build_model` (``"mlp"``, ``"cnn"``,
            ``"resnet18"``, ...). Default: ``"mlp"``.
        task (str): ``"auto"`` (inferred from ``y``, the reason is in ``decisions_``), ``"binary"``,
            ``"multilabel"`` or ``"multiclass"``. Default: ``"auto"``.
        loss (str): loss name for :func:`~logitlab.losses.make_loss`; ``"auto"`` is BCE for sigmoid tasks
            and cross entropy for multiclass. Default: ``"auto"``.
        loss_options (dict, optional): extra keyword options of the loss (e.g. ``{"gamma": 2.0}``).
        imbalance (str): weight strategy computed on the training split (``pos_weight`` for sigmoid tasks,
            class weights for multiclass): ``"balanced"``, ``"sqrt"``, ``"smoothed"``, ``"effective"`` or
            ``"none"``. Default: ``"balanced"``.
        epochs (int): training epochs. Default: ``30``.
        batch_size (int): batch size. Default: ``64``.
        lr (float): peak learning rate (AdamW). Default: ``1e-3``.
        weight_decay (float): AdamW weight decay. Default: ``1e-4``.
        model_options (dict, optional): keyword options of the model (e.g. ``{"hidden": [128, 64]}``).
        precision (str): training precision passed to the trainer (``"32"``, ``"bf16"``, ``"16"``). Default: ``"32"``.
        val_size (float): share of the training rows held out to tune thresholds and keep the best epoch;
            ``0`` keeps every row for training and the thresholds at 0.5. Default: ``0.15``.
        threshold_objective (str): what the tuned thresholds maximise on validation: ``"f1"``,
            ``"fbeta=B"``, ``"precision_at_recall=R"`` / ``"recall_at_precision=P"`` (binary and multilabel),
            or ``"none"`` (0.5 / no class bias); see :func:`~logitlab.evaluate.tune_thresholds`. Default: ``"f1"``.
        standardize (bool): standardise features with the training split's mean and standard deviation
            (per column of ``[N, F]`` inputs, per channel of images); stored with the model. Default: ``True``.
        seed (int): seed of the split, the initialisation and the batch order. Default: ``0``.
        device (str): ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or ``"mps"``. Default: ``"auto"``.
        verbose (bool): print the decisions and a progress line per epoch. Default: ``False``.

    Attributes:
        classes_ (ndarray): binary ``[negative, positive]``; multiclass: the classes in logit order;
            multilabel: the label names (``predict`` returns a 0/1 matrix over them).
        task_ (str): the task used.
        thresholds_ (Thresholds or None): tuned on the validation split.
        decisions_ (dict): the task and its reason, the loss, the weights and the thresholds.
        model_ (nn.Module): the trained network (returns logits).
        history_ (list[dict]): per-epoch logs from the trainer: ``train_loss``, ``lr`` and, with a
            validation split, ``val_loss`` and cheap ``val_`` metrics (binary ``val_roc_auc``/``val_f1``,
            multilabel ``val_roc_auc``/``val_f1_macro``, multiclass ``val_accuracy``/``val_f1_macro``).
        health_ (HealthMonitor): the training-health monitor that watched the run (logit statistics,
            gradient norms, loss spikes; NaN/Inf stop the run with a ``TrainingError``):
            ``health_.report()``, ``health_.history``, ``health_.grad_norms``. Not saved by :meth:`save`
            (``None`` after :meth:`load`).
    """

    def __init__(
        self,
        model: str = "mlp",
        task: str = "auto",
        loss: str = "auto",
        loss_options: dict[str, Any] | None = None,
        imbalance: str = "balanced",
        epochs: int = 30,
        batch_size: int = 64,
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        model_options: dict[str, Any] | None = None,
        precision: str = "32",
        val_size: float = 0.15,
        threshold_objective: str = "f1",
        standardize: bool = True,
        seed: int = 0,
        device: str = "auto",
        verbose: bool = False,
    ) -> None:
        self.model = model
        self.task = task
        self.loss = loss
        self.loss_options = loss_options
        self.imbalance = imbalance
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.model_options = model_options
        self.precision = precision
        self.val_size = val_size
        self.threshold_objective = threshold_objective
        self.standardize = standardize
        self.seed = seed
        self.device = device
        self.verbose = verbose

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any = None, *, run_dir: str | os.PathLike[str] | None = None) -> Classifier:
        """Train on features ``X`` and labels ``y``.

        Args:
            X (array-like[N, F] or [N, C, H, W], DataFrame, Tensor, or a DatasetBundle): features. A
                :class:`~logitlab.data.DatasetBundle` brings its own labels, validation split and
                preprocessing; ``y`` must then be ``None``.
            y (array-like): labels: 1-D classes (any type), label lists, or an ``[N, L]`` 0/1 matrix.
            run_dir (str or Path, optional): where the trainer writes ``metrics.csv`` and ``checkpoints/``.
                Default: nothing written.

        Returns:
            Classifier: ``self``.

        Raises:
            ConfigError: an invalid parameter. DataError / TargetError: unusable features or labels.
        """
        self._check_params()
        prepared = self._prepare(X, y)
        self._train(prepared, run_dir)
        return self

    def _check_params(self) -> None:
        from .tasks import Task

        if self.task != "auto":
            Task.from_str(self.task)
        checks = [
            ("epochs", self.epochs, isinstance(self.epochs, (int, np.integer)) and self.epochs >= 1, "epochs=30"),
            ("batch_size", self.batch_size, isinstance(self.batch_size, (int, np.integer)) and self.batch_size >= 1, "batch_size=64"),
            ("lr", self.lr, isinstance(self.lr, (int, float)) and self.lr > 0, "lr=1e-3"),
            ("weight_decay", self.weight_decay, isinstance(self.weight_decay, (int, float)) and self.weight_decay >= 0, "weight_decay=1e-4"),
            ("val_size", self.val_size, isinstance(self.val_size, (int, float)) and 0 <= self.val_size < 1, "val_size=0.15"),
            ("device", self.device, self.device in _DEVICES, "device='auto'"),
            ("imbalance", self.imbalance, self.imbalance in _IMBALANCE, f"one of {_IMBALANCE}"),
            ("threshold_objective", self.threshold_objective, _valid_objective(self.threshold_objective), _OBJECTIVE_FIX),
        ]  # fmt: skip
        for name, value, ok, fix in checks:
            if not ok:
                raise ConfigError(
                    f"Got an invalid value for argument `{name}`: {value!r}.",
                    fix=f"use {fix}.",
                    code="bad-param",
                )
        for name in ("loss_options", "model_options"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, dict):
                raise ConfigError(
                    f"Expected argument `{name}` to be a dict or None; got {type(value).__name__}.",
                    fix=f"pass {name}={{...}} with keyword options.",
                    code="bad-param",
                )

    def _prepare(self, X: Any, y: Any) -> _Prepared:
        """A bundle from ``X, y`` (labels encoded, validation split, preprocessing fitted on train only)."""
        import pandas as pd

        from .data.arrays import from_arrays
        from .data.bundle import DatasetBundle
        from .tasks import Task

        if isinstance(X, DatasetBundle):
            if y is not None:
                raise ConfigError(
                    "Got a DatasetBundle and labels `y`; a bundle brings its own labels.",
                    fix="call fit(bundle) without y.",
                    code="bundle-with-y",
                )
            if self.task != "auto" and Task.from_str(self.task) is not X.task:
                raise ConfigError(
                    f"Classifier(task={self.task!r}) but the bundle was loaded for task {X.task.value!r}.",
                    fix="pass task= to load_dataset, or leave Classifier(task='auto').",
                    code="task-mismatch",
                )
            bundle = X
        else:
            if y is None:
                raise ConfigError(
                    "Expected labels `y` for fit(X, y); got None.", fix="call fit(X, y).", code="missing-y"
                )
            task = None if self.task == "auto" else self.task
            features = X if isinstance(X, pd.DataFrame) else _as_features(X)
            bundle = from_arrays(
                features,
                y,
                task=task,
                val_size=self.val_size,
                test_size=0.0,
                seed=int(self.seed),
                standardize=bool(self.standardize),
            )
            if isinstance(X, pd.DataFrame):
                self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
                self.n_features_in_ = int(X.shape[1])
            elif features.ndim == 2:
                self.n_features_in_ = int(features.shape[1])
        self._set_labels(bundle.label_encoder, tuple(bundle.input_shape), bundle.task_reason)
        self.decisions_["notes"] = list(dict.fromkeys([*self.decisions_["notes"], *bundle.notes]))
        self.data_state_ = bundle.state
        has_val = len(bundle.val) > 0
        return _Prepared(
            bundle.train.materialize().float(),
            bundle.train.y,
            bundle.val.materialize().float() if has_val else None,
            bundle.val.y if has_val else None,
        )

    def _train(self, p: _Prepared, run_dir: str | os.PathLike[str] | None) -> None:
        """Weights (train split), loss, model, trainer, then thresholds tuned on validation."""
        import torch

        from .losses import make_loss
        from .models import build_model

        torch.manual_seed(int(self.seed))
        options = dict(self.loss_options or {})
        key = "weight" if self.task_ == "multiclass" else "pos_weight"
        weights = None if key in options else self._imbalance_weights(p.t_train)  # the user's own weights win
        if weights is not None:
            options[key] = weights
        loss_fn = make_loss(self.task_, self.loss, **options)
        model_options = dict(self.model_options or {})
        if "prior" in model_options and self.task_ != "binary":
            model_options.setdefault("task", self.task_)
        model = build_model(
            self.model, input_shape=self.input_shape_, n_outputs=self.n_outputs_, **model_options
        )
        self.model_spec_ = dict(getattr(model, "model_spec"))  # noqa: B009  (set by build_model)
        self.history_ = _fit_model(self, model, loss_fn, p, run_dir)
        self.model_ = model.cpu().eval() if _device(self.device) == "cpu" else model.eval()
        self.decisions_.update(
            loss=f"{type(loss_fn).__name__} (loss={self.loss!r}{', ' if self.loss_options else ''}"
            f"{', '.join(f'{k}={v!r}' for k, v in (self.loss_options or {}).items())})",
            weights=None
            if weights is None
            else {
                "strategy": self.imbalance,
                "kind": "class_weight" if self.task_ == "multiclass" else "pos_weight",
                "values": [round(float(w), 4) for w in weights],
            },
        )
        self.thresholds_ = self._tune(p)
        self.decisions_["thresholds"] = self.thresholds_.to_dict() if self.thresholds_ is not None else None

    def _imbalance_weights(self, t_train: Tensor) -> Tensor | None:
        from .weights import class_weight, pos_weight

        if self.imbalance == "none":
            return None
        if self.task_ == "multiclass":
            if t_train.ndim != 1:  # class probabilities: weights need hard labels
                return None
            return class_weight(t_train, strategy=cast(Any, self.imbalance), num_classes=self.n_outputs_)
        return pos_weight(t_train, strategy=cast(Any, self.imbalance))

    def _tune(self, p: _Prepared) -> Any:
        from .evaluate import tune_thresholds

        if p.x_val is None or p.t_val is None or self.threshold_objective == "none" or len(p.x_val) == 0:
            return None
        logits = self._raw_logits(p.x_val)
        return tune_thresholds(logits, p.t_val, task=self.task_, objective=self.threshold_objective)

    def _set_labels(self, encoder: Any, input_shape: tuple[int, ...], reason: str) -> None:
        self.label_encoder_ = encoder
        self.task_ = encoder.task.value
        self.classes_ = _as_classes(encoder.classes)
        self.label_names_ = list(encoder.output_names)
        self.n_outputs_ = int(encoder.n_outputs)
        self.input_shape_ = tuple(int(d) for d in input_shape)
        self.decisions_: dict[str, Any] = {
            "task": self.task_,
            "task_reason": reason,
            "notes": list(encoder.notes),
        }

    # ------------------------------------------------------------------ predict
    def decision_function(self, X: Any) -> np.ndarray:
        """Logits: ``[N]`` for binary (the positive class), ``[N, L]`` / ``[N, C]`` otherwise."""
        logits = self._logits(X).numpy()
        return logits[:, 0] if self.task_ == "binary" else logits

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities with the task's activation.

        Returns:
            ndarray: binary ``[N, 2]`` (columns follow ``classes_``), multilabel ``[N, L]`` (independent
            sigmoids), multiclass ``[N, C]`` (softmax, rows sum to 1).
        """
        from .tasks import probabilities

        proba = probabilities(self._logits(X), self.task_).numpy()
        if self.task_ == "binary":
            return np.column_stack([1.0 - proba[:, 0], proba[:, 0]])
        return proba

    def predict(self, X: Any) -> np.ndarray:
        """Decisions with the tuned thresholds.

        Returns:
            ndarray: binary/multiclass ``[N]`` values of ``classes_``; multilabel a 0/1 int matrix ``[N, L]``.
        """
        from .evaluate import predict_labels

        decided = predict_labels(self._logits(X), task=self.task_, thresholds=self.thresholds_).cpu().numpy()
        if self.task_ == "multilabel":
            return decided.astype(np.int64).reshape(len(decided), -1)
        return self.classes_[decided.reshape(len(decided), -1)[:, 0].astype(np.int64)]

    def predict_with_confidence(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """Decisions and a confidence in [0, 1] for each.

        Sigmoid tasks: ``|p - 0.5| * 2`` per label (0 at p = 0.5, 1 at p = 0 or 1); multiclass: the
        largest class probability.

        Returns:
            (ndarray, ndarray): ``predict(X)`` and the confidence, ``[N]`` (binary, multiclass) or ``[N, L]``.
        """
        proba = self.predict_proba(X)
        if self.task_ == "multiclass":
            confidence = proba.max(axis=1)
        elif self.task_ == "binary":
            confidence = np.abs(proba[:, 1] - 0.5) * 2
        else:
            confidence = np.abs(proba - 0.5) * 2
        return self.predict(X), confidence

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy of :meth:`predict` (subset accuracy for multilabel), like scikit-learn's classifiers."""
        from sklearn.metrics import accuracy_score

        if self.task_ != "multilabel":
            return float(
                accuracy_score(np.asarray(y).reshape(-1), self.predict(X), sample_weight=sample_weight)
            )
        truth = self.label_encoder_.transform(y).numpy().astype(np.int64)
        return float(accuracy_score(truth, self.predict(X), sample_weight=sample_weight))

    def _logits(self, X: Any) -> Tensor:
        """Logits ``[N, n_outputs]`` (float32, CPU) of raw inputs, or of a data-layer ``Split``/``Inputs``."""
        import pandas as pd
        from sklearn.utils.validation import check_is_fitted

        from .data.bundle import Inputs, Split

        check_is_fitted(self, "model_")
        if isinstance(X, (Split, Inputs)):  # already preprocessed by the data layer
            return self._raw_logits(_materialize(X.x))
        if not isinstance(X, pd.DataFrame) and self.data_state_.kind == "tabular":
            X = _as_features(X)
        if hasattr(self, "feature_names_in_") and isinstance(X, pd.DataFrame):
            missing = [c for c in self.feature_names_in_ if c not in set(map(str, X.columns))]
            if missing:
                raise DataError(
                    f"X lacks the feature columns {missing[:10]} seen at fit time.",
                    fix="give the same columns as at fit time.",
                    code="feature-mismatch",
                )
        return self._raw_logits(_materialize(self.data_state_.transform(X)))

    def _raw_logits(self, x: Tensor) -> Tensor:
        import torch

        device = next(self.model_.parameters()).device
        self.model_.eval()
        out = []
        with torch.inference_mode():
            for start in range(0, len(x), 4096):
                out.append(self.model_(x[start : start + 4096].to(device)).float().cpu())
        logits = torch.cat(out) if out else torch.empty(0, self.n_outputs_)
        return logits.reshape(len(x), self.n_outputs_)

    # ------------------------------------------------------------------ save / load
    def save(self, directory: str | os.PathLike[str]) -> Path:
        """Write ``model.safetensors`` and ``model.json`` into ``directory`` (created if missing); no pickle.

        Returns:
            Path: the directory.
        """
        from sklearn.utils.validation import check_is_fitted

        from . import __version__

        check_is_fitted(self, "model_")
        meta = {
            "library_version": __version__,
            "task": self.task_,
            "classes": [_json_scalar(c) for c in self.classes_],
            "label_names": list(self.label_names_),
            "label_encoder": self.label_encoder_.to_dict(),
            "n_outputs": int(self.n_outputs_),
            "input_shape": [int(d) for d in self.input_shape_],
            "model_spec": self.model_spec_,
            "thresholds": self.thresholds_.to_dict() if self.thresholds_ is not None else None,
            "preprocessing": self.data_state_.to_dict(),
            "feature_names": list(self.feature_names_in_) if hasattr(self, "feature_names_in_") else None,
            "params": _json_params(self.get_params()),
            "decisions": self.decisions_,
        }
        return write_model_dir(directory, self.model_.state_dict(), meta)

    @classmethod
    def load(cls, directory: str | os.PathLike[str], *, device: str = "cpu") -> Classifier:
        """Rebuild a fitted classifier from :meth:`save` output; ``predict`` gives identical outputs.

        Raises:
            ModelFileError: a missing, truncated or edited file, or a foreign format.
        """
        state, meta = read_model_dir(directory)
        return _restore(cls, state, meta, device=device)


def _json_scalar(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _json_params(params: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in params.items():
        out[key] = (
            value if isinstance(value, (str, int, float, bool, dict, list, type(None))) else repr(value)
        )
    return out


def _as_features(X: Any) -> np.ndarray:
    """Array features as a float64 NumPy array ``[N, ...]`` (NaN allowed: imputed and reported; Inf refused)."""
    if hasattr(X, "detach"):
        X = X.detach().cpu().double().numpy()
    try:
        x = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"Expected numeric features; NumPy could not convert them to float ({exc}).",
            fix="pass a 2-D numeric array [N, F] (or images [N, C, H, W]), or a DataFrame for mixed column types.",
            code="bad-features",
        ) from None
    if x.ndim < 2:
        raise DataError(
            f"Expected 2D array, got {x.ndim}D array instead (shape {list(x.shape)}).",
            fix="reshape your data with array.reshape(-1, 1) for a single feature, or array.reshape(1, -1) for one sample.",
            code="bad-features",
        )
    _check_finite(x)
    return x


def _materialize(x: Any) -> Tensor:
    import torch

    if isinstance(x, torch.Tensor):
        return x.float()
    items = [x[i] for i in range(len(x))]
    return torch.stack(items).float() if items else torch.zeros(0)


def _check_finite(x: np.ndarray) -> None:
    bad = np.isinf(x.reshape(len(x), -1))
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        shown = ", ".join(str(int(r)) for r in rows[:10])
        raise DataError(
            f"Expected finite features; {int(bad.sum())} infinite values in {len(rows)} rows (row positions {shown}).",
            fix="replace the infinities (np.nan_to_num, or clip) or drop those rows; NaN is imputed with the median.",
            code="nonfinite-features",
        )


def _as_classes(classes: list[Any]) -> np.ndarray:
    """``classes_`` as scikit-learn keeps it: a 1-D array (object dtype when the types are mixed)."""
    arr = np.asarray(classes)
    if arr.ndim != 1 or arr.dtype.kind not in "biufUS":
        arr = np.empty(len(classes), dtype=object)
        arr[:] = classes
    return arr


def _device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _restore(
    cls: type[Classifier], state: dict[str, Any], meta: dict[str, Any], *, device: str
) -> Classifier:
    """A fitted Classifier from a validated ``model.json`` and its weights."""
    from .data.bundle import DataState
    from .data.labels import LabelEncoder
    from .errors import ModelFileError
    from .evaluate import Thresholds
    from .models import build_model

    valid = set(cls().get_params())
    clf = cls(**{k: v for k, v in meta["params"].items() if k in valid})
    encoder = LabelEncoder.from_dict(meta["label_encoder"])
    clf._set_labels(encoder, tuple(meta["input_shape"]), "")
    if [str(c) for c in clf.classes_] != [str(c) for c in meta["classes"]] or clf.task_ != meta["task"]:
        raise ModelFileError(
            "model.json is inconsistent: `classes`/`task` differ from `label_encoder`.",
            fix="save the model again; do not edit model.json by hand.",
            code="model-json-inconsistent",
        )
    clf.decisions_ = dict(meta.get("decisions") or clf.decisions_)
    clf.model_spec_ = dict(meta["model_spec"])
    model = build_model(**clf.model_spec_)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelFileError(
            f"The weights do not fit the model described in model.json ({str(exc).splitlines()[0]}).",
            fix="save the model again, or copy model.safetensors and model.json together.",
            code="model-weights-mismatch",
        ) from None
    clf.model_ = model.to(_device(device)).eval()
    clf.thresholds_ = Thresholds.from_dict(meta["thresholds"]) if meta["thresholds"] is not None else None
    clf.data_state_ = DataState.from_dict(meta["preprocessing"])
    if meta["feature_names"] is not None:
        clf.feature_names_in_ = np.asarray(meta["feature_names"], dtype=object)
    if len(clf.input_shape_) == 1:
        clf.n_features_in_ = clf.input_shape_[0]
    clf.history_ = []
    clf.health_ = None
    return clf


def _fit_model(clf: Classifier, model: Any, loss_fn: Any, p: _Prepared, run_dir: Any) -> list[dict[str, Any]]:
    """Train ``model`` with the library's Trainer; returns the per-epoch history."""
    from .doctor.monitor import HealthMonitor
    from .train import TrainConfig, Trainer

    config = TrainConfig(
        epochs=int(clf.epochs),
        batch_size=int(clf.batch_size),
        lr=float(clf.lr),
        weight_decay=float(clf.weight_decay),
        precision=clf.precision,  # type: ignore[arg-type]  # TrainConfig validates the string
        seed=int(clf.seed),
        device=_device(clf.device),
    )
    monitor = HealthMonitor(loss_fn=loss_fn)  # on by default: reads only the loss the trainer reads anyway
    clf.health_ = monitor
    trainer = Trainer(
        model, loss_fn, config, callbacks=[monitor], run_dir=run_dir, metrics_fn=_val_metrics(clf.task_)
    )
    val = (p.x_val, p.t_val) if p.x_val is not None else None
    history = trainer.fit((p.x_train, p.t_train), val)
    return list(history or [])


def _val_metrics(task: str) -> Callable[[Tensor, Tensor], dict[str, float]]:
    """Cheap validation metrics for each epoch's history row (and so the report's training curves).

    Binary: ``roc_auc`` and ``f1``; multilabel: ``roc_auc`` (macro over the labels where it is defined)
    and ``f1_macro`` (over all labels); multiclass: ``accuracy`` and ``f1_macro`` (over the classes seen
    in the targets or the predictions). The definitions of :func:`logitlab.evaluate.compute_metrics`
    (decisions at 0.5 / argmax: the thresholds are tuned after training), computed with a few vectorised
    tensor ops: about a tenth of a millisecond per epoch on small validation sets, where ``compute_metrics``
    takes several milliseconds. Soft targets are rounded (multiclass: argmax). Non-finite logits give NaN metrics (the
    trainer and the health monitor report the cause).
    """
    import math

    import torch

    def f1(tp: Tensor, fp: Tensor, fn: Tensor) -> Tensor:
        denom = (2 * tp + fp + fn).double()
        return torch.where(denom > 0, 2 * tp / denom.clamp(min=1), 0.0)

    def binary(z: Tensor, y: Tensor) -> dict[str, float]:
        t, pred = (y.reshape(-1) >= 0.5)[None], (z.reshape(-1) >= 0)[None]
        auc = float(_rank_auroc(z.reshape(1, -1), t)[0])
        tp, fp, fn = (pred & t).sum(1), (pred & ~t).sum(1), (~pred & t).sum(1)
        return {"roc_auc": auc, "f1": float(f1(tp, fp, fn)[0])}

    def multilabel(z: Tensor, y: Tensor) -> dict[str, float]:
        t, pred = (y >= 0.5).T, (z >= 0).T  # [L, N]
        aucs = _rank_auroc(z.T, t)
        defined = ~torch.isnan(aucs)
        auc = float(aucs[defined].mean()) if bool(defined.any()) else math.nan
        tp, fp, fn = (pred & t).sum(1), (pred & ~t).sum(1), (~pred & t).sum(1)
        return {"roc_auc": auc, "f1_macro": float(f1(tp, fp, fn).mean())}

    def multiclass(z: Tensor, y: Tensor) -> dict[str, float]:
        n = z.shape[1]
        t, pred = (y.argmax(1) if y.ndim == 2 else y).long().reshape(-1), z.argmax(1)
        hit = pred == t
        tp = torch.bincount(t[hit], minlength=n)
        fp, fn = torch.bincount(pred, minlength=n) - tp, torch.bincount(t, minlength=n) - tp
        seen = (tp + fp + fn) > 0
        return {"accuracy": float(hit.double().mean()), "f1_macro": float(f1(tp, fp, fn)[seen].mean())}

    compute, keys = {
        "binary": (binary, ("roc_auc", "f1")),
        "multilabel": (multilabel, ("roc_auc", "f1_macro")),
        "multiclass": (multiclass, ("accuracy", "f1_macro")),
    }[task]

    def metrics(logits: Tensor, targets: Tensor) -> dict[str, float]:
        z = logits.detach().float()
        if not len(z) or not bool(torch.isfinite(z).all()):
            return dict.fromkeys(keys, math.nan)
        return compute(z, targets.detach())

    return metrics


def _rank_auroc(scores: Tensor, targets: Tensor) -> Tensor:
    """ROC-AUC of each row of ``scores`` ``[L, N]`` against 0/1 ``targets`` ``[L, N]``.

    The Mann-Whitney statistic from average ranks (a tie between a positive and a negative counts
    one half), which is the area under the ROC curve; NaN for a row without positives or negatives.
    One sort per row and a few linear passes.
    """
    import torch

    ordered, order = scores.sort(dim=1)
    t = targets.gather(1, order).double()
    n = ordered.shape[1]
    at = torch.arange(n, device=scores.device).expand_as(ordered)
    first = torch.ones_like(ordered, dtype=torch.bool)  # the first of a run of equal scores
    first[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    last = torch.ones_like(first)
    last[:, :-1] = first[:, 1:]
    start = torch.where(first, at, 0).cummax(dim=1).values
    end = torch.where(last, at, n - 1).flip(1).cummin(dim=1).values.flip(1)
    ranks = (start + end).double() / 2 + 1  # 1-based; a run of ties shares its mean rank
    pos = t.sum(1)
    neg = n - pos
    return ((ranks * t).sum(1) - pos * (pos + 1) / 2) / (pos * neg)  # 0 / 0 = NaN when undefined


def _valid_objective(objective: Any) -> bool:
    """``"none"`` or an objective :func:`~logitlab.evaluate.tune_thresholds` accepts."""
    if objective == "none":
        return True
    if not isinstance(objective, str):
        return False
    from .evaluate.thresholds import _parse_objective

    try:
        _parse_objective(objective, 1.0)
    except ConfigError:
        return False
    return True
