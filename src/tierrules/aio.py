"""The asyncio entry point: sessions and evaluations that never block the event loop.

A :class:`~tierrules.Session` call does blocking work -- the engine evaluates the case, the
store commits (and a :class:`~tierrules.SqliteStore` flushes its log to disk) -- so an
asyncio service must not make it on its event loop. :class:`AsyncSession` wraps a session
and runs every call on **one worker thread of its own** (a single-thread executor):

* calls run one at a time, in the order they were made: the executor's queue is first in,
  first out, and a call is queued when its coroutine starts, before it first waits -- so
  appends made concurrently by many tasks get ``seq`` 1, 2, 3... in the order the tasks
  were created;
* the session, its store and the engine are used from that one thread only. They are
  thread-safe anyway (a ``Session`` holds a lock around every call, each store locks its
  connection, the durable_rules matcher is fenced by a process-wide lock), but a single
  thread keeps those locks uncontended and the order of the calls explicit;
* the loop stays free: other requests, timers and health checks run while an append
  evaluates.

A call cancelled before its turn never runs; one already running finishes (an append is
then stored even though its caller is gone: re-send it with its ``id`` to learn its
update -- a duplicate is not stored twice). Each call runs in a copy of the caller's
:mod:`contextvars` context, as :func:`asyncio.to_thread` does.

:func:`evaluate` is the stateless :meth:`Engine.evaluate <tierrules.Engine.evaluate>` off the
loop, on asyncio's default thread pool (the engine may be shared by threads).
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import functools
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any, TypeVar

from .decision import Decision
from .evaluation.engine import Engine
from .events import EventBase
from .session import Session, StoreError, Update

__all__ = ["AsyncSession", "evaluate"]

T = TypeVar("T")


class AsyncSession:
    """A :class:`~tierrules.Session` for asyncio code: every call runs on one dedicated thread.

    ``session`` is the session to wrap (a new ``Session()`` -- the bundled default policy,
    in memory -- when None). :meth:`aclose` (or leaving ``async with``) waits for the calls
    already made, then closes the session's store unless ``close_store`` is False (leave it
    open when it is shared with other code that closes it).

    >>> import asyncio, datetime as dt, tierrules
    >>> from tierrules.aio import AsyncSession
    >>> at = lambda text: dt.datetime.fromisoformat(f"2026-11-24T{text}+08:00")
    >>> async def main() -> None:
    ...     async with AsyncSession(tierrules.Session(tierrules.Engine())) as session:
    ...         update = await session.append({"type": "escalation_needed", "case_id": "c1",
    ...                                        "at": "2026-11-24T10:00:00+08:00", "agent_level": 1})
    ...         print(update.seq, update.now.isoformat(), update.decision.next_check_at.isoformat())
    ...         later = await session.refresh("c1", at("10:30:00"))   # at next_check_at
    ...         print([o.rule for o in later.new.breaches], [e.to_level for e in later.new.escalations])
    >>> asyncio.run(main())
    1 2026-11-24T10:00:00+08:00 2026-11-24T10:05:00+08:00
    ['E1.escalate'] [2]
    """

    def __init__(self, session: Session | None = None, *, close_store: bool = True) -> None:
        self._session = session if session is not None else Session()
        self._close_store = close_store
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tierrules-session")
        self._closed = False

    @property
    def session(self) -> Session:
        """The wrapped session (for its ``engine`` and ``store``; call it through this object)."""
        return self._session

    @property
    def closed(self) -> bool:
        """True once :meth:`aclose` was called: calls then raise :class:`~tierrules.StoreError`."""
        return self._closed

    # ------------------------------------------------------------------ the session's calls

    async def append(self, event: Mapping[str, Any] | EventBase, now: dt.datetime | None = None) -> Update:
        """:meth:`Session.append <tierrules.Session.append>` on the session's thread.

        ``now=None`` (the default) decides at the latest ``at`` among the events the update
        evaluates: the stream's own clock. Raises what ``Session.append`` raises.
        """
        return await self._call(self._session.append, event, now)

    async def decision(self, case_id: str, now: dt.datetime) -> Decision:
        """:meth:`Session.decision <tierrules.Session.decision>`: the case's decision; changes nothing."""
        return await self._call(self._session.decision, case_id, now)

    async def refresh(self, case_id: str, now: dt.datetime) -> Update:
        """:meth:`Session.refresh <tierrules.Session.refresh>`: the decision at ``now`` and what is new."""
        return await self._call(self._session.refresh, case_id, now)

    async def customer_decision(self, customer_id: str, now: dt.datetime) -> Decision:
        """:meth:`Session.customer_decision <tierrules.Session.customer_decision>`."""
        return await self._call(self._session.customer_decision, customer_id, now)

    async def close_case(self, case_id: str) -> None:
        """:meth:`Session.close_case <tierrules.Session.close_case>`: archive the case."""
        await self._call(self._session.close_case, case_id)

    async def events(self, case_id: str) -> list[EventBase]:
        """:meth:`Session.events <tierrules.Session.events>`: the case's events in arrival order."""
        return await self._call(self._session.events, case_id)

    # ------------------------------------------------------------------ life cycle

    async def aclose(self) -> None:
        """Wait for the calls already made, close the store (unless ``close_store=False``), stop the thread.

        Calls made afterwards raise :class:`~tierrules.StoreError`. Closing twice does nothing.
        """
        if self._closed:
            return
        self._closed = True
        try:
            if self._close_store:
                # Queued behind every call already made; shielded so that a cancelled
                # aclose still closes the store.
                await asyncio.shield(self._submit(self._session.store.close))
        finally:
            self._executor.shutdown(wait=False)

    async def __aenter__(self) -> AsyncSession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ the thread

    def _submit(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        run = functools.partial(contextvars.copy_context().run, fn, *args)
        return asyncio.get_running_loop().run_in_executor(self._executor, run)

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        # Submitted before the first await: the order of the calls is the order of submission.
        if self._closed:
            raise StoreError("the session is closed")
        return await self._submit(fn, *args)


async def evaluate(
    engine: Engine, events: Iterable[Mapping[str, Any] | EventBase], now: dt.datetime
) -> Decision:
    """:meth:`Engine.evaluate <tierrules.Engine.evaluate>` on a worker thread (``asyncio.to_thread``).

    ``events`` is read on that thread: pass a list rather than an iterator tied to the loop.

    >>> import asyncio, datetime as dt, tierrules
    >>> from tierrules.aio import evaluate
    >>> events = [{"type": "complaint_registered", "at": "2026-11-24T17:30:00+08:00", "case_id": "c1"}]
    >>> now = dt.datetime.fromisoformat("2026-11-24T18:30:00+08:00")
    >>> decision = asyncio.run(evaluate(tierrules.Engine(), events, now))
    >>> [(o.rule, o.due_at.isoformat()) for o in decision.obligations if o.source == "E2"]
    [('E2.complaint-reply', '2026-11-25T09:30:00+08:00')]
    """
    return await asyncio.to_thread(engine.evaluate, events, now)
