"""The input and output contract of an exported graph: what the sidecar JSON says, and a feed builder.

:func:`input_specs` names the graph's inputs for a fitted preprocessor (name, dtype, shape, the columns
and how a client builds each value); :func:`output_specs` the outputs; :func:`onnx_inputs` builds the
feed from what :meth:`~logitlab.Classifier.predict` takes, reading nothing but the sidecar.

Examples:
    >>> import numpy as np
    >>> from logitlab.data import ArrayPreprocessor
    >>> [(s["name"], s["dtype"], s["shape"]) for s in input_specs(ArrayPreprocessor.fit(np.zeros((4, 3))))]
    [('features', 'float64', ['batch', 3])]
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..data import ArrayPreprocessor, ImagePreprocessor, TabularPreprocessor, preprocessor_from_dict
from ..data.array_preprocessor import as_numeric
from ..errors import DataError, ModelFileError
from .graph import MISSING_CODE, UNKNOWN_CODE

__all__ = ["FORMAT", "FORMAT_VERSION", "OUTPUT_NAMES", "input_specs", "onnx_inputs", "output_specs"]

FORMAT = "logitlab-onnx"
"""The sidecar's ``format``."""

FORMAT_VERSION = 1
"""The sidecar's ``format_version``; a reader refuses a newer one."""

OUTPUT_NAMES = ("logits", "probabilities", "labels")
"""The graph's outputs, in order."""

_ARRAY_STEPS = "raw values in the training layout, NaN for missing; the graph imputes the training median and standardises"


def input_specs(pre: Any) -> list[dict[str, Any]]:
    """The graph's inputs for a fitted preprocessor, each ``{"name", "dtype", "shape", "client", ...}``.

    Tables: ``numeric`` (float64 ``[batch, n_numeric]``, one column per numeric column, NaN for missing)
    and ``categorical`` (int64 ``[batch, n_categorical]``: the value's index in the column's
    ``categories``, after the text normalisation below; :data:`MISSING_CODE` for missing; :data:`UNKNOWN_CODE`
    for a category not in the list), each present when the table has such columns. Arrays: ``features``
    (float64 ``[batch, F]``) or ``images`` (float64 ``[batch, C, H, W]``). Image files: ``images`` (float32
    ``[batch, C, H, W]``: decoded, converted, resized, scaled to [0, 1]).
    """
    if isinstance(pre, TabularPreprocessor):
        specs: list[dict[str, Any]] = []
        if pre.numeric:
            specs.append(
                {
                    "name": "numeric",
                    "dtype": "float64",
                    "shape": ["batch", len(pre.numeric)],
                    "columns": [c.name for c in pre.numeric],
                    "client": "the numeric columns' values, in this order; NaN for missing (the graph imputes "
                    "the training median and standardises)",
                }
            )
        if pre.categorical:
            specs.append(
                {
                    "name": "categorical",
                    "dtype": "int64",
                    "shape": ["batch", len(pre.categorical)],
                    "columns": [{"name": c.name, "categories": list(c.categories)} for c in pre.categorical],
                    "missing_code": MISSING_CODE,
                    "unknown_code": UNKNOWN_CODE,
                    "client": "per column, the index of the value in `categories` (values as text: stripped; "
                    f"a whole float as an int, 3.0 -> '3'); {MISSING_CODE} for missing (the graph imputes the "
                    f"training mode); {UNKNOWN_CODE} for a category not in the list (all-zero one-hot)",
                }
            )
        return specs
    if isinstance(pre, ArrayPreprocessor):
        name = "features" if len(pre.shape) == 1 else "images"
        return [{"name": name, "dtype": "float64", "shape": ["batch", *pre.shape], "client": _ARRAY_STEPS}]
    if isinstance(pre, ImagePreprocessor):
        mode = "L" if pre.channels == 1 else "RGB"
        client = (
            f"decode the file, convert to {mode!r}, resize to (H, W) = {tuple(pre.size)} with bilinear "
            "interpolation (PIL), scale to [0, 1] (uint8 / 255), channels first; the graph normalises"
        )
        return [
            {"name": "images", "dtype": "float32", "shape": ["batch", *pre.output_shape], "client": client}
        ]
    from .graph import build_preprocess

    build_preprocess(pre)  # raises the onnx-unsupported error
    raise AssertionError("unreachable")


def output_specs(task: str, classes: list[Any], label_names: list[str]) -> list[dict[str, Any]]:
    """The graph's outputs: ``logits``, ``probabilities`` (as ``predict_proba``), ``labels`` (as ``predict``)."""
    n = 1 if task == "binary" else len(label_names)
    columns = [str(c) for c in classes] if task != "multilabel" else list(label_names)
    label = (
        {"shape": ["batch", n], "client": "0/1 per label (columns: label_names)"}
        if task == "multilabel"
        else {"shape": ["batch"], "client": "the index of the decided class in `classes`"}
    )
    return [
        {
            "name": "logits",
            "dtype": "float32",
            "shape": ["batch", n],
            "columns": list(label_names),
            "client": "the network's raw logits (predict_logits; binary: the positive class's)",
        },  # fmt: skip
        {
            "name": "probabilities",
            "dtype": "float64",
            "shape": ["batch", len(columns)],
            "columns": columns,
            "client": "calibrated probabilities (predict_proba)",
        },  # fmt: skip
        {"name": "labels", "dtype": "int64", **label},
    ]


