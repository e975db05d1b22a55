"""Data: files, folders, built-in sets and in-memory arrays -> split, preprocessed tensors with the task.

Additions to contracts.md "data/" (compatible; read these before using the bundle):

* ``DatasetBundle.label_names`` are the names of the ``n_outputs`` logits: ``[positive class]`` for binary
  (one logit), the ``L`` labels for multilabel, the ``C`` classes for multiclass. All classes (binary:
  ``[negative, positive]``) are in ``bundle.label_encoder.classes``; the positive class in
  ``bundle.label_encoder.positive`` (chosen: given ``positive=``, else the class coded 1/True, else a
  yes/positive-like name, else the minority class; the choice is in ``notes``).
* ``DatasetBundle`` also has ``label_encoder`` (:class:`LabelEncoder`), ``n_outputs``, ``source``, ``target``
  (the target column names), ``options`` and ``state`` -> :class:`DataState` (kind, task, encoder,
  preprocessor, input shape, target, options; JSON via ``to_dict()`` / ``DataState.from_dict``): save
  ``bundle.state.to_dict()`` in model.json; at predict time ``state.transform(X)`` (in-memory X) or
  ``load_inputs(spec, state)`` -> :class:`Inputs` ``(x, y or None, ids, notes)`` (files/folders/builtin).
* ``Split`` has ``x``, ``y`` and ``index`` (source row positions), ``len()``, ``in_memory``, ``dataset()``
  (a torch Dataset of ``(x, y)``), ``training_data()`` (what ``Trainer.fit`` takes: ``(x, y)`` tensors,
  or a lazy :class:`PairDataset`), ``batches(n)`` (float32 inference batches, loaded one at a time)
  and ``materialize()``. A large image folder gives a lazy ``x`` (:class:`ImageDataset`, items
  ``[C, H, W]``); ``y`` is always a tensor. ``Inputs`` has ``batches(n)`` too.
* Each way of reading data is a :class:`Source` (``detect``, ``load``, ``inputs``) in :data:`SOURCES`;
  ``load_dataset``/``load_inputs`` pick one per spec. Rows are named by one :class:`RowNamer`.
* :func:`from_arrays` ``(X, y, *, task, label_sep, val_size, test_size, seed, positive, label_names,
  standardize)`` for the estimator (DataFrame -> tabular preprocessing; arrays -> standardised per
  feature / per channel); ``val_size``/``test_size`` may be 0 (empty split). :func:`encode_labels` /
  :class:`LabelEncoder` (``fit``, ``transform``, ``inverse_transform``, ``to_dict``/``from_dict``).
* ``preprocessor_from_dict(d)`` rebuilds any preprocessor (``"type"``: tabular, array, image).
* Tables larger than memory: ``load_dataset(spec, streaming=True)`` (a file, glob or folder of
  Parquet/CSV files) gives splits (:class:`StreamSplit`) whose rows stay in the files, fitted in one
  pass; :class:`StreamingTable` is the ``IterableDataset`` behind them (:mod:`logitlab.data.streaming`).

Examples:
    >>> b = load_dataset("builtin:digits", seed=0)
    >>> b.task.value, b.input_shape, b.n_outputs, b.train.y.dtype
    ('multiclass', (1, 8, 8), 10, torch.int64)
"""

from __future__ import annotations

from .array_preprocessor import ArrayPreprocessor
from .arrays import from_arrays, transform_inputs
from .batches import PairDataset
from .bundle import DatasetBundle, DataState, Inputs, Split
from .image_files import DEFAULT_LABEL_PATTERN, ImageDataset, ImagePreprocessor
from .label_encoder import LabelEncoder, encode_labels
from .preprocessors import preprocessor_from_dict
from .row_names import RowNamer
from .sources import SOURCES, LoadOptions, Source, Spec, load_dataset, load_inputs
from .sources.builtin import BUILTIN_NAMES, load_builtin
from .split import iterative_stratification, split_indices
from .streaming import HashSplit, StreamingTable, StreamSplit, load_streaming
from .tabular_preprocessor import TabularPreprocessor

__all__ = [
    "BUILTIN_NAMES",
    "DEFAULT_LABEL_PATTERN",
    "SOURCES",
    "ArrayPreprocessor",
    "DataState",
    "DatasetBundle",
    "HashSplit",
    "ImageDataset",
    "ImagePreprocessor",
    "Inputs",
    "LabelEncoder",
    "LoadOptions",
    "PairDataset",
    "RowNamer",
    "Source",
    "Spec",
    "Split",
    "StreamSplit",
    "StreamingTable",
    "TabularPreprocessor",
    "encode_labels",
    "from_arrays",
    "iterative_stratification",
    "load_builtin",
    "load_dataset",
    "load_inputs",
    "load_streaming",
    "preprocessor_from_dict",
    "split_indices",
    "transform_inputs",
]
