"""What every command shares: reading events and instants, and turning errors into exit codes.

Exit codes: 0 success, 1 a check failed or the engine failed, 2 bad input (events, ruleset,
arguments, files); :func:`tierrules.cli.main` adds 130 (Ctrl-C) and 141 (stdout closed).
Never a traceback (see :func:`guarded`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from ..caselog import CaseRecord
    from ..ruleset.model import Ruleset

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def read_bytes(path: str, limit: int | None) -> bytes:
    """The bytes of a file, or of stdin for ``-``; at most ``limit`` (EventError past it).

    Pipes and FIFOs are read (``<(command)`` is one); a directory or an unreadable file is
    an EventError naming it.
    """
    from ..errors import EventError, Problem, Rank

    name = "<stdin>" if path == "-" else path
    size = -1 if limit is None else limit + 1
    try:
        if path == "-":
            data = sys.stdin.buffer.read(size)
        else:
            with open(path, "rb") as handle:
                data = handle.read(size)
    except OSError as err:
        raise EventError([Problem(f"cannot read {name}: {err.strerror}", rank=Rank.SHAPE)]) from None
    if limit is not None and len(data) > limit:
        raise EventError(
            [Problem(f"{name}: more than {limit:,} bytes (Limits.max_input_bytes)", rank=Rank.INVALID)]
        )
    return data


def utf8_text(data: bytes, name: str) -> str:
    """``data`` as UTF-8 (a leading BOM dropped); EventError naming the line of a bad byte."""
    from ..errors import EventError, Problem, Rank

    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        message = f"{name}: not UTF-8 text: byte 0x{data[err.start]:02x} at offset {err.start}"
        raise EventError([Problem(message, line=line, rank=Rank.SHAPE)]) from None


def events_from_text(text: str, name: str) -> list[Any]:
    """JSON Lines (one event per line), or one JSON array; errors name the line."""
    from ..errors import EventError, Problem
    from ..events import decode_json, json_lines, parse_event

    if text.lstrip().startswith("["):
        data = decode_json(text, name)
        if not isinstance(data, list):
            raise EventError([Problem(f"{name}: expected a JSON array of events")])
        return [parse_event(item, i) for i, item in enumerate(data)]
    return [parse_event(raw, index, line=lineno) for lineno, index, raw in json_lines(text, name)]


def read_events(stream: TextIO, name: str) -> list[Any]:
    """Events from an open text stream (see :func:`events_from_text`)."""
    return events_from_text(stream.read(), name)


def read_events_arg(path: str) -> list[Any]:
    """Events from a file name, or stdin for ``-``: UTF-8, at most ``Limits.max_input_bytes``."""
    from ..limits import DEFAULT_LIMITS

    name = "<stdin>" if path == "-" else path
    return events_from_text(utf8_text(read_bytes(path, DEFAULT_LIMITS.max_input_bytes), name), name)


def instant(text: str) -> dt.datetime:
    """An ``argparse`` type: an ISO 8601 instant with a UTC offset in the accepted years, or ``now``.

    ``now`` is the instant the command line is read (in UTC; :func:`in_ruleset_zone` shows it
    in the ruleset's timezone).
    """
    from ..events import MAX_YEAR, MIN_YEAR, parse_instant

    if text.strip().lower() == "now":
        return dt.datetime.now(dt.timezone.utc)
    try:
        value = parse_instant(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date-time: {text!r}") from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise argparse.ArgumentTypeError(f"add a UTC offset (e.g. +08:00): {text!r}")
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise argparse.ArgumentTypeError(f"must lie in the years {MIN_YEAR} to {MAX_YEAR}: {text!r}")
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
    """Run a command, turning errors into a message on stderr and an exit code, never a traceback.

    tierrules' input errors exit 2 and its other errors 1. Anything else is a bug in
    tierrules: one line saying so, exit 1 (``TIERRULES_DEBUG=1`` shows the traceback).
    Ctrl-C and a closed stdout are left to :func:`tierrules.cli.main` (130, 141).
    """
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
    except BrokenPipeError:
        raise
    except MemoryError:
        print("tierrules: out of memory", file=sys.stderr)
        return EXIT_FAILED
    except Exception as err:
        if os.environ.get("TIERRULES_DEBUG"):
            raise
        print(
            f"tierrules: internal error (a bug in tierrules; please report it): {type(err).__name__}: {err}"
            "\n  rerun with TIERRULES_DEBUG=1 to see where",
            file=sys.stderr,
        )
        return EXIT_FAILED


def in_ruleset_zone(instant: dt.datetime, ruleset: Ruleset) -> dt.datetime:
    """The same instant on the ruleset's clock (where decisions report theirs)."""
    from zoneinfo import ZoneInfo

    try:
        zone: dt.tzinfo | None = ZoneInfo(ruleset.timezone)
    except (ValueError, OSError):  # a name only dateutil knows; the ruleset loaded, so it does
        from dateutil import tz

        zone = tz.gettz(ruleset.timezone)
    return instant.astimezone(zone)


def read_cases_arg(path: str) -> list[CaseRecord]:
    """A case log (JSON Lines file or directory), or stdin for ``-`` (UTF-8, at most
    ``Limits.max_input_bytes``)."""
    from ..caselog import parse_cases, read_cases
    from ..limits import DEFAULT_LIMITS

    if path != "-":
        return read_cases(Path(path))
    return parse_cases(utf8_text(read_bytes("-", DEFAULT_LIMITS.max_input_bytes), "<stdin>"), "<stdin>")
