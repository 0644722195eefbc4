"""Instants near year 1 or 9999 are refused at validation, naming the field.

Reported by an operator (issue 14): an event ``at`` in year 1 or 9999 passed validation and
then overflowed in time arithmetic (``OverflowError: date value out of range``; CLI exit 1
with a traceback); so did ``expected_at``, ``until`` and ``now``. Accepted instants now lie
in the years ``MIN_YEAR`` to ``MAX_YEAR`` (1900-2199), far enough from datetime's limits that
no deadline, cadence or escalation chain computed from them can overflow.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

import tierrules
from tests.support.cli import assert_refused, run_cli
from tierrules.events import MAX_YEAR, MIN_YEAR

NOW = dt.datetime.fromisoformat("2026-11-24T12:00:00+08:00")
OK_AT = "2026-11-01T10:00:00+08:00"
FAR = [
    "0001-01-01T00:00:00+08:00",
    "0001-01-01T00:00:00-23:59",
    "1899-12-31T23:59:59+00:00",
    "2200-01-01T00:00:00+00:00",
    "9999-12-31T23:59:59-23:59",
    "9999-12-31T23:59:59+00:00",
]


def events_with(field: str, value: str) -> list[dict[str, Any]]:
    if field == "at":
        return [{"type": "complaint_registered", "at": value, "case_id": "c"}]
    if field == "expected_at":
        return [{"type": "visit_scheduled", "at": OK_AT, "case_id": "c", "expected_at": value}]
    return [
        {
            "type": "tier_override",
            "at": OK_AT,
            "customer_id": "C1",
            "tier": "gold",
            "reason": "x",
            "until": value,
        }
    ]


@pytest.mark.parametrize("value", FAR)
@pytest.mark.parametrize("field", ["at", "expected_at", "until"])
def test_event_instants(field: str, value: str) -> None:
    with pytest.raises(tierrules.EventError, match=f"years {MIN_YEAR} to {MAX_YEAR}") as caught:
        tierrules.Engine().evaluate(events_with(field, value), NOW)
    assert (caught.value.index, caught.value.field) == (0, field)


@pytest.mark.parametrize(
    "now",
    [
        dt.datetime(1, 1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=5))),
        dt.datetime(9999, 12, 31, 23, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        dt.datetime(9999, 1, 1, tzinfo=dt.timezone.utc),
    ],
)
def test_now(now: dt.datetime) -> None:
    with pytest.raises(tierrules.EventError, match="now must lie in the years") as caught:
        tierrules.Engine().evaluate(events_with("at", OK_AT), now)
    assert caught.value.json_path == "$.now"


def test_the_edges_of_the_range_evaluate() -> None:
    engine = tierrules.Engine()
    first = "1900-01-01T00:00:00+00:00"
    last = dt.datetime(2199, 12, 31, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=-12)))
    decision = engine.evaluate(
        events_with("at", first) + events_with("expected_at", "2199-12-31T00:00:00+14:00"), last
    )
    assert decision.obligations


def test_cli(tmp_path: Path) -> None:
    path = tmp_path / "far.jsonl"
    path.write_text('{"type": "complaint_registered", "at": "9999-12-31T00:00:00+00:00", "case_id": "c"}\n')
    assert_refused(
        run_cli("evaluate", str(path), "--now", "2026-11-24T12:00:00+08:00"), "$[0].at", "years 1900 to 2199"
    )
    proc = run_cli("evaluate", str(path), "--now", "9999-12-31T00:00:00+00:00")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "years 1900 to 2199" in proc.stderr


def test_case_log_now(tmp_path: Path) -> None:
    log = tmp_path / "cases.jsonl"
    log.write_text('{"name": "a", "now": "9999-12-31T00:00:00+00:00", "events": []}\n')
    assert_refused(
        run_cli("evaluate", "--batch", str(log), "--workers", "0"), f"{log}:1", "years 1900 to 2199"
    )
