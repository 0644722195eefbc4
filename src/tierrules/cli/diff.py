"""``tierrules diff``: what a ruleset change does to recorded or generated cases.

``--exit-code`` makes it a CI gate, like ``git diff --exit-code``: exit 1 when any case's
decision changed, 0 when none did.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .common import EXIT_FAILED, EXIT_OK, add_parallel, load, read_cases_arg
from .progress import add_no_progress

if TYPE_CHECKING:
    from ..caselog import CaseRecord
    from ..diff import Impact
    from ..evaluation.engine import Engine


def register(sub: Any) -> None:
    di = sub.add_parser("diff", help="what a ruleset change does: evaluate cases under OLD and NEW")
    di.add_argument("old", type=Path, help="the current ruleset")
    di.add_argument("new", type=Path, help="the changed ruleset")
    di.add_argument(
        "--cases", default=None, metavar="CASES", help="JSON Lines cases file, or a directory; '-' for stdin"
    )
    di.add_argument("--generate", type=int, default=0, metavar="N", help="also compare N generated cases")
    di.add_argument("--seed", type=int, default=0, help="seed for --generate (default 0)")
    di.add_argument("--json", action="store_true", help="machine-readable output")
    di.add_argument(
        "--exit-code",
        action="store_true",
        help="exit 1 when any decision changed, 0 when none did (like git diff --exit-code)",
    )
    add_parallel(di, "evaluate on Dask with N local worker processes (default: serially, in this process)")
    add_no_progress(di)
    di.set_defaults(run=run, check=check)


def check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.workers is not None and args.scheduler is not None:
        parser.error("give --workers (local processes) or --scheduler (a Dask cluster), not both")


def _impact(args: argparse.Namespace, old: Engine, new: Engine, cases: list[CaseRecord]) -> Impact:
    """Compare the cases, with a progress bar on a terminal's stderr."""
    from .. import diff as impact_mod
    from .progress import accepts_progress, counted, progress_bar

    serial = args.scheduler is None and not args.workers
    # On Dask the cases go out at once: per-case progress needs diff()'s own hook, when it has one.
    hooked = not serial and accepts_progress(impact_mod.diff)
    total = len(cases) if serial or hooked else None
    with progress_bar(f"comparing {len(cases)} cases", total, enabled=args.progress) as progress:
        options: dict[str, Any] = {"workers": args.workers, "address": args.scheduler}
        if hooked:
            options["progress"] = progress
        chosen = counted(cases, len(cases), progress) if serial else cases
        return impact_mod.diff(old, new, chosen, **options)


def run(args: argparse.Namespace, out: TextIO) -> int:
    from .. import diff as impact_mod
    from ..errors import EventError, Problem
    from ..evaluation.engine import Engine

    old, new = Engine(load(args.old)), Engine(load(args.new))
    if args.cases is None and args.generate <= 0:
        raise EventError([Problem("give --cases FILE_OR_DIR and/or --generate N")])
    cases = read_cases_arg(args.cases) if args.cases is not None else []
    if args.generate > 0:
        cases += impact_mod.generated_cases(old, args.generate, args.seed)
    impact = _impact(args, old, new, cases)
    if args.json:
        out.write(json.dumps(impact_mod.to_json(impact), ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(impact_mod.format_impact(impact, str(args.old), str(args.new)))
    return EXIT_FAILED if args.exit_code and impact.cases_changed else EXIT_OK
