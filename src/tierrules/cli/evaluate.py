"""``tierrules evaluate``: one case's events at an instant, or a case log (``--batch``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from .common import EXIT_OK, add_parallel, instant, load, read_events_arg


def register(sub: Any) -> None:
    ev = sub.add_parser(
        "evaluate",
        help="evaluate a case's events (or a case log, --batch) and print the decision as JSON",
        description="Evaluate EVENTS at --now and print the decision; or, with --batch CASES, "
        "evaluate every case of a JSON Lines case log in parallel on Dask and print one line "
        '{"name": ..., "decision": {...}} per case, in input order.',
    )
    ev.add_argument("events", nargs="?", help="JSON Lines file of events (or a JSON array); '-' for stdin")
    ev.add_argument("--now", type=instant, help="the current instant, ISO 8601 with offset")
    ev.add_argument("--ruleset", type=Path, default=None, help="ruleset directory or file (default: bundled)")
    ev.add_argument("--compact", action="store_true", help="one-line JSON")
    ev.add_argument(
        "--batch",
        type=Path,
        default=None,
        metavar="CASES",
        help='a case log: JSON Lines of {"name", "now", "events"} (or a directory of them)',
    )
    add_parallel(ev, "with --batch: local worker processes (default: one per CPU; 0: in this process)")
    ev.set_defaults(run=run, check=check)


def check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.batch is None and (args.events is None or args.now is None):
        parser.error("evaluate needs EVENTS and --now (or --batch CASES)")
    if args.batch is not None and (args.events is not None or args.now is not None):
        parser.error("--batch takes each case's events and 'now' from the case log: drop EVENTS and --now")
    if args.batch is None and (args.workers is not None or args.scheduler is not None):
        parser.error("--workers and --scheduler go with --batch")
    if args.workers is not None and args.scheduler is not None:
        parser.error("give --workers (local processes) or --scheduler (a Dask cluster), not both")


def run(args: argparse.Namespace, out: TextIO) -> int:
    if args.batch is not None:
        return _batch(args, out)
    from ..evaluation.engine import Engine

    ruleset = load(args.ruleset)
    events = read_events_arg(args.events)
    decision = Engine(ruleset).evaluate(events, now=args.now)
    out.write(decision.to_json(indent=None if args.compact else 2) + "\n")
    return EXIT_OK


def _batch(args: argparse.Namespace, out: TextIO) -> int:
    from .. import batch

    try:
        results = batch.evaluate_log(
            args.batch, ruleset=load(args.ruleset), workers=args.workers, address=args.scheduler
        )
    except batch.BatchError as err:
        # Some cases could not be evaluated (exit 1): the others' lines are still written.
        out.write("".join(batch.result_line(r) + "\n" for r in err.completed))
        raise
    # Everything is evaluated before the first line is written: a bad case leaves no output.
    out.write("".join(batch.result_line(r) + "\n" for r in results))
    return EXIT_OK
