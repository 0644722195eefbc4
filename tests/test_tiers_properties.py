"""Hypothesis properties of customer tiers, matched through durable_rules as the engine will.

- more spend, visits or tenure never gives a lower tier (default and random valid thresholds);
- an override always wins until it expires, and then changes nothing;
- the gap to the next tier is positive, and closing it reaches that tier;
- the result depends only on the events as a set, and agrees with ``level_at``;
- cadence chains are well formed.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections import defaultdict
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tierrules.evaluation.tiers import TierResult, months_after
from tierrules.ruleset.tiers import Thresholds, TiersSpec, check
from tierrules.vocabulary import TIERS

from .test_tiers import (
    AT_THRESHOLD,
    SHANGHAI,
    SPEC,
    at,
    contact,
    only,
    override,
    profile,
    run,
    with_soft_landing,
)

RANK = {tier: len(TIERS) - 1 - i for i, tier in enumerate(TIERS)}
T0 = "2025-01-01 00:00"
FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Metrics near the example thresholds as well as anywhere.
spends = st.one_of(
    st.sampled_from([0, 19_999.99, 20_000, 99_999.99, 100_000, 299_999.99, 300_000, 999_999.99, 1_000_000]),
    st.integers(0, 2_000_000_00).map(lambda cents: cents / 100),
)
counts = st.one_of(st.sampled_from([0, 1, 2, 5, 6, 11, 12, 23, 24]), st.integers(0, 40))
metrics = st.one_of(st.sampled_from(list(AT_THRESHOLD.values())), st.tuples(spends, counts, counts))
minutes = st.integers(0, 900 * 24 * 60)  # about 2.5 years after T0


def when(offset_minutes: int) -> str:
    return (at(T0) + dt.timedelta(minutes=offset_minutes)).strftime("%Y-%m-%d %H:%M")


@st.composite
def histories(draw: st.DrawFn, customer: str = "c1", max_size: int = 5) -> list[dict[str, Any]]:
    """A customer's profiles at distinct instants."""
    offsets = draw(st.lists(minutes, min_size=1, max_size=max_size, unique=True))
    out = []
    for m in sorted(offsets):
        spend, visits, tenure = draw(metrics)
        out.append(profile(when(m), spend, visits, tenure, customer=customer, vip=draw(st.booleans())))
    return out


def latest(events: list[dict[str, Any]]) -> str:
    return str(max(e["at"] for e in events))


def now_after(events: list[dict[str, Any]], extra_minutes: int) -> dt.datetime:
    return dt.datetime.fromisoformat(latest(events)) + dt.timedelta(minutes=extra_minutes)


# --- Monotone tiers ------------------------------------------------------------------------------


@FAST
@given(metrics, st.tuples(st.integers(0, 500_000), st.integers(0, 20), st.integers(0, 20)), st.booleans())
def test_more_spend_visits_or_tenure_never_gives_a_lower_tier(
    base: tuple[float, int, int], more: tuple[int, int, int], vip: bool
) -> None:
    better = (base[0] + more[0], base[1] + more[1], base[2] + more[2])
    events = [
        profile("2026-01-15 10:00", *base, customer="low", vip=vip),
        profile("2026-01-15 10:00", *better, customer="high", vip=vip),
    ]
    result = run(events, "2026-01-15 10:00")
    assert RANK[only(result, "low").tier] <= RANK[only(result, "high").tier]


@st.composite
def valid_specs(draw: st.DrawFn) -> TiersSpec:
    """Random thresholds obeying the rules: monotone, each tier above the next on some metric."""
    current = [0, 0, 0]
    minimums: dict[str, Thresholds] = {}
    for tier in reversed(TIERS[:-1]):  # silver up to diamond
        raise_on = draw(st.integers(0, 2))
        steps = [draw(st.integers(0, 3)) for _ in range(3)]
        steps[raise_on] = max(steps[raise_on], 1)
        current = [current[0] + steps[0] * 50_000, current[1] + steps[1] * 3, current[2] + steps[2] * 4]
        minimums[tier] = Thresholds(
            spend_12m=float(current[0]), visits_12m=current[1], tenure_months=current[2]
        )
    rules = [r.model_copy(update={"min": minimums.get(r.tier)}) for r in SPEC.thresholds]
    spec = SPEC.model_copy(update={"thresholds": rules})
    assert check(spec) == []
    return spec


