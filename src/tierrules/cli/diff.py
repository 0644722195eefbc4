"""``tierrules diff``: what a ruleset change does to recorded or generated cases."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TextIO

from .common import EXIT_OK, add_parallel, load


def register(sub: Any) -> None:
    di = sub.add_parser("diff", help="what a ruleset change does: evaluate cases under OLD and NEW")
    di.add_argument("old", type=Path, help="the current ruleset")
    di.add_argument("new", type=Path, help="the changed ruleset")
    di.add_argument("--cases", type=Path, default=None, help="JSON Lines cases file, or a directory")
    di.add_argument("--generate", type=int, default=0, metavar="N", help="also compare N generated cases")
    di.add_argument("--seed", type=int, default=0, help="seed for --generate (default 0)")
    di.add_argument("--json", action="store_true", help="machine-readable output")
    add_parallel(di, "evaluate on Dask with N local worker processes (default: serially, in this process)")
    di.set_defaults(run=run, check=check)


def check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.workers is not None and args.scheduler is not None:
        parser.error("give --workers (local processes) or --scheduler (a Dask cluster), not both")


def run(args: argparse.Namespace, out: TextIO) -> int:
    from .. import diff as impact_mod
    from ..caselog import read_cases
    from ..errors import EventError, Problem
    from ..evaluation.engine import Engine

    old, new = Engine(load(args.old)), Engine(load(args.new))
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
    return EXIT_OK
