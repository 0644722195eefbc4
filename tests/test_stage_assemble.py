"""The assembly stage on its own: the parts of a decision put in order, and when to look again.

evaluation/assemble.py gets every clock's outcome, the tier result and the etiquette result
and builds the :class:`Decision`: each list in a deterministic order, and ``next_check_at`` /
``next_check_by_case`` from the future checks only. These tests hand it parts built by hand,
in a scrambled order, and read the decision back.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tierrules.decision import DeadlineWarning, Escalation, Obligation
from tierrules.evaluation.assemble import DecisionBuilder
from tierrules.evaluation.cases import Case
from tierrules.evaluation.etiquette import EtiquetteResult
from tierrules.evaluation.obligations import Outcome
from tierrules.evaluation.tiers import CadenceObligation, TierResult

from .conftest import CST, at

UTC = dt.timezone.utc
NOW = at("2026-11-24 12:00")


def obligation(case_id: str | None, rule: str, started: str, n: int = 1, **fields: Any) -> Obligation:
    return Obligation(
        id=f"{case_id}/{rule}/{n}",
        rule=rule,
        source="E2",
        case_id=case_id,
        started_at=at(started),
        due_at=at(started) + dt.timedelta(hours=1),
        status="pending",
        **fields,
    )


def escalation(case_id: str, rule: str, when: str, priority: int | None = None, step: int = 0) -> Escalation:
    return Escalation(
        id=f"{case_id}/{rule}/1/escalation/{step}",
        rule=rule,
        source="E4",
        case_id=case_id,
        at=at(when),
        to_level=2,
        reason="r",
        step=step,
        priority=priority,
    )


def warning(case_id: str, rule: str, when: str, percent: int, n: int = 1) -> DeadlineWarning:
    return DeadlineWarning(
        id=f"{case_id}/{rule}/{n}/warning/{percent}",
        obligation=f"{case_id}/{rule}/{n}",
        rule=rule,
        source="E2",
        case_id=case_id,
        at=at(when),
        percent=percent,
        due_at=at(when) + dt.timedelta(hours=1),
    )


def builder(*cases: Case) -> DecisionBuilder:
    return DecisionBuilder(CST, {c.case_id: c for c in cases})


def tiers(next_changes: dict[str, dt.datetime], *cadences: CadenceObligation) -> TierResult:
    return TierResult(
        assignments=[],
        obligations=list(cadences),
        next_change_at=min(next_changes.values()) if next_changes else None,
        timelines={},
        next_changes=next_changes,
    )


def etiquette(
    violations: list[dict[str, Any]] = [],  # noqa: B006  (read only)
    scores: list[dict[str, Any]] = [],  # noqa: B006
    next_checks: dict[str, dt.datetime] | None = None,
) -> EtiquetteResult:
    return EtiquetteResult(violations, scores, next_checks or {})


def score(case_id: str) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "score": 90.0,
        "max": 100.0,
        "percent": 90.0,
        "passed": True,
        "auto_failed": False,
        "items": [],
    }


# --- ordering -----------------------------------------------------------------------------


def test_obligations_by_case_customer_start_rule_and_id() -> None:
    b = builder(Case("c1"), Case("c2"))
    parts = [
        obligation("c2", "A", "2026-11-24 09:00"),
        obligation("c1", "B", "2026-11-24 10:00"),
        obligation("c1", "A", "2026-11-24 10:00", n=2),
        obligation("c1", "A", "2026-11-24 10:00", n=1),
        obligation("c1", "Z", "2026-11-24 09:00"),
        obligation("c1", "Z", "2026-11-24 08:00", n=9, customer_id="u1"),  # a customer sorts after none
    ]
    for part in parts:
        b.add(Outcome(part))
    got = [o.id for o in b.build(NOW).obligations]
    assert got == ["c1/Z/1", "c1/A/1", "c1/A/2", "c1/B/1", "c1/Z/9", "c2/A/1"]


def test_obligations_are_not_ordered_by_due_time() -> None:
    b = builder(Case("c1"))
    late_start = obligation("c1", "A", "2026-11-24 10:00")
    early_start = obligation("c1", "B", "2026-11-24 09:00").model_copy(
        update={"due_at": at("2026-11-25 09:00")}
    )
    b.add(Outcome(late_start))
    b.add(Outcome(early_start))
    assert [o.rule for o in b.build(NOW).obligations] == ["B", "A"]


def test_customer_cadences_join_the_obligations_in_the_decision_zone() -> None:
    cadence = CadenceObligation(
        id="u1/T7.care/1",
        rule="T7.care",
        source="T7",
        case_id=None,
        customer_id="u1",
        started_at=at("2026-11-01 00:00").astimezone(UTC),
        due_at=at("2026-12-01 00:00").astimezone(UTC),
        status="pending",
        met_at=None,
    )
    b = builder(Case("c1"))
    b.add(Outcome(obligation("c1", "A", "2026-11-24 10:00")))
    b.add_tiers(tiers({}, cadence))
    [first, second] = b.build(NOW).obligations
    assert (first.id, first.case_id, first.customer_id) == ("u1/T7.care/1", None, "u1")  # "" sorts first
    assert first.started_at.utcoffset() == dt.timedelta(hours=8)
    assert first.explain["clock"] == "wall"
    assert second.id == "c1/A/1"


def test_escalations_by_instant_then_priority_then_case_rule_and_step() -> None:
    b = builder(Case("c1"), Case("c2"))
    ob = obligation("c1", "E4", "2026-11-24 09:00")
    b.add(
        Outcome(
            ob,
            escalations=(
                escalation("c2", "E4", "2026-11-24 10:00"),  # no priority: after those with one
                escalation("c2", "E4", "2026-11-24 10:00", priority=2),
                escalation("c1", "E4", "2026-11-24 10:00", priority=1, step=1),
                escalation("c1", "E4", "2026-11-24 10:00", priority=1, step=0),
                escalation("c1", "E1", "2026-11-24 10:00", priority=1),
                escalation("c9", "E4", "2026-11-24 09:59", priority=3),  # earlier wins over priority
            ),
        )
    )
    got = [(e.case_id, e.rule, e.priority, e.step) for e in b.build(NOW).escalations]
    assert got == [
        ("c9", "E4", 3, 0),
        ("c1", "E1", 1, 0),
        ("c1", "E4", 1, 0),
        ("c1", "E4", 1, 1),
        ("c2", "E4", 2, 0),
        ("c2", "E4", None, 0),
    ]


def test_warnings_by_instant_case_rule_obligation_and_percent() -> None:
    b = builder(Case("c1"), Case("c2"))
    b.add(
        Outcome(
            obligation("c1", "A", "2026-11-24 09:00"),
            warnings=(
                warning("c2", "A", "2026-11-24 10:00", 50),
                warning("c1", "B", "2026-11-24 10:00", 50),
                warning("c1", "A", "2026-11-24 10:00", 80, n=2),
                warning("c1", "A", "2026-11-24 10:00", 80, n=1),
                warning("c1", "A", "2026-11-24 10:00", 50, n=1),
                warning("c3", "A", "2026-11-24 09:30", 80),
            ),
        )
    )
    got = [w.id for w in b.build(NOW).warnings]
    assert got == [
        "c3/A/1/warning/80",
        "c1/A/1/warning/50",
        "c1/A/1/warning/80",
        "c1/A/2/warning/80",
        "c1/B/1/warning/50",
        "c2/A/1/warning/50",
    ]


def test_violations_by_instant_case_and_rule_and_scores_by_case() -> None:
    def violation(case_id: str, rule: str, when: str) -> dict[str, Any]:
        return {"rule": rule, "source": "Q1", "case_id": case_id, "at": at(when), "id": f"{case_id}/{rule}"}

    b = builder(Case("c1"), Case("c2"))
    b.add_etiquette(
        etiquette(
            [
                violation("c2", "Q1.a", "2026-11-24 10:00"),
                violation("c1", "Q2.b", "2026-11-24 10:00"),
                violation("c1", "Q1.a", "2026-11-24 10:00"),
                violation("c3", "Q9.z", "2026-11-24 09:00"),
            ],
            [score("c2"), score("c10"), score("c1")],
        )
    )
    decision = b.build(NOW)
    assert [v.id for v in decision.violations] == ["c3/Q9.z", "c1/Q1.a", "c1/Q2.b", "c2/Q1.a"]
    assert [s.case_id for s in decision.scores] == ["c1", "c10", "c2"]  # text order


def test_a_built_violation_is_reused_for_the_same_finding() -> None:
    found = {"rule": "Q1.a", "source": "Q1", "case_id": "c1", "at": at("2026-11-24 10:00")}
    cache: dict[Any, Any] = {}
    first = builder(Case("c1"))
    first.add_etiquette(etiquette([found]), cache)
    again = builder(Case("c1"))
    again.add_etiquette(etiquette([found]), cache)
    assert again.build(NOW).violations[0] is first.build(NOW).violations[0]
    fresh = builder(Case("c1"))
    fresh.add_etiquette(etiquette([dict(found)]), cache)  # an equal finding, but another object
    assert fresh.build(NOW).violations[0] is not first.build(NOW).violations[0]


# --- next checks --------------------------------------------------------------------------


def _outcome(case_id: str, *checks: str) -> Outcome:
    return Outcome(obligation(case_id, "A", "2026-11-24 09:00"), next_checks=tuple(at(c) for c in checks))


def test_only_future_checks_count() -> None:
    b = builder(Case("c1"), Case("c2"), Case("c3"))
    b.add(_outcome("c1", "2026-11-24 11:00", "2026-11-24 12:00", "2026-11-24 14:00"))
    b.add(_outcome("c2", "2026-11-24 11:59"))  # all past: none
    decision = b.build(NOW)
    assert decision.next_check_at == at("2026-11-24 14:00")
    assert decision.next_check_by_case == {"c1": at("2026-11-24 14:00"), "c2": None, "c3": None}


def test_the_earliest_check_of_each_case_and_of_the_whole() -> None:
    b = builder(Case("c2"), Case("c1"))
    b.add(_outcome("c1", "2026-11-24 15:00", "2026-11-24 13:00"))
    b.add(_outcome("c2", "2026-11-24 16:00"))
    b.add(_outcome("c1", "2026-11-24 12:30"))
    decision = b.build(NOW)
    assert decision.next_check_by_case == {"c1": at("2026-11-24 12:30"), "c2": at("2026-11-24 16:00")}
    assert list(decision.next_check_by_case) == ["c1", "c2"]
    assert decision.next_check_at == at("2026-11-24 12:30")


def test_checks_are_reported_in_the_decision_zone() -> None:
    b = builder(Case("c1"))
    b.add(_outcome("c1", "2026-11-24 13:00"))
    decision = b.build(NOW.astimezone(UTC))
    assert decision.next_check_at is not None
    assert decision.next_check_at.utcoffset() == dt.timedelta(hours=8)
    assert decision.next_check_at.hour == 13


def test_a_customer_change_counts_for_each_case_of_that_customer() -> None:
    b = builder(Case("c1", customer_id="u1"), Case("c2", customer_id="u1"), Case("c3", customer_id="u2"))
    b.add(_outcome("c1", "2026-11-24 18:00"))
    b.add_tiers(tiers({"u1": at("2026-11-24 15:00"), "u2": at("2026-11-24 11:00")}))
    decision = b.build(NOW)
    assert decision.next_check_by_case == {
        "c1": at("2026-11-24 15:00"),
        "c2": at("2026-11-24 15:00"),
        "c3": None,  # u2's change is past
    }
    assert decision.next_check_at == at("2026-11-24 15:00")


def test_a_customer_without_cases_still_sets_next_check_at() -> None:
    b = builder(Case("c1"))
    b.add_tiers(tiers({"u9": at("2026-11-30 00:00")}))
    decision = b.build(NOW)
    assert decision.next_check_by_case == {"c1": None}
    assert decision.next_check_at == at("2026-11-30 00:00")


def test_etiquette_checks_count_per_case() -> None:
    b = builder(Case("c1"), Case("c2"))
    b.add(_outcome("c1", "2026-11-24 17:00"))
    b.add_etiquette(etiquette(next_checks={"c1": at("2026-11-24 12:05"), "c2": at("2026-11-24 11:00")}))
    decision = b.build(NOW)
    assert decision.next_check_by_case == {"c1": at("2026-11-24 12:05"), "c2": None}
    assert decision.next_check_at == at("2026-11-24 12:05")


def test_nothing_to_check() -> None:
    decision = builder().build(NOW)
    assert decision.next_check_at is None
    assert decision.next_check_by_case == {}
    assert decision.obligations == decision.escalations == decision.warnings == []
