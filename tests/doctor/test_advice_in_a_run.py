"""The doctor in a run knows what the run did: addressed findings are info, advice is spelled for the CLI."""

from __future__ import annotations

import json

import numpy as np

from logitlab.cli import main
from logitlab.doctor import diagnose_dataset
from logitlab.workflows.advice import in_cli_spelling, in_light_of_run

Y = np.r_[np.ones(10, dtype=int), np.zeros(200, dtype=int)]  # 20 negatives per positive


def _imbalance(findings):
    return next(f for f in findings if f.code == "imbalanced-labels")


def test_an_imbalance_the_run_weighted_and_tuned_is_reported_as_addressed():
    found = diagnose_dataset(Y, task="binary").findings
    assert _imbalance(found).severity == "warning" and "ll.pos_weight" in _imbalance(found).fix
    decisions = {
        "weights": {"strategy": "balanced", "kind": "pos_weight", "values": [20.0]},
        "thresholds": {"task": "binary", "kind": "threshold", "values": [0.31], "objective": "f1"},
        "calibration": {"method": "platt"},
    }
    f = _imbalance(in_light_of_run(found, decisions))
    assert f.severity == "info" and f.fix == "nothing to do."
    assert f.message.startswith("Addressed by this run: the loss weighted (balanced pos_weight 20)")
    assert "thresholds tuned on validation (f1)" in f.message


def test_an_imbalance_the_run_left_unweighted_keeps_its_warning_with_a_flag_as_the_fix():
    found = diagnose_dataset(Y, task="binary").findings
    f = _imbalance(in_light_of_run(found, {"weights": None, "thresholds": None}))
    assert f.severity == "warning"
    assert "`--imbalance balanced`" in f.fix and "ll." not in f.fix
    python = _imbalance(in_light_of_run(found, {"weights": None}, cli=False))
    assert python.fix == _imbalance(found).fix  # Python users keep the Python spelling
    assert [g.fix for g in in_cli_spelling(found) if g.code != "imbalanced-labels"] == [
        g.fix for g in found if g.code != "imbalanced-labels"
    ]


def _doctor_findings(capsys, *args):
    assert main(["doctor", "builtin:fraud", "--json", *args]) == 0
    reports = json.loads(capsys.readouterr().out)
    return [f for r in reports.values() for f in r["findings"]]


def test_logitlab_doctor_says_what_train_would_do_in_cli_spelling(capsys):
    weighted = _doctor_findings(capsys)
    f = next(f for f in weighted if f["code"] == "imbalanced-labels")
    assert f["severity"] == "info"
    assert f["message"].startswith("Addressed by `logitlab train --imbalance balanced`: the loss weighted")
    assert not any("ll.pos_weight" in f["fix"] for f in weighted)
    unweighted = _doctor_findings(capsys, "--imbalance", "none")
    f = next(f for f in unweighted if f["code"] == "imbalanced-labels")
    assert f["severity"] == "warning" and "`--imbalance sqrt`" in f["fix"]
    assert not any("ll.pos_weight" in f["fix"] or "Addressed" in f["message"] for f in unweighted)
