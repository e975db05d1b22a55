"""compute_metrics against scikit-learn on the same inputs, ECE against a float64 formula."""

import math

import numpy as np
import pytest
import torch
from sklearn import metrics as skm

from logitlab.errors import DataError, LogitlabWarning, TargetError
from logitlab.evaluate import (
    MetricAccumulator,
    Thresholds,
    classification_report,
    compute_metrics,
    multilabel_calibration_error,
)

N_BINS = 15


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _softmax(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def _ece(conf, correct, n_bins=N_BINS):
    """Float64 reference: equal-width bins (lo, hi], weighted |mean confidence - frequency|."""
    conf, correct = np.asarray(conf, np.float64), np.asarray(correct, np.float64)
    edges = np.linspace(0, 1, n_bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (conf > lo) & (conf <= hi) if lo > 0 else (conf >= lo) & (conf <= hi)
        if m.any():
            total += m.mean() * abs(conf[m].mean() - correct[m].mean())
    return total


def _binary_data(n=400, seed=1):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(np.int64)
    z = rng.normal(size=n) + 1.5 * y - 0.5
    return z, y


def _multilabel_data(n=500, seed=2):
    rng = np.random.default_rng(seed)
    prevalence = np.array([0.05, 0.2, 0.5, 0.8])
    y = (rng.random((n, 4)) < prevalence).astype(np.int64)
    z = rng.normal(size=(n, 4)) * 1.3 + 2.0 * y - 1.0
    return z, y


def _multiclass_data(n=600, c=5, seed=3):
    rng = np.random.default_rng(seed)
    y = rng.choice(c, size=n, p=[0.4, 0.25, 0.2, 0.1, 0.05])
    z = rng.normal(size=(n, c))
    z[np.arange(n), y] += 1.2
    return z, y


@pytest.mark.parametrize("threshold", [None, 0.3])
def test_binary_matches_sklearn(threshold):
    z, y = _binary_data()
    th = Thresholds("binary", [threshold]) if threshold is not None else None
    m = compute_metrics(torch.tensor(z).float().unsqueeze(1), torch.tensor(y), task="binary", thresholds=th)
    p = _sigmoid(torch.tensor(z).float().double().numpy())
    pred = (p >= (threshold or 0.5)).astype(int)
    prec, rec, f1, _ = skm.precision_recall_fscore_support(y, pred, average="binary")
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred), abs=1e-6)
    assert (m["precision"], m["recall"], m["f1"]) == pytest.approx((prec, rec, f1), abs=1e-6)
    assert m["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred), abs=1e-6)
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p), abs=1e-6)
    assert m["average_precision"] == pytest.approx(skm.average_precision_score(y, p), abs=1e-6)
    assert m["confusion_matrix"] == skm.confusion_matrix(y, pred).tolist()
    assert m["brier"] == pytest.approx(skm.brier_score_loss(y, p), abs=1e-9)
    assert m["ece"] == pytest.approx(_ece(p, y), abs=1e-6)
    assert m["support"] == int(y.sum()) and m["n"] == len(y)
    assert m["threshold"] == (threshold or 0.5)


def test_binary_accepts_n_and_n1_shapes_alike():
    z, y = _binary_data()
    a = compute_metrics(torch.tensor(z), torch.tensor(y), task="binary")
    b = compute_metrics(torch.tensor(z)[:, None], torch.tensor(y)[:, None].float(), task="binary")
    assert a == b


