"""The source of CSV, TSV and Parquet tables: a target column (or several), the other columns features."""

from __future__ import annotations

from ...errors import DataError
from ..bundle import DatasetBundle, DataState, Inputs
from ..hf_text import HFTextPreprocessor
from ..tabular import bundle_from_frame, frame_inputs
from ..tabular_preprocessor import TabularPreprocessor
from ..text import TextTablePreprocessor
from .base import LoadOptions, Source, Spec

__all__ = ["TableSource"]


class TableSource(Source):
    """A ``.csv``/``.tsv``/``.parquet`` table (see :mod:`logitlab.data.tabular`)."""

    describe = "a CSV/Parquet table"

    def detect(self, spec: Spec) -> bool:
        """Any table file (after the image-CSV source has declined it)."""
        return spec.is_table_file()

    def load(self, spec: Spec, options: LoadOptions) -> DatasetBundle:
        """The table's bundle (target column(s), features preprocessed, split)."""
        frame, row_name = spec.table()
        return bundle_from_frame(
            frame, target=options.target, label_sep=options.label_sep, label_map=options.label_map, drop=options.drop,
            id_column=options.id_column, missing_target=options.missing_target,
            max_categories=options.max_categories, numeric_scaling=options.numeric_scaling, text_columns=options.text_columns, row_name=row_name, source=str(spec.path), **options.split,
        )  # fmt: skip

    def inputs(self, spec: Spec, state: DataState, *, require_targets: bool, labels: str = "read") -> Inputs:
        """The table's features (and targets when its target columns are there)."""
        if not isinstance(
            state.preprocessor, (TabularPreprocessor, TextTablePreprocessor, HFTextPreprocessor)
        ):
            raise DataError(
                f"This model was trained on {state.kind} arrays ({type(state.preprocessor).__name__}), "
                f"not on a table's named columns; got {spec.text}.",
                fix="pass the same kind of data as at training time (an array via Classifier.predict).",
                code="data-kind-mismatch",
            )
        frame, row_name = spec.table()
        return frame_inputs(frame, state, row_name=row_name, require_targets=require_targets, labels=labels)
