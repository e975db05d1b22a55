"""torchrun on CPU (gloo): 2 processes reach the weights 1 process reaches with the same global batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from logitlab.errors import DistributedError
from logitlab.train.distributed import detect

from . import _ddp_script

SCRIPT = Path(_ddp_script.__file__)


def torchrun(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK")}
    env["OMP_NUM_THREADS"] = "1"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    return subprocess.run([*cmd, str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
@pytest.mark.distributed
def test_torchrun_two_processes_match_one(tmp_path: Path) -> None:
    done = torchrun(str(tmp_path / "ddp"))
    assert done.returncode == 0, done.stderr[-3000:]

    rows = [json.loads((tmp_path / "ddp" / f"rows_rank{r}.json").read_text()) for r in (0, 1)]
    assert rows == [3 * 96, 3 * 96]  # 3 epochs x half of the 192 rows on each rank
    single = _ddp_script.run(tmp_path / "single")  # the same script, in this (single) process
    ddp_w = load_file(str(tmp_path / "ddp" / "weights.safetensors"))
    for name, value in single.model.state_dict().items():
        torch.testing.assert_close(ddp_w[name], value, rtol=1e-5, atol=1e-5, msg=name)
    ddp_hist, one_hist = json.loads((tmp_path / "ddp" / "history.json").read_text()), list(single.history)
    assert len(ddp_hist) == len(one_hist) == 3
    for a, b in zip(ddp_hist, one_hist):
        assert a["val_rows"] == b["val_rows"] == 50  # gathered over ranks: all 50 rows, none padded in
        assert a["val_acc"] == pytest.approx(b["val_acc"], abs=1e-12)
        assert a["val_loss"] == pytest.approx(b["val_loss"], rel=1e-5)
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-5)  # averaged over ranks
    torch.testing.assert_close(
        load_file(str(tmp_path / "ddp" / "logits.safetensors"))["logits"],
        single.predict(_ddp_script.data()[2]),
        rtol=1e-5,
        atol=1e-5,
    )


def test_detect_reads_torchrun_env() -> None:
    info = detect({"WORLD_SIZE": "4", "RANK": "2", "LOCAL_RANK": "0"})
    assert (info.world_size, info.rank, info.local_rank, info.enabled, info.is_main) == (4, 2, 0, True, False)
    with pytest.raises(DistributedError, match="RANK < WORLD_SIZE"):
        detect({"WORLD_SIZE": "2", "RANK": "2"})
    with pytest.raises(DistributedError, match="integer"):
        detect({"WORLD_SIZE": "two", "RANK": "0"})


@pytest.mark.slow
@pytest.mark.distributed
def test_nan_on_one_rank_stops_both_ranks_with_the_batch_named(tmp_path: Path) -> None:
    done = torchrun(str(tmp_path / "nan"), "9")  # row 9: rank 1's share of global batch 0
    assert done.returncode != 0
    assert "TrainingError" in done.stderr and "batch 0" in done.stderr  # rank 1 names its batch
    assert "on another rank" in done.stderr  # rank 0 stops too, instead of waiting for rank 1
    assert not (tmp_path / "nan" / "weights.safetensors").exists()
