"""The ``tierrules`` command: evaluate, validate, schema, test, diff.

Exit codes: 0 success, 2 bad input (events, ruleset, arguments), 1 an engine failure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from .caselog import read_cases
from .compiler.load import default_ruleset_path, load_ruleset
from .errors import EventError, Problem, RulesetError, TierrulesError
from .evaluation.engine import Engine
from .events import json_lines, parse_event
from .ruleset.model import Ruleset


def _read_events(stream: TextIO, name: str) -> list[Any]:
    """JSON Lines (one event per line), or one JSON array; errors name the line."""
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


def _now(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date-time: {text!r}") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"add a UTC offset (e.g. +08:00): {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="tierrules", description="Enforce a customer-service policy: tiers, deadlines, etiquette."
    )
    parser.add_argument("--version", action="version", version=f"tierrules {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    ev = sub.add_parser(
        "evaluate",
        help="evaluate a case's events (or a case log, --batch) and print the decision as JSON",
        description="Evaluate EVENTS at --now and print the decision; or, with --batch CASES, "
        "evaluate every case of a JSON Lines case log in parallel on Dask and print one line "
        '{"name": ..., "decision": {...}} per case, in input order.',
    )
    ev.add_argument("events", nargs="?", help="JSON Lines file of events (or a JSON array); '-' for stdin")
    ev.add_argument("--now", type=_now, help="the current instant, ISO 8601 with offset")
    ev.add_argument("--ruleset", type=Path, default=None, help="ruleset directory or file (default: bundled)")
    ev.add_argument("--compact", action="store_true", help="one-line JSON")
    ev.add_argument(
        "--batch",
        type=Path,
        default=None,
        metavar="CASES",
        help='a case log: JSON Lines of {"name", "now", "events"} (or a directory of them)',
    )
    _add_parallel(ev, "with --batch: local worker processes (default: one per CPU; 0: in this process)")

    va = sub.add_parser("validate", help="check a ruleset; exit 0 when valid")
    va.add_argument("ruleset", type=Path, nargs="?", default=None, help="ruleset directory or file")

    sub.add_parser("schema", help="print the ruleset JSON Schema (for editor autocompletion)")

    te = sub.add_parser("test", help="run a ruleset's policy tests (*.test.yaml); exit 0 when all pass")
    te.add_argument("ruleset", type=Path, help="ruleset directory (tests beside it or in its tests/)")
    te.add_argument("--tests", type=Path, default=None, help="a test file or directory (default: found)")
    te.add_argument("-v", "--verbose", action="store_true", help="list passing cases too")

    di = sub.add_parser("diff", help="what a ruleset change does: evaluate cases under OLD and NEW")
    di.add_argument("old", type=Path, help="the current ruleset")
    di.add_argument("new", type=Path, help="the changed ruleset")
    di.add_argument("--cases", type=Path, default=None, help="JSON Lines cases file, or a directory")
    di.add_argument("--generate", type=int, default=0, metavar="N", help="also compare N generated cases")
    di.add_argument("--seed", type=int, default=0, help="seed for --generate (default 0)")
    di.add_argument("--json", action="store_true", help="machine-readable output")
    _add_parallel(di, "evaluate on Dask with N local worker processes (default: serially, in this process)")
    return parser


def _add_parallel(parser: argparse.ArgumentParser, workers_help: str) -> None:
    parser.add_argument("--workers", type=_count, default=None, metavar="N", help=workers_help)
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="evaluate on a running Dask cluster, e.g. tcp://host:8786 (instead of local workers)",
    )


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {text!r}")
    return value


def _test(args: argparse.Namespace, out: TextIO) -> int:
    from .policytest import find_test_files, format_report, run

    ruleset = load_ruleset(args.ruleset)
    files = find_test_files(args.tests if args.tests is not None else args.ruleset)
    if not files:
        raise EventError([Problem(f"no *.test.yaml policy tests in {args.tests or args.ruleset}")])
    report = run(ruleset, files)
    out.write(format_report(report, verbose=args.verbose))
    return 1 if report.failed else 0


def _diff(args: argparse.Namespace, out: TextIO) -> int:
    from . import diff as impact_mod

    old, new = Engine(load_ruleset(args.old)), Engine(load_ruleset(args.new))
    if args.cases is None and args.generate <= 0:
        raise EventError([Problem("give --cases FILE_OR_DIR and/or --generate N")])
    cases = read_cases(args.cases) if args.cases is not None else []
    if args.generate > 0:
        cases += impact_mod.generated_cases(old, args.generate, args.seed)
    impact = impact_mod.diff(old, new, cases, workers=args.workers, address=args.scheduler)
    if args.json:
        out.write(json.dumps(impact_mod.to_json(impact), ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(impact_mod.format_impact(impact, str(args.old), str(args.new)))
    return 0


def _batch(args: argparse.Namespace, out: TextIO) -> int:
    from . import batch

    results = batch.evaluate_log(
        args.batch, ruleset=load_ruleset(args.ruleset), workers=args.workers, address=args.scheduler
    )
    # Everything is evaluated before the first line is written: a bad case leaves no output.
    out.write("".join(batch.result_line(r) + "\n" for r in results))
    return 0


def _evaluate(args: argparse.Namespace, out: TextIO) -> int:
    if args.batch is not None:
        return _batch(args, out)
    ruleset = load_ruleset(args.ruleset)
    if args.events == "-":
        events = _read_events(sys.stdin, "<stdin>")
    else:
        try:
            with open(args.events, encoding="utf-8") as handle:
                events = _read_events(handle, args.events)
        except OSError as err:
            raise EventError([Problem(f"cannot read {args.events}: {err.strerror}")]) from None
    decision = Engine(ruleset).evaluate(events, now=args.now)
    out.write(decision.to_json(indent=None if args.compact else 2) + "\n")
    return 0


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command line; returns the exit code."""
    out = out or sys.stdout
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "evaluate":
        if args.batch is None and (args.events is None or args.now is None):
            parser.error("evaluate needs EVENTS and --now (or --batch CASES)")
        if args.batch is not None and (args.events is not None or args.now is not None):
            parser.error(
                "--batch takes each case's events and 'now' from the case log: drop EVENTS and --now"
            )
        if args.batch is None and (args.workers is not None or args.scheduler is not None):
            parser.error("--workers and --scheduler go with --batch")
    if args.command in ("evaluate", "diff") and args.workers is not None and args.scheduler is not None:
        parser.error("give --workers (local processes) or --scheduler (a Dask cluster), not both")
    try:
        if args.command == "evaluate":
            return _evaluate(args, out)
        if args.command == "validate":
            where = args.ruleset or default_ruleset_path()
            ruleset = load_ruleset(where)
            out.write(
                f"ok: {where}: ruleset {ruleset.name} {ruleset.version}, "
                f"{len(ruleset.deadlines)} deadline rules, {len(ruleset.calendars)} calendars\n"
            )
            return 0
        if args.command == "schema":
            out.write(json.dumps(Ruleset.model_json_schema(), ensure_ascii=False, indent=2) + "\n")
            return 0
        if args.command == "test":
            return _test(args, out)
        if args.command == "diff":
            return _diff(args, out)
    except EventError as err:
        print(f"tierrules: {err}", file=sys.stderr)
        return 2
    except RulesetError as err:
        print(f"tierrules: {err}", file=sys.stderr)
        return 2
    except TierrulesError as err:
        if type(err).__name__ == "PolicyTestError":  # a malformed policy test file: bad input
            print(f"tierrules: {err}", file=sys.stderr)
            return 2
        print(f"tierrules: {err}", file=sys.stderr)
        return 1
    raise AssertionError(f"unhandled command {args.command}")
