import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from logitlab.errors import ConfigError, LogitlabWarning, TargetError
from logitlab.targets import prepare_targets


def _raises(code, match, *args, **kwargs):
    with pytest.raises(TargetError, match=match) as info:
        prepare_targets(*args, **kwargs)
    assert info.value.code == code
    assert "Fix:" in str(info.value)
    return info.value


# ------------------------------------------------------------------------------------------ valid forms


def test_binary_float_like_logits_passes_unchanged():
    y = torch.tensor([[0.0], [1.0], [0.25]])
    out = prepare_targets(y, "binary", outputs=torch.zeros(3, 1))
    assert out.dtype == torch.float32 and out.shape == (3, 1)
    assert torch.equal(out, y)


def test_binary_without_outputs_keeps_n_and_n1():
    assert prepare_targets(np.array([0.0, 1.0]), "binary").shape == (2,)
    assert prepare_targets(np.array([[0.0], [1.0]]), "binary").shape == (2, 1)


def test_float64_is_widened_to_float32_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = prepare_targets(np.array([[0.0, 1.0], [1.0, 1.0]]), "multilabel", outputs=(2, 2))
    assert out.dtype == torch.float32
    np.testing.assert_array_equal(out.numpy(), [[0, 1], [1, 1]])


def test_multiclass_indices_int32_and_bool_become_int64():
    out = prepare_targets(np.array([2, 0, 1], dtype=np.int32), "multiclass", num_classes=3)
    assert out.dtype == torch.int64 and out.tolist() == [2, 0, 1]
    assert prepare_targets(torch.tensor([True, False]), "multiclass", num_classes=2).tolist() == [1, 0]


def test_multiclass_probabilities_are_kept():
    p = torch.tensor([[0.2, 0.8], [0.5, 0.5]], dtype=torch.float64)
    out = prepare_targets(p, "multiclass", outputs=torch.zeros(2, 2))
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, p.float())


def test_pandas_series_and_dataframe():
    assert prepare_targets(pd.Series([0, 2, 1]), "multiclass").tolist() == [0, 2, 1]
    df = pd.DataFrame({"a": [0.0, 1.0], "b": [1.0, 1.0]})
    assert prepare_targets(df, "multilabel").tolist() == [[0.0, 1.0], [1.0, 1.0]]


def test_outputs_may_be_a_shape():
    assert prepare_targets([0.0, 1.0], "binary", outputs=torch.Size([2])).shape == (2,)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_device_is_kept_and_bad_labels_caught_before_device_assert():
    y = torch.tensor([0, 1, 2], device="cuda")
    assert prepare_targets(y, "multiclass", num_classes=3).device == y.device
    with pytest.raises(TargetError, match="class indices"):
        prepare_targets(y, "multiclass", num_classes=2)


# ------------------------------------------------------------------------------------------ error paths


def test_style_example_int_targets_wrong_shape():
    err = _raises(
        "int-targets-for-bce",
        r"BCE-family losses need float targets shaped like the logits \[32, 1\]; got int64 targets \[32\]",
        torch.zeros(32, dtype=torch.long),
        "binary",
        outputs=torch.zeros(32, 1),
    )
    assert err.fix == "targets.float().unsqueeze(1), or make the model return [32]."


def test_shape_mismatch_n1_vs_n():
    err = _raises(
        "target-shape-mismatch", "shaped like the logits", torch.zeros(4, 1), "binary", outputs=torch.zeros(4)
    )
    assert err.fix.startswith("targets.squeeze(1)")


def test_bool_targets_for_bce_are_integer_like():
    _raises("int-targets-for-bce", "got bool targets", torch.tensor([True, False]), "binary")


def test_targets_out_of_range_for_bce():
    _raises("targets-out-of-range", r"in \[0, 1\]; got values in \[1, 2\]", [1.0, 2.0, 1.0], "binary")
    _raises("targets-out-of-range", "in \\[0, 1\\]", [[0, 3], [1, 0]], "multilabel")


