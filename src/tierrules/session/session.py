"""A streaming session: events in one at a time, each answered with the decision and what is new.

See docs/sessions.md. The contract: after every append, ``update.decision.to_json()`` is
byte for byte ``engine.evaluate(events, now).to_json()``, where ``events`` are the case's
events and its customer's customer-level events, in the order they arrived.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar, cast

from pydantic_core import PydanticSerializationError

from ..decision import Decision
from ..errors import EventError, Problem
from ..evaluation.engine import Engine
from ..events import CaseOpened, EventBase, limit_problem, parse_event, parse_events
from ..limits import DEFAULT_LIMITS, Limits
from .cache import CaseMemo, CustomerMemo, Lru, Memo
from .memory import MemoryStore
from .store import CaseRow, CustomerRow, Store, StoreConflictError, StoredEvent, StoreError, Transaction
from .update import New, ReportState, Update, diff

__all__ = ["Session"]

T = TypeVar("T")

# A customer-level event names its customer in ``customer_id``; case events may too (case_opened).
_CUSTOMER = "customer"


@dataclass
class _Work:
    """One transaction's context: the store's transaction and the memos it touched."""

    txn: Transaction
    touched: list[Memo] = field(default_factory=list)
    # The memo of each subject this transaction uses: one object per case and customer even
    # when the capped cache drops one midway (a second copy would miss what the first learnt).
    cases: dict[str, CaseMemo] = field(default_factory=dict)
    customers: dict[str, CustomerMemo] = field(default_factory=dict)


@dataclass(frozen=True)
class _Incoming:
    """A validated event and its JSON as stored."""

    event: EventBase
    body: str
    customer: str | None  # the customer of a customer-level event
    named: str | None  # the customer a case_opened names


def _check_now(now: object) -> None:
    # The same problem Engine.evaluate reports (tests/test_session.py keeps them equal).
    if now is not None and (
        not isinstance(now, dt.datetime) or now.tzinfo is None or now.utcoffset() is None
    ):
        raise EventError([Problem("now must be a timezone-aware datetime", ("now",), now)])


def _canonical(event: EventBase) -> str:
    return json.dumps(event.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)


def _incoming(raw: Mapping[str, Any] | EventBase, now: dt.datetime | None, limits: Limits) -> _Incoming:
    """Validate one event exactly as ``Engine.evaluate([raw], now)`` would (index 0)."""
    _check_now(now)
    if limits.max_events is not None and limits.max_events < 1:
        parse_events([raw], limits=limits)  # raises, as evaluate() does: no event is accepted
    event = parse_event(raw, 0)
    problem, _ = limit_problem([event], limits)
    if problem is not None:
        raise EventError([problem])
    if now is not None and event.at > now:
        raise EventError(
            [Problem(f"event is after now ({now.isoformat()})", (0, "at"), event.at.isoformat())]
        )
    try:
        body = event.model_dump_json(exclude_unset=True)
    except PydanticSerializationError as err:
        raise EventError([Problem(f"the event cannot be stored as JSON: {err}", (0, "meta"))]) from None
    customer = getattr(event, "customer_id", None) if event.scope == _CUSTOMER else None
    named = event.customer_id if isinstance(event, CaseOpened) else None
    return _Incoming(event, body, customer, named)


M = TypeVar("M", bound=Memo)


def _claim(work: _Work, held: dict[str, M], cache: Lru[M], key: str, make: Callable[[str], M]) -> M:
    """A subject's memo for this transaction: the cached one or a new one, marked touched."""
    memo = cache.get(key)
    if memo is None:
        memo = make(key)
        cache.put(memo)
    held[key] = memo
    work.touched.append(memo)
    return memo


def _check_same(prior: StoredEvent, incoming: _Incoming) -> None:
    """A stored event with the incoming one's id must be the same event."""
    if _canonical(_parse_stored([prior])[0][1]) != _canonical(incoming.event):
        raise EventError(
            [
                Problem(
                    f"another event with this id is already stored (arrival {prior.seq}, "
                    f"case {prior.case_id!r}); an id names one event",
                    (0, "id"),
                    incoming.event.id,
                )
            ]
        )


def _parse_stored(stored: Sequence[StoredEvent]) -> list[tuple[int, EventBase]]:
    if not stored:
        return []
    try:
        events = parse_events([json.loads(s.body) for s in stored])
    except (EventError, ValueError) as err:
        raise StoreError(
            f"a stored event no longer validates (seqs {stored[0].seq}-{stored[-1].seq}): {err}"
        ) from None
    return [(s.seq, e) for s, e in zip(stored, events, strict=True)]


