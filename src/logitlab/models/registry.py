"""Model names, their options and defaults, and the JSON model spec.

A model spec is a flat dict ``{"name", "input_shape", "n_outputs", **architecture options}`` with
every default filled in, so ``build_model(**json.loads(json.dumps(spec)))`` rebuilds the same
architecture even if defaults change later. Init-only options (``weights_path``, ``prior``, ``task``)
are not part of the spec: saved weights replace them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..errors import ConfigError
from .vision import BACKBONES

__all__ = [
    "ARCH_OPTIONS",
    "FEATURE_MODELS",
    "INIT_OPTIONS",
    "MODEL_NAMES",
    "PERIODIC_MAX_FEATURES",
    "SAVED_BEFORE",
    "model_spec",
    "resolve_model_name",
    "saved_model_spec",
]

MODEL_NAMES = ("mlp", "linear", "cnn", *BACKBONES, "sparse")
FEATURE_MODELS = ("mlp", "linear", "sparse")
"""The models that take features of any shape (flattened); the others need images ``(C, H, W)``."""
AUTO = "auto"
"""The model name that picks by input: ``cnn`` for images ``(C, H, W)``, ``mlp`` for features ``(F,)``."""
INIT_OPTIONS = ("weights_path", "prior", "task")
ARCH_OPTIONS: dict[str, dict[str, Any]] = {
    "mlp": {
        "hidden": [256, 128],
        "dropout": 0.2,
        "batch_norm": True,
        "activation": "relu",
        "embedding": "auto",
    },
    "linear": {},
    "cnn": {"channels": [32, 64, 128], "dropout": 0.2},
    "sparse": {"hidden": [], "dropout": 0.0},
    **{name: {"small_input": None} for name in BACKBONES},
}
"""Architecture options of each model and their defaults (``small_input=None``: auto, below 64 pixels;
``embedding="auto"``: ``"periodic"`` for up to :data:`PERIODIC_MAX_FEATURES` inputs, else ``"none"``)."""

PERIODIC_MAX_FEATURES = 256
"""The widest input that ``embedding="auto"`` embeds (16 outputs per feature: 4,096 inputs to the first
layer at most). Wider inputs (bag-of-words, sparse one-hot, flattened images) are rarely scalar measurements
that periodic features help, and would make the first layer 16 times wider."""

SAVED_BEFORE: dict[str, dict[str, Any]] = {"mlp": {"embedding": "none"}}
"""The value of an option that a spec saved before the option existed had in effect: a model directory
written by an older logitlab rebuilds as it was trained, whatever the default is now."""


def resolve_model_name(name: str, input_shape: Sequence[int], *, sparse_input: bool = False) -> str:
    """Resolve ``"auto"``: ``"cnn"`` for images, ``"sparse"`` for sparse rows, else ``"mlp"``.

    Images have ``input_shape`` ``(C, H, W)``; sparse rows are text or scipy sparse ``X``
    (:mod:`logitlab.models.sparse`). Other names are returned unchanged.

    The saved model spec records the resolved name, so a model saved before the default became
    ``"auto"`` rebuilds as what it was.

    Examples:
        >>> resolve_model_name("auto", (3, 32, 32)), resolve_model_name("auto", (30,)), resolve_model_name("mlp", (1, 8, 8))
        ('cnn', 'mlp', 'mlp')
    """
    if isinstance(name, str) and name.lower() == AUTO:
        if sparse_input:
            return "sparse"
        try:
            return "cnn" if len(input_shape) == 3 else "mlp"
        except TypeError:
            return "mlp"  # a bad shape is reported by the shape check
    return name


def _check_name(name: str) -> str:
    if not isinstance(name, str) or name.lower() not in MODEL_NAMES:
        raise ConfigError(
            f"Unknown model {name!r}; the models are: {AUTO}, {', '.join(MODEL_NAMES)}.",
            fix="use 'mlp' or 'linear' for tables, 'cnn' for small images, or a torchvision backbone such as 'resnet18'.",
            code="unknown-model",
        )
    return name.lower()


def _check_shape(name: str, input_shape: Sequence[int], n_outputs: int) -> tuple[list[int], int]:
    try:
        shape = [] if isinstance(input_shape, (str, bytes)) else [int(s) for s in input_shape]
        if any(isinstance(s, bool) or int(s) != s for s in input_shape):
            shape = []
    except (TypeError, ValueError):
        shape = []
    if not shape or min(shape) < 1:
        raise ConfigError(
            f"Expected argument `input_shape` to be positive sizes like (30,) or (3, 32, 32); got {input_shape!r}.",
            fix="pass bundle.input_shape (one sample's shape, without the batch axis).",
            code="bad-input-shape",
        )
    if name not in FEATURE_MODELS and len(shape) != 3:
        raise ConfigError(
            f"Model {name!r} needs image input_shape (C, H, W); got {tuple(shape)}.",
            fix="use model 'mlp' or 'linear' for tabular features.",
            code="bad-input-shape",
        )
    if name == "sparse" and len(shape) != 1:
        raise ConfigError(
            f"Model 'sparse' needs features of shape (F,); got {tuple(shape)}.",
            fix="use model 'cnn' or 'mlp' for images.",
            code="bad-input-shape",
        )
    if isinstance(n_outputs, bool) or not isinstance(n_outputs, int) or n_outputs < 1:
        raise ConfigError(
            f"Expected argument `n_outputs` to be a positive int; got {n_outputs!r}.",
            fix="1 for binary, L labels for multilabel, C classes for multiclass (bundle.n_outputs).",
            code="bad-n-outputs",
        )
    return shape, n_outputs


def model_spec(
    name: str, *, input_shape: Sequence[int], n_outputs: int, sparse_input: bool = False, **options: Any
) -> dict[str, Any]:
    """The complete, JSON-serialisable spec of a model (defaults filled in, options checked).

    Args:
        name (str): one of :data:`MODEL_NAMES`, or ``"auto"`` (see :func:`resolve_model_name`).
        input_shape (sequence of int): one sample's shape, ``(F,)`` or ``(C, H, W)``.
        n_outputs (int): number of logits.
        sparse_input (bool): the inputs are sparse rows (``"auto"`` picks ``"sparse"``). Default: ``False``.
        **options: architecture options of :data:`ARCH_OPTIONS` (init-only options are dropped).

    Raises:
        ConfigError: unknown name or option (listing the valid ones), bad shape.

    Examples:
        >>> model_spec("mlp", input_shape=(30,), n_outputs=1, hidden=(64,))
        {'name': 'mlp', 'input_shape': [30], 'n_outputs': 1, 'hidden': [64], 'dropout': 0.2, 'batch_norm': True, 'activation': 'relu', 'embedding': 'periodic'}
    """
    name = _check_name(resolve_model_name(name, input_shape, sparse_input=sparse_input))
    shape, n_outputs = _check_shape(name, input_shape, n_outputs)
    allowed = ARCH_OPTIONS[name]
    unknown = sorted(k for k in options if k not in allowed and k not in INIT_OPTIONS)
    if unknown:
        raise ConfigError(
            f"Unknown option(s) {', '.join(unknown)} for model {name!r}; its options are: "
            f"{', '.join([*allowed, *INIT_OPTIONS])}.",
            fix="check the spelling, or leave the option out to use its default.",
            code="unknown-model-option",
        )
    spec: dict[str, Any] = {"name": name, "input_shape": shape, "n_outputs": n_outputs}
    for key, default in allowed.items():
        value = options.get(key, default)
        spec[key] = [int(v) for v in value] if isinstance(value, (list, tuple)) else value
    if "small_input" in spec and spec["small_input"] is None:
        spec["small_input"] = min(shape[1:]) < 64
    if spec.get("embedding") == AUTO:
        spec["embedding"] = "periodic" if math.prod(shape) <= PERIODIC_MAX_FEATURES else "none"
    return spec


def saved_model_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """A spec read from a model directory, with the options it predates set to what they were then.

    Examples:
        >>> saved_model_spec({"name": "mlp", "input_shape": [4], "n_outputs": 1, "hidden": [8]})["embedding"]
        'none'
    """
    before = SAVED_BEFORE.get(str(spec.get("name")), {})
    return {**spec, **{k: v for k, v in before.items() if k not in spec}}


def prior_logits(prior: Any, n_outputs: int, task: str | None) -> list[float]:
    """Head biases for class priors: ``log(p / (1 - p))`` (sigmoid tasks) or ``log(p)`` (multiclass).

    Raises:
        ConfigError: probabilities outside (0, 1), a wrong count, or ``n_outputs > 1`` without ``task``.
    """
    values = [float(prior)] if isinstance(prior, (int, float)) else [float(v) for v in prior]
    if len(values) != n_outputs or not all(0 < v < 1 for v in values):
        raise ConfigError(
            f"Expected option `prior` to be {n_outputs} probabilities in (0, 1); got {values}.",
            fix="pass the training split's positive rate(s) (binary/multilabel) or class frequencies (multiclass).",
            code="bad-prior",
        )
    if n_outputs == 1 or task in ("binary", "multilabel"):
        return [math.log(v / (1 - v)) for v in values]
    if task == "multiclass":
        return [math.log(v) for v in values]
    raise ConfigError(
        f"Option `prior` with n_outputs={n_outputs} needs `task` ('multilabel' or 'multiclass'); got {task!r}.",
        fix="pass task='multilabel' (sigmoid, log-odds) or task='multiclass' (softmax, log-prior).",
        code="prior-needs-task",
    )