def test_label_count_mismatch_multilabel():
    _raises(
        "label-count-mismatch",
        "Expected 4 labels per row",
        torch.zeros(3, 5),
        "multilabel",
        outputs=torch.zeros(3, 4),
    )
    _raises(
        "label-count-mismatch", "Expected 4 class columns", torch.eye(4, 5)[:3], "multiclass", num_classes=4
    )


def test_batch_size_mismatch():
    _raises(
        "batch-size-mismatch",
        "one target row per logits row",
        torch.zeros(3),
        "binary",
        outputs=torch.zeros(4, 1),
    )


def test_labels_out_of_range_for_ce_caught_before_device_assert():
    err = _raises(
        "class-index-out-of-range",
        r"class indices in \[0, 2\]; got labels in \[0, 3\]",
        torch.tensor([0, 3, 1]),
        "multiclass",
        outputs=torch.zeros(3, 3),
    )
    assert "make the model return 4 logits" in err.fix
    _raises("class-index-out-of-range", r"got labels in \[-1, 1\]", [-1, 0, 1], "multiclass")


def test_nonfinite_and_empty_targets():
    _raises("nonfinite-targets", "got 2 NaN/Inf values", [0.0, float("nan"), float("inf")], "binary")
    _raises("empty-targets", "at least one target", torch.zeros(0), "multiclass")
    _raises("empty-targets", "at least one target", [], "binary")


def test_one_hot_for_ce():
    _raises("one-hot-for-ce", "got a one-hot int64 matrix", torch.eye(3, dtype=torch.long), "multiclass")
    _raises(
        "multi-hot-with-cross-entropy",
        "exactly one class per row",
        torch.ones(2, 3, dtype=torch.long),
        "multiclass",
    )


def test_float_ids_and_continuous_labels_for_ce():
    _raises("float-labels-for-ce", "holding whole numbers", [0.0, 2.0, 1.0], "multiclass")
    _raises("non-integer-labels", "not integers", [0.5, 2.0], "multiclass")


def test_probabilities_must_sum_to_one():
    _raises("bad-class-probabilities", "sum to 1", [[0.2, 0.2], [0.5, 0.5]], "multiclass")


def test_non_numeric_ndim_and_ragged():
    _raises("non-numeric-targets", "got dtype <U3", ["cat", "dog"], "multiclass")
    _raises("bad-target-ndim", "a scalar", 1.0, "binary")
    _raises(
        "bad-target-ndim", "got targets \\[2, 2, 2\\]", torch.zeros(2, 2, 2, dtype=torch.long), "multiclass"
    )
    _raises("bad-target-shape", "rectangular", [[0, 1], [1]], "multilabel")


def test_task_outputs_consistency():
    _raises("outputs-shape-for-task", "one logit per sample", [0.0, 1.0], "binary", outputs=torch.zeros(2, 3))
    _raises(
        "outputs-shape-for-task",
        "logits \\[N, C\\] with C >= 2",
        [0, 1],
        "multiclass",
        outputs=torch.zeros(2, 1),
    )
    _raises(
        "num-classes-mismatch", "disagrees", [0, 1], "multiclass", outputs=torch.zeros(2, 3), num_classes=4
    )
    _raises("target-shape-mismatch", "Multi-label targets are an \\[N, L\\]", [0.0, 1.0], "multilabel")
    _raises("target-shape-mismatch", "one label per sample", torch.zeros(2, 3), "binary")
    with pytest.raises(ConfigError, match="num_classes"):
        prepare_targets([0, 1], "multiclass", num_classes=0)
    with pytest.raises(ConfigError, match="task"):
        prepare_targets([0, 1], "regression")


# ------------------------------------------------------------------------------------------ fix=True


def test_fix_repairs_are_returned_and_warned_once_each_at_caller():
    with pytest.warns(LogitlabWarning) as record:
        out, repairs = prepare_targets(torch.tensor([0, 1, 1]), "binary", outputs=torch.zeros(3, 1), fix=True)
    assert out.dtype == torch.float32 and out.tolist() == [[0.0], [1.0], [1.0]]
    assert repairs == [
        "cast int64 targets to float32 for BCE",
        "reshaped targets [3] -> [3, 1] to match the logits",
    ]
    assert [str(w.message) for w in record] == [f"prepare_targets: {r}." for r in repairs]
    assert all(w.filename == __file__ for w in record)


