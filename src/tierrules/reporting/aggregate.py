"""From decisions to a report: counts by rule, target, period and group, in one pass over the cases.

The builder reads each decision as plain JSON data (what ``Decision.to_json`` and
``tierrules evaluate --batch`` give), so fields it does not know are ignored and a decision
from a newer tierrules still reports. An obligation's status is one of ``met``,
``breached``, ``pending`` and ``cancelled``; anything else is refused, never dropped.

Instants are read in the ruleset's timezone: an obligation counts in the period its clock
started in; a breach is placed on the weekday-by-hour grid at its due time; an escalation,
a violation and a call count at their own instants (a call at its case's first event).
"""

from __future__ import annotations

import datetime as dt
import heapq
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal
from zoneinfo import ZoneInfo

from ..errors import EngineError
from ..ruleset.model import Ruleset
from ..ruleset.targets import Target, etiquette_rules, obligation_rules
from .groups import CaseFacts, GroupKey, case_facts, check_by, customers, group_key, meta_keys, period_of
from .model import (
    AgentScores,
    AttainmentPoint,
    BreachTimes,
    EscalationCount,
    Report,
    RuleAttainment,
    TargetAttainment,
    ViolationCount,
    WorstCase,
)

__all__ = ["DEFAULT_PERIOD", "DEFAULT_TOP", "STATUSES", "ReportBuilder", "attainment"]

STATUSES = ("met", "breached", "pending", "cancelled")
DEFAULT_PERIOD = "month"
DEFAULT_TOP = 5
_Row = tuple[str, dt.date | None, GroupKey]  # period label, period start, group


def attainment(met: int, breached: int) -> float | None:
    """``met / (met + breached)`` in percent, rounded to 4 places; None when nothing is decided."""
    decided = met + breached
    return round(100 * met / decided, 4) if decided else None


def _instant(text: str, tz: dt.tzinfo) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(tz)


def _clause_key(clause: str) -> tuple[str, int]:
    match = re.fullmatch(r"([A-Z])([0-9]+)", clause)
    return (match.group(1), int(match.group(2))) if match else (clause, 0)


def _group_order(group: GroupKey) -> tuple[tuple[bool, str], ...]:
    return tuple((value is None, value or "") for value in group)


@dataclass
class _Tally:
    """One row's counts while cases stream in."""

    cases: set[tuple[str, str | None]] = field(default_factory=set)
    counts: Counter[str] = field(default_factory=Counter)
    worst: list[tuple[tuple[Any, ...], WorstCase]] = field(default_factory=list)

    def add(
        self, status: str, ref: tuple[str, str | None], worst: tuple[tuple[Any, ...], WorstCase] | None
    ) -> None:
        self.cases.add(ref)
        self.counts[status] += 1
        if worst is not None:
            self.worst.append(worst)

    def fields(self, top: int) -> dict[str, Any]:
        met, breached = self.counts["met"], self.counts["breached"]
        return {
            "cases": len(self.cases),
            "items": sum(self.counts[s] for s in STATUSES),
            "met": met,
            "breached": breached,
            "pending": self.counts["pending"],
            "cancelled": self.counts["cancelled"],
            "attainment": attainment(met, breached),
            "worst": [w for _, w in heapq.nsmallest(top, self.worst, key=lambda kw: kw[0])],
        }


@dataclass(frozen=True)
class _Measured:
    """A target as this report measures it: its period and grouping after the overrides."""

    index: int
    target: Target
    period: str
    by: tuple[str, ...]

    def counts(self, rule: str, source: str) -> bool:
        if self.target.rules is not None:
            return rule in self.target.rules
        return self.target.clauses is not None and source in self.target.clauses

    def failed_call(self, violations: Iterable[Mapping[str, Any]]) -> bool:
        """calls_without_violation: a ``fail`` finding of the checks the target names."""
        for v in violations:
            if v.get("severity", "fail") == "fail" and (
                (self.target.rules is None and self.target.clauses is None)
                or self.counts(v["rule"], v["source"])
            ):
                return True
        return False


