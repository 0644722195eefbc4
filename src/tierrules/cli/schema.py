"""``tierrules schema``: the ruleset JSON Schemas, for editors.

``tierrules schema`` prints the schema that accepts any single file of a ruleset directory
(and a whole one-file ruleset); ``tierrules schema deadlines`` (or ``deadlines.yaml``, or a
path to one) prints one file's schema; ``--all DIR`` writes every schema into DIR, and
``--all DIR --check`` only says whether DIR is up to date (exit 1 if not), as
``ruff format --check`` does.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from .common import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK


def register(sub: Any) -> None:
    sc = sub.add_parser(
        "schema",
        help="print the ruleset JSON Schema (for editor completion and checks)",
        description=(
            "Print a ruleset JSON Schema (draft-07). WHICH is 'file' (the default: any one file of "
            "a ruleset directory), 'document' (the whole merged ruleset), or one file of the "
            "bundled layout: 'ruleset', 'calendars', 'deadlines', 'tiers', 'etiquette' "
            "('deadlines.yaml' and paths to such a file work too)."
        ),
    )
    sc.add_argument("which", nargs="?", default="file", metavar="WHICH", help="which schema (default: file)")
    sc.add_argument(
        "--all", dest="out_dir", metavar="DIR", help="write every schema into DIR as NAME.schema.json"
    )
    sc.add_argument(
        "--check",
        dest="check_only",
        action="store_true",
        help="with --all: write nothing, exit 1 if DIR is not up to date",
    )
    sc.add_argument("--list", action="store_true", help="list the schema names and exit")
    sc.set_defaults(run=run, check=_check_args)


def _check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.check_only and args.out_dir is None:
        parser.error("--check needs --all DIR")


def _name(which: str) -> str:
    """'deadlines', 'deadlines.yaml' and 'rulesets/x/deadlines.yml' all mean 'deadlines'."""
    stem = Path(which).name
    for suffix in (".schema.json", ".yaml", ".yml"):
        stem = stem.removesuffix(suffix)
    return stem


def run(args: argparse.Namespace, out: TextIO) -> int:
    import sys

    from ..errors import did_you_mean
    from ..ruleset.schema import render, ruleset_schema, schema_names

    names = schema_names()
    if args.list:
        out.write("".join(f"{name}\n" for name in names))
        return EXIT_OK
    if args.out_dir is not None:
        return _write_all(Path(args.out_dir), check=args.check_only, out=out)
    name = _name(args.which)
    if name not in names:
        hint = did_you_mean(name, names)
        print(
            f"tierrules: schema: unknown schema {args.which!r}"
            + (f"; did you mean {hint!r}?" if hint else "")
            + f" (one of: {', '.join(names)})",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    out.write(render(ruleset_schema(name)))
    return EXIT_OK


def _write_all(directory: Path, *, check: bool, out: TextIO) -> int:
    """Write (or compare) every schema file; report what changed."""
    from ..ruleset.schema import render, ruleset_schema, schema_file_name, schema_names

    stale: list[Path] = []
    for name in schema_names():
        target = directory / schema_file_name(name)
        text = render(ruleset_schema(name))
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        if current == text:
            continue
        stale.append(target)
        if not check:
            directory.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    verb = "out of date" if check else "wrote"
    out.write("".join(f"{verb}: {path}\n" for path in stale))
    if check and stale:
        out.write(f"run: tierrules schema --all {directory}\n")
        return EXIT_FAILED
    return EXIT_OK
