"""The source of ``builtin:NAME`` specs: the data sets that ship with scikit-learn (see :mod:`logitlab.data.builtin`)."""

from __future__ import annotations

from ..builtin import BUILTIN_NAMES, builtin_inputs, load_builtin
from ..bundle import DatasetBundle, DataState, Inputs
from .base import LoadOptions, Source, Spec

__all__ = ["BuiltinSource"]


class BuiltinSource(Source):
    """``builtin:breast_cancer``, ``builtin:digits``, ... (only the label and split options apply, ``label_map`` too)."""

    describe = "one of " + ", ".join("builtin:" + n for n in BUILTIN_NAMES)

    def detect(self, spec: Spec) -> bool:
        """A ``builtin:`` spec."""
        return spec.path is None

    def load(self, spec: Spec, options: LoadOptions) -> DatasetBundle:
        """The built-in set, split; an unknown name raises, listing the names."""
        return load_builtin(spec.text, label_map=options.label_map, **options.split)

    def inputs(self, spec: Spec, state: DataState, *, require_targets: bool, labels: str = "read") -> Inputs:
        """All rows of the built-in set, with their targets (none with ``labels="ignore"``)."""
        return builtin_inputs(spec.text, state, labels=labels)
