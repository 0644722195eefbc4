"""The tables and queries SQLite and PostgreSQL stores share.

Four tables (prefixed ``tierrules_`` so that a shared PostgreSQL database stays tidy):

- ``events``: one row per event, ``seq`` the store-wide arrival number (the primary key),
  its case and ``case_seq``, the customer of a customer-level event, the host's ``event_id``
  (unique) and the JSON ``body``; indexed by (case, seq) and (customer, seq), and (case,
  case_seq) unique;
- ``cases``: one row per case (:class:`~.store.CaseRow`; ``customers`` as a JSON list);
- ``case_customers``: (customer, case) pairs, to find a customer's open cases;
- ``customers``: one row per customer (:class:`~.store.CustomerRow`);

plus ``meta`` holding the schema version. Queries are written with ``?`` placeholders;
the PostgreSQL store rewrites them to ``%s``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .store import SCHEMA_VERSION, CaseRow, CustomerRow, StoredEvent, StoreError

__all__ = ["SqlTransaction", "schema"]

_EVENT_COLUMNS = "seq, case_id, case_seq, customer_id, event_id, body"


def schema(seq_column: str) -> list[str]:
    """The statements creating the tables; ``seq_column`` is the dialect's auto-numbered key."""
    return [
        f"""CREATE TABLE IF NOT EXISTS tierrules_events (
            seq {seq_column},
            case_id TEXT,
            case_seq INTEGER,
            customer_id TEXT,
            event_id TEXT UNIQUE,
            body TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS tierrules_events_case ON tierrules_events (case_id, seq)",
        # Belt and braces under the locks: two events can never share a place in a case.
        "CREATE UNIQUE INDEX IF NOT EXISTS tierrules_events_case_seq ON tierrules_events (case_id, case_seq)",
        "CREATE INDEX IF NOT EXISTS tierrules_events_customer ON tierrules_events (customer_id, seq)",
        """CREATE TABLE IF NOT EXISTS tierrules_cases (
            case_id TEXT PRIMARY KEY,
            version BIGINT NOT NULL,
            last_seq BIGINT NOT NULL,
            n_events BIGINT NOT NULL,
            customers TEXT NOT NULL,
            closed_seq BIGINT,
            state TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS tierrules_case_customers (
            customer_id TEXT NOT NULL,
            case_id TEXT NOT NULL,
            PRIMARY KEY (customer_id, case_id))""",
        """CREATE TABLE IF NOT EXISTS tierrules_customers (
            customer_id TEXT PRIMARY KEY,
            version BIGINT NOT NULL,
            last_seq BIGINT NOT NULL,
            state TEXT NOT NULL)""",
        "CREATE TABLE IF NOT EXISTS tierrules_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ]


META_INSERT = "INSERT INTO tierrules_meta (key, value) VALUES ('schema', ?) ON CONFLICT (key) DO NOTHING"
META_SELECT = "SELECT value FROM tierrules_meta WHERE key = 'schema'"


def check_schema_version(found: str | None, where: str) -> None:
    """Refuse a store written by another version of the schema."""
    if found != SCHEMA_VERSION:
        raise StoreError(
            f"{where} holds a tierrules session store of schema version {found!r}; "
            f"this tierrules reads version {SCHEMA_VERSION!r}"
        )


def _event(row: Sequence[Any]) -> StoredEvent:
    return StoredEvent(int(row[0]), row[1], row[2], row[3], row[4], row[5])


class SqlTransaction:
    """The queries of :class:`~.store.Transaction` over a DB-API style ``run(sql, params)``.

    Subclasses provide :meth:`run` (returning all rows) and, where the database has
    row locks, :meth:`lock_customers` and :meth:`lock_cases`.
    """

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def lock_customers(self, customer_ids: Sequence[str], *, exclusive: bool) -> None:
        """Nothing to do where a write transaction already excludes every other (SQLite)."""

    def lock_cases(self, case_ids: Sequence[str]) -> None:
        """Nothing to do where a write transaction already excludes every other (SQLite)."""

    def case(self, case_id: str) -> CaseRow | None:
        rows = self.run(
            "SELECT version, last_seq, n_events, customers, closed_seq, state FROM tierrules_cases"
            " WHERE case_id = ?",
            (case_id,),
        )
        if not rows:
            return None
        version, last_seq, count, customers, closed_seq, state = rows[0]
        return CaseRow(
            case_id,
            int(version),
            int(last_seq),
            int(count),
            tuple(json.loads(customers)),
            None if closed_seq is None else int(closed_seq),
            state,
        )

    def customer(self, customer_id: str) -> CustomerRow | None:
        rows = self.run(
            "SELECT version, last_seq, state FROM tierrules_customers WHERE customer_id = ?", (customer_id,)
        )
        if not rows:
            return None
        version, last_seq, state = rows[0]
        return CustomerRow(customer_id, int(version), int(last_seq), state)

    def event_by_id(self, event_id: str) -> StoredEvent | None:
        rows = self.run(f"SELECT {_EVENT_COLUMNS} FROM tierrules_events WHERE event_id = ?", (event_id,))
        return _event(rows[0]) if rows else None

    def case_events(self, case_id: str, after: int) -> list[StoredEvent]:
        rows = self.run(
            f"SELECT {_EVENT_COLUMNS} FROM tierrules_events WHERE case_id = ? AND seq > ? ORDER BY seq",
            (case_id, after),
        )
        return [_event(row) for row in rows]

    def customer_events(self, customer_id: str, after: int) -> list[StoredEvent]:
        rows = self.run(
            f"SELECT {_EVENT_COLUMNS} FROM tierrules_events WHERE customer_id = ? AND seq > ? ORDER BY seq",
            (customer_id, after),
        )
        return [_event(row) for row in rows]

    def open_cases(self, customer_id: str) -> list[str]:
        rows = self.run(
            "SELECT cc.case_id FROM tierrules_case_customers cc"
            " JOIN tierrules_cases c ON c.case_id = cc.case_id"
            " WHERE cc.customer_id = ? AND c.closed_seq IS NULL ORDER BY cc.case_id",
            (customer_id,),
        )
        return [row[0] for row in rows]

    def add_event(
        self,
        *,
        case_id: str | None,
        case_seq: int | None,
        customer_id: str | None,
        event_id: str | None,
        body: str,
    ) -> int:
        rows = self.run(
            "INSERT INTO tierrules_events (case_id, case_seq, customer_id, event_id, body)"
            " VALUES (?, ?, ?, ?, ?) RETURNING seq",
            (case_id, case_seq, customer_id, event_id, body),
        )
        return int(rows[0][0])

    def put_case(self, row: CaseRow) -> None:
        self.run(
            "INSERT INTO tierrules_cases (case_id, version, last_seq, n_events, customers, closed_seq, state)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (case_id) DO UPDATE SET"
            " version = excluded.version, last_seq = excluded.last_seq, n_events = excluded.n_events,"
            " customers = excluded.customers, closed_seq = excluded.closed_seq, state = excluded.state",
            (
                row.case_id,
                row.version,
                row.last_seq,
                row.count,
                json.dumps(list(row.customers)),
                row.closed_seq,
                row.state,
            ),
        )
        for customer in row.customers:
            self.run(
                "INSERT INTO tierrules_case_customers (customer_id, case_id) VALUES (?, ?)"
                " ON CONFLICT (customer_id, case_id) DO NOTHING",
                (customer, row.case_id),
            )

    def put_customer(self, row: CustomerRow) -> None:
        self.run(
            "INSERT INTO tierrules_customers (customer_id, version, last_seq, state) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (customer_id) DO UPDATE SET"
            " version = excluded.version, last_seq = excluded.last_seq, state = excluded.state",
            (row.customer_id, row.version, row.last_seq, row.state),
        )
