"""Property-testing helpers for rulesets: hypothesis strategies and ready invariants.

Install with the ``testing`` extra (``pip install "tierrules[testing]"``): it needs
`hypothesis <https://hypothesis.readthedocs.io>`_.

Strategies (each draws the JSON form tierrules accepts):

- :func:`events` — one event of any type of the vocabulary (or of the types you name);
- :func:`cases` — a whole well-formed history: a ``case_opened`` first, then the start
  events of the ruleset's deadlines and, sometimes, their stop events later, with pauses,
  severity changes and a customer's profiles, in increasing time;
- :func:`timed_cases` — ``(events, now)`` pairs, ``now`` at or after the last event;
- :func:`profiles`, :func:`calendars` — ``customer_profile`` events and calendar specs;
- :func:`rulesets` — valid variations of a ruleset (targets scaled, thresholds moved,
  warnings toggled), loaded and compiled.

Invariants (plain functions; each raises :class:`AssertionError` with a clear message):
:func:`assert_deterministic`, :func:`assert_order_insensitive`,
:func:`assert_obligations_resolve`, :func:`assert_monotone_tiers`,
:func:`assert_stricter_never_passes`.

A test of your own ruleset:

>>> import tierrules
>>> from hypothesis import given, settings
>>> from tierrules import testing
>>> ruleset = tierrules.load_ruleset()          # or load_ruleset("rulesets/mine")
>>> engine = tierrules.Engine(ruleset)
>>> @settings(max_examples=25, deadline=None)
... @given(testing.timed_cases(ruleset))
... def test_policy_invariants(case):
...     events, now = case
...     testing.assert_deterministic(engine, events, now)
...     testing.assert_order_insensitive(engine, events, now)
...     testing.assert_obligations_resolve(engine, events, now)
>>> test_policy_invariants()

The same building blocks drive a seeded, hypothesis-free generator
(:func:`generate_cases`), which ``tierrules diff --generate`` uses:

>>> batch = testing.generate_cases(ruleset, 3, seed=7)
>>> [[e["type"] for e in events].count("case_opened") >= 1 for events, _ in batch]
[True, True, True]
>>> batch == testing.generate_cases(ruleset, 3, seed=7)     # deterministic for a seed
True
"""

from __future__ import annotations

import datetime as dt
import operator
import random
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, Protocol, TypeVar

try:  # the strategies need hypothesis (the `testing` extra); generate_cases does not
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - exercised in a subprocess without hypothesis
    st = None  # type: ignore[assignment]

from .compiler.load import load_ruleset
from .decision import Decision
from .evaluation.engine import Engine
from .events import EVENT_TYPES, EventBase, field_choices
from .ruleset.model import DeadlineRule, Ruleset, Trigger

__all__ = [
    "TIER_ORDER",
    "assert_deterministic",
    "assert_monotone_tiers",
    "assert_obligations_resolve",
    "assert_order_insensitive",
    "assert_stricter_never_passes",
    "calendars",
    "case_events",
    "cases",
    "events",
    "generate_cases",
    "profiles",
    "rulesets",
    "scaled",
    "timed_cases",
]

T = TypeVar("T")

TIER_ORDER: tuple[str, ...] = ("standard", "silver", "gold", "platinum", "diamond")
"""The five tiers, lowest first."""

_BASE_FIELDS = frozenset(EventBase.model_fields)
_OFFSETS = (dt.timedelta(hours=8), dt.timedelta(0), dt.timedelta(hours=-5), dt.timedelta(hours=5, minutes=30))
# Gaps between consecutive events: around the default targets (seconds to days).
_STEPS = (
    0,
    5,
    11,
    60,
    119,
    300,
    599,
    601,
    1800,
    2700,
    3000,
    3600,
    7200,
    4 * 3600,
    86399,
    86400,
    2 * 86400,
    6 * 86400,
)
_CUSTOMERS = ("C-1", "C-2", "C-3")
_INT_RANGES = {"visits_12m": (0, 30), "tenure_months": (0, 40), "agent_level": (1, 4), "to_level": (1, 4)}
_SPEND = (0, 19999.5, 20000, 99999, 100000, 250000, 300000, 999999.99, 1000000, 2500000)


