"""``tierrules report``: how well the policy was kept over a case log, as a table, CSV, JSON or HTML."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from .common import EXIT_BAD_INPUT, EXIT_OK, add_parallel, count, instant, load

FORMATS = ("table", "csv", "json", "html")
_SUFFIXES = {".html": "html", ".htm": "html", ".csv": "csv", ".json": "json", ".txt": "table"}
_PERIODS = ("day", "week", "month", "quarter", "all")


def register(sub: Any) -> None:
    re = sub.add_parser(
        "report",
        help="attainment report over a case log: targets, rules, breaches, escalations, etiquette",
        description="Evaluate every case of a JSON Lines case log (each at its own 'now' unless --now "
        "is given) and report, per rule and per target of the ruleset: cases, met, breached, pending, "
        "cancelled, the share met in time against the target, the worst cases; breaches by weekday "
        "and hour; escalations raised; etiquette findings per clause and call scores per agent.",
    )
    re.add_argument(
        "cases", type=Path, help='case log: JSON Lines of {"name", "now", "events"}, or a directory'
    )
    re.add_argument("--now", type=instant, default=None, help="evaluate every case at this instant instead")
    re.add_argument(
        "--period",
        choices=_PERIODS,
        default=None,
        help="the span each share is assessed over (default: each target's own, rules by month)",
    )
    re.add_argument(
        "--by",
        action="append",
        default=None,
        metavar="FIELD[,FIELD]",
        help="group by agent, team, channel, severity, tier, service_class, service_level or "
        "meta.<key> (repeatable; replaces each target's own)",
    )
    re.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="table (default), csv, json or html (default from -o's suffix)",
    )
    re.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        metavar="FILE",
        help="write the report here; the table is still printed unless --quiet",
    )
    re.add_argument("-q", "--quiet", action="store_true", help="with -o: print nothing but errors")
    re.add_argument("--top", type=count, default=5, metavar="N", help="worst cases kept per row (default 5)")
    re.add_argument("--ruleset", type=Path, default=None, help="ruleset directory or file (default: bundled)")
    add_parallel(
        re, "local Dask worker processes (default: in this process below 20,000 cases; 0: in this process)"
    )
    re.set_defaults(run=run, check=check)


def _format(args: argparse.Namespace) -> str:
    if args.format is not None:
        return str(args.format)
    if args.output is not None:
        return _SUFFIXES.get(args.output.suffix.lower(), "table")
    return "table"


def _by(args: argparse.Namespace) -> list[str] | None:
    if args.by is None:
        return None
    return [name.strip() for item in args.by for name in item.split(",") if name.strip()]


def _by_problem(args: argparse.Namespace) -> str | None:
    from ..reporting.groups import check_by

    by = _by(args)
    try:
        check_by(by or [])
    except ValueError as err:
        return f"--by: {err}"
    return None


def _output_problem(args: argparse.Namespace) -> str | None:
    if _format(args) == "html":
        from ..reporting.html import MISSING_EXTRA, has_plotly

        if not has_plotly():
            return f"--format html: {MISSING_EXTRA}"
    if args.output is None:
        return "--quiet goes with -o FILE (without it the report is the output)" if args.quiet else None
    folder = args.output.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        return f"-o: cannot write into {folder}: no such writable directory"
    return None


def check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse bad arguments before anything is evaluated (exit 2, naming the option)."""
    if args.workers is not None and args.scheduler is not None:
        parser.error("give --workers (local processes) or --scheduler (a Dask cluster), not both")
    problem = _by_problem(args) or _output_problem(args)
    if problem is not None:
        parser.error(problem)


def _render(report: Any, form: str, stream: TextIO) -> None:
    if form == "json":
        stream.write(report.to_json())
    elif form == "csv":
        from ..reporting.csvfile import write_csv

        write_csv(report, stream)
    elif form == "html":
        from ..reporting.html import render_html

        stream.write(render_html(report))
    else:
        from ..reporting.table import write_table

        write_table(report, stream)


def run(args: argparse.Namespace, out: TextIO) -> int:
    from ..reporting import report

    form = _format(args)
    result = report(
        args.cases,
        ruleset=load(args.ruleset),
        now=args.now,
        period=args.period,
        by=_by(args),
        top=args.top,
        workers=args.workers,
        address=args.scheduler,
    )
    if args.output is None:
        _render(result, form, out)
        return EXIT_OK
    try:
        with open(args.output, "w", encoding="utf-8", newline="" if form == "csv" else None) as handle:
            _render(result, form, handle)
    except OSError as err:
        print(f"tierrules: cannot write {args.output}: {err.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not args.quiet:
        if form != "table":
            _render(result, "table", out)
        print(f"tierrules: wrote the {form} report to {args.output}", file=sys.stderr)
    return EXIT_OK
