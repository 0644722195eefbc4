"""The ``targets`` section of a ruleset: rates the policy sets over many cases, and their checks.

A per-case rule says whether one case kept the policy; a target says how often that must
happen (docs/policy.md E3: "at least 90% of feedback answered within 24 hours"). A target
names what it measures and the share it needs:

- ``met_in_time``: obligations of some rules (``rules``) or of every rule citing some
  clauses (``clauses``) that were met by their due time, out of those decided (met or
  breached; pending and cancelled obligations are not counted yet);
- ``calls_passed``: calls whose scorecard (A1) passed, out of the calls scored;
- ``calls_without_violation``: scored calls without a ``fail`` finding of some etiquette
  checks (``rules`` or ``clauses``; all of them when neither is given).

``at_least: 90`` means ≥ 90%, ``above: 95`` means > 95%. ``period`` (day, week, month,
quarter or all) and ``by`` (group fields, :data:`GROUP_FIELDS` or ``meta.<key>``) say how
the share is assessed; a report may override both. How the numbers are computed lives in
:mod:`tierrules.reporting`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Annotated, Final, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..errors import PathPart, Problem, Rank, did_you_mean
from ..vocabulary import CLAUSE_PATTERN, ID_PATTERN, Text
from .etiquette import EtiquetteSpec
from .tiers import TiersSpec

__all__ = [
    "GROUP_FIELDS",
    "META_PREFIX",
    "PERIODS",
    "Measure",
    "Period",
    "RulesetParts",
    "Target",
    "check",
    "etiquette_rules",
    "group_field_problem",
    "obligation_rules",
]

Measure = Literal["met_in_time", "calls_passed", "calls_without_violation"]
Period = Literal["day", "week", "month", "quarter", "all"]
PERIODS: Final[tuple[str, ...]] = ("day", "week", "month", "quarter", "all")

# What a report can group by: the agent and team events carry (obligations, violations and
# scorecards keep them), the case's channel and severity, and its customer's tier, class and
# level; plus any key of the events' free-form ``meta`` (``meta.site``).
GROUP_FIELDS: Final[tuple[str, ...]] = (
    "agent",
    "team",
    "channel",
    "severity",
    "tier",
    "service_class",
    "service_level",
)
META_PREFIX: Final = "meta."

Clause = Annotated[str, Field(pattern=CLAUSE_PATTERN)]


class Target(BaseModel):
    """A share of cases that must keep a rule over a period: ``E3`` ≥ 90% answered in 24 h."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_PATTERN, description="Unique target id, e.g. 'E3.answered-in-24h'.")
    source: str = Field(
        pattern=CLAUSE_PATTERN, description="The policy clause stating the target (docs/policy.md)."
    )
    description: Text
    measure: Measure = Field(
        default="met_in_time",
        description="met_in_time: obligations met by their due time; calls_passed: scorecards passed; "
        "calls_without_violation: scored calls without a fail finding of the checks named.",
    )
    rules: list[str] | None = Field(
        default=None, min_length=1, description="The rules measured (rule ids), or give 'clauses'."
    )
    clauses: list[Clause] | None = Field(
        default=None, min_length=1, description="Every rule citing these clauses is measured."
    )
    at_least: float | None = Field(
        default=None, ge=0, le=100, strict=True, allow_inf_nan=False, description="Percent: share >= this."
    )
    above: float | None = Field(
        default=None, ge=0, lt=100, strict=True, allow_inf_nan=False, description="Percent: share > this."
    )
    period: Period = Field(default="month", description="The span each share is assessed over.")
    by: list[str] = Field(
        default_factory=list,
        description="Group fields: one share per group (agent, team, channel, severity, tier, "
        "service_class, service_level, meta.<key>).",
    )

    @model_validator(mode="after")
    def _shape(self) -> Target:
        if (self.at_least is None) == (self.above is None):
            raise ValueError("give exactly one of 'at_least' (>=) or 'above' (>), in percent")
        if self.rules is not None and self.clauses is not None:
            raise ValueError("give 'rules' or 'clauses', not both")
        if self.measure == "met_in_time" and self.rules is None and self.clauses is None:
            raise ValueError("measure met_in_time needs 'rules' or 'clauses'")
        if self.measure == "calls_passed" and (self.rules is not None or self.clauses is not None):
            raise ValueError("measure calls_passed takes no 'rules' or 'clauses' (it counts scorecards)")
        return self

    @property
    def op(self) -> Literal[">=", ">"]:
        """The comparison: ``>=`` for ``at_least``, ``>`` for ``above``."""
        return ">=" if self.at_least is not None else ">"

    @property
    def percent(self) -> float:
        """The threshold in percent."""
        value = self.at_least if self.at_least is not None else self.above
        assert value is not None  # the validator requires one
        return value


# --- Semantic checks --------------------------------------------------------------------


