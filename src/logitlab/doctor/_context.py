"""What one batch diagnosis looks at, resolved once, and where its checks put their findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch import Tensor, nn

from ..tasks import Task
from ._inspect import LossSpec, activation_of
from .findings import Finding, Severity, make_finding

__all__ = ["Batch"]


@dataclass
class Batch:
    """Everything one diagnosis looks at, resolved once."""

    outputs: Tensor
    targets: Tensor
    loss_fn: Any
    spec: LossSpec
    family: str
    task: Task
    task_given: bool
    model: nn.Module | None
    inputs: Any
    last_module: nn.Module | None = None
    model_outputs: Tensor | None = None
    findings: list[Finding] = field(default_factory=list)
    done: bool = False  # set by a check whose finding makes the later checks meaningless

    def add(self, code: str, message: str, fix: str, severity: Severity | None = None) -> None:
        """Record a finding (once per code: the first, most specific message wins)."""
        if any(f.code == code for f in self.findings):
            return
        self.findings.append(make_finding(code, message, fix, severity))

    @property
    def has_error(self) -> bool:
        """True when an error was already found."""
        return any(f.severity == "error" for f in self.findings)

    @property
    def n_outputs(self) -> int:
        """Labels (sigmoid) or classes (softmax): the size of axis 1, or 1 for [N] outputs."""
        return int(self.outputs.shape[1]) if self.outputs.ndim >= 2 else 1

    @property
    def n_rows(self) -> int:
        """The batch size: the size of axis 0 (1 for a 0-d output)."""
        return int(self.outputs.shape[0]) if self.outputs.ndim else 1

    def activation(self) -> str | None:
        """The activation behind the outputs (structural), see :func:`activation_of`."""
        return activation_of(self.outputs, self.model, self.last_module)