class Chooser(Protocol):
    """Where random choices come from: hypothesis's ``draw`` or a seeded ``random.Random``."""

    def choice(self, options: Sequence[T]) -> T: ...

    def integer(self, low: int, high: int) -> int: ...

    def boolean(self) -> bool: ...


class _Drawing:
    def __init__(self, draw: st.DrawFn) -> None:
        self._draw = draw

    def choice(self, options: Sequence[T]) -> T:
        return self._draw(st.sampled_from(options))

    def integer(self, low: int, high: int) -> int:
        return self._draw(st.integers(low, high))

    def boolean(self) -> bool:
        return self._draw(st.booleans())


class _Seeded:
    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def choice(self, options: Sequence[T]) -> T:
        return options[self._rng.randrange(len(options))]

    def integer(self, low: int, high: int) -> int:
        return self._rng.randint(low, high)

    def boolean(self) -> bool:
        return self._rng.random() < 0.5


def _need_hypothesis() -> None:
    if st is None:
        raise ImportError(
            "tierrules.testing's strategies need hypothesis: pip install 'tierrules[testing]' "
            "(generate_cases works without it)"
        )


# ----------------------------------------------------------------------------- building blocks


def _iso(instant: dt.datetime) -> str:
    return instant.isoformat()


def _instant(ch: Chooser) -> dt.datetime:
    """A start instant in 2026 (holidays, make-up days and weekends included), some offset."""
    day = dt.date(2026, 1, 1) + dt.timedelta(days=ch.integer(0, 364))
    seconds = ch.choice((0, 7 * 3600, 9 * 3600, 10 * 3600, 17 * 3600 + 1800, 17 * 3600 + 3599, 22 * 3600))
    local = dt.datetime.combine(day, dt.time(), dt.timezone(dt.timedelta(hours=8))) + dt.timedelta(
        seconds=seconds + ch.integer(0, 59) * 60 * ch.integer(0, 1)
    )
    return local.astimezone(dt.timezone(ch.choice(_OFFSETS)))


def _field_value(ch: Chooser, event_type: str, name: str, at: dt.datetime) -> Any:
    """A valid value for one field of an event type, derived from the pydantic model."""
    info = EVENT_TYPES[event_type].model_fields[name]
    choices = field_choices(event_type, name)
    if choices is not None:
        return ch.choice(choices)
    annotation = info.annotation
    optional = type(None) in typing.get_args(annotation)
    if optional:
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        annotation = inner[0] if len(inner) == 1 else annotation
        if name != "customer_id" and ch.boolean():
            return None
    if name == "customer_id":
        return ch.choice(_CUSTOMERS)
    return _typed_value(ch, annotation, name, info, at)


def _typed_value(ch: Chooser, annotation: Any, name: str, info: Any, at: dt.datetime) -> Any:
    """A value of ``annotation`` (the field's type, optional unwrapped)."""
    if annotation is bool:
        return ch.boolean()
    if annotation is int:
        low, high = _INT_RANGES.get(name, (1, 5))
        return ch.integer(low, high)
    if annotation is float:
        allowed = [v for v in _SPEND if _within_bounds(info, v)]
        return ch.choice(allowed)
    if annotation is dt.datetime:
        return _iso(at + dt.timedelta(seconds=ch.choice(_STEPS[3:]) + 60))
    if typing.get_origin(annotation) is Literal:
        return ch.choice(typing.get_args(annotation))
    if typing.get_origin(annotation) is list:
        return [ch.choice(("交行", "工行", "r1"))][: ch.integer(0, 1)]
    return ch.choice(("r1", "waiting on the customer", "retention offer"))


