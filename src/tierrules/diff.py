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
from typing import Any, Literal

from .caselog import CaseRecord, case_error
from .decision import Decision, Obligation
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


@dataclass(frozen=True)
class _ObligationChange:
    """What became of one obligation id between a case's two decisions."""

    rule: str
    kind: Literal["appeared", "vanished", "compared"]  # compared: in both decisions
    shift: dt.timedelta | None = None  # how far due_at moved; None when it did not
    new_status: str | None = None  # the status it changed to; None when it did not
    example: str | None = None
    important: bool = False  # a status change: kept before mere moves among the examples

    @property
    def changed(self) -> bool:
        return self.kind != "compared" or self.shift is not None or self.new_status is not None


@dataclass(frozen=True)
class _CaseChanges:
    """Everything that differs between one case's two decisions, examples in the order found."""

    obligations: list[_ObligationChange]
    tiers: list[tuple[tuple[str, str], str]]  # ((before, after), example), by customer
    escalations_appeared: Counter[str]  # by rule
    escalations_vanished: Counter[str]
    escalation_examples: list[str]
    violations_appeared: int
    violations_vanished: int
    violation_examples: list[str]

    @property
    def changed(self) -> bool:
        return any(o.changed for o in self.obligations) or bool(
            self.tiers
            or self.escalations_appeared
            or self.escalations_vanished
            or self.violations_appeared
            or self.violations_vanished
        )


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

    def _add(self, change: _ObligationChange) -> None:
        """Count one obligation's change (``compare`` feeds every obligation of every case here)."""
        if change.kind == "appeared":
            self.appeared += 1
        elif change.kind == "vanished":
            self.vanished += 1
        else:
            self.compared += 1
        if change.shift is not None:
            self.moved += 1
            shift = change.shift
            self.earliest_shift = shift if self.earliest_shift is None else min(self.earliest_shift, shift)
            self.latest_shift = shift if self.latest_shift is None else max(self.latest_shift, shift)
        if change.new_status == "breached":
            self.newly_breached += 1
        elif change.new_status == "met":
            self.newly_met += 1
        if change.example is not None:
            self.example(change.example, important=change.important)


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

    def _add(self, case: _CaseChanges) -> None:
        """Count one case's changes, keeping the first EXAMPLES examples of each section."""
        self.cases += 1
        for change in case.obligations:
            self.rule(change.rule)._add(change)
        self.tier_changes.update(pair for pair, _ in case.tiers)
        self.tier_examples += _room(self.tier_examples, [example for _, example in case.tiers])
        self.escalations_appeared.update(case.escalations_appeared)
        self.escalations_vanished.update(case.escalations_vanished)
        self.escalation_examples += _room(self.escalation_examples, case.escalation_examples)
        self.violations_appeared += case.violations_appeared
        self.violations_vanished += case.violations_vanished
        self.violation_examples += _room(self.violation_examples, case.violation_examples)
        if case.changed:
            self.cases_changed += 1


def _room(kept: list[str], more: list[str]) -> list[str]:
    """The first of ``more`` that fit beside ``kept`` under the EXAMPLES cap."""
    return more[: EXAMPLES - len(kept)]


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
    impact._add(_case_changes(old, new, name))


def _case_changes(old: Decision, new: Decision, name: str) -> _CaseChanges:
    """What differs between one case's decisions under the old and the new ruleset."""
    old_json, new_json = old.model_dump(mode="json"), new.model_dump(mode="json")
    esc_appeared, esc_vanished, esc_examples = _appeared_vanished(
        Counter(_esc_key(e) for e in old_json["escalations"]),
        Counter(_esc_key(e) for e in new_json["escalations"]),
        name,
    )
    v_appeared, v_vanished, v_examples = _appeared_vanished(
        Counter(json.dumps(v, sort_keys=True) for v in old_json["violations"]),
        Counter(json.dumps(v, sort_keys=True) for v in new_json["violations"]),
        name,
    )
    return _CaseChanges(
        obligations=_obligation_changes(old, new, name),
        tiers=_tier_changes(old, new, name),
        escalations_appeared=_by_rule(esc_appeared),
        escalations_vanished=_by_rule(esc_vanished),
        escalation_examples=esc_examples,
        violations_appeared=sum(v_appeared.values()),
        violations_vanished=sum(v_vanished.values()),
        violation_examples=v_examples,
    )


def _obligation_changes(old: Decision, new: Decision, name: str) -> list[_ObligationChange]:
    """One change per obligation id of either decision, by id."""
    old_obs = {o.id: o for o in old.obligations}
    new_obs = {o.id: o for o in new.obligations}
    return [
        _obligation_change(name, ob_id, old_obs.get(ob_id), new_obs.get(ob_id))
        for ob_id in sorted(old_obs.keys() | new_obs.keys())
    ]


