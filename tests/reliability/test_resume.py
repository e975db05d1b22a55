"""Resume: after Ctrl-C or ``kill -9`` a run continues from its last checkpoint to the uninterrupted result.

The reference is always an uninterrupted run of the same data, parameters and seed; the resumed
run must end with bitwise the same weights, per-epoch history and metrics. Through the command line
(``train --resume``, the first part SIGKILLed in another process), through ``Classifier.fit(...,
resume=True)`` (an ensemble interrupted in its second member), and in the Trainer with early stopping
(interrupted before and after it decided to stop).
"""

from __future__ import annotations

import csv
import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from logitlab import Classifier, cli
from logitlab.train import CheckpointCallback, EarlyStopping, TrainConfig, Trainer, load_checkpoint
from logitlab.train.callbacks import RestoreBestWeights
from logitlab.workflows import run_dir

from .test_outputs import _table
from .test_run_lock import _start_holder

EPOCHS = 6
RESUMABLE = ["--epochs", str(EPOCHS), "--quiet", "--device", "cpu", "--batch-size", "32"]


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """The killed subprocess runs on one thread (OMP_NUM_THREADS=1); so do the runs here (bitwise)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


_CLOCK = ("seconds", "samples_per_s")  # wall-clock columns: the only ones that may differ


def _values(history: Any) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k not in _CLOCK} for row in history]


def _history(run: Path) -> list[dict[str, Any]]:
    with open(run / "metrics.csv", newline="") as fh:
        return _values(csv.DictReader(fh))


def _assert_same_run(a: Path, b: Path) -> None:
    wa, wb = load_file(a / "model.safetensors"), load_file(b / "model.safetensors")
    assert wa.keys() == wb.keys()
    for name in wa:
        assert torch.equal(wa[name], wb[name]), name
    assert _history(a) == _history(b) and len(_history(a)) == EPOCHS
    ca, cb = (json.loads((r / "config.json").read_text()) for r in (a, b))
    assert ca["test_metrics"] == cb["test_metrics"]
    assert ca["decisions"]["thresholds"] == cb["decisions"]["thresholds"]


@pytest.mark.slow
def test_cli_resume_after_kill_9_equals_the_uninterrupted_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _table(tmp_path / "data.csv", n=240)
    ref, out = tmp_path / "ref", tmp_path / "run"
    argv = ["train", str(data), "--target", "label", "--out", str(out), *RESUMABLE]
    assert cli.main(["train", str(data), "--target", "label", "--out", str(ref), *RESUMABLE]) == 0

    holder = _start_holder(tmp_path, data, out, stage="epoch=3", train=RESUMABLE)
    holder.send_signal(signal.SIGKILL)
    holder.communicate(timeout=60)
    assert load_checkpoint(out).meta["epoch"] == 2  # epochs 0-2 done and checkpointed
    capsys.readouterr()

    assert cli.main(argv) == 2  # the same command: says what to do
    err = capsys.readouterr().err
    assert "interrupted run" in err and "--resume" in err and "--overwrite" in err and "Traceback" not in err
    assert cli.main([*argv, "--resume", "--lr", "0.01"]) == 2  # other settings would not end the same
    err = capsys.readouterr().err
    assert "lr" in err and "differ" in err and "Traceback" not in err
    original = data.read_bytes()
    _table(data, n=240, seed=1)  # the same file name, other rows: the resumed run would mix the two
    assert cli.main([*argv, "--resume"]) == 2
    err = capsys.readouterr().err
    assert f"content of {data}" in err and "--overwrite" in err and "Traceback" not in err, err
    data.write_bytes(original)

    assert cli.main([*argv, "--resume"]) == 0
    _assert_same_run(ref, out)
    assert run_dir.read_manifest(out)["state"] == "complete"  # type: ignore[index]
    assert cli.main([*argv, "--resume"]) == 2  # a finished run has nothing to resume
    assert "nothing to resume" in capsys.readouterr().err


@pytest.mark.slow
def test_classifier_fit_resume_equals_uninterrupted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C in the second member of an ensemble; ``fit(..., resume=True)`` ends where an uninterrupted fit ends."""
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=160, n_features=6, n_informative=4, random_state=0)
    params: dict[str, Any] = {
        "epochs": 3,
        "ensemble": 2,
        "random_state": 5,
        "device": "cpu",
        "verbose": False,
    }
    ref = Classifier(**params).fit(X, y, run_dir=tmp_path / "a")

    real, calls = Trainer._train_epoch, []

    def interrupted(self: Trainer, loader: Any, epoch: int) -> Any:
        calls.append(epoch)
        if len(calls) == 3 + 2:  # member 1, epoch 1
            raise KeyboardInterrupt
        return real(self, loader, epoch)

    monkeypatch.setattr(Trainer, "_train_epoch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        Classifier(**params).fit(X, y, run_dir=tmp_path / "b")
    monkeypatch.undo()
    torch.randn(1000)  # disturb the global RNG: the checkpoints must restore it

    resumed = Classifier(**params).fit(X, y, run_dir=tmp_path / "b", resume=True)
    for (name, a), b in zip(ref.model_.state_dict().items(), resumed.model_.state_dict().values()):
        assert torch.equal(a, b), name
    assert _values(resumed.history_) == _values(ref.history_)
    assert resumed.decisions_["members"] == ref.decisions_["members"]
    assert torch.equal(torch.as_tensor(resumed.predict_proba(X)), torch.as_tensor(ref.predict_proba(X)))

    from logitlab.errors import ConfigError

    with pytest.raises(ConfigError, match="run_dir") as info:
        Classifier(**params).fit(X, y, resume=True)
    assert info.value.code == "resume-without-run-dir"


def _data() -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(2)
    x = torch.randn(160, 6, generator=g)
    y = (x[:, 0] + 0.8 * torch.randn(160, generator=g) > 0).long()  # noisy: validation loss turns up soon
    return (x[:120], y[:120]), (x[120:], y[120:])


def _early_stopping_run(
    run_dir: Path, *, resume: bool = False
) -> tuple[nn.Module, Trainer, RestoreBestWeights]:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 2))
    best = RestoreBestWeights()
    cfg = TrainConfig(
        epochs=40, batch_size=16, lr=2e-2, device="cpu", progress=False, resume="auto" if resume else None
    )
    trainer = Trainer(
        net, nn.CrossEntropyLoss(), cfg, run_dir=run_dir, callbacks=[best, EarlyStopping(patience=3)]
    )
    train, val = _data()
    trainer.fit(train, val)
    return net, trainer, best


