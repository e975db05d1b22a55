"""Run ``logitlab train`` and hold it at one moment, to be released or SIGKILLed there.

Usage: python _hold_train.py GO_FILE STAGE -- TRAIN ARGS...

STAGE is where it holds (it prints ``holding`` and waits for ``GO_FILE``, at most two minutes):

* ``data``: when the data is about to be read: the run directory is checked, locked and its manifest
  written, nothing trained yet;
* ``epoch=K``: at the start of epoch ``K`` (0-based) of the first network, when the checkpoints of the
  epochs before it are on disk.

The hold is a monkeypatch of this process only (``logitlab.workflows.training.load_data``,
``logitlab.train.Trainer._train_epoch``); the library has no test hook.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from logitlab import cli
from logitlab.train import Trainer
from logitlab.workflows import training


def _hold(go: Path) -> None:
    print("holding", flush=True)
    deadline = time.monotonic() + 120
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def main() -> int:
    go, stage = Path(sys.argv[1]), sys.argv[2]
    argv = sys.argv[sys.argv.index("--") + 1 :]
    if stage == "data":
        real_load = training.load_data

        def held_load(*args: Any, **kwargs: Any) -> Any:
            _hold(go)
            return real_load(*args, **kwargs)

        training.load_data = held_load  # type: ignore[assignment]
    else:
        at = int(stage.removeprefix("epoch="))
        real_epoch = Trainer._train_epoch

        def held_epoch(self: Trainer, loader: Any, epoch: int) -> Any:
            if epoch == at:
                _hold(go)
            return real_epoch(self, loader, epoch)

        Trainer._train_epoch = held_epoch  # type: ignore[method-assign]
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
