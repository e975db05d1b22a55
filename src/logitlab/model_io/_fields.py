"""The small helpers of :mod:`logitlab.model_io.check` and :mod:`logitlab.model_io.check_data`: one message shape."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, NoReturn

from ..errors import ModelFileError
from ..options import LABEL_SEP

_FIX = "save the model again with Classifier.save(dir); do not edit model.json by hand."


def fail(field: str, problem: str) -> NoReturn:
    """A ``ModelFileError`` naming ``field`` of ``model.json``."""
    raise ModelFileError(f"model.json field `{field}` {problem}.", fix=_FIX, code="model-json-inconsistent")


def json_text(value: Any) -> str:
    """A typed, order-preserving text of a JSON value: ``1``, ``1.0`` and ``true`` differ."""
    return json.dumps(value, sort_keys=True)


def _show(value: Any) -> str:
    return f"{value!r:.80}"


def is_int(v: Any, low: int = 1, high: float = math.inf) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and low <= v <= high


def is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def expect(ok: bool, field: str, value: Any, expected: str) -> None:
    if not ok:
        fail(field, f"is {_show(value)}; expected {expected}")


def check_numbers(values: Any, field: str, n: int | None = None, positive: bool = False) -> None:
    ok = isinstance(values, list) and all(is_num(v) and (not positive or v > 0) for v in values)
    expected = "positive finite numbers" if positive else "finite numbers"
    expect(
        ok and (n is None or len(values) == n),
        field,
        values,
        f"{n if n is not None else 'a list of'} {expected}",
    )


# ---------------------------------------------------------------------------------- labels
def check_encoder(enc: Any, field: str, meta: Mapping[str, Any]) -> None:
    """A label encoder against the top level: task, classes, positive class, label names, output count."""
    expect(isinstance(enc, dict), field, enc, "the label encoder object logitlab saves")
    task, classes = enc.get("task"), enc.get("classes")
    expect(task == meta["task"], f"{field}.task", task, f"the top-level task {meta['task']!r}")
    expect(isinstance(classes, list), f"{field}.classes", classes, "a list of classes")
    expect(
        all(isinstance(c, (str, int, float)) for c in classes),
        f"{field}.classes",
        classes,
        "labels that are strings, numbers or booleans",
    )
    expect(
        len({json_text(c) for c in classes}) == len(classes), f"{field}.classes", classes, "distinct classes"
    )
    top = meta.get("label_encoder")
    if field != "label_encoder" and isinstance(top, dict) and isinstance(top.get("classes"), list):
        expect(  # a copy of the label encoder: the same classes in the same (logit) order
            json_text(classes) == json_text(top["classes"]),
            f"{field}.classes",
            classes,
            f"`label_encoder.classes` {top['classes']}",
        )
    expect(  # the same classes; `classes` (classes_) may be ordered otherwise (sorted, as scikit-learn)
        sorted(map(json_text, classes)) == sorted(map(json_text, meta["classes"])),
        f"{field}.classes",
        classes,
        f"the classes of `classes` {meta['classes']}",
    )
    positive, sep = enc.get("positive"), enc.get("label_sep", LABEL_SEP)
    expect(isinstance(sep, str) and sep != "", f"{field}.label_sep", sep, "a non-empty separator such as '|'")
    expect(isinstance(enc.get("soft", False), bool), f"{field}.soft", enc.get("soft"), "true or false")
    expect(isinstance(enc.get("reason", ""), str), f"{field}.reason", enc.get("reason"), "a string")
    notes = enc.get("notes", [])
    expect(
        isinstance(notes, list) and all(isinstance(n, str) for n in notes), f"{field}.notes", notes, "strings"
    )
    label_map = enc.get("label_map")
    expect(
        label_map is None
        or (
            isinstance(label_map, dict)
            and all(k and isinstance(v, (str, int, float, bool)) and v != "" for k, v in label_map.items())
        ),
        f"{field}.label_map",
        label_map,
        "an object of label spellings to names or numbers",
    )
    output_name = enc.get("output_name")
    expect(
        output_name is None or isinstance(output_name, str), f"{field}.output_name", output_name, "a string"
    )
    if task == "binary":
        expect(len(classes) == 2, f"{field}.classes", classes, "two classes [negative, positive] (binary)")
        expect(
            json_text(positive) == json_text(classes[1]),
            f"{field}.positive",
            positive,
            f"the second class {classes[1]!r} (classes are [negative, positive])",
        )
        names = [output_name or str(positive)]
    else:
        expect(
            positive is None, f"{field}.positive", positive, f"null (a {task} model has no positive class)"
        )
        expect(
            len(classes) >= (1 if task == "multilabel" else 2), f"{field}.classes", classes, "more classes"
        )
        names = [str(c) for c in classes]
    expect(meta["label_names"] == names, "label_names", meta["label_names"], f"{names} (from {field})")
    expect(meta["n_outputs"] == len(names), "n_outputs", meta["n_outputs"], f"{len(names)} (from {field})")
