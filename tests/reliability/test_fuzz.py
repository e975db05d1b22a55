"""Property-based fuzzing: prepare_targets, make_loss and diagnose raise nothing but logitlab errors."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from logitlab.doctor import diagnose
from logitlab.errors import LogitlabError
from logitlab.losses import LOSS_NAMES, make_loss
from logitlab.targets import prepare_targets

FUZZ = settings(
    max_examples=int(__import__("os").environ.get("FUZZ_N", "80")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
    derandomize=not __import__("os").environ.get("FUZZ_RANDOM"),
)
TASKS = st.sampled_from(["binary", "multilabel", "multiclass", "regression", "", "BINARY"])
FLOATS = st.floats(allow_nan=True, allow_infinity=True, width=32)
DTYPES = st.sampled_from([np.float32, np.float64, np.int64, np.int8, np.bool_, np.uint8])


@st.composite
def arrays(draw: Any) -> Any:
    """Arrays of 0-3 dims with small sizes, any numeric dtype, NaN/Inf included; sometimes lists or strings."""
    dtype = draw(DTYPES)
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5))
    if np.issubdtype(dtype, np.floating):
        elements: Any = FLOATS
    elif dtype is np.bool_:
        elements = st.booleans()
    else:
        info = np.iinfo(dtype)
        elements = st.integers(max(info.min, -5), min(info.max, 9))
    arr = draw(hnp.arrays(dtype, shape, elements=elements))
    kind = draw(st.sampled_from(["numpy", "tensor", "list", "strings"]))
    if kind == "tensor" and arr.dtype != np.uint8 or kind == "tensor" and arr.ndim == 0:
        return torch.from_numpy(np.ascontiguousarray(arr))
    if kind == "list":
        return arr.tolist()
    if kind == "strings":
        return arr.astype(str)
    return arr


def _logitlab_only(fn: Any, *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn(*args, **kwargs)
        except LogitlabError as err:
            assert err.fix, f"{type(err).__name__} without a fix: {err}"
            return err


@FUZZ
@given(
    y=arrays(),
    task=TASKS,
    outputs=st.one_of(st.none(), hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=5)),
    num_classes=st.one_of(st.none(), st.integers(-1, 6)),
    fix=st.booleans(),
)
def test_prepare_targets_raises_only_logitlab_errors(
    y: Any, task: str, outputs: Any, num_classes: Any, fix: bool
) -> None:
    out = _logitlab_only(prepare_targets, y, task, outputs=outputs, num_classes=num_classes, fix=fix)
    if isinstance(out, LogitlabError):
        return
    t = out[0] if fix else out
    assert isinstance(t, torch.Tensor)
    if t.is_floating_point():  # every returned float target is finite and in [0, 1]
        assert torch.isfinite(t).all() and t.min() >= 0 and t.max() <= 1
    else:
        assert t.dtype == torch.int64 and (t >= 0).all()


OPTION_VALUES = st.one_of(
    FLOATS,
    st.integers(-3, 5),
    st.booleans(),
    st.none(),
    st.text(max_size=4),
    st.builds(lambda v: torch.full((3,), v), FLOATS),
    st.builds(lambda n: torch.ones(n), st.integers(0, 4)),
)
OPTION_NAMES = st.sampled_from(
    [
        "gamma",
        "alpha",
        "reduction",
        "pos_weight",
        "weight",
        "smooth",
        "clip",
        "gamma_neg",
        "gamma_pos",
        "epsilon",
        "tau",
        "prior",
        "label_smoothing",
        "ignore_index",
        "bogus",
    ]  # fmt: skip
)


@FUZZ
@given(
    task=TASKS,
    name=st.one_of(
        st.sampled_from([*LOSS_NAMES, "asl", "cross_entropy", "CE", "focal-loss"]), st.text(max_size=6)
    ),
    options=st.dictionaries(OPTION_NAMES, OPTION_VALUES, max_size=3),
    logits=hnp.arrays(np.float32, st.tuples(st.integers(1, 4), st.integers(1, 3)), elements=FLOATS),
)
def test_make_loss_raises_only_logitlab_errors(
    task: str, name: str, options: dict, logits: np.ndarray
) -> None:
    loss = _logitlab_only(make_loss, task, name, **options)
    if isinstance(loss, LogitlabError):
        return
    # a loss that was built must accept well-formed targets for its task without a foreign error
    x = torch.from_numpy(logits)
    n, c = x.shape
    family = loss.family
    if family == "sigmoid":
        t = (torch.arange(n * c).reshape(n, c) % 2).float()
    else:
        t = torch.arange(n) % c
    value = _logitlab_only(loss, x, t)
    if isinstance(value, torch.Tensor) and torch.isfinite(x).all() and value.numel() == 1:
        # finite logits and valid options: a finite loss, or a NaN that comes only from NaN options
        opts_finite = all(not isinstance(v, float) or math.isfinite(v) for v in options.values()) and all(
            not isinstance(v, torch.Tensor) or bool(torch.isfinite(v).all()) for v in options.values()
        )
        if opts_finite:
            assert torch.isfinite(value), (task, name, options)


@FUZZ
@given(
    outputs=arrays(),
    targets=arrays(),
    loss=st.sampled_from(
        [
            None,
            torch.nn.BCEWithLogitsLoss(),
            torch.nn.CrossEntropyLoss(),
            torch.nn.MSELoss(),
            lambda a, b: 1 / 0,
        ]
    ),
    task=st.one_of(st.none(), TASKS),
)
def test_diagnose_raises_only_logitlab_errors(outputs: Any, targets: Any, loss: Any, task: Any) -> None:
    report = _logitlab_only(diagnose, outputs, targets, loss, task=task)
    if not isinstance(report, LogitlabError):
        assert isinstance(report.ok, bool)
        str(report)  # rendering never raises
