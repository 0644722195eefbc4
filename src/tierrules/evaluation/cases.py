"""What is known about each case over time: its attributes and its pauses.

Rules may depend on case attributes (``severity``, ``channel``, and the customer's
``tier``, ``service_class`` and ``service_level``); they can change mid-case, so each
is kept as a time line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..events import CaseOpened, CasePaused, CaseResumed, CaseUpdated, EventBase
from ..vocabulary import CASE_ATTRIBUTE_DEFAULTS, CUSTOMER_ATTRIBUTES
from .clocks import Pause, pause_intervals

# (customer_id, instant) -> {"tier": ..., "service_class": ..., "service_level": ...} changes
CustomerTimeline = Callable[[str], Sequence[tuple[dt.datetime, dict[str, Any]]]]


@dataclass
class Case:
    """One case's attribute time lines and pauses."""

    case_id: str
    customer_id: str | None = None
    timelines: dict[str, list[tuple[dt.datetime, Any]]] = field(default_factory=dict)
    pause_marks: list[tuple[dt.datetime, str]] = field(default_factory=list)
    staff: list[tuple[dt.datetime, str | None, str | None]] = field(default_factory=list)
    # case_updated severities: they also raise or lower the own severity of the case's
    # feedback and back-office requests (a late case_opened does not).
    severity_updates: list[tuple[dt.datetime, Any]] = field(default_factory=list)
    _pauses: list[Pause] | None = None

    def set(self, name: str, at: dt.datetime, value: Any) -> None:
        line = self.timelines.setdefault(name, [])
        if not line or line[-1][1] != value:
            line.append((at, value))

    def value_at(self, name: str, at: dt.datetime) -> Any:
        line = self.timelines.get(name)
        if line:
            for t, value in reversed(line):  # time lines are short and in time order
                if t <= at:
                    return value
        return CASE_ATTRIBUTE_DEFAULTS[name]

    def changes(self, name: str, after: dt.datetime, until: dt.datetime) -> list[tuple[dt.datetime, Any]]:
        """Values taken strictly after ``after`` and no later than ``until``."""
        return [(t, v) for t, v in self.timelines.get(name, []) if after < t <= until]

    def change_instants(
        self, fields: Iterable[str], after: dt.datetime, until: dt.datetime
    ) -> frozenset[dt.datetime]:
        """When any of ``fields`` changed in (after, until]: ``case_<attribute>`` on the case's
        time line, ``severity`` (an event's own) by case_updated."""
        found = {t for t, _ in self.severity_updates if after < t <= until} if "severity" in fields else set()
        for name in fields:
            if name.startswith("case_"):
                found.update(t for t, _ in self.changes(name.removeprefix("case_"), after, until))
        return frozenset(found)

    def severity_since(self, start: dt.datetime, at: dt.datetime, own: Any) -> Any:
        """An event's own severity as of ``at``: the last change after ``start``, else its own."""
        found = own
        for t, value in self.severity_updates:
            if start < t <= at:
                found = value
        return found

    def staff_at(self, at: dt.datetime) -> tuple[str | None, str | None]:
        """The agent and team named by the case's latest event at or before ``at``."""
        found: tuple[str | None, str | None] = (None, None)
        for t, agent, team in self.staff:
            if t > at:
                break
            found = (agent, team)
        return found

    def record(self, event: EventBase) -> None:
        """Take in one of the case's events (in time order)."""
        if event.agent_id is not None or event.team is not None:
            self.staff.append((event.at, event.agent_id, event.team))
        if isinstance(event, CaseOpened):
            self._opened(event)
        elif isinstance(event, CaseUpdated):
            self.set("severity", event.at, event.severity)
            self.severity_updates.append((event.at, event.severity))
        elif isinstance(event, CasePaused):
            self.pause_marks.append((event.at, "pause"))
        elif isinstance(event, CaseResumed):
            self.pause_marks.append((event.at, "resume"))

    def _opened(self, event: CaseOpened) -> None:
        # A second case_opened fills in only what the first left unknown.
        if self.customer_id is None and event.customer_id is not None:
            self.customer_id = event.customer_id
        if "severity" not in self.timelines:
            self.set("severity", event.at, event.severity)
        if "channel" not in self.timelines:
            self.set("channel", event.at, event.channel)

    def record_customer(self, changes: Iterable[tuple[dt.datetime, dict[str, Any]]]) -> None:
        """Take in the customer's attribute changes (tier, service class and level)."""
        for at, values in changes:
            for name in CUSTOMER_ATTRIBUTES:
                if name in values:
                    self.set(name, at, values[name])

    @property
    def pauses(self) -> list[Pause]:
        if self._pauses is None:
            self._pauses = pause_intervals(self.pause_marks)
        return self._pauses


def build_cases(ordered: Sequence[EventBase], customers: CustomerTimeline | None) -> dict[str, Case]:
    """Case time lines from time-ordered events; customer attributes from the tier time line."""
    cases: dict[str, Case] = {}
    for event in ordered:
        if event.case_id is None:
            continue
        case = cases.get(event.case_id)
        if case is None:
            case = cases[event.case_id] = Case(event.case_id)
        case.record(event)
    if customers is not None:
        for case in cases.values():
            if case.customer_id is not None:
                case.record_customer(customers(case.customer_id))
    return cases
