"""Hand-built rulesets for the stage tests: one always-open calendar and the deadline rules given."""

from __future__ import annotations

from typing import Any

from tierrules.compiler.load import ruleset_from_data
from tierrules.ruleset.model import Ruleset

TEXT = {"zh": "说明", "en": "text"}


def rule(rule_id: str, start: dict[str, Any], met_by: Any, **extra: Any) -> dict[str, Any]:
    """A deadline rule of one hour (clause E2) with the given start, meets and extra keys."""
    return {
        "id": rule_id,
        "source": "E2",
        "description": TEXT,
        "start": start,
        "met_by": met_by,
        "within": "1 hour",
        **extra,
    }


def tiny(*deadlines: dict[str, Any]) -> Ruleset:
    """A checked ruleset with one always-open calendar and the given deadline rules."""
    return ruleset_from_data(
        {
            "name": "tiny",
            "version": "1",
            "timezone": "Asia/Shanghai",
            "default_calendar": "always",
            "calendars": {"always": {"timezone": "Asia/Shanghai", "always_open": True}},
            "deadlines": list(deadlines),
        }
    )
