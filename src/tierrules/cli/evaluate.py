"""``tierrules evaluate``: one case's events at an instant, or a case log (``--batch``).

Output: JSON (the contract for programs, byte-identical run to run) or a table for people.
The default is a table when stdout is a terminal and JSON otherwise, so pipes, scripts and
``subprocess`` callers keep getting JSON without asking; ``--format`` picks either.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .common import EXIT_OK, add_parallel, in_ruleset_zone, instant, load, read_cases_arg, read_events_arg
from .progress import add_no_progress

if TYPE_CHECKING:
    from ..batch import CaseResult
    from ..caselog import CaseRecord
    from ..ruleset.model import Ruleset


def register(sub: Any) -> None:
    ev = sub.add_parser(
        "evaluate",
        help="evaluate a case's events (or a case log, --batch) and print the decision",
        description="Evaluate EVENTS at --now and print the decision; or, with --batch CASES, "
        "evaluate every case of a JSON Lines case log (in parallel on Dask) and print one line "
        '{"name": ..., "decision": {...}} per case, in input order. Prints a table when stdout '
        "is a terminal, JSON otherwise (--format).",
    )
    ev.add_argument(
        "events",
        nargs="?",
        metavar="EVENTS",
        help="JSON Lines file of events (or a JSON array); '-' for stdin",
    )
    ev.add_argument(
        "--now",
        type=instant,
        metavar="INSTANT",
        help="the current instant: ISO 8601 with offset, or 'now' (shown in the ruleset's timezone)",
    )
    ev.add_argument("--ruleset", type=Path, default=None, help="ruleset directory or file (default: bundled)")
    add_output(ev)
    ev.add_argument(
        "--batch",
        default=None,
        metavar="CASES",
        help='a case log: JSON Lines of {"name", "now", "events"} (or a directory of them); \'-\' for stdin',
    )
    add_parallel(ev, "with --batch: local worker processes (default: one per CPU; 0: in this process)")
    add_no_progress(ev)
    ev.set_defaults(run=run, check=check)


def add_output(parser: argparse.ArgumentParser) -> None:
    """``--format``, ``--compact``, ``--color``."""
    parser.add_argument(
        "--format",
        choices=("json", "table"),
        default=None,
        help="json (for programs) or table (for people); default: table on a terminal, else json",
    )
    parser.add_argument("--compact", action="store_true", help="one-line JSON (implies --format json)")
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour in tables: auto (on a terminal, unless NO_COLOR is set), always, never",
    )


def check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    problem = _input_problem(args) or _option_problem(args)
    if problem is not None:
        parser.error(problem)


def _input_problem(args: argparse.Namespace) -> str | None:
    if args.batch is None and (args.events is None or args.now is None):
        return "evaluate needs EVENTS and --now (or --batch CASES)"
    if args.batch is not None and (args.events is not None or args.now is not None):
        return "--batch takes each case's events and 'now' from the case log: drop EVENTS and --now"
    return None


def _option_problem(args: argparse.Namespace) -> str | None:
    if args.batch is None and (args.workers is not None or args.scheduler is not None):
        return "--workers and --scheduler go with --batch"
    if args.workers is not None and args.scheduler is not None:
        return "give --workers (local processes) or --scheduler (a Dask cluster), not both"
    if args.compact and args.format == "table":
        return "--compact is for JSON: drop it, or --format json"
    return None


def output_format(args: argparse.Namespace, out: TextIO) -> str:
    """``--format``, else json with ``--compact``, else table on a terminal and json otherwise."""
    if args.format is not None:
        return str(args.format)
    if args.compact:
        return "json"
    isatty = getattr(out, "isatty", None)
    return "table" if callable(isatty) and isatty() else "json"


def run(args: argparse.Namespace, out: TextIO) -> int:
    if args.batch is not None:
        return _batch(args, out)
    from ..evaluation.engine import Engine

    ruleset = load(args.ruleset)
    events = read_events_arg(args.events)
    now = in_ruleset_zone(args.now, ruleset)
    decision = Engine(ruleset).evaluate(events, now=now)
    if output_format(args, out) == "table":
        from .table import console_for, render_decision

        console = console_for(out, args.color)
        render_decision(decision, console, now=now, ruleset=ruleset)
    else:
        out.write(decision.to_json(indent=None if args.compact else 2) + "\n")
    return EXIT_OK


def _evaluate_cases(args: argparse.Namespace, ruleset: Ruleset, cases: list[CaseRecord]) -> list[CaseResult]:
    """The batch API, with a progress bar on a terminal's stderr."""
    from .. import batch
    from .progress import accepts_progress, progress_bar

    options: dict[str, Any] = {"ruleset": ruleset, "workers": args.workers, "address": args.scheduler}
    # The per-case hook arrived with issue 15's batch work; without it the bar only runs.
    per_case = accepts_progress(batch.evaluate_cases)
    total = len(cases) if per_case else None
    with progress_bar(f"evaluating {len(cases)} cases", total, enabled=args.progress) as progress:
        if per_case:
            options["progress"] = progress
        return batch.evaluate_cases(cases, **options)


def _batch(args: argparse.Namespace, out: TextIO) -> int:
    from .. import batch

    ruleset = load(args.ruleset)
    cases = read_cases_arg(args.batch)
    try:
        results = _evaluate_cases(args, ruleset, cases)
    except batch.BatchError as err:
        # Some cases could not be evaluated (exit 1): the others' lines are still written.
        out.write("".join(batch.result_line(r) + "\n" for r in err.completed))
        raise
    # Everything is evaluated before the first line is written: a bad case leaves no output.
    if output_format(args, out) == "json":
        out.write("".join(batch.result_line(r) + "\n" for r in results))
        return EXIT_OK
    from .table import console_for, render_decision

    console = console_for(out, args.color)
    for i, (case, result) in enumerate(zip(cases, results, strict=True)):
        if i:
            console.print()
        now = in_ruleset_zone(case.now, ruleset)
        render_decision(result.decision, console, now=now, ruleset=ruleset, title=result.name)
    return EXIT_OK
