"""Impact analysis: what a ruleset change does to recorded or generated cases.

``tierrules diff OLD NEW --cases FILE_OR_DIR`` evaluates every case under both rulesets
and compares the decisions: obligations by id (due time moved, newly breached, newly met,
appeared, vanished), tiers per customer, escalations and violations.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .caselog import CaseRecord, case_error
from .decision import Decision
from .errors import EventError
from .evaluation.engine import Engine

EXAMPLES = 3


def generated_cases(engine: Engine, count: int, seed: int) -> list[CaseRecord]:
    """``count`` cases from :func:`tierrules.testing.generate_cases` (needs hypothesis installed)."""
    from .testing import generate_cases

    return [
        CaseRecord(f"generated-{i}", events, now)
        for i, (events, now) in enumerate(generate_cases(engine.ruleset, count, seed=seed))
    ]


@dataclass
class RuleImpact:
    """How one rule's obligations changed."""

    rule: str
    compared: int = 0
    moved: int = 0
    earliest_shift: dt.timedelta | None = None
    latest_shift: dt.timedelta | None = None
    newly_breached: int = 0
    newly_met: int = 0
    appeared: int = 0
    vanished: int = 0
    examples: list[str] = field(default_factory=list)
    _important: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.moved or self.newly_breached or self.newly_met or self.appeared or self.vanished)

    def example(self, text: str, *, important: bool = False) -> None:
        """Keep a few examples; status changes push out mere moves."""
        if len(self.examples) < EXAMPLES:
            self.examples.append(text)
            if important:
                self._important += 1
        elif important and self._important < EXAMPLES:
            self.examples[self._important] = text
            self._important += 1
        if important:  # keep status changes first
            self.examples.sort(key=lambda t: " -> " not in t.rsplit(", ", 1)[-1] or _same_status(t))


@dataclass
class Impact:
    """Everything that changed between two rulesets over a set of cases."""

    cases: int = 0
    rules: dict[str, RuleImpact] = field(default_factory=dict)
    tier_changes: Counter[tuple[str, str]] = field(default_factory=Counter)
    tier_examples: list[str] = field(default_factory=list)
    escalations_appeared: Counter[str] = field(default_factory=Counter)
    escalations_vanished: Counter[str] = field(default_factory=Counter)
    escalation_examples: list[str] = field(default_factory=list)
    violations_appeared: int = 0
    violations_vanished: int = 0
    violation_examples: list[str] = field(default_factory=list)
    cases_changed: int = 0

    def rule(self, name: str) -> RuleImpact:
        return self.rules.setdefault(name, RuleImpact(name))


def _same_status(text: str) -> bool:
    before, _, after = text.rsplit(", ", 1)[-1].partition(" -> ")
    return before == after


def _fmt_shift(delta: dt.timedelta | None) -> str:
    if delta is None:
        return "-"
    sign = "-" if delta < dt.timedelta(0) else "+"
    seconds = int(abs(delta).total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{days}d" if days else "",
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
        f"{secs}s" if secs else "",
    ]
    return sign + ("".join(parts) or "0s")


def _esc_key(item: Mapping[str, Any]) -> str:
    return json.dumps({k: item[k] for k in ("rule", "case_id", "at", "to_level", "step")}, sort_keys=True)


