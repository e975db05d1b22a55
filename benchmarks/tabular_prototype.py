"""A local prototype of candidate Classifier defaults, measured by benchmarks.tabular before the library changes.

``Prototype(params, preprocess=..., ensemble=..., min_steps=...)`` wraps ``logitlab.Classifier(**params)``:

* ``preprocess="quantile"``: numeric columns through scikit-learn's QuantileTransformer (normal output,
  ``n_quantiles=min(1000, rows)``), fitted on the training rows; ``"robust_clip"``: RealMLP's robust scaling
  with smooth clipping, ``z = (x - median) / s`` with ``s`` the inter-quartile range / 1.349 (the
  half-range when that is 0), then ``z / sqrt(1 + (z / 3)^2)``. Categorical columns pass unchanged.
* ``ensemble=K``: K networks with seeds ``seed * 1000 + k`` (so K different validation splits), probabilities
  averaged; decisions: binary/multilabel a majority vote of the members' own thresholded decisions,
  multiclass the argmax of the averaged probabilities.
* ``embeddings="plr"``: periodic numeric embeddings before the MLP (Gorishniy et al. 2022, "On Embeddings for
  Numerical Features in Tabular Deep Learning", PLR-lite): each input column ``x`` becomes
  ``ReLU(Linear([sin(2 pi c x), cos(2 pi c x)]))`` with 16 trainable frequencies ``c ~ N(0, 0.1^2)`` per
  column and 16 outputs per column. Prototype only: the MLP class that ``build_model`` constructs is swapped
  during ``fit`` (such a model does not save/load).
* ``min_steps=S``: ``epochs = max(epochs, ceil(S / steps per epoch))`` (the best validation epoch is kept
  by Classifier as before), so that small tables get at least S optimiser steps.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Prototype"]


def _numeric(X: pd.DataFrame) -> list[str]:
    return [c for c in X.columns if str(X[c].dtype) != "category"]


class _RobustClip:
    def fit(self, x: np.ndarray) -> _RobustClip:
        q25, med, q75 = np.nanpercentile(x, [25, 50, 75], axis=0)
        lo, hi = np.nanmin(x, axis=0), np.nanmax(x, axis=0)
        scale = (q75 - q25) / 1.349
        half = (hi - lo) / 2
        self.median_ = med
        self.scale_ = np.where(scale > 0, scale, np.where(half > 0, half, 1.0))
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        z = (x - self.median_) / self.scale_
        return z / np.sqrt(1 + (z / 3) ** 2)


def _plr_mlp_class() -> type:
    import torch
    from torch import nn

    from logitlab.models.mlp import MLP

    class PeriodicEmbedding(nn.Module):
        def __init__(self, n_features: int, k: int = 16, d: int = 16, sigma: float = 0.1) -> None:
            super().__init__()
            self.freq = nn.Parameter(torch.randn(n_features, k) * sigma)
            self.weight = nn.Parameter(torch.randn(n_features, 2 * k, d) / math.sqrt(2 * k))
            self.bias = nn.Parameter(torch.zeros(n_features, d))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            z = 2 * math.pi * self.freq[None] * x.flatten(1)[..., None]  # [N, F, k]
            v = torch.cat([torch.sin(z), torch.cos(z)], dim=-1)  # [N, F, 2k]
            out = torch.relu(torch.einsum("nfk,fkd->nfd", v, self.weight) + self.bias)
            return out.flatten(1)  # [N, F * d]

    class PLRMLP(MLP):  # type: ignore[misc, valid-type]
        def __init__(self, in_features: int, n_outputs: int, **options: Any) -> None:
            super().__init__(in_features * 16, n_outputs, **options)
            self.embed = PeriodicEmbedding(in_features)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return super().forward(self.embed(x))

    return PLRMLP


@contextlib.contextmanager
def _mlp_swapped(embeddings: str) -> Iterator[None]:
    if embeddings == "none":
        yield
        return
    if embeddings != "plr":
        raise KeyError(f"embeddings={embeddings!r}; expected 'none' or 'plr'")
    import logitlab.models as models

    original = models.MLP
    models.MLP = _plr_mlp_class()
    try:
        yield
    finally:
        models.MLP = original


class Prototype:
    """``Classifier(**params)`` with the prototype options above."""

    def __init__(
        self,
        params: dict[str, Any],
        *,
        preprocess: str = "none",
        ensemble: int = 1,
        min_steps: int = 0,
        embeddings: str = "none",
    ) -> None:
        self.params, self.preprocess, self.ensemble, self.min_steps = params, preprocess, ensemble, min_steps
        self.embeddings = embeddings

    def _transform(self, X: pd.DataFrame) -> pd.DataFrame:
        if self.preprocess == "none" or not self.cols_:
            return X
        out = X.copy()
        out[self.cols_] = self.pre_.transform(X[self.cols_].to_numpy(dtype=np.float64))
        return out

    def _fit_pre(self, X: pd.DataFrame) -> None:
        from sklearn.preprocessing import QuantileTransformer

        self.cols_ = _numeric(X)
        x = X[self.cols_].to_numpy(dtype=np.float64)
        if self.preprocess == "quantile":
            self.pre_ = QuantileTransformer(n_quantiles=min(1000, len(X)), output_distribution="normal")
            self.pre_.fit(x)
        elif self.preprocess == "robust_clip":
            self.pre_ = _RobustClip().fit(x)
        elif self.preprocess != "none":
            raise KeyError(f"preprocess={self.preprocess!r}; expected 'none', 'quantile' or 'robust_clip'")

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> Prototype:
        from logitlab import Classifier

        self._fit_pre(X)
        Xt = self._transform(X)
        params = dict(self.params)
        if self.min_steps:
            base = Classifier(**params)
            n_fit = len(X) * (1 - base.val_size)
            steps_per_epoch = max(1, math.ceil(n_fit / base.batch_size))
            params["epochs"] = max(base.epochs, math.ceil(self.min_steps / steps_per_epoch))
        seed = int(params.pop("random_state", 0))
        with _mlp_swapped(self.embeddings):
            self.members_ = [
                Classifier(**params, random_state=seed * 1000 + k).fit(Xt, y)
                for k in range(int(self.ensemble))
            ]
        self.classes_ = self.members_[0].classes_
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        Xt = self._transform(X)
        return np.mean([m.predict_proba(Xt) for m in self.members_], axis=0)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        Xt = self._transform(X)
        if len(self.members_) == 1:
            return self.members_[0].predict(Xt)
        task = self.members_[0].task_
        if task == "multiclass":
            return np.asarray(self.classes_)[self.predict_proba(X).argmax(1)]
        votes = np.mean([np.asarray(m.predict(Xt), dtype=np.float64) for m in self.members_], axis=0)
        return (votes >= 0.5).astype(np.int64)
