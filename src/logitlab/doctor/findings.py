"""Findings, the report that holds them, and the one table of stable finding codes.

Every finding the doctor can make has a stable kebab-case code listed in :data:`CODES` (and in
``docs/doctor.md``): tests, tooling and users match on the code, never on the message text.

Examples:
    >>> report = Report([Finding("nonfinite-outputs", "error", "3 NaN logits.", "check the input features.")])
    >>> report.ok, report.codes
    (False, ['nonfinite-outputs'])
    >>> report.to_dict()["findings"][0]["severity"]
    'error'
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from ..errors import ConfigError

__all__ = ["CODES", "SEVERITIES", "DiagnoseTypeError", "Finding", "Report", "Severity"]

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[str, ...] = ("error", "warning", "info")

# code -> (usual severity, what it means). docs/doctor.md holds the same table with the fixes.
CODES: dict[str, tuple[Severity, str]] = {
    # activation applied before the loss
    "sigmoid-before-logits-loss": ("error", "outputs went through a sigmoid, and the loss applies one again"),
    "softmax-before-cross-entropy": ("error", "outputs went through a softmax before a cross-entropy loss"),
    "log-softmax-before-cross-entropy": (
        "warning",
        "outputs are log-probabilities, not logits, before cross entropy",
    ),
    "nll-loss-without-log-softmax": ("error", "NLLLoss received values that are not log-probabilities"),
    "logits-to-bce-loss": (
        "error",
        "nn.BCELoss / binary_cross_entropy received raw logits instead of probabilities",
    ),
    "probabilities-to-bce-loss": (
        "info",
        "BCELoss on sigmoid outputs works but is less stable than BCEWithLogitsLoss",
    ),
    "outputs-look-like-probabilities": (
        "warning",
        "all outputs lie in [0, 1] (a value-range hint, not proof)",
    ),
    # loss family against the targets / task
    "multi-hot-with-cross-entropy": (
        "error",
        "cross entropy on targets with several (or no) positives per row",
    ),
    "one-hot-with-bce": ("warning", "a sigmoid/BCE loss on one-hot, mutually exclusive targets"),
    "single-logit-cross-entropy": ("error", "cross entropy over a single logit: the loss is always 0"),
    "loss-family-mismatch": ("error", "the loss family contradicts the task"),
    "class-indices-for-bce": (
        "error",
        "class indices (or label-index lists) where a sigmoid loss needs a one-hot/multi-hot matrix",
    ),
    "predictions-not-logits": ("error", "integer or rounded predictions passed where the loss needs logits"),
    "constant-outputs": ("warning", "the outputs are the same for every row: the model ignores its input"),
    # shapes and target form
    "empty-batch": ("error", "the outputs or targets hold no elements"),
    "broadcast-trap": ("error", "[N] against [N, 1]: an element-wise loss would broadcast to [N, N]"),
    "label-count-mismatch": ("error", "outputs and targets disagree on the number of labels/classes"),
    "batch-size-mismatch": ("error", "outputs and targets disagree on the batch size"),
    "missing-batch-dimension": ("error", "one sample's outputs or targets without their batch dimension"),
    "flattened-targets": ("error", "[N, C] targets flattened to [N*C] with .view(-1)"),
    "reshape-folded-batch": (
        "error",
        "the outputs have k times the targets' rows: a reshape folded the batch",
    ),
    "target-shape-mismatch": ("error", "targets shaped unlike the logits in a way no other code names"),
    "int-targets-for-bce": ("error", "integer or bool targets for a BCE-family loss"),
    "targets-out-of-range": (
        "error",
        "BCE targets outside [0, 1], or soft class targets that are not distributions",
    ),
    "class-index-out-of-range": ("error", "class indices negative or >= the number of classes"),
    "class-targets-wrong-form": (
        "error",
        "cross-entropy targets are neither int64 [N] indices nor float [N, C]",
    ),
    # values
    "nonfinite-outputs": ("error", "NaN or Inf in the outputs (logits)"),
    "nonfinite-targets": ("error", "NaN or Inf in the targets"),
    "saturated-logits": ("warning", "logits so large that float32 sigmoid/softmax rounds to exactly 0 or 1"),
    "exp-overflow": ("warning", "logits large enough that exp() overflows in their dtype (fp16: 11.09)"),
    # weights
    "pos-weight-wrong-length": ("error", "pos_weight does not have one entry per label"),
    "pos-weight-wrong-axis": ("error", "pos_weight lies along the batch axis instead of the label axis"),
    "weight-wrong-shape": ("error", "the loss's weight does not match the classes/labels"),
    "bad-weight-values": ("error", "a weight or pos_weight holds NaN, Inf, negative or all-zero values"),
    # the loss value
    "loss-raised": ("error", "calling the loss on these outputs and targets raised an exception"),
    "nonfinite-loss": ("error", "the loss is NaN/Inf although outputs and targets are finite"),
    "initial-loss-far-from-chance": ("info", "the loss is far above ln 2 per label (BCE) or ln C (CE)"),
    "unrecognised-loss": ("info", "the loss is not a known one; it was checked against a float64 reference"),
    "manual-loss-nonfinite": (
        "error",
        "a hand-written loss gives NaN/Inf where the stable reference is finite",
    ),
    "manual-loss-mismatch": ("warning", "a hand-written loss disagrees with the stable float64 reference"),
    "manual-loss-log-base": ("warning", "a hand-written loss uses log2 or log10 instead of the natural log"),
    "uncalibrated-weighted-loss": (
        "info",
        "a weighted loss shifts the log-odds: its sigmoid/softmax outputs are not calibrated probabilities",
    ),
    # labels in the batch
    "label-absent-in-batch": ("info", "a label has no positives, or a class no samples, in this batch"),
    "severe-imbalance-unweighted": ("warning", "severe imbalance and the loss has no weighting"),
    # gradients
    "nonfinite-gradients": ("error", "NaN or Inf gradients"),
    "exploding-gradients": ("warning", "the gradient norm is very large"),
    "vanishing-gradients": ("warning", "the gradient norm is (almost) zero"),
    # training health (HealthMonitor)
    "loss-spike": ("warning", "a loss far above its running median during training"),
    # dataset checks
    "task-inferred": ("info", "the task that was inferred from the labels, and why"),
    "imbalanced-labels": ("warning", "a label or class is much rarer than the others"),
    "single-class": ("error", "the labels hold only one class: there is nothing to learn"),
    "empty-label": ("warning", "a label (or one-hot class column) is never positive"),
    "constant-label": ("warning", "a label is positive in every row"),
    "label-cardinality": ("info", "how many labels a row has, on average and at most"),
    "text-read-as-category": ("warning", "a column of free text is one-hot encoded as categories"),
    "too-few-for-stratified-split": (
        "warning",
        "a class or label has fewer samples than a stratified split needs",
    ),
}


class DiagnoseTypeError(ConfigError, TypeError):
    """The doctor was called with something that is not a tensor or a callable (misuse, not a finding)."""

    default_code = "bad-doctor-argument"


@dataclass(frozen=True)
class Finding:
    """One thing the doctor found.

    Args:
        code (str): stable kebab-case code, one of :data:`CODES`.
        severity (str): ``"error"`` (the setup is wrong), ``"warning"`` (probably wrong) or ``"info"``.
        message (str): what was seen, with the numbers.
        fix (str): one concrete way to fix it.
    """

    code: str
    severity: Severity
    message: str
    fix: str

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ConfigError(
                f"Unknown finding code {self.code!r}.", fix="add it to logitlab.doctor.findings.CODES."
            )
        if self.severity not in SEVERITIES:
            raise ConfigError(
                f"Expected `severity` to be one of {', '.join(SEVERITIES)}; got {self.severity!r}.",
                fix="use 'error', 'warning' or 'info'.",
            )


def make_finding(code: str, message: str, fix: str, severity: Severity | None = None) -> Finding:
    """A finding with the code's usual severity unless one is given."""
    return Finding(code, severity or CODES[code][0], message, fix)


