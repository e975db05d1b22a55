"""A tampered ``config.json`` of a run: every bad split number is a ``ModelFileError`` naming the field (issue 24).

``evaluate`` reads ``load.val_size``, ``load.test_size``, ``load.seed`` and ``split.test_size`` back from the
run's ``config.json``; a string, a list, NaN, a 5,000-digit integer or a share out of [0, 1) ends in one
``ModelFileError`` (and ``logitlab evaluate`` in exit 2 with one message), never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from logitlab.errors import ModelFileError
from logitlab.workflows.saved import _run_config

from ._corpus import _good_table, write_csv

BAD: dict[str, tuple[str, str, Any]] = {
    "test-size-text": ("load", "test_size", "abc"),
    "test-size-list": ("load", "test_size", [0.1]),
    "test-size-huge-int": ("load", "test_size", 10**300),
    "test-size-nan": ("load", "test_size", float("nan")),
    "test-size-one": ("load", "test_size", 1.0),
    "test-size-negative": ("load", "test_size", -0.1),
    "val-size-bool": ("load", "val_size", True),
    "seed-float": ("load", "seed", 1.5),
    "seed-huge-int": ("load", "seed", 10**300),
    "seed-negative": ("load", "seed", -1),
    "split-test-size-text": ("split", "test_size", "0.2"),
    "split-test-rows-list": ("split", "test_rows", [3]),
}


def _write_config(path: Path, part: str, key: str, value: Any) -> None:
    config = {"data": "d.csv", "load": {"test_size": 0.15, "seed": 0}, "split": {"test_size": 0.15}}
    config[part][key] = value  # type: ignore[index]
    text = json.dumps(config, allow_nan=True)
    path.write_text(text)


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_split_number_is_a_model_file_error_naming_the_field(tmp_path: Path, case: str) -> None:
    part, key, value = BAD[case]
    _write_config(tmp_path / "config.json", part, key, value)
    with pytest.raises(ModelFileError) as info:
        _run_config(tmp_path / "config.json")
    assert "config.json" in str(info.value) and f"`{part}.{key}`" in str(info.value)
    assert info.value.code == "run-config-invalid"


def test_a_5000_digit_integer_is_a_model_file_error_naming_config_json(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"load": {"test_size": ' + "9" * 5000 + "}}")
    with pytest.raises(ModelFileError, match="config.json"):
        _run_config(path)


@pytest.mark.parametrize("value", [0.0, 0.15, 0.999, 0])
def test_good_split_numbers_load(tmp_path: Path, value: float) -> None:
    _write_config(tmp_path / "config.json", "load", "test_size", value)
    assert _run_config(tmp_path / "config.json")["load"]["test_size"] == value


@pytest.mark.slow  # one small training (about 3 s on a quiet machine)
def test_cli_evaluate_on_a_tampered_run_exits_2_with_one_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from logitlab import workflows
    from logitlab.cli import main

    data = write_csv(tmp_path / "d.csv", _good_table())
    run = tmp_path / "run"
    workflows.train(str(data), run, params={"epochs": 1, "device": "cpu"}, load={}, echo=str)
    config = json.loads((run / "config.json").read_text())
    config["load"]["test_size"] = "abc"
    (run / "config.json").write_text(json.dumps(config))
    capsys.readouterr()
    assert main(["evaluate", str(run), str(data)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "config.json" in err and "load.test_size" in err
    assert err.count("logitlab evaluate: ") == 1 and "ModelFileError" in err, err
