"""Untrusted model directories: every tampering ends in a ModelFileError naming the field, before anything is built.

One row per tampering, applied to a copy of a model directory saved by an older logitlab
(``tests/fixtures/saved_2770bf6``); each is loaded through the Python API and through the CLI
(``logitlab predict``: exit 2, one message, no traceback).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import safetensors.torch
import torch

from logitlab import Classifier
from logitlab.cli import main
from logitlab.errors import ModelFileError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "saved_2770bf6"
SECRET = "TOP-SECRET-CONTENT-0451"


@dataclass
class Tamper:
    id: str
    edit: Callable[[Path], None]
    match: str  # a regex the message must match: the field at fault
    task: str = "binary"


def _meta(d: Path) -> dict[str, Any]:
    return json.loads((d / "model.json").read_text())


def _write(d: Path, meta: dict[str, Any]) -> None:
    (d / "model.json").write_text(json.dumps(meta))


def _edit(change: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    def edit(d: Path) -> None:
        meta = _meta(d)
        change(meta)
        _write(d, meta)

    return edit


def _text(text: str) -> Callable[[Path], None]:
    return lambda d: (d / "model.json").write_text(text)


def _all_encoders(meta: dict[str, Any]) -> list[dict[str, Any]]:
    return [meta["label_encoder"], meta["preprocessing"]["label_encoder"]]


def _reverse_classes(meta: dict[str, Any]) -> None:  # positive kept: p_yes would be read as p_no
    meta["classes"] = meta["classes"][::-1]
    for enc in _all_encoders(meta):
        enc["classes"] = enc["classes"][::-1]


def _positive(meta: dict[str, Any]) -> None:
    for enc in _all_encoders(meta):
        enc["positive"] = "zzz"


def _set_all_shapes(width: int) -> Callable[[dict[str, Any]], None]:
    def change(meta: dict[str, Any]) -> None:
        meta["input_shape"] = meta["model_spec"]["input_shape"] = [width]
        meta["preprocessing"]["input_shape"] = [width]

    return change


def _weights_as_float64(d: Path) -> None:
    """A float64 tensor stored where the network has float32, with model.json agreeing with the file."""
    state = safetensors.torch.load_file(str(d / "model.safetensors"))
    state["head.weight"] = state["head.weight"].double()
    data = safetensors.torch.save(state)
    (d / "model.safetensors").write_bytes(data)
    meta = _meta(d)
    meta["weights_sha256"] = hashlib.sha256(data).hexdigest()
    meta["tensors"]["head.weight"]["dtype"] = "torch.float64"
    _write(d, meta)


def _symlink_outside(name: str) -> Callable[[Path], None]:
    def edit(d: Path) -> None:
        secret = d.parent / f"secret-{name}"
        secret.write_text(json.dumps({"format": "logitlab-model", "note": SECRET}))
        (d / name).unlink()
        (d / name).symlink_to(secret)

    return edit


def _weights_path_outside(d: Path) -> None:
    outside = d.parent / "outside.safetensors"
    safetensors.torch.save_file({"secret_tensor_name": torch.zeros(1)}, str(outside))
    _edit(lambda m: m["model_spec"].update(weights_path=str(outside)))(d)


def _nested_in_field(meta: dict[str, Any]) -> None:
    deep: Any = 0
    for _ in range(100):
        deep = [deep]
    meta["params"]["loss_options"] = deep


DEEP = "[" * 200_000 + "]" * 200_000
TAMPERING = [
    # contradictions that keep the schema
    Tamper("reversed-classes-positive-kept", _edit(_reverse_classes), r"label_encoder\.positive"),
    # (classes=[1, 0] is no contradiction: `classes` is classes_, in any order of the encoder's classes)
    Tamper("classes-changed", _edit(lambda m: m.update(classes=[0, 2])), r"label_encoder\.classes"),
    Tamper("positive-not-a-class", _edit(_positive), r"label_encoder\.positive.*'zzz'"),
    Tamper(
        "label-map-not-scalars",
        _edit(lambda m: [e.update(label_map={"Yes": [1]}) for e in _all_encoders(m)]),
        r"label_encoder\.label_map",
    ),
    Tamper(
        "unknown-scaling",
        _edit(lambda m: m["preprocessing"]["preprocessor"]["numeric"][0].update(scaling="log")),
        r"numeric\[0\]\.scaling",
    ),
    Tamper(
        "duplicated-numeric-column",
        _edit(lambda m: m["preprocessing"]["preprocessor"]["numeric"][1].update(name="a")),
        r"each column once.*'a'|'a'.*each column once",
    ),
    Tamper(
        "wrong-feature-names", _edit(lambda m: m.update(feature_names=["a", "b", "zz"])), r"feature_names"
    ),
    Tamper("wrong-tensor-dtype", _weights_as_float64, r"model_spec.*head\.weight.*float64"),
    Tamper(
        "preprocessing-encoder-disagrees",
        _edit(lambda m: m["preprocessing"]["label_encoder"].update(classes=[1, 0], positive=0)),
        r"preprocessing\.label_encoder\.classes",
    ),
    Tamper(
        "multiclass-encoder-disagrees",
        _edit(lambda m: m["preprocessing"]["label_encoder"].update(classes=m["classes"][::-1])),
        r"preprocessing\.label_encoder\.classes",
        task="multiclass",
    ),
    Tamper(
        "thresholds-count",
        _edit(lambda m: m["thresholds"].update(values=[0.0, 0.0])),
        "thresholds.values",
        task="multiclass",
    ),  # fmt: skip
    Tamper(
        "calibration-task", _edit(lambda m: m["calibration"].update(task="multilabel")), "calibration.task"
    ),
    Tamper(
        "preprocessor-type",
        _edit(lambda m: m["preprocessing"]["preprocessor"].update(type="pickle")),
        r"preprocessor\.type",
    ),  # fmt: skip
    # sizes bounded by the stored tensors, before anything is built
    Tamper(
        "huge-hidden", _edit(lambda m: m["model_spec"].update(hidden=[30000, 30000])), r"model_spec\.hidden"
    ),
    Tamper(
        "huge-ensemble", _edit(lambda m: m["model_spec"].update(ensemble=1_000_000)), r"model_spec\.ensemble"
    ),
    Tamper("huge-input-shape", _edit(_set_all_shapes(3_000_000)), r"`input_shape`"),
    Tamper("huge-n-outputs", _edit(lambda m: m.update(n_outputs=10**9)), r"n_outputs"),
    # confinement
    Tamper("weights-path-outside", _weights_path_outside, r"model_spec\.weights_path"),
    Tamper("symlinked-model-json", _symlink_outside("model.json"), "symbolic link"),
    Tamper("symlinked-weights", _symlink_outside("model.safetensors"), "symbolic link"),
    # malformed files
    Tamper("nested-200000-deep", _text(DEEP), "not valid JSON.*nested"),
    Tamper("nested-in-a-field", _edit(_nested_in_field), "not valid JSON.*nested"),
    Tamper(
        "int-of-5000-digits",
        lambda d: _text(_meta_text(d).replace('"n_outputs": 1', '"n_outputs": ' + "9" * 5000))(d),
        "not valid JSON",
    ),  # fmt: skip
    Tamper(
        "string-for-number-threshold",
        _edit(lambda m: m["thresholds"].update(values=["0.4"])),
        "thresholds.values",
    ),  # fmt: skip
    Tamper(
        "string-for-number-mean",
        _edit(lambda m: m["preprocessing"]["preprocessor"]["numeric"][0].update(mean="0")),
        r"numeric\[0\]\.fill/mean",
    ),  # fmt: skip
    Tamper("string-for-number-lr", _edit(lambda m: m["params"].update(lr="fast")), r"params\.lr"),
    Tamper(
        "string-for-number-dropout",
        _edit(lambda m: m["model_spec"].update(dropout="0.2")),
        r"model_spec\.dropout",
    ),  # fmt: skip
    Tamper(
        "string-for-width",
        _edit(lambda m: m["model_spec"].update(hidden=["256", "128"])),
        r"model_spec\.hidden",
    ),  # fmt: skip
    Tamper("preprocessing-empty", _edit(lambda m: m.update(preprocessing={})), r"preprocessing\.kind"),
    Tamper("label-encoder-empty", _edit(lambda m: m.update(label_encoder={})), r"label_encoder\.task"),
    Tamper(
        "string-for-best-epoch",
        _edit(
            lambda m: m["decisions"].pop("epochs_count_from", None) or m["decisions"].update(best_epoch="x")
        ),
        "decisions",
    ),  # fmt: skip
    Tamper("label-names-edited", _edit(lambda m: m.update(label_names=["0"])), "label_names"),
    Tamper("not-utf8", lambda d: (d / "model.json").write_bytes(b"\xff\xfe{}"), "not valid JSON"),
]


def _meta_text(d: Path) -> str:
    return json.dumps(_meta(d))


def _tampered(tmp_path: Path, case: Tamper) -> Path:
    d = tmp_path / "run"
    shutil.copytree(FIXTURES / case.task, d)
    case.edit(d)
    return d


@pytest.fixture(scope="module", autouse=True)
def _imports_done() -> None:
    Classifier.load(FIXTURES / "binary")  # the first load imports the data layer: not what is timed


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


@pytest.mark.parametrize("case", TAMPERING, ids=lambda c: c.id)
def test_tampered_model_dir_is_a_model_file_error_naming_the_field(tmp_path: Path, case: Tamper) -> None:
    d = _tampered(tmp_path, case)
    rss, start = _peak_rss_mb(), time.perf_counter()
    with pytest.raises(ModelFileError) as info:
        Classifier.load(d)
    assert (time.perf_counter() - start) < 5.0
    assert _peak_rss_mb() - rss < 300  # hidden=[30000, 30000] alone is 3.6 GB of float32
    message = str(info.value)
    assert info.value.fix
    assert re.search(case.match, message, flags=re.S), message
    assert SECRET not in message and "secret_tensor_name" not in message
    assert len(message) < 2000


CLI_CASES = [("predict", case) for case in TAMPERING] + [("evaluate", case) for case in TAMPERING[::4]]


@pytest.mark.parametrize(("command", "case"), CLI_CASES, ids=[f"{c}-{t.id}" for c, t in CLI_CASES])
def test_tampered_model_dir_exits_2_from_the_cli(
    tmp_path: Path, command: str, case: Tamper, capsys: pytest.CaptureFixture[str]
) -> None:
    d = _tampered(tmp_path, case)
    out = ["--out", str(tmp_path / "p.csv")] if command == "predict" else ["--split", "all"]
    code = main([command, str(d), str(FIXTURES / "inputs.csv"), *out])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "ModelFileError" in err and "Traceback" not in err and SECRET not in err
    assert err.count("ModelFileError") == 1  # one message
    assert not (tmp_path / "p.csv").exists()


def test_a_fifo_in_place_of_model_json_is_refused_without_blocking(tmp_path: Path) -> None:
    d = _tampered(tmp_path, TAMPERING[0])
    (d / "model.json").unlink()
    os.mkfifo(d / "model.json")
    with pytest.raises(ModelFileError, match="not a regular file"):
        Classifier.load(d)


def test_a_folder_in_place_of_model_json_or_the_weights_is_refused(tmp_path: Path) -> None:
    for name in ("model.json", "model.safetensors"):
        d = _tampered(tmp_path / name, TAMPERING[0])
        (d / name).unlink()
        (d / name).mkdir()
        with pytest.raises(ModelFileError, match="not a regular file"):
            Classifier.load(d)


def test_huge_sizes_build_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bounds are checked before the network is built, even on the meta device."""
    import logitlab.models

    calls = []
    real = logitlab.models.build_model
    monkeypatch.setattr(logitlab.models, "build_model", lambda *a, **k: calls.append(k) or real(*a, **k))
    for case in TAMPERING:
        if case.id.startswith("huge-"):
            with pytest.raises(ModelFileError):
                Classifier.load(_tampered(tmp_path / case.id, case))
    assert calls == []


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_untampered_fixture_still_loads_and_resaves(tmp_path: Path, task: str) -> None:
    """The control: the checks pass the old directories, and a re-save of one loads and passes them too."""
    clf = Classifier.load(FIXTURES / task)
    clf.save(tmp_path / "again")
    again = Classifier.load(tmp_path / "again")
    for a, b in zip(clf.model_.state_dict().values(), again.model_.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert sorted(p.name for p in (tmp_path / "again").iterdir()) == ["model.json", "model.safetensors"]


def test_model_json_size_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import logitlab.model_io

    d = _tampered(tmp_path, TAMPERING[0])
    monkeypatch.setattr(logitlab.model_io, "MAX_META_BYTES", 1000)
    with pytest.raises(ModelFileError, match="at most 1,000 bytes"):
        Classifier.load(d)


@pytest.mark.parametrize(
    "spec",
    [
        {"name": "mlp", "input_shape": [5], "n_outputs": 1, "hidden": [8, 4], "embedding": "periodic"},
        {"name": "mlp", "input_shape": [2, 3], "n_outputs": 3, "hidden": [7], "batch_norm": False},
        {"name": "linear", "input_shape": [6], "n_outputs": 4},
        {"name": "cnn", "input_shape": [3, 16, 16], "n_outputs": 2, "channels": [4, 8]},
        {"name": "mlp", "input_shape": [5], "n_outputs": 2, "hidden": [8], "ensemble": 3},
        {"name": "sparse", "input_shape": [50], "n_outputs": 3},
        {"name": "sparse", "input_shape": [50], "n_outputs": 3, "hidden": [6]},
    ],
    ids=["mlp-periodic", "mlp-no-bn", "linear", "cnn", "ensemble", "sparse", "sparse-hidden"],
)
def test_network_size_from_the_spec_equals_the_built_network(spec: dict[str, Any]) -> None:
    """The size bound computed before building matches what build_model really allocates."""
    from logitlab.model_io.check import _network_size
    from logitlab.models import build_model, model_spec

    ensemble = spec.pop("ensemble", 1)
    full = {**model_spec(**spec), **({"ensemble": ensemble} if ensemble > 1 else {})}
    built = build_model(**{k: v for k, v in full.items()}).state_dict()
    assert _network_size(full) == sum(t.numel() for t in built.values())


def test_image_sizes_are_bounded_before_anything_is_read() -> None:
    """A cnn's stored tensors do not bound the image size; the pixels per image are bounded instead."""
    from logitlab.model_io.check import check_model_spec
    from logitlab.models import build_model, model_spec

    spec = model_spec("cnn", input_shape=(3, 16, 16), n_outputs=2, channels=[4])
    tensors = {k: (list(v.shape), str(v.dtype)) for k, v in build_model(**spec).state_dict().items()}
    meta = {"input_shape": [3, 16, 16], "n_outputs": 2}
    assert check_model_spec(spec, meta, tensors)[0] == spec  # the control: as saved, it passes
    huge = {**spec, "input_shape": [3, 60000, 60000]}
    with pytest.raises(ModelFileError, match="pixels"):
        check_model_spec(huge, {**meta, "input_shape": [3, 60000, 60000]}, tensors)
