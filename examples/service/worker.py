"""Wake cases at their ``next_check_at``: a plain-asyncio scheduler over an ``AsyncSession``.

A decision's ``next_check_at`` is the earliest instant at which it can change without a
new event: a deadline falls due, a warning's share of the time passes, an escalation
climbs a level. Nobody sends an event then, so something must ask again. :class:`Worker`
keeps a heap of ``(next_check_at, case_id)`` built from the updates it is told about
(:meth:`Worker.track`), sleeps until the earliest, refreshes that case
(:meth:`AsyncSession.refresh <tierrules.aio.AsyncSession.refresh>`: the decision at that
instant and what is new in it) and hands what is new -- escalations, breaches, warnings --
to a callback, once: the session records what each case's updates reported, so a
breach an append already reported is not reported again by a wake, nor the other way round.

Time comes from a :class:`Clock`: :class:`RealClock` (the wall clock) in production,
:class:`AcceleratedClock` (a virtual clock running N times faster) to watch a night pass
in seconds.

Run it on its own::

    async with AsyncSession(tierrules.Session(store=...)) as session, Worker(session) as worker:
        worker.track(await session.append(event))

or inside the FastAPI app (``app.py``), which tracks every update its ``POST /events``
returns.

The heap lives in memory: after a restart, a case is tracked again at its next event (a
production worker would first schedule the open cases of the store).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import heapq
import inspect
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol

from tierrules import EventError, Update
from tierrules.aio import AsyncSession

__all__ = ["AcceleratedClock", "Clock", "OnNew", "RealClock", "Wake", "Worker", "log_json"]

log = logging.getLogger("tierrules.worker")

# The longest the worker sleeps in one go (real seconds): a wall clock set forward is noticed.
MAX_SLEEP = 60.0


class Clock(Protocol):
    """Where the worker's time comes from."""

    def now(self) -> dt.datetime:
        """The current instant (timezone-aware)."""
        ...

    def seconds_until(self, when: dt.datetime) -> float:
        """Real seconds to sleep until ``when`` (zero or less: it is due)."""
        ...


