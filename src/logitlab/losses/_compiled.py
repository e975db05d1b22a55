"""The opt-in ``torch.compile`` path (``compile=True``) of the sigmoid focal, ASL and BCE losses.

What it compiles: the same elementwise loss and closed-form gradient as the fused kernels (``_fused``),
as two kernels per loss configuration. The forward kernel computes the loss (summed inside the kernel
for ``"mean"``/``"sum"``, so no full-size tensor is written); the backward kernel recomputes the
elementwise math and writes ``grad_output * dloss/dlogits`` (times ``weight``, in the logits' dtype)
straight into the gradient. Only the inputs are saved, so the extra memory of forward+backward is the
logits' gradient itself, about half the eager fused path's (which also keeps a saved gradient). Inside
the compiled kernels ``log1p`` and ``expm1`` are written with ``log`` and ``exp`` (Goldberg's and Kahan's
corrections, a few ulp): on CPU Sleef's vectorised ``log1p``/``expm1`` cost about ten times as much.

Cost: the first forward of each configuration (loss, its constants, ``"none"`` or a reduced loss, with or
without ``pos_weight``/``weight``, dtype, device) compiles for a few seconds on CPU, and its first
backward compiles the gradient kernel. The kernels are cached for the process (``torch.compile`` with
``dynamic=True``: another batch size does not recompile; inductor's on-disk cache makes a later process
faster). Inside an outer ``torch.compile`` and for empty batches the eager fused kernel runs instead.

Needs what inductor needs: a working C/C++ compiler on CPU (gcc or clang; ``CXX`` picks one), Triton on
CUDA, and a Python version ``torch.compile`` supports. When compiling fails the loss raises
:class:`~logitlab.errors.ConfigError` (code ``compile-unavailable``) naming the cause, never inductor's
traceback; the original exception stays on ``__context__``. ``torch._dynamo``/inductor are imported only
by the first compiled call: ``import logitlab.losses`` does not pay for them.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from ..errors import ConfigError
from ._fused import _f, asl_parts, bce_parts, focal_parts

__all__ = ["CompiledLoss", "check_compile", "use_compiled"]

# (kind, constants): ("focal", (gamma, alpha)), ("asl", (gamma_pos, gamma_neg, clip)), ("bce", (smoothing,))
Spec = tuple[str, tuple[Any, ...]]

_FIX = (
    "on CPU install a C/C++ compiler (gcc or clang, or point CXX at one); on CUDA install Triton; "
    "or pass compile=False to use the eager fused kernel."
)


def check_compile(compile: bool, fused: bool) -> None:
    """Refuse a non-bool ``compile`` and ``compile=True`` with ``fused=False`` (it compiles the fused math)."""
    if not isinstance(compile, bool):
        raise ConfigError(
            f"Expected argument `compile` to be True or False; got {compile!r}.",
            fix="pass compile=True for the torch.compile'd kernels, compile=False (the default) otherwise.",
            code="bad-compile",
        )
    if compile and not fused:
        raise ConfigError(
            "compile=True compiles the fused loss+gradient kernel and cannot be combined with fused=False.",
            fix="drop fused=False (it is only needed for double backward, which compiled kernels do not support either).",
            code="compile-needs-fused",
        )


def use_compiled(logits: Tensor) -> bool:
    """Whether a ``compile=True`` call runs the compiled kernels (not for empty batches or inside torch.compile)."""
    return logits.numel() > 0 and not torch.compiler.is_compiling()


def _parts(
    kind: str, consts: tuple[Any, ...], x: Tensor, t: Tensor, pw: Tensor | None
) -> tuple[Tensor, Tensor]:
    """Elementwise loss and derivative of ``kind`` with the compile-friendly log1p/expm1."""
    xf, tf = _f(x), _f(t)
    if kind == "bce":
        (smoothing,) = consts
        if smoothing:
            tf = tf * (1.0 - smoothing) + 0.5 * smoothing
        return bce_parts(xf, tf, pw, fast=True)
    if kind == "focal":
        gamma, alpha = consts
        return focal_parts(xf, tf, gamma, alpha, pw, fast=True)
    gamma_pos, gamma_neg, clip = consts
    return asl_parts(xf, tf, gamma_pos, gamma_neg, clip, pw, fast=True)


def _own_code(fn: Callable[..., Tensor], tag: str) -> Callable[..., Tensor]:
    """``fn`` with a code object of its own.

    Dynamo keeps compiled graphs, and its limit of 8 recompiles, per code object: closures made by one
    factory share theirs, so a sweep over ``gamma`` would fall back to eager after 8 configurations.
    """
    code = fn.__code__.replace(co_name=f"{fn.__name__}_{tag}")
    return types.FunctionType(code, fn.__globals__, code.co_name, fn.__defaults__, fn.__closure__)


# (role, kind, constants, reduced) -> the compiled kernel; one entry per configuration, for the process
_KERNELS: dict[tuple[Any, ...], Callable[..., Tensor]] = {}


def _make_kernel(role: str, kind: str, consts: tuple[Any, ...], reduced: bool) -> Callable[..., Tensor]:
    """The loss (``role="loss"``) or gradient (``role="grad"``) kernel of one configuration, to compile."""
    if role == "loss":

        def loss_kernel(x: Tensor, t: Tensor, pw: Tensor | None, w: Tensor | None) -> Tensor:
            loss, _ = _parts(kind, consts, x, t, pw)
            if w is not None:
                loss = loss * w
            return loss.sum() if reduced else loss

        return _own_code(loss_kernel, kind)

    def grad_kernel(x: Tensor, t: Tensor, pw: Tensor | None, w: Tensor | None, go: Tensor) -> Tensor:
        _, grad = _parts(kind, consts, x, t, pw)
        if w is not None:
            grad = grad * w
        return (grad * go).to(x.dtype)

    return _own_code(grad_kernel, kind)


def _unavailable(exc: BaseException, kind: str, device: torch.device | None) -> ConfigError:
    lines = str(exc).strip().splitlines()
    cause = f"{type(exc).__name__}: {lines[0] if lines else ''}"[:400]
    where = f" for {device.type}" if device is not None else ""
    return ConfigError(
        f"compile=True could not compile the {kind} loss kernel{where}: {cause}",
        fix=_FIX,
        code="compile-unavailable",
    )


def _run(
    role: str, kind: str, consts: tuple[Any, ...], reduced: bool, x: Tensor, *args: Tensor | None
) -> Tensor:
    """Run the compiled kernel (compiling it on first use); a compile failure becomes a ConfigError."""
    key = (role, kind, consts, reduced)
    fn = _KERNELS.get(key)
    if fn is None:
        try:
            fn = torch.compile(_make_kernel(*key), dynamic=True, fullgraph=True)
        except Exception as exc:  # e.g. a Python version torch.compile does not support
            raise _unavailable(exc, kind, None) from None
        _KERNELS[key] = fn
    try:
        return fn(x, *args)
    except Exception as exc:
        from torch._dynamo.exc import TorchDynamoException  # imported already by torch.compile

        if isinstance(exc, TorchDynamoException):  # compiling failed (not a runtime error of the kernel)
            _KERNELS.pop(key, None)
            raise _unavailable(exc, kind, x.device) from None
        raise


class CompiledLoss(torch.autograd.Function):
    """Compiled loss kernel forward, compiled gradient kernel backward; saves only the inputs."""

    @staticmethod
    def forward(
        ctx: Any,
        x: Tensor,
        t: Tensor,
        pos_weight: Tensor | None,
        weight: Tensor | None,
        spec: Spec,
        reduction: str,
    ) -> Tensor:
        kind, consts = spec
        loss = _run("loss", kind, consts, reduction != "none", x, t, pos_weight, weight)
        ctx.spec = spec
        ctx.divisor = x.numel() if reduction == "mean" else 1  # > 0: empty batches take the fused path
        ctx.save_for_backward(x, t, pos_weight, weight)
        return loss / ctx.divisor if ctx.divisor != 1 else loss

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_output: Tensor) -> tuple[Tensor | None, ...]:
        x, t, pos_weight, weight = ctx.saved_tensors
        kind, consts = ctx.spec
        go = grad_output / ctx.divisor if ctx.divisor != 1 else grad_output
        grad = _run("grad", kind, consts, False, x, t, pos_weight, weight, go)
        return grad, None, None, None, None, None
