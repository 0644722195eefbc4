"""Customer tiers (docs/policy.md T2-T8): who a customer is, what that makes them owed.

The division of labour follows the rest of tierrules:

* durable_rules decides which tiers a ``customer_profile`` qualifies for: each tier's
  thresholds compile to one engine condition (:func:`tier_engine_conditions`), an
  all-of ``$gte`` test over the profile's metrics. The computed tier is the highest tier
  whose engine rule matched.
* Python does what needs history and time: the soft landing (upgrades at once,
  downgrades only at the end of a qualification period and by a bounded number of
  tiers), manual overrides and VIP cards (T4, T6), the service class and level (T5), the
  gap to the next tier, and the care / return-visit cadences (T7, T8) as obligations met
  by ``care_contacted``.

:func:`evaluate_tiers` turns the ordered events of one evaluation and the engine's
matches into a :class:`TierResult`. All month arithmetic is wall-clock in the ruleset's
timezone (``dateutil.relativedelta``: the same local time n months later, clamped to
the month's last day).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any, cast

from dateutil import tz as dateutil_tz
from dateutil.relativedelta import relativedelta

from ..compiler.compiled import tier_rule_name
from ..decision import NextTier, TierAssignment
from ..errors import EngineError
from ..events import CareContacted, CustomerProfile, EventBase, TierOverride
from ..ruleset.tiers import (
    METRICS,
    RANK,
    CadenceRule,
    CadenceStatus,
    ThresholdRule,
    TierRule,
    TiersSpec,
    plain_number,
)
from ..vocabulary import TIERS, Months, ServiceClass, ServiceLevel, Text, Tier

_num = plain_number
_RANK = RANK


def _as_tier(name: str) -> Tier:
    if name not in _RANK:
        raise ValueError(f"unknown tier {name!r}")
    return cast(Tier, name)


def months_after(months: Months, start: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """``start`` plus ``months``, wall clock in ``tz`` (a DST gap moves forward)."""
    local = start if start.tzinfo is tz else start.astimezone(tz)
    return dateutil_tz.resolve_imaginary(local + relativedelta(months=months.amount))


def _by_tier(spec: TiersSpec) -> dict[str, ThresholdRule]:
    found = {r.tier: r for r in spec.thresholds}
    missing = [t for t in TIERS if t not in found or t not in spec.service.by_tier]
    if missing or spec.vip_card.tier not in _RANK:
        raise ValueError(f"tiers section not checked (missing {missing}); run check() first")
    return found


@dataclass(frozen=True)
class TierState:
    """What a customer is at an instant: enough for a case to pick its calendar and rules."""

    tier: Tier
    service_class: ServiceClass
    service_level: ServiceLevel
    rule: str
    source: str


@dataclass(frozen=True)
class CadenceObligation:
    """One care / return-visit period (T7, T8): the fields of the engine's ``Obligation``."""

    id: str
    rule: str
    source: str
    case_id: str | None
    customer_id: str
    started_at: dt.datetime
    due_at: dt.datetime
    status: CadenceStatus
    met_at: dt.datetime | None
    message: Text | None = None


@dataclass(frozen=True)
class TierResult:
    """The tier part of one evaluation."""

    assignments: list[TierAssignment]
    obligations: list[CadenceObligation]
    next_change_at: dt.datetime | None
    """The earliest instant after ``now`` at which this result changes without a new event
    (a pending cadence falls due, an override expires), or None."""
    timelines: Mapping[str, tuple[tuple[dt.datetime, TierState], ...]] = field(repr=False)
    next_changes: Mapping[str, dt.datetime] = field(default_factory=dict)
    """Per customer, the earliest instant after ``now`` at which their part changes."""

    def timeline(self, customer_id: str) -> tuple[tuple[dt.datetime, TierState], ...]:
        """(from, state) steps, oldest first; every instant the tier, class, level or rule changes."""
        return self.timelines.get(customer_id, ())

    def attributes(self, customer_id: str) -> list[tuple[dt.datetime, dict[str, Any]]]:
        """The timeline as case attributes: ``[(from, {"tier", "service_class", "service_level"})]``.

        The shape ``_cases.build_cases`` takes as its ``customers`` callable.
        """
        out: list[tuple[dt.datetime, dict[str, Any]]] = []
        for instant, state in self.timeline(customer_id):
            values = {
                "tier": state.tier,
                "service_class": state.service_class,
                "service_level": state.service_level,
            }
            if not out or out[-1][1] != values:
                out.append((instant, values))
        return out

    def level_at(self, customer_id: str, instant: dt.datetime) -> TierState | None:
        """The customer's tier, class and level as of ``instant`` (events at it included).

        None before anything is known about the customer (no profile, no override yet).
        """
        steps = self.timelines.get(customer_id, ())
        pos = bisect.bisect_right([s[0] for s in steps], instant) - 1
        return steps[pos][1] if pos >= 0 else None


