"""What ``Classifier(model="hf:PATH")`` decides: its parameter checks, its data (one text column, tokenised), its cv.

A pretrained transformer trains like every other logitlab model (logitlab's loss, imbalance weights,
early stopping, calibration and thresholds); what differs is here. Its inputs are the token ids of one
text column (:class:`~logitlab.data.hf_text.HFTextPreprocessor`, fitted on nothing: the folder's
tokenizer is used as it is), taken from a list of strings, a DataFrame, or a table bundle the command
line loaded. Refused, with the reason: cross-fitting (``cv > 1``: ``K`` fine-tunings; ``cv="auto"``
keeps one split), ``ensemble > 1``, streaming tables, images and DDP runs. Only the :mod:`logitlab.estimator` package
imports this module.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ConfigError
from ..models.hf import hf_max_length, hf_options, hf_path, is_hf
from ..options import LABEL_SEP

if TYPE_CHECKING:
    from ..data import DatasetBundle

__all__ = ["CV_REASON", "check_hf_params", "hf_bundle", "hf_notes"]

CV_REASON = (
    "one validation split for a pretrained transformer (hf:): cross-fitting would fine-tune one copy per fold"
)
LR_NOTE = 1e-4  # above this a note says that fine-tuning usually takes 2e-5 to 5e-5


def check_hf_params(p: dict[str, Any], *, files: bool = True) -> None:
    """The parameters an ``hf:`` model refuses; ``files``: also check the folder exists (not when loading).

    Raises:
        ConfigError: naming the parameter (``model``, ``model_options``, ``cv``, ``ensemble``).
    """
    if not is_hf(p.get("model")):
        return
    if files:
        hf_path(p["model"])
    if p.get("model_options") is None or isinstance(p["model_options"], dict):
        hf_options(p.get("model_options"))
    cv = p.get("cv")
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool) and cv > 1:
        raise ConfigError(
            f"Got cv={cv} with model={p['model']!r}: cross-fitting is not done for a pretrained transformer "
            f"(it would fine-tune {cv} copies).",
            fix="use cv=1 or cv='auto' (one validation split, cut in halves for the epoch and the calibration).",
            code="cv-unsupported",
            param="cv",
        )
    if isinstance(p.get("ensemble"), int) and p["ensemble"] > 1:
        raise ConfigError(
            f"Got ensemble={p['ensemble']} with model={p['model']!r}: a seed ensemble of pretrained transformers "
            "is not supported.",
            fix="use ensemble=1 with an hf: model.",
            code="bad-param",
            param="ensemble",
        )


def hf_notes(lr: float) -> list[str]:
    """Notes for ``decisions_`` on settings that rarely suit fine-tuning: ``lr``, the resolved learning rate."""
    if lr > LR_NOTE:
        return [f"hf: lr={lr:g} is high for fine-tuning a pretrained transformer (2e-5 to 5e-5 is usual)"]
    return []


def _check_place() -> None:
    from ..data.hf_bundle import refuse_hf
    from ..train.distributed import detect

    if detect().world_size > 1:
        raise refuse_hf("a DDP run (torchrun): fine-tuning an hf: model runs on one process")


def hf_bundle(clf: Any, X: Any, y: Any) -> tuple[DatasetBundle, np.ndarray | None]:
    """The bundle an ``hf:`` model trains on: every row's token ids, the labels encoded and split as usual.

    ``clf`` gives the parameters and ``seed_``. Also returns the DataFrame's column read (``None`` for others).
    """
    import pandas as pd
    import torch

    from ..data import DatasetBundle, encode_labels, split_indices
    from ..data.bundle import make_bundle
    from ..data.hf_bundle import pick_text_column, refuse_hf, tokenize_bundle, tokenized_notes
    from ..data.hf_text import HFTextPreprocessor, text_values
    from ..data.text import detect_text_columns
    from ..features import as_targets

    _check_place()
    path, max_length = hf_path(clf.model), hf_max_length(clf.model, clf.model_options)
    if isinstance(X, DatasetBundle):
        return tokenize_bundle(X, path, max_length, clf.text_columns), None
    notes: list[str] = []
    column, names = "text", None
    if isinstance(X, pd.DataFrame):
        detected = [] if clf.text_columns != "auto" else detect_text_columns(X)
        column = pick_text_column([str(c) for c in X.columns], clf.text_columns, detected)
        unused = [str(c) for c in X.columns if str(c) != column]
        if unused:
            notes.append(
                f"hf: columns {', '.join(unused)} not used (the model reads the text column {column!r})"
            )
        names = np.asarray([column], dtype=object)
    texts, missing = text_values(X, column)
    targets, enc = encode_labels(
        as_targets(y),
        None if clf.task == "auto" else clf.task,
        positive=clf.positive,
        label_map=clf.label_map,
    )
    if len(targets) != len(texts):
        raise refuse_hf(
            f"{len(texts)} texts and {len(targets)} labels (give one label, or label row, per text)"
        )
    train, val, test, split_notes = split_indices(
        targets.numpy(), enc.task, val_size=clf.val_size, test_size=0.0, seed=clf.seed_, names=enc.classes
    )
    pre = HFTextPreprocessor.from_pretrained(path, column, max_length)
    ids = torch.from_numpy(pre.encode(texts))
    notes += tokenized_notes(ids, max_length, missing, column)
    bundle = make_bundle(
        ids, targets, enc, (train, val, test), "tabular", pre, [*enc.notes, *split_notes, *notes],
        source="arrays", options={"label_sep": LABEL_SEP},
    )  # fmt: skip
    return dataclasses.replace(bundle, input_shape=(max_length,)), names  # each batch: cut to its longest row