def read_sidecar(sidecar: Mapping[str, Any] | str | os.PathLike[str]) -> dict[str, Any]:
    """The sidecar as a dict, from a dict or a path to ``model.onnx.json`` (or to ``model.onnx`` beside it).

    Raises:
        ModelFileError: ``bad-onnx-sidecar`` for a file that is not a logitlab sidecar, or a newer one.
    """
    if isinstance(sidecar, Mapping):
        data = dict(sidecar)
    else:
        path = Path(sidecar)
        path = path.with_name(path.name + ".json") if path.suffix == ".onnx" else path
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ModelFileError(
                f"Could not read the ONNX sidecar {path}: {exc}.",
                fix="give the model.onnx.json written by export_onnx (or the model.onnx beside it).",
                code="bad-onnx-sidecar",
            ) from exc
    if data.get("format") != FORMAT or int(data.get("format_version", 0)) > FORMAT_VERSION:
        raise ModelFileError(
            f"Expected a {FORMAT} sidecar of format_version <= {FORMAT_VERSION}; got format "
            f"{data.get('format')!r}, version {data.get('format_version')!r}.",
            fix="export the model again with this logitlab version.",
            code="bad-onnx-sidecar",
        )
    return data


def onnx_inputs(X: Any, sidecar: Mapping[str, Any] | str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """The ONNX Runtime feed for ``X``, built from the sidecar alone: ``session.run(None, feed)``.

    Args:
        X: what :meth:`~logitlab.Classifier.predict` takes: a DataFrame (or an array with one column per
            training column) for a table model, an array ``[N, F]`` / ``[N, C, H, W]`` for an array model,
            a list of image paths for an image-folder model.
        sidecar (dict or path): the sidecar, or the path of ``model.onnx.json`` / ``model.onnx``.

    Returns:
        dict[str, ndarray]: one array per graph input, named and typed as the sidecar's ``inputs`` say.

    Raises:
        DataError: missing columns, values that do not parse, or samples of the wrong shape.
    """
    data = read_sidecar(sidecar)
    feed = _feed(X, preprocessor_from_dict(data["preprocessing"]))
    dtypes = {
        s["name"]: s["dtype"] for s in data["inputs"]
    }  # float32 for a graph exported with input_dtype="float32"
    return {name: x.astype(dtypes.get(name, x.dtype), copy=False) for name, x in feed.items()}


def _feed(X: Any, pre: Any) -> dict[str, np.ndarray]:
    if isinstance(pre, TabularPreprocessor):
        return _table_feed(X, pre)
    if isinstance(pre, ImagePreprocessor):
        images = [pre.raw(p) for p in X]
        stacked = np.stack([im.numpy() for im in images]) if images else np.zeros((0, *pre.output_shape))
        return {"images": stacked.astype(np.float32)}
    arr = as_numeric(X)
    if tuple(arr.shape[1:]) != pre.shape:
        raise DataError(
            f"Expected samples of shape {list(pre.shape)}; got {list(arr.shape[1:])}.",
            fix="give inputs shaped like the training data.",
            code="bad-input-shape",
        )
    return {input_specs(pre)[0]["name"]: arr}


def _table_feed(X: Any, pre: TabularPreprocessor) -> dict[str, np.ndarray]:
    if not isinstance(X, pd.DataFrame):
        arr = as_numeric(X)
        if arr.ndim == 2 and arr.shape[1] == len(pre.columns):
            X = pd.DataFrame(arr, columns=pre.columns)
    if not isinstance(X, pd.DataFrame):
        raise DataError(
            f"This model was trained on a table with columns {', '.join(pre.columns)}; got {type(X).__name__}.",
            fix="pass a pandas DataFrame with the training columns.",
            code="bad-input-type",
        )
    with warnings.catch_warnings():  # the graph imputes; predict's notes are not repeated here
        warnings.simplefilter("ignore")
        encoded = pre.transform(X, notes=[])  # checks columns and values, as predict does
    feed: dict[str, np.ndarray] = {}
    if pre.numeric:
        feed["numeric"] = np.column_stack(
            [
                pd.to_numeric(X[c.name], errors="coerce").to_numpy(np.float64, na_value=np.nan)
                for c in pre.numeric
            ]
        ).reshape(len(X), -1)
    if pre.categorical:
        codes, start = [], len(pre.numeric)
        for c in pre.categorical:  # the one-hot block of each column, read back as the category index
            block = encoded[:, start : start + len(c.categories)]
            codes.append(np.where(block.max(1) > 0, block.argmax(1), UNKNOWN_CODE))
            start += len(c.categories)
        feed["categorical"] = np.column_stack(codes).astype(np.int64).reshape(len(X), -1)
    return feed
