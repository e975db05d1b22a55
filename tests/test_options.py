"""The options table (logitlab.options.OPTIONS): one place for values, defaults, Literal types, checks,
command-line choices and messages."""

import ast
import inspect
import pathlib
import typing

import pytest

import logitlab as ll
from logitlab import options as o
from logitlab.cli import build_parser
from logitlab.data import from_arrays, load_dataset, split_indices
from logitlab.data.streaming import hashing
from logitlab.error_codes import is_registered
from logitlab.errors import ConfigError
from logitlab.evaluate import calibrate
from logitlab.export import export_onnx
from logitlab.train import TrainConfig

SRC = pathlib.Path(o.__file__).parent

# each option's Literal type, as the signatures use it
LITERALS = {
    "task": o.TaskChoice,
    "imbalance": o.ImbalanceStrategy,
    "calibration": o.CalibrationMethod,
    "device": o.Device,
    "strategy": o.WeightStrategy,
    "method": o.CalibrationMethod,
    "precision": o.Precision,
    "numeric_scaling": o.NumericScaling,
    "missing_target": o.MissingTarget,
    "format": o.ExportFormat,
    "input_dtype": o.OnnxInputDtype,
    "optimizer": o.Optimizer,
    "schedule": o.Schedule,
    "mode": o.Mode,
    "nan_policy": o.NanPolicy,
    "reduction": o.Reduction,
}


def test_each_literal_type_spells_its_option_set():
    for name, literal in LITERALS.items():
        assert typing.get_args(literal) == o.OPTIONS[name].values, name
    assert set(o.OPTIONS) - set(LITERALS) == {"opset"}  # integers: no Literal type
    assert o.IMBALANCE_STRATEGIES == ("auto", *ll.WEIGHT_STRATEGIES)
    assert o.TASK_CHOICES == ("auto", *o.TASKS) and o.TASKS == tuple(t.value for t in ll.Task)


def _literal_sets(tree):
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Name)
            and node.value.id == "Literal"
        ):
            items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            values = [i.value for i in items if isinstance(i, ast.Constant)]
            if len(values) == len(items) and len(values) > 1:
                yield node.lineno, frozenset(values)


def test_no_module_retypes_an_option_set_as_a_literal():
    sets = {frozenset(c.values) for c in o.OPTIONS.values()}
    retyped = [
        f"{path.relative_to(SRC)}:{line}"
        for path in SRC.rglob("*.py")
        if path.name != "options.py"
        for line, values in _literal_sets(ast.parse(path.read_text(encoding="utf-8")))
        if values in sets
    ]
    assert not retyped, f"import the Literal type from logitlab.options instead: {retyped}"


@pytest.mark.parametrize("name", sorted(o.OPTIONS))
def test_a_choice_accepts_its_values_and_refuses_others_with_its_code(name):
    choice = o.OPTIONS[name]
    assert is_registered(choice.code) and choice.default in choice.values
    for value in choice.values:
        assert choice.check(value) == value
    for alias, value in choice.aliases.items():
        assert choice.check(alias) == value
    for bad in ("no-such-value", True, None):
        with pytest.raises(ConfigError) as info:
            choice.check(bad)
        err = info.value
        assert (err.code, err.param) == (choice.code, name)
        assert f"`{name}`" in err.message and repr(bad) in err.message and err.fix


def _actions():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for command, p in sub.choices.items():
        for action in p._actions:
            for flag in action.option_strings:
                yield command, flag, action


def test_the_command_line_takes_choices_and_defaults_from_the_table():
    flags = {c.flag: c for c in o.OPTIONS.values()}
    seen = set()
    for command, flag, action in _actions():
        if flag in flags and action.choices is not None:
            choice = flags[flag]
            assert tuple(action.choices) == (*choice.values, *choice.aliases), (command, flag)
            assert action.default == choice.default, (command, flag)
            seen.add(flag)
        if flag in ("--val-size", "--test-size", "--label-sep"):
            name = flag[2:].replace("-", "_")
            assert (
                action.default
                == {"val_size": o.VAL_SIZE, "test_size": o.TEST_SIZE, "label_sep": o.LABEL_SEP}[name]
            )
    assert seen == set(flags) - {"--strategy", "--method", "--optimizer", "--schedule", "--mode", "--nan-policy",
                                 "--reduction"}  # fmt: skip


def _default(func, name):
    return inspect.signature(func).parameters[name].default


def test_the_library_defaults_are_the_tables():
    assert ll.Classifier().get_params()["val_size"] == o.VAL_SIZE
    for name in ("task", "imbalance", "calibration", "device"):
        assert ll.Classifier().get_params()[name] == o.OPTIONS[name].default
    for func in (load_dataset, from_arrays, split_indices):
        assert _default(func, "val_size") == o.VAL_SIZE and _default(func, "test_size") == o.TEST_SIZE
    assert hashing.HashSplit.__dataclass_fields__["val_size"].default == o.VAL_SIZE
    for func in (load_dataset, from_arrays):
        assert (
            _default(func, "label_sep") == o.LABEL_SEP
            and _default(func, "max_categories") == o.MAX_CATEGORIES
        )
    assert _default(ll.pos_weight, "strategy") == o.OPTIONS["strategy"].default
    assert _default(calibrate, "method") == o.OPTIONS["method"].default
    assert _default(export_onnx, "opset") == o.OPTIONS["opset"].default
    assert _default(export_onnx, "input_dtype") == o.OPTIONS["input_dtype"].default
    assert _default(ll.BCEWithLogitsLoss, "reduction") == o.OPTIONS["reduction"].default
    config = TrainConfig()
    for name in ("optimizer", "precision", "schedule", "mode", "nan_policy"):
        assert getattr(config, name) == o.OPTIONS[name].default


def test_the_table_check_is_the_one_the_functions_raise():
    with pytest.raises(ConfigError) as info:
        ll.pos_weight([[1.0], [0.0]], strategy="balance")
    assert str(info.value) == str(o.OPTIONS["strategy"].error("balance"))
    with pytest.raises(ConfigError) as info:
        TrainConfig(optimizer="adam")
    assert str(info.value) == str(o.OPTIONS["optimizer"].error("adam")) and info.value.code == "bad-optimizer"
    assert TrainConfig(precision="bf16-mixed").precision == "bf16"
