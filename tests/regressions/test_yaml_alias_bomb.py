"""A YAML alias bomb is refused at once, in ruleset and policy test files.

Reported by an operator (issue 14): a 270-byte ruleset file of nine nested anchors, each
aliased nine times, took 135 s and 4.9 GB before failing with a 58 MB message; nine levels
never finished. The reader expanded every alias while walking the document. It now
measures the expansion on the composed node graph (memoised, as cheap as the text) and
refuses a document whose aliases add more than ``MAX_ALIAS_VALUES`` values, an alias
inside the value it names, and more than ``MAX_ALIASES`` aliases. Run in a child process
with a time and memory bound, so a regression fails instead of taking the machine down.
"""

from __future__ import annotations

import itertools
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import assert_refused, child_env, run_cli

LEVELS = "abcdefghi"


def bomb(levels: int) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in itertools.pairwise(LEVELS[:levels]):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def limited() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))  # 1 GiB


@pytest.mark.parametrize("levels", [6, 9])
def test_bomb_ruleset_is_refused_quickly_with_a_short_message(tmp_path: Path, levels: int) -> None:
    text = bomb(levels)
    assert len(text) < 400
    ruleset = tmp_path / "bomb.yaml"
    ruleset.write_text(text, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "tierrules", "validate", str(ruleset)],
        capture_output=True,
        text=True,
        timeout=30,
        env=child_env(),
        preexec_fn=limited,
        check=False,
    )
    assert_refused(proc, f"{ruleset}:1", "aliases expand to")
    assert len(proc.stderr) < 1000


def test_bomb_in_a_policy_test_file_is_refused(tmp_path: Path) -> None:
    tests = tmp_path / "bomb.test.yaml"
    tests.write_text(bomb(9) + "cases: []\n", encoding="utf-8")
    proc = run_cli(
        "test",
        str(Path(__file__).resolve().parents[2] / "rulesets" / "default"),
        "--tests",
        str(tests),
        timeout=30,
    )
    assert_refused(proc, str(tests), "aliases expand to")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("a: &x [*x]\n", "contains it"),  # an alias inside the value it names
        ("a: &x {b: *x}\n", "contains it"),
        ("a: &a " + "[" * 60 + "1" + "]" * 60 + "\nb: [[[[[[[[*a]]]]]]]]\n", "levels deep once aliases"),
        ("a: &a 1\nb: [" + ",".join(["*a"] * 300) + "]\n", "more than 200 aliases"),
    ],
)
def test_self_reference_depth_and_alias_count_are_refused(tmp_path: Path, text: str, needle: str) -> None:
    ruleset = tmp_path / "r.yaml"
    ruleset.write_text(text, encoding="utf-8")
    proc = run_cli("validate", str(ruleset), timeout=30)
    assert_refused(proc, str(ruleset), needle)


def test_a_few_aliases_still_read(tmp_path: Path) -> None:
    from tierrules.ruleset.reader import SourceMap, read_yaml

    path = tmp_path / "ok.yaml"
    path.write_text("a: &hours ['09:00-12:00', '13:00-18:00']\nb: *hours\n", encoding="utf-8")
    assert read_yaml(path, SourceMap()) == {
        "a": ["09:00-12:00", "13:00-18:00"],
        "b": ["09:00-12:00", "13:00-18:00"],
    }
