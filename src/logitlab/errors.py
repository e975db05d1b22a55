"""The exceptions logitlab raises: each says what came, what was expected and how to fix it.

Every error is a :class:`LogitlabError`; the kinds also derive from the built-in exception a
user would catch for that mistake (``TargetError`` is a ``ValueError``), so existing
``except ValueError`` code keeps working.

Examples:
    >>> err = TargetError("got int64 targets [32]", fix="targets.float()")
    >>> print(err)
    got int64 targets [32]
    Fix: targets.float()
    >>> isinstance(err, ValueError)
    True
"""

from __future__ import annotations

import warnings

from .error_codes import is_registered

__all__ = [
    "CheckpointError",
    "ConfigError",
    "DataError",
    "DataTypeError",
    "DistributedError",
    "LogitlabError",
    "LogitlabWarning",
    "MissingExtraError",
    "ModelFileError",
    "OutputError",
    "TargetError",
    "TrainingError",
    "UnregisteredCodeWarning",
]


class LogitlabError(Exception):
    """Base class of every logitlab error.

    Args:
        message (str): what was received and what was expected.
        fix (str, optional): one concrete way to fix it, shown on its own ``Fix:`` line.
        code (str, optional): a stable kebab-case code, for tests and tooling; one of the registry
            :mod:`logitlab.error_codes` (``docs/errors.md``), else an :class:`UnregisteredCodeWarning`.
        param (str, optional): the parameter at fault, by its Python name (``"epochs"``), so a front end
            such as the command line can write the fix in its own spelling (``--epochs 30``).
    """

    default_code = "logitlab-error"

    def __init__(
        self, message: str, *, fix: str | None = None, code: str | None = None, param: str | None = None
    ) -> None:
        self.message = message
        self.fix = fix
        self.code = code or self.default_code
        if not is_registered(
            self.code
        ):  # a bug in logitlab, never the user's: flagged, the error still raised
            warnings.warn(
                f"logitlab error code {self.code!r} is not registered in logitlab.error_codes.",
                UnregisteredCodeWarning,
                stacklevel=2,
            )
        self.param = param
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return self.message if not self.fix else f"{self.message}\nFix: {self.fix}"

    def __reduce__(self):  # keep pickling (multiprocessing, DDP) working with keyword-only args
        return (_rebuild, (type(self), self.message, self.fix, self.code, self.param))


def _rebuild(
    cls: type[LogitlabError], message: str, fix: str | None, code: str, param: str | None = None
) -> LogitlabError:
    return cls(message, fix=fix, code=code, param=param)


class TargetError(LogitlabError, ValueError):
    """Targets do not have the shape, dtype or range the task's loss needs."""

    default_code = "bad-targets"


class ConfigError(LogitlabError, ValueError):
    """An option is unknown, out of range, or contradicts another option."""

    default_code = "bad-config"


class DataError(LogitlabError, ValueError):
    """A data file, table, column, row or image cannot be used as given."""

    default_code = "bad-data"


class DataTypeError(DataError, TypeError):
    """Features of a type that cannot be numbers (a dict in a cell, an object array of strings).

    A :class:`DataError` (so a ``ValueError``) that is also a ``TypeError``, the built-in that NumPy
    and scikit-learn raise for values that are not numbers.
    """

    default_code = "bad-type"


class ModelFileError(LogitlabError, ValueError):
    """A saved model directory is missing, truncated, edited or of an unknown format."""

    default_code = "bad-model-file"


class CheckpointError(LogitlabError, RuntimeError):
    """A checkpoint cannot be written or read back."""

    default_code = "bad-checkpoint"


class OutputError(LogitlabError, OSError):
    """An output cannot be written (disk full, read-only folder); what was there before is unchanged."""

    default_code = "write-failed"


class TrainingError(LogitlabError, RuntimeError):
    """Training cannot go on: a non-finite loss, logits or gradients, with the diagnosis."""

    default_code = "training-failed"


class DistributedError(LogitlabError, RuntimeError):
    """The torchrun / DDP setup is inconsistent, or another rank failed."""

    default_code = "distributed-failed"


class MissingExtraError(LogitlabError, ImportError):
    """An optional feature needs a package of one of logitlab's extras (``pip install "logitlab[hf]"``)."""

    default_code = "missing-extra"


class UnregisteredCodeWarning(RuntimeWarning):
    """An error was built with a code missing from :mod:`logitlab.error_codes` (an error under the tests)."""


class LogitlabWarning(UserWarning):
    """A conversion or a suspicious setup that logitlab went ahead with, said once and loudly."""
