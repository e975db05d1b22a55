"""Output safety: every command writes only what it owns, never its input or a run's files, and fails cleanly.

Each case of issue 24's "data loss" and "tracebacks" lists is reproduced through the command line
(``logitlab.cli.main`` in this process) and checked against the files on disk: what the user had is
byte-for-byte unchanged, nothing half-written is left, the answer is exit code 2 with one message and
a ``Fix:`` line, never a traceback.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from logitlab import cli, files
from logitlab.errors import OutputError
from logitlab.files import TEMP_SUFFIX
from logitlab.train import checkpoint as ckpt_module
from logitlab.workflows import outputs, run_dir

TRAIN = ["--epochs", "2", "--quiet", "--device", "cpu", "--batch-size", "32"]


def _table(path: Path, n: int = 160, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    y = (x[:, 0] - x[:, 1] + 0.3 * rng.normal(size=n) > 0).astype(int)
    rows = ["a,b,c,label", *(f"{r[0]:.4f},{r[1]:.4f},{r[2]:.4f},{t}" for r, t in zip(x, y))]
    path.write_text("\n".join(rows) + "\n")
    return path


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(argv)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.err


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _temp_files(root: Path) -> list[Path]:
    return [*root.rglob(f"*{TEMP_SUFFIX}"), *root.rglob("*.pending.safetensors")]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One trained run and its data file, shared by the tests that only read them."""
    root = tmp_path_factory.mktemp("trained")
    data = _table(root / "data.csv")
    assert cli.main(["train", str(data), "--target", "label", "--out", str(root / "run"), *TRAIN]) == 0
    return root / "run", data


@pytest.fixture
def train(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str]]:
    """``train(out, *flags, target="label")``: ``logitlab train`` of a fresh data file; ``(exit code, stderr)``."""
    data = _table(tmp_path / "data.csv")

    def run(out: Path, *extra: str, target: str = "label") -> tuple[int, str]:
        return _run(["train", str(data), "--target", target, "--out", str(out), *TRAIN, *extra], capsys)

    return run


# ---- train --out: only what the run owns -------------------------------------------------------------
def test_train_keeps_a_users_folder_in_checkpoints(
    tmp_path: Path, train: Callable[..., tuple[int, str]]
) -> None:
    """`mkdir -p proj/checkpoints/my_experiment && train --out proj`: refused; with --overwrite it survives."""
    mine = tmp_path / "proj" / "checkpoints" / "my_experiment"
    mine.mkdir(parents=True)
    (mine / "notes.txt").write_text("mine")

    code, err = train(tmp_path / "proj")
    assert code == 2 and "checkpoints" in err and "a logitlab run did not write" in err
    assert "Fix:" in err and "--overwrite" in err
    assert sorted(p.name for p in (tmp_path / "proj").iterdir()) == ["checkpoints"]  # nothing written

    code, _ = train(tmp_path / "proj", "--overwrite")
    assert code == 0
    assert (mine / "notes.txt").read_text() == "mine"  # pruning never touched it
    ckpts = tmp_path / "proj" / "checkpoints"
    pointed = {ckpt_module.resolve_checkpoint(ckpts, n).name for n in ("last", "best")}  # type: ignore[union-attr]
    dirs = {p.name for p in ckpts.iterdir() if p.is_dir()}
    assert dirs == pointed | {"my_experiment"}  # the run's older checkpoints pruned, the user's kept


def test_train_never_follows_a_symlinked_checkpoints(
    tmp_path: Path, train: Callable[..., tuple[int, str]]
) -> None:
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "precious").mkdir(parents=True)
    (elsewhere / "precious" / "a.bin").write_bytes(b"\x00\x01")
    out = tmp_path / "run"
    out.mkdir()
    (out / "checkpoints").symlink_to(elsewhere, target_is_directory=True)
    before = _snapshot(elsewhere)
    for extra in ([], ["--overwrite"]):
        code, err = train(out, *extra)
        assert code == 2 and "symbolic link" in err and str(out / "checkpoints") in err and "Fix:" in err
    assert _snapshot(elsewhere) == before and sorted(p.name for p in elsewhere.iterdir()) == ["precious"]


