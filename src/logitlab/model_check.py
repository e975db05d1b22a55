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

import json
import math
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from .errors import LogitlabError, ModelFileError

__all__ = ["MAX_IMAGE_SIDE", "check_model_meta", "check_model_spec", "guarded"]

MAX_IMAGE_SIDE = 1 << 16
"""The largest image height or width a saved model's ``input_shape`` may hold (the stored tensors do
not bound it: convolutions do not depend on the image size)."""
_FIX = "save the model again with Classifier.save(dir); do not edit model.json by hand."
Tensors = Mapping[str, tuple[list[int], str]]


def _fail(field: str, problem: str) -> NoReturn:
    raise ModelFileError(f"model.json field `{field}` {problem}.", fix=_FIX, code="model-json-inconsistent")


def _json(value: Any) -> str:
    """A typed, order-preserving text of a JSON value: ``1``, ``1.0`` and ``true`` differ."""
    return json.dumps(value, sort_keys=True)


def _show(value: Any) -> str:
    return f"{value!r:.80}"


def _is_int(v: Any, low: int = 1, high: float = math.inf) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and low <= v <= high


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _check(ok: bool, field: str, value: Any, expected: str) -> None:
    if not ok:
        _fail(field, f"is {_show(value)}; expected {expected}")


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
        _fail(field, f"cannot be read ({reason:.200})")


# ---------------------------------------------------------------------------------- labels
def _check_encoder(enc: Any, field: str, meta: Mapping[str, Any]) -> None:
    _check(isinstance(enc, dict), field, enc, "the label encoder object logitlab saves")
    task, classes = enc.get("task"), enc.get("classes")
    _check(task == meta["task"], f"{field}.task", task, f"the top-level task {meta['task']!r}")
    _check(isinstance(classes, list), f"{field}.classes", classes, "a list of classes")
    _check(
        all(isinstance(c, (str, int, float)) for c in classes),
        f"{field}.classes",
        classes,
        "labels that are strings, numbers or booleans",
    )
    _check(len({_json(c) for c in classes}) == len(classes), f"{field}.classes", classes, "distinct classes")
    _check(
        _json(classes) == _json(meta["classes"]), f"{field}.classes", classes, f"`classes` {meta['classes']}"
    )
    positive, sep = enc.get("positive"), enc.get("label_sep", "|")
    _check(isinstance(sep, str) and sep != "", f"{field}.label_sep", sep, "a non-empty separator such as '|'")
    _check(isinstance(enc.get("soft", False), bool), f"{field}.soft", enc.get("soft"), "true or false")
    _check(isinstance(enc.get("reason", ""), str), f"{field}.reason", enc.get("reason"), "a string")
    notes = enc.get("notes", [])
    _check(
        isinstance(notes, list) and all(isinstance(n, str) for n in notes), f"{field}.notes", notes, "strings"
    )
    output_name = enc.get("output_name")
    _check(
        output_name is None or isinstance(output_name, str), f"{field}.output_name", output_name, "a string"
    )
    if task == "binary":
        _check(len(classes) == 2, f"{field}.classes", classes, "two classes [negative, positive] (binary)")
        _check(
            _json(positive) == _json(classes[1]),
            f"{field}.positive",
            positive,
            f"the second class {classes[1]!r} (classes are [negative, positive])",
        )
        names = [output_name or str(positive)]
    else:
        _check(
            positive is None, f"{field}.positive", positive, f"null (a {task} model has no positive class)"
        )
        _check(
            len(classes) >= (1 if task == "multilabel" else 2), f"{field}.classes", classes, "more classes"
        )
        names = [str(c) for c in classes]
    _check(meta["label_names"] == names, "label_names", meta["label_names"], f"{names} (from {field})")
    _check(meta["n_outputs"] == len(names), "n_outputs", meta["n_outputs"], f"{len(names)} (from {field})")


# ---------------------------------------------------------------------------------- preprocessing
def _numbers(values: Any, field: str, n: int | None = None, positive: bool = False) -> None:
    ok = isinstance(values, list) and all(_is_num(v) and (not positive or v > 0) for v in values)
    expected = "positive finite numbers" if positive else "finite numbers"
    _check(
        ok and (n is None or len(values) == n),
        field,
        values,
        f"{n if n is not None else 'a list of'} {expected}",
    )