# --- Evaluation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Step:
    """A profile after the soft landing."""

    event: CustomerProfile
    computed: int  # rank the thresholds give (the engine's highest match)
    held: int  # rank after the soft landing
    previous: int | None  # held rank before this profile
    previous_end: dt.datetime | None  # end of the period in force before it
    period_end: dt.datetime  # end of the qualification period in force after it


_Timeline = tuple[tuple[dt.datetime, TierState], ...]
_Span = tuple[dt.datetime, dt.datetime | None]  # from, until (None: still applies at ``now``)


def _iso(at: dt.datetime, tz: dt.tzinfo) -> str:
    return at.astimezone(tz).isoformat()


def _money_gap(threshold: float, value: float) -> int | float:
    """threshold - value rounded up to the fen; value + gap reaches threshold in floats too."""
    if value >= threshold:
        return 0
    cents = ((Decimal(repr(threshold)) - Decimal(repr(value))) * 100).to_integral_value(ROUND_CEILING)
    while value + float(cents / 100) < threshold:  # e.g. 24744.53 + 48212.93 < 72957.46 in floats
        cents += 1
    return _num(float(cents / 100))


class _Evaluator:
    def __init__(self, spec: TiersSpec, now: dt.datetime, tz: dt.tzinfo) -> None:
        self.spec = spec
        self.now = now
        self.tz = tz
        self.rules = _by_tier(spec)
        self.by_rank = {_RANK[t]: t for t in TIERS}

    # A state is (tier, rule) plus the class and level the tier maps to.
    def state(self, tier: str, rule: TierRule) -> TierState:
        service = self.spec.service.by_tier[tier]
        return TierState(
            tier=_as_tier(tier),
            service_class=service.service_class,
            service_level=service.service_level,
            rule=rule.id,
            source=rule.source,
        )

    def computed_rank(self, index: int, event: CustomerProfile, hits: Collection[str]) -> int:
        """The engine's answer, cross-checked: a disagreement means the engine misbehaved."""
        matched = [t for t in TIERS if tier_rule_name(t) in hits]
        if not matched:
            raise EngineError(f"customer_profile at index {index} matched no tier rule (not even standard)")
        engine_rank = _RANK[matched[0]]
        expected = next(_RANK[t] for t in TIERS if self.qualifies(event, t))
        if engine_rank != expected:
            raise EngineError(
                f"customer_profile at index {index}: durable_rules matched {matched[0]}, "
                f"the thresholds give {self.by_rank[expected]}"
            )
        return engine_rank

    def qualifies(self, event: CustomerProfile, tier: str) -> bool:
        minimum = self.rules[tier].min
        return minimum is None or all(float(getattr(event, m)) >= minimum.value(m) for m in METRICS)

    def soft_land(self, profiles: list[tuple[CustomerProfile, int]]) -> list[_Step]:
        """Upgrades at once; downgrades only on a profile at/after the period end, bounded in steps."""
        soft = self.spec.soft_landing
        steps: list[_Step] = []
        for event, computed in profiles:
            last = steps[-1] if steps else None
            if last is None or computed > last.held:
                held, end = computed, months_after(soft.qualification_period, event.at, self.tz)
            elif event.at >= last.period_end:
                # A review: re-qualify at the same tier, or step down towards the computed tier.
                held = max(computed, last.held - soft.max_downgrade_steps)
                end = months_after(soft.qualification_period, event.at, self.tz)
            else:
                held, end = last.held, last.period_end  # within the period: a downgrade waits
            steps.append(
                _Step(
                    event,
                    computed,
                    held,
                    previous=last.held if last else None,
                    previous_end=last.period_end if last else None,
                    period_end=end,
                )
            )
        return steps


