"""The command line's helpers: sizes as typed, result tables, and errors in flag spelling.

Standard library at import time (``rich`` is imported when a table is drawn). :func:`in_cli_spelling`
turns an error written for Python callers (``use epochs=30``) into the command line's language
(``use --epochs 30``), reading the flags from the parser itself.
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = [
    "cv_arg",
    "epochs_arg",
    "lr_arg",
    "image_size",
    "in_cli_spelling",
    "metrics_table",
    "respell",
    "summary_table",
    "weight_decay_arg",
]


def image_size(text: str) -> int | tuple[int, int]:
    """``"64"`` -> 64, ``"64x48"`` -> (64, 48) (height x width)."""
    parts = text.lower().replace("*", "x").split("x")
    try:
        sizes = [int(v) for v in parts]
    except ValueError:
        sizes = []
    if len(sizes) not in (1, 2) or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected a size like 64 or 64x48, got {text!r}")
    return sizes[0] if len(sizes) == 1 else (sizes[0], sizes[1])


def _auto_or_positive(text: str, what: str) -> int | str:
    """``"auto"`` or a positive integer, for ``--cv`` and ``--epochs``."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 'auto' or a positive number of {what}, got {text!r}")
    return value


def cv_arg(text: str) -> int | str:
    """``"auto"`` or a positive number of folds (1: one validation split)."""
    return _auto_or_positive(text, "folds")


def epochs_arg(text: str) -> int | str:
    """``"auto"`` or a positive number of epochs."""
    return _auto_or_positive(text, "epochs")


def _auto_or_number(text: str, example: str) -> float | str:
    """``"auto"`` or a number; ``example`` names the number in the message (``"a learning rate such as 1e-3"``)."""
    if text == "auto":
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 'auto' or {example}, got {text!r}") from None


def lr_arg(text: str) -> float | str:
    """``"auto"`` or a learning rate (a number; the Classifier checks it is positive and finite)."""
    return _auto_or_number(text, "a learning rate such as 1e-3")


def weight_decay_arg(text: str) -> float | str:
    """``"auto"`` or a weight decay (a number; the Classifier checks it is finite and >= 0)."""
    return _auto_or_number(text, "a weight decay such as 1e-4")


def summary_table(rows: list[dict[str, Any]]) -> None:
    """The demo's summary: one row per run."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="logitlab demo")
    for col in ("data", "task", "loss", "weights", "test metrics", "time", "report"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            r["data"], r["task"], r["loss"], r["weights"], r["headline"], f"{r['seconds']:.1f} s", r["report"]
        )
    Console(width=160).print(table)


def metrics_table(metrics: dict[str, Any], *, title: str) -> None:
    """A metrics dict as a two-column table under ``title``."""
    from rich.console import Console
    from rich.table import Table

    def shown(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.4f}"
        if isinstance(value, list):
            return ", ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in value)
        return str(value)

    print(title, flush=True)
    table = Table()
    table.add_column("metric")
    table.add_column("value")
    for key, value in metrics.items():
        table.add_row(key, shown(value))
    Console(width=160).print(table)


_FLAGS = {"loss_options": "--option", "model_options": "--model-option", "random_state": "--seed"}
_ALIASES = {"random_state": "seed"}  # a Python parameter -> the dest of the flag that sets it


def _command_flags(parser: argparse.ArgumentParser, command: str | None) -> dict[str, tuple[str, bool]]:
    """``dest -> (flag, takes no value)`` for one sub-command's options (every command's when ``None``)."""
    out: dict[str, tuple[str, bool]] = {}
    for action in parser._actions:
        choices = getattr(action, "choices", None)
        if not isinstance(choices, dict):
            continue
        for name, sub in choices.items():
            if command is not None and name != command:
                continue
            for option in sub._actions:
                long = [o for o in option.option_strings if o.startswith("--")]
                if long and option.dest not in ("help",):
                    out.setdefault(option.dest, (long[0], option.nargs == 0))
    return out


def in_cli_spelling(
    exc: Any, command: str | None = None, *, parser: argparse.ArgumentParser | None = None
) -> tuple[str, str | None]:
    """An error's message and fix with the parameters it names written as the command's flags.

    The parameter the error names (``param``) and every other ``name=value`` that is a flag of the
    command are respelled: ``epochs=30`` -> ``--epochs 30``, ``overwrite=True`` -> ``--overwrite``,
    ``drop=['id']`` -> ``--drop id``, ```batch_size``` and a bare ``batch_size`` -> ``--batch-size``. The flags come from
    ``parser`` (the command line's own); without it only ``param`` is respelled.

    Examples:
        >>> from logitlab.errors import ConfigError
        >>> in_cli_spelling(ConfigError("Bad `batch_size`: 0.", fix="use batch_size=64.", param="batch_size"))
        ('Bad --batch-size: 0.', 'use --batch-size 64.')
        >>> from logitlab.cli import build_parser
        >>> fix = "pass overwrite=True, or label_sep=','."
        >>> in_cli_spelling(ConfigError("Exists.", fix=fix), "train", parser=build_parser())
        ('Exists.', "pass --overwrite, or --label-sep ','.")
    """
    message, fix, param = exc.message, exc.fix, getattr(exc, "param", None)
    flags = _command_flags(parser, command) if parser is not None else {}
    if param:
        flags.setdefault(param, (_FLAGS.get(param, "--" + param.replace("_", "-")), False))
    return _spell(message, flags), _spell(fix, flags) if fix else fix


def respell(text: str, command: str | None, parser: argparse.ArgumentParser) -> str:
    """``text`` (a note, a warning, a line of output) with the command's parameters written as its flags.

    Examples:
        >>> from logitlab.cli import build_parser
        >>> respell("target column 'y' chosen by its name (pass target= to choose another)", "train", build_parser())
        "target column 'y' chosen by its name (pass --target to choose another)"
    """
    return _spell(text, _command_flags(parser, command))


def _spell(text: str, flags: dict[str, tuple[str, bool]]) -> str:
    """``name=value`` and ```name``` of each flag's parameter in ``text``, written as the flag."""
    import re

    flags = dict(flags)
    for dest, flag in _FLAGS.items():
        if dest in flags:
            flags[dest] = (flag, False)
    flags.update({name: flags[dest] for name, dest in _ALIASES.items() if dest in flags})
    for dest, (flag, switch) in flags.items():
        pattern = rf"(?<![\w.-]){dest}=(\[[^\]]*\]|'[^']*'|\"[^\"]*\"|(?:[^\s,;)]*[^\s,;).])?)"

        def one(m: re.Match[str], flag: str = flag, switch: bool = switch) -> str:
            value = m.group(1)
            if switch:
                return flag
            if value.startswith("["):
                items = [v.strip().strip("'\"") for v in value[1:-1].split(",") if v.strip()]
                return " ".join(f"{flag} {v}" for v in items) or flag
            quoted = value[:1] in ("'", '"')
            bare = value[1:-1] if quoted else value
            if not bare:
                return flag
            return f"{flag} {value if quoted and any(c in bare for c in ' |;,') else bare}"

        text = re.sub(pattern, one, text)
        text = text.replace(f"`{dest}`", flag)
        if "_" in dest:  # a bare Python name such as val_size is no English word: the flag
            text = re.sub(rf"(?<![\w.-]){dest}(?![\w=(])", flag, text)
    return text