def _check_tabular(pre: dict[str, Any], field: str) -> tuple[list[str], list[str], int]:
    from .data.tabular_preprocessor import CALENDAR_PARTS
    from .options import NUMERIC_SCALINGS

    columns, width = [], 0
    for part in ("numeric", "datetime", "categorical"):
        items: Any = pre.get(part, [] if part == "datetime" else None)
        _check(isinstance(items, list), f"{field}.{part}", items, "a list of columns")
        for i, col in enumerate(items):
            where = f"{field}.{part}[{i}]"
            _check(
                isinstance(col, dict) and isinstance(col.get("name"), str), where, col, "a column with a name"
            )
            columns.append(col["name"])
            if part == "numeric":
                scaling = col.get("scaling", "standard")
                _check(scaling in NUMERIC_SCALINGS, f"{where}.scaling", scaling, f"one of {NUMERIC_SCALINGS}")
                _numbers([col.get("fill"), col.get("mean")], f"{where}.fill/mean", 2)
                _numbers([col.get("scale")], f"{where}.scale", 1, positive=True)
                q = col.get("quantiles")
                if scaling == "quantile" or q is not None:
                    _numbers(q, f"{where}.quantiles")
                    _check(
                        len(q) >= 2 and q == sorted(q), f"{where}.quantiles", q, "2 or more ascending numbers"
                    )
                width += 1
            elif part == "datetime":
                for key in ("fill", "mean"):
                    _numbers(col.get(key), f"{where}.{key}", len(CALENDAR_PARTS))
                _numbers(col.get("scale"), f"{where}.scale", len(CALENDAR_PARTS), positive=True)
                width += len(CALENDAR_PARTS)
            else:
                cats = col.get("categories")
                ok = (
                    isinstance(cats, list)
                    and all(isinstance(c, str) for c in cats)
                    and len(set(cats)) == len(cats)
                )
                _check(ok, f"{where}.categories", cats, "distinct strings")
                _check(isinstance(col.get("fill"), str), f"{where}.fill", col.get("fill"), "a string")
                width += len(cats)
    twice = sorted({c for c in columns if columns.count(c) > 1})
    _check(not twice, f"{field}.numeric/categorical/datetime", twice, "each column once")
    dropped = pre.get("dropped", [])
    _check(
        isinstance(dropped, list) and all(isinstance(c, str) for c in dropped),
        f"{field}.dropped",
        dropped,
        "names",
    )
    return columns, dropped, width


