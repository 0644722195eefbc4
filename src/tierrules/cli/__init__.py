"""The ``tierrules`` command: one module per subcommand, imported only when it runs.

Each command module has ``register(subparsers)``, which adds its parser and sets ``run``:
a function of the parsed arguments and the output stream returning the exit code
(0 success, 1 a check or the engine failed, 2 bad input). Registering imports nothing
heavy, so ``tierrules --help`` starts fast (docs/performance.md, "Start-up").
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from .common import guarded

__all__ = ["COMMANDS", "build_parser", "main"]

# Subcommand modules, in the order --help lists them: one a line, so branches that add a
# command merge cleanly.
COMMANDS = (
    "evaluate",
    "validate",
    "schema",
    "test",
    "diff",
    "report",
    "stream",
    "init",
    "completion",
)

EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: the reader of stdout went away


class _Version(argparse.Action):
    """``--version``, reading the installed version only when asked (importlib.metadata is slow)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        from .. import __version__

        print(f"tierrules {__version__}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The ``tierrules`` argument parser, every command registered (their modules import little)."""
    parser = argparse.ArgumentParser(
        prog="tierrules", description="Enforce a customer-service policy: tiers, deadlines, etiquette."
    )
    parser.add_argument("--version", action=_Version, help="show the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f".{name}", __name__).register(sub)
    return parser


def _command_parser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    for action in parser._actions:  # argparse has no public accessor for subparsers
        if isinstance(action, argparse._SubParsersAction):
            found: argparse.ArgumentParser = action.choices[name]
            return found
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command line; returns the exit code."""
    stream = out or sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    check = getattr(args, "check", None)
    if check is not None:  # usage errors show the command's own usage
        check(_command_parser(parser, args.command), args)
    try:
        return guarded(lambda: int(args.run(args, stream)))
    except KeyboardInterrupt:
        print("tierrules: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`tierrules evaluate ... | head`): not an error of ours. Point
        # stdout at /dev/null so the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
