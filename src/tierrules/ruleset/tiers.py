"""The ``tiers`` section of a ruleset (docs/policy.md T2-T8): its models and semantic checks.

How a customer's tier is computed from these rules lives in :mod:`tierrules.evaluation.tiers`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..errors import PathPart, Problem, Rank, descend, did_you_mean, json_path
from ..vocabulary import ID_PATTERN, TIERS, Months, ServiceClass, ServiceLevel, Text, clause_pattern

# The profile metrics a threshold tests, in report order (CustomerProfile fields).
METRICS: tuple[str, ...] = ("spend_12m", "visits_12m", "tenure_months")
# Rank of each tier: standard 0 ... diamond 4.
RANK: dict[str, int] = {tier: len(TIERS) - 1 - i for i, tier in enumerate(TIERS)}
_T_CLAUSE = clause_pattern("T")

CadenceStatus = Literal["pending", "met", "breached"]


def plain_number(value: float) -> int | float:
    """Integral numbers as int (money in JSON: ``300000``, not ``300000.0``)."""
    return int(value) if float(value).is_integer() else float(value)


# --- The ruleset section --------------------------------------------------------------


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Thresholds(_Spec):
    """Minimum metrics a profile needs for a tier: every one must be met (all-of)."""

    spend_12m: float = Field(
        ge=0, strict=True, allow_inf_nan=False, description="Spend over the last 12 months, CNY."
    )
    visits_12m: int = Field(ge=0, le=2**63 - 1, strict=True, description="Visits over the last 12 months.")
    tenure_months: int = Field(ge=0, le=2**63 - 1, strict=True, description="Months as a customer.")

    def value(self, metric: str) -> float:
        return float(getattr(self, metric))


class TierRule(_Spec):
    id: str = Field(pattern=ID_PATTERN, description="Unique rule id, e.g. 'T6.platinum'.")
    source: str = Field(pattern=_T_CLAUSE, description="The policy clause (docs/policy.md), e.g. 'T6'.")
    description: Text


class ThresholdRule(TierRule):
    """A tier and the thresholds that qualify for it (T2, T6); standard has none."""

    tier: str = Field(min_length=1, description="diamond, platinum, gold, silver or standard.")
    min: Thresholds | None = Field(default=None, description="Absent for standard: everyone qualifies.")


class ServiceSpec(_Spec):
    """The service class (T4) and level (T3) one tier receives."""

    service_class: ServiceClass
    service_level: ServiceLevel


class ServiceRule(TierRule):
    """The tier -> service class / level mapping (T5)."""

    by_tier: dict[str, ServiceSpec]


class VipCardRule(TierRule):
    """A VIP card on the latest profile gives at least ``tier`` (T4, T6)."""

    tier: str = Field(default="platinum", min_length=1)


class OverrideRule(TierRule):
    """An unexpired ``tier_override`` wins over everything (T6). Names the rule in decisions."""


class SoftLandingRule(TierRule):
    """Downgrades wait for the end of a qualification period and go down a bounded number of tiers."""

    qualification_period: Months = Field(
        default_factory=lambda: Months(amount=12),
        description="How long a tier is held before a lower profile can downgrade it ('0 months': at once).",
    )
    max_downgrade_steps: int = Field(default=1, ge=1, le=len(TIERS) - 1)


class CadenceRule(TierRule):
    """A recurring contact owed to a tier (T7 care) or a service level (T8 return visits)."""

    tier: str | None = Field(default=None, min_length=1)
    service_level: ServiceLevel | None = None
    every: Months

    @field_validator("every")
    @classmethod
    def _positive(cls, value: Months) -> Months:
        if value.amount < 1:
            raise ValueError("a cadence needs at least 1 month")
        return value

    @model_validator(mode="after")
    def _one_selector(self) -> CadenceRule:
        if (self.tier is None) == (self.service_level is None):
            raise ValueError("give exactly one of 'tier' or 'service_level'")
        return self


class TiersSpec(_Spec):
    """The ``tiers`` section of a ruleset."""

    thresholds: list[ThresholdRule] = Field(min_length=1, description="One rule per T2 tier.")
    service: ServiceRule
    vip_card: VipCardRule
    override: OverrideRule
    soft_landing: SoftLandingRule
    cadences: list[CadenceRule] = Field(default_factory=list)

    def rule_ids(self) -> dict[str, tuple[PathPart, ...]]:
        """Every rule id in the section and its path (relative to ``tiers``); first one wins."""
        out: dict[str, tuple[PathPart, ...]] = {}
        for path, rule in _rules(self):
            out.setdefault(rule.id, path)
        return out


def _rules(spec: TiersSpec) -> list[tuple[tuple[PathPart, ...], TierRule]]:
    found: list[tuple[tuple[PathPart, ...], TierRule]] = [
        (("thresholds", i), r) for i, r in enumerate(spec.thresholds)
    ]
    found += [
        (("service",), spec.service),
        (("vip_card",), spec.vip_card),
        (("override",), spec.override),
        (("soft_landing",), spec.soft_landing),
    ]
    found += [(("cadences", i), r) for i, r in enumerate(spec.cadences)]
    return found


# --- Semantic checks --------------------------------------------------------------------


def _unknown_tier(name: str, path: tuple[PathPart, ...]) -> Problem:
    return Problem("unknown tier", path, name, suggestion=did_you_mean(name, TIERS), rank=Rank.UNKNOWN_NAME)


def _floor(rule: ThresholdRule) -> Thresholds:
    """A tier's thresholds; standard's are all zero."""
    if rule.min is None:
        return Thresholds(spend_12m=0.0, visits_12m=0, tenure_months=0)
    return rule.min


def check(spec: TiersSpec) -> list[Problem]:
    """Every semantic problem of a tiers section; paths are relative to the ``tiers`` key.

    Shape (types, unknown keys) is pydantic's job; this checks names ("did you mean"),
    that all five T2 tiers are present once, that thresholds never decrease going up the
    T2 order and every tier is reachable, the service mapping, cadences and rule ids.
    """
    return list(_problems(spec))


def _problems(spec: TiersSpec) -> Iterator[Problem]:
    yield from _duplicate_ids(spec)
    yield from descend(_thresholds(spec.thresholds), "thresholds")
    yield from descend(_service(spec.service.by_tier), "service", "by_tier")
    if spec.vip_card.tier not in RANK:
        yield _unknown_tier(spec.vip_card.tier, ("vip_card", "tier"))
    yield from descend(_cadences(spec.cadences), "cadences")


def _duplicate_ids(spec: TiersSpec) -> Iterator[Problem]:
    seen_ids: dict[str, tuple[PathPart, ...]] = {}
    for where, any_rule in _rules(spec):
        if any_rule.id in seen_ids:
            yield Problem(
                f"duplicate rule id (also {json_path(seen_ids[any_rule.id])})",
                (*where, "id"),
                any_rule.id,
                rank=Rank.UNKNOWN_NAME,
            )
        seen_ids.setdefault(any_rule.id, where)


def _thresholds(rules: list[ThresholdRule]) -> Iterator[Problem]:
    """Each rule's tier and ``min``, then the five tiers all there, then their order."""
    first: dict[str, int] = {}  # each known tier's first rule
    for i, rule in enumerate(rules):
        if rule.tier in RANK:
            first.setdefault(rule.tier, i)
    for i, rule in enumerate(rules):
        yield from descend(_threshold_rule(rule, i, first), i)
    for tier in TIERS:
        if tier not in first:
            yield Problem(
                f"missing tier {tier!r}: list all of {' > '.join(TIERS)} (T2)", (), rank=Rank.MISSING
            )
    present = [t for t in TIERS if t in first]  # highest first
    for higher, lower in itertools.pairwise(present):
        hi_rule, lo_rule = rules[first[higher]], rules[first[lower]]
        if hi_rule.min is not None:
            yield from descend(_above(higher, hi_rule.min, lower, _floor(lo_rule)), first[higher], "min")


