"""``Classifier``: the whole recipe behind a scikit-learn estimator.

``fit`` checks every parameter, infers the task (and says why), encodes the labels, splits off a
stratified validation set, checks the parameters that depend on the task, computes imbalance weights
from the training split only, builds the task's loss and the model, trains with
:class:`~logitlab.train.Trainer` (keeping the weights of the best validation epoch), and tunes the
decision thresholds and a calibration map on the validation split. ``predict_proba`` returns
calibrated probabilities (the imbalance weights shift the learned log-odds by about ``log(weight)``;
the map fitted on validation undoes that), ``predict`` applies the thresholds tuned on that calibrated
scale (so ``predict == argmax(predict_proba)`` wherever tuning left 0.5 / no class bias), and
``decision_function`` stays the raw logits (read as scikit-learn does: binary, the logit of ``classes_[1]``).

The command line (:mod:`logitlab.workflows`) uses only this class's public methods:
:meth:`Classifier.check_params`, :meth:`Classifier.training_setup`, :meth:`Classifier.fit`,
:meth:`Classifier.outputs`, :meth:`Classifier.save` and :meth:`Classifier.load`.

Examples:
    >>> import numpy as np
    >>> from logitlab import Classifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)).astype("float32")
    >>> y = np.where(X[:, 0] + 0.1 * rng.normal(size=200) > 0, "yes", "no")
    >>> clf = Classifier(epochs=5).fit(X, y)
    >>> clf.task_, clf.classes_.tolist()
    ('binary', ['no', 'yes'])
    >>> float(clf.score(X, y)) > 0.9
    True
"""

# Longer than the 400-line aim on purpose: one public class whose methods and docstrings (scikit-learn's API,
# training_setup, outputs, save/load) are what users read; its private machinery is in _state.py.

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, cast

import numpy as np

from .._sklearn_base import EstimatorBase, check_fitted
from ..errors import ConfigError, DataError
from ..features import as_features, as_frame, as_targets, check_n_features
from ..model_io import read_model_dir, write_model_dir
from ..options import CLASSIFIER_DEFAULTS as DEFAULTS
from ._state import refuse_soft_labels, restore, saved_meta

if TYPE_CHECKING:
    from torch import Tensor, nn

    from ..data import DatasetBundle
    from ..evaluate import Calibration, DecisionRule
    from ..weights import ImbalanceWeights
    from ._crossfit import Plan

__all__ = ["Classifier", "Outputs", "TrainingSetup"]

_CAL_SUMMARY = ("method", "notes", "log_loss_before", "log_loss_after")  # what decisions_ shows of the map


@dataclass
class TrainingSetup:
    """What :meth:`Classifier.fit` trains: the data, the task's loss (with its weights) and the model.

    Attributes:
        bundle (DatasetBundle): the encoded, split and preprocessed data.
        loss_fn (nn.Module): the loss, built by :func:`~logitlab.losses.make_loss` for the task.
        model (nn.Module): the untrained network (returns logits ``[N, n_outputs]``).
        weights (ImbalanceWeights or None): the imbalance weights given to the loss (``None`` when
            ``imbalance="none"`` or when ``loss_options`` bring their own).
        plan (Plan or None): which rows each member trains and stops on, and the rows the calibration and
            thresholds are fitted on (cross-fitting or one split, see ``cv``).
    """

    bundle: DatasetBundle
    loss_fn: nn.Module
    model: nn.Module
    weights: ImbalanceWeights | None
    plan: Plan | None = None


class Outputs(NamedTuple):
    """Everything :meth:`Classifier.outputs` computes from one forward pass."""

    logits: Tensor  #: ``[N, n_outputs]`` float32 on the CPU, in the network's order (what ``predict_logits`` returns)
    proba: np.ndarray  #: what ``predict_proba`` returns
    labels: np.ndarray  #: what ``predict`` returns


