"""Case logs: the JSON Lines record of cases that batch evaluation, diff and reports read.

One case per line, ``{"name": ..., "now": ..., "events": [...]}`` (``name`` optional), or a
directory of such ``*.jsonl`` files and of policy test files (``*.test.yaml``), whose cases
count too.

Case names identify cases in every report, so they must be unique within what one call
reads: a name that appears twice (in one log, or in two files of a directory) is refused
with both places named; nothing is dropped. A line without a name is called
``<file>:<line>``, the file given relative to the directory read, so unnamed cases never
clash.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import EventError, Problem, Rank
from .events import check_instant, json_lines, parse_instant
from .policytest import PolicyTestError, load_test_file

__all__ = ["CaseRecord", "case_error", "parse_cases", "read_cases"]


@dataclass(frozen=True)
class CaseRecord:
    """A case to compare: a name, its events and the instant to evaluate at.

    ``source`` says where it was read (``logs/a.jsonl:3``), when it was read from a file;
    it does not take part in equality.
    """

    name: str
    events: list[dict[str, Any]]
    now: dt.datetime
    source: str | None = field(default=None, compare=False)


def _now(value: Any, where: str) -> dt.datetime:
    problem = Problem(
        f"{where}: 'now' must be an ISO 8601 date-time with a UTC offset", ("now",), value, rank=Rank.SHAPE
    )
    if not isinstance(value, str):
        raise EventError([problem])
    try:
        return check_instant(parse_instant(value), "'now'")
    except ValueError as err:
        message = f"{where}: {err}" if "years" in str(err) else problem.message
        raise EventError([Problem(message, ("now",), value, rank=Rank.INVALID)]) from None


def _text(path: Path, shown: str, *, in_directory: bool) -> str:
    """A case log's text: UTF-8; inside a directory, only regular files are read (a FIFO would block)."""
    try:
        info = path.stat()
    except OSError as err:
        reason = "a dangling symbolic link" if path.is_symlink() else err.strerror
        raise EventError([Problem(f"cannot read {shown}: {reason}", rank=Rank.SHAPE)]) from None
    if stat.S_ISDIR(info.st_mode) or (in_directory and not stat.S_ISREG(info.st_mode)):
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise EventError([Problem(f"cannot read {shown}: {kind}", rank=Rank.SHAPE)])
    try:
        data = path.read_bytes()
    except OSError as err:
        raise EventError([Problem(f"cannot read {shown}: {err.strerror}", rank=Rank.SHAPE)]) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        message = f"{shown}: not UTF-8 text: byte 0x{data[err.start]:02x} at offset {err.start}"
        raise EventError([Problem(message, line=line, rank=Rank.SHAPE)]) from None


def _log_cases(path: Path, label: str, *, in_directory: bool) -> list[CaseRecord]:
    """A log's cases; an unnamed one is called ``<label>:<line>``; errors name ``path``."""
    shown = str(path)
    return _cases(_text(path, shown, in_directory=in_directory), shown, label)


def parse_cases(text: str, source: str = "<stdin>", label: str | None = None) -> list[CaseRecord]:
    """Cases from the text of a JSON Lines case log; errors name ``source`` and the line.

    A line without a name is called ``<label>:<line>`` (``label`` defaults to ``source``);
    a name used twice is refused, naming both lines. ``tierrules evaluate --batch -`` and
    ``tierrules diff --cases -`` read stdin with it.
    """
    out = _cases(text, source, label or source)
    unique_names(out)
    return out


def _cases(text: str, shown: str, label: str) -> list[CaseRecord]:
    out = []
    for lineno, _, raw in json_lines(text, shown):
        where = f"{shown}:{lineno}"
        if not isinstance(raw, dict) or not isinstance(raw.get("events"), list) or "now" not in raw:
            raise EventError(
                [Problem(f'{shown}: expected {{"now": ..., "events": [...]}}', line=lineno, rank=Rank.SHAPE)]
            )
        name = raw.get("name", f"{label}:{lineno}")
        if not isinstance(name, str) or not name:
            raise EventError(
                [Problem(f"{where}: 'name' must be a non-empty string", ("name",), name, line=lineno)]
            )
        out.append(CaseRecord(name, raw["events"], _now(raw["now"], where), source=where))
    return out


def _policy_cases(path: Path, label: str) -> list[CaseRecord]:
    try:
        cases, _ = load_test_file(path)
    except PolicyTestError as err:
        raise EventError(list(err.problems)) from None
    return [
        CaseRecord(f"{label}: {c.name}", c.events, c.now, source=f"{path}:{c.line}" if c.line else str(path))
        for c in cases
    ]


def _directory_files(where: Path) -> tuple[list[Path], list[Path]]:
    """The ``*.jsonl`` logs and the policy test files under ``where``, sorted; hidden names skipped.

    Symbolic links to directories are followed, each directory read once (no loops). An
    entry named like a log that is not a readable regular file is returned too, and refused
    when read, rather than skipped.
    """
    logs: list[Path] = []
    tests: list[Path] = []
    seen: set[tuple[int, int]] = set()
    pending = [where]
    while pending:
        folder = pending.pop()
        info = folder.stat()
        if (info.st_dev, info.st_ino) in seen:
            continue
        seen.add((info.st_dev, info.st_ino))
        for entry in os.scandir(folder):
            path = Path(entry.path)
            if entry.name.startswith("."):
                continue
            if entry.name.endswith(".jsonl"):
                logs.append(path)
            elif entry.name.endswith((".test.yaml", ".test.yml")):
                tests.append(path)
            elif entry.is_dir():
                pending.append(path)
    return sorted(logs), sorted(tests)


def unique_names(cases: Iterable[CaseRecord]) -> None:
    """Refuse two cases with one name, naming where each was read."""
    seen: dict[str, CaseRecord] = {}
    for case in cases:
        first = seen.setdefault(case.name, case)
        if first is not case:
            places = " and ".join(c.source or "(no file)" for c in (first, case))
            raise EventError(
                [
                    Problem(
                        f"case name {case.name!r} appears twice: {places}; case names must be unique in a "
                        "log or directory (rename one)",
                        ("name",),
                        rank=Rank.UNKNOWN_NAME,
                    )
                ]
            )


def read_cases(where: Path) -> list[CaseRecord]:
    """Cases from a JSON Lines file (``{"now": ..., "events": [...]}`` per line, optional
    ``name``), or a directory of such ``*.jsonl`` files and of policy test files.

    Raises :class:`~tierrules.EventError` naming the file and line of a malformed line, and
    naming both places of a case name that appears twice.
    """
    where = Path(where)
    if where.is_dir():
        logs, tests = _directory_files(where)
        out: list[CaseRecord] = []
        for path in logs:
            out.extend(_log_cases(path, str(path.relative_to(where)), in_directory=True))
        for path in tests:
            out.extend(_policy_cases(path, str(path.relative_to(where))))
    elif where.name.endswith((".test.yaml", ".test.yml")):
        out = _policy_cases(where, where.name)
    else:
        out = _log_cases(where, where.name, in_directory=False)
    unique_names(out)
    return out


def case_error(name: str, problems: Iterable[Problem]) -> EventError:
    """The error for a bad case: each problem names the case; its path (index, field) is kept."""
    return EventError(
        [Problem(f"case {name}: {p}", p.absolute_path, line=p.line, rank=p.rank) for p in problems]
    )
