"""Issue 11 properties of the decision, on generated cases of every event type.

* Nothing changes before ``next_check_at``: at any instant strictly between ``now`` and it,
  the decision equals the decision at ``now``, except the documented clock fields (a paused
  obligation's ``due_at``, ``paused_for``, ``paused_for_wall`` and ``explain``, and the
  ``due_at``/``message`` of its warnings, which assume the clock resumes now); the same per
  case for ``next_check_by_case``.
* Raising severity never removes an obligation that the higher severity also owes.
* Meeting by any listed ``met_by`` event gives the same status as the first listed.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import tierrules
from tierrules import testing
from tierrules.events import EVENT_TYPES, field_choices
from tierrules.vocabulary import SEVERITIES

from .conftest import at, ev

ENGINE = tierrules.Engine(tierrules.load_ruleset())
FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def without_clocks(decision: tierrules.Decision) -> dict[str, Any]:
    """The decision as JSON data, with the documented clock fields of paused obligations removed."""
    data: dict[str, Any] = json.loads(decision.to_json())
    paused = {o["id"] for o in data["obligations"] if o["paused"]}
    for ob in data["obligations"]:
        if ob["id"] in paused:
            for key in ("due_at", "paused_for", "paused_for_wall", "explain"):
                ob.pop(key, None)
            for change in ob.get("changes", []):  # due times on the same paused clock
                change.pop("due_before", None)
                change.pop("due_after", None)
    for warning in data["warnings"]:
        if warning["obligation"] in paused:
            warning.pop("due_at", None)
            warning.pop("message", None)
    return data


def between(now: dt.datetime, until: dt.datetime) -> list[dt.datetime]:
    """A few instants strictly between ``now`` and ``until``."""
    span = until - now
    found = [now + dt.timedelta(seconds=1), now + span / 2, until - dt.timedelta(seconds=1)]
    return sorted({t for t in found if now < t < until})


@FAST
@given(testing.timed_cases())
@example(
    case=(
        [
            {
                "type": "customer_profile",
                "at": "2025-12-31T00:00:00+08:00",
                "customer_id": "C-1",
                "spend_12m": 0,
                "visits_12m": 0,
                "tenure_months": 0,
                "vip_card": True,
            },
            {
                "type": "case_opened",
                "at": "2026-01-01T00:00:00+08:00",
                "case_id": "c1",
                "channel": "phone",
                "severity": "critical",
                "customer_id": "C-1",
            },
            {
                "type": "case_updated",
                "at": "2026-01-01T00:00:05+08:00",
                "case_id": "c1",
                "severity": "important",
            },
            {"type": "case_paused", "at": "2026-01-01T00:00:05+08:00", "case_id": "c1"},
        ],
        dt.datetime(2026, 1, 1, 0, 0, 5, tzinfo=dt.timezone(dt.timedelta(seconds=28800))),
    ),
).via("regression: a severity change recorded on a clock paused at now (its due times drift too)")
def test_nothing_changes_before_next_check(case: tuple[list[dict[str, Any]], dt.datetime]) -> None:
    events, now = case
    decision = ENGINE.evaluate(events, now)
    until = decision.next_check_at or now + dt.timedelta(days=400)
    expected = without_clocks(decision)
    for instant in between(now, until):
        assert without_clocks(ENGINE.evaluate(events, instant)) == expected, instant
    if decision.next_check_at is not None:
        assert without_clocks(ENGINE.evaluate(events, decision.next_check_at)) != expected


@FAST
@given(testing.timed_cases())
def test_next_check_by_case_is_each_cases_own(case: tuple[list[dict[str, Any]], dt.datetime]) -> None:
    events, now = case
    decision = ENGINE.evaluate(events, now)
    cases = {e["case_id"] for e in events if e.get("case_id")}
    assert set(decision.next_check_by_case) == cases
    checks = [t for t in decision.next_check_by_case.values() if t is not None]
    if checks:
        assert decision.next_check_at is not None and decision.next_check_at <= min(checks)
    for case_id, check in decision.next_check_by_case.items():
        mine = [e for e in events if e.get("case_id") == case_id or e.get("case_id") is None]
        if check is None or any(e.get("case_id") is None for e in mine):
            continue  # a customer's events: their changes count for every case of the customer
        alone = ENGINE.evaluate(mine, now)
        assert alone.next_check_by_case[case_id] == check


def _owes(rule: tierrules.ruleset.DeadlineRule, severity: str) -> bool:
    """Whether a rule's start condition admits ``severity`` (its own when, or applies_to)."""
    wanted = rule.start.when.get("severity", rule.applies_to.get("severity"))
    if wanted is None:
        return True
    return severity in (wanted if isinstance(wanted, list) else [wanted])


