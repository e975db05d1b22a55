"""Optional dependencies: which extra installs which packages, and one import that names the extra when missing.

``import logitlab`` never imports these packages; a feature that needs one calls :func:`require_extra`
when it is first used, and a missing package is a :class:`~logitlab.errors.MissingExtraError` (also an
``ImportError``) whose fix is the ``pip install "logitlab[...]"`` line.

Examples:
    >>> sorted(EXTRAS)
    ['hf', 'lightning', 'onnx']
    >>> require_extra("lightning", "no_such_module_xyz")
    Traceback (most recent call last):
    ...
    logitlab.errors.MissingExtraError: This feature needs the optional package 'no_such_module_xyz' (extra 'lightning'), which is not installed.
    Fix: pip install "logitlab[lightning]"
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import ConfigError, MissingExtraError

__all__ = ["EXTRAS", "require_extra"]

# extra -> the modules it provides (pyproject.toml's [project.optional-dependencies] installs them)
EXTRAS: dict[str, tuple[str, ...]] = {
    "lightning": ("lightning",),
    "hf": ("transformers", "accelerate", "tokenizers"),
    "onnx": ("onnx", "onnxruntime", "onnxscript"),  # onnxscript: torch.onnx.export(dynamo=True) needs it
}


def require_extra(extra: str, module: str | None = None) -> ModuleType:
    """Import ``module`` (default: the extra's first module) or raise an error naming the extra.

    Args:
        extra (str): one of :data:`EXTRAS`.
        module (str, optional): the module to import. Default: every module of the extra, returning the first.

    Returns:
        ModuleType: the imported module.

    Raises:
        MissingExtraError: (code ``missing-extra``) the package is not installed.
        ConfigError: ``extra`` is not one of :data:`EXTRAS`.
    """
    if extra not in EXTRAS:
        raise ConfigError(
            f"Expected argument `extra` to be one of {', '.join(sorted(EXTRAS))}; got {extra!r}.",
            fix=f"use one of {', '.join(sorted(EXTRAS))}.",
            code="unknown-extra",
        )
    names = (module,) if module is not None else EXTRAS[extra]
    loaded = []
    for name in names:
        try:
            loaded.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name is None or name.split(".")[0] != exc.name.split(".")[0]:
                raise  # the package is there but something it imports is broken: show that error
            raise MissingExtraError(
                f"This feature needs the optional package {name.split('.')[0]!r} (extra {extra!r}), "
                "which is not installed.",
                fix=f'pip install "logitlab[{extra}]"',
            ) from exc
    return loaded[0]
