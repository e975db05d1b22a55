"""Shared test settings: deterministic seeds for every test.

What test files share beyond that (the quick `Classifier` settings ``fast()``, small data sets, the minimal
``model.json``, ``run_cli`` for the command line in this process) is in ``tests/helpers.py``, a plain module
that scripts run by the tests can import too. ``make test-fast`` runs the tests not marked ``slow``.
"""

import random

import numpy as np
import pytest

# The fixtures' generator scripts (tests/fixtures/*/make.py) are run by hand, not collected: they share a
# basename, which pytest's rootdir-relative import cannot hold twice.
collect_ignore_glob = ["fixtures/*/make.py"]


@pytest.fixture(autouse=True)
def _seed_everything():
    import torch

    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    yield