class Classifier(EstimatorBase):
    """A PyTorch classifier for binary, multi-label and multi-class tasks, with scikit-learn conventions.

    ``__init__`` only stores the parameters (so ``get_params``/``set_params``/``sklearn.base.clone``
    work); :meth:`fit` checks them all before reading the data, and the ones that depend on the task
    as soon as the task is known, before the first epoch.

    Args:
        model (str): model name for :func:`~logitlab.models.build_model`, or ``"auto"``: on a table held in
            memory, ``"linear"`` and ``"mlp"`` both fitted on the same rows (the same folds) and the one of lower
            calibrated validation (out-of-fold) log-loss kept, the reason in ``decisions_["model"]``; ``"cnn"``
            for images; ``"sparse"`` for text columns and scipy sparse ``X`` (linear: fitted full-batch by
            L-BFGS as ``"linear"`` is, :data:`~logitlab.options.SPARSE_FULL_BATCH`); ``"mlp"`` for streamed rows,
            ``ensemble > 1`` or the MLP's own ``model_options``. Or ``"mlp"``, ``"linear"`` (logistic / softmax regression, fitted
            full-batch by L-BFGS to the optimum of the loss plus ``weight_decay / 2 * ||W||^2``: ``epochs``,
            ``lr`` and ``batch_size`` do not apply), ``"sparse"``, ``"cnn"``, ``"resnet18"``, ... Default: ``"auto"``.
        task (str): ``"auto"`` (inferred from ``y``, the reason is in ``decisions_``), ``"binary"``,
            ``"multilabel"`` or ``"multiclass"``. Default: ``"auto"``.
        loss (str): loss name for :func:`~logitlab.losses.make_loss`; ``"auto"`` is BCE for sigmoid tasks
            and cross entropy for multiclass. Default: ``"auto"``.
        loss_options (dict, optional): extra keyword options of the loss (e.g. ``{"gamma": 2.0}``); a
            ``pos_weight`` / ``weight`` given here replaces the imbalance weights.
        imbalance (str): weight strategy computed on the training split (``pos_weight`` for sigmoid tasks,
            class weights for multiclass, soft labels counting their probability mass): one of
            :data:`logitlab.options.IMBALANCE_STRATEGIES`. ``"auto"``: ``"balanced"``, or ``"none"`` for the
            sparse-native model (:data:`~logitlab.options.SPARSE_TRAINING`); a strategy given is always used.
            The value and reason are in ``decisions_["training"]``. Default: ``"auto"``.
        epochs (int or "auto"): training epochs; ``"auto"`` scales them to the data: at least 2,000
            optimiser steps and 30 epochs (at most 1,000), with the learning rate cut on each plateau of the
            unweighted validation log-loss and a stop after the second cut (:data:`~logitlab.options.AUTO_SCHEDULE`);
            a number trains that many epochs (cosine schedule). Either way the weights of the epoch of lowest
            unweighted validation log-loss are kept. See :data:`~logitlab.options.AUTO_EPOCHS`. Default: ``"auto"``.
        batch_size (int): batch size. Default: ``64``.
        lr (float or "auto"): peak learning rate (AdamW). ``"auto"``: ``1e-3`` for the networks logitlab
            builds; ``5e-5`` with a linear warmup over the first 6 % of the planned steps for ``model="hf:PATH"``
            (:data:`~logitlab.options.AUTO_LR`; the value and reason in ``decisions_["lr"]``). A number is used as
            it is, without a warmup. Default: ``"auto"``.
        weight_decay (float or "auto"): AdamW weight decay; for ``model="linear"`` and the sparse linear model
            the L2 strength on the mean loss (scikit-learn's ``LogisticRegression(C=1 / (weight_decay * n_train))``).
            ``"auto"``: ``1e-4``; for the sparse linear model ``1 / (C * n_train)`` (multi-label: ``* labels``) at
            :data:`~logitlab.options.SPARSE_FULL_BATCH`'s ``C``; ``0.01`` for the sparse model with a hidden layer
            (:data:`~logitlab.options.SPARSE_TRAINING`); a number given is always used. The value and reason are in ``decisions_["training"]``. Default: ``"auto"``.
        model_options (dict, optional): keyword options of the model (e.g. ``{"hidden": [128, 64]}``).
        ensemble (int): with one split (``cv=1``), train ``K`` networks one after another (own initialisation
            and batch order, the same validation split) and average their logits
            (:class:`~logitlab.models.Ensemble`); the calibration and thresholds are fitted on the average.
            About ``K`` times the fit time. Refused next to ``cv > 1`` (cross-fitting already averages its fold
            models); with ``cv="auto"`` it keeps one split. Default: ``1``.
        cv (int, None or "auto"): ``K >= 2`` cross-fits: the training and validation rows are pooled into
            ``K`` stratified folds, fold model ``k`` trains on the others and stops early on fold ``k``, the
            calibration and thresholds are fitted on the pooled out-of-fold logits, and the fitted model
            averages the ``K`` fold models' logits; ``1`` or ``None``: one validation split, cut in two
            stratified halves (the first picks the epoch, the second fits calibration and thresholds);
            ``"auto"``: ``5`` on tables of up to 5,000 rows that are small or where one validation split would
            hold under about 50 rows of the rarest class, else ``1`` (:data:`~logitlab.options.CV_AUTO`; the decision and its reason are in
            ``decisions_["cv"]``). Cross-fitting is refused on streaming tables and under DDP. Default: ``"auto"``.
        precision (str): ``"fp32"``, ``"bf16"`` or ``"fp16"`` (CUDA); also spelled ``"32"``, ``"16"``.
            Default: ``"fp32"``.
        val_size (float): share of the training rows held out to pick the best epoch and tune thresholds
            with one split (cross-fitting pools them back); ``0`` trains on every row, keeps the last epoch and
            the thresholds at 0.5, and calibrates with the prior correction alone. Default: ``0.15``.
        threshold_objective (str): what the tuned thresholds maximise on validation: ``"f1"``,
            ``"fbeta=B"``, ``"precision_at_recall=R"`` / ``"recall_at_precision=P"`` (binary and multilabel),
            ``"none"`` (0.5 / no class bias) or ``"auto"``: ``"f1"`` for binary and multilabel, ``"none"`` for
            multiclass, whose argmax of calibrated probabilities is the accuracy-maximising decision (``"f1"``
            tunes class biases for macro-F1 instead); see :func:`~logitlab.evaluate.tune_thresholds` and
            :data:`~logitlab.options.AUTO_OBJECTIVE`. Default: ``"auto"``.
        calibration (str): the map fitted on the validation split after training, so that
            ``predict_proba`` is a probability: ``"auto"`` (Platt per label for sigmoid tasks, started from
            the prior correction ``-log(pos_weight)``; temperature plus the class-weight bias for
            multiclass), ``"platt"``, ``"temperature"``, ``"isotonic"`` (per label, where it beats Platt
            out of fold) or ``"none"``. Without a validation split there is nothing to fit it on and the
            probabilities stay the raw activation. See :func:`~logitlab.evaluate.calibrate`. Default: ``"auto"``.
        standardize (bool): standardise features with the training split's mean and standard deviation
            (per column of ``[N, F]`` inputs, per channel of images); stored with the model. Default: ``True``.
        numeric_scaling (str): how the numeric columns of a DataFrame ``X`` are scaled after median
            imputation, one of :data:`~logitlab.options.NUMERIC_SCALINGS`: ``"robust"`` (median and
            inter-quartile range, then the smooth clip ``z / sqrt(1 + (z / 3)^2)`` that bounds heavy tails and
            outliers to (-3, 3), as RealMLP), ``"standard"`` (mean and std) or ``"quantile"`` (the training
            quantiles mapped to a standard normal). Arrays follow ``standardize``. Stored with the model.
            Default: ``"robust"`` (see ``benchmarks/RESULTS.md``).
        random_state (int or None): seed of the split, the initialisation and the batch order, as in
            scikit-learn: an int gives the same fit each time, ``None`` a fresh seed each ``fit`` (the one
            used is ``seed_``); a ``numpy.random.RandomState`` gives its next integer. Default: ``0``.
        device (str): ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``.
            Default: ``"auto"``.
        verbose (bool): show training progress: a live bar per epoch on a terminal, one plain line per
            epoch otherwise (logs, ``tee``). Default: ``False``.
        positive (optional): the positive class of a binary ``y`` given to ``fit(X, y)``. Default: the
            class coded 1/True, a yes-like name, else the later class in sorted order (never by counts;
            a ``DatasetBundle`` brings its own, from ``load_dataset(positive=)``).
        label_map (dict or str, optional): spellings of a label of ``y`` given to ``fit(X, y)`` mapped to one
            value before the labels are encoded: ``{"Yes": "yes"}``, ``"yes=1,Yes=1,no=0"`` or a JSON object
            (each label of a label list on its own); kept with the model, so ``predict`` writes the mapped
            names and ``score`` maps the labels it is given. A ``DatasetBundle`` brings its own
            (``load_dataset(label_map=)``). Default: none.
        seed (int, optional): deprecated spelling of ``random_state`` (a ``FutureWarning`` at ``fit``;
            it will be removed). Default: ``None``.

    Attributes:
        classes_ (ndarray): binary and multiclass: the classes sorted, as scikit-learn's (the columns of
            ``predict_proba``; a model saved before keeps its saved order); multilabel: the label names
            (``predict`` returns a 0/1 matrix over them). The positive class of a binary task is
            ``label_encoder_.positive``, either of the two.
        task_ (str): the task used.
        seed_ (int): the seed the fit used (``random_state``, or the one drawn for ``None``).
        thresholds_ (Thresholds or None): tuned on the out-of-fold logits (or the calibration half of the
            validation split), on the calibrated scale (applied to ``calibration_.calibrated_logits(z)``).
        validation_logits_ (Tensor), validation_targets_ (Tensor): the rows the calibration and thresholds
            were fitted on: every row's out-of-fold logits when cross-fitted (not saved by :meth:`save`).
        calibration_ (Calibration or None): fitted on the validation split (``None`` with
            ``calibration="none"`` or no validation split).
        decisions_ (dict): the task and its reason, the loss, the weights, the best epoch, the thresholds.
            ``best_epoch`` counts from 1; with several members (cross-fitted folds, an ensemble) it is member
            1's (the one ``history_`` shows) and ``best_epochs`` lists each member's.
        model_ (nn.Module): the trained network (returns logits), with the weights of the epoch of
            lowest validation loss (the last epoch without a validation split).
        history_ (list[dict]): per-epoch logs from the trainer: ``train_loss``, ``lr`` and, with a
            validation split, ``val_loss`` and cheap ``val_`` metrics (:func:`~logitlab.evaluate.epoch_metrics`).
        health_ (HealthMonitor): the training-health monitor that watched the run (logit statistics,
            gradient norms, loss spikes; NaN/Inf stop the run with a ``TrainingError``). Not saved by
            :meth:`save` (``None`` after :meth:`load`).
    """

    decisions_: dict[str, Any]
    calibration_: Calibration | None

    def __init__(
        self,
        model: str = DEFAULTS["model"],
        task: str = DEFAULTS["task"],
        loss: str = DEFAULTS["loss"],
        loss_options: dict[str, Any] | None = DEFAULTS["loss_options"],
        imbalance: str = DEFAULTS["imbalance"],
        epochs: int | str = DEFAULTS["epochs"],
        batch_size: int = DEFAULTS["batch_size"],
        lr: float | str = DEFAULTS["lr"],
        weight_decay: float | str = DEFAULTS["weight_decay"],
        model_options: dict[str, Any] | None = DEFAULTS["model_options"],
        ensemble: int = DEFAULTS["ensemble"],
        cv: int | str | None = DEFAULTS["cv"],
        precision: str = DEFAULTS["precision"],
        val_size: float = DEFAULTS["val_size"],
        threshold_objective: str = DEFAULTS["threshold_objective"],
        calibration: str = DEFAULTS["calibration"],
        standardize: bool = DEFAULTS["standardize"],
        numeric_scaling: str = DEFAULTS["numeric_scaling"],
        random_state: Any = DEFAULTS["random_state"],
        device: str = DEFAULTS["device"],
        verbose: bool = DEFAULTS["verbose"],
        positive: Any = DEFAULTS["positive"],
        text_columns: Any = DEFAULTS["text_columns"],
        seed: int | None = DEFAULTS["seed"],
        label_map: Any = DEFAULTS["label_map"],
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
        self.ensemble = ensemble
        self.cv = cv
        self.precision = precision
        self.val_size = val_size
        self.threshold_objective = threshold_objective
        self.calibration = calibration
        self.standardize = standardize
        self.numeric_scaling = numeric_scaling
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.positive = positive
        self.text_columns = text_columns
        self.seed = seed
        self.label_map = label_map

    def __sklearn_tags__(self) -> Any:
        """scikit-learn's tags: NaN is imputed (dense ``X``), sparse ``X`` is taken, multi-label ``y`` too.

        ``categorical`` and ``string`` stay ``False``: arrays of category codes or strings are read as
        numbers or refused; categorical and text columns are taken in a DataFrame (one-hot encoded).
        """
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # dense X: imputed with the training median (said in decisions_)
        tags.input_tags.sparse = True  # scipy CSR/CSC/any format: densified batch by batch
        tags.target_tags.multi_output = True  # an [N, L] 0/1 matrix or label lists: multilabel
        tags.classifier_tags.multi_label = True
        return tags

    # ------------------------------------------------------------------ checks and set-up
    def check_params(self) -> None:
        """Check every parameter that needs no data (``fit`` calls it first).

        Raises:
            ConfigError: naming the parameter, the value and a valid one (code ``bad-param``, or
            ``device-unavailable`` for CUDA/MPS on a machine without it).
        """
        from ._hf import check_hf_params
        from ._state import check_params

        check_params(self.get_params())
        check_hf_params(self.get_params())  # the folder of model="hf:PATH" (not checked when loading)

    def training_setup(self, X: Any, y: Any = None) -> TrainingSetup:
        """Everything ``fit`` needs before the first epoch, checked: data, labels, weights, loss, model.

        Sets the label attributes (``task_``, ``classes_``, ``label_names_``, ``n_outputs_``,
        ``decisions_``) and checks the parameters that depend on the task (the threshold objective,
        the loss and its options, the model options), so a mistake fails before any training.

        Args:
            X: features, or a ``DatasetBundle``, as :meth:`fit` takes them.
            y: labels, as :meth:`fit` takes them.

        Returns:
            TrainingSetup: the bundle, the loss, the untrained model and the imbalance weights.
        """
        import torch

        from ..evaluate import check_calibration_method, check_objective
        from ..losses import make_loss
        from ..models import build_model
        from ..models.hf import build_hf, is_hf
        from ..models.registry import resolve_model_name
        from ..weights import imbalance_weights
        from ._crossfit import check_coverage, plan_folds, resolve_cv
        from ._hf import CV_REASON, hf_notes
        from ._state import resolve_lr, resolve_seed, resolve_training

        self.check_params()
        self.seed_ = resolve_seed(self.random_state, self.seed)
        bundle = self._bundle(X, y)
        refuse_soft_labels(bundle)
        self._set_labels(bundle)
        check_objective(self.threshold_objective, self.task_)
        check_calibration_method(self.calibration, self.task_)
        hf = is_hf(self.model)
        folds, reason = (1, f"cv={self.cv!r}: {CV_REASON}") if hf else resolve_cv(self, bundle)
        plan, notes = plan_folds(self, bundle, folds, int(self.ensemble))
        self.decisions_["cv"] = {"folds": folds, "reason": reason, "fitted_on": plan.kind}
        self.decisions_["notes"] = list(
            dict.fromkeys([*self.decisions_["notes"], *notes, *check_coverage(self, plan)])
        )
        sparse_input = _is_sparse_rows(bundle.train.x)
        model_name = resolve_model_name(self.model, self.input_shape_, sparse_input=sparse_input)
        training = resolve_training(self.imbalance, self.weight_decay, model_name)
        self.decisions_["training"] = training
        options = dict(self.loss_options or {})
        own = "weight" if self.task_ == "multiclass" else "pos_weight"
        weights = None
        if own not in options:  # the user's own weights win
            rows = plan.pool if plan.pool is not None else bundle.train
            counts = rows.label_counts(self.task_, num_classes=self.n_outputs_)  # streaming: no rows read
            weights = imbalance_weights(
                counts, self.task_, cast(Any, training["imbalance"]), num_classes=self.n_outputs_
            )
        if weights is not None:
            options[weights.option] = weights.values
        loss_fn = make_loss(self.task_, self.loss, **options)
        model_options = dict(self.model_options or {})
        if "prior" in model_options and self.task_ != "binary":
            model_options.setdefault("task", self.task_)
        torch.manual_seed(self.seed_)
        model: nn.Module
        if hf:
            pad = bundle.preprocessor.pad_token_id
            model, built = build_hf(
                self.model,
                n_outputs=self.n_outputs_,
                task=self.task_,
                options=self.model_options,
                pad_token_id=pad,
            )
            self.decisions_["notes"] = list(
                dict.fromkeys(
                    [*self.decisions_["notes"], *built, *hf_notes(resolve_lr(self.lr, self.model)["lr"])]
                )
            )
        else:
            model = build_model(
                self.model,
                input_shape=self.input_shape_,
                n_outputs=self.n_outputs_,
                ensemble=len(plan.members),
                sparse_input=sparse_input,
                **model_options,
            )
        native = model.model_spec["name"] == "sparse"  # type: ignore[index]
        for split in (bundle.train, bundle.val, bundle.test):
            _set_native(split.x, native)
        return TrainingSetup(bundle, loss_fn, model, weights, plan)

    # ------------------------------------------------------------------ fit
    def fit(
        self, X: Any, y: Any = None, *, run_dir: str | os.PathLike[str] | None = None, resume: bool = False
    ) -> Classifier:
        """Train on features ``X`` and labels ``y``.

        Args:
            X (array-like[N, F] or [N, C, H, W], DataFrame, Tensor, scipy sparse [N, F], or a DatasetBundle):
                features (sparse: scaled without centring, densified batch by batch). A
                :class:`~logitlab.data.DatasetBundle` brings its own labels, validation split and
                preprocessing (its lazy image splits are streamed, never loaded whole); ``y`` must then be ``None``.
            y (array-like): labels: 1-D classes (any type), label lists, or an ``[N, L]`` 0/1 matrix.
            run_dir (str or Path, optional): where the trainer writes ``metrics.csv`` and ``checkpoints/``.
                Default: nothing written.
            resume (bool): continue an interrupted fit from the last checkpoint in ``run_dir`` (each
                ensemble member from its own; a member that had finished is not trained again), to the
                weights, history and thresholds an uninterrupted fit of the same data and parameters
                ends with; where ``run_dir`` holds no checkpoint the fit starts fresh. Lightning's
                ``fit(ckpt_path="last")``; unlike scikit-learn's ``warm_start``, it continues the same run,
                it does not start a new one from the last weights. Default: ``False``.

        Returns:
            Classifier: ``self``.

        Raises:
            ConfigError: an invalid parameter, or ``resume`` without ``run_dir``. DataError / TargetError:
                unusable features or labels. CheckpointError: ``resume`` with other ``X`` or ``y`` than the
                interrupted fit began with (``resume-data-changed``; their fingerprints are kept in
                ``run_dir/.logitlab-fit.json``).
        """
        from ._fit_data import check_fit_data

        check_fit_data(run_dir, X, y, resume=resume)  # other data than the interrupted fit's: refused
        if isinstance(self.model, str) and self.model.lower() == "auto":  # tables: linear or MLP
            from ._model_choice import choose_model

            return choose_model(self, X, y, run_dir, resume=resume)
        return self._fit(X, y, run_dir, resume=resume)

    def _fit(
        self, X: Any, y: Any, run_dir: str | os.PathLike[str] | None, *, resume: bool = False
    ) -> Classifier:
        """:meth:`fit` with the model as named (``"auto"``: cnn for images, sparse for text, mlp for features)."""
        from ._crossfit import calibrate_and_tune, validation_metrics
        from ._state import describe_loss, train_model

        if resume and run_dir is None:
            raise ConfigError(
                "Got resume=True without run_dir; a fit resumes from the checkpoints in its run_dir.",
                fix="pass run_dir= (the folder of the interrupted fit), or resume=False.",
                code="resume-without-run-dir",
                param="resume",
            )
        setup = self.training_setup(X, y)
        plan = setup.plan
        assert plan is not None
        self.decisions_["loss"] = describe_loss(setup.loss_fn, self.loss, self.loss_options)
        self.decisions_["weights"] = setup.weights.to_dict() if setup.weights is not None else None
        self.model_, self.history_, self.health_, best, oof = train_model(
            self, setup, run_dir, plan, resume=resume
        )
        self.model_spec_ = dict(getattr(self.model_, "model_spec"))  # noqa: B009  (set by build_model)
        self.decisions_["best_epoch"] = best  # 1-based, as the progress lines print it
        self.decisions_["epochs_count_from"] = 1  # model.json files without it counted from 0 (see restore)
        rows = plan.calibration
        logits = oof if oof is not None else self.predict_logits(rows)
        self.validation_logits_, self.validation_targets_ = logits, rows.y
        self.calibration_, self.thresholds_ = calibrate_and_tune(self, setup, logits, rows.y)
        cal = self.calibration_
        self.decisions_["calibration"] = None if cal is None else {k: cal.to_dict()[k] for k in _CAL_SUMMARY}
        self.decisions_["thresholds"] = self.thresholds_.to_dict() if self.thresholds_ is not None else None
        self.decisions_["validation"] = validation_metrics(self, logits, rows.y, plan.kind)
        return self

    def _bundle(self, X: Any, y: Any) -> DatasetBundle:
        """A bundle from ``X, y`` (labels encoded, validation split, preprocessing fitted on train only)."""
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
            if self.task != "auto" and Task.from_str(self.task) is not X.task:
                raise ConfigError(
                    f"Classifier(task={self.task!r}) but the bundle was loaded for task {X.task.value!r}.",
                    fix="pass task= to load_dataset, or leave Classifier(task='auto').",
                    code="task-mismatch",
                )
            return hf_bundle(self, X, None) if is_hf(self.model) else X
        if y is None:
            raise ConfigError(
                f"{type(self).__name__} requires y to be passed, but the target y is None.",
                fix="call fit(X, y) with one label (or label row) per row of X.",
                code="missing-y",
            )
        if is_hf(self.model):  # one text column -> token ids
            return hf_bundle(self, X, y)
        features = as_frame(X) if isinstance(X, pd.DataFrame) else as_features(X)
        bundle = from_arrays(
            features,
            as_targets(y),
            task=None if self.task == "auto" else self.task,
            val_size=self.val_size,
            test_size=0.0,
            seed=self.seed_,
            standardize=bool(self.standardize),
            numeric_scaling=self.numeric_scaling,
            positive=self.positive,
            text_columns=self.text_columns,
            label_map=self.label_map,
        )
        if isinstance(X, pd.DataFrame):
            self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
            self.n_features_in_ = int(X.shape[1])
        elif features.ndim == 2:
            self.n_features_in_ = int(features.shape[1])
        return bundle

    def _set_labels(self, bundle: DatasetBundle) -> None:
        self.label_encoder_ = bundle.label_encoder
        self.data_state_ = bundle.state
        self._set_label_attributes(tuple(bundle.input_shape))
        notes = [*self.label_encoder_.notes, *bundle.notes]
        self.decisions_ = {
            "task": self.task_,
            "task_reason": bundle.task_reason,
            "notes": list(dict.fromkeys(notes)),
        }

    def _set_label_attributes(self, input_shape: tuple[int, ...], classes: list[Any] | None = None) -> None:
        """The label attributes; ``classes``: the saved ``classes_`` order (else sorted, as scikit-learn)."""
        encoder = self.label_encoder_
        self.task_ = encoder.task.value
        if classes is None:
            classes = encoder.classes if self.task_ == "multilabel" else _sorted(encoder.classes)
        self.classes_ = _as_classes(classes)
        self.label_names_ = list(encoder.output_names)
        self.n_outputs_ = int(encoder.n_outputs)
        self.input_shape_ = tuple(int(d) for d in input_shape)

    def _class_order(self) -> np.ndarray:
        """Per entry of ``classes_``, its position in the label encoder's logit order.

        Binary: ``[negative, positive]``; the identity for multilabel.
        """
        position = {str(c): i for i, c in enumerate(self.label_encoder_.classes)}
        return np.asarray([position[str(c)] for c in self.classes_], dtype=np.int64)

    # ------------------------------------------------------------------ predict
    def predict_logits(self, X: Any) -> Tensor:
        """Logits ``[N, n_outputs]`` (float32, CPU) of raw inputs, or of a data-layer ``Split``/``Inputs``.

        Args:
            X: what :meth:`fit` took (array-like, DataFrame, tensor), or a ``Split``/``Inputs`` from the
                data layer (already preprocessed; lazy image data is read batch by batch).
        """
        import pandas as pd

        from ..data import Inputs, Split
        from ..data.batches import iter_batches, rows_per_batch

        check_fitted(self, "model_")
        native, hf = self.model_spec_.get("name") == "sparse", self.model_spec_.get("name") == "hf"
        # 4096 rows, fewer for wide dense inputs (64 MiB a batch); sparse rows are never densified; a
        # transformer's activations grow with its width: batch_size rows
        rows = int(self.batch_size) if hf else 4096 if native else rows_per_batch(self.input_shape_)
        if isinstance(X, (Split, Inputs)):  # already preprocessed by the data layer
            _set_native(X.x, native)
            return self._forward(X.batches(rows))
        if isinstance(X, pd.DataFrame):
            X = as_frame(X)
        elif self.data_state_.kind == "tabular" and not hf:  # an hf: model takes texts
            X = as_features(X)
            check_n_features(X, getattr(self, "n_features_in_", None), type(self).__name__)
        if hasattr(self, "feature_names_in_") and isinstance(X, pd.DataFrame):
            missing = [c for c in self.feature_names_in_ if c not in set(map(str, X.columns))]
            if missing:
                raise DataError(
                    f"X lacks the feature columns {missing[:10]} seen at fit time.",
                    fix="give the same columns as at fit time.",
                    code="feature-mismatch",
                )
        x = self.data_state_.transform(X)
        _set_native(x, native)
        return self._forward(iter_batches(x, rows))

    def _forward(self, batches: Iterable[Tensor]) -> Tensor:
        """The network on float32 input batches, without gradients: logits ``[N, n_outputs]`` on the CPU."""
        from ._state import forward_logits

        return cast("Tensor", forward_logits(self.model_, batches, int(self.n_outputs_)))

    def decision_rule(self) -> DecisionRule:
        """The fitted rule from logits to decisions: the calibration map, then the thresholds on its scale.

        What :meth:`outputs` (so :meth:`predict_proba` and :meth:`predict`), the run report and the ONNX
        export apply; its ``order`` maps the logit order to the order of ``classes_``.
        """
        from ..evaluate import DecisionRule

        check_fitted(self, "model_")
        order = None if self.task_ == "multilabel" else self._class_order().tolist()
        names = [str(n) for n in self.label_names_]
        return DecisionRule(self.task_, self.calibration_, self.thresholds_, names=names, order=order)

    def outputs(self, X: Any) -> Outputs:
        """Logits, probabilities and decisions from one forward pass (what the CLI's predict writes)."""
        logits = self.predict_logits(X)
        proba, labels = self.decision_rule().outputs(logits)
        if self.task_ == "multilabel":
            return Outputs(logits, proba, labels)
        return Outputs(logits, proba, self.classes_[labels])  # labels: positions in classes_

    def decision_function(self, X: Any) -> np.ndarray:
        """Logits, as scikit-learn reads them.

        Binary ``[N]``, positive where ``classes_[1]`` is the likelier (the positive class's logit, negated
        when the positive class is ``classes_[0]``); multiclass ``[N, C]`` in the order of ``classes_``;
        multilabel ``[N, L]``. :meth:`predict_logits` keeps the network's own order (binary: the positive
        class).
        """
        logits = self.predict_logits(X).numpy()
        if self.task_ == "multilabel":
            return logits
        order = self._class_order()
        if self.task_ == "binary":
            return logits[:, 0] if order[1] == 1 else -logits[:, 0]
        return logits[:, order]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated probabilities (the task's activation of the calibrated logits).

        :meth:`predict` takes its decisions on this scale: ``predict == argmax(predict_proba)`` (sigmoid
        tasks: ``p >= 0.5``) wherever the tuned rule stayed at 0.5 / no class bias (always with
        ``threshold_objective="none"``), and differs by design where tuning moved it (a cut tuned for
        F1 is not the most probable class).

        Returns:
            ndarray: binary ``[N, 2]`` (columns follow ``classes_``), multilabel ``[N, L]`` (independent
            sigmoids), multiclass ``[N, C]`` (softmax, rows sum to 1).
        """
        return self.outputs(X).proba

    def predict(self, X: Any) -> np.ndarray:
        """Decisions with the thresholds tuned on the validation split, applied to :meth:`predict_proba`.

        The thresholds (multi-class: per-class biases) were tuned on the calibrated scale and move off
        0.5 / zero bias only where that strictly improves ``threshold_objective`` on validation; where
        they did not move, ``predict`` is ``argmax(predict_proba)``. ``decision_function`` stays the raw
        logits, before calibration.

        Returns:
            ndarray: binary/multiclass ``[N]`` values of ``classes_``; multilabel a 0/1 int matrix ``[N, L]``.
        """
        return self.outputs(X).labels

    def predict_with_confidence(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """Decisions and the probability that each decision is right.

        Sigmoid tasks: ``p`` where the decision is positive and ``1 - p`` where it is negative, per label
        (the decision is taken at the tuned threshold, so a row predicted negative at ``p = 0.79`` with
        a cut at 0.8 is 21% confident, not 58%); multiclass: the probability of the predicted class.

        Returns:
            (ndarray, ndarray): ``predict(X)`` and the confidence, ``[N]`` (binary, multiclass) or ``[N, L]``.
        """
        out = self.outputs(X)
        if self.task_ == "multiclass":
            index = {str(c): i for i, c in enumerate(self.classes_)}
            picked = np.asarray([index[str(c)] for c in out.labels], dtype=np.int64)
            return out.labels, out.proba[np.arange(len(picked)), picked]
        if self.task_ == "binary":
            positive = out.labels == self.classes_[1]
            return out.labels, np.where(positive, out.proba[:, 1], out.proba[:, 0])
        return out.labels, np.where(out.labels == 1, out.proba, 1.0 - out.proba)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy of :meth:`predict` (subset accuracy for multilabel), like scikit-learn's classifiers."""
        from sklearn.metrics import accuracy_score

        if self.task_ != "multilabel":
            from ..data.label_map import map_labels

            truth = map_labels(np.asarray(y).reshape(-1), self.label_encoder_.label_map, None)  # label_map=
            return float(accuracy_score(truth, self.predict(X), sample_weight=sample_weight))
        truth = self.label_encoder_.transform(y).numpy().astype(np.int64)
        return float(accuracy_score(truth, self.predict(X), sample_weight=sample_weight))

    # ------------------------------------------------------------------ save / load
    def save(self, directory: str | os.PathLike[str]) -> Path:
        """Write ``model.safetensors`` and ``model.json`` into ``directory`` (created if missing); no pickle.

        A text model of ``model="hf:..."`` also writes its ``tokenizer.json`` (data; first, so that ``model.json``,
        the commit point, names its SHA-256).

        Returns:
            Path: the directory.
        """
        from ..model_io.safe_read import write_tokenizer

        check_fitted(self, "model_")
        pre = self.data_state_.preprocessor
        if (
            getattr(pre, "kind", None) == "hf_text"
        ):  # tokenizer.json first: model.json (the commit) names its SHA-256
            write_tokenizer(directory, pre.tokenizer_json)
        return write_model_dir(directory, self.model_.state_dict(), saved_meta(self))

    @classmethod
    def load(cls, directory: str | os.PathLike[str], *, device: str = "cpu") -> Classifier:
        """Rebuild a fitted classifier from :meth:`save` output; ``predict`` gives identical outputs.

        Raises:
            ModelFileError: a missing, truncated or edited file, or a foreign format.
        """
        state, meta = read_model_dir(directory)
        return cast(Classifier, restore(cls, state, meta, device=device, directory=directory))

    def export_onnx(
        self, path: str | os.PathLike[str], *, opset: int | None = None, input_dtype: str = "float64"
    ) -> Path:
        """Write the whole pipeline (preprocessing, network, calibration, thresholds) as one ONNX graph.

        Writes ``path`` and the sidecar ``path + ".json"`` (the input contract); outputs ``logits``,
        ``probabilities`` (as :meth:`predict_proba`) and ``labels`` (as :meth:`predict`). See
        :func:`logitlab.export.export_onnx`; needs ``pip install "logitlab[onnx]"``.

        Args:
            path (str or Path): the ``.onnx`` file to write.
            opset (int, optional): the ONNX opset. Default: :data:`logitlab.export.OPSET` (18).
            input_dtype (str): ``"float64"`` or ``"float32"`` float inputs (float32: cast to float64 inside
                the graph). Default: ``"float64"``.

        Returns:
            Path: ``path``.
        """
        from ..export import OPSET, export_onnx

        return export_onnx(self, path, opset=OPSET if opset is None else opset, input_dtype=input_dtype)


def _is_sparse_rows(x: Any) -> bool:
    from ..data.sparse import SparseRows

    return isinstance(x, SparseRows)


def _set_native(x: Any, native: bool) -> None:
    """Sparse rows go to a sparse-native model as torch sparse batches, to any other model densified."""
    if _is_sparse_rows(x):
        x.native = native


def _sorted(classes: list[Any]) -> list[Any]:
    """Classes in scikit-learn's order (``np.unique``'s): sorted; by their text when they do not compare."""
    try:
        return sorted(classes)
    except TypeError:
        return sorted(classes, key=str)


def _as_classes(classes: list[Any]) -> np.ndarray:
    """``classes_`` as scikit-learn keeps it: a 1-D array (object dtype when the types are mixed)."""
    arr = np.asarray(classes)
    if arr.ndim != 1 or arr.dtype.kind not in "biufUS":
        arr = np.empty(len(classes), dtype=object)
        arr[:] = classes
    return arr
