"""Untrusted files: model directories never unpickle, edited JSON is rejected, image paths stay under the root."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pandas as pd
import pytest
import torch

from logitlab.data import load_dataset
from logitlab.errors import ConfigError, DataError, ModelFileError
from logitlab.model_io import read_model_dir
from logitlab.models import build_model

from ._corpus import _image_folder, _png, write_model

MARKER_ENV = "LOGITLAB_PWNED_MARKER"


class _Evil:
    """Unpickling this object calls ``open(marker, "w")``: the marker file proves code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (open, (self.marker, "w"))


def _plant(path: Path, marker: Path) -> None:
    torch.save({"weight": _Evil(marker), "bias": torch.zeros(1)}, path)


def test_evil_pickle_really_runs_code_when_unpickled(tmp_path: Path) -> None:
    """Positive control: the planted file does create the marker when loaded unsafely."""
    marker = tmp_path / "pwned"
    _plant(tmp_path / "evil.pt", marker)
    torch.load(tmp_path / "evil.pt", weights_only=False)
    assert marker.exists()


def test_model_dir_with_pickled_weights_is_rejected_without_unpickling(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    d = write_model(tmp_path / "m")
    weights = d / "model.safetensors"
    _plant(weights, marker)  # a pickle in place of the safetensors file, with a matching SHA-256
    meta = json.loads((d / "model.json").read_text())
    meta["weights_sha256"] = hashlib.sha256(weights.read_bytes()).hexdigest()
    (d / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match="cannot be read as safetensors"):
        read_model_dir(d)
    assert not marker.exists()


@pytest.mark.parametrize("name", ["model.pt", "pytorch_model.bin", "model.pkl", "checkpoint.ckpt"])
def test_pickles_planted_next_to_a_model_are_never_loaded(tmp_path: Path, name: str) -> None:
    marker = tmp_path / "pwned"
    d = write_model(tmp_path / "m")
    _plant(d / name, marker)
    state, meta = read_model_dir(d)
    assert set(state) == set(meta["tensors"])
    assert not marker.exists()


@pytest.mark.parametrize("suffix", [".pt", ".bin", ".pth"])
def test_weights_path_pickle_is_refused_by_weights_only(tmp_path: Path, suffix: str) -> None:
    marker = tmp_path / "pwned"
    _plant(tmp_path / f"evil{suffix}", marker)
    with pytest.raises(ModelFileError, match="Cannot read weights") as info:
        build_model("mlp", input_shape=(4,), n_outputs=1, weights_path=tmp_path / f"evil{suffix}")
    assert info.value.fix
    assert not marker.exists()


def test_weights_path_plain_state_dict_still_loads(tmp_path: Path) -> None:
    """Negative control: weights_only=True accepts a plain state dict, with the same tensors."""
    src = build_model("mlp", input_shape=(4,), n_outputs=1)
    torch.save(src.state_dict(), tmp_path / "ok.pt")
    dst = build_model("mlp", input_shape=(4,), n_outputs=1, weights_path=tmp_path / "ok.pt")
    for (k, a), (_, b) in zip(src.state_dict().items(), dst.state_dict().items(), strict=True):
        assert torch.equal(a, b), k


@pytest.mark.parametrize(
    "spec_edit",
    [
        {"name": "__import__('os').system"},
        {"name": "mlp", "activation": "os.system"},
        {"name": "mlp", "hidden": "rm -rf /"},
        {"name": "mlp", "input_shape": "4"},
    ],
    ids=["name-code", "unknown-option", "hidden-string", "shape-string"],
)
def test_injected_model_spec_is_rejected(tmp_path: Path, spec_edit: dict) -> None:
    d = write_model(tmp_path / "m")
    meta = json.loads((d / "model.json").read_text())
    meta["model_spec"].update(spec_edit)
    (d / "model.json").write_text(json.dumps(meta))
    _, meta = read_model_dir(d)
    with pytest.raises((ConfigError, ModelFileError)) as info:
        build_model(**meta["model_spec"])
    assert info.value.fix


def test_image_csv_escape_is_allowed_only_when_asked(tmp_path: Path) -> None:
    root = _image_folder(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    paths = [f"{lab}/{i}.png" for i in range(6) for lab in ("cat", "dog")]
    for i in range(2):
        _png(outside / f"{i}.png", seed=10 + i)
    paths[:2] = ["../outside/0.png", "../outside/1.png"]
    pd.DataFrame({"path": paths, "label": ["cat", "dog"] * 6}).to_csv(root / "index.csv", index=False)
    with pytest.raises(DataError, match="outside the data root") as info:
        load_dataset(root / "index.csv")
    assert "allow_outside_root=True" in (info.value.fix or "")
    bundle = load_dataset(root / "index.csv", allow_outside_root=True)
    assert bundle.kind == "image"
    n = sum(len(s.y) for s in (bundle.train, bundle.val, bundle.test))
    assert n == 12


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_image_csv_symlink_escape_is_rejected(tmp_path: Path) -> None:
    root = _image_folder(tmp_path)
    secret = tmp_path / "secret.png"
    _png(secret)
    (root / "cat" / "link.png").symlink_to(secret)
    paths = ["cat/link.png"] + [f"{lab}/{i}.png" for i in range(6) for lab in ("cat", "dog")][1:]
    pd.DataFrame({"path": paths, "label": (["cat", "dog"] * 6)[: len(paths)]}).to_csv(
        root / "i.csv", index=False
    )
    with pytest.raises(DataError, match="outside the data root"):
        load_dataset(root / "i.csv")
