"""The oracle for session tests: which events ``evaluate()`` must see for a case, independently written.

A case's decision is ``evaluate(events, now)`` over the events that arrived so far whose
``case_id`` is the case, and the customer-level events of every customer its
``case_opened`` events name -- in arrival order. A closed case keeps the events that
arrived before it closed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import tierrules

CUSTOMER_TYPES = frozenset({"customer_profile", "tier_override", "care_contacted"})

Event = Mapping[str, Any]


def customers_of(stream: Iterable[Event], case_id: str) -> set[str]:
    return {
        e["customer_id"]
        for e in stream
        if e.get("case_id") == case_id and e["type"] == "case_opened" and e.get("customer_id")
    }


def case_history(stream: list[Event], case_id: str) -> list[Event]:
    """What ``evaluate()`` gets for ``case_id`` after ``stream`` (the applied events, in order)."""
    customers = customers_of(stream, case_id)
    return [
        e
        for e in stream
        if e.get("case_id") == case_id or (e["type"] in CUSTOMER_TYPES and e["customer_id"] in customers)
    ]


def customer_history(stream: list[Event], customer_id: str) -> list[Event]:
    return [e for e in stream if e["type"] in CUSTOMER_TYPES and e["customer_id"] == customer_id]


def open_cases_of(stream: list[Event], customer_id: str, closed: set[str]) -> set[str]:
    cases = {
        e["case_id"] for e in stream if e["type"] == "case_opened" and e.get("customer_id") == customer_id
    }
    return cases - closed


def evaluated(engine: tierrules.Engine, events: list[Event], now: Any) -> str:
    return engine.evaluate(events, now).to_json()
