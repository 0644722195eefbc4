"""Events in order, as facts for the matcher, and what the matches mean for each deadline rule.

A fact is the flat view of one event the matcher sees: its type, the fields the rules test,
and the case attributes they test, as they were at an instant. A rule whose start depends on
something that can change after the start event (the case's severity, the customer's tier)
is asked again at each instant it changes, with the same event seen at that instant, so the
rule starts, stops or starts again exactly when the case changes.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..compiler.compiled import CompiledRuleset, Role
from ..events import EventBase
from ..matching import Matcher
from .cases import Case
from .obligations import Started, Stop, Stops

__all__ = ["FactBuilder", "MatchPlan", "order_events", "order_key"]

_UTC = dt.timezone.utc


def order_key(event: EventBase, index: int) -> tuple[dt.datetime, bool, int, int]:
    """Where an event sorts: its instant, then ``seq`` (events with one first), then ``index``."""
    return (event.at.astimezone(_UTC), event.seq is None, event.seq or 0, index)


def order_events(events: Sequence[EventBase]) -> tuple[list[EventBase], list[dt.datetime]]:
    """Events by instant; at one instant by ``seq`` (events with one first), then as given.

    Returns the events and their instants in UTC. Text never orders events: two utterances
    at one instant keep the order the host sent them in, unless ``seq`` says otherwise.
    """
    keyed = sorted(order_key(e, i) for i, e in enumerate(events))
    return [events[k[3]] for k in keyed], [k[0] for k in keyed]


class FactBuilder:
    """Builds the facts of one compiled ruleset: only the fields some rule tests."""

    def __init__(self, compiled: CompiledRuleset) -> None:
        self._event_fields = compiled.fact_fields()
        self._case_fields = compiled.case_fields()

    def fact(self, event: EventBase, case: Case | None, at: dt.datetime | None = None) -> dict[str, Any]:
        """What the matcher sees of ``event``; case attributes as of ``at`` (default: the event)."""
        fact: dict[str, Any] = {"type": event.type}
        for name in self._event_fields[event.type]:
            fact[name] = getattr(event, name)
        if case is not None:
            when = event.at if at is None else at
            for name, key in self._case_fields:
                value = case.value_at(name, when)
                if value is not None:
                    fact[key] = value
            if at is not None and "severity" in fact:
                # The event's own severity, raised or lowered since by case_updated.
                fact["severity"] = case.severity_since(event.at, at, fact["severity"])
        return fact


@dataclass(frozen=True, slots=True)
class _Lookup:
    """The index of the events and the instants to look at each again."""

    index: int
    at: dt.datetime


@dataclass
class MatchPlan:
    """What the matches mean: each deadline rule's starts, and each case's stops by kind."""

    starts: dict[int, list[Started]]
    stops: dict[tuple[int, str], Stops]

    @classmethod
    def build(
        cls,
        compiled: CompiledRuleset,
        matcher: Matcher,
        facts: FactBuilder,
        ordered: Sequence[EventBase],
        instants: Sequence[dt.datetime],
        cases: Mapping[str, Case],
        now: dt.datetime,
    ) -> MatchPlan:
        """Match every event (and every event again at each later change it depends on)."""
        watched = compiled.watched_starts()
        again = list(_lookups(compiled, watched, ordered, cases, now))
        matches = _match(compiled, matcher, facts, ordered, cases, again)
        shared = compiled.shared
        n = len(ordered)
        # An event of a type that starts a watched rule but does not start it now may start it
        # after a change.
        watching = _watching(compiled, watched)
        applies: dict[tuple[int, int], list[tuple[dt.datetime, bool]]] = defaultdict(list)
        stops: dict[tuple[str, int, str], list[Stop]] = defaultdict(list)
        for index in range(n):
            event = ordered[index]
            started = _kinds(shared, matches.get(index, ()), "start")
            for deadline in started:
                applies[(deadline, index)].append((instants[index], True))
            if event.case_id is None:
                continue
            for deadline in watching.get(event.type, ()):
                if deadline not in started:
                    applies[(deadline, index)].append((instants[index], False))
            _add_stops(stops, shared, matches.get(index, ()), instants[index], event, event.case_id)
        for k, lookup in enumerate(again):
            started = _kinds(shared, matches.get(n + k, ()), "start")
            for deadline in watching.get(ordered[lookup.index].type, ()):
                if (deadline, lookup.index) in applies:
                    applies[(deadline, lookup.index)].append((lookup.at, deadline in started))
        return cls(_starts(compiled, ordered, applies), _grouped(stops))


def _watching(compiled: CompiledRuleset, watched: Sequence[frozenset[str]]) -> dict[str, list[int]]:
    """Watched rules (whose start depends on a changing field) by the event type that starts them."""
    watching: dict[str, list[int]] = defaultdict(list)
    for d, fields in enumerate(watched):
        if fields:
            watching[compiled.ruleset.deadlines[d].start.event].append(d)
    return watching


def _match(
    compiled: CompiledRuleset,
    matcher: Matcher,
    facts: FactBuilder,
    ordered: Sequence[EventBase],
    cases: Mapping[str, Case],
    again: Sequence[_Lookup],
) -> dict[int, tuple[str, ...]]:
    """Rule names by index: events (0..n-1), then the looks again (n..). Only events of a type
    some rule names can match, so the others are not sent to the matcher."""
    types = compiled.matched_types()
    sent = [i for i, e in enumerate(ordered) if types is None or e.type in types]
    batch = [facts.fact(ordered[i], cases.get(ordered[i].case_id or "")) for i in sent]
    batch += [facts.fact(ordered[k.index], cases[ordered[k.index].case_id or ""], k.at) for k in again]
    found = matcher.match(batch)
    n = len(ordered)
    return {(sent[j] if j < len(sent) else n + j - len(sent)): tuple(names) for j, names in found.items()}


def _add_stops(
    stops: dict[tuple[str, int, str], list[Stop]],
    shared: Mapping[str, tuple[Role, ...]],
    names: Iterable[str],
    at: dt.datetime,
    event: EventBase,
    case_id: str,
) -> None:
    for kind in ("met", "cancel", "reschedule"):
        for deadline in _kinds(shared, names, kind):
            stops[(kind, deadline, case_id)].append(Stop(at, event))


_Kind = Literal["start", "met", "cancel", "reschedule"]


def _kinds(shared: Mapping[str, tuple[Role, ...]], names: Iterable[str], kind: _Kind) -> set[int]:
    return {role.deadline for name in names for role in shared[name] if role.kind == kind}


def _lookups(
    compiled: CompiledRuleset,
    watched: Sequence[frozenset[str]],
    ordered: Sequence[EventBase],
    cases: Mapping[str, Case],
    now: dt.datetime,
) -> Iterable[_Lookup]:
    """Each event that may start a rule depending on a changing field, at each later change."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for d, fields in enumerate(watched):
        if fields:
            wanted[compiled.ruleset.deadlines[d].start.event] |= fields
    if not wanted:
        return
    for index, event in enumerate(ordered):
        names = wanted.get(event.type)
        if names is None or event.case_id is None:
            continue
        case = cases[event.case_id]
        for at in sorted(case.change_instants(names, event.at, now)):
            yield _Lookup(index, at)


