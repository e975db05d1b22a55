"""The containers of loaded data: :class:`Split`, :class:`DatasetBundle`, :class:`DataState`, :class:`Inputs`.

:class:`DataState` is what a saved model needs to read new data the same way. A split (or new inputs)
of a large image folder is lazy: its ``x`` is a Dataset that opens each image when asked.
:meth:`Split.training_data` gives what :meth:`logitlab.train.Trainer.fit` takes without loading it, and
:meth:`Split.batches` / :meth:`Inputs.batches` give inference batches one at a time.

Examples:
    >>> import torch
    >>> s = Split(torch.zeros(4, 3), torch.tensor([[0.0], [1.0], [0.0], [1.0]]))
    >>> len(s), s.x.shape
    (4, torch.Size([4, 3]))
    >>> [b.shape[0] for b in s.batches(3)]
    [3, 1]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset, Subset, TensorDataset

from ..label_counts import LabelCounts
from ..tasks import Task
from .batches import PairDataset, iter_batches
from .label_encoder import LabelEncoder
from .preprocessors import preprocessor_from_dict, transform_features
from .split import small_split_notes

__all__ = [
    "DataState",
    "DatasetBundle",
    "Inputs",
    "Split",
    "make_bundle",
]

Kind = Literal["tabular", "image"]


@dataclass
class Split:
    """One split of a dataset.

    Attributes:
        x (Tensor[N, F], Tensor[N, C, H, W] or Dataset): float32 features or images; a lazy
            ``Dataset`` of image tensors ``[C, H, W]`` for large image folders.
        y (Tensor[N, 1], Tensor[N, L] or Tensor[N]): targets in ``prepare_targets`` form (binary float
            ``[N, 1]``, multilabel float ``[N, L]``, multiclass int64 ``[N]``).
        index (ndarray[N]): positions of these rows in the source (file rows, image list). Default: ``0..N-1``.
    """

    x: Tensor | Dataset
    y: Tensor
    index: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __post_init__(self) -> None:
        if len(self.index) == 0 and len(self.y):
            self.index = np.arange(len(self.y), dtype=np.int64)

    def __len__(self) -> int:
        return len(self.y)

    @property
    def in_memory(self) -> bool:
        """``x`` is a tensor (not a lazy Dataset)."""
        return isinstance(self.x, Tensor)

    def dataset(self) -> Dataset:
        """A torch ``Dataset`` of ``(x, y)`` pairs (for a ``DataLoader``); lazy splits stay lazy."""
        if isinstance(self.x, Tensor):
            return TensorDataset(self.x, self.y)
        return PairDataset(self.x, self.y)

    def training_data(self) -> tuple[Tensor, Tensor] | Dataset:
        """What :meth:`logitlab.train.Trainer.fit` takes, without loading a lazy split into memory.

        Returns:
            ``(x, y)``: float32 ``x`` and the targets, for an in-memory split (the trainer's fast
            in-memory batches); or a :class:`PairDataset` of ``(x[i], y[i])`` for a lazy one, whose
            images are opened as the trainer's ``DataLoader`` asks for them.

        Examples:
            >>> s = Split(torch.zeros(4, 3), torch.zeros(4, 1))
            >>> x, y = s.training_data()
            >>> x is s.x, y is s.y
            (True, True)
        """
        if isinstance(self.x, Tensor):
            return self.x.float(), self.y
        return PairDataset(self.x, self.y)

    def batches(self, batch_size: int) -> Iterator[Tensor]:
        """The inputs ``x`` in order, as float32 batches of up to ``batch_size`` rows (for inference).

        A lazy split loads one batch at a time; an in-memory one yields views of ``x``.
        """
        return iter_batches(self.x, batch_size)

    def label_counts(self, task: Task | str, *, num_classes: int | None = None) -> LabelCounts:
        """How many rows hold each label / class: what :func:`~logitlab.weights.imbalance_weights` needs.

        Examples:
            >>> Split(torch.zeros(3, 1), torch.tensor([0, 2, 2])).label_counts("multiclass").sums.tolist()
            [1.0, 0.0, 2.0]
        """
        return LabelCounts.of(self.y, task, num_classes=num_classes)

    def materialize(self) -> Tensor:
        """``x`` as one tensor (loads a lazy image dataset into memory; prefer :meth:`training_data` or :meth:`batches`)."""
        if isinstance(self.x, Tensor):
            return self.x
        items = [self.x[i] for i in range(len(self))]  # type: ignore[arg-type]
        return torch.stack(items) if items else torch.zeros(0)


@dataclass
class DataState:
    """Everything needed to read new data like the training data; JSON via ``to_dict``/``from_dict``.

    Attributes:
        kind (str): ``"tabular"`` or ``"image"``.
        task (Task): the task.
        label_encoder (LabelEncoder): label names <-> target tensors.
        preprocessor: the fitted :class:`TabularPreprocessor`, :class:`ArrayPreprocessor` or
            :class:`ImagePreprocessor`.
        input_shape (tuple[int, ...]): shape of one model input.
        target (list[str] or None): target column(s) of a table / CSV of images.
        options (dict): reading options (``label_sep``, ``label_pattern``, ``image_column``, ...).
    """

    kind: Kind
    task: Task
    label_encoder: LabelEncoder
    preprocessor: Any
    input_shape: tuple[int, ...]
    target: list[str] | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def transform(self, x: Any) -> Tensor | Dataset:
        """Preprocess in-memory inputs (DataFrame, array, tensor) to the model's float32 input tensor.

        A scipy sparse ``x`` gives a lazy :class:`~logitlab.data.sparse.SparseRows` dataset instead.
        """
        return transform_features(x, self.preprocessor)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        return {
            "kind": self.kind,
            "task": self.task.value,
            "label_encoder": self.label_encoder.to_dict(),
            "preprocessor": self.preprocessor.to_dict(),
            "input_shape": list(self.input_shape),
            "target": self.target,
            "options": dict(self.options),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DataState:
        """Rebuild from :meth:`to_dict` output."""
        return cls(
            d["kind"],
            Task.from_str(d["task"]),
            LabelEncoder.from_dict(d["label_encoder"]),
            preprocessor_from_dict(d["preprocessor"]),
            tuple(d["input_shape"]),
            d.get("target"),
            dict(d.get("options", {})),
        )


@dataclass
class Inputs:
    """New data read with a :class:`DataState`: inputs, targets when present, and row ids.

    Attributes:
        x (Tensor or Dataset): model inputs.
        y (Tensor or None): targets, when the data has the target column(s)/labels.
        ids (list): one id per row: the id column's values, the 1-based row of a table (the same
            for CSV and Parquet), or the image path.
        notes (list[str]): imputations, unknown categories, rows left out.
        id_name (str): what the ids are: the id column's name, ``"row"`` or ``"path"``. Default: ``"id"``.
        excluded (int): rows of the source left out because their label was missing or unseen in
            training (``labels="usable"``). Default: ``0``.
    """

    x: Tensor | Dataset
    y: Tensor | None
    ids: list[Any]
    notes: list[str] = field(default_factory=list)
    id_name: str = "id"
    excluded: int = 0

    def __len__(self) -> int:
        return len(self.ids)

    def batches(self, batch_size: int) -> Iterator[Tensor]:
        """The inputs ``x`` in order, as float32 batches of up to ``batch_size`` rows; lazy images load per batch."""
        return iter_batches(self.x, batch_size)

    def subset(self, rows: np.ndarray) -> Inputs:
        """The inputs at positions ``rows`` (a lazy image dataset stays lazy).

        Examples:
            >>> inputs = Inputs(torch.arange(6.0).reshape(3, 2), None, [1, 2, 3])
            >>> inputs.subset(np.array([2, 0])).ids
            [3, 1]
        """
        rows = np.asarray(rows, dtype=np.int64)
        x: Any = (
            self.x[torch.from_numpy(rows)] if isinstance(self.x, Tensor) else Subset(self.x, rows.tolist())
        )
        y = self.y[torch.from_numpy(rows)] if self.y is not None else None
        ids = [self.ids[int(i)] for i in rows]
        return Inputs(x, y, ids, list(self.notes), self.id_name, self.excluded)


@dataclass
class DatasetBundle:
    """A dataset split for training: what :func:`~logitlab.data.load_dataset` returns.

    Attributes:
        train, val, test (Split): the splits (``val``/``test`` may be empty).
        task (Task): the task; ``task_reason`` says why.
        label_names (list[str]): names of the ``n_outputs`` logits (binary: ``[positive class]``).
        kind (str): ``"tabular"`` or ``"image"``.
        input_shape (tuple[int, ...]): shape of one model input (``(F,)`` or ``(C, H, W)``).
        preprocessor: fitted preprocessing (``to_dict()``/``from_dict()``).
        notes (list[str]): every decision and repair made while loading.
        label_encoder (LabelEncoder): label values <-> targets (``classes``, ``positive``).
        source (str): the spec the data came from.
        target (list[str] or None): the target column(s), for tables and CSVs of images.
        options (dict): reading options, kept in :attr:`state`.
        table (DataFrame or None): the table as read (every row and column, before any was left
            out), for tables only: ``table.iloc[split.index]`` gives a split's raw rows (used for the
            report's permutation importance). Not saved. Default: ``None``.
    """

    train: Split
    val: Split
    test: Split
    task: Task
    task_reason: str
    label_names: list[str]
    kind: Kind
    input_shape: tuple[int, ...]
    preprocessor: Any
    notes: list[str]
    label_encoder: LabelEncoder
    source: str = "arrays"
    target: list[str] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    table: Any = field(default=None, repr=False)

    @property
    def n_outputs(self) -> int:
        """Logits a model needs: 1 for binary, ``L`` for multilabel, ``C`` for multiclass."""
        return self.label_encoder.n_outputs

    @property
    def state(self) -> DataState:
        """The :class:`DataState` to save with a model."""
        return DataState(
            self.kind,
            self.task,
            self.label_encoder,
            self.preprocessor,
            self.input_shape,
            self.target,
            dict(self.options),
        )

    def summary(self) -> str:
        """One line: source, task, sizes and outputs."""
        return (
            f"{self.source}: {self.task.value} ({self.task_reason}); {self.kind} input {list(self.input_shape)}; "
            f"train/val/test = {len(self.train)}/{len(self.val)}/{len(self.test)}; "
            f"outputs: {', '.join(self.label_names[:10])}{' ...' if len(self.label_names) > 10 else ''}"
        )


def make_bundle(
    x_all: Tensor | Callable[[np.ndarray], Dataset],
    targets: Tensor,
    enc: LabelEncoder,
    splits: tuple[np.ndarray, np.ndarray, np.ndarray],
    kind: Kind,
    preprocessor: Any,
    notes: list[str],
    *,
    source: str,
    target: list[str] | None = None,
    options: dict[str, Any] | None = None,
    input_shape: tuple[int, ...] | None = None,
    positions: np.ndarray | None = None,
) -> DatasetBundle:
    """Assemble a :class:`DatasetBundle` from every row's inputs and targets and the split positions.

    Args:
        x_all (Tensor[N, ...] or callable): every row's model input; or, for lazy data, a function
            giving the Dataset of the rows at some positions (then pass ``input_shape``).
        targets (Tensor[N, ...]): every row's targets.
        enc (LabelEncoder): the fitted label encoder (gives the task, its reason and the label names).
        splits ((ndarray, ndarray, ndarray)): train, validation and test positions.
        kind (str): ``"tabular"`` or ``"image"``.
        preprocessor: the fitted preprocessing.
        notes (list[str]): the decisions made while loading.
        source (str): the spec the data came from.
        target (list[str], optional): the target column(s). Default: none.
        options (dict, optional): reading options, saved in :attr:`DatasetBundle.state`. Default: none.
        input_shape (tuple[int, ...], optional): shape of one input; needed for lazy inputs only.
        positions (ndarray[N], optional): each row's position in the source, when rows were left out
            (``Split.index`` then names source rows). Default: ``0..N-1``.
    """
    take = (lambda s: x_all[s]) if isinstance(x_all, Tensor) else x_all
    where = (lambda s: s) if positions is None else (lambda s: np.asarray(positions)[s])
    train, val, test = (Split(take(s), targets[s], where(s)) for s in splits)
    notes = [*notes, *small_split_notes(enc, {"validation": val.y, "test": test.y})]
    shape = tuple(x_all.shape[1:]) if isinstance(x_all, Tensor) else input_shape
    assert shape is not None, "lazy inputs need input_shape"
    return DatasetBundle(
        train, val, test, enc.task, enc.reason, enc.output_names, kind, shape, preprocessor, notes, enc,
        source, target, dict(options or {}),
    )  # fmt: skip
