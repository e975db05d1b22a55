"""A fitted Classifier's state as a type, and the ``model.json`` fields of :mod:`logitlab.model_io`, both ways.

Only the :mod:`logitlab.estimator` package imports this module.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ..errors import ConfigError, ModelFileError
from ._params import check_params, is_int, resolve_device
from .decisions import Decisions

if TYPE_CHECKING:
    from torch import nn

    from ..data import DataState, LabelEncoder
    from ..evaluate import Calibration, Thresholds

__all__ = ["FittedState", "restore", "saved_meta"]


@dataclass
class FittedState:
    """What :meth:`Classifier.save` writes and :meth:`Classifier.load` reads: a fit's outcome, less its history.

    Attributes:
        seed (int): the seed the fit used. label_encoder (LabelEncoder): the labels' encoding (task, classes,
            output names). classes (list or None): ``classes_``'s order (``None``: sorted, as scikit-learn's).
        input_shape (tuple[int, ...]): one row's shape. model_spec (dict): what rebuilds the network.
        model (nn.Module): the network. thresholds (Thresholds or None), calibration (Calibration or None):
            the decision rule. data_state (DataState): the preprocessing. feature_names (list or None):
            a DataFrame's columns. decisions (Decisions): what the fit decided.
    """

    seed: int
    label_encoder: LabelEncoder
    classes: list[Any] | None
    input_shape: tuple[int, ...]
    model_spec: dict[str, Any]
    model: nn.Module
    thresholds: Thresholds | None
    calibration: Calibration | None
    data_state: DataState
    feature_names: list[str] | None
    decisions: Decisions


def saved_meta(state: FittedState, params: Mapping[str, Any]) -> dict[str, Any]:
    """The ``model.json`` fields of a fitted classifier (all but those :func:`write_model_dir` fills in)."""
    from .._version import __version__

    encoder = state.label_encoder
    return {
        "library_version": __version__,
        "task": encoder.task.value,
        "classes": [c.item() if isinstance(c, np.generic) else c for c in (state.classes or [])],
        "label_names": list(encoder.output_names),
        "label_encoder": encoder.to_dict(),
        "n_outputs": int(encoder.n_outputs),
        "input_shape": [int(d) for d in state.input_shape],
        "model_spec": dict(state.model_spec),
        "thresholds": state.thresholds.to_dict() if state.thresholds is not None else None,
        "calibration": state.calibration.to_dict() if state.calibration is not None else None,
        "preprocessing": state.data_state.to_dict(),
        "feature_names": list(state.feature_names) if state.feature_names is not None else None,
        "params": {k: _json_param(v) for k, v in params.items()},
        "decisions": state.decisions.to_dict(),
    }


def _epochs_from_one(decisions: dict[str, Any]) -> dict[str, Any]:
    """Decisions saved before epochs counted from 1 (no ``epochs_count_from``): their epoch numbers plus one."""
    if decisions.get("epochs_count_from") == 1 or "best_epoch" not in decisions:
        return decisions
    if decisions["best_epoch"] is not None:
        decisions["best_epoch"] = int(decisions["best_epoch"]) + 1
    if isinstance(decisions.get("members"), list):
        decisions["members"] = [
            {**m, "best_epoch": None if m.get("best_epoch") is None else int(m["best_epoch"]) + 1}
            for m in decisions["members"]
        ]
    decisions["epochs_count_from"] = 1
    return decisions


def _json_param(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool, dict, list, type(None))) else repr(value)


def restore(
    state: dict[str, Any],
    meta: dict[str, Any],
    *,
    valid: Collection[str],
    device: str,
    directory: Any = None,
) -> tuple[dict[str, Any], FittedState]:
    """The parameters (those named in ``valid``) and the fitted state of a validated ``model.json`` and its weights.

    Every field is checked against the others and the spec against the stored tensors
    (:mod:`logitlab.model_io.check`) before anything is built; a malformed field is a ``ModelFileError``
    naming it. A text model of ``model="hf:..."`` reads its ``tokenizer.json`` from ``directory``
    (checked against the SHA-256 in ``model.json``).
    """
    from ..data import DataState, LabelEncoder
    from ..evaluate import Calibration, Thresholds
    from ..model_io.check import check_model_meta, guarded
    from ..options import CLASSIFIER_DEFAULTS

    tensors = {k: (list(v.shape), str(v.dtype)) for k, v in state.items()}
    spec, model = check_model_meta(meta, tensors)  # first: nothing is built from an unchecked field
    params = dict(meta["params"])
    if "random_state" not in params and "seed" in params:  # saved before `random_state`: the same seed
        params["random_state"] = params.pop("seed")
    params = {k: v for k, v in params.items() if k in valid}
    try:
        check_params({**CLASSIFIER_DEFAULTS, **params, "device": "cpu"})  # the device is chosen at load time
    except ConfigError as exc:
        raise ModelFileError(
            f"model.json field `params.{exc.param}` is invalid: {exc.message}",
            fix="save the model again with Classifier.save(dir); do not edit model.json by hand.",
            code="model-json-inconsistent",
        ) from None
    saved_seed = params.get("seed") if params.get("seed") is not None else params.get("random_state")
    encoder = guarded("label_encoder", lambda: LabelEncoder.from_dict(meta["label_encoder"]))
    raw = dict(meta.get("decisions") or {"task": encoder.task.value, "task_reason": "", "notes": []})
    decisions = guarded("decisions", lambda: Decisions.from_dict(_epochs_from_one(raw)))
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelFileError(
            f"The weights do not fit the model described in model.json ({str(exc).splitlines()[0]}).",
            fix="save the model again, or copy model.safetensors and model.json together.",
            code="model-weights-mismatch",
        ) from None
    th = meta["thresholds"]
    stored = meta.get("calibration")  # schema_version 1 files have none: their probabilities stay raw
    data_state = guarded("preprocessing", lambda: DataState.from_dict(meta["preprocessing"]))
    pre = data_state.preprocessor
    if getattr(pre, "kind", None) == "hf_text":
        from ..model_io.safe_read import read_tokenizer

        if directory is None:
            raise ModelFileError(
                "A text model of model='hf:...' needs its tokenizer.json; no model directory was given.",
                fix="load it with Classifier.load(directory).",
                code="model-file-missing",
            )
        pre.attach(read_tokenizer(directory), str(pre.recorded_sha256))
    fitted = FittedState(
        seed=int(cast(int, saved_seed)) if is_int(saved_seed, 0) else 0,
        label_encoder=encoder,
        classes=list(meta["classes"]),  # the saved order
        input_shape=tuple(int(d) for d in meta["input_shape"]),
        model_spec=spec,  # older specs rebuild as they were trained
        model=model.to(resolve_device(device)).eval(),
        thresholds=guarded("thresholds", lambda: Thresholds.from_dict(th)) if th is not None else None,
        calibration=guarded("calibration", lambda: Calibration.from_dict(stored))
        if stored is not None
        else None,
        data_state=data_state,
        feature_names=list(meta["feature_names"]) if meta["feature_names"] is not None else None,
        decisions=decisions,
    )
    return params, fitted