@dataclass
class Report:
    """The doctor's findings, errors first.

    Args:
        findings (list[Finding]): what was found. Default: none.
        title (str): the heading of the rendered report. Default: ``"logitlab doctor"``.
    """

    findings: list[Finding] = field(default_factory=list)
    title: str = "logitlab doctor"

    def __post_init__(self) -> None:
        order = {s: i for i, s in enumerate(SEVERITIES)}
        self.findings = sorted(self.findings, key=lambda f: order[f.severity])

    @property
    def ok(self) -> bool:
        """True when no finding is an error."""
        return not self.errors

    @property
    def errors(self) -> list[Finding]:
        """The findings of severity ``"error"``."""
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        """The findings of severity ``"warning"``."""
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def codes(self) -> list[str]:
        """The codes of all findings, errors first."""
        return [f.code for f in self.findings]

    def __contains__(self, code: object) -> bool:
        return code in self.codes

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)

    def __len__(self) -> int:
        return len(self.findings)

    def get(self, code: str) -> Finding | None:
        """The first finding with ``code``, or None."""
        return next((f for f in self.findings if f.code == code), None)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict: ``{"ok", "counts", "findings": [{code, severity, message, fix}, ...]}``."""
        counts = {s: sum(f.severity == s for f in self.findings) for s in SEVERITIES}
        return {"ok": self.ok, "counts": counts, "findings": [asdict(f) for f in self.findings]}

    def __rich__(self) -> Any:
        from rich.table import Table

        style = {"error": "bold red", "warning": "yellow", "info": "cyan"}
        verdict = "OK" if self.ok else f"{len(self.errors)} error(s)"
        table = Table(title=f"{self.title}: {verdict}", show_lines=True, expand=False)
        for name in ("severity", "code", "finding", "fix"):
            table.add_column(name, overflow="fold")
        for f in self.findings:
            table.add_row(f"[{style[f.severity]}]{f.severity}[/]", f.code, f.message, f.fix)
        if not self.findings:
            table.add_row("[green]ok[/]", "-", "nothing to report", "-")
        return table

    def __str__(self) -> str:
        from rich.console import Console

        buffer = io.StringIO()
        Console(file=buffer, width=120, color_system=None, force_terminal=False).print(self)
        return buffer.getvalue().rstrip()
