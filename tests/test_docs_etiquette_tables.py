"""docs/etiquette.md's tables say which verdict each example gets; the Q5 (forbidden phrases)
and Q6 (identity check) tables are run here example by example, so the page cannot drift from
the checks (it had: 规定就是这样的 and 自己的单子都能弄丢 were documented as failing and passed)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.calls import conversation, severities

PAGE = Path(__file__).resolve().parents[1] / "docs" / "etiquette.md"
OPENING: list[tuple[str, str] | dict[str, Any]] = [
    ("agent", "您好，这里是招行，我是客服李明"),
    ("customer", "你好"),
]


def _rows(heading: str) -> list[list[str]]:
    """The cells of the first table under ``heading``, header and rule left out."""
    text = PAGE.read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    table = section[section.index("\n|") + 1 :]
    return [
        [cell.strip() for cell in row.strip("|").split(" | ")]
        for row in table[: table.index("\n\n")].splitlines()[2:]
    ]


def _examples(cell: str) -> list[str]:
    # A parenthesis comments on the examples (what still fails beside them, the finding's key).
    return [e.strip() for e in re.sub(r"\s*\([^()]*\)", "", cell).split(" · ") if e.strip()]


FORBIDDEN = [(v.strip("*"), e) for _, v, cell in _rows("### Q5 `forbidden_phrases`") for e in _examples(cell)]
IDENTITY = [(v, e) for v, cell, _ in _rows("### Q6 `identity_check`") for e in _examples(cell)]


def test_the_tables_were_read() -> None:
    assert len(FORBIDDEN) > 80 and {v for v, _ in FORBIDDEN} == {"fail", "pass", "review"}
    assert len(IDENTITY) > 10 and {v for v, _ in IDENTITY} == {"fail", "pass", "not applicable"}


@pytest.mark.parametrize(("verdict", "example"), FORBIDDEN, ids=[e for _, e in FORBIDDEN])
def test_each_forbidden_phrase_example(verdict: str, example: str) -> None:
    turns = [*OPENING, ("agent", example), ("customer", "好")]
    assert severities(conversation(turns), "Q5") == ({verdict} - {"pass"})


@pytest.mark.parametrize(("verdict", "example"), IDENTITY, ids=[e for _, e in IDENTITY])
def test_each_identity_check_example(verdict: str, example: str) -> None:
    # " / " separates the agent's turns (a reason in the turn before, a request split by ASR).
    turns = [*OPENING, *(("agent", said.strip()) for said in example.split(" / ")), ("customer", "好")]
    assert severities(conversation(turns), "Q6") == ({"fail"} if verdict == "fail" else set())
