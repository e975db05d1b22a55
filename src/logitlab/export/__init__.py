"""ONNX export of a fitted :class:`~logitlab.Classifier`: one graph from raw inputs to logits, probabilities, labels.

The graph holds the numeric preprocessing (imputation with the stored training medians, the stored
standardisation, the one-hot encoding of categorical codes, image normalisation), the network, the
calibration map (Platt / prior ``sigmoid(a z + b)``, isotonic knots as piecewise-linear interpolation,
multi-class ``softmax((z + c) / T)``) and the tuned decision rule on the calibrated scale. Its outputs
are exactly what :meth:`~logitlab.Classifier.outputs` computes:

* ``logits``: float32 ``[batch, n_outputs]``, the network's raw logits;
* ``probabilities``: float64, as ``predict_proba`` (binary ``[batch, 2]`` in ``classes`` order,
  multi-label ``[batch, L]``, multi-class ``[batch, C]``);
* ``labels``: int64, binary/multi-class ``[batch]`` (the index of the class in ``classes``),
  multi-label ``[batch, L]`` (0/1).

The input contract (what cannot live in a float graph stays with the client, described by the
sidecar ``model.onnx.json``; :func:`onnx_inputs` builds the feed from it):

* **tables** (DataFrames, CSV/Parquet): ``numeric``, float64 ``[batch, n_numeric]``, the raw values of
  the numeric columns in the sidecar's order, NaN for missing; ``categorical``, int64
  ``[batch, n_categorical]``, per column the index of the value in that column's ``categories`` (-1:
  missing, imputed in the graph with the training mode; -2: an unseen category, encoded as zeros, like
  ``predict``). Each input is present when the table has such columns. Dropped columns are not read.
* **arrays**: ``features`` float64 ``[batch, F]``, or ``images`` float64 ``[batch, C, H, W]``; NaN for missing.
* **image files**: ``images`` float32 ``[batch, C, H, W]``, decoded, converted (``L``/``RGB``), resized
  to the stored size (bilinear) and scaled to [0, 1]; decoding and resizing are the client's.

The batch dimension is dynamic (``batch``); every other dimension is fixed. The graph uses the default
ONNX domain only, at opset :data:`OPSET` (18, ONNX Runtime 1.14 and later) unless asked for another of
:data:`OPSETS`. It is written with PyTorch's ``torch.export``-based exporter (``torch.onnx.export(...,
dynamo=True)``, which needs ``onnxscript``), checked with ``onnx.checker`` and run once in ONNX Runtime
against the PyTorch pipeline before anything is written. Install the packages with
``pip install "logitlab[onnx]"``.

Examples:
    >>> import numpy as np
    >>> from logitlab import Classifier
    >>> X = np.random.default_rng(0).normal(size=(80, 3))
    >>> clf = Classifier(epochs=2, model_options={"hidden": [8]}).fit(X, X[:, 0] > 0)
    >>> import tempfile, onnxruntime
    >>> path = export_onnx(clf, tempfile.mkdtemp() + "/model.onnx")
    >>> session = onnxruntime.InferenceSession(str(path))
    >>> logits, proba, labels = session.run(None, onnx_inputs(X, path))
    >>> bool(np.allclose(proba, clf.predict_proba(X), atol=1e-5)), (clf.classes_[labels] == clf.predict(X)).all()
    (True, np.True_)
"""

from __future__ import annotations

import copy
import hashlib
import io
import logging
import os
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ..errors import ConfigError
from ..extras import require_extra
from ..files import write_bytes_atomic, write_json_atomic
from ..options import ONNX_OPSET, ONNX_OPSETS, OPTIONS
from .contract import (
    FORMAT,
    FORMAT_VERSION,
    OUTPUT_NAMES,
    input_specs,
    onnx_inputs,
    output_specs,
    read_sidecar,
)

if TYPE_CHECKING:
    from torch import nn

    from ..data import DataState
    from ..evaluate import Calibration, DecisionRule
    from .graph import ExportPipeline

__all__ = ["FORMAT", "OPSET", "OPSETS", "OUTPUT_NAMES", "export_onnx", "onnx_inputs", "read_sidecar"]

OPSET = ONNX_OPSET
"""The default ONNX opset (18): the lowest the PyTorch exporter writes natively; ONNX Runtime 1.14 and later run it."""

OPSETS = ONNX_OPSETS
"""The opsets :func:`export_onnx` accepts: 18 to 23."""


class Classifier(Protocol):
    """What the export reads of a fitted :class:`~logitlab.Classifier` (typed here, so export imports no estimator)."""

    task_: str
    n_outputs_: int
    classes_: np.ndarray
    label_names_: list[str]
    data_state_: DataState
    model_: nn.Module
    calibration_: Calibration | None

    def decision_rule(self) -> DecisionRule: ...


