"""The differential test of issue 13: a session agrees with evaluate() byte for byte on random streams.

Streams are built from ``tierrules.testing``: whole case histories (``case_events``, with
customers, profiles, overrides and care contacts) for up to three cases, plus events of
any type of the vocabulary (``testing.events()``) placed among them; merged in time order
and then jittered, so events of a case arrive out of order, and cases and customers
interleave. Some events carry ids; some are delivered twice (a duplicate) and some ids are
reused by another event (refused). Between appends the session is restarted from its
store, and cases are closed. After every append, the update's decision -- and each
reached case's -- must be byte for byte ``Engine.evaluate`` over the oracle's events
(tests/support/streams.py), at the same ``now``, and the session must have handed the
engine exactly those events in their arrival order; at the end every breach and escalation
of every case has been reported as new (once, duplicates' replays aside).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import hypothesis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tierrules
from tierrules import testing

from .support.streams import CUSTOMER_TYPES, case_history, customer_history

T = TypeVar("T")
RULESET = tierrules.load_ruleset()
ENGINE = tierrules.Engine(RULESET)


class _Recording(tierrules.Engine):
    """The session's engine: records the event lists it is given, to check their order too."""

    def __init__(self) -> None:
        super().__init__(RULESET)
        self.calls: list[list[Any]] = []

    def evaluate(self, events: Any, now: dt.datetime) -> tierrules.Decision:
        events = list(events)
        self.calls.append(events)
        return super().evaluate(events, now)


SESSION_ENGINE = _Recording()


def _dumped(events: Sequence[Any]) -> str:
    return json.dumps([e.model_dump(mode="json") for e in tierrules.parse_events(events)], sort_keys=True)


STEPS = (None, 0, 59, 3600, 2 * 86400)  # now: None (the latest event), or the latest event + seconds
_NAMESPACE = itertools.count()

Op = tuple[Any, ...]


class _Draw:
    """A ``tierrules.testing.Chooser`` over hypothesis draws."""

    def __init__(self, draw: st.DrawFn) -> None:
        self._draw = draw

    def choice(self, options: Sequence[T]) -> T:
        return self._draw(st.sampled_from(options))

    def integer(self, low: int, high: int) -> int:
        return self._draw(st.integers(low, high))

    def boolean(self) -> bool:
        return self._draw(st.booleans())


