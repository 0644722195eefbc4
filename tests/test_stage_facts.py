"""The facts stage on its own: event order, flat facts, and what the matches mean per rule and case.

evaluation/facts.py sits between the cases and the matcher: it orders events, builds the
fact the matcher sees of each one (only what some rule tests), sends only facts of types a
rule names, and turns the matches into clock starts and stops. These tests drive it with a
tiny hand-written ruleset and a spy matcher, with no engine around it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tierrules.compiler.conditions import Fact
from tierrules.compiler.load import compiled
from tierrules.evaluation.cases import Case, build_cases
from tierrules.evaluation.facts import FactBuilder, MatchPlan, order_events, order_key
from tierrules.evaluation.obligations import Started, Stop
from tierrules.events import EventBase, parse_events
from tierrules.matching import MatcherKind, build_matcher

from .conftest import at, ev
from .support.tiny import rule, tiny

UTC = dt.timezone.utc
RULES = tiny(
    rule(
        "R1.reply",
        {"event": "complaint_registered"},
        [{"event": "complaint_replied"}, {"event": "complaint_resolved"}],
        applies_to={"channel": ["phone", "lobby"]},
    ),
    rule(
        "R2.resolve",
        {"event": "complaint_registered"},
        {"event": "complaint_resolved"},
        applies_to={"channel": ["phone", "lobby"]},
        cancelled_by={"event": "case_resolved"},
    ),
    rule(
        "R3.progress",
        {"event": "feedback_received", "when": {"severity": ["urgent", "important"]}},
        {"event": "progress_reported"},
        applies_to={"tier": ["standard", "gold"]},
    ),
)
COMPILED = compiled(RULES)
NAMED = COMPILED.matched_types()


class SpyMatcher:
    """A Python matcher that remembers every batch of facts it was asked about."""

    def __init__(self) -> None:
        self._inner = build_matcher(COMPILED.case_rules, "python")
        self.batches: list[list[dict[str, Any]]] = []

    @property
    def kind(self) -> MatcherKind:
        return "python"

    def match(self, facts: Sequence[Fact]) -> Mapping[int, tuple[str, ...]]:
        self.batches.append([dict(f) for f in facts])
        return self._inner.match(facts)


def _events(*raw: dict[str, Any]) -> list[EventBase]:
    return parse_events(list(raw))


def _plan(events: list[EventBase], now: dt.datetime) -> tuple[MatchPlan, SpyMatcher, list[EventBase]]:
    ordered, instants = order_events(events)
    cases = build_cases(ordered, None)
    spy = SpyMatcher()
    plan = MatchPlan.build(COMPILED, spy, FactBuilder(COMPILED), ordered, instants, cases, now)
    return plan, spy, ordered


# --- order_key / order_events -------------------------------------------------------------


def test_order_key_is_utc_instant_then_seq_then_index() -> None:
    [with_seq, without] = _events(
        ev("case_resolved", "2026-11-24 10:00", seq=7), ev("case_resolved", "2026-11-24 10:00")
    )
    instant = dt.datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    assert order_key(with_seq, 3) == (instant, False, 7, 3)
    assert order_key(without, 1) == (instant, True, 0, 1)
    assert order_key(with_seq, 3) < order_key(without, 1)
    assert order_key(with_seq, 3)[0].tzinfo is UTC


def test_order_events_by_instant_across_offsets() -> None:
    late = {"type": "case_resolved", "at": "2026-11-24T03:00:00Z", "case_id": "c1", "id": "late"}
    early = {"type": "case_resolved", "at": "2026-11-24T10:30:00+08:00", "case_id": "c1", "id": "early"}
    ordered, instants = order_events(_events(late, early))
    assert [e.id for e in ordered] == ["early", "late"]
    assert instants == [
        dt.datetime(2026, 11, 24, 2, 30, tzinfo=UTC),
        dt.datetime(2026, 11, 24, 3, 0, tzinfo=UTC),
    ]
    assert all(t.utcoffset() == dt.timedelta(0) for t in instants)


def test_same_instant_events_with_seq_first_by_seq_then_as_given() -> None:
    when = "2026-11-24 10:00"
    events = _events(
        ev("utterance", when, id="a", speaker="agent", text="一"),
        ev("utterance", when, id="b", speaker="agent", text="二", seq=5),
        ev("utterance", when, id="c", speaker="agent", text="三"),
        ev("utterance", when, id="d", speaker="agent", text="四", seq=2),
        ev("utterance", "2026-11-24 09:59", id="e", speaker="agent", text="五", seq=99),
    )
    ordered, _ = order_events(events)
    assert [e.id for e in ordered] == ["e", "d", "b", "a", "c"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.none() | st.integers(0, 3)), min_size=1, max_size=8))
def test_order_events_is_a_sort_that_keeps_the_given_order_of_ties(
    keys: list[tuple[int, int | None]],
) -> None:
    base = at("2026-11-24 10:00")
    events = [
        EventBase.model_construct(type="case_resolved", at=base + dt.timedelta(minutes=m), case_id="c", seq=s)
        for m, s in keys
    ]
    ordered, instants = order_events(events)
    assert sorted(map(id, ordered)) == sorted(map(id, events))  # a permutation
    positions = [next(i for i, e in enumerate(events) if e is o) for o in ordered]
    sort_keys = [(o.at, o.seq is None, o.seq or 0, p) for o, p in zip(ordered, positions, strict=True)]
    assert sort_keys == sorted(sort_keys)
    assert instants == [o.at.astimezone(UTC) for o in ordered]


# --- FactBuilder --------------------------------------------------------------------------


def test_facts_carry_only_the_fields_rules_test() -> None:
    [opened, feedback, arrived] = _events(
        ev("case_opened", "2026-11-24 10:00", channel="phone", severity="urgent", customer_name="张三"),
        ev("feedback_received", "2026-11-24 10:05", severity="important", id="f1", agent_id="a1"),
        ev("customer_arrived", "2026-11-24 10:06", vip=True),
    )
    facts = FactBuilder(COMPILED)
    # severity is tested (R3's when), channel only as a case attribute, vip never.
    assert facts.fact(opened, None) == {"type": "case_opened", "severity": "urgent"}
    assert facts.fact(feedback, None) == {"type": "feedback_received", "severity": "important"}
    assert facts.fact(arrived, None) == {"type": "customer_arrived"}


def test_facts_carry_the_case_attributes_as_of_the_event() -> None:
    [feedback] = _events(ev("feedback_received", "2026-11-24 10:05", severity="urgent"))
    case = Case("c1")
    case.set("channel", at("2026-11-24 10:00"), "phone")
    case.set("tier", at("2026-11-24 11:00"), "gold")
    case.set("severity", at("2026-11-24 10:00"), "critical")  # not tested by any rule: not carried
    fact = FactBuilder(COMPILED).fact(feedback, case)
    assert fact == {
        "type": "feedback_received",
        "severity": "urgent",
        "case_channel": "phone",
        "case_tier": "standard",  # the default until 11:00
    }
    later = FactBuilder(COMPILED).fact(feedback, case, at("2026-11-24 11:00"))
    assert later["case_tier"] == "gold"


def test_a_case_attribute_with_no_value_is_left_out() -> None:
    [feedback] = _events(ev("feedback_received", "2026-11-24 10:05", severity="urgent"))
    fact = FactBuilder(COMPILED).fact(feedback, Case("c1"))  # no case_opened: no channel
    assert "case_channel" not in fact
    assert fact["case_tier"] == "standard"


def test_a_later_look_sees_the_own_severity_as_case_updated_left_it() -> None:
    events = _events(
        ev("feedback_received", "2026-11-24 10:00", severity="general"),
        ev("case_updated", "2026-11-24 11:00", severity="urgent"),
    )
    cases = build_cases(events, None)
    facts = FactBuilder(COMPILED)
    assert facts.fact(events[0], cases["c1"])["severity"] == "general"
    assert facts.fact(events[0], cases["c1"], at("2026-11-24 10:59"))["severity"] == "general"
    assert facts.fact(events[0], cases["c1"], at("2026-11-24 11:00"))["severity"] == "urgent"


# --- MatchPlan ----------------------------------------------------------------------------


def test_match_plan_starts_per_rule_numbered_per_case() -> None:
    events = _events(
        ev("case_opened", "2026-11-24 09:00", "c1", channel="phone"),
        ev("case_opened", "2026-11-24 09:00", "c2", channel="lobby"),
        ev("complaint_registered", "2026-11-24 10:00", "c1", id="r1"),
        ev("complaint_registered", "2026-11-24 10:10", "c2", id="r2"),
        ev("complaint_registered", "2026-11-24 10:20", "c1", id="r3"),
    )
    plan, _, _ = _plan(events, at("2026-11-24 12:00"))
    assert set(plan.starts) == {0, 1}  # R3 never starts
    for deadline in (0, 1):  # R1 and R2 share their start rule: both start on each event
        starts = plan.starts[deadline]
        assert [(s.event.id, s.ordinal) for s in starts] == [("r1", 1), ("r2", 1), ("r3", 2)]
        first = starts[0]
        assert first.at == at("2026-11-24 10:00").astimezone(UTC)
        assert first.attached == first.at and first.until is None


def test_match_plan_stops_per_rule_and_case_by_kind() -> None:
    events = _events(
        ev("case_opened", "2026-11-24 09:00", "c1", channel="phone"),
        ev("complaint_registered", "2026-11-24 10:00", "c1"),
        ev("complaint_replied", "2026-11-24 10:20", "c1", id="reply"),
        ev("complaint_resolved", "2026-11-24 10:40", "c1", id="done"),
        ev("case_resolved", "2026-11-24 10:50", "c2", id="other"),
    )
    plan, _, ordered = _plan(events, at("2026-11-24 12:00"))
    by_id = {e.id: e for e in ordered}
    r1 = plan.stops[(0, "c1")]
    assert r1.met == (
        Stop(at("2026-11-24 10:20").astimezone(UTC), by_id["reply"]),
        Stop(at("2026-11-24 10:40").astimezone(UTC), by_id["done"]),
    )
    assert r1.cancel == () and r1.reschedule == ()
    assert [s.event.id for s in plan.stops[(1, "c1")].met] == ["done"]
    assert plan.stops[(1, "c2")].cancel == (Stop(at("2026-11-24 10:50").astimezone(UTC), by_id["other"]),)
    assert (0, "c2") not in plan.stops  # case_resolved does not stop R1


def test_applies_to_decides_the_start() -> None:
    events = _events(
        ev("case_opened", "2026-11-24 09:00", "c1", channel="online"),
        ev("complaint_registered", "2026-11-24 10:00", "c1"),
    )
    plan, _, _ = _plan(events, at("2026-11-24 12:00"))
    assert plan.starts == {}


def test_a_watched_start_starts_and_stops_with_the_case_severity() -> None:
    events = _events(
        ev("feedback_received", "2026-11-24 10:00", id="f", severity="general"),
        ev("case_updated", "2026-11-24 11:00", severity="urgent"),
        ev("case_updated", "2026-11-24 12:00", severity="general"),
    )
    plan, spy, ordered = _plan(events, at("2026-11-24 13:00"))
    assert plan.starts == {
        2: [
            Started(
                ordered[0],
                1,
                at("2026-11-24 11:00").astimezone(UTC),
                at("2026-11-24 11:00").astimezone(UTC),
                at("2026-11-24 12:00").astimezone(UTC),
            )
        ]
    }
    # The feedback is asked again at each change: once as it came, then at 11:00 and 12:00.
    feedback = [f for f in spy.batches[0] if f["type"] == "feedback_received"]
    assert [f["severity"] for f in feedback] == ["general", "urgent", "general"]


def test_a_retroactive_start_counts_from_the_start_event() -> None:
    rules = tiny(
        rule(
            "R.fb",
            {"event": "feedback_received", "when": {"severity": ["urgent"]}},
            {"event": "progress_reported"},
            on_attribute_change="retroactive",
        )
    )
    c = compiled(rules)
    events = _events(
        ev("feedback_received", "2026-11-24 10:00", severity="general"),
        ev("case_updated", "2026-11-24 11:00", severity="urgent"),
    )
    ordered, instants = order_events(events)
    plan = MatchPlan.build(
        c,
        build_matcher(c.case_rules, "python"),
        FactBuilder(c),
        ordered,
        instants,
        build_cases(ordered, None),
        at("2026-11-24 13:00"),
    )
    [started] = plan.starts[0]
    assert started.at == at("2026-11-24 10:00").astimezone(UTC)
    assert started.attached == at("2026-11-24 11:00").astimezone(UTC)
    assert started.until is None


def test_events_of_types_no_rule_names_are_not_sent_to_the_matcher() -> None:
    assert NAMED is not None
    assert not {"utterance", "customer_arrived", "case_opened"} & NAMED
    events = _events(
        # unnamed types first, so the matches must be mapped back past them (case_opened is
        # not named either: it only feeds the case's channel, which facts carry)
        ev("utterance", "2026-11-24 09:00", "c1", speaker="agent", text="您好"),
        ev("customer_arrived", "2026-11-24 09:01", "c1"),
        ev("case_opened", "2026-11-24 09:02", "c1", channel="lobby"),
        ev("complaint_registered", "2026-11-24 10:00", "c1", id="r"),
        ev("utterance", "2026-11-24 10:01", "c1", speaker="customer", text="好"),
        ev("complaint_replied", "2026-11-24 10:20", "c1", id="reply"),
    )
    plan, spy, _ = _plan(events, at("2026-11-24 12:00"))
    [batch] = spy.batches
    assert [f["type"] for f in batch] == ["complaint_registered", "complaint_replied"]
    assert batch[0]["case_channel"] == "lobby"
    assert [s.event.id for s in plan.starts[0]] == ["r"]
    assert [s.event.id for s in plan.stops[(0, "c1")].met] == ["reply"]
