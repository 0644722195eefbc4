"""The forbidden phrases found in a turn were cached by its words after the quoted words were
taken out, so the same words said in one turn and reported in another were judged by whichever
the engine met first: a verdict that depended on earlier calls (found while writing the
regression tests for blind set ay: 您是说前台跟您讲 / 这个不行 passed or failed by test order)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import tierrules
from tests.support.calls import conversation

A, C = "agent", "customer"
OPEN: list[tuple[str, str] | dict[str, Any]] = [(A, "您好，这里是招行，我是客服李明"), (C, "你好")]
REPORTED = conversation([*OPEN, (A, "您是说前台跟您讲"), (A, "这个不行"), (C, "对")])
OWN = conversation([*OPEN, (A, "我查了一下"), (A, "这个不行"), (C, "啊")])


def _q5(engine: tierrules.Engine, events: list[dict[str, Any]]) -> list[str]:
    now = dt.datetime.fromisoformat(events[-1]["at"]) + dt.timedelta(hours=1)
    return [v.severity for v in engine.evaluate(events, now).violations if v.source == "Q5"]


def test_the_same_words_reported_and_said_are_judged_apart_in_either_order() -> None:
    first = tierrules.Engine()
    assert _q5(first, OWN) == ["fail"]
    assert _q5(first, REPORTED) == []
    second = tierrules.Engine()
    assert _q5(second, REPORTED) == []
    assert _q5(second, OWN) == ["fail"]
