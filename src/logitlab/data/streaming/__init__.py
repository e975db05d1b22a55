"""Tables larger than memory: Parquet/CSV files streamed by row group, sharded over ranks and workers.

* :class:`StreamingTable`: an ``IterableDataset`` of batches, every row exactly once per epoch over
  all DDP ranks and DataLoader workers, the same number of batches on every rank, a seeded bounded
  shuffle buffer, resumable mid-epoch (:mod:`.schedule` states the sharding rule).
* :func:`load_streaming`: one statistics pass (:func:`scan_table`) -> a :class:`DatasetBundle`
  whose splits (:class:`StreamSplit`, by a stable hash of the row index or a key column,
  :class:`HashSplit`) stay in the files; what ``load_dataset(..., streaming=True)`` and
  ``logitlab train 'data/*.parquet' --streaming`` use.
"""

from __future__ import annotations

from .bundle import StreamSplit, load_streaming
from .encode import TableEncoder
from .hashing import SPLIT_NAMES, HashSplit
from .manifest import Manifest, Unit, UnitReader, resolve_files
from .stats import TableStats, scan_table
from .table import StreamingTable, StreamLoader, count_split_rows, float_columns

__all__ = [
    "SPLIT_NAMES",
    "HashSplit",
    "Manifest",
    "StreamLoader",
    "StreamSplit",
    "StreamingTable",
    "TableEncoder",
    "TableStats",
    "Unit",
    "UnitReader",
    "count_split_rows",
    "float_columns",
    "load_streaming",
    "resolve_files",
    "scan_table",
]
