"""PyTorch's optimizers, minus the first-use import of ``torch._dynamo`` (a fixed cost of every fit).

``torch.optim.Optimizer`` wraps ``add_param_group``, ``zero_grad``, ``state_dict`` and ``load_state_dict``
in ``torch._disable_dynamo``, and ``Adam.step`` / ``SGD.step`` in ``_use_grad_for_differentiable``; both
import ``torch._dynamo`` on their first call, so that ``torch.compile`` does not trace into them. That
import (``sympy``, the FX symbolic shapes, FSDP) takes 1.5 s on an idle core, 4-5 s on a loaded one: more
than a linear model's whole fit. logitlab runs its optimizers eagerly (``torch.compile``, when asked,
compiles the model, not the optimizer step), so the classes below call the same functions unwrapped
(``__wrapped__``, set by ``functools.wraps``), with gradients off in ``step`` as the wrapper does. The
update is the same code on the same tensors: results are bit for bit those of the torch class (tested).
Under a torch build whose methods carry no ``__wrapped__``, the wrapped method runs (and imports dynamo).

Examples:
    >>> import torch
    >>> w = torch.nn.Parameter(torch.ones(2))
    >>> opt = AdamW([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); opt.zero_grad()
    >>> [round(v, 4) for v in w.detach().tolist()], w.grad
    ([0.899, 0.899], None)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.optim import Optimizer

from .lazy_adamw import LazyAdamW as _LazyAdamW

__all__ = ["LBFGS", "SGD", "AdamW", "LazyAdamW"]


def _unwrapped(method: Callable[..., Any]) -> Callable[..., Any]:
    return getattr(method, "__wrapped__", method)


_add_param_group = _unwrapped(Optimizer.add_param_group)
_zero_grad = _unwrapped(Optimizer.zero_grad)
_state_dict = _unwrapped(Optimizer.state_dict)
_load_state_dict = _unwrapped(Optimizer.load_state_dict)


class _Eager(Optimizer):
    """``Optimizer``'s bookkeeping methods, called without their ``torch._disable_dynamo`` wrapper."""

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        _add_param_group(self, param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        _zero_grad(self, set_to_none)

    def state_dict(self) -> Any:
        return _state_dict(self)

    def load_state_dict(self, state_dict: Any) -> None:
        _load_state_dict(self, state_dict)


class _EagerStep(_Eager):
    """``step`` without ``_use_grad_for_differentiable`` (its ``torch._dynamo.graph_break`` calls)."""

    _raw_step: Callable[..., Any]

    def step(self, closure: Callable[[], float] | None = None) -> Any:  # type: ignore[override]
        with torch.set_grad_enabled(self.defaults["differentiable"]):
            return type(self)._raw_step(self, closure)


class AdamW(_EagerStep, torch.optim.AdamW):
    """:class:`torch.optim.AdamW`, same arguments and updates."""

    _raw_step = staticmethod(_unwrapped(torch.optim.AdamW.step))


class SGD(_EagerStep, torch.optim.SGD):
    """:class:`torch.optim.SGD`, same arguments and updates."""

    _raw_step = staticmethod(_unwrapped(torch.optim.SGD.step))


class LBFGS(_Eager, torch.optim.LBFGS):
    """:class:`torch.optim.LBFGS` (its ``step`` is wrapped in ``torch.no_grad`` only)."""


class LazyAdamW(_Eager, _LazyAdamW):
    """:class:`~logitlab.train.lazy_adamw.LazyAdamW` (its ``step`` is wrapped in ``torch.no_grad`` only)."""
