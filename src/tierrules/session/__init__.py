"""Streaming sessions with durable state: events in one at a time, each answered at once.

A :class:`Session` keeps every case's events in a :class:`Store` and answers each
:meth:`~Session.append` with an :class:`Update`: the case's decision -- byte for byte what
``Engine.evaluate`` gives for the case's events so far -- and what is :class:`New` in it
since the case's previous update. Stores: :class:`MemoryStore` (this process only),
:class:`SqliteStore` (a file, several processes), :class:`PostgresStore` (a shared server,
the ``postgres`` extra). See docs/sessions.md.
"""

from .cache import CaseMemo, CustomerMemo
from .memory import MemoryStore
from .postgres import MissingDependencyError, PostgresStore
from .session import Session
from .sqlite import SqliteStore
from .store import CaseRow, CustomerRow, Store, StoreConflictError, StoredEvent, StoreError, Transaction
from .update import New, Update

__all__ = [
    "CaseMemo",
    "CaseRow",
    "CustomerMemo",
    "CustomerRow",
    "MemoryStore",
    "MissingDependencyError",
    "New",
    "PostgresStore",
    "Session",
    "SqliteStore",
    "Store",
    "StoreConflictError",
    "StoreError",
    "StoredEvent",
    "Transaction",
    "Update",
]
