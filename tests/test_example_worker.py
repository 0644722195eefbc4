"""examples/service/worker.py: cases are woken at their next_check_at and what fell due is reported once.

One night of a complaint on an accelerated clock (15 virtual hours in about 3 seconds), the
wake-up schedule against the engine's own ``next_check_at`` chain, and a real-time run of a
lobby case whose next check is a second away.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from examples.service.worker import AcceleratedClock, RealClock, Wake, Worker

import tierrules
from tierrules.aio import AsyncSession

from .conftest import at, ev

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
COMPLAINT = [
    json.loads(line) for line in (EXAMPLES / "complaint.jsonl").read_text(encoding="utf-8").splitlines()
]


def _rules(items: list[Any]) -> list[str]:
    return [getattr(item, "rule", "") for item in items]


def test_a_night_on_an_accelerated_clock_wakes_the_case_at_each_next_check(engine: tierrules.Engine) -> None:
    start = at("2026-11-24 18:30")
    speed = 18_000.0  # five virtual hours a real second: 18:30 to 09:30 in about 3 s
    clock = AcceleratedClock(start, speed)
    wakes: list[Wake] = []
    escalated = asyncio.Event()

    async def on_new(wake: Wake) -> None:  # an async callback
        wakes.append(wake)
        if wake.update.new.escalations:
            escalated.set()

    async def main() -> tuple[tierrules.Update, list[tierrules.EventBase]]:
        async with (
            AsyncSession(tierrules.Session(engine)) as session,
            Worker(session, clock=clock, on_new=on_new) as worker,
        ):
            for event in COMPLAINT:
                last = await session.append(event, start)
                worker.track(last)
            assert worker.pending() == {"C-1001": last.decision.next_check_at}
            await asyncio.wait_for(escalated.wait(), timeout=30)
            return last, await session.events("C-1001")

    began = time.monotonic()
    first, events = asyncio.run(main())
    assert time.monotonic() - began < 15

    # The schedule is the engine's next_check_at chain: each wake at the instant the
    # previous decision named, never before it, and soon after it.
    assert first.decision.next_check_at == at("2026-11-25 05:30")
    previous = first.decision
    for wake in wakes:
        assert wake.case_id == "C-1001"
        assert wake.due == previous.next_check_at
        assert wake.update.now >= wake.due
        assert (wake.update.now - wake.due).total_seconds() / speed < 1.0  # under a real second late
        assert wake.update.decision.to_json() == engine.evaluate(events, wake.update.now).to_json()
        previous = wake.update.decision

    # E2 (1 working hour, from 17:30) falls due at 09:30 the next working day: the breach and
    # the escalation to a supervisor (level 2) are reported by the wake for 09:30, once.
    [escalating] = [w for w in wakes if w.update.new.escalations]
    assert escalating is wakes[-1]
    assert escalating.due == at("2026-11-25 09:30")
    assert [(e.rule, e.to_level) for e in escalating.update.new.escalations] == [("E2.complaint-reply", 2)]
    assert _rules(escalating.update.new.breaches) == ["E2.complaint-reply"]
    # Before it, the warnings as their shares of time passed (E9 at 05:30, ..., E2's 80% at 09:18).
    assert wakes[0].due == at("2026-11-25 05:30")
    assert _rules(wakes[0].update.new.warnings) == ["E9.complaint-response"]
    assert at("2026-11-25 09:18") in [w.due for w in wakes]
    reported = [f"{type(i).__name__}:{i.model_dump_json()}" for w in wakes for i in w.update.new]
    assert len(reported) == len(set(reported))  # nothing reported twice


def _lobby(case: str, arrived: dt.datetime) -> dict[str, Any]:
    """A customer in the lobby: E8 wants a greeting within 10 seconds (no warnings on it)."""
    return {"type": "customer_arrived", "at": arrived.isoformat(), "case_id": case}


def _run_worker(
    engine: tierrules.Engine,
    clock: Any,
    script: Callable[[AsyncSession, Worker, list[Wake]], Any],
    *,
    on_new: Callable[[Wake], None] | None = None,
    default_callback: bool = False,
) -> list[Wake]:
    """Run ``script`` with a worker; returns the wakes reported (to ``on_new`` when given)."""
    wakes: list[Wake] = []
    callback = {} if default_callback else {"on_new": on_new or wakes.append}

    async def main() -> None:
        async with (
            AsyncSession(tierrules.Session(engine)) as session,
            Worker(session, clock=clock, **callback) as worker,
        ):
            await script(session, worker, wakes)

    asyncio.run(main())
    return wakes


async def _until(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


def test_a_case_tracked_later_but_due_sooner_wakes_the_sleeping_worker(engine: tierrules.Engine) -> None:
    start = at("2026-11-24 18:30")
    clock = AcceleratedClock(start, speed=10.0)  # E8's 10 seconds in 1 s; C-1001's 11 hours in 66 min

    async def script(session: AsyncSession, worker: Worker, wakes: list[Wake]) -> None:
        for event in COMPLAINT:
            worker.track(await session.append(event, start))
        await asyncio.sleep(0.2)  # the worker sleeps until 05:30
        worker.track(await session.append(_lobby("L-1", start), start))
        await _until(lambda: bool(wakes), timeout=5)
        assert worker.pending()["C-1001"] == at("2026-11-25 05:30")  # still asleep on it

    began = time.monotonic()
    [wake] = _run_worker(engine, clock, script)
    assert time.monotonic() - began < 5
    assert (wake.case_id, wake.due) == ("L-1", start + dt.timedelta(seconds=10))
    assert _rules(wake.update.new.breaches) == ["E8.greet"]


def test_closed_cases_and_wakes_with_nothing_new_are_not_reported_and_a_failing_callback_is_survived(
    engine: tierrules.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    start = at("2026-11-24 18:30")
    clock = AcceleratedClock(start, speed=100.0)  # 10 seconds in 0.1 s
    seen: list[Wake] = []

    def on_new(wake: Wake) -> None:
        seen.append(wake)
        if wake.case_id == "L-1":
            raise RuntimeError("the pager is down")

    async def script(session: AsyncSession, worker: Worker, wakes: list[Wake]) -> None:
        for case, delay in (("L-1", 0), ("L-2", 1), ("L-3", 2), ("L-4", 3)):  # due at +10, +11, +12, +13 s
            arrived = start + dt.timedelta(seconds=delay)
            worker.track(await session.append(_lobby(case, arrived), arrived))
        await session.close_case("L-2")
        worker.forget("L-2")
        # L-4 is greeted in time (an update the worker is not told about): its wake finds nothing new.
        greeted = start + dt.timedelta(seconds=5)
        await session.append(
            {"type": "customer_greeted", "at": greeted.isoformat(), "case_id": "L-4"}, greeted
        )
        await _until(lambda: worker.wakes >= 3, timeout=5)
        await asyncio.sleep(0.2)  # L-2 would be due by now
        assert worker.wakes == 3  # L-1, L-3, L-4

    with caplog.at_level(logging.ERROR, logger="tierrules.worker"):
        _run_worker(engine, clock, script, on_new=on_new)
    assert [w.case_id for w in seen] == ["L-1", "L-3"]  # not the closed L-2, not L-4 (nothing new)
    assert "the on_new callback failed" in caplog.text and "the pager is down" in caplog.text


def test_a_customer_level_event_schedules_every_open_case_it_reaches(engine: tierrules.Engine) -> None:
    start = at("2026-11-24 10:00")

    async def script(session: AsyncSession, worker: Worker, wakes: list[Wake]) -> None:
        for case in ("C-1", "C-2"):
            opened = ev("case_opened", "2026-11-24 10:00", case=case, channel="phone", customer_id="CU-7")
            await session.append(opened, start)  # not tracked
        profile = {
            "type": "customer_profile",
            "at": start.isoformat(),
            "customer_id": "CU-7",
            "spend_12m": 250000,
            "visits_12m": 30,
            "tenure_months": 40,
        }
        update = await session.append(profile, start)
        assert update.case_id is None and sorted(update.cases) == ["C-1", "C-2"]
        worker.track(update)
        assert worker.pending() == {case: one.decision.next_check_at for case, one in update.cases.items()}
        assert all(worker.pending().values())

    _run_worker(engine, AcceleratedClock(start, 1.0), script)


def test_stop_lets_a_wake_in_progress_finish_and_report(engine: tierrules.Engine) -> None:
    start = at("2026-11-24 18:30")

    refreshing = threading.Event()

    class Slow:  # evaluations take 0.5 s; the second one is the worker's refresh
        calls = 0

        def evaluate(self, events: Any, now: dt.datetime, *, memo: Any = None) -> tierrules.Decision:
            Slow.calls += 1
            if Slow.calls == 2:
                refreshing.set()
            time.sleep(0.5)
            return engine.evaluate(events, now, memo=memo)

    wakes: list[Wake] = []

    async def main() -> None:
        session = AsyncSession(tierrules.Session(Slow(), store=tierrules.MemoryStore()))  # type: ignore[arg-type]
        worker = Worker(
            session, clock=AcceleratedClock(start + dt.timedelta(minutes=1), 1.0), on_new=wakes.append
        )
        update = await session.append(_lobby("L-1", start), start)  # already overdue on the clock
        worker.start()
        worker.track(update)
        assert await asyncio.to_thread(refreshing.wait, 10)  # the refresh is running
        await worker.stop()
        await session.aclose()

    asyncio.run(main())
    assert [(w.case_id, _rules(w.update.new.breaches)) for w in wakes] == [("L-1", ["E8.greet"])]


def test_real_time_a_lobby_customer_not_greeted_within_10_seconds(
    engine: tierrules.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """On the wall clock: the customer arrived 9 s ago, so the greeting is due in about a second."""

    async def script(session: AsyncSession, worker: Worker, wakes: list[Wake]) -> None:
        now = RealClock().now()
        update = await session.append(_lobby("L-9", now - dt.timedelta(seconds=9)), now)
        assert len(update.new) == 0
        worker.track(update)
        began = time.monotonic()
        await _until(lambda: worker.wakes > 0, timeout=10)
        waited = time.monotonic() - began
        assert 0.5 < waited < 3.0, waited  # it slept until the greeting was due, about 1 s
        assert worker.wakes == 1  # one refresh: not early, not twice

    # The default callback: one JSON line on the tierrules.worker logger.
    with caplog.at_level(logging.INFO, logger="tierrules.worker"):
        wakes = _run_worker(engine, RealClock(), script, default_callback=True)
    assert wakes == []  # the default callback logged it instead
    [line] = [json.loads(r.getMessage()) for r in caplog.records if r.name == "tierrules.worker"]
    assert line["case_id"] == "L-9"
    assert [b["rule"] for b in line["new"]["breaches"]] == ["E8.greet"]
    assert dt.datetime.fromisoformat(line["now"]) >= dt.datetime.fromisoformat(line["due"])


def test_clocks() -> None:
    start = at("2026-11-24 18:30")
    clock = AcceleratedClock(start, speed=3600.0)
    time.sleep(0.05)
    assert start + dt.timedelta(seconds=150) <= clock.now() < start + dt.timedelta(seconds=3600)
    assert 0.9 < clock.seconds_until(clock.now() + dt.timedelta(hours=1)) <= 1.0
    with pytest.raises(ValueError, match="timezone-aware"):
        AcceleratedClock(dt.datetime(2026, 11, 24), 1.0)
    real = RealClock()
    assert abs((real.now() - dt.datetime.now(dt.timezone.utc)).total_seconds()) < 1
    assert real.now().tzinfo is not None