def test_multilabel_matches_sklearn():
    z, y = _multilabel_data()
    thr = [0.5, 0.3, 0.6, 0.45]
    m = compute_metrics(
        torch.tensor(z), torch.tensor(y), task="multilabel", thresholds=Thresholds("multilabel", thr)
    )
    p = _sigmoid(z)
    pred = (p >= np.array(thr)).astype(int)
    assert m["subset_accuracy"] == pytest.approx(skm.accuracy_score(y, pred), abs=1e-6)
    assert m["hamming_loss"] == pytest.approx(skm.hamming_loss(y, pred), abs=1e-6)
    assert m["accuracy"] == pytest.approx(1 - skm.hamming_loss(y, pred), abs=1e-6)
    for avg in ("micro", "macro", "weighted"):
        ref = skm.precision_recall_fscore_support(y, pred, average=avg, zero_division=0)[:3]
        got = (m[f"precision_{avg}"], m[f"recall_{avg}"], m[f"f1_{avg}"])
        assert got == pytest.approx(ref, abs=1e-6), avg
    prec, rec, f1, support = skm.precision_recall_fscore_support(y, pred, average=None, zero_division=0)
    assert m["precision_per_label"] == pytest.approx(prec, abs=1e-6)
    assert m["recall_per_label"] == pytest.approx(rec, abs=1e-6)
    assert m["f1_per_label"] == pytest.approx(f1, abs=1e-6)
    assert m["support_per_label"] == support.tolist()
    assert m["roc_auc_per_label"] == pytest.approx(skm.roc_auc_score(y, p, average=None), abs=1e-6)
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p, average="macro"), abs=1e-6)
    assert m["average_precision_per_label"] == pytest.approx(
        skm.average_precision_score(y, p, average=None), abs=1e-6
    )
    assert m["average_precision"] == pytest.approx(skm.average_precision_score(y, p), abs=1e-6)
    assert m["confusion_matrices"] == skm.multilabel_confusion_matrix(y, pred).tolist()
    ece = [_ece(p[:, j], y[:, j]) for j in range(4)]
    assert m["ece_per_label"] == pytest.approx(ece, abs=1e-6)
    assert m["ece"] == pytest.approx(np.mean(ece), abs=1e-6)
    assert m["threshold_per_label"] == thr


def test_multilabel_degenerate_label_is_nan_and_left_out_of_the_macro():
    z, y = _multilabel_data()
    y[:, 0] = 0
    y[:, 3] = 1
    m = compute_metrics(torch.tensor(z), torch.tensor(y), task="multilabel", label_names=list("abcd"))
    assert math.isnan(m["roc_auc_per_label"][0]) and math.isnan(m["roc_auc_per_label"][3])
    assert math.isnan(m["average_precision_per_label"][0])
    p = _sigmoid(z)
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y[:, 1:3], p[:, 1:3]), abs=1e-6)
    assert m["average_precision_per_label"][3] == pytest.approx(1.0)
    assert m["label_names"] == list("abcd")


