"""Lazy image splits reach the trainer as Datasets (no materialising); in-memory splits keep the tensor path."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn
from torch.utils.data import Dataset, TensorDataset

from logitlab.data import DataState, ImageDataset, PairDataset, load_dataset, load_inputs
from logitlab.train import TrainConfig, Trainer


def _folder(root, n=6):
    for i in range(n):
        for name, value in (("a", 30 + 10 * i), ("b", 200 - 10 * i)):
            path = root / name / f"{i}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.full((6, 6, 3), value, np.uint8)).save(path)
    return root


@pytest.fixture
def opens(monkeypatch):
    """Counts every ``PIL.Image.open`` (header reads and pixel loads alike)."""
    count = {"n": 0}
    real = Image.open

    def counting(*args, **kwargs):
        count["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(Image, "open", counting)
    return count


def test_lazy_split_training_data_is_a_dataset_that_opens_images_on_demand(tmp_path, opens):
    root = _folder(tmp_path)
    eager = load_dataset(root, val_size=0.25, test_size=0.25)
    lazy = load_dataset(root, val_size=0.25, test_size=0.25, max_memory_mb=0)
    assert isinstance(lazy.train.x, ImageDataset) and not lazy.train.in_memory
    opens["n"] = 0
    data = lazy.train.training_data()
    assert isinstance(data, Dataset) and not isinstance(data, TensorDataset)
    assert isinstance(data, PairDataset) and data.targets is lazy.train.y
    assert opens["n"] == 0  # nothing is loaded to hand the split over
    assert len(data) == len(lazy.train)
    x0, y0 = data[3]
    assert opens["n"] == 1
    torch.testing.assert_close(x0, eager.train.x[3])
    torch.testing.assert_close(y0, eager.train.y[3])


def test_lazy_split_batches_load_one_batch_at_a_time(tmp_path, opens):
    root = _folder(tmp_path)
    eager = load_dataset(root, val_size=0.25, test_size=0.25)
    lazy = load_dataset(root, val_size=0.25, test_size=0.25, max_memory_mb=0)
    opens["n"] = 0
    batches = lazy.val.batches(2)
    first = next(batches)
    assert opens["n"] == 2 and first.shape == (2, 3, 6, 6) and first.dtype == torch.float32
    rest = list(batches)
    assert opens["n"] == len(lazy.val)
    n = len(lazy.val)
    assert [len(b) for b in [first, *rest]] == [min(2, n - i) for i in range(0, n, 2)]
    torch.testing.assert_close(torch.cat([first, *rest]), eager.val.x)


@pytest.mark.parametrize("balanced", [False, True])
def test_trainer_streams_a_lazy_split_from_disk(tmp_path, opens, balanced):
    lazy = load_dataset(_folder(tmp_path), val_size=0.25, test_size=0.25, max_memory_mb=0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 6 * 6, 1))
    cfg = TrainConfig(
        epochs=2, batch_size=2, device="cpu", progress=False, health_monitor=False, checkpoint_every=0,
        balanced=balanced,
    )  # fmt: skip
    opens["n"] = 0
    history = Trainer(model, nn.BCEWithLogitsLoss(), cfg).fit(lazy.train.training_data())
    assert len(history) == 2
    assert opens["n"] == 2 * len(lazy.train)  # every epoch reads each drawn image once, nothing more
    assert isinstance(lazy.train.x, ImageDataset)  # the split itself was not loaded


def test_in_memory_split_keeps_the_tensor_path(tmp_path, opens):
    b = load_dataset("builtin:breast_cancer", seed=0)
    x, y = b.train.training_data()
    assert x is b.train.x and y is b.train.y and x.dtype == torch.float32
    torch.testing.assert_close(torch.cat(list(b.test.batches(50))), b.test.x)
    storage = b.test.x.untyped_storage().data_ptr()
    assert all(batch.untyped_storage().data_ptr() == storage for batch in b.test.batches(50))  # views
    images = load_dataset(_folder(tmp_path), val_size=0.25, test_size=0.25)
    opens["n"] = 0
    x, y = images.train.training_data()
    assert x is images.train.x and opens["n"] == 0


def test_lazy_inputs_for_predict_iterate_in_batches(tmp_path):
    root = _folder(tmp_path)
    bundle = load_dataset(root, val_size=0.25, test_size=0.25, max_memory_mb=0)
    state = DataState.from_dict(json.loads(json.dumps(bundle.state.to_dict())))
    inputs = load_inputs(root, state)
    assert isinstance(inputs.x, ImageDataset) and len(inputs) == 12
    eager_state = DataState.from_dict({**state.to_dict(), "options": {**state.options, "max_memory_mb": 512}})
    eager = load_inputs(root, eager_state)
    assert isinstance(eager.x, torch.Tensor)
    torch.testing.assert_close(torch.cat(list(inputs.batches(5))), eager.x)
    assert inputs.ids == eager.ids and torch.equal(inputs.y, eager.y)
