"""The policy's vocabulary, written once: every name, value set and text form tierrules knows.

Event fields, ruleset models, compiler checks, the test generators and the JSON Schema all
read these definitions, so a value added here is accepted everywhere at once.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Final, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

__all__ = [
    "CASE_ATTRIBUTES",
    "CASE_ATTRIBUTE_DEFAULTS",
    "CLAUSE_PATTERN",
    "CUSTOMER_ATTRIBUTES",
    "ID_PATTERN",
    "SEVERITIES",
    "TIERS",
    "BackofficeSeverity",
    "CaseAttribute",
    "CaseSeverity",
    "Channel",
    "Duration",
    "EmergencyCategory",
    "FeedbackSeverity",
    "Months",
    "ServiceClass",
    "ServiceLevel",
    "Speaker",
    "Text",
    "Tier",
    "clause_pattern",
]

# Rule and item ids: a letter, then letters, digits, '_', '.', '-' ("E2.complaint-reply").
ID_PATTERN: Final = r"^[A-Za-z][A-Za-z0-9_.\-]*$"
# A clause of the policy catalog (docs/policy.md): T tiers, E deadlines, Q etiquette, A assessment.
CLAUSE_PATTERN: Final = r"^[TEQA][0-9]+$"


def clause_pattern(letters: str) -> str:
    """The clause-id pattern restricted to some sections: ``clause_pattern("Q")`` is ``^[Q][0-9]+$``."""
    return rf"^[{letters}][0-9]+$"


Channel = Literal["phone", "lobby", "online", "visit"]
# One severity scale for cases, feedback and back-office requests, most severe first: a
# case_updated raising a case to critical applies to every clock of the case.
CaseSeverity = Literal["critical", "urgent", "important", "general"]
SEVERITIES: Final[tuple[CaseSeverity, ...]] = get_args(CaseSeverity)
FeedbackSeverity = CaseSeverity
BackofficeSeverity = CaseSeverity
EmergencyCategory = Literal["personal_safety", "property", "service_interruption", "other"]
Speaker = Literal["agent", "customer"]

# T2: the tier order is fixed by the policy, highest first.
Tier = Literal["diamond", "platinum", "gold", "silver", "standard"]
TIERS: Final[tuple[Tier, ...]] = get_args(Tier)
ServiceClass = Literal["A", "B", "C"]  # T4: A premium, B standard, C economy
ServiceLevel = Literal[1, 2, 3]  # T3: level 1 is the highest

# Case attributes rules may depend on (``applies_to``, ``within_by``, ``calendar_by``): the
# case's severity and channel, and its customer's tier, class and level over time.
CaseAttribute = Literal["severity", "channel", "service_level", "service_class", "tier"]
CASE_ATTRIBUTES: Final[dict[str, tuple[Any, ...]]] = {
    "severity": get_args(CaseSeverity),
    "channel": get_args(Channel),
    "tier": TIERS,
    "service_class": get_args(ServiceClass),
    "service_level": get_args(ServiceLevel),
}
CUSTOMER_ATTRIBUTES: Final = ("tier", "service_class", "service_level")
# Before a case says otherwise: the default severity, and the T5 mapping of a customer
# nobody has profiled (standard tier, class C, level 3).
CASE_ATTRIBUTE_DEFAULTS: Final[dict[str, Any]] = {
    "severity": "general",
    "channel": None,
    "tier": "standard",
    "service_class": "C",
    "service_level": 3,
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Model):
    """A text in Chinese and English."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class _TextForm(_Model):
    """A value authors write as text (``"10 minutes"``), parsed into fields.

    Subclasses give the pattern and its parser; the JSON Schema offers the text form first
    (what editors should complete) and keeps the object form valid.
    """

    TEXT_PATTERN: ClassVar[str]
    TEXT_EXAMPLES: ClassVar[tuple[str, ...]]
    TEXT_HELP: ClassVar[str]

    @classmethod
    def _parse(cls, text: str) -> dict[str, Any] | None:
        raise NotImplementedError

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        parsed = cls._parse(value.lower())
        if parsed is None:
            raise ValueError(cls.TEXT_HELP)
        return parsed

    @classmethod
    def __get_pydantic_json_schema__(cls, core: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        text = {
            "type": "string",
            "pattern": cls.TEXT_PATTERN,
            "examples": list(cls.TEXT_EXAMPLES),
            "description": cls.TEXT_HELP,
        }
        return {"anyOf": [text, handler(core)]}


_UNITS: Final = {
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
_DURATION_RE: Final = re.compile(r"^\s*(\d+)\s+(working\s+)?([a-z]+)\s*$")
_MONTHS_RE: Final = re.compile(r"^\s*(\d+)\s+months?\s*$")


class Duration(_TextForm):
    """How long an obligation has: ``10 minutes``, ``1 working hour``, ``5 working days``.

    Wall-clock durations ignore the calendar; working durations count only the open
    time of the rule's calendar.
    """

    TEXT_PATTERN: ClassVar[str] = (
        r"^\s*[0-9]+\s+([Ww][Oo][Rr][Kk][Ii][Nn][Gg]\s+)?"
        r"([Ss][Ee][Cc][Oo][Nn][Dd][Ss]?|[Ss][Ee][Cc]|[Ss]|[Mm][Ii][Nn][Uu][Tt][Ee][Ss]?|[Mm][Ii][Nn][Ss]?"
        r"|[Hh][Oo][Uu][Rr][Ss]?|[Hh]|[Dd][Aa][Yy][Ss]?)\s*$"
    )
    TEXT_EXAMPLES: ClassVar[tuple[str, ...]] = ("10 minutes", "1 working hour", "5 working days")
    TEXT_HELP: ClassVar[str] = (
        "expected '<n> [working] seconds|minutes|hours|days', e.g. '10 minutes' or '1 working hour'"
    )

    amount: int = Field(gt=0, le=100_000)
    unit: Literal["seconds", "minutes", "hours", "days"]
    working: bool = False

    @classmethod
    def _parse(cls, text: str) -> dict[str, Any] | None:
        match = _DURATION_RE.match(text)
        unit = _UNITS.get(match.group(3)) if match else None
        if match is None or unit is None:
            return None
        return {"amount": int(match.group(1)), "unit": unit, "working": bool(match.group(2))}

    def __str__(self) -> str:
        unit = self.unit[:-1] if self.amount == 1 else self.unit
        return f"{self.amount} {'working ' if self.working else ''}{unit}"


class Months(_TextForm):
    """A wall-clock number of months: ``3 months``, ``1 month``."""

    TEXT_PATTERN: ClassVar[str] = r"^\s*[0-9]+\s+[Mm][Oo][Nn][Tt][Hh][Ss]?\s*$"
    TEXT_EXAMPLES: ClassVar[tuple[str, ...]] = ("3 months", "1 month")
    TEXT_HELP: ClassVar[str] = "expected '<n> months', e.g. '3 months' or '1 month'"

    amount: int = Field(ge=0, le=12_000)

    @classmethod
    def _parse(cls, text: str) -> dict[str, Any] | None:
        match = _MONTHS_RE.match(text)
        return {"amount": int(match.group(1))} if match else None

    def __str__(self) -> str:
        return f"{self.amount} month{'' if self.amount == 1 else 's'}"