def _within_bounds(info: Any, value: float) -> bool:
    """Whether ``value`` satisfies the field's declared numeric constraints (gt/ge/lt/le)."""
    checks: dict[str, Callable[[float, float], bool]] = {
        "gt": operator.gt,
        "ge": operator.ge,
        "lt": operator.lt,
        "le": operator.le,
    }
    for meta in info.metadata:
        for attr, ok in checks.items():
            bound = getattr(meta, attr, None)
            if bound is not None and not ok(value, bound):
                return False
    return True


def _event(
    ch: Chooser,
    event_type: str,
    at: dt.datetime,
    case_id: str | None,
    when: Mapping[str, Any] | None = None,
    customer_id: str | None = None,
) -> dict[str, Any]:
    model = EVENT_TYPES[event_type]
    out: dict[str, Any] = {"type": event_type, "at": _iso(at)}
    if case_id is not None or model.scope == "case":
        out["case_id"] = case_id or "c1"
    out.update(_drawn_fields(ch, event_type, at, when or {}))
    for name, wanted in (when or {}).items():
        out[name] = ch.choice(wanted) if isinstance(wanted, list) else wanted
    if customer_id is not None and "customer_id" in model.model_fields:
        out["customer_id"] = customer_id
    return out


def _drawn_fields(ch: Chooser, event_type: str, at: dt.datetime, when: Mapping[str, Any]) -> dict[str, Any]:
    """The event type's own fields: required ones always, optional ones sometimes (else default)."""
    out: dict[str, Any] = {}
    for name, info in EVENT_TYPES[event_type].model_fields.items():
        if name in _BASE_FIELDS:
            continue
        if not info.is_required() and name not in when and ch.integer(0, 2) == 0:
            continue  # leave the default
        value = _field_value(ch, event_type, name, at)
        if value is not None:
            out[name] = value
    return out


def _pairs(ruleset: Ruleset | None) -> list[tuple[Trigger, list[Trigger]]]:
    """(start trigger, possible stop triggers) for every deadline rule of the ruleset."""
    rules: Iterable[DeadlineRule] = ruleset.deadlines if ruleset is not None else ()
    out = []
    for rule in rules:
        stops = [*rule.met_triggers, *([rule.cancelled_by] if rule.cancelled_by is not None else [])]
        out.append((rule.start, stops))
    if not out:  # no ruleset: pair every case event type with any other
        case_types = sorted(t for t, m in EVENT_TYPES.items() if m.scope == "case")
        out = [(Trigger(event=t), [Trigger(event=u) for u in case_types]) for t in case_types]
    return out


def _profile(ch: Chooser, at: dt.datetime, customer_id: str) -> dict[str, Any]:
    return _event(ch, "customer_profile", at, None, customer_id=customer_id)


def _earlier_profiles(ch: Chooser, at: dt.datetime, customer: str) -> list[dict[str, Any]]:
    """Usually a profile of the customer from before ``at``; sometimes a second, more recent one."""
    if ch.integer(0, 3) == 0:
        return []
    first = _profile(ch, at - dt.timedelta(days=ch.choice((1, 40, 200, 400))), customer)
    if ch.integer(0, 3) > 0:
        return [first]
    return [first, _profile(ch, at - dt.timedelta(hours=ch.choice((1, 30))), customer)]


def case_events(ch: Chooser, ruleset: Ruleset | None = None, *, max_starts: int = 4) -> list[dict[str, Any]]:
    """One well-formed case history from any :class:`Chooser` (the shared building block).

    A ``case_opened`` first; then up to ``max_starts`` start events of the ruleset's
    deadlines (honouring their ``when``), each sometimes followed later by one of its stop
    events; optionally a pause (resumed or still open), a severity change, and a customer
    with profiles, overrides and care contacts. Events come in increasing ``at``.
    """
    at = _instant(ch)
    case_id = ch.choice(("c1", "c2", "C-1001"))
    customer = ch.choice((None, *_CUSTOMERS))
    events = _earlier_profiles(ch, at, customer) if customer is not None else []
    opened = _event(ch, "case_opened", at, case_id)
    if customer is not None:
        opened["customer_id"] = customer
    else:
        opened.pop("customer_id", None)
    events.append(opened)
    pairs = _pairs(ruleset)
    pending_stops: list[tuple[dt.datetime, dict[str, Any]]] = []
    clock = at
    for _ in range(ch.integer(0, max_starts)):
        clock = clock + dt.timedelta(seconds=ch.choice(_STEPS[:10]))
        start, stops = ch.choice(pairs)
        events.append(_event(ch, start.event, clock, case_id, start.when))
        if ch.integer(0, 2) > 0:
            stop = ch.choice(stops)
            when_stop = clock + dt.timedelta(seconds=ch.choice(_STEPS))
            pending_stops.append((when_stop, _event(ch, stop.event, when_stop, case_id, stop.when)))
    extra, later = _extra(ch, clock, case_id, customer)
    events += extra
    pending_stops += later
    for _, stop_event in sorted(pending_stops, key=lambda p: p[0]):
        events.append(stop_event)
    events.sort(key=lambda e: dt.datetime.fromisoformat(e["at"]))
    return events