@pytest.mark.parametrize("name", ["report.html", "metrics.csv", "train_config.json"])
def test_train_refuses_user_files_with_run_file_names(
    tmp_path: Path, train: Callable[..., tuple[int, str]], name: str
) -> None:
    out = tmp_path / "proj"
    out.mkdir()
    (out / name).write_text("the user's own file")
    code, err = train(out)
    assert code == 2 and str(out / name) in err and "--overwrite" in err and "another --out" in err
    assert (out / name).read_text() == "the user's own file"


def test_prune_deletes_only_checkpoints_this_library_recorded(tmp_path: Path) -> None:
    """A folder with a checkpoint-like name it did not write, a tampered ledger naming `../`, a symlink: all kept."""
    import torch

    root = tmp_path / "checkpoints"
    foreign = root / "epoch0001-step00000001-abcdef"  # the pattern, but not written here
    foreign.mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "link-epoch").symlink_to(outside, target_is_directory=True)
    (root / ckpt_module.LEDGER).write_text('["../outside", "/etc", "link-epoch"]')
    for epoch in range(3):
        ckpt_module.save_checkpoint(root, {"w": torch.ones(2) * epoch}, {}, {"epoch": epoch}, names=("last",))
    last = ckpt_module.resolve_checkpoint(root)
    assert last is not None and ckpt_module.load_checkpoint(root).meta["epoch"] == 2
    assert {p.name for p in root.iterdir() if p.is_dir()} == {foreign.name, "link-epoch", last.name}
    assert outside.is_dir() and (root / "link-epoch").is_symlink()
    assert ckpt_module._owned(root) == [last.name]

    ckpt_module.clear_checkpoints(root)  # --overwrite: the run's own checkpoints and pointers go
    assert {p.name for p in root.iterdir()} == {foreign.name, "link-epoch", ckpt_module.LEDGER}


