"""``tierrules init DIR``: start a ruleset from a copy of the bundled default and its tests.

Like ``cargo new``: DIR must not exist or be empty (nothing is ever overwritten), the files
appear all at once (copied beside DIR, then renamed into place, so an error leaves no half
copy), and the command says what to do next.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from .common import EXIT_BAD_INPUT, EXIT_OK

# What a ruleset directory holds: its YAML and its policy tests (never caches or editor files).
_COPIED = ("*.yaml", "*.yml")


def register(sub: Any) -> None:
    it = sub.add_parser(
        "init",
        help="start a ruleset: copy the bundled default ruleset and its tests into DIR",
        description="Copy the bundled default ruleset (its YAML files and its tests/) into DIR, "
        "a new or empty directory, to edit into your own policy. Nothing is overwritten.",
    )
    it.add_argument("dir", type=Path, metavar="DIR", help="the new ruleset directory (new, or empty)")
    it.set_defaults(run=run, check=check)


def check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    refusal = _refusal(args.dir)
    if refusal is not None:
        parser.error(f"refusing to overwrite {args.dir}: {refusal}")


def _refusal(target: Path) -> str | None:
    """Why ``target`` cannot receive the ruleset, or None."""
    if target.is_dir():
        return None if not any(target.iterdir()) else "it is not empty"
    if target.exists() or target.is_symlink():
        return "it exists and is not a directory"
    return None


def _ignored(directory: str, names: list[str]) -> set[str]:
    """For ``copytree``: keep subdirectories and YAML files, nothing else."""
    return {
        name
        for name in names
        if not (Path(directory, name).is_dir() and not name.startswith((".", "__")))
        and not any(Path(name).match(pattern) for pattern in _COPIED)
    }


def _copy(source: Path, target: Path) -> list[Path]:
    """Copy ``source`` into ``target`` all at once; the files written, relative to ``target``.

    Raises OSError when ``target`` cannot be made, or was filled meanwhile (nothing is written).
    """
    import shutil
    import tempfile

    parent = target.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=parent))
    try:
        copied = staging / "ruleset"
        shutil.copytree(source, copied, ignore=_ignored)
        os.replace(copied, target)  # atomic; replaces only a missing or empty directory
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return sorted(p.relative_to(target) for p in target.rglob("*") if p.is_file())


def run(args: argparse.Namespace, out: TextIO) -> int:
    from ..compiler.load import default_ruleset_path

    target: Path = args.dir
    try:
        files = _copy(default_ruleset_path(), target)
    except OSError as err:
        print(f"tierrules: cannot create {target}: {err.strerror or err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    tests = [f for f in files if f.name.endswith((".test.yaml", ".test.yml"))]
    where = str(target)
    out.write(
        f"Created {where}/ from the bundled default ruleset: "
        f"{len(files) - len(tests)} ruleset files, {len(tests)} policy test files.\n"
        "\n"
        "Next steps:\n"
        f"  1. edit {where}/ruleset.yaml (name, version) and the rules in {where}/*.yaml\n"
        f"  2. tierrules validate {where}\n"
        f"  3. tierrules test {where}\n"
        f"  4. tierrules diff {default_ruleset_path()} {where} --generate 500 --exit-code\n"
    )
    return EXIT_OK
