"""Every plot function writes a real, non-empty PNG; the loss figure's gradients match the formula."""

import csv
import os
import stat

import numpy as np
import pytest
import torch
from PIL import Image

from logitlab.errors import ConfigError
from logitlab.evaluate import tune_thresholds
from logitlab.losses import make_loss
from logitlab.report import _training_plots, plots
from logitlab.tasks import Task

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _check_png(path, min_size=(200, 150)):
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, path
    with Image.open(path) as im:
        assert im.format == "PNG"
        assert im.size[0] >= min_size[0] and im.size[1] >= min_size[1], im.size
        extrema = im.convert("L").getextrema()
    assert extrema[0] < extrema[1]  # not a blank canvas
    assert not list(path.parent.glob(f".{path.name}.*.tmp"))  # atomic write left no temporary file
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask  # the mode a plain open() gives


def _data(task):
    g = torch.Generator().manual_seed(0)
    if task == "binary":
        y = (torch.rand(150, 1, generator=g) < 0.2).long()
        return torch.randn(150, 1, generator=g) + 2 * y, y
    if task == "multilabel":
        y = (torch.rand(150, 3, generator=g) < torch.tensor([0.1, 0.3, 0.6])).long()
        return torch.randn(150, 3, generator=g) + 2 * y, y
    y = torch.randint(0, 4, (150,), generator=g)
    return torch.randn(150, 4, generator=g) + 2 * torch.nn.functional.one_hot(y, 4), y


@pytest.mark.parametrize("task", ["binary", "multilabel", pytest.param("multiclass", marks=pytest.mark.slow)])
def test_every_evaluation_plot_is_a_png(tmp_path, task):
    z, y = _data(task)
    th = tune_thresholds(z, y, task=task)
    names = ["a", "b", "c", "d"][: z.shape[1]]
    kw = {"task": task, "label_names": names}
    paths = [
        plots.plot_pr_curves(z, y, tmp_path / "pr.png", thresholds=th, **kw),
        plots.plot_roc_curves(z, y, tmp_path / "roc.png", thresholds=th, **kw),
        plots.plot_confusion_matrix(z, y, tmp_path / "cm.png", thresholds=th, **kw),
        plots.plot_reliability(z, y, tmp_path / "rel.png", task=task),
        plots.plot_logit_histograms(z, y, tmp_path / "hist.png", **kw),
    ]
    for path in paths:
        _check_png(path)


def test_training_curves_from_history_and_from_metrics_csv(tmp_path):
    rows = [{"epoch": e, "train_loss": 1 / (e + 1), "val_loss": 1.2 / (e + 1), "lr": 1e-3 * 0.5**e,
             "val_f1": 0.5 + 0.1 * e} for e in range(4)]  # fmt: skip
    _check_png(plots.plot_training_curves(rows, tmp_path / "a.png"))
    with open(tmp_path / "metrics.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    _check_png(plots.plot_training_curves(tmp_path / "metrics.csv", tmp_path / "b.png"))


@pytest.mark.parametrize(
    ("task", "name", "options"),
    [
        ("binary", "bce", {"pos_weight": 3.0}),
        ("binary", "focal", {"gamma": 2.0}),
        ("multilabel", "asymmetric", {"clip": 0.05}),
        ("multiclass", "ce", {"label_smoothing": 0.1}),
    ],
)
def test_loss_curves_png(tmp_path, task, name, options):
    try:
        make_loss(task, name, **{k: v for k, v in options.items() if k != "pos_weight"})
    except ConfigError as exc:
        pytest.skip(f"loss option not available in this build of logitlab.losses: {exc}")
    _check_png(plots.plot_loss_curves(tmp_path / "loss.png", task=task, name=name, **options))


def test_loss_gradient_is_autograd_of_the_loss_module():
    z = torch.linspace(-6, 6, 61)
    loss_fn = make_loss("binary", "bce", reduction="none", pos_weight=torch.tensor([3.0]))
    for y in (0.0, 1.0):
        loss, grad = _training_plots._loss_and_grad(Task.BINARY, loss_fn, z, y)
        zz = z.double().numpy()
        p = 1 / (1 + np.exp(-zz))
        ref_loss = -(3.0 * y * np.log(p) + (1 - y) * np.log1p(-p))
        ref_grad = 3.0 * y * (p - 1) + (1 - y) * p  # d/dz of the weighted BCE
        assert np.allclose(loss, ref_loss, atol=1e-5)
        assert np.allclose(grad, ref_grad, atol=1e-5)


def test_plot_all_names_and_bad_range(tmp_path):
    z, y = _data("multilabel")
    paths = plots.plot_all(tmp_path, z, y, task="multilabel", history=[{"epoch": 0, "train_loss": 1.0}])
    assert list(paths) == ["training_curves", "pr_curves", "roc_curves", "confusion_matrix", "reliability",
                           "logit_histograms"]  # fmt: skip
    with pytest.raises(ConfigError, match="logit_range"):
        plots.plot_loss_curves(tmp_path / "x.png", logit_range=0)


@pytest.mark.parametrize("task", ["binary", pytest.param("multilabel", marks=pytest.mark.slow), "multiclass"])
def test_reliability_before_and_after_calibration(tmp_path, task):
    from logitlab.evaluate import calibrate
    from logitlab.report._plotdata import reliability_panels

    z, y = _data(task)
    z = 3 * z + 1  # overconfident and shifted: calibration moves the curve
    cal = calibrate(z, y, task=task)
    path = plots.plot_reliability(
        z, y, tmp_path / "rel.png", task=task, calibration=cal, label_names=list("abcd")
    )
    _check_png(path)
    panels = reliability_panels(z, y, Task(task), cal, 15)
    assert len(panels) == (1 if task != "multilabel" else 3)
    assert [c[0] for c in panels[0]] == ["uncalibrated", "calibrated"]
    if task != "multiclass":
        # as drawn: equal-mass bins; the reference is the ECE of consecutive runs of the sorted probabilities
        drawn = reliability_panels(z, y, Task(task), None, None)
        probs = torch.sigmoid(z.double()).reshape(len(z), -1).numpy()
        truth = y.reshape(len(y), -1).double().numpy()
        for j, panel in enumerate(drawn):
            _, bins, ece = panel[0]
            order = np.argsort(probs[:, j], kind="stable")
            bounds = np.cumsum([0, *bins["count"].int().tolist()])
            gaps = [abs(probs[order[a:b], j].mean() - truth[order[a:b], j].mean()) * (b - a)
                    for a, b in zip(bounds[:-1], bounds[1:]) if b > a]  # fmt: skip
            assert ece == pytest.approx(sum(gaps) / len(z), abs=1e-9)
    paths = plots.plot_all(tmp_path / "all", z, y, task=task, calibration=cal)
    _check_png(paths["reliability"])
