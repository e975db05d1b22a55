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

from __future__ import annotations

import os
from typing import Any

from ..options import CLASSIFIER_DEFAULTS as DEFAULTS
from ._fitting import Fitting, TrainingSetup
from ._predict import Outputs

__all__ = ["Classifier", "Outputs", "TrainingSetup"]


class Classifier(Fitting):
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
        decisions_ (dict): the task and its reason, the loss, the weights, the best epoch, the thresholds: the
            dict view of ``fit_decisions_`` (what ``model.json`` stores). ``best_epoch`` counts from 1; with
            several members (cross-fitted folds, an ensemble) it is member 1's (the one ``history_`` shows) and
            ``best_epochs`` lists each member's.
        fit_decisions_ (Decisions): the same, typed (:class:`~logitlab.estimator.Decisions`).
        model_ (nn.Module): the trained network (returns logits), with the weights of the epoch of
            lowest validation loss (the last epoch without a validation split).
        history_ (list[dict]): per-epoch logs from the trainer: ``train_loss``, ``lr`` and, with a
            validation split, ``val_loss`` and cheap ``val_`` metrics (:func:`~logitlab.evaluate.epoch_metrics`).
        health_ (HealthMonitor): the training-health monitor that watched the run (logit statistics,
            gradient norms, loss spikes; NaN/Inf stop the run with a ``TrainingError``). Not saved by
            :meth:`save` (``None`` after :meth:`load`).
    """

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
            return self._fit_auto(X, y, run_dir, resume=resume)
        return self._fit(X, y, run_dir, resume=resume)
