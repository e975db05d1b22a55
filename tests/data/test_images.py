from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from logitlab.data import DataState, load_dataset, load_inputs
from logitlab.errors import DataError
from logitlab.tasks import Task


def _png(path, value: int, size=(6, 6), mode="RGB"):
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = np.full((size[1], size[0], 3) if mode == "RGB" else (size[1], size[0]), value, dtype=np.uint8)
    Image.fromarray(arr, mode=mode).save(path)


def test_image_folder_layout(tmp_path):
    for i in range(6):
        _png(tmp_path / "cat" / f"{i}.png", 200)
        _png(tmp_path / "dog" / f"{i}.png", 50)
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    b = load_dataset(tmp_path, val_size=0.25, test_size=0.25, normalize="none")
    assert b.kind == "image" and b.task is Task.BINARY
    assert b.input_shape == (3, 6, 6)
    assert any("non-image" in n for n in b.notes)
    n = len(b.train) + len(b.val) + len(b.test)
    assert n == 12
    # pixel values from ToTensor: value / 255, label follows the folder
    for split in (b.train, b.val, b.test):
        for x, y in zip(split.x, split.y[:, 0]):
            expected = 200 / 255 if y == b.label_encoder.classes.index("cat") else 50 / 255
            torch.testing.assert_close(x, torch.full((3, 6, 6), expected))


def test_flat_folder_filename_labels_and_resize(tmp_path):
    for i in range(5):
        _png(tmp_path / f"cat.{i}.png", 10 * i, size=(8, 8), mode="L")
        _png(tmp_path / f"dog_{i}.png", 255 - 10 * i, size=(12, 10), mode="L")
    b = load_dataset(tmp_path, image_size=4, val_size=0.2, test_size=0.2)
    assert b.input_shape == (1, 4, 4)
    assert b.label_encoder.classes == ["cat", "dog"]
    # dataset normalisation: the training images have mean ~0 and std ~1 per channel
    x = b.train.x.double()
    assert abs(x.mean().item()) < 1e-5 and abs(x.std(unbiased=False).item() - 1) < 1e-4
    (tmp_path / "12345.png").write_bytes((tmp_path / "cat.0.png").read_bytes())
    with pytest.raises(DataError, match=r"'12345.png' does not match the label pattern"):
        load_dataset(tmp_path)


def test_corrupt_image_names_the_file(tmp_path):
    for i in range(4):
        _png(tmp_path / "a" / f"{i}.png", 1)
        _png(tmp_path / "b" / f"{i}.png", 2)
    (tmp_path / "b" / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(DataError, match=r"Cannot read image .*broken\.png"):
        load_dataset(tmp_path)


def test_csv_of_paths_multilabel_and_escapes(tmp_path):
    rows = []
    tags = ["red|round", "blue", "red", "blue|round", "", "red|blue"] * 3
    for i, t in enumerate(tags):
        _png(tmp_path / "img" / f"{i}.png", 20 * (i % 12))
        rows.append(f"img/{i}.png,{t}")
    (tmp_path / "labels.csv").write_text("path,labels\n" + "\n".join(rows) + "\n")
    b = load_dataset(
        tmp_path / "labels.csv", task="multilabel", val_size=0.2, test_size=0.2, normalize="none"
    )
    assert b.task is Task.MULTILABEL and b.label_names == ["blue", "red", "round"]
    expected = np.array([[n in t.split("|") for n in ("blue", "red", "round")] for t in tags], np.float32)
    np.testing.assert_array_equal(b.train.y.numpy(), expected[b.train.index])
    state = DataState.from_dict(json.loads(json.dumps(b.state.to_dict())))
    inputs = load_inputs(tmp_path / "labels.csv", state)
    torch.testing.assert_close(inputs.x[b.val.index], b.val.x)
    assert inputs.ids[0] == "img/0.png"
    (tmp_path / "evil.csv").write_text("path,labels\n../outside.png,red\n")
    with pytest.raises(DataError, match=r"'../outside.png' at line 2 points outside the data root"):
        load_dataset(tmp_path / "evil.csv")


def test_lazy_dataset_when_over_memory_budget(tmp_path):
    for i in range(4):
        _png(tmp_path / "a" / f"{i}.png", 30)
        _png(tmp_path / "b" / f"{i}.png", 90)
    b = load_dataset(tmp_path, max_memory_mb=0, val_size=0.25, test_size=0.25)
    assert not b.train.in_memory and any("lazy" in n for n in b.notes)
    eager = load_dataset(tmp_path, val_size=0.25, test_size=0.25)
    torch.testing.assert_close(b.train.materialize(), eager.train.x)
    x, y = b.val.dataset()[0]
    assert x.shape == (3, 6, 6) and y.shape == (1,)


def test_predict_on_new_folder_with_and_without_labels(tmp_path):
    train_dir, new_dir = tmp_path / "train", tmp_path / "new"
    for i in range(4):
        _png(train_dir / f"cat.{i}.png", 200)
        _png(train_dir / f"dog.{i}.png", 40)
    b = load_dataset(train_dir, val_size=0.25, test_size=0.25)
    state = DataState.from_dict(json.loads(json.dumps(b.state.to_dict())))
    _png(new_dir / "dog.9.png", 40)
    _png(new_dir / "cat.9.png", 200)
    inputs = load_inputs(new_dir, state, require_targets=True)
    assert inputs.ids == ["cat.9.png", "dog.9.png"]
    assert inputs.y[:, 0].tolist() == [
        b.label_encoder.classes.index("cat"),
        b.label_encoder.classes.index("dog"),
    ]
    torch.testing.assert_close(inputs.x[0], b.train.x[b.train.y[:, 0] == inputs.y[0, 0]][0])
    _png(new_dir / "0001.png", 90)
    unlabelled = load_inputs(new_dir, state)
    assert unlabelled.y is None and unlabelled.x.shape == (3, 3, 6, 6)
    with pytest.raises(DataError, match="does not match the label pattern"):
        load_inputs(new_dir, state, require_targets=True)
