"""Shared helpers: compact event builders on the default ruleset's timezone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import tierrules

CST = dt.timezone(dt.timedelta(hours=8))


def at(text: str) -> dt.datetime:
    """'2026-11-24 17:30' in China Standard Time."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=CST)


def ev(event_type: str, when: str, case: str = "c1", **fields: Any) -> dict[str, Any]:
    return {"type": event_type, "at": at(when).isoformat(), "case_id": case, **fields}


@pytest.fixture(scope="session")
def engine() -> tierrules.Engine:
    return tierrules.Engine(tierrules.load_ruleset())
