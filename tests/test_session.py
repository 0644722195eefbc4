"""Streaming sessions (issue 13): exactly evaluate(), what is new, duplicates, refusals, customers, closing.

Every test runs on the three stores: in memory, SQLite in a temp file, and PostgreSQL on
the test suite's own server (tests/support/servers.py).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import tierrules
from tierrules.session import CaseMemo, MissingDependencyError

from .conftest import at, ev
from .support.streams import case_history, customer_history

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
StoreFactory = Callable[[], tierrules.Store]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Opens the same store again on each call (a restart): memory is one object, the others reconnect."""
    opened: list[tierrules.Store] = []
    memory = tierrules.MemoryStore()

    def open_store() -> tierrules.Store:
        store: tierrules.Store
        if request.param == "memory":
            return memory
        if request.param == "sqlite":
            store = tierrules.SqliteStore(tmp_path / "cases.db")
        else:
            store = tierrules.PostgresStore(request.getfixturevalue("postgres_db"))
        opened.append(store)
        return store

    yield open_store
    for store in opened:
        store.close()


def _read(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (EXAMPLES / name).read_text(encoding="utf-8").splitlines() if line]


def _when(event: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(event["at"])


def test_a_streamed_call_matches_evaluate_after_every_event(
    engine: tierrules.Engine, stores: StoreFactory
) -> None:
    session = tierrules.Session(engine, store=stores())
    events = _read("call-simplified.jsonl") + _read("complaint.jsonl")
    for i, event in enumerate(events):
        now = _when(event) + dt.timedelta(seconds=30)
        update = session.append(event, now=now)
        assert (
            update.decision.to_json()
            == engine.evaluate(case_history(events[: i + 1], event["case_id"]), now).to_json()
        )
        assert update.seq == sum(1 for e in events[: i + 1] if e["case_id"] == event["case_id"])
        assert not update.duplicate


def test_out_of_order_events_and_restarts_give_the_same_decisions(
    engine: tierrules.Engine, stores: StoreFactory
) -> None:
    events = _read("call-traditional.jsonl")
    random.Random(13).shuffle(events)
    now = max(_when(e) for e in events) + dt.timedelta(minutes=5)
    session = tierrules.Session(engine, store=stores())
    for i, event in enumerate(events):
        if i == len(events) // 2:  # a restart: a new session on the store reopened
            session = tierrules.Session(engine, store=stores())
        update = session.append(event, now=now)
        assert update.decision.to_json() == engine.evaluate(events[: i + 1], now).to_json()
    later = now + dt.timedelta(days=2)
    reopened = tierrules.Session(engine, store=stores())
    assert (
        reopened.decision(events[0]["case_id"], later).to_json() == engine.evaluate(events, later).to_json()
    )
    assert [e.model_dump(mode="json") for e in reopened.events(events[0]["case_id"])] == [
        tierrules.parse_events([e])[0].model_dump(mode="json") for e in events
    ]


def test_now_none_is_the_latest_event_of_the_case(engine: tierrules.Engine, stores: StoreFactory) -> None:
    session = tierrules.Session(engine, store=stores())
    late = ev("complaint_registered", "2026-11-24 10:00")
    early = ev("case_opened", "2026-11-24 09:00", channel="phone")
    assert session.append(late, now=None).now == at("2026-11-24 10:00")
    update = session.append(early, now=None)  # arrives late: now stays at the case's latest event
    assert update.now == at("2026-11-24 10:00")
    assert update.decision.to_json() == engine.evaluate([late, early], at("2026-11-24 10:00")).to_json()


def test_what_is_new_is_reported_once_even_across_restarts(
    engine: tierrules.Engine, stores: StoreFactory
) -> None:
    session = tierrules.Session(engine, store=stores())
    first = session.append(
        ev("escalation_needed", "2026-11-24 10:00", agent_level=1), now=at("2026-11-24 10:00")
    )
    assert first.new.breaches == [] and first.new.escalations == []
    due = at("2026-11-24 10:10")  # E1: ten minutes
    breached = session.refresh("c1", due)
    assert [o.id for o in breached.new.breaches] == ["c1/E1.escalate/1"]
    assert [(e.rule, e.to_level) for e in breached.new.escalations] == [("E1.escalate", 2)]
    assert list(breached.new) == [*breached.new.escalations, *breached.new.breaches, *breached.new.warnings]
    assert len(session.refresh("c1", due + dt.timedelta(minutes=1)).new) == 0
    restarted = tierrules.Session(engine, store=stores())
    after = restarted.append(ev("utterance", "2026-11-24 10:05", speaker="agent", text="您好"), now=due)
    assert after.new.breaches == [] and after.new.escalations == []


def test_a_tier_change_is_new_once(engine: tierrules.Engine, stores: StoreFactory) -> None:
    session = tierrules.Session(engine, store=stores())
    opened = ev("case_opened", "2026-11-24 09:00", channel="phone", customer_id="CU-1")
    session.append(opened, now=None)
    profile = {"type": "customer_profile", "at": at("2026-11-24 09:05").isoformat(), "customer_id": "CU-1"}
    gold = session.append({**profile, "spend_12m": 300000, "visits_12m": 10, "tenure_months": 30}, now=None)
    assert [(t.customer_id, t.tier) for t in gold.new.tiers] == [("CU-1", "gold")]
    case_update = gold.cases["c1"]
    assert [t.tier for t in case_update.new.tiers] == ["gold"]  # each case is told once
    same = session.append(
        {
            **profile,
            "at": at("2026-11-24 09:06").isoformat(),
            "spend_12m": 300001,
            "visits_12m": 10,
            "tenure_months": 30,
        },
        now=None,
    )
    assert same.new.tiers == [] and same.cases["c1"].new.tiers == []


def test_a_customer_event_reaches_every_open_case_of_its_customer(
    engine: tierrules.Engine, stores: StoreFactory
) -> None:
    session = tierrules.Session(engine, store=stores())
    stream = [
        {"type": "customer_profile", "at": at("2026-11-01 09:00").isoformat(), "customer_id": "X",
         "spend_12m": 2500000, "visits_12m": 30, "tenure_months": 40},
        ev("case_opened", "2026-11-24 09:00", "A", channel="phone", customer_id="X"),
        ev("case_opened", "2026-11-24 09:01", "B", channel="lobby", customer_id="X"),
        ev("case_opened", "2026-11-24 09:02", "C", channel="phone", customer_id="Y"),
        ev("case_opened", "2026-11-24 09:03", "D", channel="online", customer_id="X"),
        ev("complaint_registered", "2026-11-24 09:04", "A"),
    ]  # fmt: skip
    now = at("2026-11-24 09:10")
    for event in stream:
        session.append(event, now=now)
    session.close_case("D")
    override = {"type": "tier_override", "at": at("2026-11-24 09:06").isoformat(), "customer_id": "X",
                "tier": "diamond", "reason": "board member", "case_id": "A"}  # fmt: skip
    update = session.append(override, now=now)
    stream.append(override)
    assert update.case_id == "A" and update.customer_id == "X"
    assert update.decision.to_json() == engine.evaluate(case_history(stream, "A"), now).to_json()
    assert sorted(update.cases) == ["B"]  # C is another customer's, D is closed
    assert update.cases["B"].decision.to_json() == engine.evaluate(case_history(stream, "B"), now).to_json()
    care = {"type": "care_contacted", "at": at("2026-11-24 09:07").isoformat(), "customer_id": "X"}
    alone = session.append(care, now=now)
    stream.append(care)
    assert alone.case_id is None and alone.seq is None and sorted(alone.cases) == ["A", "B"]
    assert alone.decision.to_json() == engine.evaluate(customer_history(stream, "X"), now).to_json()
    assert session.customer_decision("X", now).to_json() == alone.decision.to_json()
    for case_id in "ABC":
        assert (
            session.decision(case_id, now).to_json()
            == engine.evaluate(case_history(stream, case_id), now).to_json()
        )


def test_a_closed_case_keeps_its_events_and_takes_no_more(
    engine: tierrules.Engine, stores: StoreFactory
) -> None:
    session = tierrules.Session(engine, store=stores())
    kept = [
        ev("case_opened", "2026-11-24 09:00", channel="phone", customer_id="X"),
        ev("complaint_registered", "2026-11-24 09:05"),
    ]
    for event in kept:
        session.append(event, now=None)
    session.close_case("c1")
    session.close_case("c1")  # closing twice does nothing
    later = {"type": "tier_override", "at": at("2026-11-24 09:30").isoformat(), "customer_id": "X",
             "tier": "diamond", "reason": "vip"}  # fmt: skip
    assert session.append(later, now=None).cases == {}
    with pytest.raises(tierrules.EventError, match="closed") as refused:
        session.append(ev("complaint_replied", "2026-11-24 09:40"), now=None)
    assert refused.value.field == "case_id"
    now = at("2026-11-25 12:00")
    assert session.decision("c1", now).to_json() == engine.evaluate(kept, now).to_json()
    assert (
        tierrules.Session(engine, store=stores()).decision("c1", now).to_json()
        == engine.evaluate(kept, now).to_json()
    )
    assert session.cache_info()["cases"] == 0  # closing freed its memo; reading it back caches nothing
    with pytest.raises(tierrules.EventError, match="no such case"):
        session.close_case("nope")


def test_unknown_cases_and_customers_are_refused(engine: tierrules.Engine, stores: StoreFactory) -> None:
    session = tierrules.Session(engine, store=stores())
    now = at("2026-11-24 10:00")
    for call in (
        lambda: session.decision("nope", now),
        lambda: session.refresh("nope", now),
        lambda: session.events("nope"),
        lambda: session.customer_decision("nobody", now),
    ):
        with pytest.raises(tierrules.EventError, match="no such"):
            call()


def _snapshot(session: tierrules.Session, now: dt.datetime) -> tuple[str, list[str]]:
    return session.decision("c1", now).to_json(), [e.model_dump_json() for e in session.events("c1")]


def test_duplicates_apply_once_and_replay_what_they_reported(
    engine: tierrules.Engine, stores: StoreFactory
) -> None:
    session = tierrules.Session(engine, store=stores())
    needed = ev("escalation_needed", "2026-11-24 10:00", agent_level=1, id="evt-1")
    now = at("2026-11-24 10:30")
    first = session.append(needed, now=now)
    assert [o.id for o in first.new.breaches] == ["c1/E1.escalate/1"]
    before = _snapshot(session, now)
    again = tierrules.Session(engine, store=stores()).append(dict(needed), now=now)
    assert again.duplicate and again.seq == first.seq == 1
    assert again.decision.to_json() == first.decision.to_json()
    assert [o.id for o in again.new.breaches] == ["c1/E1.escalate/1"]  # the lost reply, again
    assert _snapshot(session, now) == before
    assert len(session.refresh("c1", now).new) == 0


def test_another_event_with_a_used_id_is_refused(engine: tierrules.Engine, stores: StoreFactory) -> None:
    session = tierrules.Session(engine, store=stores())
    session.append(ev("complaint_registered", "2026-11-24 10:00", id="evt-1"), now=None)
    now = at("2026-11-24 10:30")
    before = _snapshot(session, now)
    for other in (
        ev("complaint_replied", "2026-11-24 10:10", id="evt-1"),
        ev("complaint_registered", "2026-11-24 10:00", "c2", id="evt-1"),
    ):
        with pytest.raises(tierrules.EventError, match="already stored") as refused:
            session.append(other, now=now)
        assert refused.value.field == "id" and refused.value.index == 0
    assert _snapshot(session, now) == before


BAD_EVENTS: list[Any] = [
    {"type": "complaint_registerd", "at": "2026-11-24T10:00:00+08:00", "case_id": "c1"},
    {"type": "feedback_received", "at": "2026-11-24T10:00:00+08:00", "case_id": "c1", "severity": "hot"},
    {"type": "feedback_received", "at": "2026-11-24T10:00:00+08:00", "case_id": "c1"},
    {"type": "complaint_registered", "at": "2026-11-24T10:00:00", "case_id": "c1"},
    {"type": "complaint_registered", "at": "2026-11-24T10:00:00+08:00", "case_id": "c1", "severty": "x"},
    {"type": "complaint_registered", "at": "2026-11-24T10:00:00+08:00", "case_id": "c1", "$s": 1},
    {"type": "complaint_registered", "at": "2026-11-24T11:00:00+08:00", "case_id": "c1"},
    {"type": "customer_profile", "at": "2026-11-24T10:00:00+08:00", "customer_id": "X", "spend_12m": -1,
     "visits_12m": 1, "tenure_months": 1},
    ["not", "an", "event"],
    "complaint_registered",
]  # fmt: skip


@pytest.mark.parametrize("bad", BAD_EVENTS, ids=range(len(BAD_EVENTS)))
def test_bad_input_gets_evaluates_errors_and_changes_nothing(
    engine: tierrules.Engine, stores: StoreFactory, bad: Any
) -> None:
    session = tierrules.Session(engine, store=stores())
    session.append(ev("case_opened", "2026-11-24 09:00", channel="phone"), now=None)
    now = at("2026-11-24 10:30")
    before = _snapshot(session, now)
    with pytest.raises(tierrules.EventError) as expected:
        engine.evaluate([bad], at("2026-11-24 10:30"))
    with pytest.raises(tierrules.EventError) as refused:
        session.append(bad, now=now)
    assert str(refused.value) == str(expected.value)
    assert refused.value.problems == expected.value.problems
    assert _snapshot(session, now) == before


def test_now_is_checked_like_evaluate_and_against_stored_events(
    engine: tierrules.Engine, stores: StoreFactory
) -> None:
    session = tierrules.Session(engine, store=stores())
    event = ev("complaint_registered", "2026-11-24 10:00")
    naive = dt.datetime(2026, 11, 24, 10, 30)
    with pytest.raises(tierrules.EventError) as expected:
        engine.evaluate([event], naive)  # type: ignore[arg-type]
    with pytest.raises(tierrules.EventError) as refused:
        session.append(event, now=naive)
    assert str(refused.value) == str(expected.value)
    session.append(event, now=at("2026-11-24 10:00"))
    before = _snapshot(session, at("2026-11-24 10:00"))
    with pytest.raises(tierrules.EventError, match="now is before an event of case 'c1'") as early:
        session.append(ev("case_opened", "2026-11-24 09:00", channel="phone"), now=at("2026-11-24 09:30"))
    assert early.value.absolute_path == ("now",)
    assert _snapshot(session, at("2026-11-24 10:00")) == before


def test_the_cache_is_capped_and_evicted_cases_stay_exact(
    engine: tierrules.Engine, stores: StoreFactory
) -> None:
    session = tierrules.Session(engine, store=stores(), cache_size=3)
    stream: list[dict[str, Any]] = []
    now = at("2026-11-24 13:00")
    for round_ in range(3):
        for n in range(8):
            event = ev(
                "complaint_registered" if round_ == 0 else "complaint_replied",
                f"2026-11-24 1{round_}:0{n}",
                f"k{n}",
            )
            stream.append(event)
            update = session.append(event, now=now)
            assert update.decision.to_json() == engine.evaluate(case_history(stream, f"k{n}"), now).to_json()
            assert session.cache_info()["cases"] <= 3


class _MemoEngine(tierrules.Engine):
    """An engine that accepts the per-case cache, as the incremental engine will."""

    seen: list[object]

    def evaluate(self, events: Any, now: dt.datetime, memo: object = None) -> tierrules.Decision:  # type: ignore[override]
        self.seen.append(memo)
        return super().evaluate(events, now)


def test_the_engine_gets_the_cases_memo_once_it_accepts_one() -> None:
    engine = _MemoEngine()
    engine.seen = []
    session = tierrules.Session(engine)
    session.append(ev("complaint_registered", "2026-11-24 10:00"), now=None)
    session.append(ev("complaint_replied", "2026-11-24 10:10"), now=None)
    first, second = engine.seen
    assert isinstance(first, CaseMemo) and first is second and first.key == "c1"
    assert [e.type for _, e in first.events] == ["complaint_registered", "complaint_replied"]
    assert session.cache_info()["cases"] == 1
    session.close_case("c1")
    assert session.cache_info()["cases"] == 0


def test_postgres_store_says_which_extra_it_needs_without_psycopg() -> None:
    code = (
        "import sys; sys.modules['psycopg'] = None\n"
        "import tierrules\n"
        "try:\n"
        "    tierrules.PostgresStore('host=nowhere')\n"
        "except ImportError as err:\n"
        "    print(type(err).__name__, isinstance(err, tierrules.StoreError), err)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.startswith("MissingDependencyError True PostgresStore needs psycopg 3")
    assert "tierrules[postgres]" in out.stdout
    assert issubclass(MissingDependencyError, ImportError)


def test_the_docs_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = (Path(__file__).resolve().parent.parent / "docs" / "sessions.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in docs.split("```python\n")[1:]]
    assert blocks
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block, "docs/sessions.md", "exec"), {})
    assert (tmp_path / "cases.db").exists()


@pytest.mark.parametrize("module", ["session", "memory", "sqlite"])
def test_docstring_examples(module: str) -> None:
    import doctest
    import importlib

    found = importlib.import_module(f"tierrules.session.{module}")
    result = doctest.testmod(found, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
