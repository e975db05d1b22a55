"""The scikit-learn estimator: :class:`Classifier` and what it decides when it fits, saves and loads.

``classifier`` is the public class; the private modules hold its machinery: ``_state`` (parameter checks,
training, saved state), ``_crossfit`` (what ``cv`` decides), ``_model_choice`` (``model="auto"`` on tables),
``_fit_data`` (``fit(..., resume=True)``'s data check), ``_calibration_check`` and ``_hf`` (``model="hf:PATH"``).
"""

from __future__ import annotations

from .classifier import Classifier, Outputs, TrainingSetup

__all__ = ["Classifier", "Outputs", "TrainingSetup"]
