"""The ``tierrules`` command: one module per subcommand, imported only when it runs.

Each command module has ``register(subparsers)``, which adds its parser and sets ``run``:
a function of the parsed arguments and the output stream returning the exit code
(0 success, 1 a check or the engine failed, 2 bad input).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import TextIO

from .common import guarded

__all__ = ["COMMANDS", "main"]

# Subcommand modules, in the order --help lists them.
COMMANDS = ("evaluate", "validate", "schema", "test", "diff", "stream")


def _parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="tierrules", description="Enforce a customer-service policy: tiers, deadlines, etiquette."
    )
    parser.add_argument("--version", action="version", version=f"tierrules {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f".{name}", __name__).register(sub)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command line; returns the exit code."""
    stream = out or sys.stdout
    parser = _parser()
    args = parser.parse_args(argv)
    check = getattr(args, "check", None)
    if check is not None:
        check(parser, args)
    return guarded(lambda: int(args.run(args, stream)))
