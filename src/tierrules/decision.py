"""What ``evaluate()`` returns: the decision and its parts.

Every type a :class:`Decision` holds is defined here and exported from ``tierrules``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from .vocabulary import ServiceClass, ServiceLevel, Text, Tier

Status = Literal["pending", "met", "breached"]


_P = TypeVar("_P", bound="_Part")


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def _all_fields(cls) -> set[str]:
        found: set[str] | None = cls.__dict__.get("_ALL_FIELDS")
        if found is None:
            found = set(cls.model_fields)
            type.__setattr__(cls, "_ALL_FIELDS", found)
        return found

    @classmethod
    def _trusted(cls: type[_P], fields: dict[str, Any]) -> _P:
        """An instance of values tierrules computed itself, without re-validating them.

        The evaluation hot path builds thousands of these per second from values whose
        types it controls; tests re-validate whole decisions to keep that honest.
        """
        if len(fields) != len(cls.model_fields):
            for name, info in cls.model_fields.items():
                if name not in fields:
                    fields[name] = info.get_default(call_default_factory=True)
        part = cls.__new__(cls)
        object.__setattr__(part, "__dict__", fields)
        # Every field is set; frozen models never change this set, so one copy is shared.
        object.__setattr__(part, "__pydantic_fields_set__", cls._all_fields())
        object.__setattr__(part, "__pydantic_extra__", None)
        object.__setattr__(part, "__pydantic_private__", None)
        return part


class Obligation(_Part):
    """A deadline one case owes: started by an event, due at an instant."""

    id: str = Field(
        description="Stable id: '<case_id>/<rule>/<n>', n counting starts of the rule in the case."
    )
    rule: str = Field(description="The ruleset rule that created it.")
    source: str = Field(description="The policy clause (docs/policy.md), e.g. 'E2'.")
    case_id: str | None = Field(description="The case; null for customer-level obligations (T7/T8 cadences).")
    started_at: dt.datetime
    due_at: dt.datetime
    status: Status = Field(
        description="pending: not met, due in the future; met: met on or before due; "
        "breached: due passed unmet, or met late."
    )
    met_at: dt.datetime | None = None
    customer_id: str | None = Field(default=None, description="The case's customer, when known.")
    paused_for: dt.timedelta = Field(
        default=dt.timedelta(0),
        description="Clock time the pauses cost (ISO 8601 duration): working time on a working clock, "
        "elapsed time on a wall clock.",
    )
    paused: bool = Field(
        default=False,
        description="The clock is paused now; due_at assumes it resumes now, so due_at, paused_for, "
        "paused_for_wall, explain and the due times in changes move with now (the decision's "
        "clock fields).",
    )
    changes: list[dict[str, Any]] = Field(
        default_factory=list, description="Target recomputations (severity or tier changed mid-case)."
    )
    explain: dict[str, Any] = Field(default_factory=dict, description="How due_at was computed.")
    agent_id: str | None = Field(
        default=None,
        exclude_if=lambda v: v is None,
        description="The agent behind the start event (or the case's latest before it); absent when unknown.",
    )
    team: str | None = Field(default=None, exclude_if=lambda v: v is None, description="That agent's team.")
    message: Text | None = Field(
        default=None, description="What is owed, in Chinese and English (the rule's)."
    )
    paused_for_wall: dt.timedelta = Field(
        default=dt.timedelta(0), description="Elapsed time the pauses lasted (ISO 8601 duration)."
    )
    start_event_id: str | None = Field(
        default=None, exclude_if=lambda v: v is None, description="The id of the event that started it."
    )
    met_event_id: str | None = Field(
        default=None, exclude_if=lambda v: v is None, description="The id of the event that met it."
    )


class DeadlineWarning(_Part):
    """A share of an obligation's time has run out while it is unmet."""

    id: str = Field(default="", description="Stable id: '<obligation id>/warning/<percent>'.")
    obligation: str = Field(description="The obligation's id.")
    rule: str
    source: str
    case_id: str
    at: dt.datetime
    percent: int
    due_at: dt.datetime
    message: Text | None = None


