import numpy as np
import pandas as pd
import pytest
import torch

from logitlab.errors import ConfigError, TargetError
from logitlab.tasks import Task, infer_task, probabilities


def _infer(y):
    return infer_task(y, return_reason=True)


# ------------------------------------------------------------------------------------------ Task


@pytest.mark.parametrize(
    ("name", "task"),
    [
        ("binary", Task.BINARY),
        ("Multi-Label", Task.MULTILABEL),
        ("multi_label", Task.MULTILABEL),
        (" multiclass ", Task.MULTICLASS),
        ("multi-class", Task.MULTICLASS),
        (Task.BINARY, Task.BINARY),
    ],
)
def test_from_str_aliases(name, task):
    assert Task.from_str(name) is task


def test_from_str_rejects_unknown_with_the_accepted_names():
    with pytest.raises(ConfigError, match="one of binary, multilabel, multiclass; got 'regression'") as info:
        Task.from_str("regression")
    assert info.value.code == "unknown-task" and "Fix:" in str(info.value)
    with pytest.raises(ConfigError):
        Task.from_str(3)  # type: ignore[arg-type]


def test_family_and_str():
    assert [t.family for t in Task] == ["sigmoid", "sigmoid", "softmax"]
    assert str(Task.MULTILABEL) == "multilabel"


def test_probabilities_use_the_task_activation():
    logits = torch.tensor([[0.0, 1.0, -2.0]], dtype=torch.float64)
    torch.testing.assert_close(probabilities(logits, "multilabel"), 1 / (1 + torch.exp(-logits)))
    e = torch.exp(logits)
    torch.testing.assert_close(probabilities(logits, Task.MULTICLASS), e / e.sum(-1, keepdim=True))


# ------------------------------------------------------------------------------------------ rules


def test_label_sets_are_multilabel():
    assert _infer([["cat", "indoor"], ["dog"]]) == (Task.MULTILABEL, "rows are lists/sets of label names")
    assert _infer([{"a"}, {"a", "b"}])[0] is Task.MULTILABEL
    assert _infer(pd.Series([["a", "b"], ["c"]]))[0] is Task.MULTILABEL
    assert _infer([[1, 2, 3], [4]])[0] is Task.MULTILABEL  # ragged numeric rows: label ids per row


def test_1d_two_values_is_binary_with_the_values():
    assert _infer(torch.tensor([0, 1, 1, 0])) == (Task.BINARY, "1-D labels with 2 distinct values (0, 1)")
    assert _infer(np.array([3.0, 5.0, 3.0])) == (Task.BINARY, "1-D labels with 2 distinct values (3, 5)")
    assert _infer(["no", "yes"]) == (Task.BINARY, "1-D labels with 2 distinct values (no, yes)")
    assert _infer([1, 1, 1]) == (Task.BINARY, "1-D labels with 1 distinct value (1)")
    assert _infer([True, False])[0] is Task.BINARY


def test_n1_column_says_so():
    assert _infer(np.array([[0], [1], [1]])) == (
        Task.BINARY,
        "1-D labels with 2 distinct values (0, 1) (an [N, 1] column)",
    )
    assert _infer(pd.DataFrame({"y": [0, 1, 2]}))[0] is Task.MULTICLASS


def test_1d_soft_labels_are_binary():
    assert _infer([0.1, 0.9, 0.5]) == (Task.BINARY, "1-D soft labels in [0, 1]")


def test_1d_many_values_is_multiclass():
    assert _infer([0, 2, 1, 5]) == (Task.MULTICLASS, "1-D integer labels with 4 distinct values")
    assert _infer(pd.Series(["cat", "dog", "bird"])) == (
        Task.MULTICLASS,
        "1-D string labels with 3 distinct values",
    )
    assert _infer(torch.tensor([0.0, 1.0, 2.0], dtype=torch.bfloat16))[0] is Task.MULTICLASS
    assert _infer(pd.Categorical(["a", "b", "c"]))[0] is Task.MULTICLASS


def test_2d_one_hot_is_multiclass_and_says_how_to_override():
    task, reason = _infer(np.eye(3)[[0, 2, 1, 1]])
    assert task is Task.MULTICLASS
    assert (
        reason
        == 'a 2-D one-hot matrix (exactly one 1 per row) over 3 classes; pass task="multilabel" to override'
    )


def test_2d_indicator_is_multilabel():
    task, reason = _infer(pd.DataFrame({"a": [1, 0], "b": [1, 1], "c": [0, 0]}))
    assert (task, reason) == (
        Task.MULTILABEL,
        "a 2-D 0/1 indicator matrix with 3 labels and rows with several 1s",
    )
    assert _infer(torch.tensor([[1, 0], [0, 0]]))[0] is Task.MULTILABEL  # an all-zero row is not one-hot


def test_2d_probabilities_are_multiclass_and_soft_labels_multilabel():
    task, reason = _infer([[0.2, 0.8], [0.5, 0.5]])
    assert task is Task.MULTICLASS and reason.startswith(
        "a 2-D matrix of class probabilities (rows sum to 1) over 2"
    )
    assert _infer([[0.2, 0.9], [0.5, 0.5]]) == (
        Task.MULTILABEL,
        "a 2-D matrix of soft [0, 1] labels with 2 labels",
    )


def test_return_reason_false_returns_the_task_only():
    assert infer_task([0, 1]) is Task.BINARY


# ------------------------------------------------------------------------------------------ errors


def _error(y, code, match):
    with pytest.raises(TargetError, match=match) as info:
        infer_task(y)
    assert info.value.code == code and "Fix:" in str(info.value)


def test_errors():
    _error([], "empty-targets", "at least one label; got an empty array of shape \\[0\\]")
    _error(np.zeros((0, 3)), "empty-targets", "empty array")
    _error([0.0, float("nan"), 1.0], "nonfinite-targets", "1 NaN/Inf values")
    _error(torch.tensor([1.0, float("inf")]), "nonfinite-targets", "NaN/Inf")
    _error(pd.Series(["a", None, "b"]), "nonfinite-targets", "1 missing values")
    _error(pd.Series(["a", pd.NA, "b"], dtype="string"), "nonfinite-targets", "missing values")
    _error([0.5, 1.7, 3.2], "non-integer-labels", "continuous values in \\[0.5, 3.2\\]")
    _error(np.zeros((2, 2, 2)), "bad-target-ndim", "got 3 dimensions \\[2, 2, 2\\]")
    _error([[0, 2], [1, 0]], "targets-out-of-range", "values in \\[0, 2\\]")
    _error(np.array([["a", "b"], ["c", "d"]]), "non-numeric-targets", "numeric \\[N, L\\] indicator matrix")