def _extra(
    ch: Chooser, clock: dt.datetime, case_id: str, customer: str | None
) -> tuple[list[dict[str, Any]], list[tuple[dt.datetime, dict[str, Any]]]]:
    """Sometimes one more thing after ``clock``: a pause (resumed later or left open), a case
    update, or a later event of the customer. (events, (instant, event) pairs that come later)"""
    extra = ch.integer(0, 5)
    if extra == 1:
        paused = clock + dt.timedelta(seconds=ch.choice(_STEPS[:12]))
        pause = _event(ch, "case_paused", paused, case_id)
        if not ch.boolean():
            return [pause], []
        resumed = paused + dt.timedelta(seconds=ch.choice(_STEPS[3:]))
        return [pause], [(resumed, _event(ch, "case_resumed", resumed, case_id))]
    if extra == 2:
        changed = clock + dt.timedelta(seconds=ch.choice(_STEPS[:12]))
        return [_event(ch, "case_updated", changed, case_id)], []
    if extra == 3 and customer is not None:
        later = clock + dt.timedelta(days=ch.choice((1, 20, 100)))
        kind = ch.choice(("customer_profile", "tier_override", "care_contacted"))
        return [_event(ch, kind, later, None, customer_id=customer)], []
    return [], []


def _now_after(ch: Chooser, history: Sequence[Mapping[str, Any]]) -> dt.datetime:
    last = max(dt.datetime.fromisoformat(str(e["at"])) for e in history)
    return last + dt.timedelta(seconds=ch.choice(_STEPS))


# ----------------------------------------------------------------------------- strategies


