"""Regression: a session checked each event against the default ``Limits``, not its engine's.

Found in review (issue 13 asks that ``append`` refuse bad input exactly as ``evaluate()``
does): with an engine whose limits were lifted, ``evaluate()`` took a 20,000-character
utterance while ``session.append`` refused it; with tighter limits, the session accepted and
stored an event, then the engine refused the case's history.
"""

from __future__ import annotations

import datetime as dt

import pytest

import tierrules

LONG = {
    "type": "utterance",
    "at": "2026-11-24T10:00:00+08:00",
    "case_id": "a",
    "speaker": "agent",
    "text": "您好" * 10_000,
}
NOW = dt.datetime.fromisoformat("2026-11-24T10:00:00+08:00")


def test_lifted_limits_are_the_sessions_too() -> None:
    engine = tierrules.Engine(limits=tierrules.Limits(max_utterance_chars=None, max_text_chars=None))
    update = tierrules.Session(engine).append(LONG, now=None)
    assert update.decision.to_json() == engine.evaluate([LONG], NOW).to_json()


def test_tighter_limits_refuse_before_anything_is_stored() -> None:
    engine = tierrules.Engine(limits=tierrules.Limits(max_utterance_chars=100))
    store = tierrules.MemoryStore()
    session = tierrules.Session(engine, store=store)
    with pytest.raises(tierrules.EventError) as refused:
        session.append(LONG, now=None)
    with pytest.raises(tierrules.EventError) as evaluated:
        engine.evaluate([LONG], NOW)
    assert str(refused.value) == str(evaluated.value)
    with pytest.raises(tierrules.EventError, match="no such case"):  # nothing was stored
        session.events("a")
