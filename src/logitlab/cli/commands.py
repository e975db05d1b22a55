"""The ``logitlab`` commands: each ``cmd_*`` turns parsed arguments into a workflow call and renders its result.

The work is in :mod:`logitlab.workflows` (imported when a command runs, so the parser stays free of
torch); what a command prints goes through :func:`echo`-like helpers that write the running command's
parameters as its flags (``target=`` -> ``--target``), and logitlab warnings are shown once, in the
same spelling.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from ..options import LOAD_DEFAULTS
from .parser import build_parser
from .text import metrics_table, respell, summary_table

__all__ = ["EXIT_ERROR", "EXIT_FINDINGS", "EXIT_OK", "parse_options", "run_command"]

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def parse_options(items: Sequence[str], what: str = "--option") -> dict[str, Any]:
    """Parse ``KEY=VALUE`` strings; values are read as JSON when they parse (numbers, lists), else strings.

    Examples:
        >>> parse_options(["gamma=2", "alpha=0.25", "reduction=mean", "hidden=[64,32]"])
        {'gamma': 2, 'alpha': 0.25, 'reduction': 'mean', 'hidden': [64, 32]}
    """
    import json

    from ..errors import ConfigError

    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(
                f"Expected {what} as KEY=VALUE; got {item!r}.",
                fix=f"write e.g. {what} gamma=2.",
                code="bad-option",
            )
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out[key.strip().replace("-", "_")] = value
    return out


def _load_options(args: argparse.Namespace) -> dict[str, Any]:
    """The data-reading flags as :func:`logitlab.data.load_dataset` arguments (``None``: its default)."""
    return {
        "target": args.target,
        "label_sep": args.label_sep,
        "label_map": args.label_map,
        "positive": args.positive,
        "drop": args.drop,
        "id_column": args.id_column,
        "missing_target": args.missing_target,
        "image_size": args.image_size,
        "sep": args.sep,
        "encoding": args.encoding,
        "numeric_scaling": args.numeric_scaling,
        "text_columns": _text_columns(args.text),
    }


def _text_columns(names: list[str] | None) -> Any:
    """``--text``: none given -> ``"auto"``; ``--text none`` -> ``[]``; else the columns."""
    if not names:
        return LOAD_DEFAULTS["text_columns"]
    return [] if [n.lower() for n in names] == ["none"] else list(names)


def cmd_train(args: argparse.Namespace) -> int:
    """``logitlab train``: load, fit, evaluate on the test split, write the run directory, print decisions."""
    from .. import workflows

    params = {
        "model": args.model,
        "task": args.task,
        "loss": args.loss,
        "loss_options": parse_options(args.loss_options) or None,
        "imbalance": args.imbalance,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "weight_decay": args.weight_decay,
        "model_options": parse_options(args.model_options, "--model-option") or None,
        "ensemble": args.ensemble,
        "cv": args.cv,
        "precision": args.precision,
        "threshold_objective": args.threshold_objective,
        "calibration": args.calibration,
        "numeric_scaling": args.numeric_scaling,
        "random_state": args.seed,
        "device": args.device,
        "verbose": not args.quiet,
    }
    load = {
        **_load_options(args),
        "val_size": args.val_size,
        "test_size": args.test_size,
        "streaming": args.streaming or None,
    }
    out = args.out or os.path.join("runs", _run_name(args.data))
    result = workflows.train(
        args.data, out, params=params, load=load, echo=_echo, overwrite=args.overwrite, resume=args.resume
    )
    if result is not None:
        _echo(f"run directory: {result['run_dir']}  (report: {result['report']})")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """``logitlab demo``: the three built-in tasks, a summary table and the report paths."""
    from .. import workflows

    rows = []
    for name, spec, params in workflows.DEMOS:
        params = dict(params, device=args.device, verbose=False)
        if args.epochs is not None:
            params["epochs"] = args.epochs
        _echo(f"\n== {name}: {spec} ==")
        out = os.path.join(args.out, name)  # the demo's own folder: its runs are replaced
        result = workflows.train(spec, out, params=params, load={}, echo=_echo, overwrite=True)
        if result is not None:
            rows.append(result)
    if rows:
        summary_table(rows)
        for row in rows:
            _echo(f"report: {row['report']}")
    return EXIT_OK


def cmd_evaluate(args: argparse.Namespace) -> int:
    """``logitlab evaluate RUN DATA``: metrics of a saved run on DATA (its test split, or all rows)."""
    import json

    from .. import workflows

    result = workflows.evaluate(args.run, args.data, split=args.split, sep=args.sep, encoding=args.encoding)
    say = _err if args.json else _echo  # --json keeps stdout for the JSON
    for note in result["notes"]:
        say(f"note: {note}")
    if args.json:
        shown = {**result["metrics"], "split": result["split"], "excluded": result["excluded"]}
        print(json.dumps(shown, indent=2, default=float))
    else:
        left = f", {result['excluded']} left out" if result["excluded"] else ""
        title = f"{args.run} on {args.data}: {result['split']} split, {result['rows']} rows{left}"
        metrics_table(result["metrics"], title=title)
    return EXIT_OK


def cmd_predict(args: argparse.Namespace) -> int:
    """``logitlab predict RUN DATA --out CSV``: probabilities and decisions per row, written atomically."""
    from .. import workflows

    result = workflows.predict(
        args.run, args.data, args.out, sep=args.sep, encoding=args.encoding, overwrite=args.overwrite
    )
    for note in result["notes"]:
        _echo(f"note: {note}")
    _echo(f"wrote {result['rows']} rows to {result['path']}")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    """``logitlab export RUN --format onnx --out DIR``: the graph and its sidecar, each written atomically."""
    from .. import workflows

    result = workflows.export(
        args.run,
        args.out,
        format=args.format,
        opset=args.opset,
        input_dtype=args.input_dtype,
        overwrite=args.overwrite,
    )
    inputs = ", ".join(f"{i['name']} {i['dtype']} {i['shape']}" for i in result["inputs"])
    _echo(f"wrote {result['model']} (opset {result['opset']}, {result['task']}; inputs: {inputs})")
    _echo(f"wrote {result['sidecar']} (the input contract: columns, encodings, outputs)")
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    """``logitlab doctor DATA``: dataset checks and an untrained model's first-batch check; exit 1 on errors."""
    import json

    from .. import workflows

    reports = workflows.doctor(
        args.data,
        load=_load_options(args),
        task=args.task,
        loss=args.loss,
        imbalance=args.imbalance,
        model=args.model,
        echo=_err if args.json else _echo,
    )
    if args.json:
        print(json.dumps({name: r.to_dict() for name, r in reports.items()}, indent=2, default=str))
    else:
        for name, report in reports.items():
            _echo(f"\n== {name} ==")
            print(report)
    return EXIT_OK if all(r.ok for r in reports.values()) else EXIT_FINDINGS