def _active_override(overrides: Sequence[TierOverride], at: dt.datetime) -> TierOverride | None:
    """The latest override given at or before ``at`` and not expired by then."""
    active = None
    for override in overrides:  # time order; a later one at the same instant wins
        if override.at <= at and (override.until is None or override.until > at):
            active = override
    return active


@dataclass
class _Customer:
    customer_id: str
    steps: list[_Step] = field(default_factory=list)
    overrides: list[TierOverride] = field(default_factory=list)
    contacts: list[dt.datetime] = field(default_factory=list)

    _ats: list[dt.datetime] = field(default_factory=list)

    def set_steps(self, steps: list[_Step]) -> None:
        self.steps, self._ats = steps, [s.event.at for s in steps]

    def profile_at(self, at: dt.datetime) -> _Step | None:
        """The latest profile at or before ``at`` (the last of several at one instant)."""
        pos = bisect.bisect_right(self._ats, at) - 1
        return self.steps[pos] if pos >= 0 else None


def _state_at(ev: _Evaluator, customer: _Customer, at: dt.datetime) -> TierState | None:
    spec = ev.spec
    override = _active_override(customer.overrides, at)
    if override is not None:
        return ev.state(override.tier, spec.override)
    step = customer.profile_at(at)
    if step is None:
        if any(o.at <= at for o in customer.overrides):
            # Known only through an expired override: everyone qualifies for standard.
            return ev.state("standard", ev.rules["standard"])
        return None
    held = ev.by_rank[step.held]
    vip_rank = _RANK[spec.vip_card.tier]
    if step.event.vip_card and vip_rank > step.held:
        return ev.state(spec.vip_card.tier, spec.vip_card)
    if step.held > step.computed:
        return ev.state(held, spec.soft_landing)
    return ev.state(held, ev.rules[held])


def _timeline(ev: _Evaluator, customer: _Customer) -> _Timeline:
    instants = {s.event.at for s in customer.steps} | {o.at for o in customer.overrides}
    instants |= {o.until for o in customer.overrides if o.until is not None and o.until > o.at}
    out: list[tuple[dt.datetime, TierState]] = []
    for at in sorted(instants):
        state = _state_at(ev, customer, at)
        if state is not None and (not out or out[-1][1] != state):
            out.append((at.astimezone(ev.tz), state))
    return tuple(out)


def _reasons(ev: _Evaluator, customer: _Customer) -> list[dict[str, Any]]:
    """Why the customer has their tier at ``now``: override, VIP card, soft landing, metrics."""
    override = _active_override(customer.overrides, ev.now)
    if override is not None:
        reasons = [_override_reason(ev, override)]
    else:
        reasons = _expired_override_reasons(ev, customer)
    step = customer.profile_at(ev.now)
    if step is None:
        return [*reasons, {"note": "no customer_profile yet: no metrics to compare"}]
    if step.event.vip_card and override is None:
        reasons.append(_vip_reason(ev, step))
    if step.previous is not None and step.previous_end is not None and step.held < step.previous:
        reasons.append(_downgrade_reason(ev, step, step.previous, step.previous_end))
    if step.held > step.computed:
        reasons.append(_held_reason(ev, step))
    return [*reasons, *_metric_reasons(ev, step)]


def _override_reason(ev: _Evaluator, override: TierOverride) -> dict[str, Any]:
    tz = ev.tz
    return {
        "rule": ev.spec.override.id,
        "override_tier": override.tier,
        "at": _iso(override.at, tz),
        "until": _iso(override.until, tz) if override.until is not None else None,
        "reason": override.reason,
        "note": f"manual override to {override.tier}"
        + (f" until {_iso(override.until, tz)}" if override.until is not None else "")
        + f": {override.reason}",
    }


