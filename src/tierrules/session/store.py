"""What a session keeps, and the protocol every store implements.

A store holds three kinds of record, all append-only or versioned:

- events, each with a store-wide arrival number ``seq`` (the order events are passed to
  :meth:`Engine.evaluate <tierrules.Engine.evaluate>`), its case's arrival number
  ``case_seq`` and its JSON text as received;
- one :class:`CaseRow` per case: how many events it has, the customers its ``case_opened``
  named, whether it is closed, and what its updates have reported so far;
- one :class:`CustomerRow` per customer with customer-level events.

A session does all its work inside :meth:`Store.write` (or :meth:`Store.read`)
transactions. A write transaction that ends without an exception is committed and durable
when ``write()`` returns; one that raises leaves the store as it was. Stores that let
several processes write at once take the locks :meth:`Transaction.lock_customers` and
:meth:`Transaction.lock_cases` ask for (customers always before cases, each list in sorted
order, so two transactions never wait on each other in a cycle) and raise
:class:`StoreConflictError` when the database gives up on a transaction (a deadlock, a
duplicate key); the session then runs the whole transaction again.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from ..errors import TierrulesError

__all__ = [
    "CaseRow",
    "CustomerRow",
    "Store",
    "StoreConflictError",
    "StoreError",
    "StoredEvent",
    "Transaction",
]

SCHEMA_VERSION = "1"


class StoreError(TierrulesError):
    """A store failed: the database is unreachable, locked too long, or not a tierrules store."""


class StoreConflictError(StoreError):
    """A write transaction lost a race with another process; running it again will succeed."""


@dataclass(frozen=True)
class StoredEvent:
    """One event as stored: its arrival numbers and its JSON text."""

    seq: int
    """Store-wide arrival number: the order a case's events are evaluated in."""
    case_id: str | None
    case_seq: int | None
    """Arrival number within its case (1, 2, ...); None for a customer event without a case."""
    customer_id: str | None
    """The customer of a customer-level event (``customer_profile``, ...); None for case events."""
    event_id: str | None
    body: str
    """The event's JSON, as validated (fields the host left out stay out)."""


@dataclass(frozen=True)
class CaseRow:
    """One case's bookkeeping (its events are :class:`StoredEvent` rows)."""

    case_id: str
    version: int = 0
    """Bumped by every write to the row: a cached copy with the same version is current."""
    last_seq: int = 0
    """``seq`` of the case's latest event (0: none yet)."""
    count: int = 0
    """How many events the case has: the next one gets ``case_seq = count + 1``."""
    customers: tuple[str, ...] = ()
    """The customers the case's ``case_opened`` events name, sorted."""
    closed_seq: int | None = None
    """Set by ``close_case``: the case's decision keeps to events with ``seq`` up to it."""
    state: str = ""
    """What the case's updates reported so far (JSON, see ``tierrules.session.update``)."""


@dataclass(frozen=True)
class CustomerRow:
    """One customer's bookkeeping: its customer-level events and their updates."""

    customer_id: str
    version: int = 0
    last_seq: int = 0
    state: str = ""


class Transaction(Protocol):
    """What a session reads and writes inside one store transaction."""

    def lock_customers(self, customer_ids: Sequence[str], *, exclusive: bool) -> None:
        """Hold these customers until the transaction ends (shared, or exclusive)."""
        ...

    def lock_cases(self, case_ids: Sequence[str]) -> None:
        """Hold these cases exclusively until the transaction ends."""
        ...

    def case(self, case_id: str) -> CaseRow | None:
        """The case's row, or None when the store has never seen it."""
        ...

    def customer(self, customer_id: str) -> CustomerRow | None:
        """The customer's row, or None when it has no customer-level events."""
        ...

    def event_by_id(self, event_id: str) -> StoredEvent | None:
        """The stored event with this host-side ``id``, if any."""
        ...

    def case_events(self, case_id: str, after: int) -> list[StoredEvent]:
        """The case's events with ``seq > after``, by ``seq``."""
        ...

    def customer_events(self, customer_id: str, after: int) -> list[StoredEvent]:
        """The customer's customer-level events with ``seq > after``, by ``seq``."""
        ...

    def open_cases(self, customer_id: str) -> list[str]:
        """The open cases whose ``case_opened`` names this customer, sorted."""
        ...

    def add_event(
        self,
        *,
        case_id: str | None,
        case_seq: int | None,
        customer_id: str | None,
        event_id: str | None,
        body: str,
    ) -> int:
        """Store an event; returns its ``seq`` (larger than every ``seq`` stored before)."""
        ...

    def put_case(self, row: CaseRow) -> None:
        """Insert or replace the case's row (and index it under its customers)."""
        ...

    def put_customer(self, row: CustomerRow) -> None:
        """Insert or replace the customer's row."""
        ...


class Store(Protocol):
    """Where a :class:`~tierrules.Session` keeps its events and what it reported.

    Implemented by :class:`~tierrules.MemoryStore`, :class:`~tierrules.SqliteStore` and
    :class:`~tierrules.PostgresStore`.
    """

    def write(self) -> AbstractContextManager[Transaction]:
        """A write transaction: committed (durably) on a normal exit, rolled back on an exception."""
        ...

    def read(self) -> AbstractContextManager[Transaction]:
        """A read-only transaction over one consistent snapshot."""
        ...

    def close(self) -> None:
        """Release the connection; the store cannot be used afterwards."""
        ...