def cmd_plot_loss(args: argparse.Namespace) -> int:
    """``logitlab plot-loss``: the loss and its gradient against the logit, for target 1 and target 0."""
    from .. import workflows

    options = parse_options(args.loss_options)
    if args.gamma is not None:
        options["gamma"] = args.gamma
    path = workflows.plot_loss(
        args.loss, options, args.out, compare=args.compare, logit_range=args.range, overwrite=args.overwrite
    )
    _echo(f"wrote {path}")
    return EXIT_OK


def _run_name(spec: str) -> str:
    import re

    base = spec.split(":", 1)[1] if spec.startswith("builtin:") else os.path.basename(os.path.normpath(spec))
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", os.path.splitext(base)[0]).strip("-") or "run"


@contextlib.contextmanager
def _warnings_in_cli_spelling(command: str) -> Iterator[None]:
    """Show each distinct logitlab warning once, on stderr, as ``logitlab COMMAND: warning: ...`` in flag spelling."""
    import warnings

    from ..errors import LogitlabWarning

    def show(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        if not issubclass(category, LogitlabWarning):
            return original(message, category, *args, **kwargs)
        _err(f"logitlab {command}: warning: {message}")

    with warnings.catch_warnings():
        original = warnings.showwarning
        warnings.simplefilter("default", LogitlabWarning)
        warnings.showwarning = show
        yield


_SPOKEN: dict[str, str | None] = {"command": None}  # the command whose flags _echo and _err write


def _in_flags(text: str) -> str:
    """``text`` with the Python spelling of the running command's parameters as its flags (``target=`` -> ``--target``)."""
    command = _SPOKEN["command"]
    return text if command is None else respell(text, command, _parser())


@functools.lru_cache(maxsize=1)
def _parser() -> argparse.ArgumentParser:
    return build_parser()


def _echo(text: str) -> None:
    print(_in_flags(text), flush=True)


def _err(text: str) -> None:
    print(_in_flags(text), file=sys.stderr, flush=True)


_COMMANDS = {
    "demo": cmd_demo,
    "train": cmd_train,
    "evaluate": cmd_evaluate,
    "predict": cmd_predict,
    "export": cmd_export,
    "doctor": cmd_doctor,
    "plot-loss": cmd_plot_loss,
}


def run_command(args: argparse.Namespace) -> int:
    """Run the parsed command, its output and logitlab warnings written in its flags' spelling."""
    _SPOKEN["command"] = args.command
    with _warnings_in_cli_spelling(args.command):
        return int(_COMMANDS[args.command](args))
