"""Faults while saving: disk full and kill -9 leave the previous model directory intact and loadable."""

from __future__ import annotations

import errno
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from logitlab.errors import LogitlabError, ModelFileError
from logitlab.files import write_json_atomic
from logitlab.model_io import read_model_dir

from ._corpus import write_model

SCRIPT = Path(__file__).with_name("_save_forever.py")


def _enospc(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


class _Full:
    def __init__(self, fh: object) -> None:
        self.fh = fh

    def __enter__(self) -> _Full:
        return self

    def __exit__(self, *exc: object) -> None:
        self.fh.close()  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self.fh, name)

    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")


def _snapshot(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


def test_disk_full_while_writing_weights_keeps_previous_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = write_model(tmp_path / "m")
    before = _snapshot(d)
    real_fdopen = os.fdopen

    def full_fdopen(fd: int, mode: str = "r", *args: object, **kwargs: object) -> object:
        fh = real_fdopen(fd, mode, *args, **kwargs)  # type: ignore[call-overload]
        return _Full(fh) if "w" in mode else fh  # the weights are written through os.fdopen

    monkeypatch.setattr(os, "fdopen", full_fdopen)
    torch.manual_seed(1)
    with pytest.raises(ModelFileError, match="No space left|disk") as info:
        write_model(d)
    monkeypatch.undo()
    assert info.value.fix
    assert "previous model files there are unchanged" in info.value.message
    assert _snapshot(d) == before  # no temporary file left behind, nothing replaced
    read_model_dir(d)


def test_disk_full_while_writing_model_json_keeps_previous_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = write_model(tmp_path / "m")
    before = _snapshot(d)
    real_open = open

    # the atomic writer's text files fail as on a full disk (logitlab.files opens them with open())
    monkeypatch.setattr("logitlab.files.open", lambda *a, **k: _Full(real_open(*a, **k)), raising=False)
    torch.manual_seed(1)  # different weights than the saved ones
    with pytest.raises(ModelFileError, match="No space left|disk"):
        write_model(d)
    monkeypatch.undo()
    assert _snapshot(d) == before
    read_model_dir(d)


def test_write_json_atomic_disk_full_leaves_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_json_atomic(tmp_path / "config.json", {"epochs": 3})
    monkeypatch.setattr(os, "fsync", _enospc)
    with pytest.raises((OSError, LogitlabError)):
        write_json_atomic(path, {"epochs": 4})
    assert path.read_text() == '{\n  "epochs": 3\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]


@pytest.mark.slow
def test_kill_9_during_model_saves_leaves_a_loadable_model(tmp_path: Path) -> None:
    """A process rewriting a model directory in a loop is SIGKILLed at several moments; every time the
    directory on disk is a complete model (one of the versions written), never a torn one."""
    d = tmp_path / "m"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    for delay in (0.05, 0.2, 0.45):
        proc = subprocess.Popen(
            [sys.executable, str(SCRIPT), str(d)], env=env, stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "saved"  # the first save is complete
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        state, meta = read_model_dir(d)
        # the weights are one whole version: every tensor of the mlp holds that version's constant
        versions = {float(v.flatten()[0]) for k, v in state.items() if v.is_floating_point() and v.numel()}
        assert len(versions) == 1, versions
        assert meta["params"]["version"] == versions.pop()


def test_save_interrupted_between_json_and_weights_reads_the_committed_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one window a kill can hit after model.json is committed: the loader reads the pending weights."""
    d = write_model(tmp_path / "m")
    old_state, _ = read_model_dir(d)
    real_replace = os.replace

    def replace(src: object, dst: object) -> None:
        if str(dst).endswith("model.safetensors"):
            raise KeyboardInterrupt  # stands in for SIGKILL between the two renames
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", replace)
    torch.manual_seed(123)
    with pytest.raises(KeyboardInterrupt):
        write_model(d)
    monkeypatch.undo()
    state, meta = read_model_dir(d)
    assert meta["weights_sha256"] != hashlib.sha256((d / "model.safetensors").read_bytes()).hexdigest()
    assert any(not torch.equal(state[k], old_state[k]) for k in state)  # the new version, complete
    assert len(list(d.glob(".model.*pending.safetensors"))) == 1
    write_model(d)  # the next save completes normally and removes the pending file
    assert not list(d.glob(".model.*pending.safetensors"))
    read_model_dir(d)
