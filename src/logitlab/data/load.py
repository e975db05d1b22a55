"""The entry points: :func:`load_dataset` and :func:`load_inputs`.

:func:`load_dataset` turns a spec into a split :class:`DatasetBundle`; :func:`load_inputs` reads a spec
for a saved model with its :class:`DataState`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..errors import DataError
from ..options import LOAD_DEFAULTS
from ..tasks import Task
from .arrays import make_bundle
from .builtin import BUILTIN_NAMES, builtin_frame, load_builtin
from .bundle import DatasetBundle, DataState, Inputs, Split
from .images import (
    DEFAULT_LABEL_PATTERN,
    IMAGE_EXTENSIONS,
    ImageDataset,
    ImagePreprocessor,
    Normalize,
    _header,
    image_csv_column,
    read_image_csv,
    scan_image_folder,
)
from .labels import RowNamer, encode_labels
from .split import split_indices
from .tabular import bundle_from_frame, frame_inputs, read_table, target_columns

__all__ = ["load_dataset", "load_inputs"]

TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")


def load_dataset(
    spec: str | Path,
    *,
    target: str | Sequence[str] | None = None,
    task: Task | str | None = None,
    label_sep: str = LOAD_DEFAULTS["label_sep"],
    val_size: float = LOAD_DEFAULTS["val_size"],
    test_size: float = LOAD_DEFAULTS["test_size"],
    seed: int = 0,
    image_size: int | Sequence[int] | None = None,
    positive: Any = None,
    drop: Sequence[str] = (),
    max_categories: int = 50,
    label_pattern: str = DEFAULT_LABEL_PATTERN,
    image_column: str | None = None,
    allow_outside_root: bool = False,
    channels: int | None = None,
    normalize: Normalize = "dataset",
    max_memory_mb: float = 512,
) -> DatasetBundle:
    """Load a dataset, infer (or take) its task, split it and fit its preprocessing on the training split.

    Args:
        spec (str or Path): ``"builtin:NAME"`` (breast_cancer, digits, digits-attributes, fraud), a
            ``.csv``/``.tsv``/``.parquet`` table, a CSV of image paths (a ``path``/``image``/``file``
            column), or an image folder (class subfolders, or files named like ``cat.12.jpg``).
        target (str or list[str], optional): the label column; several 0/1 columns for multilabel.
            Default: a column named target/label/labels/class/y, or the one non-path column of an image CSV.
        task (Task or str, optional): override the inferred task. Default: inferred, with the reason.
        label_sep (str): separator of label lists in one cell (``"a|b"``). Default: ``"|"``.
        val_size (float): share of the validation split. Default: ``0.15``.
        test_size (float): share of the test split. Default: ``0.15``.
        seed (int): seed of the stratified split. Default: ``0``.
        image_size (int or (H, W), optional): resize images. Default: their size if all agree, else 128.
        positive (optional): the positive class of a binary task. Default: 1/True/yes-like, else the minority.
        drop (list[str]): table columns to leave out (ids). Default: none.
        max_categories (int): one-hot categories kept per column. Default: ``50``.
        label_pattern (str): regex whose first group (or group ``label``) is the label of a file name.
            Default: :data:`~logitlab.data.images.DEFAULT_LABEL_PATTERN`.
        image_column (str, optional): the path column of a CSV of images. Default: detected by name.
        allow_outside_root (bool): let an image CSV point outside its folder. Default: ``False``.
        channels (int, optional): 1 or 3 image channels. Default: 1 if every image is grayscale.
        normalize (str): image normalisation: ``"dataset"``, ``"imagenet"`` or ``"none"``. Default: ``"dataset"``.
        max_memory_mb (float): images larger than this in total stay on disk (a lazy Dataset). Default: 512.

    Returns:
        DatasetBundle: splits, task and reason, label names, input shape, preprocessing and notes.

    Raises:
        DataError: an unknown spec, unreadable file, bad row (naming the line and column) or image.

    Examples:
        >>> b = load_dataset("builtin:breast_cancer", seed=0)
        >>> b.task.value, b.label_names, b.input_shape, len(b.train) + len(b.val) + len(b.test)
        ('binary', ['malignant'], (30,), 569)
    """
    common: dict[str, Any] = dict(
        task=task, val_size=val_size, test_size=test_size, seed=seed, positive=positive
    )
    if isinstance(spec, str) and spec.strip().lower().startswith("builtin:"):
        return load_builtin(spec, **common)
    path = _existing(spec)
    img: dict[str, Any] = dict(image_size=image_size, channels=channels, normalize=normalize)
    img["max_memory_mb"] = max_memory_mb
    if path.is_dir():
        paths, labels, layout, notes = scan_image_folder(path, label_pattern=label_pattern)
        options = {"layout": layout, "label_pattern": label_pattern, "label_sep": label_sep, **img}
        return _image_bundle(
            paths, labels, notes, str(path), None, options, label_sep=label_sep, **common, **img
        )
    frame, row_name = read_table(path)
    column = image_csv_column([str(c) for c in frame.columns], image_column)
    if column is not None and image_column is None and not _looks_like_paths(frame[column]):
        column = None  # a table that merely has a column called "file" or "image"
    if column is None and image_column is not None:
        raise DataError(
            f"Image column {image_column!r} not in {path}; the columns are: {', '.join(map(str, frame.columns))}.",
            fix="pass image_column= with one of the listed columns.",
            code="missing-column",
        )
    if column is None:
        return bundle_from_frame(
            frame, target=target, label_sep=label_sep, drop=drop, max_categories=max_categories,
            row_name=row_name, source=str(path), **common,
        )  # fmt: skip
    csv_notes: list[str] = [f"a CSV of images: paths from column {column!r}, resolved under {path.parent}"]
    targets = _image_targets(frame, column, target, csv_notes)
    paths = read_image_csv(
        frame, column, path.parent, allow_outside_root=allow_outside_root, row_name=row_name
    )
    labels = frame[targets[0]] if len(targets) == 1 else frame[targets]
    options = {"layout": "csv", "image_column": column, "label_sep": label_sep, **img}
    options["allow_outside_root"] = allow_outside_root
    return _image_bundle(
        paths,
        labels,
        csv_notes,
        str(path),
        targets,
        options,
        row_name=row_name,
        label_sep=label_sep,
        **common,
        **img,
    )


def _looks_like_paths(col: pd.Series) -> bool:
    first = col.dropna().head(20).astype(str).str.lower()
    return len(first) > 0 and bool(first.map(lambda s: s.endswith(IMAGE_EXTENSIONS)).all())


def _existing(spec: str | Path) -> Path:
    path = Path(spec).expanduser()
    if not path.exists():
        raise DataError(
            f"No such file or folder: {spec!r}.",
            fix=f"give a CSV/Parquet file, an image folder, or one of {', '.join('builtin:' + n for n in BUILTIN_NAMES)}.",
            code="no-such-file",
        )
    if path.is_file() and path.suffix.lower() not in TABLE_SUFFIXES:
        raise DataError(
            f"Unsupported file type {path.suffix!r} for {path}; expected {', '.join(TABLE_SUFFIXES)} or a folder.",
            fix="convert the table to CSV or Parquet, or point at the folder holding the images.",
            code="unsupported-file",
        )
    return path


def _image_targets(frame: pd.DataFrame, column: str, target: Any, notes: list[str]) -> list[str]:
    others = [str(c) for c in frame.columns if c != column]
    if target is None and len(others) == 1:
        notes.append(f"labels from column {others[0]!r}")
        return others
    return target_columns(frame.drop(columns=[column]), target, notes)


def _image_bundle(
    paths: list[Path],
    labels: Any,
    notes: list[str],
    source: str,
    target: list[str] | None,
    options: dict[str, Any],
    *,
    row_name: RowNamer | None = None,
    label_sep: str,
    task: Task | str | None,
    val_size: float,
    test_size: float,
    seed: int,
    positive: Any,
    image_size: Any,
    channels: int | None,
    normalize: Normalize,
    max_memory_mb: float,
) -> DatasetBundle:
    name_of: RowNamer = row_name or (lambda i: f"file {paths[i]}")
    targets, enc = encode_labels(labels, task, label_sep=label_sep, positive=positive, row_name=name_of)
    train, val, test, split_notes = split_indices(
        targets.numpy(), enc.task, val_size=val_size, test_size=test_size, seed=seed
    )
    notes = [*notes, *enc.notes, *split_notes]
    for p in paths:
        _header(p)  # every file must at least be an image; names the bad one
    pre = ImagePreprocessor.fit(
        [paths[i] for i in train], image_size=image_size, channels=channels, normalize=normalize, notes=notes
    )
    mb = len(paths) * float(np.prod(pre.output_shape)) * 4 / 2**20
    if mb <= max_memory_mb:
        x_all = pre.transform(paths)
        return make_bundle(x_all, targets, enc, (train, val, test), "image", pre, notes, source=source,
                           target=target, options=options)  # fmt: skip
    notes.append(
        f"images kept on disk ({mb:.0f} MB > max_memory_mb={max_memory_mb}); splits are lazy Datasets"
    )
    train_s, val_s, test_s = (
        Split(ImageDataset([paths[i] for i in s], pre), targets[s], s) for s in (train, val, test)
    )
    return DatasetBundle(
        train_s, val_s, test_s, enc.task, enc.reason, enc.output_names, "image", pre.output_shape, pre, notes, enc,
        source, target, options,
    )  # fmt: skip


def load_inputs(spec: str | Path, state: DataState, *, require_targets: bool = False) -> Inputs:
    """Read data for a trained model (predict/evaluate) with the model's :class:`DataState`.

    Targets are read when present (the target columns, class subfolders, or file names the training
    ``label_pattern`` matches with known labels); ``require_targets=True`` makes them mandatory.

    Args:
        spec (str or Path): as :func:`load_dataset`; a builtin spec gives all its rows.
        state (DataState): from ``bundle.state`` (or ``DataState.from_dict``).
        require_targets (bool): raise when the data has no usable targets. Default: ``False``.

    Raises:
        DataError: missing columns, unknown labels (naming the row), unreadable images.
    """
    if isinstance(spec, str) and spec.strip().lower().startswith("builtin:"):
        return _builtin_inputs(spec, state)
    path = _existing(spec)
    pre = state.preprocessor
    if (path.is_dir() or state.kind == "image") and not isinstance(pre, ImagePreprocessor):
        raise DataError(
            f"This model was trained on {state.kind} arrays ({type(pre).__name__}), not on image files; got {path}.",
            fix="pass the same kind of data as at training time (an array via Classifier.predict, or the builtin spec).",
            code="data-kind-mismatch",
        )
    if path.is_dir():
        pattern = state.options.get("label_pattern", DEFAULT_LABEL_PATTERN)
        paths, labels, _, notes = scan_image_folder(
            path, label_pattern=pattern, require_labels=require_targets
        )
        return _image_inputs(
            paths, labels, state, notes, require_targets, [str(p.relative_to(path)) for p in paths]
        )
    frame, row_name = read_table(path)
    if state.kind == "tabular":
        return frame_inputs(frame, state, row_name=row_name, require_targets=require_targets)
    column = state.options.get("image_column") or image_csv_column([str(c) for c in frame.columns])
    if column is None or column not in frame.columns:
        raise DataError(
            f"No image path column in {path}; the columns are: {', '.join(map(str, frame.columns))}.",
            fix=f"name the path column {column or 'path'!r}.",
            code="missing-column",
        )
    allow = bool(state.options.get("allow_outside_root", False))
    paths = read_image_csv(frame, column, path.parent, allow_outside_root=allow, row_name=row_name)
    targets = [t for t in (state.target or []) if t in frame.columns]
    labels = None
    if targets and len(targets) == len(state.target or []):
        labels = frame[targets[0]] if len(targets) == 1 else frame[targets]
    ids = [str(v) for v in frame[column]]
    return _image_inputs(paths, labels, state, [], require_targets, ids, row_name)


def _image_inputs(
    paths: list[Path],
    labels: Any,
    state: DataState,
    notes: list[str],
    require: bool,
    ids: list[str],
    row_name: RowNamer | None = None,
) -> Inputs:
    pre = state.preprocessor
    y = None
    if labels is not None:
        try:
            y = state.label_encoder.transform(labels, row_name=row_name or (lambda i: f"file {ids[i]}"))
        except DataError as exc:
            if require:
                raise
            notes.append(f"no targets read: {exc.message}")
    elif require:
        raise DataError("The data has no labels to evaluate against.", code="no-labels")
    mb = len(paths) * float(np.prod(pre.output_shape)) * 4 / 2**20
    x: Any = (
        pre.transform(paths) if mb <= state.options.get("max_memory_mb", 512) else ImageDataset(paths, pre)
    )
    return Inputs(x, y, ids, notes)


def _builtin_inputs(spec: str, state: DataState) -> Inputs:
    key = spec.split(":", 1)[1].strip().lower().replace("_", "-")
    if key in ("breast-cancer", "fraud"):
        frame, _ = builtin_frame(key)
        return frame_inputs(frame, state, require_targets=True)
    if key not in ("digits", "digits-attributes"):
        load_builtin(spec)  # raises, listing the names
    from sklearn.datasets import load_digits

    from .builtin import DIGIT_ATTRIBUTES

    data = load_digits()
    x = torch.from_numpy(state.preprocessor.transform(data.images[:, None].astype(np.float64)))
    if key == "digits":
        y = state.label_encoder.transform(data.target)
    else:
        y = state.label_encoder.transform(
            np.stack([np.isin(data.target, v) for v in DIGIT_ATTRIBUTES.values()], 1)
        )
    return Inputs(x, y, [f"index {i}" for i in range(len(x))])
