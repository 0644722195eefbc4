"""Merge keys, list or mapping keys and null keys are located RulesetErrors.

Reported by an operator (issue 14): ``<<: *defaults``, ``? [a, b]`` and two ``~:`` keys in
a ruleset file ended in tracebacks (unhashable list, a ``None`` in a json-path). A merge
key would also silently change which value wins; rulesets are plain mappings of names.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import tierrules
from tests.support.cli import assert_refused, run_cli


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ("base: &b {x: 1}\nother:\n  <<: *b\n", 3, "merge keys ('<<') are not supported"),
        ("other:\n  <<: {x: 1}\n", 2, "merge keys"),
        ("? [a, b]\n: 1\n", 1, "a key must be a name, not a list"),
        ("? {a: 1}\n: 1\n", 1, "a key must be a name, not a mapping"),
        ("~: 1\n", 1, "not null"),
        ("x: 1\n~: 1\n~: 2\n", 2, "not null"),
        ("x: 1\n? \n: 2\n", 2, "not null"),
        ("a: 1\na: 2\n", 2, "duplicate key 'a' (first at line 1)"),
    ],
)
def test_keys(tmp_path: Path, text: str, line: int, needle: str) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(tierrules.RulesetError) as caught:
        tierrules.load_ruleset(path)
    assert (caught.value.file, caught.value.line) == (path, line)
    assert_refused(run_cli("validate", str(path), timeout=30), f"{path}:{line}", needle)
