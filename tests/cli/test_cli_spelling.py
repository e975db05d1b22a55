"""CLI errors are written in the CLI's language: flags, not Python keyword arguments."""

from __future__ import annotations

import pytest

from logitlab.cli import main


@pytest.mark.parametrize(
    ("argv", "flag_fix", "python_spelling"),
    [
        (["--ensemble", "0"], "use --ensemble 1 (one network)", "ensemble=1"),
        (["--batch-size", "0"], "use --batch-size 64.", "batch_size=64"),
        (["--lr", "-1"], "use --lr 1e-3, or --lr auto", "lr=1e-3"),
        (["--threshold-objective", "accuracy"], "'precision_at_recall=R'", "threshold_objective="),
    ],
)
def test_bad_train_options_are_fixed_with_flags(argv, flag_fix, python_spelling, capsys):
    assert main(["train", "builtin:breast_cancer", "--out", "unused", *argv]) == 2
    err = capsys.readouterr().err
    assert "ConfigError" in err and flag_fix in err and python_spelling not in err
    assert "Traceback" not in err


def test_cuda_without_a_gpu_is_refused_with_the_flag_to_use(capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert main(["train", "builtin:breast_cancer", "--out", "unused", "--device", "cuda"]) == 2
    err = capsys.readouterr().err
    assert "CUDA is not available" in err and "--device auto" in err and "Traceback" not in err


# ----------------------------------------------------------------------------- the parser itself (issue 26)
def _subcommands():
    import argparse

    from logitlab.cli import build_parser

    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.items()


def _flags(command: str) -> set[str]:
    return {
        a.dest for name, sub in _subcommands() if name == command for a in sub._actions if a.option_strings
    }


def test_every_option_of_every_command_is_described_and_says_its_default_at_most_once():
    import re

    seen = 0
    for name, sub in _subcommands():
        formatter = sub._get_formatter()
        for action in sub._actions:
            if action.dest == "help":
                continue
            seen += 1
            assert action.help and len(action.help) > 8, f"{name} {action.option_strings or action.dest}"
            shown = formatter._expand_help(action)  # the text --help prints for it
            assert shown.count("default") <= 1, f"{name} {action.option_strings}: {shown!r}"
            assert "(default: None)" not in shown and "(default: False)" not in shown, shown
        page = sub.format_help()
        assert not re.search(r"\(default: [^)]*\)\s*\(default:", page), name
    assert seen > 60  # every command was walked


def test_raised_messages_use_the_commands_flags(tmp_path, capsys):
    import re

    import pandas as pd

    data = tmp_path / "t.csv"
    pd.DataFrame({"x": range(40), "outcome": ["a", "b"] * 20}).to_csv(data, index=False)
    cases = [
        ["train", str(data), "--out", str(tmp_path / "r")],  # no target column
        ["train", str(data), "--target", "nosuch", "--out", str(tmp_path / "r")],
        ["train", str(data), "--target", "outcome", "--id-column", "nosuch", "--out", str(tmp_path / "r")],
        ["train", str(data), "--target", "outcome", "--drop", "nosuch", "--out", str(tmp_path / "r")],
        ["train", str(data), "--target", "outcome", "--positive", "zzz", "--out", str(tmp_path / "r")],
        ["doctor", str(data), "--target", "outcome", "--id-column", "nosuch"],
        ["predict", str(tmp_path), str(data), "--out", str(tmp_path)],  # --out is a folder
    ]
    for argv in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert "Traceback" not in err and "Fix:" in err, err
        python = [d for d in _flags(argv[0]) if re.search(rf"(?<![\w.-]){d}=", err)]
        assert not python, (argv, python, err)
        assert re.search(r"--(target|id-column|drop|positive|out)\b", err), err


def test_notes_and_warnings_are_printed_in_flag_spelling(tmp_path, capsys):
    import pandas as pd

    data = tmp_path / "t.csv"  # the target found by its name; the positive class 1 is 90% of the rows
    pd.DataFrame({"x": range(60), "target": [1] * 54 + [2] * 6}).to_csv(data, index=False)
    main(["doctor", str(data)])
    out, err = capsys.readouterr()
    assert "pass --target to choose another" in out and "target=" not in out
    warned = [line for line in err.splitlines() if line.startswith("logitlab doctor: warning: ")]
    assert len(warned) == 1 and "the positive class 1 is the majority (90.0%" in warned[0], err
    assert "pass --positive 2" in warned[0] and "positive=" not in err


def test_evaluate_on_a_table_without_the_runs_target_names_it_without_python_spelling(tmp_path, capsys):
    import re
    from pathlib import Path

    import pandas as pd

    run = Path(__file__).resolve().parents[1] / "fixtures" / "evaluate_run"
    pd.read_csv(run / "data.csv").drop(columns="y").to_csv(tmp_path / "unlabelled.csv", index=False)
    assert main(["evaluate", str(run / "run"), str(tmp_path / "unlabelled.csv")]) == 2
    err = capsys.readouterr().err
    # evaluate has no target option (the target is the run's): the fix is a table with labels, or predict
    assert "no column 'y', the model's target" in err and "predict instead" in err, err
    assert not re.search(r"(?<![\w.-])[a-z_]+=", err) and "Traceback" not in err, err


@pytest.mark.parametrize(
    ("flag", "value", "example"),
    [
        ("--lr", "fast", "a learning rate such as 1e-3"),
        ("--weight-decay", "1e-q", "a weight decay such as 1e-4"),
    ],
)
def test_a_number_or_auto_flag_names_what_it_expected(flag, value, example, capsys):
    from logitlab.cli import build_parser

    args = build_parser().parse_args(["train", "x.csv", flag, "auto"])
    assert getattr(args, flag[2:].replace("-", "_")) == "auto"
    assert (
        build_parser().parse_args(["train", "x.csv", flag, "3e-4"]).__dict__[flag[2:].replace("-", "_")]
        == 3e-4
    )
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["train", "x.csv", flag, value])
    assert exit_.value.code == 2
    assert f"expected 'auto' or {example}, got {value!r}" in capsys.readouterr().err
