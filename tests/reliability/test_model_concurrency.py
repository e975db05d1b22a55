"""Model directories as one unit: saves and loads at the same time never give a mixed version.

Every save writes version ``v`` (each float tensor filled with ``v``, ``params.version = v``); a load
is consistent when every tensor and ``model.json`` name the same version. Before the one-version
reads and per-writer temp names, 200 of 8,892 loads during saves gave one version's ``model.json``
with another's weights, and 64 of 300 rounds of two saves at once left a mixed pair that loaded.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import torch

from logitlab.errors import ModelFileError
from logitlab.model_io import read_model_dir
from logitlab.models import build_model, model_spec

from ._save_forever import save_version

SCRIPT = Path(__file__).with_name("_save_forever.py")
SPEC = model_spec("mlp", input_shape=(16,), n_outputs=1, hidden=[32])


def _save(directory: Path, model: torch.nn.Module, version: int) -> None:
    save_version(directory, model, SPEC, version)


def _version(directory: Path) -> float:
    """The version of one load; raises AssertionError on a mixed one."""
    state, meta = read_model_dir(directory)
    versions = {float(v.flatten()[0]) for v in state.values() if v.is_floating_point() and v.numel()}
    assert versions == {meta["params"]["version"]}, (versions, meta["params"]["version"])
    return float(meta["params"]["version"])


def _read_while(directory: Path, busy: Any) -> dict[str, Any]:
    seen: set[float] = set()
    loads, errors = 0, []
    while busy():
        try:
            seen.add(_version(directory))
            loads += 1
        except ModelFileError as exc:
            errors.append(exc)
    return {"loads": loads, "errors": errors, "seen": seen}


def test_two_writers_and_a_reader_in_threads_never_mix(tmp_path: Path) -> None:
    d = tmp_path / "m"
    _save(d, build_model(**SPEC), 0)
    rounds = 40

    def write(start: int) -> None:
        model = build_model(**SPEC)
        for k in range(1, rounds + 1):
            _save(d, model, start + k)

    writers = [threading.Thread(target=write, args=(start,)) for start in (1000, 2000)]
    for w in writers:
        w.start()
    result = _read_while(d, lambda: any(w.is_alive() for w in writers))
    for w in writers:
        w.join()
    print(f"{result['loads']} consistent loads during {2 * rounds} saves")
    assert result["errors"] == [] and result["loads"] > 0
    assert _version(d) in (1000 + rounds, 2000 + rounds)  # one whole version: the last save of one writer
    assert sorted(p.name for p in d.iterdir()) == ["model.json", "model.safetensors"]  # no temp file left


@pytest.mark.slow
def test_two_writer_processes_and_a_reader_never_mix(tmp_path: Path) -> None:
    """The reproduction of the issue: separate processes, 100 saves each, loads all the while."""
    d = tmp_path / "m"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    procs = [
        subprocess.Popen(
            [sys.executable, str(SCRIPT), str(d), str(start), "100"], env=env, stdout=subprocess.PIPE
        )
        for start in (0, 100_000)
    ]
    try:
        for p in procs:
            assert p.stdout is not None and p.stdout.readline().strip() == b"saved"
        result = _read_while(d, lambda: any(p.poll() is None for p in procs))
    finally:
        for p in procs:
            p.wait(timeout=120)
    assert [p.returncode for p in procs] == [0, 0]
    assert result["errors"] == [] and result["loads"] > 0
    assert _version(d) in (100.0, 100_100.0)
    assert sorted(p.name for p in d.iterdir()) == ["model.json", "model.safetensors"]


def test_stale_pending_files_of_dead_writers_are_cleaned(tmp_path: Path) -> None:
    d = tmp_path / "m"
    model = build_model(**SPEC)
    _save(d, model, 1)
    stale = [
        d / ".model.pending.safetensors",
        d / ".model.k1llEd.pending.safetensors",
        d / ".model.json.x1.tmp",
    ]
    for p in stale:
        p.write_bytes(b"left by a killed writer")
    assert _version(d) == 1.0  # readers ignore them
    _save(d, model, 2)
    assert _version(d) == 2.0
    assert sorted(p.name for p in d.iterdir()) == ["model.json", "model.safetensors"]


def test_a_failed_save_after_the_commit_does_not_claim_the_old_files_are_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = tmp_path / "m"
    model = build_model(**SPEC)
    _save(d, model, 1)
    real_replace = os.replace

    def replace(src: Any, dst: Any) -> None:
        if str(dst).endswith("model.safetensors"):
            raise PermissionError(13, "Permission denied")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(ModelFileError) as info:
        _save(d, model, 2)
    monkeypatch.undo()
    assert "unchanged" not in info.value.message and "describes the new model" in info.value.message
    assert _version(d) == 2.0  # as the message says: the directory loads as the new model
    _save(d, model, 3)
    assert _version(d) == 3.0
    assert sorted(p.name for p in d.iterdir()) == ["model.json", "model.safetensors"]
