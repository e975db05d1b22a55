"""The bad-input corpus: each case builds its malformed input and calls the public API.

A case is ``Case(id, call, error, match)``: ``call(tmp_path)`` must raise ``error`` (a logitlab
error type) whose message matches ``match`` and which carries a ``Fix:``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from logitlab.errors import (
    ConfigError,
    DataError,
    LogitlabError,
    ModelFileError,
    TargetError,
)

__all__ = ["CASES", "Case", "write_csv", "write_model"]


@dataclass(frozen=True)
class Case:
    """One malformed input and the logitlab error it must end in."""

    id: str
    call: Callable[[Path], Any]
    error: type[LogitlabError]
    match: str
    marks: tuple[Any, ...] = field(default_factory=tuple)


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _good_table(n: int = 40) -> str:
    rows = ["a,b,target"] + [f"{i * 0.1:.2f},{(i * 7) % 5},{i % 2}" for i in range(n)]
    return "\n".join(rows) + "\n"


def _png(path: Path, seed: int = 0, size: int = 8) -> None:
    from PIL import Image

    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(path)


def write_model(directory: Path) -> Path:
    """A valid model directory (an mlp on 4 features, binary) written with logitlab's writer."""
    from logitlab.model_io import write_model_dir
    from logitlab.models import build_model, model_spec
    from tests.helpers import model_meta

    spec = model_spec("mlp", input_shape=(4,), n_outputs=1)
    model = build_model(**spec)
    meta = model_meta(spec)
    return write_model_dir(directory, model.state_dict(), meta)


def _read_model(tmp: Path, edit: Callable[[Path], None]) -> Any:
    from logitlab.model_io import read_model_dir

    d = write_model(tmp / "m")
    edit(d)
    return read_model_dir(d)


def _edit_json(**changes: Any) -> Callable[[Path], None]:
    def edit(d: Path) -> None:
        meta = json.loads((d / "model.json").read_text())
        for key, value in changes.items():
            if value is _DELETE:
                del meta[key]
            else:
                meta[key] = value
        (d / "model.json").write_text(json.dumps(meta))

    return edit


_DELETE = object()


def _truncate(name: str, keep: float = 0.5) -> Callable[[Path], None]:
    def edit(d: Path) -> None:
        data = (d / name).read_bytes()
        (d / name).write_bytes(data[: int(len(data) * keep)])

    return edit


def _remove(name: str) -> Callable[[Path], None]:
    return lambda d: (d / name).unlink()


