"""What every command shares: reading events and instants, and turning errors into exit codes.

Exit codes: 0 success, 1 a check failed or the engine failed, 2 bad input (events, ruleset,
arguments, files).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from ..ruleset.model import Ruleset

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def read_events(stream: TextIO, name: str) -> list[Any]:
    """JSON Lines (one event per line), or one JSON array; errors name the line."""
    from ..errors import EventError, Problem
    from ..events import json_lines, parse_event

    text = stream.read()
    if text.lstrip().startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise EventError([Problem(f"{name}: not valid JSON: {err.msg}", line=err.lineno)]) from None
        if not isinstance(data, list):
            raise EventError([Problem(f"{name}: expected a JSON array of events")])
        return [parse_event(item, i) for i, item in enumerate(data)]
    return [parse_event(raw, index, line=lineno) for lineno, index, raw in json_lines(text, name)]


def read_events_arg(path: str) -> list[Any]:
    """Events from a file name, or stdin for ``-``."""
    from ..errors import EventError, Problem

    if path == "-":
        return read_events(sys.stdin, "<stdin>")
    try:
        with open(path, encoding="utf-8") as handle:
            return read_events(handle, path)
    except OSError as err:
        raise EventError([Problem(f"cannot read {path}: {err.strerror}")]) from None


def instant(text: str) -> dt.datetime:
    """An ``argparse`` type: an ISO 8601 instant with a UTC offset."""
    try:
        from ..events import parse_instant

        value = parse_instant(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date-time: {text!r}") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"add a UTC offset (e.g. +08:00): {text!r}")
    return value


def count(text: str) -> int:
    """An ``argparse`` type: a whole number, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {text!r}")
    return value


def add_parallel(parser: argparse.ArgumentParser, workers_help: str) -> None:
    """``--workers`` / ``--scheduler``, for commands that can evaluate on Dask."""
    parser.add_argument("--workers", type=count, default=None, metavar="N", help=workers_help)
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="evaluate on a running Dask cluster, e.g. tcp://host:8786 (instead of local workers)",
    )


def load(path: Any) -> Ruleset:
    """The ruleset at ``path`` (None: the bundled default)."""
    from ..compiler.load import load_ruleset

    return load_ruleset(path)


def guarded(run: Callable[[], int]) -> int:
    """Run a command, turning tierrules' errors into a message on stderr and an exit code."""
    from ..errors import EventError, RulesetError, TierrulesError
    from ..policytest import PolicyTestError

    try:
        return run()
    except (EventError, RulesetError, PolicyTestError) as err:
        print(f"tierrules: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except TierrulesError as err:
        print(f"tierrules: {err}", file=sys.stderr)
        return EXIT_FAILED
