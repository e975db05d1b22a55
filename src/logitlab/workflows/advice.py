"""The doctor's findings for the command line: fixes in CLI spelling, and what a run already addressed.

The doctor (:mod:`logitlab.doctor`) speaks Python (``ll.pos_weight(train_targets, strategy='balanced')``) because
it is called from Python. The commands that show its findings rewrite the fixes of the findings a command-line
user acts on with a flag (``--imbalance balanced``), and a trained run's report marks the findings the run
already addressed (its imbalance weights, its tuned thresholds) as ``info``, saying how, instead of advising what
was done.

Examples:
    >>> from logitlab.doctor import Finding
    >>> f = Finding("imbalanced-labels", "warning", "Negatives per positive reach 12.0:1 (1: 12.0:1). "
    ...             "Suggested pos_weight (balanced): 12.", "ll.pos_weight(train_targets, strategy='balanced')")
    >>> print(in_cli_spelling([f])[0].fix)
    weight the loss with `--imbalance balanced` (what logitlab train's default, auto, uses on tables), or `--loss focal`; `--threshold-objective f1` (the default) tunes the threshold on validation instead of 0.5.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the doctor imports torch; rewriting its findings does not need it
    from ..doctor import Finding

__all__ = ["in_cli_spelling", "in_light_of_run"]

_IMBALANCE_CODES = ("imbalanced-labels", "severe-imbalance-unweighted")


def _strategy(message: str) -> str:
    m = re.search(r"\((balanced|sqrt|smoothed|effective)\)", message)
    return m.group(1) if m else "balanced"


def _cli_fix(finding: Finding) -> str | None:
    """The fix of ``finding`` in CLI spelling, or ``None`` where the Python one stands (no flag does it)."""
    if finding.code not in _IMBALANCE_CODES:
        return None
    strategy = _strategy(finding.message)
    default = " (what logitlab train's default, auto, uses on tables)" if strategy == "balanced" else ""
    if "class" in finding.message.lower() and "negatives per positive" not in finding.message.lower():
        return (
            f"weight the loss with `--imbalance {strategy}`{default} (class weights), or `--loss focal`; "
            "read the macro-averaged metrics."
        )
    return (
        f"weight the loss with `--imbalance {strategy}`{default}, or `--loss focal`; `--threshold-objective f1` "
        "(the default) tunes the threshold on validation instead of 0.5."
    )


def in_cli_spelling(findings: Iterable[Finding]) -> list[Finding]:
    """The findings with their fixes in CLI spelling where a flag does the fix (``--imbalance balanced``)."""
    out = []
    for f in findings:
        fix = _cli_fix(f)
        out.append(f if fix is None else dataclasses.replace(f, fix=fix))
    return out


def _weights_said(weights: Mapping[str, Any]) -> str:
    values = [float(v) for v in weights.get("values", [])]
    shown = ", ".join(f"{v:.3g}" for v in values[:6]) + (", ..." if len(values) > 6 else "")
    kind = "pos_weight" if weights.get("kind", "pos_weight") == "pos_weight" else "class weights"
    return f"{weights.get('strategy', '')} {kind} {shown}".strip()


def in_light_of_run(
    findings: Iterable[Finding], decisions: Mapping[str, Any], *, cli: bool = True, by: str = "this run"
) -> list[Finding]:
    """The findings of a trained run's data, with the ones the run addressed marked as such (severity ``info``).

    An imbalance finding is addressed when the run weighted its loss (``decisions["weights"]``), a weighted
    loss's shifted probabilities when it calibrated them or tuned its thresholds (``decisions["calibration"]``,
    ``decisions["thresholds"]``); the message then says how. The others keep their severity, with the fix in
    CLI spelling when ``cli``.

    Args:
        findings (iterable of Finding): the doctor's findings on the run's data or outputs.
        decisions (dict): the fitted classifier's ``decisions_`` (or what a command will decide).
        cli (bool): spell the remaining fixes as flags. Default: ``True``.
        by (str): what addressed them, for the message. Default: ``"this run"``.
    """
    weights = decisions.get("weights") or None
    tuned, calibrated = decisions.get("thresholds") or None, decisions.get("calibration") or None
    done = []
    if tuned:
        what = "class biases" if tuned.get("kind") == "bias" else "thresholds"
        done.append(f"{what} tuned on validation ({tuned.get('objective', '')})")
    if calibrated:
        done.append(f"probabilities calibrated ({calibrated.get('method', '')})")
    out = []
    for f in in_cli_spelling(findings) if cli else list(findings):
        how = []
        if f.code in _IMBALANCE_CODES and weights:
            how = [f"the loss weighted ({_weights_said(weights)})", *done[:1]]
        elif f.code == "uncalibrated-weighted-loss" and done:
            how = done[::-1]
        if how:
            said = f"Addressed by {by}: {'; '.join(how)}. {f.message}"
            f = dataclasses.replace(f, severity="info", message=said, fix="nothing to do.")
        out.append(f)
    return out
