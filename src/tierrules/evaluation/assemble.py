"""The decision put together: every part in a deterministic order, and when to look again.

``next_check_at`` is the earliest future instant at which anything in the decision changes
without a new event; ``next_check_by_case`` gives the same per case (a customer's tier
changing counts for every case of that customer).
"""

from __future__ import annotations

import datetime as dt
import operator
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from ..decision import DeadlineWarning, Decision, Escalation, Obligation, Score, TierAssignment, Violation
from .cases import Case
from .etiquette import EtiquetteResult
from .obligations import Outcome
from .tiers import TierResult

__all__ = ["DecisionBuilder", "ViolationCache"]

ViolationCache = dict[Any, tuple[Any, Any]]
"""Violations already built, by ``id`` of the finding they were built from (checked to be the
same object): a conversation's earlier findings are kept, and need not be built again. Also
the cases' scores (by ``("score", case_id)``) and the violations' order (``"in order"``)."""


def _violation(found: dict[str, Any], built: ViolationCache | None) -> Violation:
    if built is None:
        return Violation(**found)
    held = built.get(id(found))
    if held is not None and held[0] is found:
        model: Violation = held[1]
        return model
    model = Violation(**found)
    built[id(found)] = (found, model)
    return model


def _score(found: dict[str, Any], built: ViolationCache | None) -> Score:
    """A case's score; the one built last time when nothing in it changed."""
    if built is None:
        return Score.model_validate(found)
    key = ("score", found["case_id"])
    held = built.get(key)
    if held is not None and (held[0] is found or held[0] == found):
        model: Score = held[1]
        return model
    model = Score.model_validate(found)
    built[key] = (found, model)
    return model


def _in_order(violations: list[Violation], built: ViolationCache | None) -> list[Violation]:
    """``violations`` in the order a decision lists them; the order worked out last time when
    they are the same models (a session's call that only gained words mostly finds nothing)."""
    held = built.get("in order") if built is not None else None
    if held is not None and len(held[0]) == len(violations) and all(map(operator.is_, held[0], violations)):
        return list(held[1])
    ordered = sorted(violations, key=lambda v: (v.at, v.case_id, v.rule))
    if built is not None:
        built["in order"] = (violations, ordered)
    return list(ordered)


class DecisionBuilder:
    """Collects the parts of one decision and orders them."""

    def __init__(self, tz: dt.tzinfo, cases: Mapping[str, Case]) -> None:
        self._tz = tz
        self._cases = cases
        self.obligations: list[Obligation] = []
        self.escalations: list[Escalation] = []
        self.warnings: list[DeadlineWarning] = []
        self.tiers: list[TierAssignment] = []
        self.violations: list[Violation] = []
        self.scores: list[Score] = []
        self._case_checks: dict[str, list[dt.datetime]] = defaultdict(list)
        self._customer_checks: dict[str, list[dt.datetime]] = defaultdict(list)

    def add(self, outcome: Outcome) -> None:
        """One started clock's obligation, warnings, escalations and future checks."""
        self.obligations.append(outcome.obligation)
        self.warnings.extend(outcome.warnings)
        self.escalations.extend(outcome.escalations)
        self._case_checks[outcome.obligation.case_id or ""].extend(outcome.next_checks)

    def add_etiquette(self, found: EtiquetteResult, built: ViolationCache | None = None) -> None:
        self.violations = _in_order([_violation(v, built) for v in found.violations], built)
        self.scores = [_score(sc, built) for sc in found.scores]
        for case_id, at in found.next_checks.items():
            self._case_checks[case_id].append(at)

    def add_tiers(self, result: TierResult) -> None:
        tz = self._tz
        self.tiers = list(result.assignments)
        for ob in result.obligations:
            self.obligations.append(
                Obligation(
                    id=ob.id,
                    rule=ob.rule,
                    source=ob.source,
                    case_id=ob.case_id,
                    customer_id=ob.customer_id,
                    started_at=ob.started_at.astimezone(tz),
                    due_at=ob.due_at.astimezone(tz),
                    status=ob.status,
                    met_at=ob.met_at.astimezone(tz) if ob.met_at else None,
                    explain={
                        "clock": "wall",
                        "text": f"{ob.rule}: cadence period for customer {ob.customer_id}",
                    },
                    message=ob.message,
                )
            )
        for customer_id, at in result.next_changes.items():
            self._customer_checks[customer_id].append(at)

    def build(self, now: dt.datetime) -> Decision:
        tz = self._tz
        self._sort()
        by_case = self._checks_by_case(now)
        future = [t for t in by_case.values() if t is not None]
        future += [t for ts in self._customer_checks.values() for t in ts if t > now]
        return Decision._trusted(
            {
                "obligations": self.obligations,
                "escalations": self.escalations,
                "violations": self.violations,
                "warnings": self.warnings,
                "tiers": self.tiers,
                "scores": sorted(self.scores, key=lambda sc: sc.case_id),
                "next_check_at": min(future).astimezone(tz) if future else None,
                "next_check_by_case": {
                    case_id: (at.astimezone(tz) if at is not None else None)
                    for case_id, at in by_case.items()
                },
            }
        )

    def _sort(self) -> None:
        """Obligations, escalations and warnings in the order a decision lists them."""
        self.obligations.sort(
            # Not by due_at: it moves with now while a clock is paused.
            key=lambda o: (o.case_id or "", o.customer_id or "", o.started_at, o.rule, o.id)
        )
        # Same-instant escalations most urgent first (E4's priority order), then stable.
        self.escalations.sort(
            key=lambda e: (e.at, e.priority is None, e.priority or 0, e.case_id, e.rule, e.step)
        )
        self.warnings.sort(key=lambda w: (w.at, w.case_id, w.rule, w.obligation, w.percent))

    def _checks_by_case(self, now: dt.datetime) -> dict[str, dt.datetime | None]:
        """Every case of the events, with its earliest future check (its own or its customer's)."""
        out: dict[str, dt.datetime | None] = {}
        for case_id in sorted(self._cases):
            checks: Iterable[dt.datetime] = self._case_checks.get(case_id, ())
            customer = self._cases[case_id].customer_id
            if customer is not None:
                checks = [*checks, *self._customer_checks.get(customer, ())]
            future = [t for t in checks if t > now]
            out[case_id] = min(future) if future else None
        return out
