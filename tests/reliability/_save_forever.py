"""Rewrite a model directory forever, each version filling every float tensor with its number.

Run by test_faults.py, which SIGKILLs it mid-save, and by test_model_concurrency.py (two at once, with
``START`` and ``COUNT``: versions START+1 .. START+COUNT). Prints ``saved`` once the first version is on disk.

Usage: ``python _save_forever.py DIR [START [COUNT]]``
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import torch

from logitlab.model_io import write_model_dir
from logitlab.models import build_model, model_spec


def save_version(directory: Path, model: torch.nn.Module, spec: dict[str, Any], version: int) -> None:
    """Save ``model`` (built from ``spec``) into ``directory`` as ``version``: every float tensor filled with it."""
    with torch.no_grad():
        for t in model.state_dict().values():
            if t.is_floating_point():
                t.fill_(float(version))
    from tests.helpers import model_meta

    meta = model_meta(spec, params={"version": float(version)})
    write_model_dir(directory, model.state_dict(), meta)


def main(directory: str, start: int = 0, count: int = -1) -> None:
    spec = model_spec("mlp", input_shape=(64,), n_outputs=1, hidden=[256, 256])
    model = build_model(**spec)
    version = start
    while count < 0 or version < start + count:
        version += 1
        save_version(Path(directory), model, spec, version)
        if version == start + 1:
            print("saved", flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout: `tests.helpers`
    main(sys.argv[1], *map(int, sys.argv[2:4]))
