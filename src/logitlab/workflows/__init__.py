"""What the command line runs: train, evaluate, predict and the doctor on data, through the public API.

Each workflow takes plain values (a data spec, a run directory, the Classifier's parameters) and
returns plain results (a summary dict, metrics, doctor reports); printing is the caller's job, done
through the ``echo`` callable it passes. Every step goes through public names: :func:`load_dataset`
/ :func:`load_inputs` read the data, :class:`~logitlab.Classifier` sets up, trains, predicts and
saves, :func:`compute_metrics` scores, :func:`write_report` writes the report.

A run directory holds the saved model (:mod:`logitlab.model_io`), ``config.json`` (what was asked
and decided), ``metrics.csv`` and ``checkpoints/`` (the trainer), ``report.html`` with ``plots/``.

The package holds one module per job: :mod:`~logitlab.workflows.training` (``train``, the run
directory, the report, the printed decisions), :mod:`~logitlab.workflows.saved` (``evaluate`` and
``predict`` with a saved run), :mod:`~logitlab.workflows.diagnosis` (``doctor``, ``plot_loss``) and
:mod:`~logitlab.workflows.common` (reading the data, the demo runs, headline metrics).

Examples:
    >>> headline("binary", {"roc_auc": 0.98765, "f1": 0.9, "support": [10, 5]})
    'roc_auc=0.9877, f1=0.9000'
"""

from __future__ import annotations

from .common import DEMOS, HEADLINE_METRICS, Echo, headline, is_main_process, load_data
from .diagnosis import doctor, plot_loss
from .saved import check_predictions_path, evaluate, export, predict
from .training import (
    RUN_FILES,
    check_run_dir,
    decision_lines,
    feature_importance,
    importance_lines,
    train,
)

__all__ = [
    "DEMOS",
    "HEADLINE_METRICS",
    "RUN_FILES",
    "Echo",
    "check_predictions_path",
    "check_run_dir",
    "decision_lines",
    "doctor",
    "evaluate",
    "export",
    "feature_importance",
    "headline",
    "importance_lines",
    "is_main_process",
    "load_data",
    "plot_loss",
    "predict",
    "train",
]
