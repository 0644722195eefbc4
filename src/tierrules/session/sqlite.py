"""The embedded store: one SQLite file (or memory), shared safely by several processes.

Durability: the file is in WAL mode with ``synchronous=FULL``, so a commit returns only
after the write-ahead log is flushed to disk (``fsync``); a process killed at any point
loses nothing it committed, and a power cut loses nothing either. ``synchronous="normal"``
skips the flush at commit: still safe against a killed process (the log is written before
the commit returns), but the last commits can be lost if the machine itself goes down.

Concurrency: a write transaction starts with ``BEGIN IMMEDIATE``, which takes SQLite's
one write lock; other writers (threads or processes) wait for it up to ``timeout`` seconds.
Every write is serialised, so no finer locks are needed. Reads see a snapshot and do not
block writers (WAL).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Literal

from .sql import META_INSERT, META_SELECT, SqlTransaction, check_schema_version, schema
from .store import SCHEMA_VERSION, StoreConflictError, StoreError

__all__ = ["SqliteStore"]


class _SqliteTransaction(SqlTransaction):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._conn.execute(sql, params).fetchall()


def _store_error(err: sqlite3.Error, where: str) -> StoreError:
    text = str(err)
    busy = isinstance(err, sqlite3.OperationalError) and "locked" in text
    if busy or isinstance(err, sqlite3.IntegrityError):
        return StoreConflictError(f"{where}: {text}")
    return StoreError(f"{where}: {text}")


class SqliteStore:
    """A :class:`~tierrules.session.Store` in a SQLite database file (in memory when ``path`` is None).

    >>> import datetime as dt, pathlib, tempfile, tierrules
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "cases.db"
    >>> engine = tierrules.Engine()
    >>> event = {"type": "complaint_registered", "at": "2026-11-24T10:00:00+08:00", "case_id": "c1"}
    >>> now = dt.datetime.fromisoformat("2026-11-24T10:05:00+08:00")
    >>> with tierrules.SqliteStore(path) as store:
    ...     first = tierrules.Session(engine, store=store).append(event, now=now)
    >>> with tierrules.SqliteStore(path) as store:            # reopened: the event is there
    ...     again = tierrules.Session(engine, store=store).decision("c1", now)
    >>> again.to_json() == first.decision.to_json()
    True
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        synchronous: Literal["full", "normal"] = "full",
        timeout: float = 30.0,
    ) -> None:
        if synchronous not in ("full", "normal"):
            raise ValueError(f"synchronous must be 'full' or 'normal', not {synchronous!r}")
        self.path = ":memory:" if path is None else str(Path(path))
        self._lock = threading.RLock()
        try:
            # isolation_level=None: transactions are begun and ended here, explicitly.
            self._conn = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            self._conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            if path is not None:
                mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise StoreError(f"{self.path}: cannot switch to WAL mode (got {mode!r})")
            self._conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
            self._create()
        except sqlite3.Error as err:
            raise _store_error(err, self.path) from None

    def _create(self) -> None:
        with self.write() as txn:
            for statement in schema("INTEGER PRIMARY KEY AUTOINCREMENT"):
                txn.run(statement)
            txn.run(META_INSERT, (SCHEMA_VERSION,))
            found = txn.run(META_SELECT)
        check_schema_version(found[0][0] if found else None, self.path)

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[_SqliteTransaction]:
        with self._lock:
            try:
                self._conn.execute(begin)
            except sqlite3.ProgrammingError as err:  # closed
                raise StoreError(f"{self.path}: {err}") from None
            except sqlite3.Error as err:
                raise _store_error(err, self.path) from None
            try:
                yield _SqliteTransaction(self._conn)
                self._conn.execute("COMMIT")
            except BaseException as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise _store_error(exc, self.path) from None
                raise

    def write(self) -> AbstractContextManager[_SqliteTransaction]:
        """A write transaction (``BEGIN IMMEDIATE``): committed and flushed on a normal exit."""
        return self._transaction("BEGIN IMMEDIATE")

    def read(self) -> AbstractContextManager[_SqliteTransaction]:
        """A read transaction over one snapshot."""
        return self._transaction("BEGIN")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