def events(types: Sequence[str] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """One event (JSON form) of any type of the vocabulary, or of ``types``.

    >>> import tierrules
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=30)
    ... @given(events())
    ... def check(event):
    ...     tierrules.parse_events([event])       # always valid
    >>> check()
    """
    names = sorted(types if types is not None else EVENT_TYPES)
    unknown = [n for n in names if n not in EVENT_TYPES]
    if unknown:
        raise ValueError(f"unknown event types: {unknown}")

    _need_hypothesis()

    @st.composite
    def draw(d: st.DrawFn) -> dict[str, Any]:
        ch = _Drawing(d)
        kind = ch.choice(names)
        scope = EVENT_TYPES[kind].scope
        case_id = ch.choice(("c1", "c2")) if scope == "case" or ch.boolean() else None
        return _event(ch, kind, _instant(ch), case_id)

    return draw()


def cases(ruleset: Ruleset | None = None, *, max_starts: int = 4) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Whole, well-formed case histories (lists of event dicts in increasing ``at``).

    Start/stop pairs come from ``ruleset``'s deadlines (``start`` / ``met_by`` /
    ``cancelled_by`` with their ``when``), so new rules and event types are covered
    automatically; without a ruleset any case event may start or stop.
    """

    _need_hypothesis()

    @st.composite
    def draw(d: st.DrawFn) -> list[dict[str, Any]]:
        return case_events(_Drawing(d), ruleset, max_starts=max_starts)

    return draw()


def timed_cases(
    ruleset: Ruleset | None = None, *, max_starts: int = 4
) -> st.SearchStrategy[tuple[list[dict[str, Any]], dt.datetime]]:
    """``(events, now)``: a case history from :func:`cases` and a ``now`` at or after its last event."""

    _need_hypothesis()

    @st.composite
    def draw(d: st.DrawFn) -> tuple[list[dict[str, Any]], dt.datetime]:
        ch = _Drawing(d)
        history = case_events(ch, ruleset, max_starts=max_starts)
        return history, _now_after(ch, history)

    return draw()


def profiles(customer_id: str | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """``customer_profile`` events with figures around the default thresholds.

    >>> from hypothesis import find
    >>> find(profiles("C-9"), lambda p: p.get("vip_card") is True)["customer_id"]
    'C-9'
    """

    _need_hypothesis()

    @st.composite
    def draw(d: st.DrawFn) -> dict[str, Any]:
        ch = _Drawing(d)
        return _profile(ch, _instant(ch), customer_id or ch.choice(_CUSTOMERS))

    return draw()


_TIMEZONES = ("Asia/Shanghai", "UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _calendar(ch: Chooser) -> dict[str, Any]:
    spec: dict[str, Any] = {"timezone": ch.choice(_TIMEZONES)}
    if ch.integer(0, 4) == 0:
        spec["always_open"] = True
        return spec
    spec["hours"] = _hours(ch)
    if ch.boolean():
        spec["holidays"] = {"country": ch.choice(("CN", "US", "DE"))}
    days = sorted(
        {dt.date(2026, 1, 1) + dt.timedelta(days=ch.integer(0, 364)) for _ in range(ch.integer(0, 4))}
    )
    split = ch.integer(0, len(days))
    spec["closed_dates"] = [d.isoformat() for d in days[:split]]
    spec["open_dates"] = [d.isoformat() for d in days[split:]]
    return spec


def _hours(ch: Chooser) -> dict[str, list[str]]:
    """Weekly hours: some weekdays closed, some with a lunch break; never none open."""
    hours: dict[str, list[str]] = {}
    for day in _DAYS:
        if ch.integer(0, 3) == 0:
            continue
        start = ch.integer(0, 12)
        if ch.boolean():  # a lunch break: two intervals
            mid = start + ch.integer(1, 5)
            end = mid + 1 + ch.integer(1, 23 - mid - 1 if mid < 22 else 1)
            hours[day] = [f"{start:02d}:00-{mid:02d}:00", f"{mid + 1:02d}:00-{min(end, 24):02d}:00"]
        else:
            hours[day] = [f"{start:02d}:{ch.choice((0, 30)):02d}-{ch.integer(start + 1, 24):02d}:00"]
    if not hours:
        hours["mon"] = ["09:00-18:00"]
    return hours


def calendars() -> st.SearchStrategy[dict[str, Any]]:
    """Valid calendar specs (the mapping under ``calendars.<name>`` in a ruleset).

    >>> from hypothesis import given, settings
    >>> from tierrules.ruleset.model import CalendarSpec
    >>> @settings(max_examples=20)
    ... @given(calendars())
    ... def check(spec):
    ...     CalendarSpec.model_validate(spec)
    >>> check()
    """

    _need_hypothesis()

    @st.composite
    def draw(d: st.DrawFn) -> dict[str, Any]:
        return _calendar(_Drawing(d))

    return draw()


# ----------------------------------------------------------------------------- ruleset variations


def _seconds(duration: Mapping[str, Any]) -> int:
    return (
        int(duration["amount"])
        * {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}[duration["unit"]]
    )


def _scale_duration(duration: Mapping[str, Any], factor: float) -> dict[str, Any]:
    """``duration`` times ``factor``, at least 1 of the smallest sensible unit, rounded inwards.

    Working days stay working days (a working day is not 24 working hours); other units
    are re-expressed in the largest unit that divides the result evenly.
    """
    working = bool(duration.get("working", False))
    if duration["unit"] == "days" and working:
        amount = max(1, round(int(duration["amount"]) * factor))
        return {"amount": amount, "unit": "days", "working": True}
    seconds = max(1, round(_seconds(duration) * factor))
    if factor < 1:
        seconds = min(seconds, _seconds(duration))
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60), ("seconds", 1)):
        if working and unit == "days":
            continue
        if seconds % size == 0:
            return {"amount": seconds // size, "unit": unit, "working": working}
    raise AssertionError("unreachable")


def _scaled_targets(rule: Mapping[str, Any], factor: float) -> dict[str, Any]:
    """A deadline rule's ``within`` and ``within_by`` (those it has) times ``factor``."""
    out: dict[str, Any] = {}
    if rule.get("within") is not None:
        out["within"] = _scale_duration(rule["within"], factor)
    if rule.get("within_by"):
        out["within_by"] = {
            attr: {key: _scale_duration(duration, factor) for key, duration in by.items()}
            for attr, by in rule["within_by"].items()
        }
    return out


