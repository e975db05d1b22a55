"""The containers of loaded data: :class:`Split`, :class:`DatasetBundle`, :class:`DataState`, :class:`Inputs`.

:class:`DataState` is what a saved model needs to read new data the same way.

Examples:
    >>> import torch
    >>> s = Split(torch.zeros(4, 3), torch.tensor([[0.0], [1.0], [0.0], [1.0]]))
    >>> len(s), s.x.shape
    (4, torch.Size([4, 3]))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset, TensorDataset

from ..tasks import Task
from .labels import LabelEncoder
from .preprocess import preprocessor_from_dict

__all__ = ["DataState", "DatasetBundle", "Inputs", "Split"]

Kind = Literal["tabular", "image"]


class _PairDataset(Dataset):
    """``(x[i], y[i])`` pairs from a lazy image dataset and a target tensor."""

    def __init__(self, x: Dataset, y: Tensor) -> None:
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        return self.x[i], self.y[i]


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
        """A torch ``Dataset`` of ``(x, y)`` pairs (for a ``DataLoader``)."""
        if isinstance(self.x, Tensor):
            return TensorDataset(self.x, self.y)
        return _PairDataset(self.x, self.y)

    def materialize(self) -> Tensor:
        """``x`` as one tensor (loads a lazy image dataset into memory)."""
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

    def transform(self, x: Any) -> Tensor:
        """Preprocess in-memory inputs (DataFrame, array, tensor) to the model's float32 input tensor."""
        from .arrays import transform_inputs

        return transform_inputs(x, self)

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
        ids (list[str]): one id per row: the file line / row for tables, the path for images.
        notes (list[str]): imputations, unknown categories.
    """

    x: Tensor | Dataset
    y: Tensor | None
    ids: list[str]
    notes: list[str] = field(default_factory=list)


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
