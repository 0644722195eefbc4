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

_ID = r"^[A-Za-z][A-Za-z0-9_.\-]*$"
_CLAUSE = r"^[TEQA][0-9]+$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Model):
    """A description in Chinese and English."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


_UNITS = {
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
    unit: Literal["minutes", "hours", "days"]
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
                "expected '<n> [working] minutes|hours|days', e.g. '10 minutes' or '1 working hour'"
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


class EscalationSpec(_Model):
    """Where a breach escalates to: a fixed level, or one above a level the start event names."""

    to_level: int | None = Field(default=None, ge=1)
    above_field: str | None = Field(
        default=None, description="Escalate to this start-event field's value + 1."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> EscalationSpec:
        if (self.to_level is None) == (self.above_field is None):
            raise ValueError("give exactly one of 'to_level' or 'above_field'")
        return self


class DeadlineRule(_Model):
    """A clock: started by one event, stopped by another, due after a duration."""

    id: str = Field(pattern=_ID)
    source: str = Field(pattern=_CLAUSE, description="The POLICY.md clause, e.g. 'E2'.")
    description: Text
    start: Trigger
    met_by: Trigger
    within: Duration
    calendar: str | None = Field(
        default=None, description="Calendar for working durations; the ruleset default if unset."
    )
    escalate: EscalationSpec | None = None


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

    # The compiled form, attached at load time so evaluation never recompiles.
    _compiled: Any = PrivateAttr(default=None)


CalendarSpec.model_rebuild()
