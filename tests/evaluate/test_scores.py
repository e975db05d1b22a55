"""The plain-torch scores behind compute_metrics against torchmetrics (their reference), edge cases included."""

import math

import pytest
import torch
import torchmetrics.functional.classification as tmf

from logitlab.evaluate import _scores, compute_metrics, rank_auroc

AVERAGES = ("micro", "macro", "weighted", "none")


def _close(ours, ref):
    torch.testing.assert_close(torch.as_tensor(ours, dtype=torch.float64), ref.double(), rtol=1e-6, atol=1e-9)


def _tied_scores(n, seed):
    g = torch.Generator().manual_seed(seed)
    return (
        torch.rand(n, generator=g, dtype=torch.float64) * 8
    ).round() / 8  # many ties, 0.0 and 1.0 included


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_binary_ranking_and_calibration_scores_match_torchmetrics(seed):
    p = _tied_scores(300, seed)
    y = (torch.rand(300, generator=torch.Generator().manual_seed(seed + 10)) < p).long()
    _close(_scores.average_precision(p[None], y[None])[0], tmf.binary_average_precision(p, y))
    _close(rank_auroc(p[None], y[None].double())[0], tmf.binary_auroc(p, y))
    for n_bins in (1, 7, 15):
        _close(
            _scores.calibration_error(p, y, n_bins=n_bins), tmf.binary_calibration_error(p, y, n_bins=n_bins)
        )


@pytest.mark.parametrize("seed", [0, 1])
def test_multiclass_counts_and_averages_match_torchmetrics(seed):
    g = torch.Generator().manual_seed(seed)
    c = 6
    y = torch.randint(0, 4, (200,), generator=g)  # classes 4 and 5 never occur in the targets
    preds = torch.where(torch.rand(200, generator=g) < 0.6, y, torch.randint(0, 5, (200,), generator=g))
    preds[preds == 3] = 2  # class 3 is never predicted; class 5 is absent from both
    oh = torch.nn.functional.one_hot
    tp, fp, fn, _ = _scores.counts(oh(preds, c), oh(y, c))
    refs = {
        "precision": tmf.multiclass_precision,
        "recall": tmf.multiclass_recall,
        "f1": tmf.multiclass_f1_score,
    }
    for avg in AVERAGES:
        ours = _scores.prf(tp, fp, fn, avg, multilabel=False)
        for name, fn_ref in refs.items():
            _close(ours[name], fn_ref(preds, y, num_classes=c, average=avg))
    probs = torch.softmax(torch.randn(200, c, generator=g, dtype=torch.float64) + 2 * oh(y, c), 1)
    conf, top1 = probs.max(1)
    _close(
        _scores.calibration_error(conf, top1 == y), tmf.multiclass_calibration_error(probs, y, num_classes=c)
    )
    ap_ref = tmf.multiclass_average_precision(probs, y, num_classes=c, average="none")
    _close(_scores.average_precision(probs.T, oh(y, c).T.double())[:4], ap_ref[:4])


def test_multilabel_counts_and_averages_match_torchmetrics():
    g = torch.Generator().manual_seed(5)
    y = (torch.rand(150, 4, generator=g) < torch.tensor([0.0, 0.2, 0.5, 1.0])).long()  # label 0: no positives
    preds = (torch.rand(150, 4, generator=g) < 0.4).long()
    preds[:, 1] = 0  # label 1 is never predicted
    tp, fp, fn, _ = _scores.counts(preds, y)
    refs = {
        "precision": tmf.multilabel_precision,
        "recall": tmf.multilabel_recall,
        "f1": tmf.multilabel_f1_score,
    }
    for avg in AVERAGES:
        ours = _scores.prf(tp, fp, fn, avg, multilabel=True)
        for name, fn_ref in refs.items():
            _close(ours[name], fn_ref(preds, y, num_labels=4, average=avg))


def test_compute_metrics_agrees_with_torchmetrics_end_to_end():
    g = torch.Generator().manual_seed(7)
    y = torch.randint(0, 5, (250,), generator=g)
    z = torch.randn(250, 5, generator=g) + 1.5 * torch.nn.functional.one_hot(y, 5)
    m = compute_metrics(z, y, task="multiclass")
    probs, preds = torch.softmax(z.double(), 1), z.argmax(1)
    assert m["top_3_accuracy"] == pytest.approx(
        float(tmf.multiclass_accuracy(probs, y, num_classes=5, top_k=3, average="micro"))
    )
    assert m["balanced_accuracy"] == pytest.approx(float(tmf.multiclass_recall(preds, y, num_classes=5)))
    assert m["confusion_matrix"] == tmf.multiclass_confusion_matrix(preds, y, num_classes=5).tolist()
    assert m["roc_auc"] == pytest.approx(float(tmf.multiclass_auroc(probs, y, num_classes=5)))


def test_empty_and_degenerate_inputs_are_nan_not_errors():
    assert math.isnan(float(_scores.calibration_error(torch.zeros(0), torch.zeros(0))))
    assert math.isnan(float(_scores.average_precision(torch.tensor([[0.2, 0.7]]), torch.tensor([[0, 0]]))[0]))
    assert float(_scores.safe_divide(torch.tensor(3), torch.tensor(0))) == 0.0
