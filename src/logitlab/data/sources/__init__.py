"""The entry points :func:`load_dataset` and :func:`load_inputs`, and the registry of data sources.

Both pick the source of a spec once (:func:`pick_source`, the first of :data:`SOURCES` whose ``detect``
says yes) and hand it the work: :func:`load_dataset` turns a spec into a split :class:`DatasetBundle`;
:func:`load_inputs` reads a spec for a saved model with its :class:`DataState`. To add a source (say,
a streaming one), write a :class:`~logitlab.data.sources.base.Source` and add it to :data:`SOURCES`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ...errors import DataError
from ...tasks import Task
from ..bundle import DatasetBundle, DataState, Inputs
from ..images import Normalize
from ..tabular import TABLE_SUFFIXES
from .base import LoadOptions, Source, Spec
from .builtin import BuiltinSource
from .images import ImageCsvSource, ImageFolderSource
from .streaming import StreamingSource
from .table import TableSource

__all__ = ["SOURCES", "LoadOptions", "Source", "Spec", "load_dataset", "load_inputs", "pick_source"]

SOURCES: tuple[Source, ...] = (
    StreamingSource(),
    BuiltinSource(),
    ImageFolderSource(),
    ImageCsvSource(),
    TableSource(),
)
"""Every source, in the order they are asked: streaming first (it reads only ``streaming=True`` specs),
the image-CSV source before the plain table source."""


def load_dataset(
    spec: str | Path,
    *,
    target: str | Sequence[str] | None = LoadOptions.target,
    task: Task | str | None = LoadOptions.task,
    label_sep: str = LoadOptions.label_sep,
    val_size: float = LoadOptions.val_size,
    test_size: float = LoadOptions.test_size,
    seed: int = LoadOptions.seed,
    image_size: int | Sequence[int] | None = LoadOptions.image_size,
    positive: Any = LoadOptions.positive,
    drop: Sequence[str] = LoadOptions.drop,
    max_categories: int = LoadOptions.max_categories,
    label_pattern: str = LoadOptions.label_pattern,
    image_column: str | None = LoadOptions.image_column,
    allow_outside_root: bool = LoadOptions.allow_outside_root,
    channels: int | None = LoadOptions.channels,
    normalize: Normalize = LoadOptions.normalize,
    max_memory_mb: float = LoadOptions.max_memory_mb,
    streaming: bool = LoadOptions.streaming,
    split_key: str | None = LoadOptions.split_key,
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
        streaming (bool): stream a table too large for memory: ``spec`` may then be a glob
            (``"data/*.parquet"``) or a folder of Parquet/CSV files; statistics come from one pass, the
            splits from a stable hash of the row index (see :mod:`logitlab.data.streaming`). Default: ``False``.
        split_key (str, optional): with ``streaming``, split by a hash of this column. Default: the row index.

    Returns:
        DatasetBundle: splits, task and reason, label names, input shape, preprocessing and notes.

    Raises:
        DataError: an unknown spec, unreadable file, bad row (naming the line and column) or image.

    Examples:
        >>> b = load_dataset("builtin:breast_cancer", seed=0)
        >>> b.task.value, b.label_names, b.input_shape, len(b.train) + len(b.val) + len(b.test)
        ('binary', ['malignant'], (30,), 569)
    """
    options = LoadOptions(
        target=target, task=task, label_sep=label_sep, val_size=val_size, test_size=test_size, seed=seed,
        image_size=image_size, positive=positive, drop=drop, max_categories=max_categories,
        label_pattern=label_pattern, image_column=image_column, allow_outside_root=allow_outside_root,
        channels=channels, normalize=normalize, max_memory_mb=max_memory_mb, streaming=streaming,
        split_key=split_key,
    )  # fmt: skip
    resolved = Spec.of(spec, image_column=image_column, streaming=streaming)
    return pick_source(resolved).load(resolved, options)


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
    resolved = Spec.of(spec, kind=state.kind, image_column=state.options.get("image_column"))
    return pick_source(resolved).inputs(resolved, state, require_targets=require_targets)


def pick_source(spec: Spec) -> Source:
    """The first of :data:`SOURCES` that reads ``spec``.

    Raises:
        DataError: no such file or folder, or a file no source reads (listing what the sources read).
    """
    for source in SOURCES:
        if source.detect(spec):
            return source
    assert spec.path is not None, "the built-in source reads every builtin: spec"
    if not spec.path.exists():
        raise DataError(
            f"No such file or folder: {spec.text!r}.",
            fix=f"give {', '.join(s.describe for s in SOURCES)}.",
            code="no-such-file",
        )
    raise DataError(
        f"Unsupported file type {spec.path.suffix!r} for {spec.path}; expected {', '.join(TABLE_SUFFIXES)} or a folder.",
        fix="convert the table to CSV or Parquet, or point at the folder holding the images.",
        code="unsupported-file",
    )