def scaled(
    ruleset: Ruleset,
    factor: float,
    *,
    rules: Iterable[str] | None = None,
    warn_at: list[int] | None = None,
) -> Ruleset:
    """A copy of ``ruleset`` with the ``within``/``within_by`` targets of ``rules`` (all by
    default) multiplied by ``factor``; ``factor < 1`` is a stricter policy.

    >>> import tierrules
    >>> strict = scaled(tierrules.load_ruleset(), 0.75, rules=["E2.complaint-reply"])
    >>> str(next(r for r in strict.deadlines if r.id == "E2.complaint-reply").within)
    '45 working minutes'
    """
    if factor <= 0:
        raise ValueError("factor must be positive")
    wanted = set(rules) if rules is not None else None
    data = ruleset.model_dump(mode="json")
    for rule in data["deadlines"]:
        if wanted is not None and rule["id"] not in wanted:
            continue
        rule.update(_scaled_targets(rule, factor))
        if warn_at is not None:
            rule["warn_at"] = warn_at
    return load_ruleset(data)


def _move_thresholds(data: dict[str, Any], factors: Mapping[str, float]) -> None:
    """Scale each metric's threshold by one factor across all tiers: monotonicity is kept."""
    tiers = data.get("tiers")
    if not tiers:
        return
    for rule in tiers["thresholds"]:
        low = rule.get("min")
        if not low:
            continue
        low["spend_12m"] = round(float(low["spend_12m"]) * factors["spend_12m"], 2)
        for metric in ("visits_12m", "tenure_months"):
            low[metric] = round(int(low[metric]) * factors[metric])


def _variant(ch: Chooser, base: Ruleset, stricter_only: bool) -> Ruleset:
    data = base.model_dump(mode="json")
    factors = (0.25, 0.5, 0.75, 0.9) if stricter_only else (0.25, 0.5, 0.75, 0.9, 1.0, 1.25, 1.5, 2.0)
    for rule in data["deadlines"]:
        if ch.integer(0, 2) == 0:
            continue
        factor = ch.choice(factors)
        rule.update(_scaled_targets(rule, factor))
        if ch.integer(0, 3) == 0:
            rule["warn_at"] = ch.choice(([], [50], [50, 80], [80]))
    if not stricter_only and ch.boolean():
        _move_thresholds(
            data,
            {m: ch.choice((0.5, 0.8, 1.0, 1.2, 2.0)) for m in ("spend_12m", "visits_12m", "tenure_months")},
        )
    return load_ruleset(data)


def rulesets(base: Ruleset | None = None, *, stricter_only: bool = False) -> st.SearchStrategy[Ruleset]:
    """Valid variations of ``base`` (the bundled default when None), loaded and compiled.

    Targets of a random subset of deadline rules are scaled (by 0.25–2, or only
    tightened with ``stricter_only``), warnings toggled, and tier thresholds moved by one
    factor per metric (which keeps them monotone). Loading a variation is slower than
    evaluating (it compiles rule engines): use few examples.
    """
    chosen = base if base is not None else load_ruleset()

    _need_hypothesis()

    @st.composite
    def draw(d: st.DrawFn) -> Ruleset:
        return _variant(_Drawing(d), chosen, stricter_only)

    return draw()


