"""Nothing outside is read: checkpoint pointers, tampered checkpoint metadata, image folders, a run's config.json."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from logitlab.cli import main
from logitlab.data import load_dataset
from logitlab.errors import CheckpointError, DataError, ModelFileError
from logitlab.train import TrainConfig, Trainer, load_checkpoint, save_checkpoint

from ._corpus import _image_folder, _png

FIXTURES = Path(__file__).parents[1] / "fixtures" / "saved_2770bf6"


# ---------------------------------------------------------------------------------- checkpoints
def _checkpoints(tmp: Path) -> Path:
    root = tmp / "run" / "checkpoints"
    save_checkpoint(root, {"w": torch.ones(2)}, {"step": 3}, {"epoch": 0, "global_step": 0}, names=("last",))
    return root


def _point(tmp: Path, target: str) -> Path:
    """``last.json`` naming ``target``; a complete checkpoint really is there (a copy of the real one)."""
    root = _checkpoints(tmp)
    pointer = json.loads((root / "last.json").read_text())
    real = root / pointer["dir"]
    outside = tmp / "x"
    shutil.copytree(real, outside)
    pointer["dir"] = target.replace("OUTSIDE", str(outside))
    (root / "last.json").write_text(json.dumps(pointer))
    return root


def _symlinked_checkpoint(tmp: Path) -> Path:
    root = _point(tmp, "evil")
    (root / "evil").symlink_to(tmp / "x")
    return root


@pytest.mark.parametrize(
    "make",
    [lambda t: _point(t, "../../x"), lambda t: _point(t, "OUTSIDE"), _symlinked_checkpoint],
    ids=["dotdot", "absolute", "symlink"],
)
def test_checkpoint_pointer_is_confined_to_its_folder(tmp_path: Path, make: Callable[[Path], Path]) -> None:
    root = make(tmp_path)
    with pytest.raises(CheckpointError, match="confined to their folder") as info:
        load_checkpoint(root)
    assert info.value.code == "checkpoint-outside"


def _tamper_meta(change: Callable[[dict[str, Any]], Any]) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        root = _checkpoints(tmp)
        meta_path = root / json.loads((root / "last.json").read_text())["dir"] / "meta.json"
        meta = json.loads(meta_path.read_text())
        out = change(meta)
        meta_path.write_text(out if isinstance(out, str) else json.dumps(meta))
        return root

    return make


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (_tamper_meta(lambda m: m.pop("sha256")), "`sha256`.*missing"),  # KeyError before
        (_tamper_meta(lambda m: m.update(sha256="abc")), "`sha256`"),  # AttributeError before
        (_tamper_meta(lambda m: "[" * 200_000 + "]" * 200_000), "nested too deeply"),  # RecursionError
        (_tamper_meta(lambda m: '{"epoch": ' + "9" * 5000 + "}"), "unreadable"),  # int digits limit
        (_tamper_meta(lambda m: m.update(epoch="3")), "`epoch`"),
        (_tamper_meta(lambda m: m.update(history=5)), "`history`"),
        (_tamper_meta(lambda m: m.update(position={"batches": "x"})), "`position`"),
        (_tamper_meta(lambda m: "[1, 2]"), "not a JSON object"),
        (lambda t: _write_pointer(t, "[]"), "unreadable"),
        (lambda t: _write_pointer(t, '{"dir": 5}'), "unreadable"),
    ],
    ids=[
        "no-sha",
        "sha-str",
        "deep",
        "big-int",
        "epoch-str",
        "history",
        "position",
        "list",
        "ptr-list",
        "ptr-int",
    ],
)
def test_tampered_checkpoint_metadata_is_a_checkpoint_error(
    tmp_path: Path, make: Callable[[Path], Path], match: str
) -> None:
    with pytest.raises(CheckpointError, match=match):
        load_checkpoint(make(tmp_path))


def _write_pointer(tmp: Path, text: str) -> Path:
    root = _checkpoints(tmp)
    (root / "last.json").write_text(text)
    return root


def test_resume_from_a_tampered_state_with_valid_checksums_is_a_checkpoint_error(tmp_path: Path) -> None:
    """state.pt rewritten without the optimizer, and meta.json's SHA-256 updated to match: a CheckpointError."""
    cfg: dict[str, Any] = dict(epochs=1, batch_size=16, device="cpu", progress=False)
    x, y = torch.randn(40, 3), torch.randint(0, 2, (40,))
    net = nn.Linear(3, 2)
    Trainer(net, nn.CrossEntropyLoss(), TrainConfig(**cfg), run_dir=tmp_path).fit((x, y), (x, y))
    ckpt = load_checkpoint(tmp_path / "checkpoints")
    buffer = io.BytesIO()
    torch.save({"rng": []}, buffer)
    (ckpt.path / "state.pt").write_bytes(buffer.getvalue())
    meta = json.loads((ckpt.path / "meta.json").read_text())
    meta["sha256"]["state.pt"] = hashlib.sha256(buffer.getvalue()).hexdigest()
    (ckpt.path / "meta.json").write_text(json.dumps(meta))
    resume = TrainConfig(**{**cfg, "epochs": 2, "resume": str(tmp_path)})
    with pytest.raises(CheckpointError, match="resumable state.*optimizer"):
        Trainer(nn.Linear(3, 2), nn.CrossEntropyLoss(), resume).fit((x, y), (x, y))


