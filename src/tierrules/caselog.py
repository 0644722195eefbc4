"""Case logs: the JSON Lines record of cases that batch evaluation, diff and reports read.

One case per line, ``{"name": ..., "now": ..., "events": [...]}`` (``name`` optional), or a
directory of such ``*.jsonl`` files and of policy test files (``*.test.yaml``), whose cases
count too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import EventError, Problem
from .events import json_lines, parse_instant
from .policytest import PolicyTestError, load_test_file

__all__ = ["CaseRecord", "case_error", "read_cases"]


@dataclass(frozen=True)
class CaseRecord:
    """A case to compare: a name, its events and the instant to evaluate at."""

    name: str
    events: list[dict[str, Any]]
    now: dt.datetime


def _now(value: Any, name: str) -> dt.datetime:
    try:
        now = parse_instant(str(value))
    except ValueError:
        now = None
    if now is None or now.tzinfo is None:
        raise EventError(
            [Problem(f"{name}: 'now' must be an ISO 8601 date-time with a UTC offset", ("now",), value)]
        )
    return now


def read_cases(where: Path) -> list[CaseRecord]:
    """Cases from a JSON Lines file (``{"now": ..., "events": [...]}`` per line, optional
    ``name``), or a directory of such ``*.jsonl`` files and of policy test files."""
    if where.is_dir():
        out: list[CaseRecord] = []
        for path in sorted(where.rglob("*.jsonl")):
            out.extend(read_cases(path))
        for path in sorted([*where.rglob("*.test.yaml"), *where.rglob("*.test.yml")]):
            out.extend(_policy_cases(path))
        return _dedupe(out)
    if where.name.endswith((".test.yaml", ".test.yml")):
        return _policy_cases(where)
    try:
        text = where.read_text(encoding="utf-8")
    except OSError as err:
        raise EventError([Problem(f"cannot read {where}: {err.strerror}")]) from None
    out = []
    for lineno, _, raw in json_lines(text, str(where)):
        if not isinstance(raw, dict) or not isinstance(raw.get("events"), list) or "now" not in raw:
            raise EventError([Problem(f'{where}: expected {{"now": ..., "events": [...]}}', line=lineno)])
        name = str(raw.get("name", f"{where.name}:{lineno}"))
        out.append(CaseRecord(name, raw["events"], _now(raw["now"], f"{where}:{lineno}")))
    return out


def _dedupe(cases: list[CaseRecord]) -> list[CaseRecord]:
    seen: set[str] = set()
    out = []
    for case in cases:
        if case.name not in seen:
            seen.add(case.name)
            out.append(case)
    return out


def _policy_cases(path: Path) -> list[CaseRecord]:
    try:
        cases, _ = load_test_file(path)
    except PolicyTestError as err:
        raise EventError(list(err.problems)) from None
    return [CaseRecord(f"{path.name}: {c.name}", c.events, c.now) for c in cases]


def case_error(name: str, problems: Iterable[Problem]) -> EventError:
    """The error for a bad case: each problem names the case; its path (index, field) is kept."""
    return EventError(
        [Problem(f"case {name}: {p}", p.absolute_path, line=p.line, rank=p.rank) for p in problems]
    )
