"""The ruleset format: pydantic models for what a policy author writes in YAML.

These models check shape only (types, required keys, unknown keys). Whether names
refer to something that exists (event types, fields, calendars) is checked when the
ruleset is compiled (:mod:`tierrules.compiler`), where a "did you mean" can be offered.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from ..calendars import BusinessCalendar, HolidaySource, parse_hours
from ..vocabulary import CLAUSE_PATTERN, ID_PATTERN, CaseAttribute, Duration, Text
from .etiquette import EtiquetteSpec
from .targets import Target
from .tiers import TiersSpec

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# A condition's integer is matched by the rule engine, which reads 64-bit integers.
ConditionValue = str | Annotated[int, Field(ge=-(2**63), le=2**63 - 1)] | bool


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

    to_level: int | None = Field(default=None, ge=1, le=1000)
    above_field: str | None = Field(
        default=None,
        description="Escalate to this start-event field's value + 1 (capped at the highest declared level).",
    )
    every: Duration | None = Field(default=None, description="Next level after each further interval unmet.")
    top: int | None = Field(default=None, ge=1, le=1000, description="The highest level the chain reaches.")
    at_start: bool = Field(default=False, description="Escalate when the clock starts (skip-level).")
    priority: PrioritySpec | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> EscalationSpec:
        if (self.to_level is None) == (self.above_field is None):
            raise ValueError("give exactly one of 'to_level' or 'above_field'")
        return self


class DueBefore(_Model):
    """Due a duration before an instant the start event names (scheduling courtesy, E12).

    With ``rescheduled_by``, a later event of that type (paired by the rule's ``pair_by``)
    carrying the same field moves the instant: the clock follows the visit. A booking made
    later than ``by`` before the instant is owed at the instant itself.
    """

    field: str = Field(min_length=1)
    by: Duration
    rescheduled_by: str | None = Field(
        default=None, min_length=1, description="An event type whose same-named field moves the instant."
    )


class DeadlineRule(_Model):
    """A clock: started by one event, stopped by another, due after a duration.

    The target may depend on a case attribute (``within_by``) and is recomputed when the
    attribute changes mid-case; so may the calendar (``calendar_by``).
    """

    id: str = Field(pattern=ID_PATTERN)
    source: str = Field(pattern=CLAUSE_PATTERN, description="The policy clause (docs/policy.md), e.g. 'E2'.")
    description: Text
    start: Trigger
    met_by: Trigger | list[Trigger] = Field(
        description="The event that meets it, or a list of events any of which meets it "
        "(a resolution also answers: [complaint_replied, complaint_resolved])."
    )
    within: Duration | None = Field(default=None, description="The target (the fallback with within_by).")
    within_by: dict[CaseAttribute, dict[str, Duration]] | None = Field(
        default=None, description="Target by the case's current attribute value, e.g. severity."
    )
    due_before: DueBefore | None = None
    applies_to: dict[CaseAttribute, list[str | int]] = Field(
        default_factory=dict,
        description="Only while the case's attributes match: the clock starts, stops or starts again "
        "when they change.",
    )
    on_attribute_change: Literal["reattach", "retroactive"] = Field(
        default="reattach",
        description="When an attribute change makes the rule apply after the start event: reattach "
        "(the clock starts at the change) or retroactive (it counts from the start event).",
    )
    pair_by: str | None = Field(
        default=None,
        description="A start-event field (e.g. visit_id) that met_by, cancelled_by and rescheduling "
        "events must share when they carry it.",
    )
    met_requires_level: bool = Field(
        default=False,
        description="An escalated event meets it only when its to_level reaches the level the rule "
        "escalates to.",
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

    @property
    def met_triggers(self) -> tuple[Trigger, ...]:
        """Every event that meets the rule, the first listed first."""
        return tuple(self.met_by) if isinstance(self.met_by, list) else (self.met_by,)

    @field_validator("met_by")
    @classmethod
    def _some_met_by(cls, value: Trigger | list[Trigger]) -> Trigger | list[Trigger]:
        if isinstance(value, list) and not value:
            raise ValueError("list at least one event that meets the rule")
        return value

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

    def build(self, name: str) -> BusinessCalendar:
        """The calendar this spec describes; raises ValueError for what the checks refuse."""
        if self.always_open:
            return BusinessCalendar.always_open(name, self.timezone)
        week = {
            _WEEKDAYS.index(day): [parse_hours(text) for text in spans] for day, spans in self.hours.items()
        }
        holidays = HolidaySource(self.holidays.country, self.holidays.subdiv) if self.holidays else None
        return BusinessCalendar(
            name,
            self.timezone,
            week,
            holidays=holidays,
            closed_dates=self.closed_dates,
            open_dates=self.open_dates,
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

    name: str = Field(pattern=ID_PATTERN)
    version: str = Field(min_length=1)
    description: Text | None = None
    timezone: str = Field(min_length=1, description="Timezone decisions are reported in.")
    default_calendar: str = Field(min_length=1)
    calendars: dict[str, CalendarSpec] = Field(min_length=1)
    levels: dict[int, Text] | None = Field(
        default=None,
        description="The escalation levels, lowest first (1 front line ...); escalations and events "
        "naming a level outside them are refused.",
    )
    deadlines: list[DeadlineRule] = Field(default_factory=list)
    tiers: TiersSpec | None = Field(default=None, description="Tier assignment and cadences (T clauses).")
    etiquette: EtiquetteSpec | None = Field(
        default=None, description="Etiquette checks and the call scorecard (Q clauses, A1)."
    )
    targets: list[Target] = Field(
        default_factory=list, description="Shares of cases that must keep a rule over a period (reports)."
    )

    # The compiled form, attached at load time so evaluation never recompiles.
    _compiled: Any = PrivateAttr(default=None)


CalendarSpec.model_rebuild()
