"""tierrules.aio: an AsyncSession is a Session on one thread of its own, and never blocks the loop."""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import doctest
import itertools
import json
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, cast

import pytest

import tierrules
import tierrules.aio
from tierrules.aio import AsyncSession, evaluate

from .conftest import at, ev

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
COMPLAINT = [
    json.loads(line) for line in (EXAMPLES / "complaint.jsonl").read_text(encoding="utf-8").splitlines()
]

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class Recording:
    """An engine that records the thread (and the caller's context) of every call, optionally slowly."""

    def __init__(self, engine: tierrules.Engine, delay: float = 0.0) -> None:
        self.engine = engine
        self.delay = delay
        self.threads: list[int] = []
        self.contexts: list[str] = []

    def evaluate(
        self, events: Iterable[Mapping[str, Any] | tierrules.EventBase], now: dt.datetime, *, memo: Any = None
    ) -> tierrules.Decision:
        self.threads.append(threading.get_ident())
        self.contexts.append(REQUEST_ID.get())
        if self.delay:
            time.sleep(self.delay)
        return self.engine.evaluate(events, now, memo=memo)


def _session(engine: Any, store: tierrules.Store | None = None) -> tierrules.Session:
    return tierrules.Session(cast(tierrules.Engine, engine), store=store)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def two_stores(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[tierrules.Store, tierrules.Store]]:
    """Two empty stores of one kind: one for a Session, one for an AsyncSession."""
    dropped: list[str] = []
    if request.param == "memory":
        stores: tuple[tierrules.Store, tierrules.Store] = (tierrules.MemoryStore(), tierrules.MemoryStore())
    elif request.param == "sqlite":
        stores = (tierrules.SqliteStore(tmp_path / "a.db"), tierrules.SqliteStore(tmp_path / "b.db"))
    else:
        cluster = request.getfixturevalue("postgres_cluster")
        dropped = ["aio_" + uuid.uuid4().hex[:16] for _ in range(2)]
        stores = (
            tierrules.PostgresStore(cluster.create_database(dropped[0])),
            tierrules.PostgresStore(cluster.create_database(dropped[1])),
        )
    yield stores
    for store in stores:
        store.close()
    for name in dropped:
        request.getfixturevalue("postgres_cluster").drop_database(name)


def test_async_session_gives_exactly_what_session_gives(
    engine: tierrules.Engine, two_stores: tuple[tierrules.Store, tierrules.Store]
) -> None:
    sync_store, async_store = two_stores
    sync = tierrules.Session(engine, store=sync_store)
    events = [
        *COMPLAINT,
        ev("customer_arrived", "2026-11-24 18:00", case="L-1"),
        {
            "type": "customer_profile",
            "at": at("2026-11-24 18:05").isoformat(),
            "customer_id": "CUST-88",
            "spend_12m": 250000,
            "visits_12m": 30,
            "tenure_months": 40,
        },
        ev("feedback_received", "2026-11-24 18:10", case="C-1001", severity="hot"),  # refused by both
        ev("complaint_replied", "2026-11-24 18:20", case="C-1001", id="r-1"),
        ev("complaint_replied", "2026-11-24 18:20", case="C-1001", id="r-1"),  # a duplicate
    ]
    later = [at("2026-11-25 05:30"), at("2026-11-25 09:30"), at("2026-11-26 12:00")]

    def run_sync() -> list[str]:
        out = []
        for event in events:
            try:
                out.append(sync.append(event, None).to_json())
            except tierrules.EventError as err:
                out.append(f"refused: {err}")
        out += [sync.refresh("C-1001", now).to_json() for now in later]
        out.append(sync.decision("L-1", later[0]).to_json())
        out.append(json.dumps([e.model_dump(mode="json") for e in sync.events("C-1001")]))
        sync.close_case("C-1001")
        out.append(sync.decision("C-1001", later[-1]).to_json())
        return out

    async def run_async() -> list[str]:
        out = []
        async with AsyncSession(tierrules.Session(engine, store=async_store), close_store=False) as session:
            for event in events:
                try:
                    out.append((await session.append(event)).to_json())
                except tierrules.EventError as err:
                    out.append(f"refused: {err}")
            out += [(await session.refresh("C-1001", now)).to_json() for now in later]
            out.append((await session.decision("L-1", later[0])).to_json())
            out.append(json.dumps([e.model_dump(mode="json") for e in await session.events("C-1001")]))
            await session.close_case("C-1001")
            out.append((await session.decision("C-1001", later[-1])).to_json())
        return out

    expected = run_sync()
    assert asyncio.run(run_async()) == expected
    assert sum(line.startswith("refused: invalid event at index 0: $[0].severity") for line in expected) == 1
    assert sum('"duplicate": true' in line for line in expected) == 1
    # ... and what both give is evaluate()'s (docs/sessions.md): the last refresh, for one
    last_refresh = json.loads(expected[len(events) + len(later) - 1])
    case_events = [*sync.events("C-1001"), *sync.customer_events("CUST-88")]
    assert last_refresh["decision"] == json.loads(engine.evaluate(case_events, later[-1]).to_json())