class RealClock:
    """The wall clock: real-time mode."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc)

    def seconds_until(self, when: dt.datetime) -> float:
        return (when - self.now()).total_seconds()


class AcceleratedClock:
    """A virtual clock that starts at ``start`` and runs ``speed`` times faster than real time.

    ``AcceleratedClock(start, speed=3600)`` passes an hour every real second: a case's night
    of deadlines goes by in seconds, with the same code path as real time.
    """

    def __init__(self, start: dt.datetime, speed: float) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.start = start
        self.speed = speed
        self._t0 = time.monotonic()

    def now(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=(time.monotonic() - self._t0) * self.speed)

    def seconds_until(self, when: dt.datetime) -> float:
        return (when - self.now()).total_seconds() / self.speed


@dataclass(frozen=True)
class Wake:
    """One wake-up: the case, the ``next_check_at`` it woke for, and the refresh's update.

    ``update.now`` is the instant decided at (never before ``due``), ``update.new`` what
    appeared, ``update.decision.next_check_at`` when the case wakes next.
    """

    case_id: str
    due: dt.datetime
    update: Update

    def to_dict(self) -> dict[str, object]:
        next_check = self.update.decision.next_check_at
        return {
            "case_id": self.case_id,
            "due": self.due.isoformat(),
            "now": self.update.now.isoformat(),
            "new": self.update.new.to_dict(),
            "next_check_at": next_check.isoformat() if next_check is not None else None,
        }


OnNew = Callable[[Wake], Awaitable[None] | None]
"""What the worker calls with a wake that found something new (a plain or an async function)."""


def log_json(wake: Wake) -> None:
    """The default callback: one JSON line on the ``tierrules.worker`` logger (level INFO)."""
    log.info("%s", json.dumps(wake.to_dict(), ensure_ascii=False))


class Worker:
    """Refresh each tracked case at its ``next_check_at`` and report what is new.

    ``session``: the :class:`~tierrules.aio.AsyncSession` to refresh through (the one the
    events are appended through, so refreshes and appends run in one order). ``clock``:
    :class:`RealClock` when None. ``on_new``: called with each :class:`Wake` whose update
    has something new, one at a time (a slow callback delays later wakes); an exception in
    it is logged and the worker goes on. ``retry_after``: when a refresh fails (the store
    is down), the case is tried again this much later on the clock.

    Use it on the event loop's thread: :meth:`start` (or ``async with``) runs it as a task,
    :meth:`stop` lets a wake in progress finish and report, then ends it.
    """

    def __init__(
        self,
        session: AsyncSession,
        *,
        clock: Clock | None = None,
        on_new: OnNew = log_json,
        retry_after: dt.timedelta = dt.timedelta(minutes=1),
    ) -> None:
        self.session = session
        self.clock: Clock = clock if clock is not None else RealClock()
        self.on_new = on_new
        self.retry_after = retry_after
        self.wakes = 0  # refreshes made, for monitoring
        self._heap: list[tuple[dt.datetime, str]] = []
        self._due: dict[str, dt.datetime] = {}  # the one live entry per case; other heap entries are stale
        self._changed = asyncio.Event()
        self._waking: str | None = None
        self._forgotten_while_waking = False
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ scheduling

    def track(self, update: Update) -> None:
        """Schedule the update's case at its decision's ``next_check_at`` (replacing an earlier schedule).

        A customer-level event's update also carries the other open cases it reached: each
        is scheduled too. A case whose decision has no ``next_check_at`` is not woken.
        Call it right after the ``await`` that gave the update, so the last update tracked
        for a case is the latest one.
        """
        for one in (update, *update.cases.values()):
            if one.case_id is not None:  # a customer alone has no refresh: tracked by its cases
                self.schedule(one.case_id, one.decision.next_check_at)

    def schedule(self, case_id: str, when: dt.datetime | None) -> None:
        """Wake ``case_id`` at ``when`` (None: not at all)."""
        if when is None:
            self._due.pop(case_id, None)
        elif self._due.get(case_id) != when:
            self._due[case_id] = when
            heapq.heappush(self._heap, (when, case_id))
        self._changed.set()

    def forget(self, case_id: str) -> None:
        """Stop waking ``case_id`` (it was closed)."""
        self.schedule(case_id, None)
        if self._waking == case_id:  # its refresh is running: drop what it would schedule
            self._forgotten_while_waking = True

    def pending(self) -> dict[str, dt.datetime]:
        """Each tracked case and when it wakes next."""
        return dict(self._due)

    # ------------------------------------------------------------------ running

    def start(self) -> asyncio.Task[None]:
        """Run the worker as a task of the running loop."""
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.create_task(self.run(), name="tierrules-worker")
        return self._task

    async def stop(self, timeout: float = 10.0) -> None:
        """Let a wake in progress finish (and report), then end; cancel it after ``timeout`` seconds."""
        self._stopping = True
        self._changed.set()
        task, self._task = self._task, None
        if task is not None:
            try:
                await asyncio.wait_for(task, timeout)
            except asyncio.TimeoutError:
                log.warning("worker did not stop within %s s: cancelled", timeout)

    async def __aenter__(self) -> Worker:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def run(self) -> None:
        """Wake cases as they fall due, until :meth:`stop`."""
        while not self._stopping:
            self._changed.clear()
            earliest = self._earliest()
            if earliest is None:
                await self._changed.wait()
                continue
            when, case_id = earliest
            delay = self.clock.seconds_until(when)
            if delay > 0:  # sleep, unless a new schedule (or stop) comes first
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), min(delay, MAX_SLEEP))
                continue
            heapq.heappop(self._heap)
            del self._due[case_id]
            await self._wake(case_id, when)

    def _earliest(self) -> tuple[dt.datetime, str] | None:
        while self._heap:
            when, case_id = self._heap[0]
            if self._due.get(case_id) == when:
                return when, case_id
            heapq.heappop(self._heap)  # stale: rescheduled or forgotten since
        return None

    async def _wake(self, case_id: str, due: dt.datetime) -> None:
        self._waking, self._forgotten_while_waking = case_id, False
        try:
            update = await self.session.refresh(case_id, self.clock.now())
        except EventError as err:  # no such case (another process removed it?), or a clock behind
            log.warning("case %s not refreshed, no longer tracked: %s", case_id, err)
            return
        except Exception:
            log.exception("case %s: refresh failed; retrying in %s", case_id, self.retry_after)
            self.schedule(case_id, self.clock.now() + self.retry_after)
            return
        finally:
            self._waking = None
        self.wakes += 1
        if self._forgotten_while_waking:  # closed while its refresh ran
            return
        self.track(update)
        if len(update.new):
            await self._report(Wake(case_id, due, update))

    async def _report(self, wake: Wake) -> None:
        try:
            result = self.on_new(wake)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("case %s: the on_new callback failed", wake.case_id)
