"""Numbers in a ruleset that would overflow or blow up later are refused when it loads.

Reported by an operator (issue 14): ``vip.max_gap: 4294967296`` loaded and then every
``evaluate()`` raised OverflowError (a regex repetition count). The same class, found by
reading every numeric field of the ruleset models: a ``within_seconds`` of ``.inf`` or
1e308 overflowed a timedelta, ``pace`` rates and weights took infinities, escalation levels
and ``top`` were unbounded (a chain steps once per level up to ``top``), integers in
``when`` conditions and tier thresholds past 64 bits reached the rule engine, and a
working-time target on a sparse calendar (``100000 working hours`` on a desk open a minute
a week) scanned millions of days towards year 10000. Calendars with no open weekday, or
closed by ``closed_dates`` for over three years, failed only mid-evaluation.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import tierrules
from tests.support.cli import assert_refused, run_cli

NOW = dt.datetime.fromisoformat("2026-11-24T12:00:00+08:00")


@pytest.fixture
def ruleset(tmp_path: Path) -> Path:
    copy = tmp_path / "rs"
    shutil.copytree(tierrules.default_ruleset_path(), copy)
    return copy


def edit(ruleset: Path, file: str, change: Callable[[Any], None]) -> None:
    path = ruleset / file
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def deadline(data: Any, rule_id: str) -> dict[str, Any]:
    return next(rule for rule in data["deadlines"] if rule["id"] == rule_id)


def check(data: Any, kind: str) -> dict[str, Any]:
    section: dict[str, Any] = data["etiquette"][kind]
    return section


def _set(path: tuple[Any, ...], value: Any) -> Callable[[Any], None]:
    def change(data: Any) -> None:
        target = data
        for part in path[:-1]:
            target = part(target) if callable(part) else target[part]
        target[path[-1]] = value

    return change


CASES = [
    ("etiquette.yaml", _set((lambda d: check(d, "greeting"), "vip", "max_gap"), 4294967296), "max_gap"),
    ("etiquette.yaml", _set((lambda d: check(d, "greeting"), "vip", "levels"), [1, 4]), "levels"),
    (
        "etiquette.yaml",
        _set((lambda d: check(d, "customer_name"), "within_seconds"), float("inf")),
        "within_seconds",
    ),
    (
        "etiquette.yaml",
        _set((lambda d: check(d, "customer_name"), "within_seconds"), 1e308),
        "within_seconds",
    ),
    ("etiquette.yaml", _set((lambda d: check(d, "customer_name"), "min_mentions"), 10**30), "min_mentions"),
    ("etiquette.yaml", _set((lambda d: check(d, "pace"), "max_per_minute"), float("inf")), "max_per_minute"),
    (
        "etiquette.yaml",
        _set((lambda d: check(d, "pace"), "min_duration_seconds"), 1e300),
        "min_duration_seconds",
    ),
    ("etiquette.yaml", _set((lambda d: check(d, "phone_opening"), "max_rings"), 2**64), "max_rings"),
    (
        "deadlines.yaml",
        _set((lambda d: deadline(d, "E2.complaint-reply"), "escalate", "to_level"), 2**40),
        "to_level",
    ),
    ("deadlines.yaml", _set((lambda d: deadline(d, "E1.escalate"), "escalate", "top"), 10**9), "top"),
    (
        "deadlines.yaml",
        _set((lambda d: deadline(d, "E1.escalate"), "start", "when"), {"agent_level": 2**64}),
        "when",
    ),
    ("tiers.yaml", _set(("tiers", "thresholds", 0, "min", "visits_12m"), 2**63), "visits_12m"),
]


@pytest.mark.parametrize(("file", "change", "field"), CASES)
def test_refused_when_the_ruleset_loads(
    ruleset: Path, file: str, change: Callable[[Any], None], field: str
) -> None:
    edit(ruleset, file, change)
    with pytest.raises(tierrules.RulesetError) as caught:
        tierrules.load_ruleset(ruleset)
    assert caught.value.file == ruleset / file and caught.value.line is not None
    assert field in caught.value.json_path
    assert_refused(run_cli("validate", str(ruleset)), str(ruleset / file), field)


def test_sparse_calendar_with_a_long_working_target(ruleset: Path) -> None:
    def change(data: Any) -> None:
        data["calendars"]["business"]["hours"] = {"mon": ["09:00-09:01"]}

    edit(ruleset, "calendars.yaml", change)
    edit(
        ruleset,
        "deadlines.yaml",
        _set((lambda d: deadline(d, "E2.complaint-reply"), "within"), "99999 working hours"),
    )
    with pytest.raises(
        tierrules.RulesetError, match="a working-time target may take at most 10 years"
    ) as caught:
        tierrules.load_ruleset(ruleset)
    assert any(
        p.json_path.endswith(".within") and p.value == "99999 working hours" for p in caught.value.problems
    )


def test_calendar_without_an_open_weekday(ruleset: Path) -> None:
    edit(ruleset, "calendars.yaml", _set(("calendars", "business", "hours"), {"mon": [], "tue": []}))
    with pytest.raises(tierrules.RulesetError, match="opening hours on at least one weekday"):
        tierrules.load_ruleset(ruleset)


def test_calendar_closed_for_years(ruleset: Path) -> None:
    start = dt.date(2026, 1, 1)
    closed = [start + dt.timedelta(days=i) for i in range(4 * 366)]
    edit(ruleset, "calendars.yaml", _set(("calendars", "business", "closed_dates"), closed))
    with pytest.raises(tierrules.RulesetError, match="working-time arithmetic gives up") as caught:
        tierrules.load_ruleset(ruleset)
    assert caught.value.json_path == "$.calendars.business.closed_dates"


def test_the_bounds_leave_the_default_ruleset_alone() -> None:
    engine = tierrules.Engine(tierrules.load_ruleset())
    events = [{"type": "complaint_registered", "at": "2026-11-24T10:00:00+08:00", "case_id": "c"}]
    assert engine.evaluate(events, NOW).obligations
