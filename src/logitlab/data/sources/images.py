"""The sources of images: a folder (class subfolders or labelled file names), and a CSV of image paths.

Images that fit in ``max_memory_mb`` are loaded into one tensor; larger sets stay on disk, and their
splits (and inputs) hold a lazy :class:`~logitlab.data.ImageDataset` that opens each image when asked.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from torch import Tensor

from ...errors import DataError
from ..bundle import DatasetBundle, DataState, Inputs, make_bundle
from ..image_files import (
    IMAGE_EXTENSIONS,
    ImageDataset,
    ImagePreprocessor,
    image_csv_column,
    image_header,
    read_image_csv,
    scan_image_folder,
)
from ..label_encoder import encode_labels
from ..row_names import RowNamer
from ..split import split_indices
from ..table_selection import labelled_rows
from ..tabular import target_columns
from .base import LoadOptions, Source, Spec

__all__ = ["ImageCsvSource", "ImageFolderSource"]


class ImageFolderSource(Source):
    """A folder of class subfolders (``root/cat/1.png``) or of files named like ``cat.12.jpg``."""

    describe = "an image folder"

    def detect(self, spec: Spec) -> bool:
        """An existing folder."""
        return spec.path is not None and spec.path.is_dir()

    def load(self, spec: Spec, options: LoadOptions) -> DatasetBundle:
        """Every image of the folder with its label, split."""
        assert spec.path is not None
        pattern = options.label_pattern
        allow = options.allow_outside_root
        paths, labels, layout, notes = scan_image_folder(
            spec.path, label_pattern=pattern, allow_outside_root=allow
        )
        saved = {
            "layout": layout,
            "label_pattern": pattern,
            "label_sep": options.label_sep,
            **_saved(options),
            "allow_outside_root": allow,
        }
        return _image_bundle(paths, labels, notes, spec, None, saved, options, RowNamer.files(paths))

    def inputs(self, spec: Spec, state: DataState, *, require_targets: bool, labels: str = "read") -> Inputs:
        """The folder's images; labels from subfolders or file names when the training pattern gives them."""
        assert spec.path is not None
        _require_images(state, spec)
        pattern = state.options.get("label_pattern", LoadOptions.label_pattern)
        paths, found, _, notes = scan_image_folder(
            spec.path,
            label_pattern=pattern,
            require_labels=require_targets and labels != "ignore",
            allow_outside_root=bool(state.options.get("allow_outside_root", False)),
        )
        ids = [str(p.relative_to(spec.path)) for p in paths]
        found = None if labels == "ignore" else found
        return _image_inputs(paths, found, state, notes, require_targets, ids, RowNamer.files(ids), labels)


class ImageCsvSource(Source):
    """A table with a column of image paths (resolved under the table's folder) and label column(s)."""

    describe = "a CSV of image paths"

    def detect(self, spec: Spec) -> bool:
        """A table file whose path column is given, or named like one and holding image file names.

        At predict time: a table file, when the model was trained on images.
        """
        if not spec.is_table_file():
            return False
        if spec.kind is not None:
            return spec.kind == "image"
        if spec.image_column is not None:
            return True
        frame, _ = spec.table()
        column = image_csv_column([str(c) for c in frame.columns])
        return column is not None and _looks_like_paths(frame[column])

    def load(self, spec: Spec, options: LoadOptions) -> DatasetBundle:
        """Every row's image and label(s), split."""
        assert spec.path is not None
        frame, row_name = spec.table()
        column = image_csv_column([str(c) for c in frame.columns], options.image_column)
        if column is None:
            raise DataError(
                f"Image column {options.image_column!r} not in {spec.path}; the columns are: "
                f"{', '.join(map(str, frame.columns))}.",
                fix="pass image_column= with one of the listed columns.",
                code="missing-column",
            )
        notes = [f"a CSV of images: paths from column {column!r}, resolved under {spec.path.parent}"]
        targets = _image_targets(frame, column, options.target, notes)
        if options.missing_target == "drop":
            y_all = frame[targets[0]] if len(targets) == 1 else frame[targets]
            multilabel = (
                options.task is not None and str(getattr(options.task, "value", options.task)) == "multilabel"
            )
            kept, dropped = labelled_rows(
                y_all, label_sep=options.label_sep, multilabel=multilabel, row_name=row_name
            )
            if dropped:
                notes += dropped
                frame, row_name = frame.iloc[kept], row_name.subset(kept)
        paths = read_image_csv(
            frame, column, spec.path.parent, allow_outside_root=options.allow_outside_root, row_name=row_name
        )
        labels = frame[targets[0]] if len(targets) == 1 else frame[targets]
        saved = {"layout": "csv", "image_column": column, "label_sep": options.label_sep, **_saved(options)}
        saved["allow_outside_root"] = options.allow_outside_root
        return _image_bundle(paths, labels, notes, spec, targets, saved, options, row_name)

    def inputs(self, spec: Spec, state: DataState, *, require_targets: bool, labels: str = "read") -> Inputs:
        """Every row's image; targets when the training target column(s) are all there."""
        assert spec.path is not None
        _require_images(state, spec)
        frame, row_name = spec.table()
        column = spec.image_column or image_csv_column([str(c) for c in frame.columns])
        if column is None or column not in frame.columns:
            raise DataError(
                f"No image path column in {spec.path}; the columns are: {', '.join(map(str, frame.columns))}.",
                fix=f"name the path column {column or 'path'!r}.",
                code="missing-column",
            )
        allow = bool(state.options.get("allow_outside_root", False))
        paths = read_image_csv(frame, column, spec.path.parent, allow_outside_root=allow, row_name=row_name)
        targets = [t for t in (state.target or []) if t in frame.columns]
        found = None
        if labels != "ignore" and targets and len(targets) == len(state.target or []):
            found = frame[targets[0]] if len(targets) == 1 else frame[targets]
        ids = [str(v) for v in frame[column]]
        return _image_inputs(paths, found, state, [], require_targets, ids, row_name, labels)