@settings(max_examples=25, deadline=None)
@given(
    valid_specs(),
    st.lists(st.tuples(st.integers(0, 700_000), st.integers(0, 40), st.integers(0, 40)), min_size=2),
)
def test_monotone_under_any_valid_thresholds(spec: TiersSpec, points: list[tuple[int, int, int]]) -> None:
    events = [profile("2026-01-15 10:00", *p, customer=f"p{i}") for i, p in enumerate(points)]
    result = run(events, "2026-01-15 10:00", spec=spec)
    tiers = {a.customer_id: RANK[a.tier] for a in result.assignments}
    for i, p in enumerate(points):
        for j, q in enumerate(points):
            if all(a <= b for a, b in zip(p, q, strict=True)):
                assert tiers[f"p{i}"] <= tiers[f"p{j}"], (p, q)


# --- Overrides ------------------------------------------------------------------------------------


@FAST
@given(
    histories(),
    st.sampled_from(TIERS),
    minutes,
    st.one_of(st.none(), st.integers(1, 200 * 24 * 60)),
    st.integers(0, 400 * 24 * 60),
    st.booleans(),
)
def test_an_override_wins_until_it_expires(
    history: list[dict[str, Any]], tier: str, start: int, length: int | None, later: int, at_until: bool
) -> None:
    until = when(start + length) if length is not None else None
    manual = override(when(start), tier, until=until)
    events = [*history, manual]
    now = now_after(events, later)
    if at_until and until is not None and at(until) >= now_after(events, 0):
        now = at(until)  # the boundary: expired at its until, exactly
    with_override, without = run(events, now), run(history, now)
    a = only(with_override)
    if until is None or now < at(until):
        assert (a.tier, a.rule, a.source) == (tier, "T6.override", "T6")
        state = with_override.level_at("c1", at(when(start)))
        assert state is not None and state.tier == tier
    else:
        b = only(without)
        assert (a.tier, a.service_class, a.service_level, a.rule) == (
            b.tier,
            b.service_class,
            b.service_level,
            b.rule,
        )
        assert a.next_tier == b.next_tier
        assert any("expired" in r.get("note", "") for r in a.reasons)


# --- The soft landing ---------------------------------------------------------------------------------


@FAST
@given(histories(max_size=8), st.integers(1, 4), st.integers(0, 14))
def test_upgrades_at_once_downgrades_late_and_bounded(
    history: list[dict[str, Any]], steps: int, period_months: int
) -> None:
    spec = with_soft_landing(SPEC, qualification_period=f"{period_months} months", max_downgrade_steps=steps)
    history = [{**e, "vip_card": False} for e in history]
    now = now_after(history, 0)
    result = run(history, now, spec=spec)
    alone = run([{**e, "customer_id": f"alone-{i}"} for i, e in enumerate(history)], now, spec=spec)
    timeline = result.timeline("c1")
    for i, event in enumerate(history):
        instant = dt.datetime.fromisoformat(event["at"])
        state = result.level_at("c1", instant)
        assert state is not None
        # Never below what the thresholds give for the profile just received.
        assert RANK[state.tier] >= RANK[only(alone, f"alone-{i}").tier]
    changes = [(t, s) for n, (t, s) in enumerate(timeline) if n == 0 or s.tier != timeline[n - 1][1].tier]
    for (before_at, before), (after_at, after) in itertools.pairwise(changes):
        if RANK[after.tier] < RANK[before.tier]:
            assert RANK[before.tier] - RANK[after.tier] <= steps
            assert after_at >= months_after(spec.soft_landing.qualification_period, before_at, SHANGHAI)


# --- Gaps -------------------------------------------------------------------------------------------


@FAST
@given(histories(), st.integers(0, 400 * 24 * 60), st.integers(1, 600 * 24 * 60))
def test_the_gap_is_positive_and_closing_it_reaches_the_next_tier(
    history: list[dict[str, Any]], later: int, afterwards: int
) -> None:
    now = now_after(history, later)
    a = only(run(history, now))
    if a.tier == "diamond":
        assert a.next_tier is None
        return
    assert a.next_tier is not None
    assert RANK[a.next_tier.tier] == RANK[a.tier] + 1
    gaps = a.next_tier.gaps
    assert list(gaps) == ["spend_12m", "visits_12m", "tenure_months"]
    assert all(g >= 0 for g in gaps.values()) and any(g > 0 for g in gaps.values())
    last = max(history, key=lambda e: e["at"])
    closed = {
        **last,
        "at": (now + dt.timedelta(minutes=afterwards)).isoformat(),
        "spend_12m": last["spend_12m"] + gaps["spend_12m"],
        "visits_12m": last["visits_12m"] + gaps["visits_12m"],
        "tenure_months": last["tenure_months"] + gaps["tenure_months"],
    }
    b = only(run([*history, closed], dt.datetime.fromisoformat(closed["at"])))
    assert RANK[b.tier] >= RANK[a.next_tier.tier]  # an upgrade takes effect at once


