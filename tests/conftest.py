"""Shared test settings: deterministic seeds for every test."""

import random

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _seed_everything():
    import torch

    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    yield
