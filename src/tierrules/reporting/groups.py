"""What reports group and bucket by: each case's facts from its events, periods of time.

A decision's items carry their agent and team; everything else a report may group by is
read from the case's events (its channel, its severity at the item's instant, ``meta``
keys) or from the decision's tiers (the customer's tier, class and level as of the case's
``now``; an unprofiled customer is standard, class C, level 3, as the rules see them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..ruleset.targets import GROUP_FIELDS, META_PREFIX, group_field_problem
from ..vocabulary import CASE_ATTRIBUTE_DEFAULTS

__all__ = [
    "CaseFacts",
    "GroupKey",
    "case_facts",
    "check_by",
    "customers",
    "group_key",
    "meta_keys",
    "period_of",
]

GroupKey = tuple[str | None, ...]
_Line = list[tuple[dt.datetime, str]]  # a time line of values, in time order


def check_by(by: Iterable[str]) -> list[str]:
    """``by`` as a list of group fields; raises ValueError naming the bad one ("did you mean")."""
    out = list(by)
    for name in out:
        problem = group_field_problem(name)
        if problem is not None:
            hint = f"; did you mean {problem.suggestion!r}?" if problem.suggestion else ""
            raise ValueError(f"{problem.message}: {name!r}{hint}")
    if len(set(out)) != len(out):
        raise ValueError(f"a group field is listed twice: {', '.join(out)}")
    return out


@dataclass
class CaseFacts:
    """One case of one case log record, as reports see it."""

    name: str
    case_id: str | None
    now: dt.datetime
    first_at: dt.datetime | None = None
    channel: str | None = None
    customer_id: str | None = None
    severity: _Line = field(default_factory=list)
    staff: list[tuple[dt.datetime, str | None, str | None]] = field(default_factory=list)
    meta: dict[str, _Line] = field(default_factory=dict)
    customers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def staff_at(self, at: dt.datetime) -> tuple[str | None, str | None]:
        """The agent and team of the case's latest event naming one at or before ``at`` (else its first)."""
        found = self.staff[0][1:] if self.staff else (None, None)
        for t, agent, team in self.staff:
            if t > at:
                break
            found = (agent, team)
        return found

    def customer(self, name: str, customer_id: str | None) -> str | None:
        """The customer's tier, service_class or service_level (as text) as of the case's now."""
        found = self.customers.get(customer_id or self.customer_id or "")
        value = found.get(name) if found is not None else None
        if value is None:
            value = CASE_ATTRIBUTE_DEFAULTS[name]
        return None if value is None else str(value)


def _at_or_before(line: _Line, at: dt.datetime) -> str | None:
    found = line[0][1] if line else None
    for t, value in line:
        if t > at:
            break
        found = value
    return found


def customers(tiers: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """A decision's ``tiers`` entries by customer id."""
    return {str(t.get("customer_id")): t for t in tiers}


def case_facts(
    name: str,
    now: dt.datetime,
    events: Sequence[Mapping[str, Any]],
    known: Mapping[str, Mapping[str, Any]],
    meta_keys: Sequence[str] = (),
) -> dict[str | None, CaseFacts]:
    """Facts of every case of a record (events already validated by the evaluation);
    ``known`` holds the customers' tiers (:func:`customers`)."""
    timed = sorted(
        ((dt.datetime.fromisoformat(e["at"]), i, e) for i, e in enumerate(events)), key=lambda x: x[:2]
    )
    out: dict[str | None, CaseFacts] = {}
    for at, _, event in timed:
        case_id = event.get("case_id")
        facts = out.get(case_id)
        if facts is None:
            facts = out[case_id] = CaseFacts(name, case_id, now, first_at=at, customers=known)
        _absorb(facts, at, event, meta_keys)
    return out


def _absorb(facts: CaseFacts, at: dt.datetime, event: Mapping[str, Any], meta_keys: Sequence[str]) -> None:
    if event.get("agent_id") is not None or event.get("team") is not None:
        facts.staff.append((at, event.get("agent_id"), event.get("team")))
    kind = event.get("type")
    if kind == "case_opened":
        _opened(facts, at, event)
    elif kind == "case_updated" and "severity" in event:
        facts.severity.append((at, event["severity"]))
    meta = event.get("meta")
    if isinstance(meta, Mapping):
        for key in meta_keys:
            if meta.get(key) is not None:
                facts.meta.setdefault(key, []).append((at, str(meta[key])))


def _opened(facts: CaseFacts, at: dt.datetime, event: Mapping[str, Any]) -> None:
    """The first ``case_opened`` sets the channel, the customer and the first severity (as the engine)."""
    facts.channel = facts.channel or event.get("channel")
    facts.customer_id = facts.customer_id or event.get("customer_id")
    if not facts.severity:
        facts.severity.append((at, event.get("severity", CASE_ATTRIBUTE_DEFAULTS["severity"])))


def _field(name: str, facts: CaseFacts, at: dt.datetime, who: Mapping[str, str | None]) -> str | None:
    """One group field's value for an item of the case at ``at``; ``who``: agent, team, customer_id."""
    if name in ("agent", "team"):
        return who[name]
    if name == "channel":
        return facts.channel
    if name == "severity":
        return _at_or_before(facts.severity, at) or CASE_ATTRIBUTE_DEFAULTS["severity"]
    if name.startswith(META_PREFIX):
        return _at_or_before(facts.meta.get(name[len(META_PREFIX) :], []), at)
    assert name in GROUP_FIELDS  # tier, service_class, service_level
    return facts.customer(name, who["customer_id"])


def group_key(
    by: Sequence[str],
    facts: CaseFacts | None,
    at: dt.datetime,
    *,
    agent: str | None = None,
    team: str | None = None,
    customer_id: str | None = None,
) -> GroupKey:
    """The values of the ``by`` fields for an item of a case at instant ``at``."""
    if not by:
        return ()
    if facts is None:
        facts = CaseFacts("", None, at)
    if agent is None and team is None:
        agent, team = facts.staff_at(at)
    who = {"agent": agent, "team": team, "customer_id": customer_id}
    return tuple(_field(name, facts, at, who) for name in by)


def meta_keys(by_lists: Iterable[Sequence[str]]) -> list[str]:
    """The ``meta`` keys any of the groupings reads."""
    return sorted(
        {name[len(META_PREFIX) :] for by in by_lists for name in by if name.startswith(META_PREFIX)}
    )


def period_of(day: dt.date, period: str) -> tuple[str, dt.date | None]:
    """The label and first day of the period holding ``day``: '2026-11', '2026-W48', '2026-Q4'..."""
    if period == "day":
        return day.isoformat(), day
    if period == "week":
        year, week, weekday = day.isocalendar()
        return f"{year}-W{week:02d}", day - dt.timedelta(days=weekday - 1)
    if period == "month":
        return f"{day:%Y-%m}", day.replace(day=1)
    if period == "quarter":
        quarter = (day.month - 1) // 3
        return f"{day.year}-Q{quarter + 1}", dt.date(day.year, quarter * 3 + 1, 1)
    if period == "all":
        return "all", None
    raise ValueError(f"unknown period {period!r}")