def _check_preprocessing(meta: Mapping[str, Any]) -> None:
    state, shape = meta["preprocessing"], meta["input_shape"]
    _check(
        state.get("kind") in ("tabular", "image"),
        "preprocessing.kind",
        state.get("kind"),
        "'tabular' or 'image'",
    )
    _check(state.get("task") == meta["task"], "preprocessing.task", state.get("task"), f"{meta['task']!r}")
    _check_encoder(state.get("label_encoder"), "preprocessing.label_encoder", meta)
    keys = ("task", "classes", "positive", "label_sep", "soft", "output_name")
    inner, outer = state["label_encoder"], meta["label_encoder"]
    for key in keys:
        default = {"label_sep": "|", "soft": False}.get(key)
        a, b = inner.get(key, default), outer.get(key, default)
        _check(_json(a) == _json(b), f"preprocessing.label_encoder.{key}", a, f"{b!r} as in `label_encoder`")
    _check(
        state.get("input_shape") == shape, "preprocessing.input_shape", state.get("input_shape"), f"{shape}"
    )
    _check(
        isinstance(state.get("options", {}), dict), "preprocessing.options", state.get("options"), "an object"
    )
    pre, field = state.get("preprocessor"), "preprocessing.preprocessor"
    _check(isinstance(pre, dict), field, pre, "the preprocessor object logitlab saves")
    kind, names = pre.get("type"), meta["feature_names"]
    size = math.prod(shape)
    if kind == "tabular":
        columns, dropped, width = _check_tabular(pre, field)
        _check(width == size, "input_shape", shape, f"[{width}], the width of the preprocessing's output")
        if names is not None:
            ok = all(isinstance(n, str) for n in names) and len(set(names)) == len(names)
            ok = ok and set(columns) <= set(names) <= set(columns) | set(dropped)
            _check(
                ok, "feature_names", names, f"the preprocessing's columns {columns} (and dropped {dropped})"
            )
    elif kind == "array":
        _check(pre.get("shape") == shape, f"{field}.shape", pre.get("shape"), f"{shape} (input_shape)")
        n = shape[0] if len(shape) > 1 else size  # per channel for images, per feature for tables
        for key in ("mean", "fill"):
            if key == "mean" or pre.get(key) is not None:
                _numbers(pre.get(key), f"{field}.{key}", n)
        _numbers(pre.get("scale"), f"{field}.scale", n, positive=True)
        _numbers([pre.get("multiplier", 1.0)], f"{field}.multiplier", 1, positive=True)
        _check(names is None or len(names) == size, "feature_names", names, f"null or {size} names")
    elif kind == "image":
        channels, side = pre.get("channels"), pre.get("size")
        _check(_is_int(channels), f"{field}.channels", channels, "a positive int")
        ok = isinstance(side, list) and len(side) == 2 and all(_is_int(s, 1, MAX_IMAGE_SIDE) for s in side)
        _check(
            ok and [channels, *side] == shape,
            f"{field}.size",
            side,
            f"[height, width] of input_shape {shape}",
        )
        _numbers(pre.get("mean"), f"{field}.mean", channels)
        _numbers(pre.get("std"), f"{field}.std", channels, positive=True)
        _check(names is None, "feature_names", names, "null (an image model)")
    else:
        _check(False, f"{field}.type", kind, "'tabular', 'array' or 'image'")


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
    from .models import ARCH_OPTIONS, MODEL_NAMES, build_model, saved_model_spec
    from .models.mlp import ACTIVATIONS, EMBEDDINGS
    from .models.registry import FEATURE_MODELS, INIT_OPTIONS

    _check(isinstance(spec, dict), "model_spec", spec, "an object")
    name = spec.get("name")
    _check(name in MODEL_NAMES, "model_spec.name", name, f"one of {', '.join(MODEL_NAMES)}")
    for key in spec:
        if key in INIT_OPTIONS:
            _fail(
                f"model_spec.{key}",
                "is set; a saved model never holds it, and one from a file is not honoured",
            )
        _check(key in ("name", "input_shape", "n_outputs", "ensemble", *ARCH_OPTIONS[name]), "model_spec", key,
               f"only the options of {name!r}: {', '.join(ARCH_OPTIONS[name])}")  # fmt: skip
    big, count = _max_dim(tensors), len(tensors)
    shape = spec.get("input_shape")
    _check(
        shape == meta["input_shape"], "model_spec.input_shape", shape, f"{meta['input_shape']} (input_shape)"
    )
    _check(
        spec.get("n_outputs") == meta["n_outputs"], "model_spec.n_outputs", spec.get("n_outputs"), "n_outputs"
    )
    _check(
        meta["n_outputs"] <= big, "n_outputs", meta["n_outputs"], f"at most {big}, the widest stored tensor"
    )
    if name in FEATURE_MODELS:
        _check(
            math.prod(shape) <= big, "input_shape", shape, f"at most {big} inputs (the stored first layer)"
        )
    else:
        ok = len(shape) == 3 and shape[0] <= big and max(shape[1:]) <= MAX_IMAGE_SIDE
        _check(ok, "input_shape", shape, f"[channels <= {big}, height, width <= {MAX_IMAGE_SIDE}]")
    for key in ("hidden", "channels"):
        if key in spec:
            ok = isinstance(spec[key], list) and len(spec[key]) <= count
            ok = ok and all(_is_int(w, 1, big) for w in spec[key])
            _check(
                ok,
                f"model_spec.{key}",
                spec[key],
                f"at most {count} positive widths of at most {big}, as stored",
            )
    ensemble = spec.get("ensemble", 1)
    members = {n.split(".", 2)[1] for n in tensors if n.startswith("members.")}
    stored = len(members) if members and all(n.startswith("members.") for n in tensors) else 1
    _check(_is_int(ensemble, 1, count) and ensemble == stored, "model_spec.ensemble", ensemble,
           f"{stored}, the number of networks stored")  # fmt: skip
    checks = {
        "dropout": (lambda v: _is_num(v) and 0 <= v < 1, "a number in [0, 1)"),
        "batch_norm": (lambda v: isinstance(v, bool), "true or false"),
        "small_input": (lambda v: isinstance(v, bool), "true or false"),
        "activation": (lambda v: v in ACTIVATIONS, f"one of {ACTIVATIONS}"),
        "embedding": (lambda v: v in EMBEDDINGS, f"one of {EMBEDDINGS}"),
    }
    for key, (ok_value, expected) in checks.items():
        if key in spec:
            _check(ok_value(spec[key]), f"model_spec.{key}", spec[key], expected)
    full = saved_model_spec(spec)
    size, stored_size = _network_size(full), sum(math.prod(shape) for shape, _ in tensors.values())
    if size is not None and size != stored_size:
        _fail(
            "model_spec", f"describes a network of {size:,} numbers; model.safetensors holds {stored_size:,}"
        )
    # the sizes are now those of the stored tensors (or, for a backbone, bounded by them): build it
    model = guarded("model_spec", lambda: build_model(**full))
    built = {k: (list(v.shape), str(v.dtype)) for k, v in model.state_dict().items()}
    if built != dict(tensors):
        diff = sorted(set(built) ^ set(tensors)) or sorted(k for k in built if built[k] != tensors[k])
        got = tensors.get(diff[0], "absent")
        _fail("model_spec", f"describes a network whose tensor {diff[0]!r} is {built.get(diff[0], 'absent')}; "
              f"model.safetensors holds {got}")  # fmt: skip
    return full, model


