"""Training a Classifier's members: the trainer (or L-BFGS for ``model="linear"``), the best epochs, the logits.

Only the :mod:`logitlab.estimator` package imports this module.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from ..options import AUTO_EPOCHS, AUTO_SCHEDULE, HF_AUTO_EPOCHS
from ._choices import resolve_lr, training_budget
from ._params import resolve_device
from .decisions import EpochsChoice, LrChoice, MemberRun, TrainingChoice

if TYPE_CHECKING:
    from torch import Tensor, nn

    from ._crossfit import Plan

__all__ = [
    "FitSettings",
    "TrainingRun",
    "forward_logits",
    "selection_metrics",
    "refit_sparse",
    "train_linear",
    "train_model",
]


def selection_metrics(task: str) -> Any:
    """The trainer's ``metrics_fn``: :func:`~logitlab.evaluate.epoch_metrics` plus the unweighted ``log_loss``.

    The best epoch is picked on this log-loss (``val_log_loss``), not on the weighted training loss
    (``val_loss``), in which three rows of a rare class can carry a fifth of the total.
    """
    import torch.nn.functional as F

    from ..evaluate import epoch_metrics

    cheap = epoch_metrics(task)

    def metrics(logits: Any, targets: Any) -> dict[str, float]:
        z = logits.detach().float()
        if task == "multiclass":
            y = targets if targets.ndim == 2 else targets.long().reshape(-1)
            loss = F.cross_entropy(z, y.float() if y.ndim == 2 else y)
        else:
            loss = F.binary_cross_entropy_with_logits(z, targets.float().reshape(z.shape))
        return {**cheap(logits, targets), "log_loss": float(loss)}

    return metrics


def forward_logits(model: nn.Module, batches: Any, n_outputs: int) -> Any:
    """``model`` on float32 input batches, without gradients: logits ``[N, n_outputs]`` on the CPU."""
    import torch

    device = next(model.parameters()).device
    model.eval()
    out = []
    with torch.inference_mode():
        for b in batches:
            n = int(b.shape[0])
            if 0 < n < _MIN_ROWS and b.layout == torch.strided:
                b = torch.cat([b, b[-1:].expand(_MIN_ROWS - n, *b.shape[1:])])
            out.append(model(b.to(device)).float().cpu()[:n])
    logits = torch.cat(out) if out else torch.empty(0, n_outputs)
    return logits.reshape(len(logits), n_outputs)


# inference batches of fewer rows are padded to this many (repeating the last row): BLAS takes other
# kernels below 16 rows (measured: 8 rows still differ), whose float32 rounding would make a row's output
# depend on its batch (scikit-learn's check_methods_subset_invariance predicts row by row)
_MIN_ROWS = 16


@dataclass(frozen=True)
class FitSettings:
    """What training reads of a Classifier: its parameters as the fit resolved them, and its labels' shape.

    Attributes:
        task (str), n_outputs (int), input_shape (tuple[int, ...]): the task and the logits' and inputs' shapes.
        model (str): the ``model`` parameter (names the learning rate of ``"auto"``).
        epochs, lr: the ``epochs`` and ``lr`` parameters (a number or ``"auto"``).
        batch_size (int), precision (str), device (str), verbose (bool): as given.
        seed (int): the fit's seed (member ``k`` trains with ``seed + 1000 * k``).
        training (TrainingChoice): ``imbalance`` and ``weight_decay`` as resolved (``decisions_["training"]``).
    """

    task: str
    n_outputs: int
    input_shape: tuple[int, ...]
    model: str
    epochs: Any
    lr: Any
    batch_size: int
    precision: str
    device: str
    verbose: bool
    seed: int
    training: TrainingChoice


@dataclass
class TrainingRun:
    """What :func:`train_model` trained and decided; the Classifier keeps it as its fitted state.

    Attributes:
        model (nn.Module): in eval mode (on the CPU when the run was on the CPU).
        history (list[dict]): member 1's per-epoch rows. health (HealthMonitor or None): member 1's monitor.
        best_epoch (int or None): member 1's, from 1. oof (Tensor or None): the out-of-fold logits of
            ``plan.calibration``'s rows when cross-fitting.
        lr (LrChoice or None): ``None`` for ``model="linear"`` (L-BFGS). epochs (EpochsChoice or None).
        members (list[MemberRun] or None), best_epochs (list or None): with several members.
        training (TrainingChoice or None): the choice as training changed it (``None``: as resolved).
        notes (list[str]): what training adds to ``decisions_["notes"]``.
    """

    model: nn.Module
    history: list[dict[str, Any]]
    health: Any
    best_epoch: int | None
    oof: Tensor | None
    lr: LrChoice | None
    epochs: EpochsChoice | None
    members: list[MemberRun] | None = None
    best_epochs: list[int | None] | None = None
    training: TrainingChoice | None = None
    notes: list[str] = field(default_factory=list)


def train_model(
    s: FitSettings,
    setup: Any,
    run_dir: Any,
    plan: Plan,
    *,
    resume: bool = False,
    on_monitor: Callable[[Any], None] | None = None,
) -> TrainingRun:
    """Train each member of ``setup.model`` on its rows of ``plan``, keeping its best epoch's weights.

    With ``resume``, each member's trainer continues from the last checkpoint in its run directory
    (``TrainConfig(resume="auto")``), if it has one.

    Every member is early-stopped on its own rows (a fold, or the first half of the validation split)
    by the unweighted validation log-loss. The last batch of an epoch is dropped when it would hold a
    single row (BatchNorm cannot train on one row; the rows are reshuffled every epoch, so none is
    left out for good). ``on_monitor`` is given member 1's health monitor before it trains, so a run that
    fails still shows what the monitor saw.
    """
    import torch

    from ..data.batches import rows_per_batch
    from ..doctor.monitor import HealthMonitor
    from ..models import Ensemble
    from ..train import EarlyStopping, ReduceLROnPlateau, RestoreBestWeights, TrainConfig, Trainer
    from ._convex_fit import full_batch_kind, minibatch_note

    name = getattr(setup.model, "model_spec", {}).get("name")
    # fitted by L-BFGS (model='linear', the sparse linear model)
    linear, hf = full_batch_kind(setup.model, s.precision) is not None, name == "hf"
    members = list(setup.model.members) if isinstance(setup.model, Ensemble) else [setup.model]
    assert len(members) == len(plan.members), "one plan entry per member"
    batch = int(s.batch_size)
    oof = torch.zeros(len(plan.calibration), int(s.n_outputs)) if plan.fit_rows else None
    lr = resolve_lr(s.lr, "sparse" if name == "sparse" else s.model)
    runs: list[tuple[list[dict[str, Any]], int | None]] = []
    described: list[EpochsChoice] = []
    health, training = None, None
    for k, (member, (train, stop)) in enumerate(zip(members, plan.members)):
        if linear:
            history, solved, training = train_linear(s, member, setup.loss_fn, train, stop)
            described.append(solved)
            runs.append((history, None))
        else:
            budget = HF_AUTO_EPOCHS if hf else AUTO_EPOCHS
            epochs, patience = training_budget(s.epochs, len(train), batch, stop is not None, budget)
            plateau = patience is not None and AUTO_SCHEDULE["schedule"] == "plateau"
            described.append(EpochsChoice(epochs, patience, s.epochs, "plateau" if plateau else "cosine"))
            config = TrainConfig(
                epochs=epochs,
                batch_size=batch,
                lr=lr.lr,
                warmup_ratio=lr.warmup_ratio,
                weight_decay=float(s.training.weight_decay),
                precision=s.precision,  # type: ignore[arg-type]  # checked by check_params and TrainConfig
                seed=s.seed + 1000 * k,
                device=s.device,
                progress=bool(s.verbose),
                drop_last=len(train) > batch and len(train) % batch == 1,
                schedule="constant" if plateau else "cosine",
                resume="auto" if resume else None,
            )
            # on by default: reads only the loss the trainer reads anyway; handed over before training, so a
            # run that fails still shows what the monitor saw
            monitor = HealthMonitor(loss_fn=setup.loss_fn)
            if k == 0:
                health = monitor
                if on_monitor is not None:
                    on_monitor(monitor)
            best = RestoreBestWeights(monitor="val_log_loss", mode="min")
            callbacks: list[Any] = [monitor, best] if stop is not None else [monitor]
            if patience is not None:
                callbacks.append(EarlyStopping("val_log_loss", mode="min", patience=patience))
            if plateau:
                assert patience is not None
                wait = max(AUTO_SCHEDULE["min_patience"], patience // AUTO_SCHEDULE["patience_divisor"])
                callbacks.append(
                    ReduceLROnPlateau(
                        "val_log_loss",
                        patience=wait,
                        factor=AUTO_SCHEDULE["factor"],
                        max_reductions=AUTO_SCHEDULE["reductions"],
                    )
                )
            trainer = Trainer(
                member,
                setup.loss_fn,
                config,
                callbacks=callbacks,
                run_dir=run_dir if (run_dir is None or k == 0) else os.path.join(run_dir, "members", str(k)),
                metrics_fn=selection_metrics(s.task),
            )
            val = stop.training_data() if stop is not None else None
            history = list(trainer.fit(train.training_data(), val) or [])
            runs.append((history, best.best_epoch + 1 if stop is not None and best.best_epoch >= 0 else None))
        if oof is not None and stop is not None:
            rows = rows_per_batch(tuple(s.input_shape))
            oof[torch.from_numpy(plan.fit_rows[k])] = forward_logits(member, stop.batches(rows), oof.shape[1])
    model = setup.model.eval()
    if next(model.parameters()).device.type == "cpu":
        model = model.cpu()
    out = TrainingRun(
        model,
        runs[0][0],
        health,
        runs[0][1],
        oof,
        None if linear else lr,  # model='linear' and the sparse linear model are fitted by L-BFGS: no lr
        described[-1] if linear else described[0] if described else None,
        training=training,
    )
    note = minibatch_note(setup.model, s.precision)  # why a sparse linear model is not fitted full-batch
    out.notes = [note] if note is not None else []
    if len(members) > 1:
        out.members = [
            MemberRun(len(t), len(s_) if s_ is not None else 0, len(h), b)
            for (t, s_), (h, b) in zip(plan.members, runs)
        ]
        if any(b is not None for _, b in runs):  # best_epoch is member 1's (its history)
            out.best_epochs = [b for _, b in runs]
    return out


def train_linear(
    s: FitSettings,
    model: nn.Module,
    loss_fn: nn.Module,
    train: Any,
    val: Any,
    *,
    warm: bool = False,
) -> tuple[list[dict[str, Any]], EpochsChoice, TrainingChoice | None]:
    """Fit ``model="linear"`` (or the sparse linear model) full-batch with L-BFGS, L2 = ``weight_decay``.

    The penalty is ``weight_decay / 2 * ||W||^2`` on the mean training loss (scikit-learn's
    ``LogisticRegression(C=1 / (weight_decay * n))``, :func:`~logitlab.train.fit_full_batch`); ``epochs``,
    ``lr`` and ``batch_size`` do not apply. The sparse model takes its rows as one torch CSR matrix, its L2
    from :data:`~logitlab.options.SPARSE_FULL_BATCH` (:mod:`logitlab.estimator._convex_fit`).
    Returns the history (one row: ``train_loss``, and ``val_loss`` with validation rows; no best epoch),
    the solver's iterations, and the sparse model's L2 choice (``None`` for ``model="linear"``). ``model`` is
    fitted in place (one fold model when cross-fitting); the sparse model starts from zero weights and the
    prior in its biases, or from its current weights with ``warm`` (a refit, :func:`refit_sparse`).

    Raises:
        ConfigError: a training split that is not one in-memory tensor (lazy images, streamed rows), or a
            precision other than fp32.
    """
    import torch

    from ..options import SPARSE_FULL_BATCH
    from ..train import fit_full_batch
    from ._convex_fit import full_batch_data, full_batch_kind, sparse_penalty, start_at_prior

    kind = full_batch_kind(model, s.precision)
    data = full_batch_data(train)
    val_data = full_batch_data(val) if val is not None and len(val) else None
    lazy = data is None or (val is not None and len(val) and val_data is None)
    if lazy or s.precision not in ("fp32", "32", "32-true", "float32"):
        raise ConfigError(
            "model='linear' is fitted full-batch in float32 on rows held in memory; this data is read "
            "lazily (images, sparse or streamed rows)"
            if s.precision in ("fp32", "32", "32-true", "float32")
            else f"model='linear' is fitted in float32; got precision={s.precision!r}.",
            fix="use model='mlp' for data read batch by batch, and precision='fp32' with model='linear'.",
            code="bad-param",
            param="model",
        )
    device = torch.device(resolve_device(s.device))
    model, loss_fn = model.to(device), loss_fn.to(device)
    assert data is not None
    x, y = (t.to(device) for t in data)
    torch.manual_seed(s.seed)
    training = None
    if kind == "sparse":
        if not warm:
            start_at_prior(model, y, s.task)
        labels = int(s.n_outputs) if s.task == "multilabel" else 1  # the loss is a mean over labels
        training = sparse_penalty(s.training, rows=len(y), n_outputs=s.n_outputs, task=s.task)
        l2, tol = float(training.weight_decay), float(SPARSE_FULL_BATCH["tolerance"]) / labels
        fit = fit_full_batch(
            model, loss_fn, x, y, l2=l2, history=int(SPARSE_FULL_BATCH["history"]), tolerance=tol
        )
    else:
        fit = fit_full_batch(model, loss_fn, x, y, l2=float(s.training.weight_decay))
    solver = f"L-BFGS, {fit['iterations']} iterations" + ("" if fit["converged"] else " (not converged)")
    row: dict[str, Any] = {"epoch": 1, "train_loss": fit["loss"], "objective": fit["objective"]}  # 1-based
    if val is not None and len(val):
        with torch.no_grad():
            assert val_data is not None
            vx, vy = (t.to(device) for t in val_data)
            logits = model(vx)
            row["val_loss"] = float(loss_fn(logits, vy))
            row.update({f"val_{k}": float(v) for k, v in selection_metrics(s.task)(logits, vy).items()})
    model.eval()
    if device.type == "cpu":
        model.cpu()
    return [row], EpochsChoice(None, None, s.epochs, solver=solver), training


def refit_sparse(
    s: FitSettings, model: nn.Module, loss_fn: nn.Module, train: Any, val: Any
) -> tuple[str, TrainingChoice | None, int] | None:
    """Fit the full-batch sparse linear model again on ``train`` and ``val`` together, from its weights.

    Done after the calibration map and the thresholds were fitted on ``val`` with the model fitted on
    ``train`` alone (:data:`~logitlab.options.SPARSE_FULL_BATCH`'s ``refit``; scikit-learn's
    ``CalibratedClassifierCV(ensemble=False)`` and ``GridSearchCV(refit=True)`` keep the model refitted on
    every row the same way): the map and thresholds are kept, and the validation numbers stay the first
    fit's (of rows it was not fitted on). ``weight_decay="auto"`` is ``1 / (C * rows)`` of all the rows.
    (Starting it from the first fit's L-BFGS memory as well was tried: 41 iterations against 39 from its
    weights alone on ``docs-subpackage-dev``, so it is not done.)
    Returns the note for ``decisions_["notes"]``, the L2 choice of the refit (``decisions_["training"]``) and
    the rows refitted on (``decisions_["cv"]["refitted_rows"]``), or ``None`` where nothing is refitted
    (another model, no validation rows, ``refit`` off, or rows that are not held in memory).
    """
    from ..options import SPARSE_FULL_BATCH
    from ._convex_fit import full_batch_kind, pooled_rows

    if not SPARSE_FULL_BATCH["refit"] or full_batch_kind(model, s.precision) != "sparse":
        return None
    rows = pooled_rows(train, val) if val is not None and len(val) else None
    if rows is None:
        return None
    _, solved, training = train_linear(s, model, loss_fn, rows, None, warm=True)
    l2 = "" if training is None else f", L2 {float(training.weight_decay):.3g}"
    note = (
        f"the sparse linear model was fitted again on all {len(rows)} training and validation rows after the "
        f"calibration and thresholds were fitted ({solved.solver} from the first fit's weights{l2}; "
        "options.SPARSE_FULL_BATCH['refit']); the validation numbers are the first fit's, on rows it did not see"
    )
    return note, training, len(rows)