@pytest.mark.parametrize("where", ["mid-run", "after-the-stop"])
def test_early_stopped_run_resumes_to_the_same_best_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    ref, ref_trainer, ref_best = _early_stopping_run(tmp_path / "a")
    stopped_at = len(ref_trainer.history)
    assert stopped_at < 40 and 0 <= ref_best.best_epoch < stopped_at - 1  # it did stop early, past its best

    if where == "mid-run":
        real = Trainer._train_epoch

        def interrupted(self: Trainer, loader: Any, epoch: int) -> Any:
            if epoch == stopped_at - 2:  # after the best epoch, before the stop
                raise KeyboardInterrupt
            return real(self, loader, epoch)

        monkeypatch.setattr(Trainer, "_train_epoch", interrupted)
    else:

        def interrupted_end(self: CheckpointCallback, trainer: Trainer) -> None:
            raise KeyboardInterrupt  # the last checkpoint is written, the best weights not yet restored

        monkeypatch.setattr(CheckpointCallback, "on_fit_end", interrupted_end)
    with pytest.raises(KeyboardInterrupt):
        _early_stopping_run(tmp_path / "b")
    monkeypatch.undo()

    net, trainer, best = _early_stopping_run(tmp_path / "b", resume=True)
    assert len(trainer.history) == stopped_at and best.best_epoch == ref_best.best_epoch
    assert _values(trainer.history) == _values(ref_trainer.history)
    for (name, a), b in zip(ref.state_dict().items(), net.state_dict().values()):
        assert torch.equal(a, b), name  # the best epoch's weights, read back from the `best` checkpoint


