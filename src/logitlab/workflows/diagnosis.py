"""``doctor`` (the data's labels and an untrained model's first batch) and ``plot_loss``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .common import Echo, load_data, named_labels

if TYPE_CHECKING:
    from ..doctor import Report

__all__ = ["doctor", "plot_loss"]


def doctor(
    spec: str,
    *,
    load: Mapping[str, Any],
    task: str = "auto",
    loss: str = "auto",
    imbalance: str = "auto",
    model: str = "auto",
    rows: int = 256,
    echo: Echo | None = None,
) -> dict[str, Report]:
    """Doctor reports for a data set: its labels, and one shuffled batch of the untrained model ``fit`` would train.

    The model, loss and weights are the ones :meth:`Classifier.training_setup` builds for these options.
    ``echo`` receives the data summary and the notes of loading (once each).
    """
    import torch

    from ..doctor import Report, diagnose, diagnose_dataset
    from ..estimator import Classifier
    from .advice import in_light_of_run

    bundle = load_data(spec, load, task=task)
    if echo is not None:
        echo(f"data: {bundle.summary()}")
        for note in dict.fromkeys([*bundle.label_encoder.notes, *bundle.notes]):
            echo(f"note: {note}")
    labels = torch.cat([s.y for s in (bundle.train, bundle.val, bundle.test) if len(s)])
    dataset = diagnose_dataset(named_labels(labels, bundle), task=bundle.task)
    text = _text_findings(bundle)
    if text:
        dataset = Report([*dataset.findings, *text], title=dataset.title)
    reports = {f"dataset {spec} ({len(labels)} rows)": dataset}
    clf = Classifier(task=bundle.task.value, loss=loss, imbalance=imbalance, model=model)
    setup = clf.training_setup(bundle)
    x, y = _random_batch(setup.bundle.train, rows)  # hf: the token ids the model reads
    setup.model.train()
    logits = setup.model(x)
    setup.loss_fn(logits, y).backward()
    built = dict(getattr(setup.model, "model_spec", {})).get("name", model)
    name = f"a shuffled batch of {len(y)}, untrained {built}, {type(setup.loss_fn).__name__}"
    reports[name] = diagnose(logits, y, setup.loss_fn, task=bundle.task, model=setup.model, inputs=x)
    weights = setup.weights.to_dict() if setup.weights is not None else None
    planned = {"weights": weights, "calibration": {"method": "auto"}}  # what `logitlab train` would do
    training = clf.fit_decisions_.training
    assert training is not None  # training_setup resolved it
    by = f"`logitlab train --imbalance {training.imbalance}`"  # 'auto' as resolved
    return {k: Report(in_light_of_run(r.findings, planned, by=by), title=r.title) for k, r in reports.items()}


def _random_batch(split: Any, rows: int, seed: int = 0) -> tuple[Any, Any]:
    """``rows`` training rows drawn at random (seeded), as the trainer's shuffled batches are.

    The rows in file order are not a fair batch: a file sorted by its label gives a first batch of one class.
    Sparse-native rows keep the first ``rows`` (their batches are built by the dataset itself).
    """
    import torch
    from torch.utils.data import Subset

    from ..data.batches import iter_batches

    n = min(rows, len(split))
    idx = torch.randperm(len(split), generator=torch.Generator().manual_seed(seed))[:n].sort().values
    if isinstance(split.x, torch.Tensor) and split.x.layout == torch.strided:
        return split.x[idx].float(), split.y[idx]
    if not isinstance(split.x, torch.Tensor) and not getattr(split.x, "native", False):
        return next(iter_batches(Subset(split.x, idx.tolist()), n)), split.y[idx]
    x = next(split.batches(rows))
    return x, split.y[: len(x)]


def _text_findings(bundle: Any) -> list[Any]:
    """``text-read-as-category`` for the table's category (or dropped) columns that hold free text."""
    from ..data.text import text_profile
    from ..doctor import diagnose_text_columns

    table, pre = getattr(bundle, "table", None), bundle.state.preprocessor
    tab = getattr(pre, "table", pre)
    if table is None or not hasattr(tab, "categorical"):
        return []
    names = [c.name for c in tab.categorical] + list(getattr(tab, "dropped", []))
    profiles = {n: p for n in names if n in table.columns and (p := text_profile(table[n])) is not None}
    return diagnose_text_columns(profiles, getattr(pre, "text_columns", []))


def plot_loss(
    name: str,
    options: Mapping[str, Any],
    out: str | os.PathLike[str],
    *,
    compare: str = "auto",
    logit_range: float | None = None,
    overwrite: bool = False,
) -> Path:
    """:func:`logitlab.report.plots.plot_loss_curves` for a binary loss: the loss and its gradient against the logit.

    ``out`` is checked first (:func:`~logitlab.workflows.outputs.check_output_file`): not a folder, not
    inside a run directory, and an existing file is replaced only with ``overwrite=True``.
    """
    from ..files import output_errors
    from ..report.plots import plot_loss_curves
    from .outputs import check_output_file

    path = check_output_file(out, overwrite=overwrite, what="plot")
    extra: dict[str, Any] = {} if logit_range is None else {"logit_range": logit_range}
    with output_errors(path.parent):
        return plot_loss_curves(path, task="binary", name=name, compare=compare, **extra, **dict(options))
