"""The scikit-learn estimator: :class:`Classifier`, what it decided (:class:`Decisions`) and its saved state.

``classifier`` is the public class, built from bases that each hold one concern: ``_predict.Predicting``
(logits, probabilities, decisions), ``_persist.Persisting`` (its :class:`FittedState`, save, load, export) and
``_fitting.Fitting`` (checks, set-up, fit). The private modules hold what they call: ``_params`` (parameter
checks), ``_inputs`` (the bundle and the network), ``_choices`` (what ``"auto"`` resolves to), ``_crossfit``
(what ``cv`` decides), ``_training`` (the trainer or L-BFGS, returning a ``TrainingRun``), ``_calibrate``
(calibration and thresholds from logits passed in), ``_saved`` (``model.json`` both ways), ``_model_choice``
(``model="auto"`` on tables), ``_fit_data`` (``fit(..., resume=True)``'s data check), ``_calibration_check``
and ``_hf`` (``model="hf:PATH"``).
"""

from __future__ import annotations

from ._saved import FittedState
from .classifier import Classifier, Outputs, TrainingSetup
from .decisions import Decisions

__all__ = ["Classifier", "Decisions", "FittedState", "Outputs", "TrainingSetup"]
