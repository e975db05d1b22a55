"""The isotonic calibration map as arithmetic: linear between knots, the mean slope beyond the ends.

One function for both places that apply it: the fitted map (:class:`~logitlab.evaluate.Calibration`,
through ``_calmap``) and the ONNX graph (:mod:`logitlab.export.graph`). Only the knot search differs:
``torch.searchsorted`` (``O(N log K)``) by default, or, with ``count=True``, the number of knots ``<= z``
(``O(N K)``, but made of comparisons and a sum, which every ONNX runtime has; ``searchsorted`` has no
ONNX form). Both find the same segment, so both give the same float64 values.

Examples:
    >>> import torch
    >>> x, u = torch.tensor([-1.0, 0.0, 2.0], dtype=torch.float64), torch.tensor([-2.0, 0.0, 1.0], dtype=torch.float64)
    >>> z = torch.tensor([-3.0, -0.5, 1.0, 4.0], dtype=torch.float64)
    >>> piecewise_linear(z, x, u).tolist(), piecewise_linear(z, x, u, count=True).tolist()
    ([-4.0, -1.0, 0.5, 3.0], [-4.0, -1.0, 0.5, 3.0])
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["piecewise_linear"]


def piecewise_linear(z: Tensor, x: Tensor, u: Tensor, *, count: bool = False) -> Tensor:
    """Calibrated logits of ``z`` from knots ``(x, u)``: linear between knots, the mean slope beyond the ends.

    Inside ``[x[0], x[-1]]`` this is ``np.interp(z, x, u)``; below and above, the line through the end
    knot with the mean slope ``(u[-1] - u[0]) / (x[-1] - x[0])``, so the map stays strictly increasing.
    Monotone non-decreasing in float64 too: each segment's value is clamped to its knots' range.

    Args:
        z (Tensor[N] float64): raw logits of one label.
        x (Tensor[K] float64): the knots' raw logits, strictly increasing, ``K >= 2``.
        u (Tensor[K] float64): their calibrated logits, non-decreasing.
        count (bool): find each ``z``'s segment by counting the knots ``<= z`` (the form an ONNX graph
            can hold) instead of ``torch.searchsorted``; the same segment either way. Default: ``False``.

    Returns:
        Tensor[N]: float64.
    """
    k = x.numel()
    if count:
        found = (x <= z[:, None]).sum(1)
    else:
        found = torch.searchsorted(x, z.contiguous(), right=True)
    i = (found - 1).clamp(0, k - 2)
    x0, x1, u0, u1 = x[i], x[i + 1], u[i], u[i + 1]
    inside = torch.minimum(torch.maximum(u0 + (z - x0) * ((u1 - u0) / (x1 - x0)), u0), u1)
    outer = (u[-1] - u[0]) / (x[-1] - x[0])
    below = u[0] + torch.clamp(z - x[0], max=0.0) * outer
    above = u[-1] + torch.clamp(z - x[-1], min=0.0) * outer
    return torch.where(z < x[0], below, torch.where(z > x[-1], above, inside))