class Escalation(_Part):
    """An escalation a breach raises."""

    id: str = Field(default="", description="Stable id: '<obligation id>/escalation/<step>'.")
    obligation: str = Field(default="", description="The obligation that raised it.")
    rule: str
    source: str
    case_id: str
    at: dt.datetime = Field(description="When the breach happened (the obligation's due time).")
    to_level: int
    reason: str
    step: int = Field(default=0, description="0 for the first escalation, then one per chain step.")
    priority: int | None = Field(default=None, description="1 is the most urgent (E4 order).")
    message: Text | None = None


class Evidence(_Part):
    """What was said: ``utterance.text[start:end] == text``, offsets into the text as received."""

    text: str
    start: int
    end: int


class Violation(_Part):
    """An etiquette requirement not met.

    Checks add their own details after the common fields (``missing``, ``expected``,
    ``heard``, ``phrase``, ``rings``, ``mentions``, ``per_minute``...): see docs/etiquette.md.
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    id: str = Field(default="", description="Stable id: '<case>/<rule>/<event>/<what>'.")
    rule: str
    source: str
    case_id: str
    at: dt.datetime
    severity: Literal["fail", "review"] = Field(
        default="fail", description="fail costs scorecard points; review is for a person to judge."
    )
    evidence: Evidence | None = Field(default=None, description="The words at fault, when there are some.")
    message: Text | None = None
    agent_id: str | None = Field(
        default=None, exclude_if=lambda v: v is None, description="The call's agent."
    )
    team: str | None = Field(default=None, exclude_if=lambda v: v is None, description="The agent's team.")
    event_id: str | None = Field(
        default=None, exclude_if=lambda v: v is None, description="The id of the event behind it."
    )


class ScoreItem(_Part):
    """One scorecard line of a call (A1): its weight and whether it was earned."""

    id: str
    weight: float
    status: Literal["pass", "fail", "n/a"]
    earned: float
    failed: list[str] | None = Field(
        default=None, exclude_if=lambda v: v is None, description="The checks that failed it."
    )


class Score(_Part):
    """A call's scorecard (A1)."""

    case_id: str
    score: float
    max: float
    percent: float
    passed: bool
    auto_failed: bool
    items: list[ScoreItem]
    message: Text | None = None
    agent_id: str | None = Field(
        default=None, exclude_if=lambda v: v is None, description="The call's agent."
    )
    team: str | None = Field(default=None, exclude_if=lambda v: v is None, description="The agent's team.")


class NextTier(_Part):
    """The tier above and what each metric lacks for it (0 where already met)."""

    tier: Tier
    gaps: dict[str, int | float]


class TierAssignment(_Part):
    """One customer's tier as of ``now``: the ``tiers`` entry of a decision."""

    customer_id: str
    tier: Tier
    service_class: ServiceClass
    service_level: ServiceLevel
    rule: str = Field(description="The rule that decided the tier, e.g. 'T6.override'.")
    source: str = Field(description="Its policy clause (docs/policy.md).")
    reasons: list[dict[str, Any]] = Field(description="Observed values against thresholds, and notes.")
    next_tier: NextTier | None = Field(description="Null at diamond, or when no profile is known.")
    message: Text | None = None


class Decision(_Part):
    """Everything the policy says about the events at ``now``."""

    obligations: list[Obligation] = Field(default_factory=list)
    escalations: list[Escalation] = Field(default_factory=list)
    violations: list[Violation] = Field(default_factory=list)
    warnings: list[DeadlineWarning] = Field(default_factory=list)
    tiers: list[TierAssignment] = Field(default_factory=list)
    scores: list[Score] = Field(default_factory=list, description="Per-call scorecards (A1).")
    next_check_at: dt.datetime | None = Field(
        default=None,
        description="The earliest future instant at which the decision can change without a new event.",
    )
    next_check_by_case: dict[str, dt.datetime | None] = Field(
        default_factory=dict,
        description="Per case, the earliest future instant at which its part of the decision changes "
        "without a new event (null: none); a customer's tier changes count for each of their cases.",
    )

    def to_json(self, *, indent: int | None = 2) -> str:
        """The decision as JSON text: the same decision always gives the same bytes."""
        return json.dumps(self.model_dump(mode="json"), ensure_ascii=False, indent=indent)
