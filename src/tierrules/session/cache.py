"""The session's in-memory cache: one memo per recently used case and customer, capped.

A memo holds what a session would otherwise read from the store on every append: the
subject's parsed events in arrival order, its report state and the row version they match.
It is only a copy -- the store stays the truth: a memo whose version differs from the row
read under the transaction's lock is brought up to date (only the events after its
``last_seq`` are read), and a memo touched by a transaction that failed is dropped.

A :class:`CaseMemo` is also the object handed to the engine as its per-case cache, once
``Engine.evaluate`` accepts one (``engine_state`` is the engine's to use).
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ..events import EventBase
from .update import ReportState

__all__ = ["CaseMemo", "CustomerMemo", "Lru", "Memo"]

_EPOCH = dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc)


@dataclass(eq=False)
class Memo:
    """A subject's (case's or customer's) events and report state, as of row ``version``."""

    key: str
    version: int = -1
    """The row version this memo matches (-1: not loaded)."""
    last_seq: int = 0
    events: list[tuple[int, EventBase]] = field(default_factory=list)
    """(seq, event) in arrival order."""
    plain: list[EventBase] = field(default_factory=list)
    """The same events without their seqs (what the engine is given: kept, not rebuilt)."""
    latest: dt.datetime = _EPOCH
    """The latest ``at`` among the events (as given: aware datetimes compare as instants)."""
    state: ReportState = field(default_factory=ReportState)
    engine_state: Any = None
    """Reserved for the engine's incremental state (``Engine.evaluate(..., memo=...)``)."""

    def extend(self, events: Iterable[tuple[int, EventBase]]) -> None:
        """Add events that arrived after the ones held (each ``seq`` above ``last_seq``)."""
        for seq, event in events:
            self.events.append((seq, event))
            self.plain.append(event)
            self.last_seq = seq
            if event.at > self.latest:
                self.latest = event.at


@dataclass(eq=False)
class CaseMemo(Memo):
    """A case's memo: its own events, plus the customers and close mark of its row."""

    case_seq: int = 0
    customers: tuple[str, ...] = ()
    closed_seq: int | None = None


@dataclass(eq=False)
class CustomerMemo(Memo):
    """A customer's memo: its customer-level events."""


M = TypeVar("M", bound=Memo)


class Lru(Generic[M]):
    """At most ``cap`` memos, the least recently used dropped first."""

    def __init__(self, cap: int) -> None:
        if cap < 1:
            raise ValueError("the cache needs room for at least one memo")
        self.cap = cap
        self._items: OrderedDict[str, M] = OrderedDict()

    def get(self, key: str) -> M | None:
        memo = self._items.get(key)
        if memo is not None:
            self._items.move_to_end(key)
        return memo

    def put(self, memo: M) -> None:
        self._items[memo.key] = memo
        self._items.move_to_end(memo.key)
        while len(self._items) > self.cap:
            self._items.popitem(last=False)

    def drop(self, key: str) -> None:
        self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: str) -> bool:
        return key in self._items
