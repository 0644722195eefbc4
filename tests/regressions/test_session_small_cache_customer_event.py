"""Regression: with a small cache, a customer-level event reached a case without it.

Found by the session's hypothesis differential test (``cache_size=2``): case k1 named three
customers; a ``tier_override`` of one of them arrived. Loading k1's customers while working
out ``now`` dropped that customer's memo from the capped cache; a second memo was loaded for
it before the event was stored, and k1's update read the second one, which never saw the
event: k1's decision left the override out (``update.cases['k1']`` differed from
``evaluate()``). Fixed: a transaction uses one memo per case and customer.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import tierrules

EVENTS = [
    {"type": "case_opened", "at": "2026-01-01T00:00:00+08:00", "case_id": "k0", "channel": "phone"},
    *(
        {
            "type": "case_opened",
            "at": "2026-01-01T00:00:00+08:00",
            "case_id": "k1",
            "channel": "phone",
            "customer_id": customer,
        }
        for customer in ("C-3", "C-1", "C-2")
    ),
    {
        "type": "case_opened",
        "at": "2026-01-01T00:00:00+08:00",
        "case_id": "k2",
        "channel": "phone",
        "customer_id": "C-1",
    },
    {
        "type": "tier_override",
        "at": "2026-01-02T00:00:00+08:00",
        "customer_id": "C-1",
        "tier": "diamond",
        "reason": "r1",
    },
]


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@pytest.mark.parametrize("cache_size", [1, 2, 1024])
def test_every_reached_case_sees_the_customer_event(tmp_path: Path, kind: str, cache_size: int) -> None:
    engine = tierrules.Engine()
    store = tierrules.MemoryStore() if kind == "memory" else tierrules.SqliteStore(tmp_path / "s.db")
    session = tierrules.Session(engine, store=store, cache_size=cache_size)
    update = None
    for event in EVENTS:
        update = session.append(event, now=None)
    assert update is not None and sorted(update.cases) == ["k1", "k2"]
    now = dt.datetime.fromisoformat("2026-01-02T00:00:00+08:00")
    for case_id, case_update in update.cases.items():
        history = [e for e in EVENTS if e.get("case_id") == case_id or e["type"] == "tier_override"]
        assert case_update.decision.to_json() == engine.evaluate(history, now).to_json(), case_id
