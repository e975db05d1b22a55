"""The source of tables read as a stream: a Parquet/CSV file, a glob or a folder of them (``streaming=True``)."""

from __future__ import annotations

from ...errors import DataError
from ..bundle import DatasetBundle, DataState, Inputs
from ..streaming import load_streaming
from .base import LoadOptions, Source, Spec

__all__ = ["StreamingSource"]


class StreamingSource(Source):
    """Tables too large for memory (see :mod:`logitlab.data.streaming`); only for ``streaming=True``."""

    describe = "a glob or folder of Parquet/CSV files (with streaming=True)"

    def detect(self, spec: Spec) -> bool:
        """A path spec loaded with ``streaming=True``."""
        return spec.streaming and spec.path is not None

    def load(self, spec: Spec, options: LoadOptions) -> DatasetBundle:
        """A streaming bundle: one statistics pass, hash splits that stay in the files."""
        return load_streaming(
            spec.text, target=options.target, label_sep=options.label_sep, label_map=options.label_map, drop=options.drop,
            max_categories=options.max_categories, numeric_scaling=options.numeric_scaling, split_key=options.split_key, allow_outside_root=options.allow_outside_root, **options.split,
        )  # fmt: skip

    def inputs(self, spec: Spec, state: DataState, *, require_targets: bool, labels: str = "read") -> Inputs:
        """Not available: predictions are written for tables read whole."""
        raise DataError(
            f"Reading {spec.text} for a trained model is not streamed.",
            fix="predict file by file (logitlab predict RUN data/part-0.parquet), or with Classifier.predict on batches.",
            code="streaming-inputs",
        )