def generate_cases(
    ruleset: Ruleset | None, count: int, *, seed: int = 0, max_starts: int = 4
) -> list[tuple[list[dict[str, Any]], dt.datetime]]:
    """``count`` ``(events, now)`` pairs from a seeded ``random.Random``: deterministic per seed.

    Uses the same building blocks as :func:`timed_cases`, without hypothesis's machinery.
    """
    ch = _Seeded(random.Random(seed))
    out = []
    for _ in range(count):
        history = case_events(ch, ruleset, max_starts=max_starts)
        out.append((history, _now_after(ch, history)))
    return out


# ----------------------------------------------------------------------------- invariants


def _engine(engine_or_ruleset: Engine | Ruleset) -> Engine:
    return Engine(engine_or_ruleset) if isinstance(engine_or_ruleset, Ruleset) else engine_or_ruleset


def _describe(events: Sequence[Mapping[str, Any]], now: dt.datetime) -> str:
    lines = [f"  now: {now.isoformat()}"] + [f"  {dict(e)}" for e in events]
    return "\n".join(lines)


def assert_deterministic(
    engine: Engine | Ruleset, events: Sequence[Mapping[str, Any]], now: dt.datetime
) -> Decision:
    """Evaluating the same events twice gives byte-identical JSON; returns the decision.

    >>> import datetime as dt, tierrules
    >>> engine = tierrules.Engine()
    >>> now = dt.datetime.fromisoformat("2026-11-24T12:00:00+08:00")
    >>> d = assert_deterministic(engine, [{"type": "complaint_registered",
    ...     "at": "2026-11-24T10:00:00+08:00", "case_id": "c1"}], now)
    >>> d.obligations[0].status
    'breached'
    """
    eng = _engine(engine)
    first = eng.evaluate(events, now)
    second = eng.evaluate(list(events), now)
    if first.to_json() != second.to_json():
        raise AssertionError("two evaluations of the same events differ:\n" + _describe(events, now))
    return first


def assert_order_insensitive(
    engine: Engine | Ruleset, events: Sequence[Mapping[str, Any]], now: dt.datetime, *, shuffles: int = 2
) -> None:
    """The decision does not depend on the order events arrive in (reversed, shuffled).

    Events at one instant are ordered by ``seq`` and otherwise kept in the order given (the
    host knows which utterance came first; the text does not), so orders that keep
    same-instant events in their given order are compared, and then every order once each
    event carries its position as ``seq``.
    """
    eng = _engine(engine)
    expected = eng.evaluate(events, now).to_json()
    numbered: list[Mapping[str, Any]] = [{**e, "seq": i} for i, e in enumerate(events)]
    with_seq = eng.evaluate(numbered, now).to_json()
    rng = random.Random(len(events))
    orders: list[tuple[list[Mapping[str, Any]], str]] = [
        (_keep_instants(list(reversed(events)), events), expected)
    ]
    for _ in range(shuffles):
        order = list(events)
        rng.shuffle(order)
        orders.append((_keep_instants(order, events), expected))
        anyhow = list(numbered)
        rng.shuffle(anyhow)
        orders.append((anyhow, with_seq))
    for order, want in orders:
        if eng.evaluate(order, now).to_json() != want:
            raise AssertionError(
                "the decision depends on event order; this order differs:\n" + _describe(order, now)
            )