def verdict(row: Mapping[str, Any], target: Target) -> tuple[str, bool]:
    """``pass``, ``fail`` or ``no data`` for a row's counts, and whether pending items could change it."""
    met, breached, pending = row["met"], row["breached"], row["pending"]
    threshold = Fraction(target.percent)

    def passes(good: int, total: int) -> bool:
        share = Fraction(100 * good, total)
        return share >= threshold if target.op == ">=" else share > threshold

    if met + breached == 0:
        return "no data", pending > 0
    status = passes(met, met + breached)
    if pending == 0:
        return ("pass" if status else "fail"), False
    # All pending met, or all pending breached: does either end flip the verdict?
    flips = passes(met + pending, met + breached + pending) != status or (
        passes(met, met + breached + pending) != status
    )
    return ("pass" if status else "fail"), flips


class ReportBuilder:
    """Counts decisions into a :class:`~tierrules.reporting.Report`, one case at a time.

    ``period`` and ``by`` override every target's own and set the rule rows' (default:
    ``month``, no grouping); ``top`` is how many worst cases each row keeps.
    """

    def __init__(
        self,
        ruleset: Ruleset,
        *,
        period: str | None = None,
        by: Sequence[str] | None = None,
        top: int = DEFAULT_TOP,
        now: dt.datetime | None = None,
    ) -> None:
        if period is not None:
            period_of(dt.date(2000, 1, 1), period)  # raises ValueError for an unknown period
        self.ruleset = ruleset
        self.tz = ZoneInfo(ruleset.timezone)
        self.period = period or DEFAULT_PERIOD
        self.by = tuple(check_by(by or ()))
        self.top = top
        self.now = now
        self.measured = [
            _Measured(i, t, period or t.period, tuple(check_by(by)) if by is not None else tuple(t.by))
            for i, t in enumerate(ruleset.targets)
        ]
        self._meta = meta_keys([self.by, *(m.by for m in self.measured)])
        self._order = {rule: i for i, rule in enumerate(obligation_rules(ruleset))}
        self._count = 0
        self._sources: dict[str, str] = {}
        self._rules: dict[tuple[str, _Row], _Tally] = defaultdict(_Tally)
        self._targets: dict[tuple[int, _Row], _Tally] = defaultdict(_Tally)
        self._daily: dict[tuple[int, dt.date, GroupKey], Counter[str]] = defaultdict(Counter)
        self._breaches = [[0] * 24 for _ in range(7)]
        self._days: set[dt.date] = set()  # every day an item was counted on (for empty targets)
        self._escalations: dict[tuple[str, _Row], _Tally] = defaultdict(_Tally)
        self._violations: dict[tuple[str, str, _Row], _Tally] = defaultdict(_Tally)
        self._scores: dict[tuple[str | None, str | None], list[tuple[float, bool]]] = defaultdict(list)

    # --- reading cases ----------------------------------------------------------------------

    def add(
        self, name: str, now: dt.datetime, events: Sequence[Mapping[str, Any]], decision: Mapping[str, Any]
    ) -> None:
        """Count one case log record: its events (for groups) and its decision (JSON data)."""
        known = customers(decision.get("tiers") or [])
        facts = case_facts(name, now, events, known, self._meta)

        def of(case_id: str | None) -> CaseFacts:
            found = facts.get(case_id)
            if found is None:
                found = facts[case_id] = CaseFacts(name, case_id, now, customers=known)
            return found

        obligations = decision.get("obligations") or []
        for ob in obligations:
            self._obligation(of(ob.get("case_id")), ob)
        for esc in decision.get("escalations") or []:
            self._escalation(of(esc.get("case_id")), esc, obligations)
        by_case: dict[str | None, list[Mapping[str, Any]]] = defaultdict(list)
        for v in decision.get("violations") or []:
            by_case[v.get("case_id")].append(v)
            self._violation(of(v.get("case_id")), v)
        for score in decision.get("scores") or []:
            self._score(of(score.get("case_id")), score, by_case.get(score.get("case_id"), []))
        self._count += 1

    def _row(self, period: str, by: Sequence[str], facts: CaseFacts, at: dt.datetime, **who: Any) -> _Row:
        self._days.add(at.date())
        label, start = period_of(at.date(), period)
        return label, start, group_key(by, facts, at, **who)

    def _obligation(self, facts: CaseFacts, ob: Mapping[str, Any]) -> None:
        status, rule, source = ob.get("status"), ob["rule"], ob["source"]
        if status not in STATUSES:
            raise EngineError(
                f"obligation {ob.get('id')}: unknown status {status!r} (one of {', '.join(STATUSES)})"
            )
        self._sources.setdefault(rule, source)
        started, due = _instant(ob["started_at"], self.tz), _instant(ob["due_at"], self.tz)
        ref = (facts.name, ob.get("case_id"))
        worst = None
        if status == "breached":
            end = _instant(ob["met_at"], self.tz) if ob.get("met_at") else facts.now
            late = end - due
            item = str(ob.get("id", rule))
            worst = (
                (-late, facts.name, ob.get("case_id") or "", item),
                WorstCase(case_id=ob.get("case_id"), name=facts.name, item=item, late_by=late),
            )
            self._breaches[due.weekday()][due.hour] += 1
        who = {"agent": ob.get("agent_id"), "team": ob.get("team"), "customer_id": ob.get("customer_id")}
        self._rules[rule, self._row(self.period, self.by, facts, started, **who)].add(status, ref, worst)
        for m in self.measured:
            if m.target.measure == "met_in_time" and m.counts(rule, source):
                row = self._row(m.period, m.by, facts, started, **who)
                self._targets[m.index, row].add(status, ref, worst)
                self._daily[m.index, started.date(), row[2]][status] += 1

    def _escalation(
        self, facts: CaseFacts, esc: Mapping[str, Any], obligations: Sequence[Mapping[str, Any]]
    ) -> None:
        at = _instant(esc["at"], self.tz)
        behind = _obligation_behind(esc, obligations)
        who = {}
        if behind is not None:
            who = {
                "agent": behind.get("agent_id"),
                "team": behind.get("team"),
                "customer_id": behind.get("customer_id"),
            }
        rule = esc["rule"]
        self._sources.setdefault(rule, esc["source"])
        level = str(esc.get("to_level"))
        self._escalations[rule, self._row(self.period, self.by, facts, at, **who)].add(
            level, (facts.name, esc.get("case_id")), None
        )

    def _violation(self, facts: CaseFacts, v: Mapping[str, Any]) -> None:
        at = _instant(v["at"], self.tz)
        row = self._row(self.period, self.by, facts, at, agent=v.get("agent_id"), team=v.get("team"))
        self._violations[v["source"], v["rule"], row].add(
            str(v.get("severity", "fail")), (facts.name, v.get("case_id")), None
        )

    def _score(
        self, facts: CaseFacts, score: Mapping[str, Any], violations: Sequence[Mapping[str, Any]]
    ) -> None:
        at = (
            facts.first_at.astimezone(self.tz)
            if facts.first_at is not None
            else facts.now.astimezone(self.tz)
        )
        agent, team = score.get("agent_id"), score.get("team")
        percent, passed = float(score["percent"]), bool(score["passed"])
        self._scores[agent, team].append((percent, passed))
        ref = (facts.name, score.get("case_id"))
        for m in self.measured:
            if m.target.measure == "met_in_time":
                continue
            met = passed if m.target.measure == "calls_passed" else not m.failed_call(violations)
            worst = None
            if not met:
                worst = (
                    (percent, facts.name, ref[1] or ""),
                    WorstCase(case_id=ref[1], name=facts.name, item="score", percent=percent),
                )
            row = self._row(m.period, m.by, facts, at, agent=agent, team=team)
            status = "met" if met else "breached"
            self._targets[m.index, row].add(status, ref, worst)
            self._daily[m.index, at.date(), row[2]][status] += 1

    # --- the report ---------------------------------------------------------------------------

    def build(self) -> Report:
        """The report of every case added so far."""
        grain, timeline = self._timeline()
        scorecard = self.ruleset.etiquette.scorecard if self.ruleset.etiquette is not None else None
        return Report(
            ruleset=f"{self.ruleset.name} {self.ruleset.version}",
            timezone=self.ruleset.timezone,
            cases=self._count,
            now=self.now,
            period=self.period,
            by=list(self.by),
            timeline_grain=grain,
            targets=self._target_rows(),
            rules=self._rule_rows(),
            timeline=timeline,
            breach_times=BreachTimes(matrix=[list(row) for row in self._breaches]),
            escalations=self._escalation_rows(),
            violations=self._violation_rows(),
            scores=self._score_rows(),
            score_pass_percent=scorecard.pass_percent if scorecard is not None else None,
        )

    def _with_empty_targets(self) -> dict[tuple[int, _Row], _Tally]:
        """The target rows, plus a ``no data`` row per period for a target nothing counted for:
        a target is never left out of the report silently."""
        rows = dict(self._targets)
        counted = {index for index, _ in rows}
        for m in self.measured:
            if m.index not in counted:
                for label, start in sorted({period_of(day, m.period) for day in self._days}, key=str):
                    rows[m.index, (label, start, (None,) * len(m.by))] = _Tally()
        return rows

    def _target_rows(self) -> list[TargetAttainment]:
        out = []
        for (index, (label, start, group)), tally in sorted(
            self._with_empty_targets().items(),
            key=lambda kv: (kv[0][0], kv[0][1][1] or dt.date.min, _group_order(kv[0][1][2])),
        ):
            m = self.measured[index]
            counts = tally.fields(self.top)
            status, provisional = verdict(counts, m.target)
            out.append(
                TargetAttainment(
                    target=m.target.id,
                    source=m.target.source,
                    description=m.target.description,
                    measure=m.target.measure,
                    rules=self._measured_rules(m),
                    op=m.target.op,
                    target_percent=m.target.percent,
                    status=status,  # type: ignore[arg-type]
                    provisional=provisional,
                    period=label,
                    period_start=start,
                    group=dict(zip(m.by, group, strict=True)),
                    **counts,
                )
            )
        return out

    def _measured_rules(self, m: _Measured) -> list[str]:
        """The rule ids a target counts, in ruleset order (none for calls_passed)."""
        if m.target.measure == "calls_passed":
            return []
        if m.target.rules is not None:
            return list(m.target.rules)
        pool = (
            obligation_rules(self.ruleset)
            if m.target.measure == "met_in_time"
            else etiquette_rules(self.ruleset)
        )
        clauses = m.target.clauses
        return [rule for rule, clause in pool.items() if clauses is None or clause in clauses]

    def _rule_order(self, rule: str) -> tuple[int, str]:
        return self._order.get(rule, len(self._order)), rule

    def _rule_rows(self) -> list[RuleAttainment]:
        ordered = sorted(
            self._rules.items(),
            key=lambda kv: (
                self._rule_order(kv[0][0]),
                kv[0][1][1] or dt.date.min,
                _group_order(kv[0][1][2]),
            ),
        )
        return [
            RuleAttainment(
                rule=rule,
                source=self._sources[rule],
                period=label,
                period_start=start,
                group=dict(zip(self.by, group, strict=True)),
                **tally.fields(self.top),
            )
            for (rule, (label, start, group)), tally in ordered
        ]

    def _escalation_rows(self) -> list[EscalationCount]:
        ordered = sorted(
            self._escalations.items(),
            key=lambda kv: (
                self._rule_order(kv[0][0]),
                kv[0][1][1] or dt.date.min,
                _group_order(kv[0][1][2]),
            ),
        )
        return [
            EscalationCount(
                rule=rule,
                source=self._sources[rule],
                period=label,
                period_start=start,
                group=dict(zip(self.by, group, strict=True)),
                raised=sum(tally.counts.values()),
                cases=len(tally.cases),
                by_level={level: tally.counts[level] for level in sorted(tally.counts, key=_level_order)},
            )
            for (rule, (label, start, group)), tally in ordered
        ]

    def _violation_rows(self) -> list[ViolationCount]:
        ordered = sorted(
            self._violations.items(),
            key=lambda kv: (
                _clause_key(kv[0][0]),
                kv[0][1],
                kv[0][2][1] or dt.date.min,
                _group_order(kv[0][2][2]),
            ),
        )
        return [
            ViolationCount(
                source=source,
                rule=rule,
                period=label,
                period_start=start,
                group=dict(zip(self.by, group, strict=True)),
                fail=tally.counts["fail"],
                review=tally.counts["review"],
                cases=len(tally.cases),
            )
            for (source, rule, (label, start, group)), tally in ordered
        ]

    def _score_rows(self) -> list[AgentScores]:
        return [
            _agent_scores(agent, team, calls)
            for (agent, team), calls in sorted(
                self._scores.items(), key=lambda kv: _group_order((kv[0][1], kv[0][0]))
            )
        ]

    def _timeline(self) -> tuple[Literal["day", "week", "month"], list[AttainmentPoint]]:
        """Daily counts, coarsened to weeks past 92 days and to months past two years."""
        days = [day for _, day, _ in self._daily]
        span = (max(days) - min(days)).days if days else 0
        grain: Literal["day", "week", "month"] = "day" if span <= 92 else "week" if span <= 730 else "month"
        merged: dict[tuple[int, dt.date, GroupKey], Counter[str]] = defaultdict(Counter)
        for (index, day, group), counts in self._daily.items():
            start = period_of(day, grain)[1]
            assert start is not None
            merged[index, start, group].update(counts)
        points = [
            AttainmentPoint(
                target=self.measured[index].target.id,
                group=dict(zip(self.measured[index].by, group, strict=True)),
                start=start,
                met=counts["met"],
                breached=counts["breached"],
                attainment=attainment(counts["met"], counts["breached"]),
            )
            for (index, start, group), counts in sorted(
                merged.items(), key=lambda kv: (kv[0][0], _group_order(kv[0][2]), kv[0][1])
            )
        ]
        return grain, points


