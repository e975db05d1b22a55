"""diagnose_dataset: ratios and counts checked against hand-computed values."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from logitlab.doctor import DiagnoseTypeError, diagnose_dataset


def test_binary_imbalance_ratio_and_suggested_pos_weight():
    report = diagnose_dataset([0] * 190 + [1] * 10)
    finding = report.get("imbalanced-labels")
    assert finding.severity == "warning"
    assert "19.0:1" in finding.message  # 190 negatives / 10 positives
    assert "Suggested pos_weight (balanced): [19]" in finding.message  # neg / pos by hand
    assert "strategy='balanced'" in finding.fix
    assert report.ok


def test_extreme_imbalance_suggests_sqrt():
    report = diagnose_dataset([0] * 990 + [1] * 10)
    assert "99.0:1" in report.get("imbalanced-labels").message
    assert "strategy='sqrt'" in report.get("imbalanced-labels").fix


def test_moderate_imbalance_is_info_and_balanced_data_has_none():
    assert diagnose_dataset([0] * 80 + [1] * 20).get("imbalanced-labels").severity == "info"  # 4:1
    assert "imbalanced-labels" not in diagnose_dataset([0] * 50 + [1] * 50)


def test_multiclass_ratio_names_rarest_class():
    y = ["cat"] * 60 + ["dog"] * 30 + ["eel"] * 5
    finding = diagnose_dataset(y).get("imbalanced-labels")
    assert "12.0:1" in finding.message and "eel: 5" in finding.message
    # scikit-learn's "balanced" N / (C * n_c), by hand, in sorted class order cat, dog, eel
    assert "[0.528, 1.06, 6.33]" in finding.message


def test_multilabel_dataframe_keeps_column_names():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.random(100) < 0.5, "rare": np.arange(100) < 4, "never": np.zeros(100, bool)})
    report = diagnose_dataset(df.astype(int), task="multilabel")
    assert "never" in report.get("empty-label").message
    imbalance = report.get("imbalanced-labels")
    assert "rare: 24.0:1" in imbalance.message  # 96 / 4
    card = report.get("label-cardinality")
    ref = df.astype(int).sum(axis=1).mean()
    assert f"{ref:.2f} positive labels per row" in card.message
    assert "task-inferred" not in report  # task was given


def test_too_few_for_split_counts():
    report = diagnose_dataset([0] * 10 + [1] * 10 + [2] * 2 + [3])
    msg = report.get("too-few-for-stratified-split").message
    assert "2 classes have fewer than 3" in msg and "2 (2)" in msg and "3 (1)" in msg


def test_report_is_json_and_renders():
    report = diagnose_dataset([0] * 95 + [1] * 5)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] is True and data["counts"]["warning"] == 1
    text = str(report)
    assert "imbalanced-labels" in text and "pos_weight" in text


def test_unusable_labels_are_an_error_finding_and_misuse_raises():
    report = diagnose_dataset([0.1, 2.5, 3.7])
    assert not report.ok and "continuous" in report.errors[0].message
    with pytest.raises(DiagnoseTypeError):
        diagnose_dataset("labels.csv")
