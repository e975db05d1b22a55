"""Applying, checking and inverting the stored calibration maps (the parameters of a ``Calibration``)."""

from __future__ import annotations

import math
import struct
from typing import Any

import torch
from torch import Tensor

from ..errors import ConfigError
from .interpolation import piecewise_linear

__all__ = ["boundary_threshold", "check_params", "label_logits"]

SIGMOID_KINDS: tuple[str, ...] = ("platt", "prior", "isotonic", "identity")
"""Per-label map kinds: ``sigmoid(a z + b)`` fitted / the prior correction alone, isotonic knots, identity."""


def label_logits(z: Tensor, param: dict[str, Any]) -> Tensor:
    """One label's calibrated logits ``f(z)`` (float64 ``[N]``) under a checked parameter dict."""
    kind = param["kind"]
    if kind == "identity":
        return z
    if kind in ("platt", "prior"):
        return param["a"] * z + param["b"]
    return piecewise_linear(
        z, torch.tensor(param["x"], dtype=torch.float64), torch.tensor(param["u"], dtype=torch.float64)
    )


def _bad(message: str) -> ConfigError:
    return ConfigError(message, fix="use calibrate(...) to build the calibration.", code="bad-calibration")


def _numbers(value: Any, name: str, *, increasing: bool = False, at_least: int = 1) -> list[float]:
    if not isinstance(value, (list, tuple)) or len(value) < at_least:
        raise _bad(f"Expected `{name}` to be a list of at least {at_least} numbers; got {value!r}.")
    out = [float(v) for v in value]
    if not all(math.isfinite(v) for v in out):
        raise _bad(f"Expected finite numbers in `{name}`; got {out[:10]!r}.")
    if increasing and any(b <= a for a, b in zip(out, out[1:])):
        raise _bad(f"Expected `{name}` to be strictly increasing (a monotone map); got {out[:10]!r}.")
    return out


def _number(param: dict[str, Any], name: str, *, positive: bool = False) -> float:
    value = param.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _bad(f"Expected a finite number `{name}`; got {value!r}.")
    if positive and not value > 0:
        raise _bad(f"Expected `{name}` > 0 (an increasing map keeps the order of the scores); got {value!r}.")
    return float(value)


def _check_one(param: Any, family: str) -> dict[str, Any]:
    if not isinstance(param, dict):
        raise _bad(f"Expected a parameter dict with a `kind`; got {param!r}.")
    kind = param.get("kind")
    if family == "softmax":
        if kind != "temperature":
            raise _bad(f"Expected a multiclass map of kind 'temperature'; got {kind!r}.")
        bias = _numbers(param.get("bias"), "bias", at_least=2)
        return {"kind": kind, "temperature": _number(param, "temperature", positive=True), "bias": bias}
    if kind not in SIGMOID_KINDS:
        raise _bad(f"Expected a per-label map kind in {SIGMOID_KINDS}; got {kind!r}.")
    if kind in ("platt", "prior"):
        return {"kind": kind, "a": _number(param, "a", positive=True), "b": _number(param, "b")}
    if kind == "isotonic":
        x = _numbers(param.get("x"), "x", increasing=True, at_least=2)
        u = _numbers(param.get("u"), "u", increasing=True, at_least=2)
        if len(x) != len(u):
            raise _bad(f"Expected as many isotonic knots in `x` as in `u`; got {len(x)} and {len(u)}.")
        return {"kind": kind, "x": x, "u": u}
    return {"kind": kind}


def check_params(params: Any, family: str) -> list[dict[str, Any]]:
    """Checked, normalised copies of a calibration's parameter dicts (floats, known kinds, increasing maps).

    Raises:
        ConfigError: ``bad-calibration`` for anything else.
    """
    if not isinstance(params, list) or not params:
        raise _bad(f"Expected `params` to be a non-empty list of dicts; got {params!r}.")
    if family == "softmax" and len(params) != 1:
        raise _bad(f"Expected one multiclass parameter dict; got {len(params)}.")
    return [_check_one(p, family) for p in params]


def _key(x: float) -> int:
    """An integer that orders float64 values like the values themselves (adjacent floats: adjacent keys)."""
    (bits,) = struct.unpack("<q", struct.pack("<d", x))
    return bits if bits >= 0 else -(bits & 0x7FFFFFFFFFFFFFFF)


def _value(key: int) -> float:
    bits = key if key >= 0 else (-key) | (1 << 63)
    return float(struct.unpack("<d", struct.pack("<Q", bits))[0])


def _sigmoid(z: float) -> float:
    return float(torch.sigmoid(torch.tensor([z], dtype=torch.float64))[0])


def boundary_threshold(t: float, param: dict[str, Any]) -> float:
    """The threshold on the calibrated probability that decides like ``sigmoid(z) >= t``.

    ``z*`` is the smallest float64 logit with ``sigmoid(z*) >= t`` (bisection on the float64 order); the
    result is ``sigmoid(f(z*))``. Every logit ``>= z*`` maps at or above it (``f`` is non-decreasing in
    float64 too); a logit below ``z*`` maps below it unless float64 rounding merges it with ``z*``, which
    can only happen within a few ulps of ``z*``.
    """
    if param["kind"] == "identity":
        return t
    if t <= 0.0:
        return 0.0
    lo, hi = _key(-1000.0), _key(1000.0)  # sigmoid(-1000) == 0 < t <= 1 == sigmoid(1000)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _sigmoid(_value(mid)) >= t:
            hi = mid
        else:
            lo = mid
    return _sigmoid(float(label_logits(torch.tensor([_value(hi)], dtype=torch.float64), param)[0]))