def _at(event: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(event["at"])


def _events(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Case histories and loose events of any type, in time order."""
    ch = _Draw(draw)
    n_cases = draw(st.integers(1, 3))
    events: list[dict[str, Any]] = []
    for k in range(n_cases):
        for event in testing.case_events(ch, RULESET, max_starts=3):
            if event.get("case_id") is not None:
                event["case_id"] = f"k{k}"
            events.append(event)
    for _ in range(draw(st.integers(0, 4))):
        extra = draw(testing.events())
        anchor = draw(st.sampled_from(events))
        extra["at"] = (
            _at(anchor) + dt.timedelta(seconds=draw(st.sampled_from((0, 1, 30, 600, 7200))))
        ).isoformat()
        if extra.get("case_id") is not None or extra["type"] not in CUSTOMER_TYPES:
            extra["case_id"] = f"k{draw(st.integers(0, n_cases - 1))}"
        if "customer_id" in extra:
            extra["customer_id"] = draw(st.sampled_from(("C-1", "C-2", "C-3")))
        events.append(extra)
    events.sort(key=_at)
    return events


@st.composite
def streams(draw: st.DrawFn) -> list[Op]:
    """What a host does: appends (event, now step), restarts and case closes."""
    events = _events(draw)
    for i, event in enumerate(events):
        if draw(st.integers(0, 2)) == 0:
            event["id"] = f"e{i}"
    # Arrival order: time order jittered (out of order within a case), some far out of place.
    keys = [
        i + draw(st.integers(0, 4)) if draw(st.integers(0, 5)) else draw(st.integers(0, len(events)))
        for i in range(len(events))
    ]
    arrivals = [e for _, e in sorted(zip(keys, events, strict=True), key=lambda p: p[0])]
    with_ids = [e for e in arrivals if "id" in e]
    for _ in range(draw(st.integers(0, 3)) if with_ids else 0):
        original = draw(st.sampled_from(with_ids))
        position = draw(st.integers(arrivals.index(original) + 1, len(arrivals)))
        again = dict(original)
        if draw(st.integers(0, 3)) == 0:  # the same id on another event: refused
            again["at"] = (_at(original) + dt.timedelta(seconds=1)).isoformat()
        arrivals.insert(position, again)
    ops: list[Op] = [("append", e, draw(st.sampled_from(STEPS))) for e in arrivals]
    for _ in range(draw(st.integers(0, 2))):
        ops.insert(draw(st.integers(0, len(ops))), ("restart",))
    if draw(st.booleans()):
        ops.insert(draw(st.integers(0, len(ops))), ("close", f"k{draw(st.integers(0, 2))}"))
    return ops


def _namespaced(event: dict[str, Any], ns: str) -> dict[str, Any]:
    """Ids unique to one example, so that examples can share a database."""
    out = dict(event)
    for key in ("case_id", "customer_id", "id"):
        if out.get(key) is not None:
            out[key] = f"{ns}{out[key]}"
    return out


class _Oracle:
    """What has been applied, closed, and what every update must say (independent of the session)."""

    def __init__(self) -> None:
        self.applied: list[dict[str, Any]] = []
        self.closed: dict[str, int] = {}  # case -> how many events were applied when it closed

    def history(self, case_id: str) -> list[dict[str, Any]]:
        upto = self.closed.get(case_id, len(self.applied))
        return case_history(self.applied[:upto], case_id)

    def known(self, case_id: str) -> bool:
        return any(e.get("case_id") == case_id for e in self.applied)

    def reached(self, event: dict[str, Any]) -> list[str]:
        if event["type"] not in CUSTOMER_TYPES:
            return []
        opened = {
            e["case_id"]
            for e in self.applied
            if e["type"] == "case_opened" and e.get("customer_id") == event["customer_id"]
        }
        return sorted(opened - set(self.closed) - {event.get("case_id")})

    def prior(self, event: dict[str, Any]) -> dict[str, Any] | None:
        return next(
            (e for e in self.applied if event.get("id") is not None and e.get("id") == event["id"]), None
        )


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    parse = tierrules.parse_events
    return bool(parse([a])[0].model_dump(mode="json") == parse([b])[0].model_dump(mode="json"))


def _check_append(
    session: tierrules.Session, oracle: _Oracle, event: dict[str, Any], step: int | None
) -> Any:
    prior = oracle.prior(event)
    if prior is not None and not _same(prior, event):
        hypothesis.event("an id reused: refused")
        with pytest.raises(tierrules.EventError, match="already stored"):
            session.append(event, now=None)
        return None
    duplicate = prior is not None
    if not duplicate and event.get("case_id") in oracle.closed:
        hypothesis.event("an event of a closed case: refused")
        with pytest.raises(tierrules.EventError, match="closed"):
            session.append(event, now=None)
        return None
    if not duplicate:
        oracle.applied.append(event)
    case_id = event.get("case_id")
    main = (
        oracle.history(case_id)
        if case_id is not None
        else customer_history(oracle.applied, event["customer_id"])
    )
    reached = oracle.reached(event)
    latest = max(_at(e) for e in [event, *main, *(e for c in reached for e in oracle.history(c))])
    now = latest if step is None else max(_at(e) for e in oracle.applied) + dt.timedelta(seconds=step)
    SESSION_ENGINE.calls.clear()
    update = session.append(event, now=None if step is None else now)
    # Today's engine does not care about the order of events; the next one breaks ties at an
    # instant by arrival order, so the session must pass every list in arrival order.
    expected_lists = [main, *(oracle.history(c) for c in reached)]
    assert sorted(map(_dumped, SESSION_ENGINE.calls)) == sorted(map(_dumped, expected_lists))
    assert update.duplicate is duplicate
    assert update.now == now
    assert update.decision.to_json() == ENGINE.evaluate(main, now).to_json()
    assert sorted(update.cases) == reached
    hypothesis.event("a duplicate" if duplicate else "applied")
    if reached:
        hypothesis.event("a customer event reached other cases")
    for other in reached:
        assert update.cases[other].decision.to_json() == ENGINE.evaluate(oracle.history(other), now).to_json()
    return update


def _run(ops: list[Op], open_store: Callable[[], tierrules.Store], ns: str) -> None:
    stores = [open_store()]
    session = tierrules.Session(SESSION_ENGINE, store=stores[-1], cache_size=2)
    oracle = _Oracle()
    reported: dict[str, list[str]] = {}
    for op in ops:
        if op[0] == "restart":
            stores.append(open_store())
            session = tierrules.Session(SESSION_ENGINE, store=stores[-1], cache_size=2)
        elif op[0] == "close":
            case_id = ns + op[1]
            if oracle.known(case_id):
                session.close_case(case_id)
                oracle.closed.setdefault(case_id, len(oracle.applied))
            else:
                with pytest.raises(tierrules.EventError, match="no such case"):
                    session.close_case(case_id)
        else:
            update = _check_append(session, oracle, _namespaced(op[1], ns), op[2])
            for u in [update, *update.cases.values()] if update is not None else []:
                # A duplicate replays what its event reported first: counted apart.
                kind = "replayed" if update.duplicate else "new"
                reported.setdefault(f"{kind}:{u.case_id}", []).extend(
                    f"breach:{o.id}" for o in u.new.breaches
                )
    _check_the_end(session, oracle, reported)
    for store in {id(s): s for s in stores}.values():
        store.close()


def _check_the_end(session: tierrules.Session, oracle: _Oracle, reported: dict[str, list[str]]) -> None:
    """Read back; every breach was reported as new, and only once by the updates of new events."""
    later = max(_at(e) for e in oracle.applied) + dt.timedelta(days=3)
    for case_id in sorted({e["case_id"] for e in oracle.applied if e.get("case_id") is not None}):
        history = oracle.history(case_id)
        assert session.decision(case_id, later).to_json() == ENGINE.evaluate(history, later).to_json()
        last = session.refresh(case_id, later)
        keys = reported.get(f"new:{case_id}", []) + [f"breach:{o.id}" for o in last.new.breaches]
        assert len(keys) == len(set(keys)), f"{case_id}: a breach reported twice"
        breached = {f"breach:{o.id}" for o in last.decision.obligations if o.status == "breached"}
        ever = set(keys) | set(reported.get(f"replayed:{case_id}", []))
        assert breached <= ever, f"{case_id}: a breach never reported"


PROPERTY = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@PROPERTY
@given(streams())
def test_a_session_on_sqlite_is_evaluate_on_random_streams(ops: list[Op]) -> None:
    path = Path(tempfile.mkdtemp(prefix="tr-session-")) / "cases.db"
    _run(ops, lambda: tierrules.SqliteStore(path, synchronous="normal"), "")


@pytest.fixture(scope="module")
def shared_postgres(postgres_cluster: Any) -> Iterator[str]:
    """One database for every example (each example's ids are its own)."""
    name = f"t_props_{next(_NAMESPACE)}"
    dsn = postgres_cluster.create_database(name)
    yield dsn
    postgres_cluster.drop_database(name)


@settings(PROPERTY, max_examples=15)
@given(ops=streams())
def test_a_session_on_postgres_is_evaluate_on_random_streams(shared_postgres: str, ops: list[Op]) -> None:
    _run(ops, lambda: tierrules.PostgresStore(shared_postgres), f"x{next(_NAMESPACE)}:")


@settings(PROPERTY, max_examples=25)
@given(ops=streams())
def test_a_session_in_memory_is_evaluate_on_random_streams(ops: list[Op]) -> None:
    store = tierrules.MemoryStore()
    _run(ops, lambda: store, "")