def compare(old: Decision, new: Decision, name: str, impact: Impact) -> None:
    """Add the differences between one case's two decisions to ``impact``."""
    impact.cases += 1
    changed = False
    old_obs = {o.id: o for o in old.obligations}
    new_obs = {o.id: o for o in new.obligations}
    for ob_id in sorted(old_obs.keys() | new_obs.keys()):
        a, b = old_obs.get(ob_id), new_obs.get(ob_id)
        rule = impact.rule((a or b).rule)  # type: ignore[union-attr]
        if a is None and b is not None:
            rule.appeared += 1
            rule.example(f"{name}: {ob_id} appeared (due {b.due_at.isoformat()}, {b.status})")
            changed = True
            continue
        if b is None and a is not None:
            rule.vanished += 1
            rule.example(f"{name}: {ob_id} vanished (was due {a.due_at.isoformat()}, {a.status})")
            changed = True
            continue
        assert a is not None and b is not None
        rule.compared += 1
        if a.due_at != b.due_at:
            shift = b.due_at - a.due_at
            rule.moved += 1
            rule.earliest_shift = shift if rule.earliest_shift is None else min(rule.earliest_shift, shift)
            rule.latest_shift = shift if rule.latest_shift is None else max(rule.latest_shift, shift)
            changed = True
        if a.status != b.status:
            changed = True
            if b.status == "breached":
                rule.newly_breached += 1
            elif b.status == "met":
                rule.newly_met += 1
        if a.due_at != b.due_at or a.status != b.status:
            rule.example(
                f"{name}: {ob_id} due {a.due_at.isoformat()} -> {b.due_at.isoformat()}"
                f" ({_fmt_shift(b.due_at - a.due_at)}), {a.status} -> {b.status}",
                important=a.status != b.status,
            )
    old_tiers = {t.customer_id: t.tier for t in old.tiers}
    new_tiers = {t.customer_id: t.tier for t in new.tiers}
    for customer in sorted(old_tiers.keys() | new_tiers.keys()):
        before, after = old_tiers.get(customer, "-"), new_tiers.get(customer, "-")
        if before != after:
            changed = True
            impact.tier_changes[(before, after)] += 1
            if len(impact.tier_examples) < EXAMPLES:
                impact.tier_examples.append(f"{name}: {customer} {before} -> {after}")
    old_esc = Counter(_esc_key(e) for e in old.model_dump(mode="json")["escalations"])
    new_esc = Counter(_esc_key(e) for e in new.model_dump(mode="json")["escalations"])
    for key, n in (new_esc - old_esc).items():
        rule_name = json.loads(key)["rule"]
        impact.escalations_appeared[rule_name] += n
        changed = True
        if len(impact.escalation_examples) < EXAMPLES:
            impact.escalation_examples.append(f"{name}: appeared {key}")
    for key, n in (old_esc - new_esc).items():
        rule_name = json.loads(key)["rule"]
        impact.escalations_vanished[rule_name] += n
        changed = True
        if len(impact.escalation_examples) < EXAMPLES:
            impact.escalation_examples.append(f"{name}: vanished {key}")
    old_v = Counter(json.dumps(v, sort_keys=True) for v in old.model_dump(mode="json")["violations"])
    new_v = Counter(json.dumps(v, sort_keys=True) for v in new.model_dump(mode="json")["violations"])
    for sign, delta in (("appeared", new_v - old_v), ("vanished", old_v - new_v)):
        for key, n in delta.items():
            changed = True
            if sign == "appeared":
                impact.violations_appeared += n
            else:
                impact.violations_vanished += n
            if len(impact.violation_examples) < EXAMPLES:
                impact.violation_examples.append(f"{name}: {sign} {key}")
    if changed:
        impact.cases_changed += 1


def _serial_pairs(
    old: Engine, new: Engine, cases: Iterable[CaseRecord]
) -> Iterator[tuple[str, Decision, Decision]]:
    for case in cases:
        try:
            a = old.evaluate(case.events, case.now)
            b = new.evaluate(case.events, case.now)
        except EventError as err:
            raise case_error(case.name, err.problems) from None
        yield case.name, a, b


def _parallel_pairs(
    old: Engine, new: Engine, cases: Sequence[CaseRecord], workers: int | None, address: str | None
) -> Iterator[tuple[str, Decision, Decision]]:
    from .batch import evaluate_json

    rendered = evaluate_json(cases, [old.ruleset, new.ruleset], workers=workers, address=address)
    for case, (a, b) in zip(cases, rendered, strict=True):
        yield case.name, Decision.model_validate_json(a), Decision.model_validate_json(b)


def diff(
    old: Engine,
    new: Engine,
    cases: Iterable[CaseRecord],
    *,
    workers: int | None = None,
    address: str | None = None,
) -> Impact:
    """Evaluate every case under both engines and collect what changes.

    In this process by default; with ``workers`` (N >= 1 local worker processes) or ``address``
    (a Dask scheduler) the evaluation runs on Dask via :mod:`tierrules.batch`, and the
    decisions are compared here, in input order: the impact is the same as a serial run's.
    """
    if address is None and not workers:  # None or 0: in this process
        pairs = _serial_pairs(old, new, cases)
    else:
        pairs = _parallel_pairs(old, new, list(cases), workers, address)
    impact = Impact()
    for name, a, b in pairs:
        compare(a, b, name, impact)
    return impact


