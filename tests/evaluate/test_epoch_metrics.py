"""Epoch metrics (the trainer's per-epoch ``val_*`` columns) against the torchmetrics-based compute_metrics."""

import numpy as np
import pytest
import torch

from logitlab.evaluate import compute_metrics, epoch_metrics


@pytest.mark.parametrize(
    ("task", "keys"),
    [
        ("binary", ("roc_auc", "f1")),
        ("multilabel", ("roc_auc", "f1_macro")),
        ("multiclass", ("accuracy", "f1_macro")),
    ],
)
def test_epoch_metrics_agree_with_compute_metrics(task, keys):

    g = torch.Generator().manual_seed(0)
    if task == "binary":
        z, y = torch.randn(50, 1, generator=g), (torch.rand(50, 1, generator=g) < 0.4).float()
    elif task == "multilabel":
        z, y = torch.randn(50, 3, generator=g), (torch.rand(50, 3, generator=g) < 0.4).float()
        y[:, 2] = 0.0  # no positives: ROC-AUC undefined, left out of the macro mean like compute_metrics
    else:
        z, y = torch.randn(50, 5, generator=g), torch.randint(0, 4, (50,), generator=g)
        z[:, 4] = -10.0  # a class neither in the targets nor predicted: left out of f1_macro
    z = torch.round(z * 2) / 2  # ties between positives and negatives count one half in ROC-AUC
    for logits in (z, torch.zeros_like(z)):  # constant logits: every score tied, ROC-AUC 0.5
        got = epoch_metrics(task)(logits, y)
        ref = compute_metrics(logits, y, task=task)
        assert set(got) == set(keys)
        for key in keys:
            assert got[key] == pytest.approx(ref[key], abs=1e-6), key
    nan = epoch_metrics(task)(torch.full_like(z, float("nan")), y)
    assert set(nan) == set(keys) and all(np.isnan(v) for v in nan.values())
