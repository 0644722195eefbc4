"""``tierrules test``: run a ruleset's policy tests (``*.test.yaml``), like ``opa test``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from .common import EXIT_FAILED, EXIT_OK, load


def register(sub: Any) -> None:
    te = sub.add_parser("test", help="run a ruleset's policy tests (*.test.yaml); exit 0 when all pass")
    te.add_argument(
        "ruleset",
        type=Path,
        nargs="?",
        default=None,
        help="ruleset directory, tests beside it or in its tests/ (default: the bundled ruleset)",
    )
    te.add_argument("--tests", type=Path, default=None, help="a test file or directory (default: found)")
    te.add_argument("-v", "--verbose", action="store_true", help="list passing cases too")
    te.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    from ..compiler.load import default_ruleset_path
    from ..errors import EventError, Problem
    from ..policytest import find_test_files, format_report
    from ..policytest import run as run_tests

    where = args.ruleset if args.ruleset is not None else default_ruleset_path()
    ruleset = load(where)
    tests = args.tests if args.tests is not None else where
    files = find_test_files(tests)
    if not files:
        raise EventError([Problem(f"no *.test.yaml policy tests in {tests}")])
    report = run_tests(ruleset, files)
    out.write(format_report(report, verbose=args.verbose))
    return EXIT_FAILED if report.failed else EXIT_OK
