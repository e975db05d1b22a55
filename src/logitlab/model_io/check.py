"""The checks of an untrusted ``model.json`` beyond its schema: every field against the others and the weights.

:func:`logitlab.model_io.read_model_dir` checks the file's structure (JSON, schema, SHA-256, the
tensors' names, shapes and dtypes). Before :meth:`~logitlab.Classifier.load` builds anything, this
module checks what an edit could make contradictory while keeping the schema: the label encoder
against ``classes``, ``label_names``, ``n_outputs`` and the copy inside ``preprocessing``; the
positive class; the preprocessing's columns, scalings and statistics; ``feature_names``; the
thresholds and calibration; the parameters; and the model spec against the stored tensors, with
every size bounded by what the tensors imply before the network is built and compared tensor by
tensor. Each problem is a
:class:`~logitlab.errors.ModelFileError` that names the field.

Examples:
    >>> try:
    ...     check_model_spec({"name": "mlp", "input_shape": [4], "n_outputs": 1, "hidden": [30000, 30000]},
    ...                      {"input_shape": [4], "n_outputs": 1}, {"head.weight": ([1, 8], "torch.float32")})
    ... except ModelFileError as err:
    ...     print(err.message.split(";")[0])
    model.json field `model_spec.hidden` is [30000, 30000]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import LogitlabError, ModelFileError
from ._fields import check_encoder, check_numbers, expect, fail, is_int, is_num
from .check_data import MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE, check_preprocessing

__all__ = ["MAX_IMAGE_SIDE", "check_model_meta", "check_model_spec", "guarded"]

Tensors = Mapping[str, tuple[list[int], str]]


def guarded(field: str, build: Callable[[], Any]) -> Any:
    """``build()``, with any error it raises on a malformed field turned into a ``ModelFileError`` naming it."""
    try:
        return build()
    except ModelFileError:
        raise
    except (
        LogitlabError,
        KeyError,
        TypeError,
        ValueError,
        AttributeError,
        IndexError,
        RecursionError,
    ) as exc:
        reason = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        fail(field, f"cannot be read ({reason:.200})")


# ---------------------------------------------------------------------------------- model spec
def _max_dim(tensors: Tensors) -> int:
    return max((d for shape, _ in tensors.values() for d in shape), default=0)


def check_model_spec(spec: Any, meta: Mapping[str, Any], tensors: Tensors) -> tuple[dict[str, Any], Any]:
    """Check ``model_spec`` against the stored tensors, then build it; returns the full spec and the network.

    Every size is bounded first by what the tensors imply (a width is at most the largest stored
    dimension, a list of layers at most the number of tensors, ``ensemble`` the number of stored
    members, the numbers in the network the numbers stored), and only then is the network built
    (so it holds no more than the file does) and its tensors' names, shapes and dtypes compared
    with the stored ones.

    Args:
        spec (Any): ``model_spec`` from ``model.json``.
        meta (Mapping): ``model.json`` (its ``input_shape`` and ``n_outputs`` are used).
        tensors (Mapping): name -> (shape, dtype such as ``"torch.float32"``) of the stored weights.

    Raises:
        ModelFileError: naming the field (``model_spec.hidden``, ``model_spec.ensemble``, ...).
    """
    from ..models import ARCH_OPTIONS, MODEL_NAMES, build_model, saved_model_spec
    from ..models.mlp import ACTIVATIONS, EMBEDDINGS
    from ..models.registry import FEATURE_MODELS, INIT_OPTIONS

    expect(isinstance(spec, dict), "model_spec", spec, "an object")
    name = spec.get("name")
    if name == "hf":
        return check_hf_spec(spec, meta, tensors)
    expect(name in MODEL_NAMES, "model_spec.name", name, f"one of {', '.join(MODEL_NAMES)}")
    for key in spec:
        if key in INIT_OPTIONS:
            fail(
                f"model_spec.{key}",
                "is set; a saved model never holds it, and one from a file is not honoured",
            )
        expect(key in ("name", "input_shape", "n_outputs", "ensemble", *ARCH_OPTIONS[name]), "model_spec", key,
               f"only the options of {name!r}: {', '.join(ARCH_OPTIONS[name])}")  # fmt: skip
    big, count = _max_dim(tensors), len(tensors)
    shape = spec.get("input_shape")
    expect(
        shape == meta["input_shape"], "model_spec.input_shape", shape, f"{meta['input_shape']} (input_shape)"
    )
    expect(
        spec.get("n_outputs") == meta["n_outputs"], "model_spec.n_outputs", spec.get("n_outputs"), "n_outputs"
    )
    expect(
        meta["n_outputs"] <= big, "n_outputs", meta["n_outputs"], f"at most {big}, the widest stored tensor"
    )
    if name in FEATURE_MODELS:
        expect(
            math.prod(shape) <= big, "input_shape", shape, f"at most {big} inputs (the stored first layer)"
        )
    else:
        ok = len(shape) == 3 and shape[0] <= big and max(shape[1:]) <= MAX_IMAGE_SIDE
        ok = ok and shape[1] * shape[2] <= MAX_IMAGE_PIXELS
        expect(ok, "input_shape", shape, f"[channels <= {big}, height, width <= {MAX_IMAGE_SIDE}, "
               f"at most {MAX_IMAGE_PIXELS:,} pixels]")  # fmt: skip
    for key in ("hidden", "channels"):
        if key in spec:
            ok = isinstance(spec[key], list) and len(spec[key]) <= count
            ok = ok and all(is_int(w, 1, big) for w in spec[key])
            expect(
                ok,
                f"model_spec.{key}",
                spec[key],
                f"at most {count} positive widths of at most {big}, as stored",
            )
    ensemble = spec.get("ensemble", 1)
    members = {n.split(".", 2)[1] for n in tensors if n.startswith("members.")}
    stored = len(members) if members and all(n.startswith("members.") for n in tensors) else 1
    expect(is_int(ensemble, 1, count) and ensemble == stored, "model_spec.ensemble", ensemble,
           f"{stored}, the number of networks stored")  # fmt: skip
    checks = {
        "dropout": (lambda v: is_num(v) and 0 <= v < 1, "a number in [0, 1)"),
        "batch_norm": (lambda v: isinstance(v, bool), "true or false"),
        "small_input": (lambda v: isinstance(v, bool), "true or false"),
        "activation": (lambda v: v in ACTIVATIONS, f"one of {ACTIVATIONS}"),
        "embedding": (lambda v: v in EMBEDDINGS, f"one of {EMBEDDINGS}"),
    }
    for key, (ok_value, expected) in checks.items():
        if key in spec:
            expect(ok_value(spec[key]), f"model_spec.{key}", spec[key], expected)
    full = saved_model_spec(spec)
    size, stored_size = _network_size(full), sum(math.prod(shape) for shape, _ in tensors.values())
    if size is not None and size != stored_size:
        fail(
            "model_spec", f"describes a network of {size:,} numbers; model.safetensors holds {stored_size:,}"
        )
    # the sizes are now those of the stored tensors (or, for a backbone, bounded by them): build it
    model = guarded("model_spec", lambda: build_model(**full))
    built = {k: (list(v.shape), str(v.dtype)) for k, v in model.state_dict().items()}
    if built != dict(tensors):
        diff = sorted(set(built) ^ set(tensors)) or sorted(k for k in built if built[k] != tensors[k])
        got = tensors.get(diff[0], "absent")
        fail("model_spec", f"describes a network whose tensor {diff[0]!r} is {built.get(diff[0], 'absent')}; "
              f"model.safetensors holds {got}")  # fmt: skip
    return full, model


def _network_size(spec: Mapping[str, Any]) -> int | None:
    """The numbers in the state dict of the network ``spec`` describes (``None``: a torchvision backbone).

    Computed from the spec alone, so that a spec describing more than the stored tensors is refused
    before anything is allocated. Mirrors :class:`~logitlab.models.MLP`, :class:`~logitlab.models.SmallCNN`,
    :class:`~logitlab.models.SparseNet` and the linear model (tested against ``build_model``).
    """
    n_out, name = spec["n_outputs"], spec["name"]
    if name in ("mlp", "linear"):
        width = math.prod(spec["input_shape"])
        total = 0
        if name == "mlp":
            if spec.get("embedding") == "periodic":  # PeriodicEmbedding(F): 16 frequencies, 16 outputs
                total += width * 16 + width * 32 * 16 + width * 16
                width *= 16
            for h in spec["hidden"]:
                bn = bool(spec.get("batch_norm", True))
                total += width * h + (0 if bn else h) + (4 * h + 1 if bn else 0)
                width = h
        total += width * n_out + n_out
    elif name == "sparse":  # SparseNet: F x H (+ H), then H x n_outputs (+ n_outputs) when hidden=[H]
        f, widths = math.prod(spec["input_shape"]), [*spec["hidden"], n_out]
        total = f * widths[0] + widths[0] + sum(a * b + b for a, b in zip(widths, widths[1:]))
    elif name == "cnn":
        c, total = spec["input_shape"][0], 0
        for out in spec["channels"]:
            total += (c * out * 9 + 4 * out + 1) + (out * out * 9 + 4 * out + 1)  # two conv + batch norm
            c = out
        total += c * n_out + n_out
    else:
        return None
    return total * int(spec.get("ensemble", 1))


def check_hf_spec(
    spec: dict[str, Any], meta: Mapping[str, Any], tensors: Tensors
) -> tuple[dict[str, Any], Any]:
    """A ``model="hf:..."`` spec checked, then built; returns the spec and the network.

    Its fields are checked, then its network is built without memory (``meta`` device) and compared
    tensor by tensor with the stored ones, and only then built for real.

    The config must name a ``model_type`` transformers knows and no remote code (``auto_map``); nothing
    from the file is ever run.
    """
    from ..extras import require_extra
    from ..models.hf import hf_from_spec

    keys = ("name", "input_shape", "n_outputs", "max_length", "pad_token_id", "config")
    for key in spec:
        expect(key in keys, "model_spec", key, f"only the fields of an hf: model: {', '.join(keys)}")
    n = spec.get("max_length")
    expect(is_int(n, 2, 100_000), "model_spec.max_length", n, "an int in [2, 100000]")
    expect(spec.get("input_shape") == meta["input_shape"] == [n], "model_spec.input_shape",
           spec.get("input_shape"), f"[{n}] (max_length) and input_shape")  # fmt: skip
    expect(
        spec.get("n_outputs") == meta["n_outputs"], "model_spec.n_outputs", spec.get("n_outputs"), "n_outputs"
    )
    config: Any = spec.get("config")
    expect(isinstance(config, dict), "model_spec.config", config, "a transformers config object")
    labels = config.get("id2label")
    expect(isinstance(labels, dict) and len(labels) == meta["n_outputs"], "model_spec.config.id2label",
           labels, f"{meta['n_outputs']} labels (n_outputs)")  # fmt: skip
    vocab = config.get("vocab_size")
    pad = spec.get("pad_token_id")
    expect(is_int(pad, 0, vocab - 1 if is_int(vocab, 1) else math.inf), "model_spec.pad_token_id", pad,
           "a token id of the vocabulary")  # fmt: skip
    require_extra("hf", "transformers")  # a missing package says which extra to install, not a bad field
    shapes = guarded("model_spec.config", lambda: hf_from_spec(spec, meta_device=True).state_dict())
    built = {k: (list(v.shape), str(v.dtype)) for k, v in shapes.items()}
    if built != dict(tensors):
        diff = sorted(set(built) ^ set(tensors)) or sorted(k for k in built if built[k] != tensors[k])
        fail("model_spec.config", f"describes a network whose tensor {diff[0]!r} is "
              f"{built.get(diff[0], 'absent')}; model.safetensors holds {tensors.get(diff[0], 'absent')}")  # fmt: skip
    return dict(spec), guarded("model_spec.config", lambda: hf_from_spec(spec))


# ---------------------------------------------------------------------------------- everything
def check_model_meta(meta: Mapping[str, Any], tensors: Tensors) -> tuple[dict[str, Any], Any]:
    """Check a schema-valid ``model.json`` against itself and its weights; returns the full spec and the network.

    Raises:
        ModelFileError: the first contradiction, naming the field.
    """
    expect(
        all(isinstance(c, (str, int, float)) for c in meta["classes"]), "classes", meta["classes"], "labels"
    )
    expect(
        all(isinstance(n, str) for n in meta["label_names"]), "label_names", meta["label_names"], "strings"
    )
    check_encoder(meta["label_encoder"], "label_encoder", meta)
    check_preprocessing(meta)
    th = meta["thresholds"]
    if th is not None:
        expect(th.get("task") == meta["task"], "thresholds.task", th.get("task"), f"{meta['task']!r}")
        check_numbers(th.get("values"), "thresholds.values", meta["n_outputs"])
    cal = meta.get("calibration")
    if cal is not None:
        expect(cal.get("task") == meta["task"], "calibration.task", cal.get("task"), f"{meta['task']!r}")
        params = cal.get("params")
        n = 1 if meta["task"] == "multiclass" else meta["n_outputs"]
        expect(isinstance(params, list) and len(params) == n, "calibration.params", params, f"{n} maps")
    return check_model_spec(meta["model_spec"], meta, tensors)
