"""docs/etiquette.md's Q5 table says, construction by construction, which verdict each example
gets; every example is run here as an agent's turn, so the page cannot drift from the checks
(it had: 规定就是这样的 and 自己的单子都能弄丢 were documented as failing and passed)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.calls import conversation, severities

PAGE = Path(__file__).resolve().parents[1] / "docs" / "etiquette.md"
WANT = {"fail": {"fail"}, "pass": set(), "review": {"review"}}


def _examples() -> list[tuple[str, str]]:
    text = PAGE.read_text(encoding="utf-8")
    section = text[text.index("### Q5 `forbidden_phrases`") :]
    table = section[section.index("| construction |") :]
    rows = table[: table.index("\n\n")].splitlines()[2:]
    found = []
    for row in rows:
        _, verdict, examples = (cell.strip() for cell in row.strip("|").split(" | "))
        # A parenthesis comments on the examples (what still fails beside them).
        for example in re.sub(r"\s*\([^()]*\)", "", examples).split(" · "):
            found.append((verdict.strip("*"), example.strip()))
    return found


EXAMPLES = _examples()


def test_the_table_was_read() -> None:
    assert len(EXAMPLES) > 80
    assert {verdict for verdict, _ in EXAMPLES} == set(WANT)


@pytest.mark.parametrize(("verdict", "example"), EXAMPLES, ids=[e for _, e in EXAMPLES])
def test_each_example_gets_its_documented_verdict(verdict: str, example: str) -> None:
    opening = [("agent", "您好，这里是招行，我是客服李明"), ("customer", "你好")]
    turns: list[tuple[str, str] | dict[str, Any]] = [*opening, ("agent", example), ("customer", "好")]
    assert severities(conversation(turns), "Q5") == WANT[verdict]