def _expired_override_reasons(ev: _Evaluator, customer: _Customer) -> list[dict[str, Any]]:
    """The last override that expired by ``now``, if any: the computed tier applies again."""
    now = ev.now
    expired = [o for o in customer.overrides if o.at <= now and o.until is not None and o.until <= now]
    if not expired:
        return []
    last = max(expired, key=lambda o: o.until or o.at)
    assert last.until is not None
    return [
        {
            "rule": ev.spec.override.id,
            "override_tier": last.tier,
            "expired_at": _iso(last.until, ev.tz),
            "reason": last.reason,
            "note": f"override to {last.tier} expired at {_iso(last.until, ev.tz)}; "
            "the computed tier applies",
        }
    ]


def _vip_reason(ev: _Evaluator, step: _Step) -> dict[str, Any]:
    vip_card = ev.spec.vip_card
    applied = _RANK[vip_card.tier] > step.held
    return {
        "rule": vip_card.id,
        "vip_tier": vip_card.tier,
        "applied": applied,
        "note": f"VIP card: at least {vip_card.tier}"
        + ("" if applied else f" (the computed {ev.by_rank[step.held]} is not lower)"),
    }


def _downgrade_reason(
    ev: _Evaluator, step: _Step, previous: int, previous_end: dt.datetime
) -> dict[str, Any]:
    """The profile that applied a downgrade at the end of the qualification period."""
    computed, held, before = ev.by_rank[step.computed], ev.by_rank[step.held], ev.by_rank[previous]
    return {
        "rule": ev.spec.soft_landing.id,
        "from_tier": before,
        "computed_tier": computed,
        "note": f"downgraded from {before} to {held} by the customer_profile at "
        f"{_iso(step.event.at, ev.tz)}, after the qualification period ended "
        f"{_iso(previous_end, ev.tz)}; the thresholds give {computed}, and a review moves "
        f"down at most {ev.spec.soft_landing.max_downgrade_steps} tier(s)",
    }


def _held_reason(ev: _Evaluator, step: _Step) -> dict[str, Any]:
    """A lower computed tier waiting for the end of the qualification period."""
    computed, held = ev.by_rank[step.computed], ev.by_rank[step.held]
    return {
        "rule": ev.spec.soft_landing.id,
        "computed_tier": computed,
        "period_ends": _iso(step.period_end, ev.tz),
        # Worded so it does not change when the period ends: downgrades wait for a profile.
        "note": f"the thresholds give {computed}; {held} is held: a customer_profile at or after "
        f"{_iso(step.period_end, ev.tz)} (the end of the qualification period) applies the downgrade",
    }


def _metric_reasons(ev: _Evaluator, step: _Step) -> list[dict[str, Any]]:
    """The thresholds that decided the held tier: its own, or silver's for standard."""
    held = ev.by_rank[step.held]
    basis = held if held != "standard" else "silver"
    rule = ev.rules[basis]
    assert rule.min is not None
    out: list[dict[str, Any]] = []
    for metric in METRICS:
        value, threshold = float(getattr(step.event, metric)), rule.min.value(metric)
        out.append(
            {
                "rule": rule.id,
                "tier": basis,
                "metric": metric,
                "value": _num(value),
                "threshold": _num(threshold),
                "met": value >= threshold,
            }
        )
    return out


def _next_tier(ev: _Evaluator, customer: _Customer, state: TierState) -> NextTier | None:
    step = customer.profile_at(ev.now)
    rank = _RANK[state.tier]
    if step is None or rank == len(TIERS) - 1:
        return None
    above = ev.by_rank[rank + 1]
    minimum = ev.rules[above].min
    assert minimum is not None
    gaps: dict[str, int | float] = {}
    for metric in METRICS:
        value, threshold = float(getattr(step.event, metric)), minimum.value(metric)
        gaps[metric] = (
            _money_gap(threshold, value) if metric == "spend_12m" else _num(max(0.0, threshold - value))
        )
    return NextTier(tier=_as_tier(above), gaps=gaps)


