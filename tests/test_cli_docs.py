"""docs/cli.md: every ``console`` example prints what the page shows.

A ``console`` block is a shell session: ``$ command`` lines, each followed by what it
prints (its stdout; its stderr when it printed nothing on stdout). Each block runs in bash,
in a fresh directory holding the repository's ``examples/`` and ``rulesets/``, with
``tierrules`` on the PATH meaning this checkout's ``python -m tierrules``. Output is
compared as doctest compares it (``...`` matches anything, runs of whitespace are one
space): the conventions of tests/support/snippets.py, which runs every document's blocks.
"""

from __future__ import annotations

import doctest
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import tierrules

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "cli.md"
BLOCK = re.compile(r"^```console\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def sessions() -> list[tuple[int, list[tuple[str, str]]]]:
    """Each block's line and its (command, expected output) pairs."""
    text = PAGE.read_text(encoding="utf-8")
    found = []
    for match in BLOCK.finditer(text):
        pairs: list[tuple[str, list[str]]] = []
        for line in match.group(1).splitlines():
            if line.startswith("$ "):
                pairs.append((line[2:], []))
            else:
                pairs[-1][1].append(line)
        line_no = text.count("\n", 0, match.start()) + 1
        found.append((line_no, [(cmd, "\n".join(out)) for cmd, out in pairs]))
    return found


def same(expected: str, printed: str) -> bool:
    want = expected.strip("\n") + "\n"
    got = "\n".join(line.rstrip() for line in printed.strip("\n").splitlines()) + "\n"
    return doctest.OutputChecker().check_output(want, got, doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)


@pytest.fixture(scope="module")
def shell_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    bin_dir = tmp_path_factory.mktemp("bin")
    wrapper = bin_dir / "tierrules"
    wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} -m tierrules "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    src = str(Path(tierrules.__file__).resolve().parents[1])
    return {
        **{k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")},
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")])),
        "COLUMNS": "80",
    }


@pytest.mark.parametrize("block", sessions(), ids=lambda b: f"cli.md:{b[0]}")
def test_console_examples(
    block: tuple[int, list[tuple[str, str]]], shell_env: dict[str, str], tmp_path: Path
) -> None:
    for name in ("examples", "rulesets"):
        (tmp_path / name).symlink_to(ROOT / name)
    for command, expected in block[1]:
        proc = subprocess.run(
            ["bash", "-o", "pipefail", "-c", command],
            cwd=tmp_path,
            env=shell_env,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            text=True,
            timeout=300,
        )
        printed = proc.stdout or proc.stderr
        if expected.strip():
            assert same(expected, printed), f"$ {command}\n{printed}"
        else:
            assert proc.returncode == 0, f"$ {command}\n{proc.stderr}"


def test_every_command_has_a_section() -> None:
    from tierrules.cli import COMMANDS

    text = PAGE.read_text(encoding="utf-8")
    for name in COMMANDS:
        assert f"\n## {name}\n" in text, name
        assert f"[`{name}`](#{name})" in text, name