def _network_size(spec: Mapping[str, Any]) -> int | None:
    """The numbers in the state dict of the network ``spec`` describes (``None``: a torchvision backbone).

    Computed from the spec alone, so that a spec describing more than the stored tensors is refused
    before anything is allocated. Mirrors :class:`~logitlab.models.MLP`, :class:`~logitlab.models.SmallCNN`
    and the linear model (tested against ``build_model``).
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
    elif name == "cnn":
        c, total = spec["input_shape"][0], 0
        for out in spec["channels"]:
            total += (c * out * 9 + 4 * out + 1) + (out * out * 9 + 4 * out + 1)  # two conv + batch norm
            c = out
        total += c * n_out + n_out
    else:
        return None
    return total * int(spec.get("ensemble", 1))


# ---------------------------------------------------------------------------------- everything
def check_model_meta(meta: Mapping[str, Any], tensors: Tensors) -> tuple[dict[str, Any], Any]:
    """Check a schema-valid ``model.json`` against itself and its weights; returns the full spec and the network.

    Raises:
        ModelFileError: the first contradiction, naming the field.
    """
    _check(
        all(isinstance(c, (str, int, float)) for c in meta["classes"]), "classes", meta["classes"], "labels"
    )
    _check(
        all(isinstance(n, str) for n in meta["label_names"]), "label_names", meta["label_names"], "strings"
    )
    _check_encoder(meta["label_encoder"], "label_encoder", meta)
    _check_preprocessing(meta)
    th = meta["thresholds"]
    if th is not None:
        _check(th.get("task") == meta["task"], "thresholds.task", th.get("task"), f"{meta['task']!r}")
        _numbers(th.get("values"), "thresholds.values", meta["n_outputs"])
    cal = meta.get("calibration")
    if cal is not None:
        _check(cal.get("task") == meta["task"], "calibration.task", cal.get("task"), f"{meta['task']!r}")
        params = cal.get("params")
        n = 1 if meta["task"] == "multiclass" else meta["n_outputs"]
        _check(isinstance(params, list) and len(params) == n, "calibration.params", params, f"{n} maps")
    return check_model_spec(meta["model_spec"], meta, tensors)
