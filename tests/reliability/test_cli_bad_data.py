"""Issue 24 on the command line: bad data and flags exit 2 with one message and a fix, never a traceback.

Each case runs ``logitlab ...`` in this process through ``cli.main`` (as ``test_cli_bad_input.py``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import CliRun, ab_frame, run_cli


def _setup(root: Path) -> None:
    from logitlab import workflows

    frame = ab_frame(80)
    frame.to_csv(root / "good.csv", index=False)
    inf_label = frame.astype({"target": object})
    inf_label.loc[3, "target"] = "inf"
    inf_label.to_csv(root / "inflabel.csv", index=False)
    inf_feature = frame.copy()
    inf_feature.loc[3, "a"] = np.inf
    inf_feature.to_csv(root / "inffeature.csv", index=False)
    soft = frame.copy()
    soft["target"] = np.random.default_rng(1).uniform(size=len(frame)).round(2)
    soft.to_csv(root / "soft.csv", index=False)
    (root / "parts").mkdir()
    frame.iloc[:40].to_parquet(root / "parts" / "a.parquet")
    text = frame.iloc[40:].astype({"a": str}).reset_index(drop=True)
    text.loc[:, "a"] = "oops"  # every row: whichever split a row falls in, the reader meets it
    text.to_parquet(root / "parts" / "b.parquet")
    params = {"epochs": 1, "device": "cpu"}
    workflows.train(str(root / "good.csv"), root / "run", params=params, load={}, echo=str)


# id -> (argv after `python -m logitlab`, phrase the message must hold)
CASES: dict[str, tuple[list[str], str]] = {
    "train-inf-label": (["train", "inflabel.csv"], "Infinite target values at line 5"),
    "doctor-inf-label": (["doctor", "inflabel.csv"], "Infinite target values at line 5"),
    "train-inf-feature": (["train", "inffeature.csv"], "Column 'a' holds inf at line 5.*\n.*--drop a"),
    "predict-inf-feature": (
        ["predict", "run", "inffeature.csv", "--out", "p.csv"],
        "Column 'a' holds inf at line 5.*\nFix: blank the infinite cells of column 'a'",
    ),
    "train-soft-labels": (["train", "soft.csv"], "fractions in \\[0, 1\\].*not classes"),
    "train-huge-hidden": (
        ["train", "good.csv", "--model-option", "hidden=[100000000]"],
        "gives an mlp of 3,400,000,001 weights on 2 inputs",  # 2 x 16 embedded, 1e8, 1
    ),
    "train-seed-past-32-bits": (
        ["train", "good.csv", "--seed", "4294967296"],
        "--seed: 4294967296.*\n.*--seed 0",
    ),
    "train-rot13": (["train", "good.csv", "--encoding", "rot13"], "Unknown text encoding 'rot13'"),
    "train-empty-label-sep": (["train", "good.csv", "--label-sep="], "--label-sep to be a non-empty string"),
    "train-streamed-text-in-numeric-column": (
        ["train", "parts", "--streaming", "--epochs", "1"],
        "Column 'a' is numeric but holds 'oops' at b.parquet row",
    ),
}
_PYTHON_SPELLING = r"(?<![-\w])(label_sep|encoding|drop|random_state|seed|model_options)="


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CliRun]:
    root = tmp_path_factory.mktemp("clidata")
    _setup(root)
    # each train case its own --out: a case that got past its check must not block the next
    own = {k: [*a, "--out", f"runs/{k}"] if a[0] == "train" else a for k, (a, _) in CASES.items()}
    return {k: run_cli(*argv, cwd=root) for k, argv in own.items()}


@pytest.mark.parametrize("case", list(CASES))
def test_cli_bad_data_exits_2_with_one_message_and_a_fix(case: str, results: dict[str, CliRun]) -> None:
    proc = results[case]
    err = proc.stderr
    assert proc.returncode == 2, (proc.returncode, err[-2000:])
    assert "Traceback" not in err, err[-2000:]
    assert re.search(CASES[case][1], err), err
    assert not re.search(_PYTHON_SPELLING, err), err
    assert "Fix: " in err, err
    assert len([line for line in err.strip().splitlines() if line.strip()]) <= 6, err
