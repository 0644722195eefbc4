"""The ruleset format: pydantic models for what a policy author writes in YAML.

These models check shape only (types, required keys, unknown keys). Whether names
refer to something that exists (event types, fields, calendars) is checked when the
ruleset is compiled (:mod:`tierrules._compile`), where a "did you mean" can be offered.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from ._bilingual import Text
from ._etiquette import EtiquetteSpec
from ._tiers import TiersSpec

_ID = r"^[A-Za-z][A-Za-z0-9_.\-]*$"
_CLAUSE = r"^[TEQA][0-9]+$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_UNITS = {
    "second": "seconds",
    "seconds": "seconds",
    "sec": "seconds",
    "s": "seconds",
    "minute": "minutes",
    "minutes": "minutes",
    "min": "minutes",
    "mins": "minutes",
    "hour": "hours",
    "hours": "hours",
    "h": "hours",
    "day": "days",
    "days": "days",
}
_DURATION_RE = re.compile(r"^\s*(\d+)\s+(working\s+)?([a-z]+)\s*$")


class Duration(_Model):
    """How long an obligation has: ``10 minutes``, ``1 working hour``, ``5 working days``.

    Wall-clock durations ignore the calendar; working durations count only the open
    time of the rule's calendar.
    """

    amount: int = Field(gt=0)
    unit: Literal["seconds", "minutes", "hours", "days"]
    working: bool = False

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        match = _DURATION_RE.match(value.lower())
        unit = _UNITS.get(match.group(3)) if match else None
        if match is None or unit is None:
            raise ValueError(
                "expected '<n> [working] seconds|minutes|hours|days', e.g. '10 minutes' or '1 working hour'"
            )
        return {"amount": int(match.group(1)), "unit": unit, "working": bool(match.group(2))}

    def __str__(self) -> str:
        unit = self.unit[:-1] if self.amount == 1 else self.unit
        return f"{self.amount} {'working ' if self.working else ''}{unit}"


ConditionValue = str | int | bool


class Trigger(_Model):
    """An event type, optionally narrowed by field values (one value or any of a list)."""

    event: str = Field(min_length=1)
    when: dict[str, ConditionValue | list[ConditionValue]] = Field(default_factory=dict)


class PrioritySpec(_Model):
    """Rank escalations by a start-event field: the first value listed is priority 1."""

    field: str = Field(min_length=1)
    order: list[str] = Field(min_length=1)


class EscalationSpec(_Model):
    """Where a breach escalates to, and how the chain continues while the obligation is unmet.

    The first step goes to a fixed level, or one above a level the start event names;
    with ``every``, each further interval still unmet goes one level higher, up to ``top``.
    ``at_start`` escalates as soon as the clock starts, breach or not (emergencies skip levels).
    """

    to_level: int | None = Field(default=None, ge=1)
    above_field: str | None = Field(
        default=None, description="Escalate to this start-event field's value + 1."
    )
    every: Duration | None = Field(default=None, description="Next level after each further interval unmet.")
    top: int | None = Field(default=None, ge=1, description="The highest level the chain reaches.")
    at_start: bool = Field(default=False, description="Escalate when the clock starts (skip-level).")
    priority: PrioritySpec | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> EscalationSpec:
        if (self.to_level is None) == (self.above_field is None):
            raise ValueError("give exactly one of 'to_level' or 'above_field'")
        return self


CaseAttribute = Literal["severity", "channel", "service_level", "service_class", "tier"]


class DueBefore(_Model):
    """Due a duration before an instant the start event names (scheduling courtesy, E12)."""

    field: str = Field(min_length=1)
    by: Duration


class DeadlineRule(_Model):
    """A clock: started by one event, stopped by another, due after a duration.

    The target may depend on a case attribute (``within_by``) and is recomputed when the
    attribute changes mid-case; so may the calendar (``calendar_by``).
    """

    id: str = Field(pattern=_ID)
    source: str = Field(pattern=_CLAUSE, description="The POLICY.md clause, e.g. 'E2'.")
    description: Text
    start: Trigger
    met_by: Trigger
    within: Duration | None = Field(default=None, description="The target (the fallback with within_by).")
    within_by: dict[CaseAttribute, dict[str, Duration]] | None = Field(
        default=None, description="Target by the case's current attribute value, e.g. severity."
    )
    due_before: DueBefore | None = None
    applies_to: dict[CaseAttribute, list[str | int]] = Field(
        default_factory=dict, description="Only cases whose attributes (at the start) match."
    )
    cancelled_by: Trigger | None = Field(
        default=None, description="An event that ends the obligation unowed if it comes before the due time."
    )
    pausable: bool = Field(default=False, description="case_paused .. case_resumed does not count.")
    warn_at: list[int] = Field(default_factory=lambda: [50, 80], description="Warning percentages.")
    calendar: str | None = Field(
        default=None, description="Calendar for working durations; the ruleset default if unset."
    )
    calendar_by: dict[CaseAttribute, dict[str, str]] | None = Field(
        default=None, description="Calendar by the case's current attribute value, e.g. service_level."
    )
    escalate: EscalationSpec | None = None

    @field_validator("warn_at")
    @classmethod
    def _percentages(cls, value: list[int]) -> list[int]:
        if any(not 0 < p < 100 for p in value):
            raise ValueError("warning percentages are between 1 and 99")
        return sorted(set(value))

    @model_validator(mode="after")
    def _one_target(self) -> DeadlineRule:
        given = [self.within is not None or self.within_by is not None, self.due_before is not None]
        if sum(given) != 1:
            raise ValueError("give a target: 'within' (optionally with 'within_by') or 'due_before'")
        for name, by in (("within_by", self.within_by), ("calendar_by", self.calendar_by)):
            if by is not None and len(by) != 1:
                raise ValueError(f"'{name}' keys on exactly one case attribute")
        return self


class CalendarSpec(_Model):
    """Opening hours in a timezone, with holidays and make-up working days."""

    timezone: str = Field(min_length=1, description="IANA name, e.g. Asia/Shanghai.")
    always_open: bool = False
    hours: dict[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], list[str]] = Field(
        default_factory=dict, description="Weekday -> opening intervals like '09:00-18:00'."
    )
    holidays: HolidaySourceSpec | None = None
    closed_dates: list[dt.date] = Field(default_factory=list, description="Extra days off.")
    open_dates: list[dt.date] = Field(
        default_factory=list, description="Extra working days (make-up days, 调休)."
    )

    @field_validator("closed_dates", "open_dates", mode="before")
    @classmethod
    def _dates(cls, value: Any) -> Any:
        # YAML gives dates already; JSON gives strings.
        if isinstance(value, list):
            return [dt.date.fromisoformat(v) if isinstance(v, str) else v for v in value]
        return value


class HolidaySourceSpec(_Model):
    """Public holidays from the ``holidays`` package (country code, optional subdivision)."""

    country: str = Field(min_length=2)
    subdiv: str | None = None


class Ruleset(_Model):
    """A whole policy: calendars and the rules that use them."""

    name: str = Field(pattern=_ID)
    version: str = Field(min_length=1)
    description: Text | None = None
    timezone: str = Field(min_length=1, description="Timezone decisions are reported in.")
    default_calendar: str = Field(min_length=1)
    calendars: dict[str, CalendarSpec] = Field(min_length=1)
    deadlines: list[DeadlineRule] = Field(default_factory=list)
    tiers: TiersSpec | None = Field(default=None, description="Tier assignment and cadences (T clauses).")
    etiquette: EtiquetteSpec | None = Field(
        default=None, description="Etiquette checks and the call scorecard (Q clauses, A1)."
    )

    # The compiled form, attached at load time so evaluation never recompiles.
    _compiled: Any = PrivateAttr(default=None)


CalendarSpec.model_rebuild()