# ---- predict / plot-loss / export --out ---------------------------------------------------------------
def test_predict_never_writes_into_a_run_or_onto_its_input(
    trained: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run, data = trained
    before, data_bytes = _snapshot(run), data.read_bytes()
    for target, phrase in [
        (run / "model.json", "inside the run directory"),
        (run / "plots" / "p.csv", "inside the run directory"),
        (data, "own input"),
    ]:
        for extra in ([], ["--overwrite"]):  # never, even when asked
            code, err = _run(["predict", str(run), str(data), "--out", str(target), *extra], capsys)
            assert code == 2 and phrase in err and "Fix:" in err, (target, err)
    assert _snapshot(run) == before and data.read_bytes() == data_bytes


def test_predict_replaces_an_existing_file_only_with_overwrite(
    trained: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run, data = trained
    out = tmp_path / "pred.csv"
    out.write_text("yesterday's predictions\n")
    code, err = _run(["predict", str(run), str(data), "--out", str(out)], capsys)
    assert code == 2 and "already exists" in err and "--overwrite" in err
    assert out.read_text() == "yesterday's predictions\n"
    code, _ = _run(["predict", str(run), str(data), "--out", str(out), "--overwrite"], capsys)
    assert code == 0 and out.read_text().splitlines()[0].startswith("row,p_label")


def test_plot_loss_out_existing_file_or_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png = tmp_path / "focal.png"
    png.write_bytes(b"not yours to replace")
    code, err = _run(["plot-loss", "--loss", "focal", "--out", str(png)], capsys)
    assert code == 2 and "already exists" in err and png.read_bytes() == b"not yours to replace"
    code, err = _run(["plot-loss", "--loss", "focal", "--out", str(tmp_path)], capsys)
    assert code == 2 and "is a folder" in err
    code, _ = _run(["plot-loss", "--loss", "focal", "--out", str(png), "--overwrite"], capsys)
    assert code == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_loss_never_writes_into_a_run(
    trained: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    run, _ = trained
    before = _snapshot(run)
    code, err = _run(["plot-loss", "--out", str(run / "report.html"), "--overwrite"], capsys)
    assert code == 2 and "inside the run directory" in err and _snapshot(run) == before


def test_export_out_a_file_an_existing_export_or_the_run(
    trained: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run, _ = trained
    a_file = tmp_path / "serving"
    a_file.write_text("a file")
    code, err = _run(["export", str(run), "--out", str(a_file)], capsys)
    assert code == 2 and "is a file" in err and a_file.read_text() == "a file"
    folder = tmp_path / "exported"
    folder.mkdir()
    (folder / "model.onnx").write_bytes(b"an older export")
    code, err = _run(["export", str(run), "--out", str(folder)], capsys)
    assert (
        code == 2 and "already exists" in err and (folder / "model.onnx").read_bytes() == b"an older export"
    )
    before = _snapshot(run)
    for target in (run, run / "onnx"):
        code, err = _run(["export", str(run), "--out", str(target), "--overwrite"], capsys)
        assert code == 2 and "inside the run directory" in err
    assert _snapshot(run) == before and not (run / "onnx").exists()


def test_check_output_file_through_a_symlinked_folder_into_a_run(
    trained: tuple[Path, Path], tmp_path: Path
) -> None:
    from logitlab.errors import ConfigError

    run, _ = trained
    (tmp_path / "alias").symlink_to(run, target_is_directory=True)
    with pytest.raises(ConfigError, match="inside the run directory") as info:
        outputs.check_output_file(tmp_path / "alias" / "x.csv", overwrite=True)
    assert info.value.code == "out-in-run"


def test_out_through_a_broken_link_names_the_link(
    trained: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run, data = trained
    (tmp_path / "gone").symlink_to(tmp_path / "nowhere", target_is_directory=True)
    assert cli.main(["predict", str(run), str(data), "--out", str(tmp_path / "gone" / "p.csv")]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'gone'} is a symbolic link to {tmp_path / 'nowhere'}, which does not exist" in err
    assert not (tmp_path / "nowhere").exists()


# ---- failures while writing: exit 2, one message, nothing half-written ------------------------------
def _no_space_for(monkeypatch: pytest.MonkeyPatch, needle: str, folder: Path | None = None) -> None:
    """``fsync`` fails with ENOSPC for temporary files whose name holds ``needle`` (what a full disk does).

    With ``folder``, only for files directly in it (the run's own files, not its checkpoints').
    """
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        name = os.readlink(f"/proc/self/fd/{fd}") if os.path.exists(f"/proc/self/fd/{fd}") else ""
        here = folder is None or os.path.dirname(name) == str(folder)
        temporary = name.endswith((TEMP_SUFFIX, ".pending.safetensors"))  # the model's own temp name too
        if here and needle in os.path.basename(name) and temporary:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to name a descriptor's file")
@pytest.mark.parametrize(
    ("needle", "top"),
    [
        (".safetensors", True),  # the model's weights
        ("model.json", True),
        (".png.", False),  # a plot
        # the files written late in a run: each case trains the whole run twice
        pytest.param("report.html", True, marks=pytest.mark.slow),
        pytest.param("config.json", True, marks=pytest.mark.slow),
        pytest.param("metrics.csv", True, marks=pytest.mark.slow),
        pytest.param(
            "model.safetensors", False, marks=pytest.mark.slow
        ),  # a checkpoint's weights (the first)
        pytest.param("last.json", False, marks=pytest.mark.slow),  # the checkpoint pointer
    ],
)
def test_disk_full_while_training_writes_ends_in_exit_2(
    tmp_path: Path,
    train: Callable[..., tuple[int, str]],
    monkeypatch: pytest.MonkeyPatch,
    needle: str,
    top: bool,
) -> None:
    out = tmp_path / "run"
    _no_space_for(monkeypatch, needle, out if top else None)
    code, err = train(out)
    assert code == 2, err
    assert "No space left on device" in err and "Fix:" in err and err.count("Error:") == 1
    assert _temp_files(out) == []  # nothing half-written
    assert run_dir.read_manifest(out)["state"] == "running"  # type: ignore[index]  # not marked complete
    monkeypatch.undo()
    checkpointed = (out / "checkpoints" / "last.json").is_file()
    code, err = train(out)
    if checkpointed:  # trained and checkpointed: resume or start over
        assert code == 2 and "interrupted run" in err and "--resume" in err and "--overwrite" in err
    else:  # failed before its first checkpoint: nothing to keep, the same command just trains
        assert code == 0 and run_dir.read_manifest(out)["state"] == "complete", err  # type: ignore[index]


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to name a descriptor's file")
def test_disk_full_while_writing_predictions_keeps_the_old_file(
    trained: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run, data = trained
    out = tmp_path / "pred.csv"
    out.write_text("old\n")
    _no_space_for(monkeypatch, "pred.csv")
    code, err = _run(["predict", str(run), str(data), "--out", str(out), "--overwrite"], capsys)
    assert code == 2 and "No space left on device" in err and "Fix:" in err
    assert out.read_text() == "old\n" and _temp_files(tmp_path) == []


def _must_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("the data (or the model) was read before the output was checked")

    from logitlab.workflows import saved, training

    monkeypatch.setattr(training, "load_data", fail)
    monkeypatch.setattr(saved, "_saved_run", fail)


def test_unwritable_out_is_refused_before_the_data_is_read(
    trained: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An --out below a regular file cannot be created, whoever runs (root too): exit 2 before any read."""
    run, data = trained
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    _must_not_read(monkeypatch)
    for argv in (
        ["train", str(data), "--target", "label", "--out", str(blocker / "run"), *TRAIN],
        ["predict", str(run), str(data), "--out", str(blocker / "p.csv")],
        ["export", str(run), "--out", str(blocker / "onnx")],
        ["plot-loss", "--out", str(blocker / "p.png")],
    ):
        code, err = _run(argv, capsys)
        assert code == 2 and "Not a directory" in err and "Fix:" in err, (argv, err)
    assert blocker.read_text() == "x"


def test_read_only_out_is_refused_before_the_data_is_read(
    trained: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A read-only folder (EROFS from the first file created in it; root ignores chmod) gives exit 2 first."""
    run, data = trained
    ro = tmp_path / "ro"
    ro.mkdir()
    real_open = os.open

    def read_only_open(path: str | os.PathLike[str], flags: int, *args: int, **kwargs: int) -> int:
        if str(path).startswith(str(ro)) and flags & os.O_CREAT:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only_open)
    _must_not_read(monkeypatch)
    for argv in (
        ["train", str(data), "--target", "label", "--out", str(ro / "run"), *TRAIN],
        ["predict", str(run), str(data), "--out", str(ro / "p.csv")],
        ["export", str(run), "--out", str(ro)],
        ["plot-loss", "--out", str(ro / "p.png")],
    ):
        code, err = _run(argv, capsys)
        assert code == 2 and "Read-only file system" in err and "writable" in err, (argv, err)
    assert [p.name for p in ro.rglob("*") if p.is_file()] == []


def test_train_that_fails_on_its_data_leaves_nothing_and_blocks_nothing(
    tmp_path: Path, train: Callable[..., tuple[int, str]]
) -> None:
    out = tmp_path / "run"
    code, err = train(out, target="nope")
    assert code == 2 and "nope" in err and not out.exists()  # the folder it made is gone again
    code, _ = train(out)
    assert code == 0


def test_output_error_is_an_os_error_with_a_fix() -> None:
    with pytest.raises(OutputError) as info, files.output_errors("/somewhere"):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert isinstance(info.value, OSError) and info.value.code == "write-failed"
    assert "free disk space" in (info.value.fix or "")
    with pytest.raises(FileNotFoundError), files.output_errors("/somewhere"):  # an input's error stays
        raise FileNotFoundError(errno.ENOENT, "No such file", "/elsewhere/data.csv")


def test_predict_and_evaluate_refuse_a_run_being_written_or_interrupted(
    trained: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run whose manifest is not ``complete`` (a ``train --overwrite`` under way, or killed) is not read:
    its ``model.json`` and ``config.json`` may be of two runs. Also when the train starts between the reads."""
    from logitlab.estimator import Classifier

    run, data = trained
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    manifest = run_dir.read_manifest(copy)
    assert manifest is not None and manifest["state"] == "complete"
    run_dir.start_run(copy, {k: v for k, v in manifest.items() if k not in ("format", "version", "state")})
    for argv in (
        ["predict", str(copy), str(data), "--out", str(tmp_path / "p.csv")],
        ["evaluate", str(copy), str(data)],
    ):
        code, err = _run(argv, capsys)
        assert code == 2 and "not finished" in err and "--resume" in err, err
    assert not (tmp_path / "p.csv").exists()
    run_dir.finish_run(copy)
    assert _run(["evaluate", str(copy), str(data)], capsys)[0] == 0

    load = Classifier.load.__func__  # type: ignore[attr-defined]

    def load_then_a_train_starts(cls: type[Classifier], path: object) -> Classifier:
        clf = load(cls, path)
        run_dir.start_run(copy, {"command": "train"})  # between the model and config.json
        return clf

    monkeypatch.setattr(Classifier, "load", classmethod(load_then_a_train_starts))
    code, err = _run(["evaluate", str(copy), str(data)], capsys)
    assert code == 2 and "not finished" in err, err
