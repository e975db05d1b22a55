"""What a fit decided, as types: :class:`Decisions` and its parts.

:class:`~logitlab.Classifier` keeps them as ``fit_decisions_``; ``decisions_`` is their dict view
(:meth:`Decisions.to_dict`), which is also what ``model.json`` stores under ``decisions`` and what the run's
``config.json`` shows. :meth:`Decisions.from_dict` reads that form back, from this version's files and older
ones (keys it does not know are kept as they are), so nothing is ever recovered by parsing a sentence.

Examples:
    >>> d = Decisions(task="binary", task_reason="two classes", notes=[])
    >>> d.loss = LossChoice.of("BCEWithLogitsLoss", "auto", {})
    >>> d.to_dict()["loss"], d.loss.class_name
    ("BCEWithLogitsLoss (loss='auto')", 'BCEWithLogitsLoss')
    >>> Decisions.from_dict(d.to_dict()) == d
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CvChoice",
    "Decisions",
    "DecisionsView",
    "EpochsChoice",
    "LossChoice",
    "LrChoice",
    "MemberRun",
    "TrainingChoice",
]


class DecisionsView(dict):  # type: ignore[type-arg]
    """``decisions_``: a read-only ``dict`` of :meth:`Decisions.to_dict` (nested dicts and lists read-only too).

    It is a ``dict`` (``json.dumps``, ``==``, ``dict(view)`` and ``copy.deepcopy`` give plain ones), but an
    assignment into it raises instead of changing a copy nobody reads again: the fitted state is
    ``fit_decisions_``.

    Examples:
        >>> view = DecisionsView.of({"lr": {"lr": 0.001}, "notes": ["a"]})
        >>> view["lr"]["lr"], view == {"lr": {"lr": 0.001}, "notes": ["a"]}
        (0.001, True)
        >>> view["lr"]["lr"] = 0.1
        Traceback (most recent call last):
        ...
        logitlab.errors.ConfigError: `decisions_` is a read-only view of what the fit decided; it was changed in place.
        Fix: read it, or copy it (dict(clf.decisions_), copy.deepcopy(clf.decisions_)); the fitted state is clf.fit_decisions_.
    """

    @classmethod
    def of(cls, value: Mapping[str, Any]) -> DecisionsView:
        """``value`` with every nested dict and list made read-only."""
        view = cls()
        dict.update(view, {k: _read_only(v) for k, v in value.items()})
        return view

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise _read_only_error()

    __setitem__ = __delitem__ = update = setdefault = pop = popitem = clear = __ior__ = _refuse  # type: ignore[assignment]

    def __copy__(self) -> dict[str, Any]:
        return dict(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return _plain(self)

    def __reduce__(self) -> Any:  # pickles as the plain dict
        return (dict, (_plain(self),))


class _ReadOnlyList(list):  # type: ignore[type-arg]
    """A list inside :class:`DecisionsView`: equal to the plain list, refusing changes."""

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise _read_only_error()

    __setitem__ = __delitem__ = append = extend = insert = pop = remove = clear = sort = reverse = _refuse  # type: ignore[assignment]
    __iadd__ = __imul__ = _refuse  # type: ignore[assignment]

    def __copy__(self) -> list[Any]:
        return list(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        return _plain(self)

    def __reduce__(self) -> Any:
        return (list, (_plain(self),))


def _read_only(value: Any) -> Any:
    if isinstance(value, Mapping):
        return DecisionsView.of(value)
    if isinstance(value, list):
        out = _ReadOnlyList()
        list.extend(out, [_read_only(v) for v in value])
        return out
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _read_only_error() -> Exception:
    from ..errors import ConfigError

    return ConfigError(
        "`decisions_` is a read-only view of what the fit decided; it was changed in place.",
        fix="read it, or copy it (dict(clf.decisions_), copy.deepcopy(clf.decisions_)); "
        "the fitted state is clf.fit_decisions_.",
        code="read-only-decisions",
        param="decisions_",
    )


# keys written once a fit has trained (with ``None`` where nothing was fitted), in the order fit sets them
_FITTED = ("loss", "weights", "best_epoch", "epochs_count_from", "calibration", "thresholds", "validation")


def _json(value: Any) -> Any:
    """``value`` as JSON takes it (a tensor or array as a list; anything else unknown as its ``repr``)."""
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    if isinstance(value, Mapping):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    tolist = getattr(value, "tolist", None)
    return _json(tolist()) if callable(tolist) else repr(value)


@dataclass
class LossChoice:
    """The loss trained: its class, the name it was asked by and its options.

    ``text`` is the sentence ``decisions_["loss"]`` shows (``"SigmoidFocalLoss (loss='focal', gamma=2.0)"``);
    a model file written before the loss was kept as fields has only the sentence (``class_name`` ``None``).
    """

    text: str
    class_name: str | None = None
    name: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, class_name: str, name: str, options: Mapping[str, Any] | None) -> LossChoice:
        """The loss of class ``class_name``, asked for as ``loss=name`` with ``options``."""
        shown = "".join(f", {k}={v!r}" for k, v in (options or {}).items())
        return cls(f"{class_name} (loss={name!r}{shown})", class_name, name, _json(dict(options or {})))

    def spec(self) -> dict[str, Any] | None:
        """The fields ``model.json`` keeps as ``decisions["loss_spec"]`` (``None`` for an older file's loss)."""
        if self.class_name is None:
            return None
        return {"class": self.class_name, "name": self.name, "options": dict(self.options)}


@dataclass
class CvChoice:
    """``cv`` as decided: the folds (1: one split), the reason, and which rows fit the calibration.

    ``refitted_rows``: where the model was fitted again on the training and validation rows once the
    calibration was fitted (the sparse linear model, ``options.SPARSE_FULL_BATCH["refit"]``), how many; its
    validation rows are then training rows of the final model. In the JSON form only where set.
    """

    folds: int
    reason: str
    fitted_on: str
    refitted_rows: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``decisions_["cv"]``)."""
        out: dict[str, Any] = {"folds": self.folds, "reason": self.reason, "fitted_on": self.fitted_on}
        return out if self.refitted_rows is None else {**out, "refitted_rows": self.refitted_rows}


@dataclass
class TrainingChoice:
    """``imbalance`` and ``weight_decay`` as used, what was asked, and the reason."""

    imbalance: str
    weight_decay: float
    asked: dict[str, Any]
    reason: str
    C: float | None = None  #: the sparse linear model's ``C`` where its L2 came from it  # noqa: N815

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``decisions_["training"]``): ``C`` only where set."""
        out = {"imbalance": self.imbalance, "weight_decay": self.weight_decay, "asked": dict(self.asked)}
        out["reason"] = self.reason
        return out if self.C is None else {**out, "C": self.C}


