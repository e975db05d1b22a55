"""The doctor: diagnose a batch, a label set and a training run, with verdicts and fixes.

``diagnose(outputs, targets, loss_fn)`` checks one batch, ``diagnose_dataset(y)`` a label set, and
``HealthMonitor`` watches a training run. Every finding has a stable code (see ``CODES`` and
``docs/doctor.md``), a severity, a message with the numbers, and a fix.

Layering: the whole doctor sits below the data, models and train packages; it imports only
``errors``, ``tasks``, ``hooks`` and ``weights``. The trainer imports ``HealthMonitor`` and
``explain_nonfinite`` from here (``HealthMonitor`` is a :class:`logitlab.hooks.Callback`).
"""

from __future__ import annotations

from ._nonfinite import explain_nonfinite
from .batch import diagnose
from .data import diagnose_dataset, diagnose_text_columns
from .findings import CODES, DiagnoseTypeError, Finding, Report
from .monitor import HealthMonitor

__all__ = [
    "CODES",
    "DiagnoseTypeError",
    "Finding",
    "HealthMonitor",
    "Report",
    "diagnose",
    "diagnose_dataset",
    "diagnose_text_columns",
    "explain_nonfinite",
]
