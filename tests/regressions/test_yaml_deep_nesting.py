"""Deeply nested YAML is refused with the file and line, not a RecursionError.

Reported by an operator (issue 14): a ruleset file of a few thousand nested ``[`` ended
the CLI with a traceback (exit 1). PyYAML's composer recurses once per level; the reader
now stops composing past ``MAX_DEPTH`` levels.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import tierrules
from tests.support.cli import assert_refused, run_cli
from tierrules.ruleset.reader import MAX_DEPTH


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 5000 + "]" * 5000 + "\n",
        "a: " + "{b: " * 3000 + "1" + "}" * 3000 + "\n",
        "a:\n" + "".join("  " * i + "- \n" for i in range(1, 200)),
    ],
)
def test_deep_nesting_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(tierrules.RulesetError, match="levels deep") as caught:
        tierrules.load_ruleset(path)
    assert caught.value.file == path and caught.value.line is not None
    assert_refused(run_cli("validate", str(path), timeout=30), f"{path}:", "levels deep")


def test_nesting_up_to_the_limit_reads(tmp_path: Path) -> None:
    from tierrules.ruleset.reader import SourceMap, read_yaml

    path = tmp_path / "ok.yaml"
    depth = MAX_DEPTH - 1  # the document mapping is one level
    path.write_text("a: " + "[" * (depth - 1) + "1" + "]" * (depth - 1) + "\n", encoding="utf-8")
    value = read_yaml(path, SourceMap())["a"]
    for _ in range(depth - 1):
        value = value[0]
    assert value == 1
