"""report.html rendered by headless Chromium: sections present, every embedded image decoded."""

import os
import re
import shutil
import stat
import subprocess

import pytest
import torch

from logitlab.doctor import Finding, Report
from logitlab.evaluate import calibrate, calibration_metrics, compute_metrics, tune_thresholds
from logitlab.report import SECTIONS, ReportContent, terminal_summary, write_report

# after the load event, write each <img>'s decoded width into the DOM, which --dump-dom then prints
_PROBE = (
    '<script>window.addEventListener("load", () => {const d = document.createElement("div");'
    'd.id = "img-check"; d.textContent = [...document.images].map(i => i.naturalWidth).join(",");'
    "document.body.appendChild(d);});</script>"
)


@pytest.fixture(scope="session")
def chromium():
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:  # installed by the set-up (apt-get install -y chromium), never by a test
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    return exe


def _render(chromium, page, tmp_path):
    probe = page.with_name("probe.html")
    probe.write_text(
        page.read_text(encoding="utf-8").replace("</body>", _PROBE + "</body>"), encoding="utf-8"
    )
    cmd = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", probe.as_uri(),
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    widths = re.search(r'<div id="img-check">([^<]*)</div>', out.stdout)
    assert widths is not None, "the probe script did not run"
    sections = re.findall(r'<section id="([a-z]+)"', out.stdout)
    return [int(w) for w in widths.group(1).split(",") if w], sections, out.stdout


@pytest.fixture(scope="module")
def run_report(tmp_path_factory):
    run = tmp_path_factory.mktemp("run")
    g = torch.Generator().manual_seed(0)
    y = (torch.rand(200, 3, generator=g) < torch.tensor([0.05, 0.3, 0.5])).long()
    z = torch.randn(200, 3, generator=g) + 2 * y
    th = tune_thresholds(z, y, task="multilabel")
    findings = Report([Finding("imbalanced-labels", "warning", "label <a> is rare: 5%", "use pos_weight")])
    path = write_report(run, ReportContent(
        decisions={"task": "multilabel", "loss": "focal", "thresholds": th.to_dict()}, findings=findings,
        logits=z, targets=y, task="multilabel", thresholds=th, label_names=["<a>", "b", "c"],
        history=[{"epoch": e, "train_loss": 1 / (e + 1), "val_loss": 1.1 / (e + 1)} for e in range(3)],
        loss_config={"name": "focal", "gamma": 2.0}, title="test run",
    ))  # fmt: skip
    return path, compute_metrics(z, y, task="multilabel", thresholds=th, label_names=["<a>", "b", "c"])


@pytest.mark.slow
def test_report_renders_in_chromium_with_every_image_loaded(chromium, run_report, tmp_path):
    path, _ = run_report
    widths, sections, dom = _render(chromium, path, tmp_path)
    assert sections == list(SECTIONS)
    assert len(widths) == 7 and all(w > 0 for w in widths), widths  # 5 evaluation plots, training, loss
    assert "imbalanced-labels" in dom and "label &lt;a&gt; is rare" in dom  # escaped text, not markup


@pytest.mark.slow
def test_the_image_check_can_fail(chromium, run_report, tmp_path):
    path, _ = run_report
    broken = tmp_path / "broken.html"
    broken.write_text(
        path.read_text().replace("</section>", '<img src="data:image/png;base64,AAAA"></section>', 1)
    )
    widths, _, _ = _render(chromium, broken, tmp_path)
    assert 0 in widths


def test_report_is_self_contained_and_lists_the_metrics(run_report):
    path, metrics = run_report
    text = path.read_text()
    assert text.count('src="data:image/png;base64,') == 7
    assert not re.search(r'src="(?!data:)', text)  # nothing loaded from disk or network
    assert f"{metrics['f1_macro']:.4f}" in text and "subset_accuracy" in text
    assert "Classification report" in text and "Confusion matrix per label" in text
    assert (path.parent / "plots" / "pr_curves.png").is_file()
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask  # the mode a plain open() gives


def test_report_from_plain_dicts_only(tmp_path):
    path = write_report(tmp_path, ReportContent(
        decisions={"task": "binary"}, findings=[{"severity": "info", "code": "x", "message": "m", "fix": "f"}],
        metrics={"accuracy": 0.9, "roc_auc": float("nan")}, plots={},
    ))  # fmt: skip
    text = path.read_text()
    assert all(f'<section id="{s}">' in text for s in SECTIONS)
    assert "nan" in text and "No plots." in text


def test_terminal_summary_text():
    text = terminal_summary(
        {"accuracy": 0.91234, "f1_per_label": [0.1, 0.2], "n": 10}, decisions={"task": "binary"},
        findings=[{"severity": "warning", "code": "imbalanced-labels", "message": "rare", "fix": "weights"}],
        as_text=True,
    )  # fmt: skip
    assert "task: binary" in text and "imbalanced-labels" in text
    assert re.search(r"accuracy\s+0\.9123", text) and "f1_per_label" not in text


def test_report_with_a_calibration_shows_before_and_after(tmp_path):
    g = torch.Generator().manual_seed(1)
    y = (torch.rand(400, generator=g) < 0.1).long()
    z = 2 * torch.randn(400, generator=g) + 2 * y + 2.0  # a pos_weight's upward shift
    cal = calibrate(z[:200], y[:200], task="binary", pos_weight=9.0)
    th = tune_thresholds(
        cal.calibrated_logits(z[:200]), y[:200], task="binary"
    )  # tuned on the calibrated scale
    path = write_report(
        tmp_path,
        ReportContent(logits=z[200:], targets=y[200:], task="binary", thresholds=th, calibration=cal),
    )
    text = path.read_text()
    assert "<h3>Calibration</h3>" in text and "Method: platt." in text
    before = calibration_metrics(z[200:], y[200:], task="binary")
    after = calibration_metrics(z[200:], y[200:], task="binary", calibration=cal)
    assert after["ece"] < before["ece"] and after["brier"] < before["brier"]
    for value in (before["ece"], after["ece"], before["brier"], after["brier"], after["log_loss"]):
        assert f"{value:.4f}" in text
    calibrated = compute_metrics(z[200:], y[200:], task="binary", thresholds=th, calibration=cal)
    assert f"{calibrated['ece']:.4f}" in text  # the headline ECE is the calibrated one
    same = compute_metrics(cal.calibrated_logits(z[200:]), y[200:], task="binary", thresholds=th)
    assert calibrated["f1"] == same["f1"] and calibrated["threshold"] == th.values[0]
    assert f"{calibrated['f1']:.4f}" in text
    only_fit = write_report(tmp_path / "fit", ReportContent(calibration=cal)).read_text()
    assert "Method: platt." in only_fit and "On the rows it was fitted on (in-sample" in only_fit
    assert "which the map was not fitted on" in text and "which the map was not fitted on" not in only_fit


def test_decisions_given_as_python_dicts_render_as_key_value_tables_without_reprs(
    chromium, run_report, tmp_path
):
    from tests.cli.test_run_outputs import REPR, visible_text

    path, _ = run_report  # decisions={"thresholds": Thresholds.to_dict(), ...}: nested dicts and lists
    _, _, dom = _render(chromium, path, tmp_path)
    for text in (visible_text(path.read_text()), visible_text(dom)):
        assert "objective" in text and "values" in text  # the nested keys are shown, as a table
        assert not REPR.search(text), text[REPR.search(text).start() - 80 :][:160]
