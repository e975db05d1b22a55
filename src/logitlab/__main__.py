"""``python -m logitlab``: the command line (also under ``torchrun ... -m logitlab train ...``)."""

from __future__ import annotations

import sys

from .cli import main

__all__: list[str] = []

if __name__ == "__main__":
    sys.exit(main())