_EXAMPLE_ROWS = (3, 5)  # the traced batch (not 0 or 1, which torch.export specialises) and the checked one
_NOISY = ("torch", "onnxscript", "onnx_ir")  # loggers quieted during the export


def export_onnx(
    clf: Classifier, path: str | os.PathLike[str], *, opset: int = OPSET, input_dtype: str = "float64"
) -> Path:
    """Write ``path`` (the ONNX graph) and ``path + ".json"`` (the sidecar), each atomically.

    Args:
        clf (Classifier): a fitted classifier.
        path (str or Path): the ``.onnx`` file to write; its folder is created if missing.
        opset (int): the ONNX opset, one of :data:`OPSETS`. Default: :data:`OPSET`.
        input_dtype (str): ``"float64"`` or ``"float32"``: the dtype of the graph's float inputs
            (``numeric``, ``features``, array ``images``). With ``"float32"`` the graph casts them to float64
            as its first step and computes as the float64 graph does, for runtimes that take no float64
            input (parity in ``docs/export.md``). Default: ``"float64"``.

    Returns:
        Path: ``path``.

    Raises:
        ConfigError: ``bad-opset``; ``onnx-unsupported`` for a part with no ONNX form (naming it: the
            preprocessor, the network and the exporter's reason); ``onnx-mismatch`` when ONNX Runtime does
            not reproduce the PyTorch outputs.
        MissingExtraError: ``onnx``, ``onnxruntime`` or ``onnxscript`` is not installed.
        NotFittedError: ``clf`` is not fitted.
    """
    from .._sklearn_base import check_fitted

    check_fitted(clf, "model_")
    OPTIONS["opset"].check(opset)
    OPTIONS["input_dtype"].check(input_dtype)
    require_extra("onnx")
    pre = clf.data_state_.preprocessor
    specs = input_specs(pre)
    casts = tuple(input_dtype == "float32" and s["dtype"] == "float64" for s in specs)
    for spec, cast in zip(specs, casts):
        if cast:
            spec["dtype"], spec["cast"] = "float32", "to float64 as the graph's first step"
    pipeline = build_pipeline(clf)
    pipeline.casts = casts
    traced, checked = (_example(specs, rows, seed) for seed, rows in enumerate(_EXAMPLE_ROWS))
    _run_torch(pipeline, traced, clf)
    proto = _to_onnx(pipeline, traced, specs, opset, clf)
    _verify(proto, checked, _run_torch(pipeline, checked, clf), specs)
    path = write_bytes_atomic(path, proto)
    write_json_atomic(path.with_name(path.name + ".json"), _sidecar(clf, specs, opset, path.name, proto))
    return path


def build_pipeline(clf: Classifier) -> ExportPipeline:
    """The PyTorch module that is exported: preprocessing, a CPU eval-mode copy of the network, decisions."""
    from .graph import Decisions, ExportPipeline, build_preprocess

    n = int(clf.n_outputs_)
    network = copy.deepcopy(clf.model_).cpu().float().eval()
    decisions = Decisions.from_rule(clf.decision_rule(), n)  # probabilities and labels in classes_ order
    return ExportPipeline(build_preprocess(clf.data_state_.preprocessor), network, decisions, n).eval()


def _example(specs: list[dict[str, Any]], rows: int, seed: int) -> list[Any]:
    """A seeded batch for every input (a NaN among float64 values, missing and unknown categorical codes)."""
    import torch

    g = torch.Generator().manual_seed(seed)
    out = []
    for spec in specs:
        shape = (rows, *spec["shape"][1:])
        if spec["dtype"] == "int64":
            sizes = torch.tensor([len(c["categories"]) for c in spec["columns"]])
            codes = (torch.rand(shape, generator=g) * (sizes + 2)).long() - 2
            out.append(torch.minimum(codes, sizes - 1))
        elif spec["dtype"] == "float32" and "cast" not in spec:  # decoded images in [0, 1]
            out.append(torch.rand(shape, generator=g))
        else:
            x = torch.randn(shape, generator=g, dtype=torch.float64)
            x.view(-1)[0] = float("nan")
            out.append(x.float() if "cast" in spec else x)
    return out