# --- Determinism ---------------------------------------------------------------------------------------


@st.composite
def mixed_events(draw: st.DrawFn) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for customer in draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3, unique=True)):
        events += draw(histories(customer=customer, max_size=4))
        for m in draw(st.lists(minutes, max_size=6)):
            events.append(contact(when(m), customer=customer))
        for m in draw(st.lists(minutes, max_size=2)):
            length = draw(st.one_of(st.none(), st.integers(1, 100 * 24 * 60)))
            events.append(
                override(
                    when(m),
                    draw(st.sampled_from(TIERS)),
                    until=when(m + length) if length is not None else None,
                    customer=customer,
                )
            )
    return events


def dump(result: TierResult) -> tuple[list[Any], list[Any], Any]:
    return (
        [a.model_dump(mode="json") for a in result.assignments],
        [(o.id, o.status, o.started_at, o.due_at, o.met_at) for o in result.obligations],
        result.next_change_at,
    )


@FAST
@given(mixed_events(), st.integers(0, 200 * 24 * 60), st.randoms(use_true_random=False))
def test_deterministic_order_insensitive_and_consistent_with_level_at(
    events: list[dict[str, Any]], later: int, rnd: random.Random
) -> None:
    now = now_after(events, later)
    first = run(events, now)
    shuffled = list(events)
    rnd.shuffle(shuffled)
    assert dump(run(shuffled, now)) == dump(first)
    for a in first.assignments:
        state = first.level_at(a.customer_id, now)
        assert state is not None
        assert (state.tier, state.service_class, state.service_level, state.rule, state.source) == (
            a.tier,
            a.service_class,
            a.service_level,
            a.rule,
            a.source,
        )
    pending = [o.due_at for o in first.obligations if o.status == "pending"]
    if first.next_change_at is not None:
        assert first.next_change_at > now
    assert first.next_change_at == min(
        [*pending, *[s for c in first.timelines for s, _ in first.timeline(c) if s > now]], default=None
    )


# --- Cadence chains ------------------------------------------------------------------------------------


@FAST
@given(mixed_events(), st.integers(0, 200 * 24 * 60))
def test_cadence_chains_are_well_formed(events: list[dict[str, Any]], later: int) -> None:
    now = now_after(events, later)
    result = run(events, now)
    every = {c.id: c.every for c in SPEC.cadences}
    contacts = defaultdict(set)
    for e in events:
        if e["type"] == "care_contacted":
            contacts[e["customer_id"]].add(dt.datetime.fromisoformat(e["at"]))
    chains: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for o in result.obligations:
        chains[(o.customer_id, o.rule)].append(o)
    assume(result.obligations)
    for (customer, rule), obs in chains.items():
        obs.sort(key=lambda o: int(o.id.rsplit("/", 1)[1]))
        assert len({o.id for o in obs}) == len(obs)
        for o in obs:
            assert o.due_at == months_after(every[rule], o.started_at, SHANGHAI)
            assert o.started_at <= now
            if o.status == "pending":
                assert o.due_at > now and o.met_at is None
                assert o is obs[-1]
            elif o.status == "met":
                assert o.met_at is not None and o.started_at <= o.met_at <= o.due_at
            else:
                assert o.due_at <= now
                assert o.met_at is None or o.met_at > o.due_at
            if o.met_at is not None:
                assert o.met_at in contacts[customer]
        for prev, nxt in itertools.pairwise(obs):
            if int(nxt.id.rsplit("/", 1)[1]) == int(prev.id.rsplit("/", 1)[1]) + 1:
                assert nxt.started_at == (prev.met_at if prev.status == "met" else prev.due_at)
            else:
                assert nxt.started_at > prev.started_at  # a new stretch in the tier/level
        state = result.level_at(customer, now)
        pending = [o for o in obs if o.status == "pending"]
        if pending:  # a chain runs only while its rule applies
            cadence = next(c for c in SPEC.cadences if c.id == rule)
            assert state is not None
            assert state.tier == cadence.tier or state.service_level == cadence.service_level
