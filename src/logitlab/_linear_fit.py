"""How :class:`~logitlab.Classifier` fits ``model="linear"``: each member full-batch with L-BFGS.

The penalty is ``weight_decay / 2 * ||W||^2`` on the mean training loss (scikit-learn's
``LogisticRegression(C=1 / (weight_decay * n))``, :func:`~logitlab.train.fit_full_batch`); ``epochs``,
``lr`` and ``batch_size`` do not apply. With one split the model is one ``LinearModel`` fitted on the training
rows; with a cross-fitting plan (``Plan`` of :mod:`logitlab._crossfit`: per member its training rows and its
held-out fold) each fold model is fitted on its rows and predicts its fold, and those out-of-fold logits are
returned for the calibration and thresholds. A convex fit has no epoch to pick: the held-out rows only score.

Only :mod:`logitlab._estimator_state` imports this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import ConfigError

if TYPE_CHECKING:
    from .estimator import Classifier, TrainingSetup

__all__ = ["FP32", "train_linear"]

FP32 = ("fp32", "32", "32-true", "float32")


def _check(clf: Classifier, splits: list[Any]) -> None:
    lazy = any(s is not None and not s.in_memory for s in splits)
    if lazy or str(clf.precision) not in FP32:
        raise ConfigError(
            "model='linear' is fitted full-batch in float32 on rows held in memory; this data is read "
            "lazily (images, sparse or streamed rows)"
            if lazy
            else f"model='linear' is fitted in float32; got precision={clf.precision!r}.",
            fix="use model='mlp' for data read batch by batch, and precision='fp32' with model='linear'.",
            code="bad-param",
            param="model",
        )


def train_linear(clf: Classifier, setup: TrainingSetup, plan: Any = None) -> tuple[Any, ...]:
    """Fit every member of ``setup.model`` (one ``LinearModel``, or one per fold of ``plan``).

    Returns:
        (model, history, None, None, out-of-fold logits or None): the history has one row per member
        (``train_loss``, ``objective``, and ``val_loss`` plus the cheap ``val_`` metrics on its held-out rows);
        no health monitor and no best epoch.

    Raises:
        ConfigError: rows that are not in-memory tensors (lazy images, sparse or streamed rows), or a
            precision other than fp32.
    """
    import torch

    from .evaluate import epoch_metrics
    from .models import Ensemble
    from .train import fit_full_batch

    if plan is not None:
        rows = list(plan.members)
    else:
        rows = [(setup.bundle.train, setup.bundle.val if len(setup.bundle.val) else None)]
    _check(clf, [s for pair in rows for s in pair])
    members = list(setup.model.members) if isinstance(setup.model, Ensemble) else [setup.model]
    assert len(members) == len(rows), "one row set per member"
    auto = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(auto if clf.device == "auto" else clf.device)
    loss_fn = setup.loss_fn.to(device)
    fold_rows = getattr(plan, "fit_rows", None) or []
    oof = torch.zeros(len(plan.calibration), int(clf.n_outputs_)) if fold_rows else None
    history, solved = [], []
    for k, (member, (train, stop)) in enumerate(zip(members, rows)):
        member.to(device)
        x, y = (t.to(device) for t in train.training_data())
        torch.manual_seed(clf.seed_ + 1000 * k)
        fit = fit_full_batch(member, loss_fn, x, y, l2=float(clf.weight_decay))
        solved.append(f"{fit['iterations']}" + ("" if fit["converged"] else " (not converged)"))
        row: dict[str, Any] = {
            "epoch": 0,
            "member": k,
            "train_loss": fit["loss"],
            "objective": fit["objective"],
        }
        if stop is not None and len(stop):
            with torch.no_grad():
                vx, vy = (t.to(device) for t in stop.training_data())
                logits = member(vx)
                row["val_loss"] = float(loss_fn(logits, vy))
                row.update({f"val_{m}": float(v) for m, v in epoch_metrics(clf.task_)(logits, vy).items()})
                if oof is not None:
                    oof[torch.from_numpy(fold_rows[k])] = logits.float().cpu()
        history.append(row)
    clf.decisions_["epochs"] = {
        "epochs": None,
        "patience": None,
        "asked": clf.epochs,
        "solver": f"L-BFGS, {', '.join(solved)} iterations",
    }
    model = setup.model.eval()
    if device.type == "cpu":
        model = model.cpu()
    clf.health_ = None
    return model, history[:1] if plan is None else history, None, None, oof