def _keep_instants(
    order: list[Mapping[str, Any]], given: Sequence[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """``order``, with the events of each instant put back in their given relative order."""
    position = {id(e): i for i, e in enumerate(given)}
    slots: dict[str, list[int]] = {}
    for i, event in enumerate(order):
        slots.setdefault(_instant_key(event), []).append(i)
    out = list(order)
    for indexes in slots.values():
        same = sorted((order[i] for i in indexes), key=lambda e: position[id(e)])
        for i, event in zip(indexes, same, strict=True):
            out[i] = event
    return out


def _instant_key(event: Mapping[str, Any]) -> str:
    at = event.get("at")
    parsed = dt.datetime.fromisoformat(at) if isinstance(at, str) else at
    return parsed.astimezone(dt.timezone.utc).isoformat() if isinstance(parsed, dt.datetime) else str(at)


def assert_obligations_resolve(
    engine: Engine | Ruleset, events: Sequence[Mapping[str, Any]], now: dt.datetime
) -> None:
    """Evaluated after every due time, every case obligation is met or breached.

    Exceptions, by design: an obligation whose pause is still open (it cannot breach),
    and the current period of a customer's cadence (T7/T8 chains never end).
    """
    eng = _engine(engine)
    first = eng.evaluate(events, now)
    latest = max([now, *(o.due_at for o in first.obligations)])
    later = latest + dt.timedelta(seconds=1)
    decision = eng.evaluate(events, later)
    for ob in decision.obligations:
        if ob.case_id is None or ob.paused:
            continue
        if ob.status not in ("met", "breached"):
            raise AssertionError(
                f"obligation {ob.id} is still {ob.status} at {later.isoformat()}, after its due time "
                f"{ob.due_at.isoformat()}:\n" + _describe(events, later)
            )


def _tier_rank(decision: Decision) -> dict[str, int]:
    return {t.customer_id: TIER_ORDER.index(t.tier) for t in decision.tiers}


def assert_monotone_tiers(
    engine: Engine | Ruleset, events: Sequence[Mapping[str, Any]], now: dt.datetime
) -> None:
    """Better figures never give a lower tier: each ``customer_profile`` in ``events``,
    taken alone, is compared with the same profile with every metric raised.

    (Whole histories are not monotone: the soft landing makes them path-dependent — an
    earlier upgrade restarts the qualification period.)
    """
    eng = _engine(engine)
    for event in events:
        if event.get("type") != "customer_profile":
            continue
        raised = dict(event)
        raised["spend_12m"] = float(event["spend_12m"]) * 2 + 1000
        raised["visits_12m"] = int(event["visits_12m"]) + 5
        raised["tenure_months"] = int(event["tenure_months"]) + 5
        before = _tier_rank(eng.evaluate([event], now))
        after = _tier_rank(eng.evaluate([raised], now))
        for customer, rank in before.items():
            if after.get(customer, rank) < rank:
                raise AssertionError(
                    f"raising every metric lowered {customer}'s tier from {TIER_ORDER[rank]} to "
                    f"{TIER_ORDER[after[customer]]}: {dict(event)} -> {raised}"
                )


def assert_stricter_never_passes(
    lax: Engine | Ruleset, strict: Engine | Ruleset, events: Sequence[Mapping[str, Any]], now: dt.datetime
) -> None:
    """Nothing breached under the ``lax`` ruleset is met under the ``strict`` one (by obligation id).

    >>> import datetime as dt, tierrules
    >>> lax = tierrules.load_ruleset()
    >>> strict = scaled(lax, 0.5)
    >>> complaint = [{"type": "complaint_registered", "at": "2026-11-24T10:00:00+08:00", "case_id": "c1"},
    ...              {"type": "complaint_replied", "at": "2026-11-24T10:40:00+08:00", "case_id": "c1"}]
    >>> now = dt.datetime.fromisoformat("2026-11-25T10:00:00+08:00")
    >>> assert_stricter_never_passes(lax, strict, complaint, now)
    """
    lax_d = _engine(lax).evaluate(events, now)
    strict_d = _engine(strict).evaluate(events, now)
    strict_status = {o.id: o for o in strict_d.obligations}
    for ob in lax_d.obligations:
        other = strict_status.get(ob.id)
        if ob.status == "breached" and other is not None and other.status == "met":
            raise AssertionError(
                f"{ob.id} is breached under the lax ruleset (due {ob.due_at.isoformat()}) but met under "
                f"the stricter one (due {other.due_at.isoformat()}):\n" + _describe(events, now)
            )
