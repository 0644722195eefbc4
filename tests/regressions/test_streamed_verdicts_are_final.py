"""Regression: a streamed call was told of violations that the rest of the call undid.

Streaming every corpus call through a session, event by event, reported 80 violations that
were gone from the finished call's decision: Q2's "the opening does not name the
organisation" after the agent's first turn when the name came in the second (67 calls),
Q1's "no greeting" likewise (1), and a Q3 pace violation on every agent turn, each with a new
id, while the pace of the call was still moving (12). ``update.new`` is what a host acts on
once, so a verdict that later turns is a false alarm.

Fixed: the opening's words are judged once the opening is complete (the customer spoke, the
agent said ``opening.turns`` turns or spoke past ``opening.seconds``, that window's end has
passed, or the call ended), with ``next_check_at`` at the window's end until then; the pace
is judged when the conversation has ended.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import tierrules
from tierrules.agreement import LabelledCase, load_corpus

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "etiquette"


def _calls() -> list[LabelledCase]:
    return [case for d in sorted(CORPUS.iterdir()) if d.is_dir() for case in load_corpus(d)]


@pytest.fixture(scope="module")
def engine() -> tierrules.Engine:
    return tierrules.Engine()


def test_nothing_a_streamed_call_is_told_is_taken_back(engine: tierrules.Engine) -> None:
    calls = _calls()
    assert len(calls) >= 250
    taken_back: list[str] = []
    for case in calls:
        session = tierrules.Session(engine)
        told: list[str] = []
        update = None
        for event in sorted(case.events, key=lambda e: tierrules.parse_events([e])[0].at):
            update = session.append(event, now=None)
            told += [v.id for v in update.new.violations]
        assert update is not None
        final = {v.id for v in update.decision.violations}
        taken_back += [i for i in told if i not in final]
    assert taken_back == []


def _opening_call(*agent_turns: tuple[int, str]) -> list[dict[str, object]]:
    events: list[dict[str, object]] = [
        {
            "type": "case_opened",
            "at": "2026-11-24T09:00:00+08:00",
            "case_id": "C",
            "channel": "phone",
            "agent_name": "李明",
            "organisation": "星河银行",
        },
        {"type": "call_answered", "at": "2026-11-24T09:00:05+08:00", "case_id": "C", "rings": 1},
    ]
    for second, text in agent_turns:
        at = dt.datetime(2026, 11, 24, 9, 0, second, tzinfo=dt.timezone(dt.timedelta(hours=8)))
        events.append(
            {"type": "utterance", "at": at.isoformat(), "case_id": "C", "speaker": "agent", "text": text}
        )
    return events


def test_an_opening_split_over_two_turns_is_judged_when_it_is_complete(engine: tierrules.Engine) -> None:
    first = _opening_call((6, "您好，这里是星河银行，"))
    at_first = engine.evaluate(first, dt.datetime.fromisoformat("2026-11-24T09:00:07+08:00"))
    assert [v.rule for v in at_first.violations] == []
    # the opening window (opening.seconds after the agent's first turn) is when to ask again
    assert at_first.next_check_at == dt.datetime.fromisoformat("2026-11-24T09:00:26+08:00")

    both = _opening_call((6, "您好，这里是星河银行，"), (8, "我是客服李明，很高兴为您服务。"))
    assert engine.evaluate(both, dt.datetime.fromisoformat("2026-11-24T09:00:09+08:00")).violations == []


def test_an_opening_left_incomplete_is_judged_when_its_window_closes(engine: tierrules.Engine) -> None:
    first = _opening_call((6, "您好，这里是星河银行，"))
    closed = engine.evaluate(first, dt.datetime.fromisoformat("2026-11-24T09:00:26+08:00"))
    assert [(v.rule, v.model_dump().get("missing")) for v in closed.violations] == [
        ("Q2.phone-opening", "agent_name")
    ]
