"""CLI errors are written in the CLI's language: flags, not Python keyword arguments."""

from __future__ import annotations

import pytest

from logitlab.cli import main


@pytest.mark.parametrize(
    ("argv", "flag_fix", "python_spelling"),
    [
        (["--ensemble", "0"], "use --ensemble 1 (one network)", "ensemble=1"),
        (["--batch-size", "0"], "use --batch-size 64.", "batch_size=64"),
        (["--lr", "-1"], "use --lr 1e-3.", "lr=1e-3"),
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