def test_fix_one_hot_and_float_ids_for_ce():
    with pytest.warns(LogitlabWarning, match="one-hot"):
        out, repairs = prepare_targets(np.eye(3, dtype=np.int64)[[2, 0, 1]], "multiclass", fix=True)
    assert out.dtype == torch.int64 and out.tolist() == [2, 0, 1] and len(repairs) == 1
    with pytest.warns(LogitlabWarning):
        out, repairs = prepare_targets(torch.tensor([[2.0], [0.0]]), "multiclass", num_classes=3, fix=True)
    assert out.dtype == torch.int64 and out.tolist() == [2, 0]
    assert repairs == ["reshaped targets [2, 1] -> [2]", "cast whole-number float32 class ids to int64"]


def test_fix_true_with_nothing_to_repair_returns_empty_list_and_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, repairs = prepare_targets([0.0, 1.0], "binary", fix=True)
    assert repairs == [] and out.tolist() == [0.0, 1.0]


def test_fix_does_not_repair_unsafe_problems():
    with pytest.raises(TargetError, match="class-index-out-of-range|class indices"):
        prepare_targets([0, 5], "multiclass", num_classes=3, fix=True)
    with pytest.raises(TargetError, match="\\[0, 1\\]"):
        prepare_targets([0, 2], "binary", fix=True)


# ------------------------------------------------------------------------------------------ properties


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(1, 8), labels=st.integers(1, 4), column=st.booleans(), data=st.data())
def test_property_sigmoid_round_trip(n, labels, column, data):
    values = data.draw(hnp.arrays(np.float64, (n, labels), elements=st.floats(0, 1)))
    if labels == 1 and not column:
        values = values[:, 0]
    task = "binary" if labels == 1 else "multilabel"
    out = prepare_targets(values, task, outputs=values.shape)
    assert out.dtype == torch.float32 and tuple(out.shape) == values.shape
    np.testing.assert_allclose(out.numpy(), values.astype(np.float32))
    ints = (values > 0.5).astype(np.int64)
    with pytest.warns(LogitlabWarning):
        fixed, repairs = prepare_targets(ints, task, outputs=values.shape, fix=True)
    assert repairs and torch.equal(fixed, torch.tensor(ints, dtype=torch.float32))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 8), c=st.integers(2, 6), data=st.data())
def test_property_multiclass_round_trip(n, c, data):
    labels = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    out = prepare_targets(labels, "multiclass", outputs=(n, c))
    assert out.dtype == torch.int64 and out.tolist() == labels.tolist()
    with pytest.warns(LogitlabWarning):
        fixed, _ = prepare_targets(np.eye(c, dtype=np.int64)[labels], "multiclass", outputs=(n, c), fix=True)
    assert fixed.tolist() == labels.tolist()


_garbage = st.one_of(
    st.none(),
    st.text(max_size=3),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**70), 2**70),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.recursive(
        st.one_of(
            st.integers(-5, 5), st.floats(allow_nan=True), st.booleans(), st.text(max_size=2), st.none()
        ),
        lambda inner: st.lists(inner, max_size=4),
        max_leaves=12,
    ),
    hnp.arrays(hnp.scalar_dtypes(), hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    y=_garbage,
    task=st.sampled_from(["binary", "multilabel", "multiclass"]),
    outputs=st.one_of(st.none(), hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)),
    fix=st.booleans(),
)
def test_property_garbage_gives_target_error_or_valid_targets(y, task, outputs, fix):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogitlabWarning)
        try:
            result = prepare_targets(y, task, outputs=outputs, fix=fix)
        except TargetError as err:
            assert "Fix:" in str(err) and err.code
            return
    t = result[0] if fix else result
    assert isinstance(t, torch.Tensor)
    if task == "multiclass" and t.dtype == torch.int64:
        assert t.ndim == 1 and int(t.min()) >= 0
    else:
        assert t.dtype == torch.float32 and 0 <= float(t.min()) and float(t.max()) <= 1
        assert torch.isfinite(t).all()
    if outputs is not None and task != "multiclass":
        assert tuple(t.shape) == tuple(outputs)
