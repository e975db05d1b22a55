"""The Classifier's predictions: logits, calibrated probabilities and decisions from one forward pass.

:class:`Predicting` is the part of :class:`~logitlab.Classifier` that reads a fitted model and writes nothing;
only the :mod:`logitlab.estimator` package imports this module.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple, cast

import numpy as np

from .._sklearn_base import EstimatorBase, check_fitted
from ..errors import DataError
from ..features import as_features, as_frame, check_n_features

if TYPE_CHECKING:
    from torch import Tensor, nn

    from ..data import DataState, LabelEncoder
    from ..evaluate import Calibration, DecisionRule, Thresholds

__all__ = ["Outputs", "Predicting", "is_sparse_rows", "set_native"]


class Outputs(NamedTuple):
    """Everything :meth:`Classifier.outputs` computes from one forward pass."""

    logits: Tensor  #: ``[N, n_outputs]`` float32 on the CPU, in the network's order (what ``predict_logits`` returns)
    proba: np.ndarray  #: what ``predict_proba`` returns
    labels: np.ndarray  #: what ``predict`` returns


class Predicting(EstimatorBase):
    """``predict_logits``, ``outputs``, ``decision_function``, ``predict_proba``, ``predict``, ``score``.

    A mixin of :class:`~logitlab.Classifier`: it reads the fitted attributes declared here.
    """

    batch_size: int
    model_: nn.Module
    model_spec_: dict[str, Any]
    input_shape_: tuple[int, ...]
    n_outputs_: int
    task_: str
    classes_: np.ndarray
    label_names_: list[str]
    label_encoder_: LabelEncoder
    data_state_: DataState
    calibration_: Calibration | None
    thresholds_: Thresholds | None
    feature_names_in_: np.ndarray
    n_features_in_: int

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
            set_native(X.x, native)
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
        set_native(x, native)
        return self._forward(iter_batches(x, rows))

    def _forward(self, batches: Iterable[Tensor]) -> Tensor:
        """The network on float32 input batches, without gradients: logits ``[N, n_outputs]`` on the CPU."""
        from ._training import forward_logits

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


def is_sparse_rows(x: Any) -> bool:
    from ..data.sparse import SparseRows

    return isinstance(x, SparseRows)


def set_native(x: Any, native: bool) -> None:
    """Sparse rows go to a sparse-native model as torch sparse batches, to any other model densified."""
    if is_sparse_rows(x):
        x.native = native
