"""The ``logitlab`` command line: parse the arguments, call :mod:`logitlab.workflows`, render the result.

:mod:`~logitlab.cli.parser` builds the parser (standard library and :mod:`logitlab.options` only, so
``logitlab --help`` answers without importing torch; the option sets (``choices=``) and the defaults
are the library's own), :mod:`~logitlab.cli.commands` runs a command and :mod:`~logitlab.cli.text`
renders. Every :class:`~logitlab.errors.LogitlabError` becomes a one-paragraph message on stderr and
exit code 2 (``--debug`` shows the traceback).

Examples:
    >>> parser = build_parser()
    >>> args = parser.parse_args(["train", "builtin:breast_cancer", "--epochs", "3"])
    >>> args.command, args.data, args.epochs, args.task, args.imbalance
    ('train', 'builtin:breast_cancer', 3, 'auto', 'auto')
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .commands import EXIT_ERROR, parse_options, run_command
from .parser import build_parser
from .text import in_cli_spelling

__all__ = ["build_parser", "main", "parse_options"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 doctor found errors, 2 a logitlab error)."""
    from ..errors import LogitlabError

    args = build_parser().parse_args(argv)
    try:
        return run_command(args)
    except LogitlabError as exc:
        if args.debug:
            raise
        message, fix = in_cli_spelling(exc, args.command, parser=build_parser())
        print(f"logitlab {args.command}: {type(exc).__name__}: {message}", file=sys.stderr)
        if fix:
            print(f"Fix: {fix}", file=sys.stderr)
        print("(run with --debug for the traceback)", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