def _starts(
    compiled: CompiledRuleset,
    ordered: Sequence[EventBase],
    applies: Mapping[tuple[int, int], list[tuple[dt.datetime, bool]]],
) -> dict[int, list[Started]]:
    """The clocks each rule starts: one per span of time its start condition holds.

    Spans start at the start event, or at the change that made the rule apply (reattach), or
    count from the start event anyway (``on_attribute_change: retroactive``); each ends when
    the condition stops holding. Numbered per case in the order they start.
    """
    spans: dict[int, list[tuple[dt.datetime, int, dt.datetime, dt.datetime | None]]] = defaultdict(list)
    for (deadline, index), points in applies.items():
        origin = points[0][0]
        for opened, until in _holding(points):  # a rule that never held gets no entry
            spans[deadline].append((opened, index, origin, until))
    out: dict[int, list[Started]] = {}
    for deadline, found in sorted(spans.items()):
        retroactive = compiled.ruleset.deadlines[deadline].on_attribute_change == "retroactive"
        counts: dict[str, int] = defaultdict(int)
        clocks = []
        for attached, index, origin, until in sorted(found, key=lambda s: (s[0], s[1])):
            event = ordered[index]
            counts[event.case_id or ""] += 1
            at = origin if retroactive else attached
            clocks.append(Started(event, counts[event.case_id or ""], at, attached, until))
        out[deadline] = clocks
    return out


def _holding(points: Sequence[tuple[dt.datetime, bool]]) -> list[tuple[dt.datetime, dt.datetime | None]]:
    """The spans (from, until; None while still holding) in which a start condition holds, from
    the instants it was looked at and whether it held there."""
    out: list[tuple[dt.datetime, dt.datetime | None]] = []
    opened: dt.datetime | None = None
    for at, holds in sorted(points, key=lambda p: p[0]):
        if holds and opened is None:
            opened = at
        elif not holds and opened is not None:
            out.append((opened, at))
            opened = None
    if opened is not None:
        out.append((opened, None))
    return out


def _grouped(stops: Mapping[tuple[str, int, str], list[Stop]]) -> dict[tuple[int, str], Stops]:
    keys = {(deadline, case) for _, deadline, case in stops}
    return {
        (deadline, case): Stops(
            tuple(stops.get(("met", deadline, case), ())),
            tuple(stops.get(("cancel", deadline, case), ())),
            tuple(stops.get(("reschedule", deadline, case), ())),
        )
        for deadline, case in keys
    }