def to_json(impact: Impact) -> dict[str, Any]:
    """The machine form (``--json``)."""

    def shift(value: dt.timedelta | None) -> float | None:
        return value.total_seconds() if value is not None else None

    return {
        "cases": impact.cases,
        "cases_changed": impact.cases_changed,
        "rules": [
            {
                "rule": r.rule,
                "compared": r.compared,
                "moved": r.moved,
                "earliest_shift_seconds": shift(r.earliest_shift),
                "latest_shift_seconds": shift(r.latest_shift),
                "newly_breached": r.newly_breached,
                "newly_met": r.newly_met,
                "appeared": r.appeared,
                "vanished": r.vanished,
                "examples": r.examples,
            }
            for r in sorted(impact.rules.values(), key=lambda r: r.rule)
            if r.changed
        ],
        "unchanged_rules": sorted(r.rule for r in impact.rules.values() if not r.changed),
        "tiers": {
            "changes": [
                {"from": a, "to": b, "customers": n} for (a, b), n in sorted(impact.tier_changes.items())
            ],
            "examples": impact.tier_examples,
        },
        "escalations": {
            "appeared": dict(sorted(impact.escalations_appeared.items())),
            "vanished": dict(sorted(impact.escalations_vanished.items())),
            "examples": impact.escalation_examples,
        },
        "violations": {
            "appeared": impact.violations_appeared,
            "vanished": impact.violations_vanished,
            "examples": impact.violation_examples,
        },
    }


def format_impact(impact: Impact, old_name: str, new_name: str) -> str:
    """The human table."""
    lines = [
        f"{old_name} -> {new_name}: {impact.cases} cases, {impact.cases_changed} with a changed decision",
        "",
    ]
    changed = sorted((r for r in impact.rules.values() if r.changed), key=lambda r: r.rule)
    header = ("rule", "compared", "moved", "earliest", "latest", "+breached", "+met", "appeared", "vanished")
    rows = [
        (
            r.rule,
            str(r.compared),
            str(r.moved),
            _fmt_shift(r.earliest_shift),
            _fmt_shift(r.latest_shift),
            str(r.newly_breached),
            str(r.newly_met),
            str(r.appeared),
            str(r.vanished),
        )
        for r in changed
    ]
    if rows:
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            lines.append(
                "  ".join(
                    c.ljust(w) if i == 0 else c.rjust(w)
                    for i, (c, w) in enumerate(zip(row, widths, strict=True))
                )
            )
    else:
        lines.append("no obligation changed")
    unchanged = len(impact.rules) - len(changed)
    lines.append(f"({unchanged} other rule(s) seen, unchanged)")
    lines.append("")
    if impact.tier_changes:
        lines.append(
            "tiers: " + ", ".join(f"{a} -> {b}: {n}" for (a, b), n in sorted(impact.tier_changes.items()))
        )
    else:
        lines.append("tiers: no change")
    appeared = sum(impact.escalations_appeared.values())
    vanished = sum(impact.escalations_vanished.values())
    detail = ", ".join(f"{k} +{v}" for k, v in sorted(impact.escalations_appeared.items()))
    detail_v = ", ".join(f"{k} -{v}" for k, v in sorted(impact.escalations_vanished.items()))
    lines.append(
        f"escalations: {appeared} appeared, {vanished} vanished"
        + (f" ({', '.join(filter(None, [detail, detail_v]))})" if appeared or vanished else "")
    )
    lines.append(f"violations: {impact.violations_appeared} appeared, {impact.violations_vanished} vanished")
    examples = [(r.rule, r.examples) for r in changed] + [
        ("tiers", impact.tier_examples),
        ("escalations", impact.escalation_examples),
        ("violations", impact.violation_examples),
    ]
    if any(ex for _, ex in examples):
        lines.append("")
        lines.append("examples:")
        for title, items in examples:
            for item in items:
                lines.append(f"  [{title}] {item}")
    return "\n".join(lines) + "\n"