@dataclass
class LrChoice:
    """The learning rate used, what was asked, its warmup share of the planned steps, and the reason."""

    lr: float
    asked: Any
    warmup_ratio: float
    reason: str


@dataclass
class EpochsChoice:
    """The epochs planned and the early-stopping patience (``None``: none); the schedule, or the L-BFGS solver."""

    epochs: int | None
    patience: int | None
    asked: Any
    schedule: str | None = None
    solver: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``decisions_["epochs"]``): ``schedule`` or ``solver`` only where set."""
        out = {"epochs": self.epochs, "patience": self.patience, "asked": self.asked}
        if self.schedule is not None:
            out["schedule"] = self.schedule
        if self.solver is not None:
            out["solver"] = self.solver
        return out


@dataclass
class MemberRun:
    """One member of a cross-fit or an ensemble: its training and stopping rows, epochs run, best epoch."""

    rows: int
    stop_rows: int
    epochs: int
    best_epoch: int | None


@dataclass
class Decisions:
    """Everything a fit decided, with its reasons (the typed form of ``Classifier.decisions_``).

    Set in the order fit takes them: the task (:meth:`~logitlab.Classifier.training_setup`), ``cv``, imbalance
    and weight decay; then the loss, the weights, the learning rate, the epochs and members (training); the
    best epoch, the calibration and thresholds and the validation metrics (after training); ``model`` for
    ``model="auto"``. ``None`` is "not decided" (before a fit got there, or a model file older than the field).
    The calibration summary, the thresholds, the weights and the validation metrics stay the JSON forms of
    their own types (``Calibration``, ``Thresholds``, ``ImbalanceWeights``, ``compute_metrics``).
    """

    task: str
    task_reason: str = ""
    notes: list[str] = field(default_factory=list)
    cv: CvChoice | None = None
    training: TrainingChoice | None = None
    loss: LossChoice | None = None
    weights: dict[str, Any] | None = None
    lr: LrChoice | None = None
    epochs: EpochsChoice | None = None
    members: list[MemberRun] | None = None
    best_epochs: list[int | None] | None = None
    best_epoch: int | None = None
    epochs_count_from: int | None = None
    calibration_check: dict[str, Any] | None = None  #: ``{}``: judged, nothing to report
    calibration: dict[str, Any] | None = None
    thresholds: dict[str, Any] | None = None
    validation: dict[str, Any] | None = None
    model: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)  #: keys of other versions' files, kept as they are

    def add_notes(self, notes: list[str]) -> None:
        """Append ``notes``, each once."""
        self.notes = list(dict.fromkeys([*self.notes, *notes]))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``decisions_``, ``model.json``'s ``decisions`` and ``config.json``'s."""
        out: dict[str, Any] = {"task": self.task, "task_reason": self.task_reason, "notes": list(self.notes)}
        if self.cv is not None:
            out["cv"] = self.cv.to_dict()
        if self.training is not None:
            out["training"] = self.training.to_dict()
        fitted = self.loss is not None
        if fitted:
            assert self.loss is not None
            out["loss"] = self.loss.text
            if self.loss.class_name is not None:
                out["loss_spec"] = self.loss.spec()
            out["weights"] = self.weights
        if self.lr is not None:
            out["lr"] = vars(self.lr).copy()
        if self.epochs is not None:
            out["epochs"] = self.epochs.to_dict()
        if self.members is not None:
            out["members"] = [vars(m).copy() for m in self.members]
        if self.best_epochs is not None:
            out["best_epochs"] = list(self.best_epochs)
        if fitted:
            out["best_epoch"] = self.best_epoch
            out["epochs_count_from"] = self.epochs_count_from
        if self.calibration_check is not None:
            out["calibration_check"] = self.calibration_check or None
        if fitted:
            out["calibration"] = self.calibration
            out["thresholds"] = self.thresholds
            out["validation"] = self.validation
        if self.model is not None:
            out["model"] = self.model
        return {**out, **{k: v for k, v in self.extra.items() if k not in out}}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Decisions:
        """Read :meth:`to_dict`'s form, this version's or an older file's.

        A part whose shape this version does not know (an older file's) is kept as it is in ``extra``, so the
        dict view shows it unchanged; a wrong value raises a ``TypeError``, ``KeyError`` or ``ValueError``
        (``model.json`` reads it inside ``guarded``, which names the field).
        """
        d = dict(d)
        extra: dict[str, Any] = {}

        def part(key: str, build: Any) -> Any:
            value = d.get(key)
            if value is None:
                return None
            try:
                return build(value)
            except TypeError:  # another version's shape: kept as it is
                extra[key] = value
                return None

        spec = d.get("loss_spec")
        loss = None
        if d.get("loss") is not None:
            loss = LossChoice(str(d["loss"]))
            if isinstance(spec, Mapping):
                options = spec.get("options") or {}
                loss = LossChoice(loss.text, str(spec["class"]), spec.get("name"), dict(options))
        check = d.get("calibration_check", ...)
        out = cls(
            task=str(d["task"]),
            task_reason=str(d.get("task_reason", "")),
            notes=[str(n) for n in d.get("notes", [])],
            cv=part("cv", lambda v: CvChoice(**v)),
            training=part("training", lambda v: TrainingChoice(**v)),
            loss=loss,
            weights=d.get("weights"),
            lr=part("lr", lambda v: LrChoice(**v)),
            epochs=part("epochs", lambda v: EpochsChoice(**v)),
            members=part("members", lambda v: [MemberRun(**m) for m in v]),
            best_epochs=part("best_epochs", list),
            best_epoch=None if d.get("best_epoch") is None else int(d["best_epoch"]),
            epochs_count_from=None if d.get("epochs_count_from") is None else int(d["epochs_count_from"]),
            calibration_check=None if check is ... else (check or {}),
            calibration=d.get("calibration"),
            thresholds=d.get("thresholds"),
            validation=d.get("validation"),
            model=d.get("model"),
        )
        known = {f for f in cls.__dataclass_fields__ if f != "extra"} | {"loss_spec"}
        out.extra = {**extra, **{k: v for k, v in d.items() if k not in known}}
        return out