def _cadences(ev: _Evaluator, customer: _Customer, timeline: _Timeline) -> list[CadenceObligation]:
    """Each cadence's chain of periods over the spans its tier/level applies, up to ``now``.

    A period runs from its start for ``every`` months. The first contact after the start
    (on or before the due time) meets it and starts the next period; unmet at the due
    time it is breached (with ``met_at`` if a contact came later) and the next period
    starts at the due time. When the customer leaves the tier/level, a period not yet
    decided is dropped (the rule no longer applies); entering it starts a new chain.
    """
    past = [(at, state) for at, state in timeline if at <= ev.now]
    out: list[CadenceObligation] = []
    for cadence in ev.spec.cadences:
        numbered = 0  # the cadence's periods are numbered across its spans
        for span in _spans(cadence, past):
            periods, numbered = _periods(ev, customer, cadence, span, numbered)
            out += periods
    return out


def _applies(cadence: CadenceRule, state: TierState) -> bool:
    if cadence.tier is not None:
        return state.tier == cadence.tier
    return state.service_level == cadence.service_level


def _spans(cadence: CadenceRule, past: Sequence[tuple[dt.datetime, TierState]]) -> list[_Span]:
    """The stretches of the timeline during which ``cadence`` applies, oldest first."""
    spans: list[_Span] = []
    for i, (at, state) in enumerate(past):
        if _applies(cadence, state) and (i == 0 or not _applies(cadence, past[i - 1][1])):
            end = next((later for later, s in past[i + 1 :] if not _applies(cadence, s)), None)
            spans.append((at, end))
    return spans


def _periods(
    ev: _Evaluator, customer: _Customer, cadence: CadenceRule, span: _Span, numbered: int
) -> tuple[list[CadenceObligation], int]:
    """One chain of periods over ``span``, and how many of the cadence's periods are numbered
    after it (``numbered`` before it; a period the span's end leaves undecided takes a number)."""
    contacts = _contacts_in(customer, span)
    out: list[CadenceObligation] = []
    start, used = span[0], 0  # contacts[:used] met a period already
    while True:
        due = _due(cadence, start, ev.tz)
        numbered += 1
        period = _period(contacts[used] if used < len(contacts) else None, due, ev.now, span[1])
        if period is None:
            break  # undecided when the tier/level changed: the rule no longer applies
        status, met_at, next_start = period
        out.append(_cadence_obligation(customer, cadence, numbered, start, due, status, met_at))
        if next_start is None:
            break
        if status == "met":
            # The contact is used up; another at the same instant does not count twice.
            used = bisect.bisect_right(contacts, next_start, lo=used)
        start = next_start
    return out, numbered


def _contacts_in(customer: _Customer, span: _Span) -> list[dt.datetime]:
    start, end = span
    return [c for c in customer.contacts if c >= start and (end is None or c < end)]


