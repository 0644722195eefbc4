"""``tierrules schema``: the ruleset JSON Schema, for editors."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from .common import EXIT_OK


def register(sub: Any) -> None:
    sc = sub.add_parser("schema", help="print the ruleset JSON Schema (for editor autocompletion)")
    sc.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    from ..ruleset.model import Ruleset

    out.write(json.dumps(Ruleset.model_json_schema(), ensure_ascii=False, indent=2) + "\n")
    return EXIT_OK
