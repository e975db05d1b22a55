"""Deprecated: ``logitlab.run`` was split into :mod:`logitlab.model_io` and :mod:`logitlab.workflows`.

The old names keep working for one release and warn with a ``DeprecationWarning`` naming the new one:
the model-directory format (``read_model_dir``, ``write_model_dir``, ``validate_model_json``,
``MODEL_SCHEMA``, ...) is in :mod:`logitlab.model_io`, the atomic writers in :mod:`logitlab.files`, and
the command line's work (``train_run`` -> ``workflows.train``, ...) in :mod:`logitlab.workflows`.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

__all__: list[str] = []

# old name -> (module, new name)
_MOVED: dict[str, tuple[str, str]] = {
    "MODEL_FORMAT": ("model_io", "MODEL_FORMAT"),
    "MODEL_SCHEMA": ("model_io", "MODEL_SCHEMA"),
    "SCHEMA_VERSION": ("model_io", "SCHEMA_VERSION"),
    "read_model_dir": ("model_io", "read_model_dir"),
    "validate_model_json": ("model_io", "validate_model_json"),
    "write_model_dir": ("model_io", "write_model_dir"),
    "write_json_atomic": ("files", "write_json_atomic"),
    "write_text_atomic": ("files", "write_text_atomic"),
    "DEMOS": ("workflows", "DEMOS"),
    "train_run": ("workflows", "train"),
    "evaluate_run": ("workflows", "evaluate"),
    "predict_run": ("workflows", "predict"),
    "decision_lines": ("workflows", "decision_lines"),
}


def __getattr__(name: str) -> Any:
    if name not in _MOVED:
        raise AttributeError(f"module 'logitlab.run' has no attribute {name!r}")
    module, new = _MOVED[name]
    warnings.warn(
        f"logitlab.run.{name} moved to logitlab.{module}.{new}; the old name goes away in the next release.",
        DeprecationWarning,
        stacklevel=2,
    )
    return getattr(importlib.import_module(f"logitlab.{module}"), new)