def _threshold_rule(rule: ThresholdRule, index: int, first: dict[str, int]) -> Iterator[Problem]:
    if rule.tier not in RANK:
        yield _unknown_tier(rule.tier, ("tier",))
    elif first[rule.tier] != index:
        yield Problem(
            f"tier listed twice (also thresholds[{first[rule.tier]}])",
            ("tier",),
            rule.tier,
            rank=Rank.UNKNOWN_NAME,
        )
    elif rule.tier == "standard" and rule.min is not None:
        yield Problem(
            "standard has no thresholds: everyone qualifies; remove 'min'", ("min",), rank=Rank.INVALID
        )
    elif rule.tier != "standard" and rule.min is None:
        yield Problem(f"required key missing: {rule.tier} needs 'min'", ("min",), rank=Rank.MISSING)


def _above(higher: str, hi: Thresholds, lower: str, lo: Thresholds) -> Iterator[Problem]:
    """A tier's thresholds against the next tier down's: none lower, at least one higher."""
    for metric in METRICS:
        if hi.value(metric) < lo.value(metric):
            yield Problem(
                f"{higher}'s {metric} threshold is below {lower}'s "
                f"({plain_number(lo.value(metric))}): "
                "a higher tier never has a lower threshold",
                (metric,),
                plain_number(hi.value(metric)),
                rank=Rank.INVALID,
            )
    if all(hi.value(m) == lo.value(m) for m in METRICS):
        yield Problem(
            f"{higher}'s thresholds equal {lower}'s: no profile could ever be {lower}; raise at least one",
            (),
            rank=Rank.INVALID,
        )