def test_concurrent_appends_run_one_at_a_time_in_arrival_order_on_one_thread(
    engine: tierrules.Engine,
) -> None:
    recording = Recording(engine, delay=0.003)  # a slow engine: out-of-order runs would show
    n = 40

    def utterance(i: int) -> dict[str, Any]:
        when = at("2026-11-24 10:00") + dt.timedelta(seconds=i)
        return {
            "type": "utterance",
            "at": when.isoformat(),
            "case_id": "call-1",
            "speaker": "agent",
            "text": f"您好，第{i}句",
            "id": f"u{i}",
        }

    async def main() -> tuple[list[tierrules.Update], list[tierrules.EventBase], int]:
        async with AsyncSession(_session(recording)) as session:
            tasks = [asyncio.create_task(session.append(utterance(i))) for i in range(n)]
            updates = await asyncio.gather(*tasks)
            return updates, await session.events("call-1"), threading.get_ident()

    updates, stored, loop_thread = asyncio.run(main())
    assert [u.seq for u in updates] == list(range(1, n + 1))  # each task's event got its place in order
    assert [e.id for e in stored] == [f"u{i}" for i in range(n)]
    assert [u.event.id for u in updates if u.event is not None] == [f"u{i}" for i in range(n)]
    assert len(set(recording.threads)) == 1  # one thread for every call
    assert recording.threads[0] != loop_thread
    assert len(recording.threads) >= n


def test_the_loop_keeps_running_during_a_slow_append(engine: tierrules.Engine) -> None:
    recording = Recording(engine, delay=0.5)

    async def main() -> tuple[list[float], float, float]:
        ticks: list[float] = []

        async def heartbeat() -> None:
            while True:
                ticks.append(time.monotonic())
                await asyncio.sleep(0.01)

        async with AsyncSession(_session(recording)) as session:
            beat = asyncio.create_task(heartbeat())
            await asyncio.sleep(0.05)
            start = time.monotonic()
            await session.append(ev("complaint_registered", "2026-11-24 17:30"))
            end = time.monotonic()
            beat.cancel()
        return ticks, start, end

    ticks, start, end = asyncio.run(main())
    during = [t for t in ticks if start <= t <= end]
    assert end - start >= 0.5
    assert len(during) >= 20  # ~50 at 10 ms; none if the append ran on the loop
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert max(gaps) < 0.25


def test_aclose_waits_for_calls_already_made_then_closes_the_store(engine: tierrules.Engine) -> None:
    store = tierrules.MemoryStore()
    recording = Recording(engine, delay=0.02)

    async def main() -> list[tierrules.Update]:
        session = AsyncSession(_session(recording, store))
        tasks = [
            asyncio.create_task(
                session.append(ev("complaint_registered", f"2026-11-24 17:3{i}", case=f"c{i}"))
            )
            for i in range(5)
        ]
        await asyncio.sleep(0)  # the tasks start: their calls are queued
        await session.aclose()
        assert session.closed
        with pytest.raises(tierrules.StoreError, match="the session is closed"):
            await session.append(ev("complaint_registered", "2026-11-24 17:40", case="late"))
        await session.aclose()  # a second close does nothing
        return await asyncio.gather(*tasks)

    updates = asyncio.run(main())
    assert [u.case_id for u in updates] == [f"c{i}" for i in range(5)]
    with pytest.raises(tierrules.StoreError, match="closed"), store.read():
        pass


def test_close_store_false_leaves_the_store_open(engine: tierrules.Engine, tmp_path: Path) -> None:
    store = tierrules.SqliteStore(tmp_path / "cases.db")

    async def main() -> None:
        async with AsyncSession(tierrules.Session(engine, store=store), close_store=False) as session:
            await session.append(ev("complaint_registered", "2026-11-24 17:30"))

    asyncio.run(main())
    assert [e.type for e in tierrules.Session(engine, store=store).events("c1")] == ["complaint_registered"]
    store.close()


def test_a_call_cancelled_before_its_turn_never_runs(engine: tierrules.Engine) -> None:
    recording = Recording(engine, delay=0.3)

    async def main() -> list[tierrules.EventBase]:
        async with AsyncSession(_session(recording)) as session:
            first = asyncio.create_task(
                session.append(ev("complaint_registered", "2026-11-24 17:30", id="a"))
            )
            second = asyncio.create_task(session.append(ev("complaint_replied", "2026-11-24 17:40", id="b")))
            await asyncio.sleep(0.1)  # the first is running, the second waits for the thread
            first.cancel()
            second.cancel()
            for task in (first, second):
                with pytest.raises(asyncio.CancelledError):
                    await task
            return await session.events("c1")

    # The running one finished (its event is stored); the waiting one never ran.
    assert [e.id for e in asyncio.run(main())] == ["a"]


def test_errors_are_the_sessions_and_calls_run_in_the_callers_context(engine: tierrules.Engine) -> None:
    recording = Recording(engine)
    bad = ev("feedback_received", "2026-11-24 18:00", severity="hot")

    async def main() -> tierrules.EventError:
        async with AsyncSession(_session(recording)) as session:
            REQUEST_ID.set("req-42")
            await session.append(ev("complaint_registered", "2026-11-24 17:30"))
            with pytest.raises(tierrules.EventError) as caught:
                await session.append(bad)
            with pytest.raises(tierrules.EventError, match="no such case"):
                await session.decision("nope", at("2026-11-24 18:00"))
            return caught.value

    err = asyncio.run(main())
    with pytest.raises(tierrules.EventError) as direct:
        engine.evaluate([bad], at("2026-11-24 18:00"))
    assert str(err) == str(direct.value)
    assert (err.index, err.field, err.json_path) == (0, "severity", "$[0].severity")
    assert recording.contexts == ["req-42"]


def test_evaluate_runs_off_the_loop_and_gives_the_engines_decision(engine: tierrules.Engine) -> None:
    recording = Recording(engine)
    now = at("2026-11-25 09:30")

    async def main() -> tuple[tierrules.Decision, int]:
        return await evaluate(cast(tierrules.Engine, recording), COMPLAINT, now), threading.get_ident()

    decision, loop_thread = asyncio.run(main())
    assert decision.to_json() == engine.evaluate(COMPLAINT, now).to_json()
    assert recording.threads and recording.threads[0] != loop_thread


def test_docstring_examples() -> None:
    result = doctest.testmod(tierrules.aio, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
