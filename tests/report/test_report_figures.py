"""The report's figures for people: equal-mass reliability bins with counts, every label's weight in a title."""

from __future__ import annotations

import numpy as np
import torch

from logitlab.evaluate import reliability_bins
from logitlab.report._training_plots import _option_text


def test_equal_mass_bins_hold_the_same_number_of_rows_and_their_true_frequencies():
    g = torch.Generator().manual_seed(0)
    p = torch.rand(86, generator=g) ** 3  # most rows near 0: equal-width bins would leave most bins empty
    y = (torch.rand(86, generator=g) < p).long()
    b = reliability_bins(p, y, n_bins=4, strategy="quantile")
    counts = b["count"].tolist()
    assert sum(counts) == 86 and max(counts) - min(counts) <= 1
    # the reference: rows sorted by probability, cut into consecutive runs of those sizes
    order = np.argsort(p.numpy(), kind="stable")
    start = 0
    for j, n in enumerate(map(int, counts)):
        rows = order[start : start + n]
        assert b["confidence"][j].item() == np.float64(p.numpy()[rows].astype(np.float64).mean())
        assert abs(b["frequency"][j].item() - y.numpy()[rows].mean()) < 1e-12
        start += n
    uniform = reliability_bins(p, y, n_bins=15)
    assert (uniform["count"] == 0).sum() > 0  # what equal-mass bins avoid


def test_a_multi_label_weight_title_names_every_label():
    text = _option_text("pos_weight", [19.0, 2.33, 1.0], ["rare", "mid", "half"])
    assert text == "pos_weight rare 19, mid 2.33, half 1 (curves: rare)"
    many = _option_text("pos_weight", list(range(1, 41)), None)
    assert many == "pos_weight 1 to 40 over 40 labels (curves: 0)"
    assert (
        _option_text("pos_weight", [3.0], None) == "pos_weight 3"
        and _option_text("gamma", 2.0, None) == "gamma 2.0"
    )
