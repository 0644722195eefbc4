"""The shared store: PostgreSQL through psycopg 3, for hosts with several processes or machines.

Needs the ``postgres`` extra (``pip install "tierrules[postgres]"``); this module imports
without it, and :class:`PostgresStore` says what to install when it is used.

Concurrency (pessimistic, with row locks): every write transaction locks the rows it
works on with ``SELECT ... FOR UPDATE`` before reading them -- the event's case row, and
for a customer-level event the customer's row and then every open case of the customer --
so two processes appending to one case run one after the other, the second seeing the
first's event and what its update reported. A ``case_opened`` that names a customer also
takes that customer's row ``FOR SHARE``, so a customer-level event running at the same
time either reaches the new case or is seen by it. Rows are locked customers first, then
cases, each in sorted order, so transactions do not deadlock; if the server still aborts
one (a deadlock, two processes storing the same event ``id`` at once), the session runs it
again. A missing row is inserted (``ON CONFLICT DO NOTHING``) before it is locked.

Durability: an append returns after ``COMMIT`` returned, so the event is as durable as the
server's settings make a commit (``synchronous_commit = on``, the default, flushes the WAL).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

from .sql import META_INSERT, META_SELECT, SqlTransaction, check_schema_version, schema
from .store import SCHEMA_VERSION, StoreConflictError, StoreError

if TYPE_CHECKING:
    import psycopg

__all__ = ["MissingDependencyError", "PostgresStore"]

# Serialises schema creation between processes opening a fresh database at once.
_SCHEMA_LOCK = 7_313_013


class MissingDependencyError(StoreError, ImportError):
    """An optional dependency is not installed; the message names the extra that brings it."""


def _pg(sql: str, cache: dict[str, str] = {}) -> str:  # noqa: B006 -- a deliberate memo
    found = cache.get(sql)
    if found is None:
        found = cache[sql] = sql.replace("?", "%s")
    return found


class _PgTransaction(SqlTransaction):
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self._conn.execute(_pg(sql), params)
        return cursor.fetchall() if cursor.description is not None else []

    def lock_customers(self, customer_ids: Sequence[str], *, exclusive: bool) -> None:
        ids = sorted(set(customer_ids))
        if not ids:
            return
        for customer in ids:
            self.run(
                "INSERT INTO tierrules_customers (customer_id, version, last_seq, state) VALUES (?, 0, 0, '')"
                " ON CONFLICT (customer_id) DO NOTHING",
                (customer,),
            )
        mode = "UPDATE" if exclusive else "SHARE"
        self.run(
            "SELECT customer_id FROM tierrules_customers WHERE customer_id = ANY(?)"
            f" ORDER BY customer_id FOR {mode}",
            (ids,),
        )

    def lock_cases(self, case_ids: Sequence[str]) -> None:
        ids = sorted(set(case_ids))
        if not ids:
            return
        for case_id in ids:
            self.run(
                "INSERT INTO tierrules_cases"
                " (case_id, version, last_seq, n_events, customers, closed_seq, state)"
                " VALUES (?, 0, 0, 0, '[]', NULL, '') ON CONFLICT (case_id) DO NOTHING",
                (case_id,),
            )
        self.run(
            "SELECT case_id FROM tierrules_cases WHERE case_id = ANY(?) ORDER BY case_id FOR UPDATE", (ids,)
        )


def _import_psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise MissingDependencyError(
            "PostgresStore needs psycopg 3, which is not installed: "
            "pip install 'tierrules[postgres]' (the postgres extra)"
        ) from None
    return psycopg


class PostgresStore:
    """A :class:`~tierrules.session.Store` in a PostgreSQL database, shared by processes and machines.

    ``dsn`` is a libpq connection string or URI (``"host=db dbname=cases user=app"``,
    ``"postgresql://app@db/cases"``). The tables (``tierrules_*``) are created when missing.
    One connection per store; use one store per process (or thread).
    """

    def __init__(self, dsn: str, *, connect_timeout: int = 30) -> None:
        self._psycopg = _import_psycopg()
        self._closed = False
        self.dsn = dsn
        self._connect_timeout = connect_timeout
        self._lock = threading.RLock()
        self._conn: psycopg.Connection[Any] = self._connect()
        self._create()

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            conn: psycopg.Connection[Any] = self._psycopg.connect(
                self.dsn, autocommit=True, connect_timeout=self._connect_timeout
            )
        except self._psycopg.Error as err:
            raise StoreError(f"cannot connect to PostgreSQL: {err}") from None
        return conn

    def _create(self) -> None:
        with self.write() as txn:
            txn.run("SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK,))
            for statement in schema("BIGSERIAL PRIMARY KEY"):
                txn.run(statement)
            txn.run(META_INSERT, (SCHEMA_VERSION,))
            found = txn.run(META_SELECT)
        check_schema_version(found[0][0] if found else None, "the PostgreSQL database")

    def _error(self, err: Exception) -> StoreError:
        errors = self._psycopg.errors
        retry = (errors.DeadlockDetected, errors.SerializationFailure, errors.UniqueViolation)
        if isinstance(err, retry):
            return StoreConflictError(f"PostgreSQL: {err}")
        return StoreError(f"PostgreSQL: {err}")

    @contextmanager
    def _transaction(self, read_only: bool) -> Iterator[_PgTransaction]:
        with self._lock:
            if self._closed:
                raise StoreError("the store is closed")
            if self._conn.closed:
                self._conn = self._connect()  # the server dropped the connection: a new one
            try:
                with self._conn.transaction():
                    txn = _PgTransaction(self._conn)
                    if read_only:
                        txn.run("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    yield txn
            except self._psycopg.Error as err:
                raise self._error(err) from None

    def write(self) -> AbstractContextManager[_PgTransaction]:
        """A write transaction (READ COMMITTED, with the row locks above); committed on a normal exit."""
        return self._transaction(False)

    def read(self) -> AbstractContextManager[_PgTransaction]:
        """A read-only REPEATABLE READ transaction: one snapshot."""
        return self._transaction(True)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._conn.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