class Session:
    """Feed a store's cases one event at a time; each append answers with the case's decision.

    ``engine`` is the :class:`~tierrules.Engine` to evaluate with (the bundled default
    policy when None); ``store`` keeps the events and what was reported (a
    :class:`~tierrules.MemoryStore` when None). At most ``cache_size`` cases and as many
    customers are kept in memory (least recently used first out, a closed case at once);
    everything else is read back from the store when needed.

    >>> import datetime as dt, tierrules
    >>> session = tierrules.Session(tierrules.Engine())
    >>> at = lambda text: dt.datetime.fromisoformat(f"2026-11-24T{text}+08:00")
    >>> u = session.append({"type": "escalation_needed", "at": at("10:00:00").isoformat(),
    ...                     "case_id": "c1", "agent_level": 1}, now=at("10:00:00"))
    >>> [o.status for o in u.decision.obligations], len(u.new)
    (['pending'], 0)
    >>> u = session.refresh("c1", now=at("10:30:00"))       # at next_check_at: no new event
    >>> [o.rule for o in u.new.breaches], [e.to_level for e in u.new.escalations]
    (['E1.escalate'], [2])
    >>> session.refresh("c1", now=at("10:31:00")).new.breaches   # reported once
    []
    """

    def __init__(
        self,
        engine: Engine | None = None,
        *,
        store: Store | None = None,
        cache_size: int = 1024,
        retries: int = 50,
    ) -> None:
        self.engine = engine if engine is not None else Engine()
        self.store: Store = store if store is not None else MemoryStore()
        self._cases: Lru[CaseMemo] = Lru(cache_size)
        self._customers: Lru[CustomerMemo] = Lru(cache_size)
        self._retries = retries
        self._lock = threading.RLock()
        # The engine seam: Engine.evaluate gains an optional per-case cache argument.
        self._engine_takes_memo = "memo" in inspect.signature(self.engine.evaluate).parameters

    # ------------------------------------------------------------------ public API

    def append(self, event: Mapping[str, Any] | EventBase, now: dt.datetime | None) -> Update:
        """Store ``event`` (a dict in the JSON form, or an event model) and decide its case at ``now``.

        Returns after the event is committed to the store. ``now=None`` means the latest
        ``at`` among the events the update evaluates (this one included): a stream's own clock.
        A customer-level event (``customer_profile``, ``tier_override``, ``care_contacted``)
        reaches every open case of its customer: their updates are in ``update.cases``.

        Raises :class:`~tierrules.EventError` with the errors ``Engine.evaluate([event], now)``
        gives for a malformed event; also for an ``id`` already stored with other content, an
        event of a closed case, or a ``now`` before an event already stored for the case. A
        refused event leaves the store unchanged. An event whose ``id`` is already stored with
        the same content is not stored again: ``update.duplicate`` is True.
        """
        # An engine-like object without limits (a host's wrapper) gets the defaults.
        incoming = _incoming(event, now, getattr(self.engine, "limits", DEFAULT_LIMITS))
        return self._transact(lambda work: self._append(work, incoming, now))

    def decision(self, case_id: str, now: dt.datetime) -> Decision:
        """The case's decision at ``now``, from what is stored; changes nothing.

        Call it at the decision's ``next_check_at``. A closed case keeps the events it had
        (and its customer's events from before it closed).
        """
        _check_now(now)
        with self._lock, self.store.read() as txn:
            work = _Work(txn)
            memo = self._known_case(work, case_id)
            when = self._now(now, self._latest(work, memo))
            return self._evaluate(memo, self._case_events(work, memo), when)

    def refresh(self, case_id: str, now: dt.datetime) -> Update:
        """Like :meth:`decision`, with what appeared since the case's previous update (now reported)."""
        _check_now(now)
        return self._transact(lambda work: self._refresh(work, case_id, now))

    def customer_decision(self, customer_id: str, now: dt.datetime) -> Decision:
        """The decision for the customer's customer-level events alone (tiers, care cadences)."""
        _check_now(now)
        with self._lock, self.store.read() as txn:
            work = _Work(txn)
            memo = self._customer_memo(work, customer_id)
            if not memo.events:
                raise EventError([Problem("no such customer in the store", ("customer_id",), customer_id)])
            return self._evaluate(memo, [e for _, e in memo.events], self._now(now, self._latest(work, memo)))

    def close_case(self, case_id: str) -> None:
        """Archive the case: no more events for it, and its cached state is freed.

        Its events stay in the store for reports (:meth:`decision`, :meth:`events`); its
        customer's later events no longer reach it. Closing a closed case does nothing.
        """
        self._transact(lambda work: self._close(work, case_id))
        with self._lock:
            self._cases.drop(case_id)

    def events(self, case_id: str) -> list[EventBase]:
        """The case's own events, in the order they arrived."""
        with self._lock, self.store.read() as txn:
            return [e for _, e in self._known_case(_Work(txn), case_id).events]

    def customer_events(self, customer_id: str) -> list[EventBase]:
        """The customer's customer-level events, in the order they arrived."""
        with self._lock, self.store.read() as txn:
            return [e for _, e in self._customer_memo(_Work(txn), customer_id).events]

    def cache_info(self) -> dict[str, int]:
        """How many cases and customers are cached now, and the cap on each."""
        with self._lock:
            return {"cases": len(self._cases), "customers": len(self._customers), "cap": self._cases.cap}

    # ------------------------------------------------------------------ transactions

    def _transact(self, work: Callable[[_Work], T]) -> T:
        """Run ``work`` in a write transaction, again on a conflict; a failed run's memos are dropped."""
        with self._lock:
            attempt = 0
            while True:
                current: _Work | None = None
                try:
                    with self.store.write() as txn:
                        current = _Work(txn)
                        return work(current)
                except StoreConflictError:
                    self._forget(current)
                    attempt += 1
                    if attempt > self._retries:
                        raise
                    time.sleep(min(0.05, 0.001 * 2**attempt))
                except BaseException:
                    self._forget(current)
                    raise

    def _forget(self, work: _Work | None) -> None:
        for memo in work.touched if work is not None else ():
            (self._cases if isinstance(memo, CaseMemo) else self._customers).drop(memo.key)

    def _append(self, work: _Work, incoming: _Incoming, now: dt.datetime | None) -> Update:
        event, txn = incoming.event, work.txn
        reached = self._lock_for(txn, incoming)
        prior = txn.event_by_id(event.id) if event.id is not None else None
        if prior is not None:
            _check_same(prior, incoming)
            return self._deliver(work, incoming, reached, now, prior.seq, prior.case_seq, duplicate=True)
        if event.case_id is not None:
            row = txn.case(event.case_id)
            if row is not None and row.closed_seq is not None:
                raise EventError(
                    [Problem("the case is closed: it takes no more events", (0, "case_id"), event.case_id)]
                )
        return self._deliver(work, incoming, reached, now, None, None, duplicate=False)

    def _lock_for(self, txn: Transaction, incoming: _Incoming) -> list[str]:
        """Lock what the event touches (customers first); returns the open cases it reaches."""
        if incoming.customer is not None:
            txn.lock_customers([incoming.customer], exclusive=True)
        elif incoming.named is not None:
            txn.lock_customers([incoming.named], exclusive=False)
        reached = txn.open_cases(incoming.customer) if incoming.customer is not None else []
        case_id = incoming.event.case_id
        txn.lock_cases(sorted({*reached, *([case_id] if case_id is not None else [])}))
        return reached

    def _deliver(
        self,
        work: _Work,
        incoming: _Incoming,
        reached: list[str],
        now: dt.datetime | None,
        seq: int | None,
        case_seq: int | None,
        *,
        duplicate: bool,
    ) -> Update:
        """Load what the event touches, store it (unless a duplicate), and answer every case it reaches."""
        event = incoming.event
        main: Memo = (
            self._case_memo(work, event.case_id)
            if event.case_id is not None
            else self._customer_memo(work, cast(str, incoming.customer))
        )
        others = [self._case_memo(work, c) for c in reached if c != event.case_id]
        owner = self._customer_memo(work, incoming.customer) if incoming.customer is not None else None
        latest = [(event.at, "the event"), *self._latest(work, main, incoming.named)]
        for memo in others:
            latest += self._latest(work, memo)
        when = self._now(now, latest)
        if seq is None:
            seq, case_seq = self._store_event(work, incoming, main, owner)
        updates = {
            memo.key: self._answer(work, memo, when, seq, replay=duplicate)
            for memo in others
            if isinstance(memo, CaseMemo)
        }
        new, decision = self._answer_parts(work, main, when, seq, replay=duplicate, stored=not duplicate)
        return Update(
            case_id=event.case_id,
            customer_id=incoming.customer,
            now=when,
            decision=decision,
            new=new,
            event=event,
            seq=case_seq,
            duplicate=duplicate,
            cases={
                k: replace(u, customer_id=incoming.customer, event=event, duplicate=duplicate)
                for k, u in updates.items()
            },
        )

    def _store_event(
        self, work: _Work, incoming: _Incoming, main: Memo, owner: CustomerMemo | None
    ) -> tuple[int, int | None]:
        """Insert the event and add it to the memos it belongs to; returns (seq, case_seq)."""
        event = incoming.event
        case_seq = main.case_seq + 1 if isinstance(main, CaseMemo) else None
        seq = work.txn.add_event(
            case_id=event.case_id,
            case_seq=case_seq,
            customer_id=incoming.customer,
            event_id=event.id,
            body=incoming.body,
        )
        if isinstance(main, CaseMemo):
            main.extend([(seq, event)])
            main.case_seq = cast(int, case_seq)
            if incoming.named is not None and incoming.named not in main.customers:
                main.customers = tuple(sorted({*main.customers, incoming.named}))
        if owner is not None:
            owner.extend([(seq, event)])
            if owner is not main:  # else saved with its update
                self._save(work, owner)
        return seq, case_seq

    def _answer(self, work: _Work, memo: CaseMemo, now: dt.datetime, seq: int, *, replay: bool) -> Update:
        """One reached case's update (written back only when it reported something)."""
        new, decision = self._answer_parts(work, memo, now, seq, replay=replay, stored=False)
        return Update(case_id=memo.key, customer_id=None, now=now, decision=decision, new=new)

    def _answer_parts(
        self, work: _Work, memo: Memo, now: dt.datetime, seq: int, *, replay: bool, stored: bool
    ) -> tuple[New, Decision]:
        """Decide ``memo``'s subject at ``now`` and diff against what it reported; save when changed."""
        events = self._case_events(work, memo) if isinstance(memo, CaseMemo) else list(memo.plain)
        decision = self._evaluate(memo, events, now)
        new, changed = diff(decision, memo.state, seq, replay=replay)
        if changed or stored:
            self._save(work, memo)
        return new, decision

    def _refresh(self, work: _Work, case_id: str, now: dt.datetime) -> Update:
        work.txn.lock_cases([case_id])
        memo = self._known_case(work, case_id)
        when = self._now(now, self._latest(work, memo))
        new, decision = self._answer_parts(work, memo, when, 0, replay=False, stored=False)
        return Update(case_id=case_id, customer_id=None, now=when, decision=decision, new=new)

    def _close(self, work: _Work, case_id: str) -> None:
        txn = work.txn
        first = self._known_row(txn, case_id)
        txn.lock_customers(first.customers, exclusive=False)
        txn.lock_cases([case_id])
        row = self._known_row(txn, case_id)
        if row.customers != first.customers:  # a case_opened named another customer meanwhile
            raise StoreConflictError(f"case {case_id!r} changed while closing it")
        if row.closed_seq is not None:
            return
        customers = [txn.customer(c) for c in row.customers]
        closed_seq = max([row.last_seq, *(c.last_seq for c in customers if c is not None)])
        txn.put_case(replace(row, version=row.version + 1, closed_seq=closed_seq))

    # ------------------------------------------------------------------ memos

    def _known_row(self, txn: Transaction, case_id: str) -> CaseRow:
        row = txn.case(case_id)
        if row is None or row.count == 0:
            raise EventError([Problem("no such case in the store", ("case_id",), case_id)])
        return row

    def _known_case(self, work: _Work, case_id: str) -> CaseMemo:
        self._known_row(work.txn, case_id)
        return self._case_memo(work, case_id)

    def _case_memo(self, work: _Work, case_id: str) -> CaseMemo:
        """The case's memo, brought up to date with its row (once per transaction: it holds the
        row's lock, and its own writes keep the memo and the row in step)."""
        memo = work.cases.get(case_id)
        if memo is not None:
            return memo
        row = work.txn.case(case_id) or CaseRow(case_id)
        memo = _claim(work, work.cases, self._cases, case_id, CaseMemo)
        if memo.version != row.version:
            memo.extend(_parse_stored(work.txn.case_events(case_id, memo.last_seq)))
            memo.version, memo.case_seq, memo.customers = row.version, row.count, row.customers
            memo.closed_seq = row.closed_seq
            memo.state = ReportState.loads(row.state)
        if memo.closed_seq is not None:  # read for a report: not worth a place in the cache
            self._cases.drop(case_id)
        return memo

    def _customer_memo(self, work: _Work, customer_id: str) -> CustomerMemo:
        """The customer's memo, brought up to date with its row (once per transaction)."""
        memo = work.customers.get(customer_id)
        if memo is not None:
            return memo
        row = work.txn.customer(customer_id) or CustomerRow(customer_id)
        memo = _claim(work, work.customers, self._customers, customer_id, CustomerMemo)
        if memo.version != row.version:
            memo.extend(_parse_stored(work.txn.customer_events(customer_id, memo.last_seq)))
            memo.version = row.version
            memo.state = ReportState.loads(row.state)
        return memo

    def _case_customers(self, work: _Work, memo: CaseMemo, extra: str | None = None) -> list[CustomerMemo]:
        names = sorted({*memo.customers, *([extra] if extra is not None else [])})
        return [self._customer_memo(work, c) for c in names]

    # Complexity C: the case's own events merged with its customers' customer-level ones in arrival
    # order, cut at the close mark; the common case (no customer events) returns the kept list.
    def _case_events(self, work: _Work, memo: CaseMemo) -> list[EventBase]:
        """The case's events and its customers' customer-level events, in arrival order."""
        parts = [m.events for m in self._case_customers(work, memo) if m.events]
        if not parts and memo.closed_seq is None:
            return list(memo.plain)  # a snapshot: the memo grows with later appends
        if not parts:
            merged = memo.events
        else:  # an event can be both (a customer-level event naming this case)
            merged = sorted(dict(item for part in (memo.events, *parts) for item in part).items())
        if memo.closed_seq is not None:
            merged = [(seq, e) for seq, e in merged if seq <= memo.closed_seq]
        return [e for _, e in merged]

    def _save(self, work: _Work, memo: Memo) -> None:
        """Write the memo's subject row back (a new version)."""
        memo.version += 1
        if isinstance(memo, CaseMemo):
            work.txn.put_case(
                CaseRow(
                    memo.key,
                    memo.version,
                    memo.last_seq,
                    memo.case_seq,
                    memo.customers,
                    memo.closed_seq,
                    memo.state.dumps(),
                )
            )
        else:
            work.txn.put_customer(CustomerRow(memo.key, memo.version, memo.last_seq, memo.state.dumps()))

    def _latest(self, work: _Work, memo: Memo, extra: str | None = None) -> list[tuple[dt.datetime, str]]:
        """The latest instant of each event list ``memo``'s decision reads, with what it belongs to."""
        if not isinstance(memo, CaseMemo):
            return [(memo.latest, f"customer {memo.key!r}")] if memo.events else []
        if memo.closed_seq is not None:  # its customers' later events are left out
            events = self._case_events(work, memo)
            return [(max(e.at for e in events), f"case {memo.key!r}")] if events else []
        found = [(memo.latest, f"case {memo.key!r}")] if memo.events else []
        return found + [x for m in self._case_customers(work, memo, extra) for x in self._latest(work, m)]

    def _now(self, now: dt.datetime | None, latest: Iterable[tuple[dt.datetime, str]]) -> dt.datetime:
        """``now``, checked against the latest events involved; None: the latest of them."""
        last = max(latest, key=lambda item: item[0], default=None)
        if now is None:
            if last is None:
                raise EventError([Problem("now is needed: there are no events", ("now",))])
            return last[0]
        if last is not None and last[0] > now:
            raise EventError(
                [
                    Problem(
                        f"now is before an event of {last[1]} ({last[0].isoformat()}); "
                        "evaluating then would leave it out",
                        ("now",),
                        now.isoformat(),
                    )
                ]
            )
        return now

    # ------------------------------------------------------------------ the engine seam

    def _evaluate(self, memo: Memo, events: list[EventBase], now: dt.datetime) -> Decision:
        """THE ENGINE SEAM: every decision a session gives comes from this one call.

        Today the engine re-evaluates the subject's whole history (exact by construction).
        Once ``Engine.evaluate`` accepts a per-case cache (``memo=``), the subject's memo is
        handed to it -- kept by this session, capped, dropped when the case closes or a
        transaction fails -- so that it pays only for what is new.
        """
        if self._engine_takes_memo:
            return cast(Decision, cast(Any, self.engine).evaluate(events, now, memo=memo))
        return self.engine.evaluate(events, now)