def test_multiclass_matches_sklearn():
    z, y = _multiclass_data()
    bias = [0.0, 0.2, 0.0, 0.5, 1.0]
    m = compute_metrics(
        torch.tensor(z), torch.tensor(y), task="multiclass", thresholds=Thresholds("multiclass", bias)
    )
    p = _softmax(z)
    pred = (z + np.array(bias)).argmax(1)
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred), abs=1e-6)
    assert m["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred), abs=1e-6)
    for avg in ("micro", "macro", "weighted"):
        ref = skm.precision_recall_fscore_support(y, pred, average=avg, zero_division=0)[:3]
        assert (m[f"precision_{avg}"], m[f"recall_{avg}"], m[f"f1_{avg}"]) == pytest.approx(ref, abs=1e-6), (
            avg
        )
    f1 = skm.f1_score(y, pred, average=None, zero_division=0)
    assert m["f1_per_class"] == pytest.approx(f1, abs=1e-6)
    assert m["roc_auc"] == pytest.approx(
        skm.roc_auc_score(y, p, multi_class="ovr", average="macro"), abs=1e-6
    )
    onehot = np.eye(5)[y]
    assert m["average_precision_per_class"] == pytest.approx(
        skm.average_precision_score(onehot, p, average=None), abs=1e-6
    )
    assert m["confusion_matrix"] == skm.confusion_matrix(y, pred).tolist()
    for k in (2, 3):
        assert m[f"top_{k}_accuracy"] == pytest.approx(skm.top_k_accuracy_score(y, p, k=k), abs=1e-6)
    assert "top_5_accuracy" not in m  # k must be below C
    assert m["ece"] == pytest.approx(_ece(p.max(1), p.argmax(1) == y), abs=1e-6)
    assert m["support_per_class"] == np.bincount(y, minlength=5).tolist()


def test_multiclass_one_hot_targets_are_converted_loudly():
    z, y = _multiclass_data(n=50)
    with pytest.warns(LogitlabWarning, match="argmax"):
        m = compute_metrics(torch.tensor(z), torch.eye(5)[y], task="multiclass")
    assert m == compute_metrics(torch.tensor(z), torch.tensor(y), task="multiclass")


def test_no_range_guessing_probability_looking_logits_are_still_logits():
    # logits inside [0, 1] must still go through sigmoid (torchmetrics alone would take them as probabilities)
    z = torch.tensor([0.1, 0.2, 0.3, 0.9])
    m = compute_metrics(z, torch.tensor([0, 0, 1, 1]), task="binary")
    assert m["accuracy"] == 0.5  # sigmoid(z) >= 0.5 everywhere -> all predicted positive
    assert m["brier"] == pytest.approx(
        float(((torch.sigmoid(z.double()) - torch.tensor([0, 0, 1, 1])) ** 2).mean())
    )


def test_multilabel_ece_matches_formula_directly():
    rng = np.random.default_rng(5)
    p = rng.random((300, 3))
    y = (rng.random((300, 3)) < p**2).astype(int)
    got = multilabel_calibration_error(torch.tensor(p), torch.tensor(y), n_bins=10, average="none")
    assert got.tolist() == pytest.approx([_ece(p[:, j], y[:, j], 10) for j in range(3)], abs=1e-9)


def test_accumulator_over_batches_equals_one_call():
    z, y = _multilabel_data()
    acc = MetricAccumulator("multilabel", label_names=list("abcd"))
    for part in np.array_split(np.arange(len(y)), 3):
        acc.update(torch.tensor(z[part]).float(), torch.tensor(y[part]))
    got = acc.compute()
    ref = compute_metrics(
        torch.tensor(z).float(), torch.tensor(y), task="multilabel", label_names=list("abcd")
    )
    assert got == ref


def test_classification_report_lists_labels_and_averages():
    z, y = _multiclass_data(n=100)
    text = classification_report(
        torch.tensor(z), torch.tensor(y), task="multiclass", label_names=list("vwxyz")
    )
    ref = skm.classification_report(y, z.argmax(1), digits=3, zero_division=0)
    assert text.split("macro avg")[1].split()[:4] == ref.split("macro avg")[1].split()[:4]
    assert text.split("weighted avg")[1].split()[:4] == ref.split("weighted avg")[1].split()[:4]
    for name in "vwxyz":
        assert f"\n{name}" in text.replace(" ", "")


def test_bad_inputs_raise_with_the_fix():
    with pytest.raises(TargetError, match="shaped like the logits"):
        compute_metrics(torch.zeros(4, 3), torch.zeros(4, 2), task="multilabel")
    with pytest.raises(TargetError, match="hard 0/1"):
        compute_metrics(torch.zeros(4), torch.tensor([0.2, 1, 0, 1]), task="binary")
    with pytest.raises(TargetError, match=r"class indices in \[0, 3\)"):
        compute_metrics(torch.zeros(2, 3), torch.tensor([0, 3]), task="multiclass")
    with pytest.raises(DataError, match="finite logits"):
        compute_metrics(torch.tensor([0.0, float("nan")]), torch.tensor([0, 1]), task="binary")
    with pytest.raises(DataError, match="shaped"):
        compute_metrics(torch.zeros(4, 2), torch.zeros(4), task="binary")


def _ddp_worker(rank, world, port, z, y, out):
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    try:
        acc = MetricAccumulator("multiclass")
        rows = np.arange(rank, len(y), world) if rank == 0 else np.arange(rank, len(y) - 3, world)  # uneven
        acc.update(torch.tensor(z[rows]).float(), torch.tensor(y[rows]))
        out[rank] = acc.compute()
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
@pytest.mark.distributed
def test_accumulator_syncs_across_two_processes():
    import socket

    import torch.multiprocessing as mp

    z, y = _multiclass_data(n=101)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    manager = mp.Manager()
    out = manager.dict()
    mp.spawn(_ddp_worker, args=(2, port, z, y, out), nprocs=2, join=True)
    seen = np.concatenate([np.arange(0, 101, 2), np.arange(1, 101 - 3, 2)])
    ref = compute_metrics(torch.tensor(z[seen]).float(), torch.tensor(y[seen]), task="multiclass")
    for rank in (0, 1):
        got = dict(out[rank])
        assert got["n"] == len(seen)
        assert got["confusion_matrix"] == ref["confusion_matrix"]
        assert got["roc_auc"] == pytest.approx(ref["roc_auc"], abs=1e-6)