class _Rule(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def source(self) -> str: ...


class RulesetParts(Protocol):
    """What the target checks read from a ruleset (its model imports this module)."""

    @property
    def targets(self) -> Sequence[Target]: ...

    @property
    def deadlines(self) -> Sequence[_Rule]: ...

    @property
    def tiers(self) -> TiersSpec | None: ...

    @property
    def etiquette(self) -> EtiquetteSpec | None: ...


def obligation_rules(ruleset: RulesetParts) -> dict[str, str]:
    """Rule id -> clause of every rule that creates obligations: deadlines, then tier cadences."""
    out = {rule.id: rule.source for rule in ruleset.deadlines}
    if ruleset.tiers is not None:
        out.update({rule.id: rule.source for rule in ruleset.tiers.cadences})
    return out


def etiquette_rules(ruleset: RulesetParts) -> dict[str, str]:
    """Rule id -> clause of every etiquette check of the ruleset."""
    if ruleset.etiquette is None:
        return {}
    return {check.id: check.source for _, check in ruleset.etiquette.checks()}


def group_field_problem(name: str, *path: PathPart) -> Problem | None:
    """The problem with a group field name, or None when it is one (shared with the report's --by)."""
    if name.startswith(META_PREFIX):
        key = name[len(META_PREFIX) :]
        if not key:
            return Problem("name the meta key: 'meta.<key>', e.g. 'meta.site'", path, name, rank=Rank.INVALID)
        return None
    if name in GROUP_FIELDS:
        return None
    return Problem(
        f"unknown group field (one of {', '.join(GROUP_FIELDS)}, or meta.<key>)",
        path,
        name,
        suggestion=did_you_mean(name, GROUP_FIELDS),
        rank=Rank.UNKNOWN_NAME,
    )


def check(ruleset: RulesetParts) -> Iterator[Problem]:
    """Every semantic problem of the ``targets`` section; paths are relative to ``targets``.

    Names must resolve ("did you mean"): the rules and clauses measured, the group fields;
    target ids are unique and distinct from rule ids; a calls measure needs the etiquette
    section (and ``calls_passed`` its scorecard).
    """
    obligations = obligation_rules(ruleset)
    etiquette = etiquette_rules(ruleset)
    all_rules = {**obligations, **etiquette}
    if ruleset.tiers is not None:
        all_rules.update(dict.fromkeys(ruleset.tiers.rule_ids(), "T"))
    seen: dict[str, int] = {}
    for i, target in enumerate(ruleset.targets):
        if target.id in seen:
            yield Problem(f"duplicate target id (also targets[{seen[target.id]}])", (i, "id"), target.id)
        elif target.id in all_rules:
            yield Problem(
                "target id is also a rule id: give the target its own name",
                (i, "id"),
                target.id,
                rank=Rank.UNKNOWN_NAME,
            )
        seen.setdefault(target.id, i)
        yield from (p.descend(i) for p in _target(target, ruleset, obligations, etiquette))


def _target(
    target: Target, ruleset: RulesetParts, obligations: Mapping[str, str], etiquette: Mapping[str, str]
) -> Iterator[Problem]:
    if target.measure == "met_in_time":
        yield from _selection(target, obligations, etiquette, "obligations")
    else:
        yield from _scored_calls(target, ruleset)
    if target.measure == "calls_without_violation":
        yield from _selection(target, etiquette, obligations, "etiquette checks")
    yield from _fraction(target)
    yield from _by(target.by)


def _scored_calls(target: Target, ruleset: RulesetParts) -> Iterator[Problem]:
    """A calls measure counts scorecards: the ruleset needs an etiquette section with one."""
    missing = None
    if ruleset.etiquette is None:
        missing = "the ruleset has no 'etiquette' section"
    elif ruleset.etiquette.scorecard is None:
        missing = "the etiquette section has no 'scorecard'"
    if missing is not None:
        yield Problem(
            f"measure {target.measure} counts scored calls: {missing}",
            ("measure",),
            target.measure,
            rank=Rank.INVALID,
        )


def _fraction(target: Target) -> Iterator[Problem]:
    """``at_least: 0.9`` is almost surely 90% written as a fraction."""
    key = "at_least" if target.at_least is not None else "above"
    threshold = target.percent
    if 0 < threshold < 1:
        yield Problem(
            f"targets are percentages: {threshold:g} means {threshold:g}%; write {threshold * 100:g} "
            f"for {threshold * 100:g}%",
            (key,),
            threshold,
            rank=Rank.INVALID,
        )


def _by(by: Sequence[str]) -> Iterator[Problem]:
    for j, name in enumerate(by):
        problem = group_field_problem(name, "by", j)
        if problem is not None:
            yield problem
        elif name in by[:j]:
            yield Problem("group field listed twice", ("by", j), name, rank=Rank.INVALID)


def _rules(
    target: Target, choices: Mapping[str, str], others: Mapping[str, str], kind: str
) -> Iterator[Problem]:
    listed = target.rules or []
    for j, rule in enumerate(listed):
        if rule in choices:
            if rule in listed[:j]:
                yield Problem("rule listed twice", ("rules", j), rule, rank=Rank.INVALID)
            continue
        hint = f" ({rule} is not one of the {kind} measure {target.measure} counts)" if rule in others else ""
        yield Problem(
            f"unknown rule{hint}",
            ("rules", j),
            rule,
            suggestion=did_you_mean(rule, choices),
            rank=Rank.UNKNOWN_NAME,
        )


def _selection(
    target: Target, choices: Mapping[str, str], others: Mapping[str, str], kind: str
) -> Iterator[Problem]:
    """The rules or clauses a target names resolve to rules of the kind its measure counts."""
    yield from _rules(target, choices, others, kind)
    clauses = sorted(set(choices.values()))
    cited = f" (cited: {', '.join(clauses)})" if clauses else ""
    for j, clause in enumerate(target.clauses or ()):
        if clause not in clauses:
            yield Problem(
                f"no rule among the {kind} of this ruleset cites this clause{cited}",
                ("clauses", j),
                clause,
                suggestion=did_you_mean(clause, clauses),
                rank=Rank.UNKNOWN_NAME,
            )
