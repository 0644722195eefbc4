"""One exception tree for everything tierrules refuses.

Modelled on python-jsonschema: every problem carries the path to what failed
(``absolute_path`` as a tuple, ``json_path`` as a string), the offending value and,
where we know it, the file and line; :func:`best_match` picks the most useful one.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PathPart = str | int


def json_path(parts: Sequence[PathPart]) -> str:
    """Render ``("deadlines", 2, "within")`` as ``$.deadlines[2].within``."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier():
            out += f".{part}"
        else:
            out += f"[{part!r}]"
    return out


def did_you_mean(name: str, choices: Iterable[str]) -> str | None:
    """The closest known name to an unknown one, or None when nothing is close."""
    matches = difflib.get_close_matches(name, sorted(set(choices)), n=1, cutoff=0.6)
    return matches[0] if matches else None


MISSING: Any = object()  # no value to show (a missing field)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a ruleset or an event, and exactly where."""

    message: str
    absolute_path: tuple[PathPart, ...] = ()
    value: Any = MISSING
    file: Path | None = None
    line: int | None = None
    suggestion: str | None = None
    # Lower ranks are more specific (unknown names beat type errors, which beat
    # "field required"); best_match uses it the way jsonschema uses relevance.
    rank: int = 5
    notes: tuple[str, ...] = field(default=())

    @property
    def json_path(self) -> str:
        return json_path(self.absolute_path)

    @property
    def has_value(self) -> bool:
        return self.value is not MISSING

    def location(self) -> str:
        where = self.json_path
        if self.file is not None:
            pos = f"{self.file}:{self.line}" if self.line is not None else str(self.file)
            where = f"{pos}: {where}"
        elif self.line is not None:
            where = f"line {self.line}: {where}"
        return where

    def __str__(self) -> str:
        text = f"{self.location()}: {self.message}"
        if self.has_value:
            text += f" (got {self.value!r})"
        if self.suggestion:
            text += f"; did you mean {self.suggestion!r}?"
        return text


def best_match(problems: Iterable[Problem]) -> Problem | None:
    """The most useful problem to show first: the most specific, then the deepest, then the first."""
    ranked = sorted(enumerate(problems), key=lambda ip: (ip[1].rank, -len(ip[1].absolute_path), ip[0]))
    return ranked[0][1] if ranked else None


class TierrulesError(Exception):
    """Root of every error tierrules raises on purpose."""


class _ProblemsError(TierrulesError):
    """An error that carries one or more located problems."""

    def __init__(self, problems: Sequence[Problem], *, header: str) -> None:
        if not problems:
            raise ValueError("an error needs at least one problem")
        self.problems: tuple[Problem, ...] = tuple(problems)
        best = best_match(self.problems)
        assert best is not None
        self.best: Problem = best
        lines = [f"{header}: {best}"]
        others = [p for p in self.problems if p is not best]
        if others:
            lines.append(f"{len(others)} more problem(s):")
            lines.extend(f"  - {p}" for p in others)
        super().__init__("\n".join(lines))

    @property
    def absolute_path(self) -> tuple[PathPart, ...]:
        return self.best.absolute_path

    @property
    def json_path(self) -> str:
        return self.best.json_path

    @property
    def file(self) -> Path | None:
        return self.best.file

    @property
    def line(self) -> int | None:
        return self.best.line


class RulesetError(_ProblemsError):
    """A ruleset failed to load, validate or compile; nothing of it was applied."""

    def __init__(self, problems: Sequence[Problem], *, source: str | Path | None = None) -> None:
        self.source = source
        header = f"invalid ruleset {source}" if source is not None else "invalid ruleset"
        super().__init__(problems, header=header)


class EventError(_ProblemsError):
    """An event (or the list of events) is malformed; nothing was evaluated."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        best = best_match(problems)
        path = best.absolute_path if best else ()
        index = f" at index {path[0]}" if path and isinstance(path[0], int) else ""
        super().__init__(problems, header=f"invalid event{index}")

    @property
    def index(self) -> int | None:
        """Index of the offending event in the input, when the problem is inside one."""
        path = self.best.absolute_path
        return path[0] if path and isinstance(path[0], int) else None

    @property
    def field(self) -> str | None:
        """Name of the event field at fault (``at``, ``severity``, ...)."""
        path = self.best.absolute_path
        return path[1] if len(path) > 1 and isinstance(path[1], str) else None


class EngineError(TierrulesError):
    """The rule engine failed or misbehaved; the evaluation was abandoned whole."""
