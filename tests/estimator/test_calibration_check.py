"""calibration="auto" keeps its fitted map only where it lowers the log-loss on rows it was not fitted on."""

from __future__ import annotations

import pytest
import torch
from sklearn.metrics import log_loss

from logitlab.estimator._calibration_check import judged_out_of_sample
from logitlab.evaluate import calibrate
from logitlab.workflows.decisions import _calibration_text


def _platt(z, y):
    return calibrate(z, y, task="binary", method="platt")


def _rows(scale, n=400, seed=0):
    g = torch.Generator().manual_seed(seed)
    true = torch.randn(n, generator=g, dtype=torch.float64) * 1.5
    y = (torch.rand(n, generator=g, dtype=torch.float64) < torch.sigmoid(true)).long()
    return scale * true, y  # scale 1: already calibrated; 4: four times too confident


@pytest.mark.parametrize(("scale", "kept"), [(4.0, True), (1.0, False)])
def test_the_map_is_kept_only_where_its_out_of_sample_log_loss_is_lower(scale, kept):
    z, y = _rows(scale)
    fitted = _platt(z, y)
    cal, check = judged_out_of_sample(fitted, None, _platt, z, y, task="binary", seed=0)
    raw = log_loss(y.numpy(), torch.sigmoid(z).numpy())  # the reference: scikit-learn on the raw activation
    assert check["without"] == pytest.approx(raw, rel=1e-9)
    # the map's own (in-sample) log-loss is lower either way: that is why it is judged out of sample
    in_sample = log_loss(y.numpy(), torch.sigmoid(fitted.calibrated_logits(z)).numpy().ravel())
    assert in_sample < raw
    assert check["kept"] is kept and (check["with"] < check["without"]) is kept
    assert cal is (fitted if kept else None)
    # an overconfident model gains a lot; a calibrated one loses a little (two parameters fitted on noise)
    assert (raw - check["with"] > 0.1) if kept else (0 < check["with"] - raw < 0.02)


def test_the_decision_line_says_what_was_measured_and_what_was_used():
    check = {"rows": 400, "folds": 5, "without": 0.5123, "with": 0.5188, "kept": False}
    line = _calibration_text(None, None, check)
    assert line.startswith("none (probabilities are the raw activation); fitted map not used")
    assert (
        "5-fold over the 400 calibration rows" in line and "0.5123 without" in line and "0.5188 with" in line
    )
    prior = {"method": "platt", "notes": [], "log_loss_before": [], "log_loss_after": []}
    assert _calibration_text(prior, None, check).startswith("prior correction of the weights")
    kept = _calibration_text(prior, None, {**check, "with": 0.41, "kept": True})
    assert kept.startswith("platt; kept: on rows it was not fitted on")


def test_the_decision_line_gives_the_verdict_and_the_test_rows_in_two_sentences():
    from types import SimpleNamespace

    from logitlab.workflows.decisions import _shape_text
    from logitlab.workflows.training import importance_lines

    cal = {"method": "platt", "notes": [], "log_loss_before": [0.0893], "log_loss_after": [0.0714]}
    check = {"rows": 483, "folds": 5, "without": 0.0914, "with": 0.0759, "kept": True}
    held = {"where": "86 test rows", "before": 0.1280, "after": 0.1267}
    line = _calibration_text(cal, held, check)
    first, second = line.split(". ")
    assert first.startswith(
        "platt; kept: on rows it was not fitted on (5-fold over the 483 calibration rows)"
    )
    assert "test" not in first and "0.0893 -> 0.0714 on the rows it was fitted on" in first
    assert second == "On the 86 test rows, held out: log-loss 0.1280 -> 0.1267 with it (better)."
    # the counts say what they count: features after encoding against input columns
    table = SimpleNamespace(
        data_state_=SimpleNamespace(preprocessor=SimpleNamespace(columns=list("abcdefg")))
    )
    assert _shape_text([9], {"name": "mlp"}, table) == "9 features encoded from 7 input columns"
    assert _shape_text([7], {"name": "mlp"}, table) == "7 features"
    assert _shape_text([1, 8, 8], {"name": "cnn"}, table) == "1x8x8"
    columns = [{"column": c, "mean": 0.01 * i, "std": 0.0} for i, c in enumerate("abcdefg")]
    (imp,) = importance_lines({"columns": columns, "score": "roc_auc", "rows": 86, "on": "test"})
    assert imp.endswith(
        "(top 5 of 7 input columns) (roc_auc drop when a column is shuffled, on the 86 test rows)"
    )
