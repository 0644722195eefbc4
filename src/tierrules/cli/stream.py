"""``tierrules stream``: JSON Lines events in, one JSON update per line out, state in a store.

Each input line is an event (the JSON form ``evaluate`` reads), optionally with a ``"now"``
key, or a command: ``{"close_case": ID}`` or ``{"refresh": ID, "now": ...}``. Each
non-blank line gets exactly one output line, written and flushed before the next line is
read: the update (``Update.to_dict()`` with the input ``line`` number first), or
``{"line": N, "error": {...}}`` naming what was wrong -- a bad line never stops the stream
and is never skipped silently. ``now`` is the line's ``"now"``, else ``--now``, else the
latest ``at`` among the case's events (this one included): the stream's own clock.

Exit status at the end of input: 0 when every line was applied, 2 when a line was refused
(bad JSON, a bad event, an unknown case), 1 when the engine or the store failed on a line.
``--stop-on-error`` stops at the first such line instead.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .common import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, count, instant, load

if TYPE_CHECKING:
    from ..errors import TierrulesError
    from ..session import Session, Store


def register(sub: Any) -> None:
    st = sub.add_parser(
        "stream",
        help="read events as JSON Lines, keep cases in a store, write one JSON update per line",
        description="Append each event of a JSON Lines stream to a session and write its update "
        "(the case's decision and what is new in it) as one JSON line, flushed at once.",
    )
    st.add_argument("events", nargs="?", default="-", help="JSON Lines file of events (default: stdin)")
    st.add_argument(
        "--db",
        default=None,
        metavar="PATH|URL",
        help="where cases are kept: a SQLite file (created if missing) or a postgresql:// URL "
        "(the postgres extra); default: memory, gone at exit",
    )
    st.add_argument("--ruleset", type=Path, default=None, help="ruleset directory or file (default: bundled)")
    st.add_argument("--now", type=instant, default=None, help="evaluate every line at this instant")
    st.add_argument("--stop-on-error", action="store_true", help="stop at the first refused or failed line")
    st.add_argument("--cache-size", type=count, default=1024, metavar="N", help="cases kept in memory")
    st.set_defaults(run=run)


def _store(db: str | None) -> Store:
    from ..session import MemoryStore, PostgresStore, SqliteStore

    if db is None:
        return MemoryStore()
    if db.startswith(("postgresql://", "postgres://")):
        return PostgresStore(db)
    return SqliteStore(db)


def run(args: argparse.Namespace, out: TextIO) -> int:
    from ..evaluation.engine import Engine
    from ..session import Session, StoreError

    engine = Engine(load(args.ruleset))
    try:
        store = _store(args.db)
    except StoreError as err:
        print(f"tierrules: --db {args.db}: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        session = Session(engine, store=store, cache_size=max(1, args.cache_size))
        if args.events == "-":
            return _stream(session, sys.stdin, out, args)
        try:
            handle = open(args.events, encoding="utf-8")  # noqa: SIM115 - closed below
        except OSError as err:
            print(f"tierrules: cannot read {args.events}: {err.strerror}", file=sys.stderr)
            return EXIT_BAD_INPUT
        # A reader that goes away (BrokenPipeError) ends the command quietly, exit 141: the
        # command line's own handler does that for every command.
        with handle:
            return _stream(session, handle, out, args)
    except KeyboardInterrupt:
        return 130
    finally:
        store.close()


def _stream(session: Session, source: TextIO, out: TextIO, args: argparse.Namespace) -> int:
    """Answer every line; returns the exit status."""
    worst, bad = EXIT_OK, []
    lineno = 0
    while True:
        line = source.readline()  # one line at a time: answer before reading on
        if not line:
            break
        lineno += 1
        if not line.strip():
            continue
        answer, status = _answer(session, line, lineno, args.now)
        out.write(json.dumps(answer, ensure_ascii=False, default=str) + "\n")
        out.flush()
        if status != EXIT_OK:
            bad.append(lineno)
            worst = EXIT_FAILED if EXIT_FAILED in (worst, status) else status
            if args.stop_on_error:
                break
    if bad:
        shown = ", ".join(map(str, bad[:10])) + (" ..." if len(bad) > 10 else "")
        print(
            f"tierrules: {len(bad)} line(s) not applied (line {shown}); see the error lines", file=sys.stderr
        )
    return worst


def _answer(
    session: Session, line: str, lineno: int, default_now: dt.datetime | None
) -> tuple[dict[str, Any], int]:
    """One line's output and its status."""
    from ..errors import EngineError, EventError, Problem
    from ..session import StoreError

    try:
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as err:
            raise EventError([Problem(f"not valid JSON: {err.msg}", (), line=lineno)]) from None
        return {"line": lineno, **_apply(session, raw, lineno, default_now)}, EXIT_OK
    except EventError as err:
        return _error(lineno, "refused", err), EXIT_BAD_INPUT
    except (EngineError, StoreError) as err:
        return _error(lineno, "failed", err), EXIT_FAILED


def _apply(session: Session, raw: Any, lineno: int, default_now: dt.datetime | None) -> dict[str, Any]:
    from ..errors import EventError, Problem

    if not isinstance(raw, dict):
        raise EventError(
            [Problem("a line must be a JSON object (an event or a command)", (), raw, line=lineno)]
        )
    now = _line_now(raw.pop("now", None), lineno) or default_now
    if "type" not in raw and len(raw) == 1 and next(iter(raw)) in ("close_case", "refresh"):
        return _command(session, raw, now, lineno)
    try:
        return session.append(raw, now).to_dict()
    except EventError as err:
        raise EventError([_on_line(p, lineno) for p in err.problems]) from None


def _command(session: Session, raw: dict[str, Any], now: dt.datetime | None, lineno: int) -> dict[str, Any]:
    """``{"close_case": ID}`` or ``{"refresh": ID}``."""
    from ..errors import EventError, Problem

    [(command, case_id)] = raw.items()
    if not isinstance(case_id, str):
        raise EventError([Problem("a case id must be a string", (command,), case_id, line=lineno)])
    if command == "close_case":
        session.close_case(case_id)
        return {"closed": case_id}
    if now is None:
        raise EventError([Problem("refresh needs a 'now' (or --now)", ("now",), line=lineno)])
    return session.refresh(case_id, now).to_dict()


def _line_now(value: Any, lineno: int) -> dt.datetime | None:
    from ..errors import EventError, Problem

    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise argparse.ArgumentTypeError("now must be an ISO 8601 date-time string with a UTC offset")
        return instant(value)
    except argparse.ArgumentTypeError as err:
        raise EventError([Problem(str(err), ("now",), value, line=lineno)]) from None


def _on_line(problem: Any, lineno: int) -> Any:
    """The problem located on the input line (its path names the field, not a list index)."""
    from dataclasses import replace

    path = problem.absolute_path
    return replace(problem, absolute_path=path[1:] if path and path[0] == 0 else path, line=lineno)


def _error(lineno: int, kind: str, err: TierrulesError) -> dict[str, Any]:
    from ..errors import EventError

    problems = err.problems if isinstance(err, EventError) else ()
    return {
        "line": lineno,
        "error": {
            "kind": kind,
            "message": str(err),
            "problems": [
                {
                    "path": p.json_path,
                    "message": p.message,
                    **({"value": p.value} if p.has_value else {}),
                    **({"suggestion": p.suggestion} if p.suggestion else {}),
                }
                for p in problems
            ],
        },
    }
