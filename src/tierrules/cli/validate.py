"""``tierrules validate``: check a ruleset (and that the rule engine can run it)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from .common import EXIT_OK, load


def register(sub: Any) -> None:
    va = sub.add_parser("validate", help="check a ruleset; exit 0 when valid")
    va.add_argument("ruleset", type=Path, nargs="?", default=None, help="ruleset directory or file")
    va.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    from ..compiler.load import default_ruleset_path
    from ..evaluation.engine import Engine

    where = args.ruleset or default_ruleset_path()
    ruleset = load(where)
    Engine(ruleset)  # the matcher refuses what its engine cannot run
    out.write(
        f"ok: {where}: ruleset {ruleset.name} {ruleset.version}, "
        f"{len(ruleset.deadlines)} deadline rules, {len(ruleset.calendars)} calendars\n"
    )
    return EXIT_OK
