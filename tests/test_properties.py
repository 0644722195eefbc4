"""Hypothesis properties of evaluate() on the default ruleset."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import tierrules

from .conftest import CST

ENGINE = tierrules.Engine(tierrules.load_ruleset())
T0 = dt.datetime(2026, 11, 20, 0, 0, tzinfo=CST)  # a Friday, so weekends are in range

_FIELDS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "case_opened": st.fixed_dictionaries(
        {"channel": st.sampled_from(["phone", "lobby", "online", "visit"])},
        optional={"severity": st.sampled_from(["critical", "urgent", "important", "general"])},
    ),
    "escalation_needed": st.fixed_dictionaries({"agent_level": st.integers(1, 4)}),
    "escalated": st.fixed_dictionaries({"to_level": st.integers(1, 4)}),
    "case_updated": st.fixed_dictionaries(
        {"severity": st.sampled_from(["critical", "urgent", "important", "general"])}
    ),
    "complaint_registered": st.just({}),
    "complaint_replied": st.just({}),
    "feedback_received": st.fixed_dictionaries(
        {"severity": st.sampled_from(["critical", "urgent", "important", "general"])}
    ),
    "feedback_responded": st.just({}),
    "progress_reported": st.just({}),
    "feedback_resolved": st.just({}),
}


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(sorted(_FIELDS)))
    minutes = draw(st.integers(0, 14 * 24 * 60))
    offset = draw(st.sampled_from([8, 0, -5]))
    at = (T0 + dt.timedelta(minutes=minutes)).astimezone(dt.timezone(dt.timedelta(hours=offset)))
    case = draw(st.sampled_from(["a", "b", "c"]))
    return {"type": kind, "at": at.isoformat(), "case_id": case, **draw(_FIELDS[kind])}


histories = st.lists(events(), max_size=25)
nows = st.integers(14 * 24 * 60, 30 * 24 * 60).map(lambda m: T0 + dt.timedelta(minutes=m))


@settings(max_examples=150, deadline=None)
@given(histories, nows, st.randoms(use_true_random=False))
def test_deterministic_and_order_insensitive(
    history: list[dict[str, Any]], now: dt.datetime, rnd: Any
) -> None:
    # Events at one instant are ordered by seq, then as given: with seq, any order gives the
    # same decision.
    numbered = [{**e, "seq": i} for i, e in enumerate(history)]
    first = ENGINE.evaluate(numbered, now=now).to_json()
    shuffled = list(numbered)
    rnd.shuffle(shuffled)
    assert ENGINE.evaluate(shuffled, now=now).to_json() == first
    assert tierrules.evaluate(numbered, now=now).to_json() == first
    # Without seq, shuffling events that share no instant changes nothing either.
    plain = ENGINE.evaluate(history, now=now).to_json()
    by_instant = sorted(range(len(history)), key=lambda i: dt.datetime.fromisoformat(history[i]["at"]))
    kept = [history[i] for i in by_instant]
    assert ENGINE.evaluate(kept, now=now).to_json() == plain


@settings(max_examples=150, deadline=None)
@given(histories, nows)
def test_obligations_are_consistent_with_now(history: list[dict[str, Any]], now: dt.datetime) -> None:
    d = ENGINE.evaluate(history, now=now)
    for ob in d.obligations:
        assert ob.due_at >= ob.started_at
        if ob.status == "pending":
            assert ob.met_at is None
            assert ob.due_at > now
        elif ob.status == "met":
            assert ob.met_at is not None
            assert ob.started_at <= ob.met_at <= ob.due_at
            assert ob.met_at <= now
        else:
            assert ob.due_at <= now or (ob.met_at is not None and ob.met_at > ob.due_at)
    pending = [o.due_at for o in d.obligations if o.status == "pending" and not o.paused]
    if pending:
        assert d.next_check_at is not None
        assert now < d.next_check_at <= min(pending)
    if d.next_check_at is not None:
        assert d.next_check_at > now


@settings(max_examples=80, deadline=None)
@given(histories, nows)
def test_next_check_at_is_the_first_change(history: list[dict[str, Any]], now: dt.datetime) -> None:
    """Nothing changes before next_check_at, and something changes at it."""
    d = ENGINE.evaluate(history, now=now)
    if d.next_check_at is None:
        later = ENGINE.evaluate(history, now=now + dt.timedelta(days=60))
        assert later.to_json() == d.to_json()
        return

    def state(decision: tierrules.Decision) -> tierrules.Decision:
        return decision.model_copy(update={"next_check_at": None, "next_check_by_case": {}})

    just_before = ENGINE.evaluate(history, now=d.next_check_at - dt.timedelta(seconds=1))
    assert state(just_before) == state(d)
    assert state(ENGINE.evaluate(history, now=d.next_check_at)) != state(d)


@settings(max_examples=100, deadline=None)
@given(histories, nows)
def test_no_deadline_lost(history: list[dict[str, Any]], now: dt.datetime) -> None:
    """Every clock-starting event yields its obligations; every breach with an escalation rule escalates."""
    d = ENGINE.evaluate(history, now=now)
    by_rule: dict[str, int] = {}
    for ob in d.obligations:
        by_rule[ob.rule] = by_rule.get(ob.rule, 0) + 1
    kinds = [e["type"] for e in history]
    severities = [e.get("severity") for e in history if e["type"] == "feedback_received"]
    assert by_rule.get("E1.escalate", 0) == kinds.count("escalation_needed")
    assert by_rule.get("E2.complaint-reply", 0) == kinds.count("complaint_registered")
    assert by_rule.get("E3.feedback-response", 0) == len(severities)
    if "case_updated" not in kinds:  # a severity change starts and stops these (test_case_changes.py)
        urgent = sum(s in ("critical", "urgent", "important") for s in severities)
        assert by_rule.get("E3.progress-report", 0) == urgent
        assert by_rule.get("E3.general-result", 0) == severities.count("general")
    escalating = {r.id for r in ENGINE.ruleset.deadlines if r.escalate is not None}
    at_start = {r.id for r in ENGINE.ruleset.deadlines if r.escalate is not None and r.escalate.at_start}
    breached = {(o.rule, o.case_id) for o in d.obligations if o.status == "breached" and o.rule in escalating}
    raised = {(e.rule, e.case_id) for e in d.escalations}
    assert breached <= raised
    assert all(key in breached or key[0] in at_start for key in raised)


@settings(max_examples=100, deadline=None)
@given(histories, nows, st.integers(1, 3 * 24 * 60))
def test_time_only_moves_pending_to_breached(
    history: list[dict[str, Any]], now: dt.datetime, later: int
) -> None:
    """Monotonicity in now: with no new events, met stays met and breached stays breached."""
    before = {o.id: o for o in ENGINE.evaluate(history, now=now).obligations}
    after = {o.id: o for o in ENGINE.evaluate(history, now=now + dt.timedelta(minutes=later)).obligations}
    assert before.keys() == after.keys()
    for key, ob in before.items():
        assert after[key].due_at == ob.due_at
        if ob.status != "pending":
            assert after[key].status == ob.status
        elif after[key].status == "breached":
            assert ob.due_at <= now + dt.timedelta(minutes=later)
