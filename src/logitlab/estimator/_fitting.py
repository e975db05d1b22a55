"""How a Classifier fits: its parameter checks, the training set-up, training, calibration and thresholds.

:class:`Fitting` is the part of :class:`~logitlab.Classifier` that fits it; only the :mod:`logitlab.estimator`
package imports this module.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self, cast

from ..errors import ConfigError
from ._persist import Persisting
from ._predict import is_sparse_rows, set_native
from .decisions import CvChoice, Decisions, DecisionsView, LossChoice

if TYPE_CHECKING:
    from torch import nn

    from ..data import DatasetBundle
    from ..weights import ImbalanceWeights
    from ._crossfit import Plan
    from ._training import FitSettings

__all__ = ["Fitting", "TrainingSetup"]

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


class Fitting(Persisting):
    """``check_params``, ``training_setup`` and the fit itself (a base of :class:`~logitlab.Classifier`)."""

    model: str
    task: str
    loss: str
    loss_options: dict[str, Any] | None
    imbalance: str
    epochs: int | str
    lr: float | str
    weight_decay: float | str
    model_options: dict[str, Any] | None
    ensemble: int
    cv: int | str | None
    precision: str
    val_size: float
    threshold_objective: str
    calibration: str
    standardize: bool
    numeric_scaling: str
    random_state: Any
    device: str
    verbose: bool
    positive: Any
    text_columns: Any
    seed: int | None
    label_map: Any

    def check_params(self) -> None:
        """Check every parameter that needs no data (``fit`` calls it first).

        Raises:
            ConfigError: naming the parameter, the value and a valid one (code ``bad-param``, or
            ``device-unavailable`` for CUDA/MPS on a machine without it).
        """
        from ._hf import check_hf_params
        from ._params import check_params

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
        from ..evaluate import check_calibration_method, check_objective
        from ..losses import make_loss
        from ..models.hf import is_hf
        from ..models.registry import resolve_model_name
        from ..weights import imbalance_weights
        from ._choices import resolve_training
        from ._crossfit import check_coverage, plan_folds, resolve_cv
        from ._hf import CV_REASON
        from ._inputs import build_network, refuse_soft_labels
        from ._params import resolve_seed

        self.check_params()
        self.seed_ = resolve_seed(self.random_state, self.seed)
        bundle = self._bundle(X, y)
        refuse_soft_labels(bundle)
        self._set_labels(bundle)
        check_objective(self.threshold_objective, self.task_)
        check_calibration_method(self.calibration, self.task_)
        d = self.fit_decisions_
        folds, reason = (1, f"cv={self.cv!r}: {CV_REASON}") if is_hf(self.model) else resolve_cv(self, bundle)
        plan, notes = plan_folds(self, bundle, folds, int(self.ensemble))
        d.cv = CvChoice(folds, reason, plan.kind)
        d.add_notes([*notes, *check_coverage(self, plan)])
        sparse_input = is_sparse_rows(bundle.train.x)
        model_name = resolve_model_name(self.model, self.input_shape_, sparse_input=sparse_input)
        d.training = resolve_training(self.imbalance, self.weight_decay, model_name)
        options = dict(self.loss_options or {})
        own = "weight" if self.task_ == "multiclass" else "pos_weight"
        weights = None
        if own not in options:  # the user's own weights win
            rows = plan.pool if plan.pool is not None else bundle.train
            counts = rows.label_counts(self.task_, num_classes=self.n_outputs_)  # streaming: no rows read
            weights = imbalance_weights(
                counts, self.task_, cast(Any, d.training.imbalance), num_classes=self.n_outputs_
            )
        if weights is not None:
            options[weights.option] = weights.values
        loss_fn = make_loss(self.task_, self.loss, **options)
        model, built = build_network(
            self.get_params(),
            seed=self.seed_,
            bundle=bundle,
            plan=plan,
            input_shape=self.input_shape_,
            n_outputs=self.n_outputs_,
            task=self.task_,
            sparse_input=sparse_input,
        )
        d.add_notes(built)
        native = model.model_spec["name"] == "sparse"  # type: ignore[index]
        for split in (bundle.train, bundle.val, bundle.test):
            set_native(split.x, native)
        return TrainingSetup(bundle, loss_fn, model, weights, plan)

    def _fit(self, X: Any, y: Any, run_dir: str | os.PathLike[str] | None, *, resume: bool = False) -> Self:
        """:meth:`fit` with the model as named (``"auto"``: cnn for images, sparse for text, mlp for features)."""
        from ._calibrate import calibrate_and_tune, validation_metrics
        from ._training import refit_sparse, train_model

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
        d = self.fit_decisions_
        d.loss = LossChoice.of(type(setup.loss_fn).__name__, self.loss, self.loss_options)
        d.weights = setup.weights.to_dict() if setup.weights is not None else None
        run = train_model(
            self._settings(),
            setup,
            run_dir,
            plan,
            resume=resume,
            on_monitor=lambda m: setattr(self, "health_", m),
        )
        self.model_, self.history_, self.health_ = run.model, run.history, run.health
        d.lr, d.epochs, d.members, d.best_epochs = run.lr, run.epochs, run.members, run.best_epochs
        d.training = run.training or d.training
        d.add_notes(run.notes)
        self.model_spec_ = dict(getattr(self.model_, "model_spec"))  # noqa: B009  (set by build_model)
        d.best_epoch = run.best_epoch  # 1-based, as the progress lines print it
        d.epochs_count_from = 1  # model.json files without it counted from 0 (see _saved.restore)
        rows = plan.calibration
        logits = run.oof if run.oof is not None else self.predict_logits(rows)
        self.validation_logits_, self.validation_targets_ = logits, rows.y
        tuned = calibrate_and_tune(
            logits,
            rows.y,
            task=self.task_,
            method=self.calibration,
            objective=self.threshold_objective,
            weights=setup.weights,
            n_outputs=int(self.n_outputs_),
            seed=self.seed_,
        )
        self.calibration_, self.thresholds_ = tuned.calibration, tuned.thresholds
        d.calibration_check = tuned.check
        cal = self.calibration_
        d.calibration = None if cal is None else {k: cal.to_dict()[k] for k in _CAL_SUMMARY}
        d.thresholds = self.thresholds_.to_dict() if self.thresholds_ is not None else None
        d.validation = validation_metrics(
            logits, rows.y, plan.kind, task=self.task_, calibration=cal, thresholds=self.thresholds_
        )
        if plan.kind == "validation" and run.oof is None:  # one split, not halved: a convex sparse model
            train, val = plan.members[0]
            refit = refit_sparse(self._settings(), self.model_, setup.loss_fn, train, val)
            if refit is not None:
                d.add_notes([refit[0]])
                d.training = refit[1] or d.training
                if d.cv is not None:
                    d.cv = dataclasses.replace(d.cv, refitted_rows=refit[2])
        return self

    def _fit_auto(self, X: Any, y: Any, run_dir: Any, *, resume: bool = False) -> Self:
        """:meth:`fit` with ``model="auto"``: on a table, the linear model and the MLP, the lower log-loss kept.

        See :mod:`logitlab.estimator._model_choice`. ``resume`` continues the MLP candidate (the one with
        checkpoints) from ``run_dir``; the linear one, fitted full-batch and deterministically, is fitted again.
        """
        from .._sklearn_base import clone  # scikit-learn's, without importing scikit-learn (seconds)
        from ._model_choice import CANDIDATES, model_choice, single_network_reason, validation_log_loss
        from ._params import resolve_seed

        self.check_params()
        seed = resolve_seed(self.random_state, self.seed)
        self.seed_ = seed
        bundle = self._bundle(X, y)  # once: both candidates see the same rows, split and preprocessing
        why_not = single_network_reason(self.get_params(), bundle)
        if why_not is not None:
            self._fit(bundle, None, run_dir, resume=resume)
            self.fit_decisions_.model = {
                "asked": "auto",
                "chosen": self.model_spec_["name"],
                "reason": why_not,
            }
            return self
        fitted: dict[str, tuple[Fitting, tuple[float, int, str] | None]] = {}
        for name in CANDIDATES:
            cand = clone(self).set_params(model=name, random_state=seed, seed=None)
            try:
                mlp = name == "mlp"
                cand._fit(bundle, None, run_dir if mlp else None, resume=resume and mlp)
            except Exception:
                self.health_ = getattr(cand, "health_", None)  # what the monitor saw before the failure
                raise
            fitted[name] = (cand, validation_log_loss(cand, bundle))
        scores = {k: v[1] for k, v in fitted.items() if v[1] is not None}
        chosen = min(scores, key=lambda k: scores[k][0]) if len(scores) == len(CANDIDATES) else "mlp"
        for key, value in vars(fitted[chosen][0]).items():
            if (
                key.endswith("_")
                and not key.startswith("_")
                and key not in ("feature_names_in_", "n_features_in_")
            ):
                setattr(self, key, value)
        self.fit_decisions_ = dataclasses.replace(self.fit_decisions_)  # not the candidate's own
        self.fit_decisions_.model = model_choice(scores, chosen, run_dir is not None)
        return self

    def _settings(self) -> FitSettings:
        """What training reads of this classifier (its parameters as the fit resolved them)."""
        from ._training import FitSettings

        assert self.fit_decisions_.training is not None
        return FitSettings(
            task=self.task_,
            n_outputs=int(self.n_outputs_),
            input_shape=tuple(self.input_shape_),
            model=self.model,
            epochs=self.epochs,
            lr=self.lr,
            batch_size=int(self.batch_size),
            precision=self.precision,
            device=self.device,
            verbose=bool(self.verbose),
            seed=self.seed_,
            training=self.fit_decisions_.training,
        )

    def _bundle(self, X: Any, y: Any) -> DatasetBundle:
        """A bundle from ``X, y`` (labels encoded, validation split, preprocessing fitted on train only)."""
        from ._inputs import make_bundle

        bundle, names, n_features = make_bundle(self, X, y)
        if names is not None:
            self.feature_names_in_ = names
        if n_features is not None:
            self.n_features_in_ = n_features
        return bundle

    def _set_labels(self, bundle: DatasetBundle) -> None:
        self.label_encoder_ = bundle.label_encoder
        self.data_state_ = bundle.state
        self._set_label_attributes(tuple(bundle.input_shape))
        notes = [*self.label_encoder_.notes, *bundle.notes]
        self.fit_decisions_ = Decisions(self.task_, bundle.task_reason, list(dict.fromkeys(notes)))

    @property
    def decisions_(self) -> dict[str, Any]:
        """What the fit decided, as a read-only dict (:class:`DecisionsView` of ``fit_decisions_.to_dict()``)."""
        try:
            decisions = self.fit_decisions_
        except AttributeError:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute 'decisions_'") from None
        return DecisionsView.of(decisions.to_dict())