def _level_order(level: str) -> tuple[int, str]:
    return (int(level), "") if level.isdigit() else (10**9, level)


def _obligation_behind(
    esc: Mapping[str, Any], obligations: Sequence[Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    """The obligation whose breach raised an escalation: named by id, else the same case and
    rule's latest one started at or before the escalation."""
    named = esc.get("obligation")
    if named is not None:
        for ob in obligations:
            if ob.get("id") == named:
                return ob
    at = dt.datetime.fromisoformat(esc["at"])
    found = None
    for ob in obligations:
        same = ob.get("case_id") == esc.get("case_id") and ob.get("rule") == esc.get("rule")
        if same and dt.datetime.fromisoformat(ob["started_at"]) <= at:
            found = ob
    return found


def _quantile(ordered: Sequence[float], q: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default)."""
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (position - low), 4)


def _agent_scores(agent: str | None, team: str | None, calls: Sequence[tuple[float, bool]]) -> AgentScores:
    percents = sorted(p for p, _ in calls)
    passed = sum(1 for _, ok in calls if ok)
    histogram = [0] * 10
    for p in percents:
        histogram[min(int(p // 10), 9)] += 1
    return AgentScores(
        agent_id=agent,
        team=team,
        calls=len(calls),
        passed=passed,
        pass_rate=round(100 * passed / len(calls), 4),
        mean=round(sum(percents) / len(percents), 4),
        min=percents[0],
        q1=_quantile(percents, 0.25),
        median=_quantile(percents, 0.5),
        q3=_quantile(percents, 0.75),
        max=percents[-1],
        histogram=histogram,
    )
