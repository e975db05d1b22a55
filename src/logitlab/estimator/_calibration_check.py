"""Whether ``calibration="auto"``'s fitted map helps on rows it was not fitted on; if not, it is not used.

The map is fitted on the calibration rows (the pooled out-of-fold logits when cross-fitting, else the second
half of the validation split), so its log-loss there is in-sample. :func:`judged_out_of_sample` refits it
:data:`~logitlab.options.CALIBRATION_CHECK_FOLDS` times, each time on all folds but one of those rows, scores
each fit on its left-out fold, and compares the pooled log-loss with that of the map that needs no fitting
(the prior correction of the imbalance weights, or the raw activation). The fitted map is kept only where it
is lower there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ..options import CALIBRATION_CHECK_FOLDS

__all__ = ["judged_out_of_sample"]


def judged_out_of_sample(
    fitted: Any,
    baseline: Any,
    fit: Callable[[Any, Any], Any],
    logits: Any,
    targets: Any,
    *,
    task: str,
    seed: int,
) -> tuple[Any, dict[str, Any]]:
    """``(the map to use, what was measured)``: ``fitted`` where its cross-validated log-loss beats ``baseline``'s.

    Args:
        fitted (Calibration): the map fitted on all of ``logits``.
        baseline (Calibration or None): the map that needs no data (``None``: the raw activation).
        fit (callable): ``fit(logits, targets) -> Calibration``, the same fit on a subset.
        logits (Tensor): the calibration rows' logits.
        targets (Tensor): their targets.
        task (str): the task.
        seed (int): shuffles the rows into folds.

    Returns:
        (Calibration or None, dict): the map, and ``rows``, ``folds``, ``without`` (the baseline's log-loss),
        ``with`` (the fitted map's, each fold scored by a fit on the other folds) and ``kept`` (bool).
    """
    from ..evaluate import calibration_metrics

    z = torch.as_tensor(logits)
    y = torch.as_tensor(targets)
    n = len(z)
    folds = min(CALIBRATION_CHECK_FOLDS, n // 2)
    if folds < 2:
        return fitted, {}
    order = np.random.default_rng(seed).permutation(n)
    part = np.empty(n, np.int64)
    part[order] = np.arange(n) % folds
    total = 0.0
    for k in range(folds):
        held = torch.from_numpy(np.flatnonzero(part == k))
        rest = torch.from_numpy(np.flatnonzero(part != k))
        cal = fit(z[rest], y[rest])
        total += len(held) * calibration_metrics(z[held], y[held], task=task, calibration=cal)["log_loss"]
    with_map = total / n
    without = calibration_metrics(z, y, task=task, calibration=baseline)["log_loss"]
    kept = with_map < without
    measured = {"rows": n, "folds": folds, "without": without, "with": with_map, "kept": kept}
    return (fitted if kept else baseline), measured