def _saved(options: LoadOptions) -> dict[str, Any]:
    """The image options saved with the model (so predict reads new images the same way)."""
    return {
        "image_size": options.image_size,
        "channels": options.channels,
        "normalize": options.normalize,
        "max_memory_mb": options.max_memory_mb,
    }


def _looks_like_paths(col: pd.Series) -> bool:
    first = col.dropna().head(20).astype(str).str.lower()
    return len(first) > 0 and bool(first.map(lambda s: s.endswith(IMAGE_EXTENSIONS)).all())


def _require_images(state: DataState, spec: Spec) -> None:
    if not isinstance(state.preprocessor, ImagePreprocessor):
        raise DataError(
            f"This model was trained on {state.kind} arrays ({type(state.preprocessor).__name__}), "
            f"not on image files; got {spec.path}.",
            fix="pass the same kind of data as at training time (an array via Classifier.predict, or the builtin spec).",
            code="data-kind-mismatch",
        )


def _image_targets(frame: pd.DataFrame, column: str, target: Any, notes: list[str]) -> list[str]:
    others = [str(c) for c in frame.columns if c != column]
    if target is None and len(others) == 1:
        notes.append(f"labels from column {others[0]!r}")
        return others
    return target_columns(frame.drop(columns=[column]), target, notes)


def _megabytes(n: int, pre: ImagePreprocessor) -> float:
    """Memory of ``n`` preprocessed float32 images."""
    return n * float(np.prod(pre.output_shape)) * 4 / 2**20


def _image_bundle(
    paths: list[Path],
    labels: Any,
    notes: list[str],
    spec: Spec,
    target: list[str] | None,
    saved: dict[str, Any],
    options: LoadOptions,
    row_name: RowNamer,
) -> DatasetBundle:
    targets, enc = encode_labels(
        labels, options.task, label_sep=options.label_sep, positive=options.positive, row_name=row_name,
        label_map=options.label_map,
    )  # fmt: skip
    train, val, test, split_notes = split_indices(
        targets.numpy(), enc.task, val_size=options.val_size, test_size=options.test_size, seed=options.seed,
        names=enc.classes,
    )  # fmt: skip
    notes = [*notes, *enc.notes, *split_notes]
    for p in paths:
        image_header(p)  # every file must at least be an image; names the bad one
    pre = ImagePreprocessor.fit(
        [paths[i] for i in train], image_size=options.image_size, channels=options.channels,
        normalize=options.normalize, notes=notes,
    )  # fmt: skip
    mb = _megabytes(len(paths), pre)
    x_all: Tensor | Callable[[np.ndarray], ImageDataset] = (
        pre.transform(paths) if mb <= options.max_memory_mb else _lazy(paths, pre)
    )
    if not isinstance(x_all, Tensor):
        notes.append(
            f"images kept on disk ({mb:.0f} MB > max_memory_mb={options.max_memory_mb}); splits are lazy Datasets"
        )
    return make_bundle(
        x_all, targets, enc, (train, val, test), "image", pre, notes, source=str(spec.path), target=target,
        options=saved, input_shape=pre.output_shape,
    )  # fmt: skip


def _lazy(paths: list[Path], pre: ImagePreprocessor) -> Callable[[np.ndarray], ImageDataset]:
    """The lazy dataset of the images at some positions (nothing is opened until an item is asked for)."""
    return lambda rows: ImageDataset([paths[i] for i in rows], pre)


def _image_inputs(
    paths: list[Path],
    labels: Any,
    state: DataState,
    notes: list[str],
    require: bool,
    ids: list[str],
    row_name: RowNamer,
    mode: str = "read",
) -> Inputs:
    pre = state.preprocessor
    y = None
    n_all = len(paths)
    if labels is not None and mode == "usable":
        mask, left_out = state.label_encoder.usable_rows(labels, row_name=row_name)
        keep = np.flatnonzero(mask)
        notes = [*notes, *left_out]
        paths, ids, row_name = [paths[i] for i in keep], [ids[i] for i in keep], row_name.subset(keep)
        labels = (
            labels.iloc[keep] if isinstance(labels, (pd.Series, pd.DataFrame)) else [labels[i] for i in keep]
        )
    if labels is not None and len(paths) == 0:
        y = state.label_encoder.empty_targets()
    elif labels is not None:
        try:
            y = state.label_encoder.transform(labels, row_name=row_name)
        except DataError as exc:
            if require:
                raise
            notes.append(f"no targets read: {exc.message}")
    elif require and mode != "ignore":
        raise DataError("The data has no labels to evaluate against.", code="no-labels")
    fits = _megabytes(len(paths), pre) <= state.options.get("max_memory_mb", LoadOptions.max_memory_mb)
    x: Any = pre.transform(paths) if fits else ImageDataset(paths, pre)
    return Inputs(x, y, ids, notes, id_name="path", excluded=n_all - len(paths))
