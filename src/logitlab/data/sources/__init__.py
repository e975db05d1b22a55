"""The entry points :func:`load_dataset` and :func:`load_inputs`, and the registry of data sources.

Both pick the source of a spec once (:func:`pick_source`, the first of :data:`SOURCES` whose ``detect``
says yes) and hand it the work: :func:`load_dataset` turns a spec into a split :class:`DatasetBundle`;
:func:`load_inputs` reads a spec for a saved model with its :class:`DataState`. To add a source (say,
a streaming one), write a :class:`~logitlab.data.sources.base.Source` and add it to :data:`SOURCES`.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ...errors import ConfigError, DataError
from ...options import LABEL_MODES, OPTIONS, choices_text
from ...tasks import Task
from ..bundle import DatasetBundle, DataState, Inputs
from ..image_files import Normalize
from ..label_map import parse_label_map
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
    label_map: Any = LoadOptions.label_map,
    val_size: float = LoadOptions.val_size,
    test_size: float = LoadOptions.test_size,
    seed: int = LoadOptions.seed,
    image_size: int | Sequence[int] | None = LoadOptions.image_size,
    positive: Any = LoadOptions.positive,
    drop: Sequence[str] = LoadOptions.drop,
    id_column: str | None = LoadOptions.id_column,
    missing_target: str = LoadOptions.missing_target,
    sep: str | None = LoadOptions.sep,
    encoding: str | None = LoadOptions.encoding,
    max_categories: int = LoadOptions.max_categories,
    numeric_scaling: str = LoadOptions.numeric_scaling,
    text_columns: Any = LoadOptions.text_columns,
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
        label_map (dict or str, optional): label spellings mapped to one value before the labels are
            encoded: ``{"Yes": "yes"}``, ``"yes=1,Yes=1,no=0"`` or a JSON object (each label of a label
            list on its own; see :mod:`logitlab.data.label_map`). Default: none.
        val_size (float): share of the validation split. Default: ``0.15``.
        test_size (float): share of the test split. Default: ``0.15``.
        seed (int): seed of the stratified split. Default: ``0``.
        image_size (int or (H, W), optional): resize images. Default: their size if all agree, else 128.
        positive (optional): the positive class of a binary task. Default: the class coded 1/True, a
            yes-like name (or the other of a no-like name), else the later class in sorted order; the
            choice never depends on the counts, and the note says which rule chose it.
        drop (list[str]): table columns to leave out. Default: none.
        id_column (str, optional): a table column of row ids: not a feature; ``load_inputs`` gives its
            values as ``Inputs.ids`` (the CLI's predictions carry them). Default: none (rows numbered from 1).
        missing_target (str): rows without a label: ``"drop"`` (left out, with a note counting them)
            or ``"error"``. Default: ``"drop"``.
        sep (str, optional): CSV separator. Default: sniffed (``,`` ``;`` tab ``|``), reported in the notes.
        encoding (str, optional): CSV text encoding. Default: from the byte-order mark, else UTF-8, else
            Windows-1252, reported in the notes.
        max_categories (int): one-hot categories kept per column. Default: ``50``.
        numeric_scaling (str): how numeric table columns are scaled after imputation, one of
            :data:`~logitlab.options.NUMERIC_SCALINGS`: ``"robust"`` (median and IQR, then a smooth clip to
            (-3, 3)), ``"standard"`` (mean and std) or ``"quantile"`` (to a standard normal); see
            :class:`~logitlab.data.numeric_columns.NumericColumn`. Default: ``"robust"``.
        text_columns (str or list[str]): table columns read as free text (TF-IDF of word and character
            n-grams, :mod:`logitlab.data.text`): ``"auto"`` (detected by
            :data:`~logitlab.options.TEXT_DETECTION`, each noted), a list of columns, or ``[]`` (none).
            Default: ``"auto"``.
        label_pattern (str): regex whose first group (or group ``label``) is the label of a file name.
            Default: :data:`~logitlab.data.image_files.DEFAULT_LABEL_PATTERN`.
        image_column (str, optional): the path column of a CSV of images. Default: detected by name.
        allow_outside_root (bool): let an image CSV or folder, or the files of a streamed folder or glob,
            point outside its folder (paths, symbolic links). Default: ``False``.
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
        target=target, task=task, label_sep=label_sep, label_map=parse_label_map(label_map), val_size=val_size, test_size=test_size, seed=seed,
        image_size=image_size, positive=positive, drop=drop, id_column=id_column,
        missing_target=missing_target, sep=sep, encoding=encoding, max_categories=max_categories,
        numeric_scaling=numeric_scaling, text_columns=text_columns, label_pattern=label_pattern, image_column=image_column, allow_outside_root=allow_outside_root,
        channels=channels, normalize=normalize, max_memory_mb=max_memory_mb, streaming=streaming,
        split_key=split_key,
    )  # fmt: skip
    OPTIONS["missing_target"].check(missing_target)
    OPTIONS["numeric_scaling"].check(numeric_scaling)
    resolved = Spec.of(spec, image_column=image_column, sep=sep, encoding=encoding, streaming=streaming)
    bundle = pick_source(resolved).load(resolved, options)
    bundle.notes[:0] = resolved.notes
    return bundle


def load_inputs(
    spec: str | Path,
    state: DataState,
    *,
    require_targets: bool = False,
    labels: str = "read",
    sep: str | None = None,
    encoding: str | None = None,
) -> Inputs:
    """Read data for a trained model (predict/evaluate) with the model's :class:`DataState`.

    The features go through the model's fitted preprocessing and the labels through its label
    encoder: nothing is fitted on this data. Extra or reordered columns are fine; a missing feature
    column raises. Targets are read when present (the target columns, class subfolders, or file names
    the training ``label_pattern`` matches with known labels).

    Args:
        spec (str or Path): as :func:`load_dataset`; a builtin spec gives all its rows.
        state (DataState): from ``bundle.state`` (or ``DataState.from_dict``).
        require_targets (bool): raise when the data has no targets. Default: ``False``.
        labels (str): ``"read"``: targets when present, a missing or unseen label raises;
            ``"ignore"``: the targets are never read (for predictions: any value, or none, is fine);
            ``"usable"``: rows whose label is missing or unseen in training are left out, counted in
            ``Inputs.excluded`` and in the notes (for metrics). Default: ``"read"``.
        sep (str, optional): CSV separator. Default: sniffed.
        encoding (str, optional): CSV text encoding. Default: sniffed.

    Raises:
        DataError: missing columns, unknown labels (naming the row), unreadable images.
    """
    _check_choice("labels", labels, LABEL_MODES)
    resolved = Spec.of(
        spec, kind=state.kind, image_column=state.options.get("image_column"), sep=sep, encoding=encoding
    )
    source = pick_source(resolved)
    if "labels" in inspect.signature(source.inputs).parameters:
        inputs = source.inputs(resolved, state, require_targets=require_targets, labels=labels)
    else:  # a source written before `labels`: it reads targets when present
        inputs = source.inputs(resolved, state, require_targets=require_targets)
        if labels == "ignore":
            inputs.y = None
    inputs.notes[:0] = resolved.notes
    return inputs


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(
            f"Got an invalid value for argument `{name}`: {value!r}.",
            fix=f"use one of {choices_text(choices)}.",
            code="bad-param",
            param=name,
        )


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
