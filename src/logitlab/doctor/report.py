"""Deprecated spelling of :mod:`logitlab.doctor.findings` (renamed: it holds findings, not a report file).

Importing a name from here still works for one release and warns with a ``DeprecationWarning``.

Examples:
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     from logitlab.doctor.report import Finding
    >>> caught[0].category.__name__, Finding.__module__
    ('DeprecationWarning', 'logitlab.doctor.findings')
"""

from __future__ import annotations

import warnings
from typing import Any

from . import findings as _findings

__all__: list[str] = []  # the old names resolve through __getattr__, with a warning
_NAMES = ("CODES", "SEVERITIES", "DiagnoseTypeError", "Finding", "Report", "Severity", "make_finding")


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        warnings.warn(
            "logitlab.doctor.report is renamed logitlab.doctor.findings; import from there "
            "(this spelling goes away in the next release).",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(_findings, name)
    raise AttributeError(f"module 'logitlab.doctor.report' has no attribute {name!r}")
