"""The Classifier's fitted state: its label attributes, :class:`FittedState` both ways, save, load and export.

:class:`Persisting` is the part of :class:`~logitlab.Classifier` that turns a fit into files and back; only the
:mod:`logitlab.estimator` package imports this module.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import numpy as np

from .._sklearn_base import check_fitted
from ..model_io import read_model_dir, write_model_dir
from ._predict import Predicting
from ._saved import FittedState, restore, saved_meta

if TYPE_CHECKING:
    from ..evaluate import Calibration, Thresholds
    from .decisions import Decisions

__all__ = ["Persisting"]


class Persisting(Predicting):
    """``fitted_state``, ``from_fitted``, ``save``, ``load`` and ``export_onnx`` (a base of :class:`~logitlab.Classifier`)."""

    seed_: int
    thresholds_: Thresholds | None
    calibration_: Calibration | None
    fit_decisions_: Decisions
    history_: list[dict[str, Any]]
    health_: Any

    def _set_label_attributes(self, input_shape: tuple[int, ...], classes: list[Any] | None = None) -> None:
        """The label attributes; ``classes``: the saved ``classes_`` order (else sorted, as scikit-learn)."""
        from ._inputs import as_classes, sorted_classes

        encoder = self.label_encoder_
        self.task_ = encoder.task.value
        if classes is None:
            classes = encoder.classes if self.task_ == "multilabel" else sorted_classes(encoder.classes)
        self.classes_ = as_classes(classes)
        self.label_names_ = list(encoder.output_names)
        self.n_outputs_ = int(encoder.n_outputs)
        self.input_shape_ = tuple(int(d) for d in input_shape)

    # ------------------------------------------------------------------ save / load
    def fitted_state(self) -> FittedState:
        """The fitted state :meth:`save` writes (the same objects, not copies)."""
        check_fitted(self, "model_")
        return FittedState(
            seed=self.seed_,
            label_encoder=self.label_encoder_,
            classes=list(self.classes_),
            input_shape=tuple(self.input_shape_),
            model_spec=dict(self.model_spec_),
            model=self.model_,
            thresholds=self.thresholds_,
            calibration=self.calibration_,
            data_state=self.data_state_,
            feature_names=[str(c) for c in self.feature_names_in_]
            if hasattr(self, "feature_names_in_")
            else None,
            decisions=self.fit_decisions_,
        )

    @classmethod
    def from_fitted(cls, params: dict[str, Any], state: FittedState) -> Self:
        """A fitted classifier of parameters ``params`` and fitted ``state`` (what :meth:`load` builds).

        Predictions, probabilities and decisions are those of the classifier ``state`` was taken from;
        ``history_`` is empty and ``health_`` ``None`` (they are not part of the fitted state).
        """
        clf = cls()
        clf.set_params(**params)
        clf.seed_ = int(state.seed)
        clf.label_encoder_ = state.label_encoder
        clf._set_label_attributes(tuple(state.input_shape), state.classes)
        clf.fit_decisions_ = state.decisions
        clf.model_spec_ = dict(state.model_spec)
        clf.model_ = state.model
        clf.thresholds_, clf.calibration_ = state.thresholds, state.calibration
        clf.data_state_ = state.data_state
        if state.feature_names is not None:
            clf.feature_names_in_ = np.asarray(state.feature_names, dtype=object)
        if len(clf.input_shape_) == 1:
            clf.n_features_in_ = clf.input_shape_[0]
        clf.history_ = []
        clf.health_ = None
        return clf

    def save(self, directory: str | os.PathLike[str]) -> Path:
        """Write ``model.safetensors`` and ``model.json`` into ``directory`` (created if missing); no pickle.

        A text model of ``model="hf:..."`` also writes its ``tokenizer.json`` (data; first, so that ``model.json``,
        the commit point, names its SHA-256).

        Returns:
            Path: the directory.
        """
        from ..model_io.safe_read import write_tokenizer

        state = self.fitted_state()
        pre = state.data_state.preprocessor
        if (
            getattr(pre, "kind", None) == "hf_text"
        ):  # tokenizer.json first: model.json (the commit) names its SHA-256
            write_tokenizer(directory, pre.tokenizer_json)
        return write_model_dir(directory, state.model.state_dict(), saved_meta(state, self.get_params()))

    @classmethod
    def load(cls, directory: str | os.PathLike[str], *, device: str = "cpu") -> Self:
        """Rebuild a fitted classifier from :meth:`save` output; ``predict`` gives identical outputs.

        Raises:
            ModelFileError: a missing, truncated or edited file, or a foreign format.
        """
        tensors, meta = read_model_dir(directory)
        params, state = restore(
            tensors, meta, valid=set(cls().get_params()), device=device, directory=directory
        )
        return cls.from_fitted(params, state)

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