def test_the_data_fingerprint_changes_with_the_data_and_not_otherwise(tmp_path: Path) -> None:
    """What ``train --resume`` compares: a file's bytes; a glob's or folder's file names, sizes and times."""
    import hashlib
    import os

    from logitlab.fingerprints import data_fingerprint

    (tmp_path / "d").mkdir()
    one = _table(tmp_path / "d" / "a.csv", n=40)
    glob, folder = str(tmp_path / "d" / "*.csv"), str(tmp_path / "d")
    before = {spec: data_fingerprint(spec) for spec in (str(one), glob, folder)}
    assert before == {spec: data_fingerprint(spec) for spec in before}  # stable
    assert before[str(one)] == "sha256:" + hashlib.sha256(one.read_bytes()).hexdigest()
    assert data_fingerprint("builtin:digits") is None and data_fingerprint(str(tmp_path / "none.csv")) is None
    _table(tmp_path / "d" / "b.csv", n=40)  # a file more
    after = {spec: data_fingerprint(spec) for spec in before}
    assert (
        after[str(one)] == before[str(one)]
        and after[glob] != before[glob]
        and after[folder] != before[folder]
    )
    stat = one.stat()
    _table(one, n=40, seed=3)  # other bytes, the same size and time
    os.utime(one, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert data_fingerprint(one) != before[str(one)]


def test_fit_resume_refuses_other_x_or_y(tmp_path: Path) -> None:
    """``fit(..., resume=True)`` with one value of ``X`` or ``y`` changed is refused, naming which differs."""
    from sklearn.datasets import make_classification

    from logitlab.errors import CheckpointError

    X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    params: dict[str, Any] = {"epochs": 1, "random_state": 0, "device": "cpu", "verbose": False}
    Classifier(**params).fit(X, y, run_dir=tmp_path)  # leaves checkpoints/last.json, as an interrupted fit
    assert (tmp_path / "checkpoints" / "last.json").is_file()
    other_x, other_y = X.copy(), y.copy()
    other_x[17, 2] += 1e-6
    other_y[5] = 1 - other_y[5]
    for args, named in (
        ((other_x, y), "X differs"),
        ((X, other_y), "y differs"),
        ((other_x, other_y), "X and y"),
    ):
        with pytest.raises(CheckpointError, match=named) as info:
            Classifier(**params).fit(*args, run_dir=tmp_path, resume=True)
        assert info.value.code == "resume-data-changed" and info.value.param == "resume"
        assert "resume=False" in (info.value.fix or "")
    Classifier(**params).fit(X.copy(), list(y), run_dir=tmp_path, resume=True)  # equal values: resumes
    (tmp_path / ".logitlab-fit.json").write_text("{not json")
    with pytest.raises(CheckpointError) as info:
        Classifier(**params).fit(X, y, run_dir=tmp_path, resume=True)
    assert info.value.code == "resume-record-invalid"
    Classifier(**params).fit(
        other_x, y, run_dir=tmp_path
    )  # resume=False starts over and records the new data
    Classifier(**params).fit(other_x, y, run_dir=tmp_path, resume=True)


def test_array_fingerprint_follows_the_values() -> None:
    """Equal values give one fingerprint; a changed value, dtype, shape, sparse entry or column name another."""
    import numpy as np
    import pandas as pd
    import scipy.sparse as sp

    from logitlab.fingerprints import array_fingerprint

    rng = np.random.default_rng(0)
    a = rng.normal(size=(30, 4))
    fp = array_fingerprint(a)
    assert fp == array_fingerprint(a.copy()) == array_fingerprint(torch.from_numpy(a.copy()))
    assert fp == array_fingerprint(np.asfortranarray(a))  # the same values in another memory layout
    b = a.copy()
    b[29, 3] = np.nextafter(b[29, 3], 1.0)
    others = [b, a.astype(np.float32), a.reshape(4, 30), a[:, ::-1]]
    frame = pd.DataFrame(a, columns=list("abcd"))
    csr = sp.csr_matrix(np.where(a > 0, a, 0.0))
    changed = csr.copy()
    changed.data[0] += 1.0
    assert array_fingerprint(frame) == array_fingerprint(frame.copy())
    assert array_fingerprint(csr) == array_fingerprint(csr.tocsc())
    prints = [fp, *map(array_fingerprint, [*others, frame, frame.rename(columns={"d": "e"}), csr, changed])]
    assert len(set(prints)) == len(prints)
    assert array_fingerprint(["a", "b"]) != array_fingerprint(["a", "c"])
    assert array_fingerprint([["a"], ["a", "b"]]) != array_fingerprint([["a"], ["b"]])  # ragged label lists
    assert array_fingerprint(object()) is None  # not an array (a lazy dataset): not checked


@pytest.mark.parametrize(
    "text",
    ["{not json", "[]", '{"format": "other", "state": "running"}', '{"format": "logitlab-run", "state": 7}'],
    ids=["unparseable", "list", "other-format", "bad-state"],
)
def test_resume_refuses_a_damaged_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    """A garbage ``.logitlab-run.json`` is exit 2 with ``--resume`` (naming it and ``--overwrite``), not a resume."""
    data = _table(tmp_path / "data.csv", n=60)
    out = tmp_path / "run"
    (out / "checkpoints").mkdir(parents=True)
    (out / "checkpoints" / "last.json").write_text("{}")
    assert run_dir.check_run_dir(out, resume=True) == out  # no manifest at all: a run begun before manifests
    (out / run_dir.MANIFEST).write_text(text)
    capsys.readouterr()
    assert cli.main(["train", str(data), "--target", "label", "--out", str(out), *RESUMABLE, "--resume"]) == 2
    err = capsys.readouterr().err
    assert str(out / run_dir.MANIFEST) in err and "--overwrite" in err and "Traceback" not in err, err
    assert (out / run_dir.MANIFEST).read_text() == text  # left as it was