# ---------------------------------------------------------------------------------- image folders
def _symlinked_class(tmp: Path) -> Path:
    root = _image_folder(tmp)
    elsewhere = tmp / "elsewhere" / "bird"
    elsewhere.mkdir(parents=True)
    for i in range(6):
        _png(elsewhere / f"{i}.png", seed=i)
    (root / "bird").symlink_to(elsewhere)
    return root


def _symlinked_file(tmp: Path) -> Path:
    root = _image_folder(tmp)
    _png(tmp / "secret.png", seed=9)
    (root / "cat" / "link.png").symlink_to(tmp / "secret.png")
    return root


@pytest.mark.parametrize("make", [_symlinked_class, _symlinked_file], ids=["class-folder", "image-file"])
def test_image_folder_refuses_what_resolves_outside_its_root(
    tmp_path: Path, make: Callable[[Path], Path]
) -> None:
    root = make(tmp_path)
    with pytest.raises(DataError, match="outside the data root") as info:
        load_dataset(root)
    assert info.value.code == "path-outside-root"
    bundle = load_dataset(root, allow_outside_root=True)  # the control: allowed when asked, the links read
    expected = 13 if make is _symlinked_file else 18  # 12 images plus the linked one, or a third class of 6
    assert len(bundle.train) + len(bundle.val) + len(bundle.test) == expected


def test_image_folder_symlink_inside_the_root_is_kept(tmp_path: Path) -> None:
    root = _image_folder(tmp_path)
    (root / "dog" / "alias.png").symlink_to(root / "cat" / "0.png")  # resolves inside: allowed
    bundle = load_dataset(root)
    assert len(bundle.train) + len(bundle.val) + len(bundle.test) == 13


# ---------------------------------------------------------------------------------- a run's config.json
@pytest.mark.parametrize(
    "text", ["{bad", "[1, 2]", '{"load": 5}', "[" * 200_000], ids=["syntax", "list", "load", "deep"]
)
def test_invalid_config_json_exits_2_with_one_message(
    tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    shutil.copytree(FIXTURES / "binary", run)
    (run / "config.json").write_text(text)
    code = main(["evaluate", str(run), str(FIXTURES / "inputs.csv"), "--split", "all"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "ModelFileError" in err and "config.json" in err and "Traceback" not in err


def test_config_json_symlink_is_refused(tmp_path: Path) -> None:
    from logitlab.workflows.saved import evaluate

    run = tmp_path / "run"
    shutil.copytree(FIXTURES / "binary", run)
    (tmp_path / "secret.json").write_text('{"load": {"streaming": "SECRET"}}')
    (run / "config.json").symlink_to(tmp_path / "secret.json")
    with pytest.raises(ModelFileError, match="symbolic link") as info:
        evaluate(run, str(FIXTURES / "inputs.csv"), split="all")
    assert "SECRET" not in str(info.value)
