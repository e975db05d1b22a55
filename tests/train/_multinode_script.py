"""One node of the multi-node test: the 2-process DDP run of ``_ddp_script``, then a streaming run.

Usage: python -m torch.distributed.run --nnodes 2 --nproc-per-node 1 ... _multinode_script.py OUT DATA_DIR

The process group is started here once for both runs (each Trainer then uses it and leaves it running).
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

import torch.distributed as dist

from tests.train import _ddp_script, _stream_script

if __name__ == "__main__":
    out, data = Path(sys.argv[1]), sys.argv[2]
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))
    try:
        _ddp_script.run(out / "ddp")  # in-memory tensors: must reach the weights one process reaches
        _stream_script.ddp_main(str(out / "stream"), data)  # a StreamingTable sharded over the two nodes
    finally:
        dist.destroy_process_group()
