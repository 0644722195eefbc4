"""A store in this process's memory: for tests, short-lived sessions and the benchmark.

Nothing survives the process, and memory grows with every event; transactions are still
all-or-nothing (an undo log) and one at a time (a lock), so a session behaves exactly as
on a database.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from .store import CaseRow, CustomerRow, StoredEvent, StoreError

__all__ = ["MemoryStore"]


@dataclass
class _Data:
    events: list[StoredEvent] = field(default_factory=list)
    by_id: dict[str, StoredEvent] = field(default_factory=dict)
    by_case: dict[str, list[StoredEvent]] = field(default_factory=dict)
    by_customer: dict[str, list[StoredEvent]] = field(default_factory=dict)
    cases: dict[str, CaseRow] = field(default_factory=dict)
    customers: dict[str, CustomerRow] = field(default_factory=dict)
    customer_cases: dict[str, set[str]] = field(default_factory=dict)


def _after(events: list[StoredEvent], after: int) -> list[StoredEvent]:
    return events[bisect.bisect_right(events, after, key=lambda e: e.seq) :]


class _MemoryTransaction:
    def __init__(self, data: _Data, writable: bool) -> None:
        self._data = data
        self._writable = writable
        self.undo: list[Callable[[], None]] = []

    def lock_customers(self, customer_ids: Sequence[str], *, exclusive: bool) -> None:
        """One transaction at a time: nothing more to lock."""

    def lock_cases(self, case_ids: Sequence[str]) -> None:
        """One transaction at a time: nothing more to lock."""

    def case(self, case_id: str) -> CaseRow | None:
        return self._data.cases.get(case_id)

    def customer(self, customer_id: str) -> CustomerRow | None:
        return self._data.customers.get(customer_id)

    def event_by_id(self, event_id: str) -> StoredEvent | None:
        return self._data.by_id.get(event_id)

    def case_events(self, case_id: str, after: int) -> list[StoredEvent]:
        return _after(self._data.by_case.get(case_id, []), after)

    def customer_events(self, customer_id: str, after: int) -> list[StoredEvent]:
        return _after(self._data.by_customer.get(customer_id, []), after)

    def open_cases(self, customer_id: str) -> list[str]:
        cases = self._data.customer_cases.get(customer_id, set())
        return sorted(c for c in cases if self._data.cases[c].closed_seq is None)

    def _check(self) -> None:
        if not self._writable:
            raise StoreError("write inside a read transaction")

    def add_event(
        self,
        *,
        case_id: str | None,
        case_seq: int | None,
        customer_id: str | None,
        event_id: str | None,
        body: str,
    ) -> int:
        self._check()
        data = self._data
        seq = len(data.events) + 1
        stored = StoredEvent(seq, case_id, case_seq, customer_id, event_id, body)
        data.events.append(stored)
        lists = []
        if case_id is not None:
            lists.append(data.by_case.setdefault(case_id, []))
        if customer_id is not None:
            lists.append(data.by_customer.setdefault(customer_id, []))
        for events in lists:
            events.append(stored)
        if event_id is not None:
            data.by_id[event_id] = stored

        def undo() -> None:
            data.events.pop()
            for events in lists:
                events.pop()
            if event_id is not None:
                del data.by_id[event_id]

        self.undo.append(undo)
        return seq

    def put_case(self, row: CaseRow) -> None:
        self._check()
        data = self._data
        old = data.cases.get(row.case_id)
        data.cases[row.case_id] = row
        added = [c for c in row.customers if row.case_id not in data.customer_cases.get(c, set())]
        for customer in added:
            data.customer_cases.setdefault(customer, set()).add(row.case_id)

        def undo() -> None:
            if old is None:
                del data.cases[row.case_id]
            else:
                data.cases[row.case_id] = old
            for customer in added:
                data.customer_cases[customer].discard(row.case_id)

        self.undo.append(undo)

    def put_customer(self, row: CustomerRow) -> None:
        self._check()
        data = self._data
        old = data.customers.get(row.customer_id)
        data.customers[row.customer_id] = row

        def undo() -> None:
            if old is None:
                del data.customers[row.customer_id]
            else:
                data.customers[row.customer_id] = old

        self.undo.append(undo)


class _Held:
    """One transaction on a MemoryStore: its lock held from enter to exit, its undo log run
    on an exception. A class, not a generator context manager: a session opens one per event."""

    def __init__(self, store: MemoryStore, *, writable: bool) -> None:
        self._store = store
        self._writable = writable
        self._txn: _MemoryTransaction | None = None

    def __enter__(self) -> _MemoryTransaction:
        store = self._store
        store._lock.acquire()
        if store._closed:
            store._lock.release()
            raise StoreError("the store is closed")
        self._txn = _MemoryTransaction(store._data, self._writable)
        return self._txn

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        try:
            if kind is not None and self._txn is not None:
                for undo in reversed(self._txn.undo):
                    undo()
        finally:
            self._store._lock.release()


class MemoryStore:
    """A :class:`~tierrules.session.Store` in memory (the default of a ``Session``).

    >>> import datetime as dt, tierrules
    >>> session = tierrules.Session(tierrules.Engine(), store=tierrules.MemoryStore())
    >>> update = session.append({"type": "complaint_registered", "at": "2026-11-24T10:00:00+08:00",
    ...                          "case_id": "c1"}, now=dt.datetime.fromisoformat("2026-11-24T10:05:00+08:00"))
    >>> update.seq, [o.rule for o in update.decision.obligations][:1]
    (1, ['E2.complaint-reply'])
    """

    def __init__(self) -> None:
        self._data = _Data()
        self._lock = threading.RLock()
        self._closed = False

    def write(self) -> AbstractContextManager[_MemoryTransaction]:
        """A write transaction: applied on a normal exit, undone on an exception."""
        return _Held(self, writable=True)

    def read(self) -> AbstractContextManager[_MemoryTransaction]:
        """A read-only transaction."""
        return _Held(self, writable=False)

    def close(self) -> None:
        with self._lock:
            self._closed = True

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
