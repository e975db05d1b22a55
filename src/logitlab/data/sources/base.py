"""The interface every data source implements, and the spec and options a source receives.

A source is one way of reading data (a table, an image folder, a CSV of image paths, a built-in set).
It says whether it reads a spec (:meth:`Source.detect`), loads it for training with labels and a split
(:meth:`Source.load`), and reads it for a trained model (:meth:`Source.inputs`). To add a source, write
one subclass and put an instance in :data:`logitlab.data.sources.SOURCES`, before any source that
would also claim its specs.

Examples:
    >>> Spec.of("builtin:digits").path is None, Spec.of("no/such/data.csv").is_table_file()
    (True, False)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from ...options import LOAD_DEFAULTS, MAX_CATEGORIES
from ...tasks import Task
from ..bundle import DatasetBundle, DataState, Inputs, Kind
from ..image_files import DEFAULT_LABEL_PATTERN, Normalize
from ..row_names import RowNamer
from ..tabular import TABLE_SUFFIXES, read_table

__all__ = ["BUILTIN_PREFIX", "LoadOptions", "Source", "Spec"]

BUILTIN_PREFIX = "builtin:"


@dataclass(frozen=True)
class LoadOptions:
    """The options of :func:`~logitlab.data.load_dataset`; their defaults are the function's defaults.

    Each source reads the options that apply to it and ignores the others.
    """

    target: str | Sequence[str] | None = None  # label column(s) of a table / CSV of images
    task: Task | str | None = None  # override the inferred task
    label_sep: str = LOAD_DEFAULTS["label_sep"]  # separator of label lists in one cell
    label_map: Any = None  # label spellings -> one value, before encoding (label_map.py)
    val_size: float = LOAD_DEFAULTS["val_size"]  # share of the validation split
    test_size: float = LOAD_DEFAULTS["test_size"]  # share of the test split
    seed: int = 0  # seed of the stratified split
    image_size: int | Sequence[int] | None = None  # resize images (default: their size if all agree)
    positive: Any = None  # the positive class of a binary task
    drop: Sequence[str] = ()  # table columns to leave out
    id_column: str | None = None  # a table column of row ids: not a feature, carried into predictions
    missing_target: str = LOAD_DEFAULTS["missing_target"]  # rows without a label: "drop" (noted) or "error"
    sep: str | None = None  # CSV separator (default: sniffed)
    encoding: str | None = None  # CSV text encoding (default: sniffed)
    max_categories: int = MAX_CATEGORIES  # one-hot categories kept per column
    numeric_scaling: str = LOAD_DEFAULTS["numeric_scaling"]  # robust / standard / quantile (NUMERIC_SCALINGS)
    text_columns: Any = LOAD_DEFAULTS[
        "text_columns"
    ]  # "auto" (detected), or the table's text columns ([]: none)
    label_pattern: str = DEFAULT_LABEL_PATTERN  # regex for labels in image file names
    image_column: str | None = None  # the path column of a CSV of images
    allow_outside_root: bool = False  # let images, or streamed tables' files, point outside their folder
    channels: int | None = None  # 1 or 3 image channels
    normalize: Normalize = "dataset"  # image normalisation
    max_memory_mb: float = 512  # images larger than this in total stay on disk (lazy)
    streaming: bool = False  # stream a table (a file, glob or folder of files) instead of reading it whole
    split_key: str | None = None  # streaming: split by a hash of this column (default: of the row index)

    @property
    def split(self) -> dict[str, Any]:
        """The options of the labels and the split: ``task``, ``val_size``, ``test_size``, ``seed``, ``positive``."""
        return {
            "task": self.task,
            "val_size": self.val_size,
            "test_size": self.test_size,
            "seed": self.seed,
            "positive": self.positive,
        }


@dataclass
class Spec:
    """A data spec as given, resolved once: a built-in name or a path, and what the reader knows of it.

    Attributes:
        text (str): the spec as given.
        path (Path or None): the path (``~`` expanded); ``None`` for ``builtin:NAME``.
        kind (str or None): the kind a trained model reads (``"tabular"``/``"image"``); ``None`` when training.
        image_column (str or None): the path column of a CSV of images: given, or saved with the model.
        sep (str or None): the CSV separator; ``None`` sniffs it.
        encoding (str or None): the CSV text encoding; ``None`` sniffs it.
        notes (list[str]): how the table was read (a sniffed separator or encoding), once read.
        streaming (bool): read the spec (a table file, a glob or a folder of tables) as a stream.
    """

    text: str
    path: Path | None
    kind: Kind | None = None
    image_column: str | None = None
    sep: str | None = None
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)
    streaming: bool = False
    _table: tuple[pd.DataFrame, RowNamer] | None = field(default=None, init=False, repr=False)

    @classmethod
    def of(
        cls,
        spec: str | Path,
        *,
        kind: Kind | None = None,
        image_column: str | None = None,
        sep: str | None = None,
        encoding: str | None = None,
        streaming: bool = False,
    ) -> Spec:
        """Resolve ``spec`` (nothing is read yet)."""
        if isinstance(spec, str) and spec.strip().lower().startswith(BUILTIN_PREFIX):
            return cls(spec, None, kind, image_column, sep, encoding)
        return cls(str(spec), Path(spec).expanduser(), kind, image_column, sep, encoding, streaming=streaming)

    def is_table_file(self) -> bool:
        """The spec is an existing file with a table suffix (CSV, TSV, Parquet)."""
        return self.path is not None and self.path.is_file() and self.path.suffix.lower() in TABLE_SUFFIXES

    def table(self) -> tuple[pd.DataFrame, RowNamer]:
        """The table and its row namer, read on the first call (see :func:`~logitlab.data.tabular.read_table`)."""
        if self._table is None:
            assert self.path is not None, "a built-in spec has no table file"
            self._table = read_table(self.path, sep=self.sep, encoding=self.encoding, notes=self.notes)
        return self._table


class Source(ABC):
    """One way of reading data; :data:`~logitlab.data.sources.SOURCES` holds one instance of each.

    Attributes:
        describe (str): what the source reads, for the message about a spec no source reads.
    """

    describe: ClassVar[str]

    @abstractmethod
    def detect(self, spec: Spec) -> bool:
        """This source reads ``spec`` (it may read the spec's table to tell)."""

    @abstractmethod
    def load(self, spec: Spec, options: LoadOptions) -> DatasetBundle:
        """Load ``spec`` for training: labels required, split, preprocessing fitted on the training split."""

    @abstractmethod
    def inputs(self, spec: Spec, state: DataState, *, require_targets: bool, labels: str = "read") -> Inputs:
        """Read ``spec`` for a trained model with its :class:`DataState` (targets when present or required).

        ``labels``: one of :data:`~logitlab.options.LABEL_MODES` (see :func:`~logitlab.data.load_inputs`).
        """
