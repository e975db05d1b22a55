"""Built-in datasets that ship with the dependencies (scikit-learn); nothing is downloaded.

* ``builtin:breast_cancer``: Wisconsin diagnostic breast cancer, 569 x 30, binary (positive: malignant).
* ``builtin:digits``: 1,797 handwritten digits as ``1 x 8 x 8`` images, 10 classes.
* ``builtin:digits-attributes``: the same images with 4 multi-label attributes of the digit:
  ``even``, ``ge_5`` (>= 5), ``prime`` (2, 3, 5, 7) and ``has_loop`` (0, 6, 8, 9).
* ``builtin:fraud``: SYNTHETIC imbalanced binary data (~1% positives) from
  ``sklearn.datasets.make_classification``; not real transactions.

Examples:
    >>> b = load_builtin("digits-attributes", val_size=0.1, test_size=0.1)
    >>> b.task.value, b.label_names, b.input_shape
    ('multilabel', ['even', 'ge_5', 'prime', 'has_loop'], (1, 8, 8))
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from ...errors import DataError
from ...options import TEST_SIZE, VAL_SIZE
from ..array_preprocessor import ArrayPreprocessor
from ..bundle import DatasetBundle, DataState, Inputs, make_bundle
from ..label_encoder import encode_labels
from ..split import split_indices
from ..tabular import bundle_from_frame, frame_inputs
from .base import LoadOptions, Source, Spec

__all__ = [
    "BUILTIN_NAMES",
    "BuiltinSource",
    "DIGIT_ATTRIBUTES",
    "builtin_frame",
    "builtin_inputs",
    "load_builtin",
]

BUILTIN_NAMES = ("breast_cancer", "digits", "digits-attributes", "fraud")
DIGIT_ATTRIBUTES: dict[str, tuple[int, ...]] = {
    "even": (0, 2, 4, 6, 8),
    "ge_5": (5, 6, 7, 8, 9),
    "prime": (2, 3, 5, 7),
    "has_loop": (0, 6, 8, 9),
}
FRAUD_ROWS = 20_000
_TABLES = {"breast-cancer": "diagnosis", "fraud": "fraud"}  # the tabular built-ins and their target column


def load_builtin(name: str, **kwargs: Any) -> DatasetBundle:
    """Load a built-in dataset by name (with or without the ``builtin:`` prefix).

    Args:
        name (str): one of :data:`BUILTIN_NAMES`.
        **kwargs: ``task``, ``val_size``, ``test_size``, ``seed``, ``positive``, ``label_map`` as for
            ``load_dataset`` (the map applies to the class names: ``malignant``/``benign``, the digits
            ``0``-``9``, the 0/1 cells of the attribute columns).

    Raises:
        DataError: an unknown name, listing the built-in names.
    """
    key = _key(name)
    kwargs = {
        k: v
        for k, v in kwargs.items()
        if k in ("task", "val_size", "test_size", "seed", "positive", "label_map")
    }
    if key in _TABLES:
        frame, notes = builtin_frame(key)
        bundle = bundle_from_frame(frame, target=_TABLES[key], **kwargs)
        bundle.source = "builtin:" + key.replace("-", "_")
        bundle.notes[:0] = notes
        return bundle
    return _digits(key == "digits-attributes", **kwargs)


def builtin_inputs(name: str, state: DataState, *, labels: str = "read") -> Inputs:
    """All rows of a built-in dataset with their targets, read with a model's :class:`DataState`.

    ``labels="ignore"`` leaves the targets out; the built-in labels are always known and present.

    Raises:
        DataError: an unknown name, listing the built-in names.
    """
    key = _key(name)
    if key in _TABLES:
        frame, _ = builtin_frame(key)
        return frame_inputs(frame, state, require_targets=labels != "ignore", labels=labels)
    images, y_raw = _digit_arrays(key == "digits-attributes")
    x = torch.from_numpy(state.preprocessor.transform(images))
    y = None if labels == "ignore" else state.label_encoder.transform(y_raw)
    return Inputs(x, y, list(range(1, len(x) + 1)), id_name="row")


def _key(name: str) -> str:
    """``"builtin:breast_cancer"`` -> ``"breast-cancer"``; an unknown name raises, listing the built-ins."""
    key = name.strip()
    key = (
        (key[len("builtin:") :] if key.lower().startswith("builtin:") else key)
        .strip()
        .lower()
        .replace("_", "-")
    )
    if key not in (n.replace("_", "-") for n in BUILTIN_NAMES):
        raise DataError(
            f"Unknown built-in dataset {name!r}; the built-in datasets are: "
            f"{', '.join('builtin:' + n for n in BUILTIN_NAMES)}.",
            fix="use e.g. builtin:breast_cancer, or a path to a CSV/Parquet file or an image folder.",
            code="unknown-builtin",
        )
    return key


def builtin_frame(key: str) -> tuple[pd.DataFrame, list[str]]:
    """The table of a tabular built-in (``breast-cancer`` or ``fraud``) with its target column, and notes."""
    from sklearn.datasets import load_breast_cancer, make_classification

    if key == "breast-cancer":
        data = load_breast_cancer(as_frame=True)
        frame = data.frame.drop(columns=["target"])
        frame["diagnosis"] = np.asarray(data.target_names)[data.target.to_numpy()]
        return frame, ["builtin:breast_cancer: sklearn's Wisconsin diagnostic breast cancer data (569 rows)"]
    x, y = make_classification(
        n_samples=FRAUD_ROWS,
        n_features=20,
        n_informative=8,
        n_redundant=4,
        weights=[0.99],
        flip_y=0.002,
        class_sep=1.0,
        random_state=0,
    )
    frame = pd.DataFrame(x, columns=[f"v{i + 1}" for i in range(x.shape[1])])
    frame["amount"] = np.round(np.exp(np.random.default_rng(0).normal(3.5, 1.0, len(y)) + 0.5 * y), 2)
    frame["fraud"] = y
    note = (
        f"builtin:fraud is SYNTHETIC: sklearn make_classification ({FRAUD_ROWS} rows, 20 features, "
        f"{y.mean():.2%} positives) plus a log-normal 'amount'; not real transactions"
    )
    return frame, [note]


def _digit_arrays(attributes: bool) -> tuple[np.ndarray, np.ndarray]:
    """The digit images ``[N, 1, 8, 8]`` (float64, 0..16) and their labels: digits ``[N]`` or attributes ``[N, 4]``."""
    from sklearn.datasets import load_digits

    data = load_digits()
    images = data.images[:, None].astype(np.float64)
    if not attributes:
        return images, data.target
    return images, np.stack([np.isin(data.target, v) for v in DIGIT_ATTRIBUTES.values()], axis=1).astype(
        np.int64
    )


def _digits(attributes: bool, **kwargs: Any) -> DatasetBundle:
    images, y_raw = _digit_arrays(attributes)
    label_names = list(DIGIT_ATTRIBUTES) if attributes else None
    targets, enc = encode_labels(
        y_raw, kwargs.get("task"), label_names=label_names, label_map=kwargs.get("label_map"),
        positive=kwargs.get("positive"),
    )  # fmt: skip
    train, val, test, notes = split_indices(
        targets.numpy(),
        enc.task,
        val_size=kwargs.get("val_size", VAL_SIZE),
        test_size=kwargs.get("test_size", TEST_SIZE),
        seed=kwargs.get("seed", 0),
    )
    pre = ArrayPreprocessor.fit(images[train], multiplier=1 / 16)
    x_all = torch.from_numpy(pre.transform(images))
    name = "digits-attributes" if attributes else "digits"
    notes = [
        f"builtin:{name}: sklearn's 8x8 handwritten digits (1797 images, pixels 0..16 scaled to [0, 1])",
        *notes,
    ]
    if attributes:
        notes.append("labels: " + "; ".join(f"{k} = digit in {v}" for k, v in DIGIT_ATTRIBUTES.items()))
    return make_bundle(x_all, targets, enc, (train, val, test), "image", pre, notes, source=f"builtin:{name}")


class BuiltinSource(Source):
    """``builtin:breast_cancer``, ``builtin:digits``, ... (only the label and split options apply, ``label_map`` too)."""

    describe = "one of " + ", ".join("builtin:" + n for n in BUILTIN_NAMES)

    def detect(self, spec: Spec) -> bool:
        """A ``builtin:`` spec."""
        return spec.path is None

    def load(self, spec: Spec, options: LoadOptions) -> DatasetBundle:
        """The built-in set, split; an unknown name raises, listing the names."""
        return load_builtin(spec.text, label_map=options.label_map, **options.split)

    def inputs(self, spec: Spec, state: DataState, *, require_targets: bool, labels: str = "read") -> Inputs:
        """All rows of the built-in set, with their targets (none with ``labels="ignore"``)."""
        return builtin_inputs(spec.text, state, labels=labels)
