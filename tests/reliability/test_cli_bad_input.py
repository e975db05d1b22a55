"""The CLI on bad input: exit code 2 and a one-paragraph message with a fix, never a traceback.

Every case runs ``logitlab ...`` in this process through ``cli.main`` (``tests/helpers.run_cli``: the
same code as ``python -m logitlab``, whose own entry is smoke-tested in ``tests/cli/test_cli.py``); the
parametrised tests check one result each.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.helpers import CliRun, run_cli

from ._corpus import _good_table, _image_folder, _png, write_csv, write_model

GOOD = "good.csv"


def _setup(root: Path) -> None:
    write_csv(root / GOOD, _good_table())
    write_csv(root / "ragged.csv", _good_table().replace("0.50,0,1\n", "0.50,0,1,7,8\n"))
    write_csv(root / "notarget.csv", _good_table().replace("target", "c"))
    images = _image_folder(root)
    _png(root / "secret.png")
    paths = ["../secret.png"] + [f"{lab}/{i}.png" for i in range(6) for lab in ("cat", "dog")][1:]
    pd.DataFrame({"path": paths, "label": (["cat", "dog"] * 6)[: len(paths)]}).to_csv(
        images / "i.csv", index=False
    )
    model = write_model(root / "model")
    (model / "model.json").write_text((model / "model.json").read_text()[:50])
    _new_user_files(root)


def _new_user_files(root: Path) -> None:
    """Files for the cases of issue 14: a trained run, and the tables a new user brings."""
    from logitlab import workflows

    workflows.train(str(root / GOOD), root / "run", params={"epochs": 1, "device": "cpu"}, load={}, echo=str)
    (root / "somedir").mkdir()
    write_csv(root / "nofeature.csv", _good_table().replace("a,b,target", "x,b,target"))
    write_csv(root / "unseen.csv", "a,b,target\n0.1,2,7\n0.2,3,9\n")
    write_csv(root / "dup.csv", _good_table().replace("a,b,target", "a,target,target"))
    tags = ["ins,emerg", "ins", "emerg,dental", "dental", "ins,dental"] * 8
    pd.DataFrame({"x": range(40), "tags": tags}).to_csv(root / "lists.csv", index=False)
    (root / "latin.csv").write_bytes(_good_table().replace("a,b", "caf\u00e9,b").encode("cp1252"))
    write_csv(root / "unlabelled.csv", _good_table().replace("0.50,0,1\n", "0.50,0,\n"))


# id -> (argv after `python -m logitlab`, phrase the message must hold)
CASES: dict[str, tuple[list[str], str]] = {
    "train-missing-file": (["train", "nope.csv"], "nope.csv"),
    "train-ragged-row": (["train", "ragged.csv"], "line|fields"),
    "train-unknown-target": (["train", GOOD, "--target", "nope"], "nope"),
    "train-option-without-value": (["train", GOOD, "--option", "gamma"], "gamma"),
    "train-unknown-loss": (["train", GOOD, "--loss", "hinge", "--epochs", "1"], "hinge"),
    "train-image-csv-escape": (["train", "imgs/i.csv"], "outside"),
    "train-bad-epochs": (
        ["train", GOOD, "--epochs", "abc"],
        "expected 'auto' or a positive number of epochs",
    ),
    "train-unknown-task": (["train", GOOD, "--task", "ranking"], "invalid choice"),
    "doctor-no-target": (["doctor", "notarget.csv"], "target"),
    "predict-missing-model": (["predict", "no-such-run", GOOD, "--out", "p.csv"], "missing"),
    "predict-truncated-model": (["predict", "model", GOOD, "--out", "p.csv"], "not valid JSON"),
    "plot-loss-unknown-loss": (["plot-loss", "--loss", "hinge", "--out", "x.png"], "hinge"),
    # issue 14: what a new user hits first
    "train-run-exists": (["train", GOOD, "--out", "run"], "already holds a run.*\n.*--overwrite"),
    "predict-out-is-a-folder": (
        ["predict", "run", GOOD, "--out", "somedir"],
        "folder.*\n.*somedir/predictions",
    ),
    "evaluate-missing-feature": (["evaluate", "run", "nofeature.csv"], "Missing feature column.*'a'"),
    "evaluate-only-unseen-labels": (
        ["evaluate", "run", "unseen.csv", "--split", "all"],
        "no labelled rows.*2 of 2 rows left out.*unseen in training \\(7, 9\\)",
    ),
    "train-repeated-header": (["train", "dup.csv"], "more than once: 'target'"),
    "train-comma-label-lists": (
        ["train", "lists.csv", "--target", "tags"],
        "joined by ','.*\n.*--label-sep ','",
    ),
    "train-wrong-encoding": (
        ["train", "latin.csv", "--encoding", "utf-8"],
        "not valid 'utf-8'.*\n.*--encoding cp1252",
    ),
    "train-unknown-encoding": (["train", GOOD, "--encoding", "klingon"], "klingon"),
    "train-bad-sep": (["train", GOOD, "--sep", ";;"], "--sep.*one character"),
    "train-unknown-positive": (["train", GOOD, "--positive", "7"], "--positive"),
    "train-drop-unknown-column": (["train", GOOD, "--drop", "zzz"], "'zzz'.*\n.*--drop"),
    "train-unknown-id-column": (["train", GOOD, "--id-column", "zzz"], "'zzz'.*\n.*--id-column"),
    "train-missing-target-error": (
        ["train", "unlabelled.csv", "--missing-target", "error"],
        "Missing target values at line 7",
    ),
    "train-bad-image-size": (["train", GOOD, "--image-size", "big"], "--image-size: expected a size like 64"),
}
# Python spellings of the options the cases above name: the CLI writes flags instead
_PYTHON_SPELLING = (
    r"(?<![-\w])(label_sep|encoding|positive|drop|id_column|overwrite|out|sep|missing_target|image_size)="
)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CliRun]:
    root = tmp_path_factory.mktemp("cli")
    _setup(root)

    def own_out(case: str, argv: list[str]) -> list[str]:
        """A train case its own run directory: a case that got past the check must not block the next."""
        if argv[0] == "train" and "--out" not in argv and "--help" not in argv:
            return [*argv, "--out", f"runs/{case}"]
        return argv

    return {k: run_cli(*own_out(k, argv), cwd=root) for k, (argv, _) in CASES.items()}


@pytest.mark.parametrize("case", list(CASES))
def test_cli_bad_input_exits_2_with_a_fix(case: str, results: dict[str, CliRun]) -> None:
    import re

    proc = results[case]
    _, phrase = CASES[case]
    err = proc.stderr
    assert proc.returncode == 2, (proc.returncode, err[-2000:])
    assert "Traceback" not in err, err[-2000:]
    assert re.search(phrase, err, flags=re.IGNORECASE), err
    assert not re.search(_PYTHON_SPELLING, err), err
    if "usage:" not in err:  # argparse's own errors print the usage line instead of a Fix
        assert "Fix: " in err, err
        paragraph = [line for line in err.strip().splitlines() if line.strip()]
        assert len(paragraph) <= 6, err  # one short paragraph: the error, the fix, the --debug hint
