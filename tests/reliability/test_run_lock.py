"""One writer per run directory: a second ``train --out same`` while the first runs exits 2 at once.

The first writer is a real ``logitlab train`` in another process (script ``_hold_train.py``), held
after it has locked the run directory; the second runs here. The lock is the kernel's (``flock``
through ``filelock``), so it also dies with its process: after a ``kill -9`` the directory is free.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from logitlab import cli
from logitlab.workflows import run_dir

from .test_outputs import TRAIN, _table

HERE = Path(__file__).parent
ENV = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK")}
ENV["OMP_NUM_THREADS"] = "1"
ENV["PYTHONPATH"] = os.pathsep.join([str(HERE.parents[1]), *sys.path])


def _start_holder(
    tmp_path: Path, data: Path, out: Path, stage: str = "data", train: list[str] = TRAIN
) -> subprocess.Popen[str]:
    """``logitlab train`` in another process, returned once it holds at ``stage`` (see ``_hold_train.py``)."""
    argv = ["train", str(data), "--target", "label", "--out", str(out), *train]
    with open(tmp_path / "holder.err", "w") as err:
        proc = subprocess.Popen(
            [sys.executable, str(HERE / "_hold_train.py"), str(tmp_path / "go"), stage, "--", *argv],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=ENV,
        )
    assert proc.stdout is not None
    for line in proc.stdout:  # until the holder is where it was asked to hold
        if line.strip() == "holding":
            return proc
    proc.wait()
    raise AssertionError(f"the holder ended early: {(tmp_path / 'holder.err').read_text()}")


@pytest.mark.slow
def test_second_train_into_the_same_out_exits_2_while_the_first_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _table(tmp_path / "data.csv")
    out = tmp_path / "run"
    holder = _start_holder(tmp_path, data, out)
    try:
        for extra in ([], ["--overwrite"], ["--resume"]):
            code = cli.main(["train", str(data), "--target", "label", "--out", str(out), *TRAIN, *extra])
            err = capsys.readouterr().err
            assert code == 2 and "Another logitlab process is writing" in err and "Fix:" in err, err
            assert "Traceback" not in err
        (tmp_path / "go").touch()
        stdout, _ = holder.communicate(timeout=240)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    assert holder.returncode == 0, (tmp_path / "holder.err").read_text()
    assert run_dir.read_manifest(out)["state"] == "complete"  # type: ignore[index]  # the first run, whole
    assert f"run directory: {out}" in stdout


@pytest.mark.slow
def test_a_killed_writer_leaves_no_stale_lock(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _table(tmp_path / "data.csv")
    out = tmp_path / "run"
    holder = _start_holder(tmp_path, data, out)
    holder.send_signal(signal.SIGKILL)
    holder.communicate(timeout=60)
    assert (out / run_dir.LOCK).exists()  # the file stays; the lock went with the process
    code = cli.main(["train", str(data), "--target", "label", "--out", str(out), *TRAIN])
    err = capsys.readouterr().err
    assert code == 0, err  # killed before it wrote anything: the same command just trains, nothing blocks it
    assert run_dir.read_manifest(out)["state"] == "complete"  # type: ignore[index]