def _reason(exc: BaseException) -> str:
    """The exporter's own one-line summary of a failure (its message holds a whole report)."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
    summary = text.partition("Exception summary")[2] or text
    for line in summary.splitlines():
        found = re.match(r"\s*<class '(?:[\w.]*\.)?(\w+)'>: (.*)", line)
        if found:
            return f"{found.group(1)}: {found.group(2)}"
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return f"{type(exc).__name__}: {first}"


def _unsupported(what: str, exc: BaseException | str, clf: Classifier) -> ConfigError:
    reason = exc if isinstance(exc, str) else _reason(exc)
    name = getattr(clf, "model_spec_", {}).get("name", "?")
    return ConfigError(
        f"The {what} of this classifier (model {name!r}, {type(clf.model_).__name__}) cannot be exported to "
        f"ONNX: {reason[:400]}",
        fix="use one of logitlab's models (mlp, cnn, the torchvision backbones), or make the network "
        "traceable by torch.export (no data-dependent Python control flow; ops with an ONNX form).",
        code="onnx-unsupported",
    )


@contextmanager
def _quiet_exporter() -> Iterator[None]:
    """The exporter's warnings, log records and graph dumps (printed to stderr on a failed capture) stay quiet."""
    names = [n for n in logging.root.manager.loggerDict if n.split(".")[0] in _NOISY] + list(_NOISY)
    loggers = [logging.getLogger(n) for n in dict.fromkeys(names)]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def _run_torch(pipeline: ExportPipeline, example: list[Any], clf: Classifier) -> list[np.ndarray]:
    import torch

    rows, n = len(example[0]), int(clf.n_outputs_)
    try:
        with torch.inference_mode():
            out = pipeline.network(pipeline.preprocess(*pipeline.cast(*example)))
            outputs = pipeline(*example)
    except Exception as exc:  # a network that does not take its own input shape
        raise _unsupported("network", exc, clf) from exc
    if not isinstance(out, torch.Tensor) or out.shape[0] != rows or out.numel() != rows * n:
        shape = list(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise _unsupported(
            "network", f"it returns {shape} for {rows} rows; expected logits [{rows}, {n}]", clf
        )
    return [o.numpy() for o in outputs]


def _to_onnx(
    pipeline: ExportPipeline, example: list[Any], specs: list[dict[str, Any]], opset: int, clf: Classifier
) -> bytes:
    import onnx
    import torch

    batch = torch.export.Dim("batch")
    try:
        with _quiet_exporter():
            program = torch.onnx.export(
                pipeline,
                tuple(example),
                dynamo=True,
                opset_version=opset,
                input_names=[s["name"] for s in specs],
                output_names=list(OUTPUT_NAMES),
                dynamic_shapes=(tuple({0: batch} for _ in specs),),
                verbose=False,
            )
        assert program is not None
        proto = program.model_proto
        onnx.checker.check_model(proto)
    except Exception as exc:
        raise _unsupported("network", exc, clf) from exc
    data: bytes = proto.SerializeToString()
    return data


def _verify(
    proto: bytes, example: list[Any], reference: list[np.ndarray], specs: list[dict[str, Any]]
) -> None:
    """Run the graph once in ONNX Runtime and compare with the PyTorch pipeline."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # a few rows: no thread pool
    session = onnxruntime.InferenceSession(proto, options, providers=["CPUExecutionProvider"])
    got = session.run(None, {s["name"]: x.numpy() for s, x in zip(specs, example)})
    for name, ours, theirs in zip(OUTPUT_NAMES[:2], reference, got):
        if ours.shape != theirs.shape or not np.allclose(ours, theirs, rtol=1e-4, atol=1e-5, equal_nan=True):
            raise ConfigError(
                f"ONNX Runtime {onnxruntime.__version__} does not reproduce the PyTorch {name!r} of the "
                f"exported graph (max difference {np.nanmax(np.abs(ours - theirs)) if ours.shape == theirs.shape else 'shape'}).",
                fix=f"export with another opset (one of {', '.join(map(str, OPSETS))}), or report it with the model spec.",
                code="onnx-mismatch",
            )


def _sidecar(
    clf: Classifier, specs: list[dict[str, Any]], opset: int, name: str, proto: bytes
) -> dict[str, Any]:
    import torch

    from .._version import __version__

    task, n = clf.task_, int(clf.n_outputs_)
    thresholds = clf.decision_rule().resolved_thresholds(n)
    classes = np.asarray(clf.classes_).tolist()
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "logitlab_version": __version__,
        "onnx": {
            "file": name,
            "sha256": hashlib.sha256(proto).hexdigest(),
            "opset": opset,
            "exporter": f"torch.onnx.export(dynamo=True), torch {torch.__version__}",
            "dynamic_axes": {"batch": "dimension 0 of every input and output"},
        },
        "task": task,
        "classes": classes,
        "label_names": [str(v) for v in clf.label_names_],
        "inputs": specs,
        "outputs": output_specs(task, classes, [str(v) for v in clf.label_names_]),
        "input_kind": clf.data_state_.kind,
        "preprocessing": clf.data_state_.preprocessor.to_dict(),
        "calibration": clf.calibration_.to_dict() if clf.calibration_ is not None else None,
        "thresholds": thresholds.to_dict(),
        "thresholds_scale": "calibrated" if clf.calibration_ is not None else "raw",
        "model": dict(getattr(clf, "model_spec_", {})),
    }
