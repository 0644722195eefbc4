"""One exception tree for everything tierrules refuses.

Modelled on python-jsonschema: every problem carries the path to what failed
(``absolute_path`` as a tuple, ``json_path`` as a string), the offending value and,
where we know it, the file and line; :func:`best_match` picks the most useful one.
"""

from __future__ import annotations

import difflib
import enum
import reprlib
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

__all__ = [
    "MISSING",
    "EngineError",
    "EventError",
    "PathPart",
    "Problem",
    "Rank",
    "RulesetError",
    "TierrulesError",
    "best_match",
    "descend",
    "did_you_mean",
    "json_path",
    "problems_from_validation",
    "shown",
]

PathPart = str | int


class Rank(enum.IntEnum):
    """How specific a problem is: :func:`best_match` shows the lowest rank first.

    Like jsonschema's relevance: a name that refers to nothing says more than a wrong type,
    which says more than a missing key.
    """

    ENGINE_LIMIT = 0  # past what the rule engine can run
    UNKNOWN_NAME = 1  # a name that refers to nothing (offers "did you mean")
    INVALID = 2  # a value the policy cannot mean (inconsistent, out of order)
    MISSING = 3  # a required key is absent
    SHAPE = 4  # a wrong type or form, as pydantic reports it
    OTHER = 5


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

# Values are shown short, and without recursing into deep structures: a refused value may
# be megabytes of text or nested thousands of levels deep.
_SHOW = reprlib.Repr()
_SHOW.maxstring = _SHOW.maxother = 120
_SHOW.maxlevel = 3
_SHOW.maxlist = _SHOW.maxtuple = _SHOW.maxdict = _SHOW.maxset = 6
MAX_LISTED = 20  # problems listed in an error's message beyond the best one


def shown(value: Any) -> str:
    """A short representation of ``value`` for a message (never huge, never recursing deeply)."""
    try:
        return _SHOW.repr(value)
    except ValueError:  # an int past Python's 4,300-digit str conversion limit
        return f"<an integer of {value.bit_length():,} bits>" if isinstance(value, int) else "<unprintable>"
    except Exception:  # a host object whose repr fails must not hide the problem
        return f"<{type(value).__name__}>"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a ruleset or an event, and exactly where."""

    message: str
    absolute_path: tuple[PathPart, ...] = ()
    value: Any = MISSING
    file: Path | None = None
    line: int | None = None
    suggestion: str | None = None
    rank: Rank = Rank.OTHER
    notes: tuple[str, ...] = field(default=())

    def descend(self, *parts: PathPart) -> Problem:
        """The same problem seen from a parent: ``parts`` prefixed to its path."""
        return replace(self, absolute_path=(*parts, *self.absolute_path))

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
            text += f" (got {shown(self.value)})"
        if self.suggestion:
            text += f"; did you mean {self.suggestion!r}?"
        return text


def descend(problems: Iterable[Problem], *parts: PathPart) -> Iterator[Problem]:
    """Problems of a child, re-rooted at its parent (jsonschema's ``descend``)."""
    for problem in problems:
        yield problem.descend(*parts)


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
            lines.extend(f"  - {p}" for p in others[:MAX_LISTED])
            if len(others) > MAX_LISTED:
                lines.append(f"  ... and {len(others) - MAX_LISTED} more (all are in the error's .problems)")
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


def _model_at(root: type[BaseModel], loc: Sequence[PathPart]) -> type[BaseModel] | None:
    """The pydantic model that owns the last element of ``loc`` (for "did you mean")."""
    current: Any = root
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(str(part))
            if info is None:
                return None
            current = info.annotation
        else:
            current = _item_type(current)
            if current is None:
                return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _item_type(annotation: Any) -> Any:
    """The type of an item of a list, tuple or dict annotation (None for anything else)."""
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin in (list, tuple) and args:
        return args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    return None


def _unwrap(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        models = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(models) == 1:
            return models[0]
    return annotation


# One walk down data beside loc, keeping parts that index the node: union labels drop out unparsed.
def _data_path(data: Any, loc: Sequence[Any], keep_last: bool) -> tuple[PathPart, ...]:
    """Drop pydantic's union-branch labels from ``loc``: keep only real keys and indexes."""
    if data is MISSING:
        return tuple(p for p in loc if isinstance(p, str | int))
    out: list[PathPart] = []
    node = data
    for i, part in enumerate(loc):
        in_map = isinstance(node, Mapping) and part in node
        in_list = isinstance(node, list | tuple) and isinstance(part, int) and 0 <= part < len(node)
        if in_map or in_list:
            node = node[part]
            out.append(part)
        elif keep_last and i == len(loc) - 1 and isinstance(part, str | int):
            out.append(part)
    return tuple(out)


def problems_from_validation(
    err: ValidationError,
    model: type[BaseModel],
    data: Any = MISSING,
    *,
    place: Callable[[Problem], Problem] | None = None,
) -> Iterator[Problem]:
    """Each pydantic error as a :class:`Problem`: the one conversion for events and rulesets.

    ``data`` (what was validated) lets union-branch labels be dropped from paths; ``model`` is
    the root model, for "did you mean" on unknown fields; ``place`` adds file and line.
    """
    for item in err.errors():
        kind = item["type"]
        path = _data_path(data, tuple(item["loc"]), keep_last=kind in ("missing", "extra_forbidden"))
        message = item["msg"].removeprefix("Value error, ")
        suggestion = None
        rank = Rank.SHAPE
        if kind == "extra_forbidden" and path:
            owner = _model_at(model, path[:-1])
            name = str(path[-1])
            suggestion = did_you_mean(name, owner.model_fields) if owner else None
            message = f"unknown field {name!r}"
            rank = Rank.UNKNOWN_NAME
        elif kind == "missing":
            message = "field required"
            rank = Rank.MISSING
        problem = Problem(
            message,
            path,
            MISSING if kind == "missing" else item.get("input"),
            suggestion=suggestion,
            rank=rank,
        )
        yield place(problem) if place is not None else problem