def _obligation_change(
    name: str, ob_id: str, a: Obligation | None, b: Obligation | None
) -> _ObligationChange:
    """What became of ``ob_id``: ``a`` is the obligation under the old ruleset, ``b`` under the new."""
    if a is None:
        assert b is not None  # the id came from one of the two decisions
        example = f"{name}: {ob_id} appeared (due {b.due_at.isoformat()}, {b.status})"
        return _ObligationChange(b.rule, "appeared", example=example)
    if b is None:
        example = f"{name}: {ob_id} vanished (was due {a.due_at.isoformat()}, {a.status})"
        return _ObligationChange(a.rule, "vanished", example=example)
    moved, restated = a.due_at != b.due_at, a.status != b.status
    if not (moved or restated):
        return _ObligationChange(a.rule, "compared")
    return _ObligationChange(
        a.rule,
        "compared",
        shift=b.due_at - a.due_at if moved else None,
        new_status=b.status if restated else None,
        example=f"{name}: {ob_id} due {a.due_at.isoformat()} -> {b.due_at.isoformat()}"
        f" ({_fmt_shift(b.due_at - a.due_at)}), {a.status} -> {b.status}",
        important=restated,
    )


def _tier_changes(old: Decision, new: Decision, name: str) -> list[tuple[tuple[str, str], str]]:
    """Each customer whose tier differs ("-" for none): ((before, after), example), by customer."""
    old_tiers = {t.customer_id: t.tier for t in old.tiers}
    new_tiers = {t.customer_id: t.tier for t in new.tiers}
    pairs = [
        (customer, old_tiers.get(customer, "-"), new_tiers.get(customer, "-"))
        for customer in sorted(old_tiers.keys() | new_tiers.keys())
    ]
    return [
        ((before, after), f"{name}: {customer} {before} -> {after}")
        for customer, before, after in pairs
        if before != after
    ]


def _appeared_vanished(
    old: Counter[str], new: Counter[str], name: str
) -> tuple[Counter[str], Counter[str], list[str]]:
    """The keys only in ``new`` and only in ``old`` (with multiplicity), and an example for each."""
    appeared, vanished = new - old, old - new
    examples = [f"{name}: appeared {key}" for key in appeared] + [
        f"{name}: vanished {key}" for key in vanished
    ]
    return appeared, vanished, examples


def _by_rule(escalations: Counter[str]) -> Counter[str]:
    """Escalation keys (:func:`_esc_key`) counted by their rule."""
    counts: Counter[str] = Counter()
    for key, n in escalations.items():
        counts[json.loads(key)["rule"]] += n
    return counts


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
    changed = sorted((r for r in impact.rules.values() if r.changed), key=lambda r: r.rule)
    lines = [
        f"{old_name} -> {new_name}: {impact.cases} cases, {impact.cases_changed} with a changed decision",
        "",
        *_rule_table(changed),
        f"({len(impact.rules) - len(changed)} other rule(s) seen, unchanged)",
        "",
        _tiers_line(impact),
        _escalations_line(impact),
        f"violations: {impact.violations_appeared} appeared, {impact.violations_vanished} vanished",
        *_example_lines(impact, changed),
    ]
    return "\n".join(lines) + "\n"


_TABLE_HEADER = (
    "rule",
    "compared",
    "moved",
    "earliest",
    "latest",
    "+breached",
    "+met",
    "appeared",
    "vanished",
)


def _rule_table(changed: list[RuleImpact]) -> list[str]:
    """One row per changed rule under a header, in aligned columns (rule names to the left)."""
    if not changed:
        return ["no obligation changed"]
    rows = [_TABLE_HEADER, *(_table_row(r) for r in changed)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_TABLE_HEADER))]
    return [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]


def _table_row(r: RuleImpact) -> tuple[str, ...]:
    return (
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


def _tiers_line(impact: Impact) -> str:
    if not impact.tier_changes:
        return "tiers: no change"
    return "tiers: " + ", ".join(f"{a} -> {b}: {n}" for (a, b), n in sorted(impact.tier_changes.items()))


def _escalations_line(impact: Impact) -> str:
    """Totals, then per rule: those that appeared (+n), then those that vanished (-n)."""
    appeared = sum(impact.escalations_appeared.values())
    vanished = sum(impact.escalations_vanished.values())
    line = f"escalations: {appeared} appeared, {vanished} vanished"
    if not (appeared or vanished):
        return line
    detail = [f"{k} +{v}" for k, v in sorted(impact.escalations_appeared.items())]
    detail += [f"{k} -{v}" for k, v in sorted(impact.escalations_vanished.items())]
    return f"{line} ({', '.join(detail)})"


def _example_lines(impact: Impact, changed: list[RuleImpact]) -> list[str]:
    """The examples, each tagged with its rule or section; nothing when there are none."""
    sections = [(r.rule, r.examples) for r in changed] + [
        ("tiers", impact.tier_examples),
        ("escalations", impact.escalation_examples),
        ("violations", impact.violation_examples),
    ]
    tagged = [f"  [{title}] {item}" for title, items in sections for item in items]
    return ["", "examples:", *tagged] if tagged else []