def _flip_byte(d: Path) -> None:
    data = bytearray((d / "model.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (d / "model.safetensors").write_bytes(bytes(data))


# ----------------------------------------------------------------------------------- prepare_targets
def _pt(y: Any, task: str, **kw: Any) -> Callable[[Path], Any]:
    from logitlab.targets import prepare_targets

    return lambda _tmp: prepare_targets(y, task, **kw)


_TARGET_CASES = [
    Case("targets-empty", _pt(torch.empty(0), "binary"), TargetError, "empty|no targets|0 "),
    Case("targets-nan", _pt(torch.tensor([0.0, float("nan")]), "binary"), TargetError, "NaN|finite"),
    Case("targets-inf", _pt(torch.tensor([0.0, float("inf")]), "binary"), TargetError, "Inf|finite"),
    Case("targets-strings", _pt(np.array(["a", "b"]), "binary"), TargetError, "numeric"),
    Case(
        "targets-3d", _pt(torch.zeros(2, 2, 2), "binary"), TargetError, r"one label per sample.*\[2, 2, 2\]"
    ),
    Case(
        "targets-batch-mismatch",
        _pt(torch.zeros(3), "binary", outputs=torch.zeros(4, 1)),
        TargetError,
        "batch|rows|samples|4",
    ),
    Case(
        "targets-label-count-mismatch",
        _pt(torch.zeros(4, 3), "multilabel", outputs=torch.zeros(4, 5)),
        TargetError,
        "label|shape|5",
    ),
    Case(
        "targets-out-of-range-bce", _pt(torch.tensor([0.0, 2.0]), "binary"), TargetError, r"\[0, ?1\]|range"
    ),
    Case("targets-negative-bce", _pt(torch.tensor([-1.0, 1.0]), "binary"), TargetError, r"\[0, ?1\]|range"),
    Case("targets-int-for-bce", _pt(torch.tensor([0, 1]), "binary"), TargetError, "int|float"),
    Case(
        "targets-label-out-of-range-ce",
        _pt(torch.tensor([0, 5]), "multiclass", num_classes=3),
        TargetError,
        "range|class",
    ),
    Case(
        "targets-negative-label-ce",
        _pt(torch.tensor([0, -1]), "multiclass", num_classes=3),
        TargetError,
        "range|class|negative",
    ),
    Case(
        "targets-fractional-ce", _pt(torch.tensor([0.5, 1.0]), "multiclass", num_classes=3), TargetError, ""
    ),
    Case(
        "targets-one-hot-ce",
        _pt(torch.eye(3)[[0, 1, 2, 1]].long(), "multiclass", num_classes=3),
        TargetError,
        "one-hot|indices",
    ),
    Case(
        "targets-bad-probabilities-ce",
        _pt(torch.tensor([[0.5, 0.9, 0.0], [0.2, 0.2, 0.2]]), "multiclass", num_classes=3),
        TargetError,
        "sum|probabilit",
    ),
    Case(
        "targets-num-classes-mismatch",
        _pt(torch.tensor([0, 1]), "multiclass", outputs=torch.zeros(2, 3), num_classes=4),
        TargetError,
        "num_classes|3|4",
    ),
    Case("targets-unknown-task", _pt(torch.tensor([0.0, 1.0]), "regression"), ConfigError, "task"),
]


# ----------------------------------------------------------------------------------------- make_loss
def _ml(task: str, name: str = "auto", **kw: Any) -> Callable[[Path], Any]:
    from logitlab.losses import make_loss

    return lambda _tmp: make_loss(task, name, **kw)


_LOSS_CASES = [
    Case("loss-unknown-name", _ml("binary", "hinge"), ConfigError, "hinge"),
    Case("loss-ce-for-multilabel", _ml("multilabel", "ce"), ConfigError, "family|multilabel"),
    Case("loss-unknown-option", _ml("binary", "focal", gamm=2.0), ConfigError, "gamm"),
    Case(
        "loss-pos-weight-for-ce", _ml("multiclass", "ce", pos_weight=torch.ones(3)), ConfigError, "pos_weight"
    ),
    Case("loss-negative-gamma", _ml("binary", "focal", gamma=-1.0), ConfigError, "gamma"),
    Case("loss-nan-gamma", _ml("binary", "focal", gamma=float("nan")), ConfigError, "gamma"),
    Case("loss-unknown-reduction", _ml("binary", "bce", reduction="avg"), ConfigError, "reduction"),
    Case("loss-alpha-out-of-range", _ml("binary", "focal", alpha=1.5), ConfigError, "alpha"),
    Case(
        "loss-negative-pos-weight",
        _ml("binary", "bce", pos_weight=torch.tensor([-1.0])),
        ConfigError,
        "pos_weight",
    ),
    Case(
        "loss-nan-class-weight",
        _ml("multiclass", "ce", weight=torch.tensor([1.0, float("nan")])),
        ConfigError,
        "weight",
    ),
    Case("loss-unknown-task", _ml("ordinal"), ConfigError, "task"),
    Case(
        "loss-string-pos-weight",
        _ml("binary", "bce", pos_weight="heavy"),
        ConfigError,
        "pos_weight",
    ),
    Case("loss-string-weight", _ml("binary", "bce_dice", weight="heavy"), ConfigError, "weight"),
    Case(
        "loss-logit-adjusted-without-prior",
        _ml("multiclass", "logit_adjusted"),
        ConfigError,
        "prior",
    ),
]


# ------------------------------------------------------------------------------------ diagnose/weights
def _diag(outputs: Any, targets: Any, loss_fn: Any = None, **kw: Any) -> Callable[[Path], Any]:
    from logitlab.doctor import diagnose

    return lambda _tmp: diagnose(outputs, targets, loss_fn, **kw)


def _pw(*args: Any, **kw: Any) -> Callable[[Path], Any]:
    from logitlab.weights import pos_weight

    return lambda _tmp: pos_weight(*args, **kw)


def _cw(*args: Any, **kw: Any) -> Callable[[Path], Any]:
    from logitlab.weights import class_weight

    return lambda _tmp: class_weight(*args, **kw)


_MISC_CASES = [
    Case("diagnose-outputs-not-tensor", _diag("logits", torch.zeros(2)), ConfigError, "outputs"),
    Case("diagnose-loss-not-callable", _diag(torch.zeros(2), torch.zeros(2), 3), ConfigError, "loss_fn"),
    Case("diagnose-unknown-task", _diag(torch.zeros(2), torch.zeros(2), task="ranking"), ConfigError, "task"),
    Case("pos-weight-unknown-strategy", _pw(torch.ones(4, 2), "inverse"), ConfigError, "strategy"),
    Case("pos-weight-nan-targets", _pw(torch.tensor([[float("nan")], [1.0]])), TargetError, "NaN|finite"),
    Case("class-weight-negative-labels", _cw(torch.tensor([0, -2, 1])), TargetError, "negative|range|class"),
    Case(
        "class-weight-bad-max-weight",
        _cw(torch.tensor([0, 1, 1]), max_weight=-1.0),
        ConfigError,
        "max_weight",
    ),
]


# ------------------------------------------------------------------------------------------- models
def _bm(name: str, **kw: Any) -> Callable[[Path], Any]:
    from logitlab.models import build_model

    return lambda _tmp: build_model(name, **kw)


def _weights_file(tmp: Path, content: bytes | None, suffix: str = ".pt") -> Any:
    from logitlab.models import build_model

    path = tmp / f"w{suffix}"
    if content is not None:
        path.write_bytes(content)
    return build_model("mlp", input_shape=(4,), n_outputs=1, weights_path=path)


def _weights_not_tensors(tmp: Path) -> Any:
    from logitlab.models import build_model

    torch.save({"a": [1, 2, 3]}, tmp / "w.pt")
    return build_model("mlp", input_shape=(4,), n_outputs=1, weights_path=tmp / "w.pt")


_MODEL_CASES = [
    Case("model-unknown-name", _bm("transformer", input_shape=(4,), n_outputs=1), ConfigError, "transformer"),
    Case("model-zero-outputs", _bm("mlp", input_shape=(4,), n_outputs=0), ConfigError, "n_outputs"),
    Case("model-bad-input-shape", _bm("mlp", input_shape=(0,), n_outputs=1), ConfigError, "input_shape"),
    Case("model-unknown-option", _bm("mlp", input_shape=(4,), n_outputs=1, depth=3), ConfigError, "depth"),
    Case("model-bad-dropout", _bm("mlp", input_shape=(4,), n_outputs=1, dropout=1.5), ConfigError, "dropout"),
    Case("model-bad-hidden", _bm("mlp", input_shape=(4,), n_outputs=1, hidden=[0]), ConfigError, "hidden"),
    Case(
        "model-cnn-bad-channels",
        _bm("cnn", input_shape=(3, 8, 8), n_outputs=2, channels=[0]),
        ConfigError,
        "channels",
    ),
    Case("weights-missing-file", lambda t: _weights_file(t, None), ModelFileError, "does not exist"),
    Case(
        "weights-garbage-file",
        lambda t: _weights_file(t, b"not a weights file"),
        ModelFileError,
        "Cannot read",
    ),
    Case(
        "weights-garbage-safetensors",
        lambda t: _weights_file(t, b"\x00\x01garbage", ".safetensors"),
        ModelFileError,
        "Cannot read",
    ),
    Case("weights-not-tensors", _weights_not_tensors, ModelFileError, "no state dict of tensors"),
]


# ----------------------------------------------------------------------------------- data files
def _load_csv(text: str, name: str = "d.csv", **kw: Any) -> Callable[[Path], Any]:
    from logitlab.data import load_dataset

    def call(tmp: Path) -> Any:
        return load_dataset(write_csv(tmp / name, text), **kw)

    return call


def _load_path(make: Callable[[Path], Path], **kw: Any) -> Callable[[Path], Any]:
    from logitlab.data import load_dataset

    return lambda tmp: load_dataset(make(tmp), **kw)


def _ragged(tmp: Path) -> Path:
    text = _good_table().splitlines()
    text[5] = text[5] + ",9,9"
    return write_csv(tmp / "r.csv", "\n".join(text) + "\n")


def _predict_inputs(train_text: str, predict_text: str, **kw: Any) -> Callable[[Path], Any]:
    """Fit a bundle on ``train_text``, then read ``predict_text`` with its state (predict time)."""
    from logitlab.data import load_dataset, load_inputs

    def call(tmp: Path) -> Any:
        bundle = load_dataset(write_csv(tmp / "train.csv", train_text), **kw)
        return load_inputs(write_csv(tmp / "new.csv", predict_text), bundle.state, require_targets=True)

    return call


def _multilabel_table(labels: list[str], n: int = 40) -> str:
    rows = ["a,b,labels"] + [f"{i * 0.1:.2f},{i % 3},{labels[i % len(labels)]}" for i in range(n)]
    return "\n".join(rows) + "\n"


_ML_LABELS = ["cat|dog", "dog", "cat|bird", "bird", "cat"]


def _empty_parquet(tmp: Path) -> Path:
    pd.DataFrame({"a": pd.Series([], dtype=float), "target": pd.Series([], dtype=int)}).to_parquet(
        tmp / "e.parquet"
    )
    return tmp / "e.parquet"


def _broken_parquet(tmp: Path) -> Path:
    (tmp / "b.parquet").write_bytes(b"PAR1 this is not parquet")
    return tmp / "b.parquet"


def _image_folder(tmp: Path, extra: dict[str, bytes] | None = None, n: int = 6) -> Path:
    root = tmp / "imgs"
    for label in ("cat", "dog"):
        (root / label).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            _png(root / label / f"{i}.png", seed=i)
    for rel, data in (extra or {}).items():
        (root / rel).write_bytes(data)
    return root


def _image_csv(tmp: Path, paths: list[str], labels: list[str] | None = None) -> Path:
    root = _image_folder(tmp)
    labels = labels or ["cat", "dog"] * (len(paths) // 2) + ["cat"] * (len(paths) % 2)
    frame = pd.DataFrame({"path": paths, "label": labels})
    frame.to_csv(root / "index.csv", index=False)
    return root / "index.csv"


def _good_paths() -> list[str]:
    return [f"{lab}/{i}.png" for i in range(6) for lab in ("cat", "dog")]


def _escape_csv(tmp: Path) -> Path:
    _png(tmp / "secret.png")
    return _image_csv(tmp, ["../secret.png", *_good_paths()[1:]])


def _absolute_escape_csv(tmp: Path) -> Path:
    _png(tmp / "secret.png")
    return _image_csv(tmp, [str(tmp / "secret.png"), *_good_paths()[1:]])


def _missing_image_csv(tmp: Path) -> Path:
    return _image_csv(tmp, ["cat/404.png", *_good_paths()[1:]])


def _corrupt_image_csv(tmp: Path) -> Path:
    csv = _image_csv(tmp, ["cat/bad.png", *_good_paths()[1:]])
    (csv.parent / "cat" / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    return csv


def _all_corrupt_folder(tmp: Path) -> Path:
    root = tmp / "bad"
    for label in ("cat", "dog"):
        (root / label).mkdir(parents=True)
        for i in range(3):
            (root / label / f"{i}.png").write_bytes(b"not an image")
    return root


def _no_images_folder(tmp: Path) -> Path:
    root = tmp / "txt"
    (root / "cat").mkdir(parents=True)
    (root / "cat" / "a.txt").write_text("hello")
    return root


def _load_latin1(**kw: Any) -> Callable[[Path], Any]:
    from logitlab.data import load_dataset

    def call(tmp: Path) -> Any:
        (tmp / "l.csv").write_bytes(_good_table().replace("a,b", "caf\u00e9,b").encode("cp1252"))
        return load_dataset(tmp / "l.csv", **kw)

    return call


def _labels_mode(tmp: Path) -> Any:
    from logitlab.data import load_dataset, load_inputs

    bundle = load_dataset(write_csv(tmp / "t.csv", _good_table()))
    return load_inputs(tmp / "t.csv", bundle.state, labels="skip")


def _evaluate_unseen(tmp: Path) -> Any:
    from logitlab import workflows

    workflows.train(str(write_csv(tmp / "t.csv", _good_table())), tmp / "run", params={"epochs": 1, "device": "cpu"},
                    load={}, echo=str)  # fmt: skip
    return workflows.evaluate(
        tmp / "run", str(write_csv(tmp / "u.csv", "a,b,target\n0.1,2,7\n")), split="all"
    )


def _predictions_path(tmp: Path) -> Any:
    from logitlab import workflows

    (tmp / "out").mkdir()
    return workflows.check_predictions_path(tmp / "out")


def _run_dir(tmp: Path) -> Any:
    from logitlab import workflows

    write_model(tmp / "run")
    return workflows.check_run_dir(tmp / "run")


def _tune(logits: Any, targets: Any, **kw: Any) -> Any:
    from logitlab.evaluate import tune_thresholds

    return tune_thresholds(logits, targets, task="binary", **kw)


_DATA_CASES = [
    Case("csv-missing-file", lambda t: _load_path(lambda tmp: tmp / "nope.csv")(t), DataError, "nope.csv"),
    Case("csv-unknown-suffix", _load_csv("a,b\n1,2\n", name="d.xlsx"), DataError, "xlsx|format|suffix"),
    Case("csv-empty-file", _load_csv(""), DataError, "empty|no columns|no rows"),
    Case("csv-header-only", _load_csv("a,b,target\n"), DataError, "row|empty"),
    Case("csv-target-missing", _load_csv(_good_table(), target="label"), DataError, "label"),
    Case("csv-no-target-column", _load_csv(_good_table().replace("target", "c")), DataError, "target"),
    Case("csv-ragged-row", _load_path(_ragged), DataError, "line|row|field"),
    Case(
        "csv-non-numeric-feature",
        _load_csv(
            "a,target\n" + "".join(f"{'x' if i == 3 else i},{i % 2}\n" for i in range(40)) + "",
            max_categories=2,
        ),
        DataError,
        "a",
    ),
    Case(
        "csv-all-nan-target",
        _load_csv("a,target\n" + "".join(f"{i},\n" for i in range(20))),
        DataError,
        "target",
    ),
    Case(
        "csv-single-class",
        _load_csv("a,target\n" + "".join(f"{i},1\n" for i in range(20))),
        DataError,
        "class|one",
    ),
    Case("csv-bad-val-size", _load_csv(_good_table(), val_size=1.5), ConfigError, "val_size"),
    Case("csv-bad-task", _load_csv(_good_table(), task="ranking"), ConfigError, "task"),
    Case("csv-drop-unknown-column", _load_csv(_good_table(), drop=["zzz"]), DataError, "zzz"),
    Case("parquet-empty", _load_path(_empty_parquet), DataError, "row|empty"),
    Case("parquet-corrupt", _load_path(_broken_parquet), DataError, "parquet|read"),
    Case(
        "predict-missing-feature-column",
        _predict_inputs(_good_table(), _good_table().replace("a,b,target", "x,b,target")),
        DataError,
        "'a'|column",
    ),
    Case(
        "predict-missing-target-column",
        _predict_inputs(_good_table(), "a,b\n0.1,2\n0.2,3\n"),
        DataError,
        "target",
    ),
    Case(
        "predict-unknown-class",
        _predict_inputs(_good_table(), "a,b,target\n0.1,2,0\n0.2,3,7\n"),
        DataError,
        "7",
    ),
    Case(
        "predict-multilabel-unknown-label",
        _predict_inputs(_multilabel_table(_ML_LABELS), _multilabel_table(["cat|fish", "dog"], n=4)),
        DataError,
        "fish",
    ),
    Case(
        "predict-non-numeric-feature",
        _predict_inputs(_good_table(), "a,b,target\n0.1,2,0\nhello,3,1\n"),
        DataError,
        "hello|line 3|'a'",
    ),
    Case("builtin-unknown", lambda _t: _load_path(lambda tmp: "builtin:mnist")(_t), DataError, "mnist"),
    Case("images-csv-escape", _load_path(_escape_csv), DataError, r"outside|\.\./"),
    Case("images-csv-absolute-escape", _load_path(_absolute_escape_csv), DataError, "outside"),
    Case("images-csv-missing-file", _load_path(_missing_image_csv), DataError, "404.png"),
    Case("images-csv-corrupt-file", _load_path(_corrupt_image_csv), DataError, "bad.png"),
    Case("images-folder-all-corrupt", _load_path(_all_corrupt_folder), DataError, "image"),
    Case("images-folder-no-images", _load_path(_no_images_folder), DataError, "image"),
    # issue 14: what a new user's files look like
    Case(
        "csv-repeated-header", _load_csv(_good_table().replace("a,b,", "a,a,")), DataError, "more than once"
    ),
    Case(
        "csv-comma-joined-label-lists",
        _load_csv(
            "x,tags\n" + "".join(f'{i},"{t}"\n' for i, t in enumerate(["a,b", "a", "b,c", "c", "a,c"] * 8)),
            target="tags",
        ),
        DataError,
        "joined by ','",
    ),
    Case("csv-wrong-encoding", _load_latin1(encoding="utf-8"), DataError, "not valid 'utf-8'"),
    Case("csv-unknown-encoding", _load_csv(_good_table(), encoding="klingon"), ConfigError, "klingon"),
    Case("csv-bad-sep", _load_csv(_good_table(), sep=";;"), ConfigError, "sep"),
    Case("csv-unknown-id-column", _load_csv(_good_table(), id_column="zzz"), DataError, "zzz"),
    Case(
        "csv-bad-missing-target",
        _load_csv(_good_table(), missing_target="skip"),
        ConfigError,
        "missing_target",
    ),
    Case(
        "csv-missing-target-refused",
        _load_csv(_good_table().replace("0.50,0,1\n", "0.50,0,\n"), missing_target="error"),
        DataError,
        "Missing target values at line 7",
    ),
    Case("csv-unknown-positive", _load_csv(_good_table(), positive=7), DataError, "positive"),
    Case(
        "predict-bad-labels-mode",
        _labels_mode,
        ConfigError,
        "labels",
    ),
    Case(
        "predict-only-unseen-labels-evaluated",
        _evaluate_unseen,
        DataError,
        "no labelled rows",
    ),
    Case("predict-out-is-a-folder", _predictions_path, ConfigError, "folder"),
    Case("train-over-an-existing-run", _run_dir, ConfigError, "already holds a run"),
    Case(
        "tune-probabilities-out-of-range",
        lambda _t: _tune(torch.tensor([-2.0, 0.5, 3.0]), torch.tensor([0, 1, 1]), probabilities=True),
        ConfigError,
        "probabilities",
    ),
]


# ------------------------------------------------------------------------------- model directories
_MODEL_DIR_CASES = [
    Case(
        "modeldir-missing",
        lambda t: _read_model(t, lambda d: None) and _load_dir(t / "none"),
        ModelFileError,
        "missing",
    ),
    Case(
        "modeldir-no-json",
        lambda t: _read_model(t, _remove("model.json")),
        ModelFileError,
        "model.json is missing",
    ),
    Case(
        "modeldir-no-weights",
        lambda t: _read_model(t, _remove("model.safetensors")),
        ModelFileError,
        "model.safetensors is missing",
    ),
    Case(
        "modeldir-truncated-json",
        lambda t: _read_model(t, _truncate("model.json")),
        ModelFileError,
        "not valid JSON",
    ),
    Case(
        "modeldir-truncated-weights",
        lambda t: _read_model(t, _truncate("model.safetensors")),
        ModelFileError,
        "SHA-256",
    ),
    Case("modeldir-flipped-byte", lambda t: _read_model(t, _flip_byte), ModelFileError, "SHA-256"),
    Case(
        "modeldir-json-is-list",
        lambda t: _read_model(t, lambda d: (d / "model.json").write_text("[1]")),
        ModelFileError,
        "JSON object",
    ),
    Case(
        "modeldir-foreign-format",
        lambda t: _read_model(t, _edit_json(format="keras")),
        ModelFileError,
        "format",
    ),
    Case(
        "modeldir-future-version",
        lambda t: _read_model(t, _edit_json(schema_version=99)),
        ModelFileError,
        "schema_version",
    ),
    Case(
        "modeldir-field-missing", lambda t: _read_model(t, _edit_json(task=_DELETE)), ModelFileError, "'task'"
    ),
    Case(
        "modeldir-wrong-type",
        lambda t: _read_model(t, _edit_json(n_outputs="1")),
        ModelFileError,
        "n_outputs",
    ),
    Case(
        "modeldir-bool-for-int",
        lambda t: _read_model(t, _edit_json(n_outputs=True)),
        ModelFileError,
        "n_outputs",
    ),
    Case(
        "modeldir-unknown-task",
        lambda t: _read_model(t, _edit_json(task="regression")),
        ModelFileError,
        "regression",
    ),
    Case(
        "modeldir-negative-shape",
        lambda t: _read_model(t, _edit_json(input_shape=[-4])),
        ModelFileError,
        "input_shape",
    ),
    Case(
        "modeldir-injected-field",
        lambda t: _read_model(t, _edit_json(__class__="os.system", exec="rm -rf /")),
        ModelFileError,
        "unknown field|__class__|exec",
    ),
    Case(
        "modeldir-tensor-shape-edited",
        lambda t: _read_model(t, _edit_tensor_shape),
        ModelFileError,
        "differ",
    ),
]


def _load_dir(d: Path) -> Any:
    from logitlab.model_io import read_model_dir

    return read_model_dir(d)


def _edit_tensor_shape(d: Path) -> None:
    meta = json.loads((d / "model.json").read_text())
    first = next(iter(meta["tensors"]))
    meta["tensors"][first]["shape"] = [1, 1]
    (d / "model.json").write_text(json.dumps(meta))


CASES: list[Case] = [
    *_TARGET_CASES,
    *_LOSS_CASES,
    *_MISC_CASES,
    *_MODEL_CASES,
    *_DATA_CASES,
    *_MODEL_DIR_CASES,
]
