"""The engine's per-case memo (``Engine.evaluate(..., memo=...)``) against evaluating afresh.

Two implementations, one answer: feeding a growing list of events with a memo must give,
after every event, the byte-identical decision a fresh ``evaluate()`` gives, whatever the
arrival order (late events, same-instant events), whatever ``now`` does (standing still,
creeping, jumping past due times) and whatever the events are (every event type, calls
with utterances, several cases and customers, a memo reused across unrelated lists).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tierrules
from tierrules import testing

from .test_etiquette_properties import calls

ENGINE = tierrules.Engine()
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Memo:
    engine_state: Any = None


def _at(event: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(event["at"])


def _stream(events: list[dict[str, Any]], order: list[int], nows: list[dt.timedelta]) -> None:
    """Append ``events`` in ``order``, evaluating after each with and without a memo."""
    memo = Memo()
    given_so_far: list[dict[str, Any]] = []
    latest: dt.datetime | None = None
    parsed = tierrules.parse_events(events)
    held: list[Any] = []
    for k, i in enumerate(order):
        given_so_far.append(events[i])
        held.append(parsed[i])
        latest = max(latest, _at(events[i])) if latest is not None else _at(events[i])
        now = latest + nows[k % len(nows)]
        fresh = ENGINE.evaluate(given_so_far, now)
        kept = ENGINE.evaluate(list(held), now, memo=memo)
        assert kept.to_json() == fresh.to_json(), (k, i, events[i]["type"])


@SETTINGS
@given(testing.timed_cases(), st.data())
def test_any_arrival_order_gives_the_fresh_decision(
    case: tuple[list[dict[str, Any]], dt.datetime], data: st.DataObject
) -> None:
    events, _ = case
    order = sorted(range(len(events)), key=lambda i: _at(events[i]))
    # some events arrive late: swap a few neighbours
    for _ in range(data.draw(st.integers(0, 3))):
        if len(order) > 1:
            j = data.draw(st.integers(0, len(order) - 2))
            order[j], order[j + 1] = order[j + 1], order[j]
    steps = [dt.timedelta(0), dt.timedelta(seconds=1), dt.timedelta(hours=3), dt.timedelta(days=2)]
    nows = data.draw(st.lists(st.sampled_from(steps), min_size=1, max_size=4))
    _stream(events, order, nows)


@SETTINGS
@given(calls(), st.data())
def test_a_call_fed_word_by_word_gives_the_fresh_decision(
    call: tuple[list[dict[str, Any]], dt.datetime], data: st.DataObject
) -> None:
    events, _ = call
    order = list(range(len(events)))
    if data.draw(st.booleans()) and len(order) > 4:  # one utterance arrives late
        j = data.draw(st.integers(2, len(order) - 2))
        order.insert(j + 1, order.pop(j))
    nows = data.draw(
        st.lists(
            st.sampled_from([dt.timedelta(0), dt.timedelta(seconds=30), dt.timedelta(minutes=2)]), min_size=1
        )
    )
    _stream(events, order, nows)


def test_a_memo_given_other_events_starts_again() -> None:
    memo = Memo()
    first = [{"type": "complaint_registered", "at": "2026-11-24T10:00:00+08:00", "case_id": "a"}]
    other = [
        {"type": "feedback_received", "at": "2026-11-24T09:00:00+08:00", "case_id": "b", "severity": "urgent"}
    ]
    now = dt.datetime.fromisoformat("2026-11-24T12:00:00+08:00")
    ENGINE.evaluate(first, now, memo=memo)
    assert ENGINE.evaluate(other, now, memo=memo).to_json() == ENGINE.evaluate(other, now).to_json()
    # a memo kept by another engine is not trusted either
    again = tierrules.Engine(matcher="python")
    assert again.evaluate(first, now, memo=memo).to_json() == ENGINE.evaluate(first, now).to_json()


def test_bad_input_with_a_memo_raises_as_without() -> None:
    memo = Memo()
    good = {"type": "complaint_registered", "at": "2026-11-24T10:00:00+08:00", "case_id": "a"}
    now = dt.datetime.fromisoformat("2026-11-24T12:00:00+08:00")
    ENGINE.evaluate([good], now, memo=memo)
    late = {**good, "at": "2026-11-24T13:00:00+08:00"}
    with pytest.raises(tierrules.EventError, match="after now"):
        ENGINE.evaluate([good, late], now, memo=memo)
    assert ENGINE.evaluate([good], now, memo=memo).to_json() == ENGINE.evaluate([good], now).to_json()


def test_limits_with_a_memo_count_what_came_before() -> None:
    """The memo checks only new events against the limits, carrying the utterance total."""
    engine = tierrules.Engine(limits=tierrules.Limits(max_text_chars=30))
    memo = Memo()
    now = dt.datetime.fromisoformat("2026-11-24T12:00:00+08:00")
    words = [
        {
            "type": "utterance",
            "at": f"2026-11-24T10:00:0{i}+08:00",
            "case_id": "a",
            "speaker": "agent",
            "text": "一二三四五六七八九十",
        }
        for i in range(4)
    ]
    held = tierrules.parse_events(words)
    for k in (1, 2, 3):
        engine.evaluate(held[:k], now, memo=memo)
    with pytest.raises(tierrules.EventError) as err:  # 40 characters: the 4th event is refused
        engine.evaluate(held, now, memo=memo)
    with pytest.raises(tierrules.EventError) as fresh:
        engine.evaluate(held, now)
    assert str(err.value) == str(fresh.value)
    assert tuple(err.value.best.absolute_path) == (3, "text")
    # the refused call left the memo as it was
    assert engine.evaluate(held[:3], now, memo=memo).to_json() == engine.evaluate(held[:3], now).to_json()