def _due(cadence: CadenceRule, start: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    due = months_after(cadence.every, start, tz)
    if due <= start:  # only an unvalidated spec can get here; never loop forever
        raise ValueError(f"cadence {cadence.id!r} does not advance time")
    return due


def _period(
    contact: dt.datetime | None, due: dt.datetime, now: dt.datetime, span_end: dt.datetime | None
) -> tuple[CadenceStatus, dt.datetime | None, dt.datetime | None] | None:
    """A period's (status, met_at, next period's start), or None when the span ended first."""
    if contact is not None and contact <= due:
        return "met", contact, contact
    if due <= (now if span_end is None else span_end):
        return "breached", contact, due
    if span_end is None:
        return "pending", None, None
    return None


def _cadence_obligation(
    customer: _Customer,
    cadence: CadenceRule,
    ordinal: int,
    start: dt.datetime,
    due: dt.datetime,
    status: CadenceStatus,
    met_at: dt.datetime | None,
) -> CadenceObligation:
    return CadenceObligation(
        id=f"{customer.customer_id}/{cadence.id}/{ordinal}",
        rule=cadence.id,
        source=cadence.source,
        case_id=None,
        customer_id=customer.customer_id,
        started_at=start,  # all already in tz: spans, contacts and due times
        due_at=due,
        status=status,
        met_at=met_at,
        message=cadence.description,
    )


def evaluate_tiers(
    spec: TiersSpec,
    events: Sequence[EventBase],
    tier_hits: Mapping[int, Collection[str]],
    now: dt.datetime,
    tz: dt.tzinfo,
) -> TierResult:
    """The tier part of a decision.

    ``events`` are all the evaluation's validated events in time order (the engine's
    order); ``tier_hits`` maps an index into ``events`` to the engine rule names that
    fact matched (other rules' names are ignored). ``spec`` must have passed
    :func:`check`. Raises :class:`EngineError` when the engine's matches for a profile
    are missing or disagree with the thresholds.
    """
    ev = _Evaluator(spec, now, tz)
    customers = _customers(ev, events, tier_hits)
    parts = {customer_id: _part(ev, customers[customer_id]) for customer_id in sorted(customers)}
    obligations = [o for part in parts.values() for o in part.obligations]
    obligations.sort(key=lambda o: (o.customer_id, o.started_at, o.due_at, o.rule, o.id))
    per_customer = {cid: part.next_change for cid, part in parts.items() if part.next_change is not None}
    changes = list(per_customer.values())
    return TierResult(
        assignments=[part.assignment for part in parts.values() if part.assignment is not None],
        obligations=obligations,
        next_change_at=min(changes).astimezone(tz) if changes else None,
        timelines={customer_id: part.timeline for customer_id, part in parts.items()},
        next_changes=per_customer,
    )


def _customers(
    ev: _Evaluator, events: Sequence[EventBase], tier_hits: Mapping[int, Collection[str]]
) -> dict[str, _Customer]:
    """Every customer the events name: profiles (soft-landed), overrides and contacts, in time order."""
    profiles: dict[str, list[tuple[CustomerProfile, int]]] = defaultdict(list)
    customers: dict[str, _Customer] = {}
    for index, event in enumerate(events):
        if not isinstance(event, CustomerProfile | TierOverride | CareContacted):
            continue
        customer = customers.setdefault(event.customer_id, _Customer(event.customer_id))
        if isinstance(event, CustomerProfile):
            profiles[event.customer_id].append(
                (event, ev.computed_rank(index, event, tier_hits.get(index, ())))
            )
        elif isinstance(event, TierOverride):
            customer.overrides.append(event)
        else:
            customer.contacts.append(event.at.astimezone(ev.tz))
    for customer_id, customer in customers.items():
        customer.set_steps(ev.soft_land(profiles[customer_id]))
        customer.contacts.sort()
    return customers


@dataclass(frozen=True)
class _Part:
    """One customer's part of the result."""

    timeline: _Timeline
    assignment: TierAssignment | None  # None before anything is known about the customer
    obligations: list[CadenceObligation]
    next_change: dt.datetime | None  # the earliest instant after ``now`` it changes without an event


def _part(ev: _Evaluator, customer: _Customer) -> _Part:
    timeline = _timeline(ev, customer)
    state = _state_at(ev, customer, ev.now)
    assignment = _assignment(ev, customer, state) if state is not None else None
    found = _cadences(ev, customer, timeline)
    # The state's next step (an override expiring) changes the decision without an event.
    mine = [at for at, _ in timeline if at > ev.now][:1] + [o.due_at for o in found if o.status == "pending"]
    return _Part(timeline, assignment, found, min(mine) if mine else None)


def _assignment(ev: _Evaluator, customer: _Customer, state: TierState) -> TierAssignment:
    return TierAssignment(
        customer_id=customer.customer_id,
        tier=state.tier,
        service_class=state.service_class,
        service_level=state.service_level,
        rule=state.rule,
        source=state.source,
        reasons=_reasons(ev, customer),
        next_tier=_next_tier(ev, customer, state),
        message=_message(customer.customer_id, state),
    )


_TIER_ZH = {"diamond": "钻石", "platinum": "白金", "gold": "黄金", "silver": "白银", "standard": "普通"}


def _message(customer_id: str, state: TierState) -> Text:
    return Text(
        zh=f"客户 {customer_id}：{_TIER_ZH[state.tier]}客户"
        f"（{state.service_class} 类，第 {state.service_level} 级服务）",
        en=f"customer {customer_id}: {state.tier} "
        f"(class {state.service_class}, service level {state.service_level})",
    )