@FAST
@given(testing.timed_cases(), st.data())
def test_raising_severity_never_removes_what_the_higher_severity_owes(
    case: tuple[list[dict[str, Any]], dt.datetime], data: st.DataObject
) -> None:
    events, now = case
    case_ids = sorted({e["case_id"] for e in events if e.get("case_id")})
    assume(case_ids)
    case_id = data.draw(st.sampled_from(case_ids))
    firsts = [dt.datetime.fromisoformat(e["at"]) for e in events if e.get("case_id") == case_id]
    when = data.draw(st.integers(0, int((now - min(firsts)).total_seconds())))
    change_at = min(firsts) + dt.timedelta(seconds=when)
    raised = data.draw(st.sampled_from(SEVERITIES[:2]))  # critical or urgent: the top of the scale
    before = ENGINE.evaluate(events, now)
    update = {"type": "case_updated", "at": change_at.isoformat(), "case_id": case_id, "severity": raised}
    after = ENGINE.evaluate([*events, update], now)
    rules = {r.id: r for r in ENGINE.ruleset.deadlines}
    still = {o.id for o in after.obligations}
    for ob in before.obligations:
        if ob.case_id != case_id or ob.rule not in rules or not _owes(rules[ob.rule], raised):
            continue
        if ob.started_at <= change_at:
            assert ob.id in still, (ob.id, raised, change_at)


def required(kind: str, fields: dict[str, Any]) -> dict[str, Any]:
    """``fields``, plus the first allowed value of every other required field of the event."""
    model = EVENT_TYPES[kind]
    out = dict(fields)
    for name, info in model.model_fields.items():
        if info.is_required() and name not in ("type", "at", "case_id") and name not in out:
            choices = field_choices(kind, name)
            out[name] = choices[0] if choices else 1
    return out


MULTI = [r for r in ENGINE.ruleset.deadlines if isinstance(r.met_by, list) and r.due_before is None]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(MULTI),
    st.integers(0, 3 * 24 * 60),
    st.integers(0, 4 * 24 * 60),
    st.data(),
)
def test_any_listed_event_meets_like_the_first(
    rule: tierrules.ruleset.DeadlineRule, start_minute: int, met_after: int, data: st.DataObject
) -> None:
    start = at("2026-11-23 08:00") + dt.timedelta(minutes=start_minute)
    met = start + dt.timedelta(minutes=met_after)
    now = met + dt.timedelta(hours=1)
    fields = {k: v[0] if isinstance(v, list) else v for k, v in rule.start.when.items()}
    if "customer_id" in EVENT_TYPES[rule.start.event].model_fields:
        fields["customer_id"] = "C1"  # a diamond customer: rules for level 1 apply too
    starting = ev(rule.start.event, start.strftime("%Y-%m-%d %H:%M"), **required(rule.start.event, fields))
    profile = {
        "type": "customer_profile",
        "at": (start - dt.timedelta(days=1)).isoformat(),
        "customer_id": "C1",
        "spend_12m": 2_000_000,
        "visits_12m": 40,
        "tenure_months": 50,
    }
    triggers = rule.met_triggers
    other = data.draw(st.integers(1, len(triggers) - 1))

    def status(trigger: tierrules.ruleset.Trigger) -> str:
        extra = {k: v[0] if isinstance(v, list) else v for k, v in trigger.when.items()}
        meeting = ev(trigger.event, met.strftime("%Y-%m-%d %H:%M"), **required(trigger.event, extra))
        decision = ENGINE.evaluate([profile, starting, meeting], now)
        return next(o.status for o in decision.obligations if o.rule == rule.id)

    assert status(triggers[other]) == status(triggers[0])
