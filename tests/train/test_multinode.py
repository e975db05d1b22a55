"""Two "nodes" on this machine: ``torchrun --nnodes 2 --nproc-per-node 1`` with c10d rendezvous on 127.0.0.1.

Each launcher is its own node (its own ``--node-rank``, its own agent); together they form one gloo
process group of two ranks. The reference is one plain process running the same script: the same
weights and history (as tests/train/test_distributed.py checks for one node); and a StreamingTable
sharded over the two nodes trains on every row exactly once per epoch, the same number of steps each.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from . import _ddp_script, _multinode_script, _stream_script

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def node(rank: int, port: int, out: Path, data: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK")}
    env.update(OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]))
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--nproc-per-node", "1",
        "--node-rank", str(rank), "--rdzv-backend", "c10d", "--rdzv-endpoint", f"127.0.0.1:{port}",
        "--rdzv-id", f"logitlab-{port}", "--max-restarts", "0",
        _multinode_script.__file__, str(out), str(data),
    ]  # fmt: skip
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.slow
@pytest.mark.distributed
def test_two_nodes_match_one_process(tmp_path: Path) -> None:
    data = _stream_script.write_data(tmp_path / "data")
    port, out = free_port(), tmp_path / "nodes"
    nodes = [node(r, port, out, data) for r in (0, 1)]
    logs = []
    try:
        logs = [proc.communicate(timeout=240)[0] for proc in nodes]
    finally:
        for proc in nodes:  # SIGTERM: a launcher ends its workers before it exits
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
    assert [p.returncode for p in nodes] == [0, 0], "\n".join(log[-3000:] for log in logs)

    single = _ddp_script.run(tmp_path / "single")
    weights = load_file(str(out / "ddp" / "weights.safetensors"))
    for name, value in single.model.state_dict().items():
        torch.testing.assert_close(weights[name], value, rtol=1e-5, atol=1e-5, msg=name)
    history = json.loads((out / "ddp" / "history.json").read_text())
    for a, b in zip(history, single.history, strict=True):
        assert a["val_loss"] == pytest.approx(b["val_loss"], rel=1e-5)
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-5)

    ids = [json.loads((out / "stream" / f"ids_rank{r}.json").read_text()) for r in (0, 1)]
    assert len(ids[0]) == len(ids[1])  # the same steps on both nodes: neither waits for the other
    steps = len(ids[0]) // 2
    for epoch in range(2):
        rows = np.concatenate([np.concatenate(b[epoch * steps : (epoch + 1) * steps]) for b in ids])
        assert np.array_equal(np.sort(rows), np.arange(_stream_script.ROWS))  # each row once, over both nodes
