"""What many test files share: small training settings, small data sets, the CLI run in this process.

The fixtures that wrap these live in ``tests/conftest.py``; import the plain helpers from here
(``from tests.helpers import fast, linear_table``).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# ------------------------------------------------------------------------------------ training settings
# The smallest `Classifier` settings a test trains with: a few epochs on the CPU, seeded. A test that needs
# more (epochs to learn, one fit instead of cross-fitting, a batch size) says so: `fast(epochs=8, cv=1)`.
FAST: dict[str, Any] = {"epochs": 3, "device": "cpu"}  # random_state: the default, 0


def fast(**changes: Any) -> dict[str, Any]:
    """``FAST`` with ``changes``: the keyword arguments of a quick `Classifier` (or `TrainConfig` fields)."""
    return {**FAST, **changes}


# ------------------------------------------------------------------------------------------- data sets
def gaussian(n: int, features: int, seed: int = 0, dtype: Any = np.float32) -> np.ndarray:
    """``n`` rows of ``features`` standard-normal columns (the features of most tests)."""
    return np.random.default_rng(seed).normal(size=(n, features)).astype(dtype)


def linear_table(
    n: int = 120, features: int = 5, seed: int = 0, *, cut: float = 0.5, noise: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """Binary ``(X, y)``: ``y = x0 - x1 + noise * N(0, 1) > cut`` on standard-normal float32 ``X``.

    ``cut=0.5`` gives about 1 row in 3 positive, ``cut=1.0`` about 1 in 4.
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, features)).astype("float32")
    y = (X[:, 0] - X[:, 1] + noise * rng.normal(size=n) > cut).astype(int)
    return X, y


def scored(n: int = 240, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(X, score)``: 4 standard-normal float32 features and the linear score ``2 x0 - x1`` to cut labels from."""
    X = gaussian(n, 4, seed)
    return X, 2.0 * X[:, 0] - X[:, 1]


def blobs(n: int = 200, classes: int = 2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)``: ``scored`` features and ``classes`` equal-sized classes cut from the score's quantiles."""
    X, score = scored(n, seed)
    return X, np.digitize(score, np.quantile(score, np.linspace(0, 1, classes + 1)[1:-1]))


def ab_frame(n: int = 60, seed: int = 0) -> Any:
    """A ``pandas.DataFrame`` ``a, b, target``: two standard-normal columns and ``target = a > 0`` (0/1)."""
    import pandas as pd  # here, not at the top: scripts run by the tests import this module

    x = np.random.default_rng(seed).normal(size=(n, 2))
    return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "target": (x[:, 0] > 0).astype(int)})


# ---------------------------------------------------------------------------------------- model files
def model_meta(spec: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The smallest valid ``model.json`` of a binary model built from ``spec`` (``model_spec(...)``)."""
    meta = {
        "library_version": "0",
        "task": "binary",
        "classes": [0, 1],
        "label_names": ["1"],
        "label_encoder": {},
        "n_outputs": 1,
        "input_shape": list(spec["input_shape"]),
        "model_spec": spec,
        "thresholds": None,
        "preprocessing": {},
        "feature_names": None,
        "params": {},
    }
    return {**meta, **changes}


# ----------------------------------------------------------------------------------- the command line
@dataclass(frozen=True)
class CliRun:
    """What ``logitlab ARGS`` did, named as `subprocess.CompletedProcess` names it."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: Any, cwd: str | Path | None = None) -> CliRun:
    """Run ``logitlab ARGS`` in this process through ``logitlab.cli.main`` (no interpreter start, no import).

    Its stdout and stderr are captured; argparse's own exits (``--help``, a usage error) are its exit code.
    Keep a subprocess for what needs a fresh process (imports, memory, kills, locks across processes).
    """
    from logitlab import cli

    out, err = io.StringIO(), io.StringIO()
    argv: Sequence[str] = [str(a) for a in args]
    with contextlib.ExitStack() as stack:
        if cwd is not None:
            stack.enter_context(_chdir(Path(cwd)))
        stack.enter_context(contextlib.redirect_stdout(out))
        stack.enter_context(contextlib.redirect_stderr(err))
        try:
            code = cli.main(argv)
        except SystemExit as exc:  # argparse: --help (0), a usage error (2)
            code = exc.code if isinstance(exc.code, int) else 1
    return CliRun(code, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def _chdir(path: Path) -> Any:
    import os

    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)