def _service(by_tier: dict[str, ServiceSpec]) -> Iterator[Problem]:
    """The tier -> class / level mapping: known tiers, all five, never worse going up."""
    for name in by_tier:
        if name not in RANK:
            yield _unknown_tier(name, (name,))
    for tier in TIERS:
        if tier not in by_tier:
            yield Problem(f"missing tier {tier!r}", (), rank=Rank.MISSING)
    mapped = [t for t in TIERS if t in by_tier]
    for higher, lower in itertools.pairwise(mapped):
        yield from descend(_no_worse(higher, by_tier[higher], lower, by_tier[lower]), higher)


def _no_worse(higher: str, hi: ServiceSpec, lower: str, lo: ServiceSpec) -> Iterator[Problem]:
    if hi.service_class > lo.service_class:  # "A" < "B" < "C": A is the best
        yield Problem(
            f"{higher} gets a worse service class than {lower} ({lo.service_class})",
            ("service_class",),
            hi.service_class,
            rank=Rank.INVALID,
        )
    if hi.service_level > lo.service_level:  # level 1 is the highest
        yield Problem(
            f"{higher} gets a lower service level than {lower} ({lo.service_level})",
            ("service_level",),
            hi.service_level,
            rank=Rank.INVALID,
        )


def _cadences(cadences: list[CadenceRule]) -> Iterator[Problem]:
    """Known tiers, and one cadence per tier or level (one contact would meet both)."""
    selectors: dict[tuple[str, object], int] = {}
    for i, cadence in enumerate(cadences):
        if cadence.tier is not None and cadence.tier not in RANK:
            yield _unknown_tier(cadence.tier, (i, "tier"))
            continue
        key = ("tier", cadence.tier) if cadence.tier is not None else ("service_level", cadence.service_level)
        if key in selectors:
            yield Problem(
                f"a second cadence for {key[0]} {key[1]} (also cadences[{selectors[key]}]); "
                "both would be met by the same care_contacted",
                (i, key[0]),
                key[1],
                rank=Rank.UNKNOWN_NAME,
            )
        selectors.setdefault(key, i)
