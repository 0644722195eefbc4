"""The backend-neutral form of a rule's condition over one fact, and its reference meaning.

The compiler turns ruleset triggers (``start``, ``met_by``, ``cancelled_by``, ``applies_to``,
tier thresholds) into these conditions; a matcher (:mod:`tierrules.matching`) decides which
facts satisfy which conditions. :func:`holds` is the reference semantics every matcher must
agree with (the differential test checks durable_rules against it).

A *fact* is a flat mapping of field name to a JSON scalar (str, int, float or bool), built
from a validated event: its ``type``, the event fields rules test, and ``case_<attribute>``
for the case attributes they test.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TypeAlias

__all__ = [
    "AllOf",
    "AnyOf",
    "AtLeast",
    "Condition",
    "Equals",
    "Fact",
    "MatchRule",
    "Scalar",
    "fields",
    "holds",
]

Scalar: TypeAlias = str | int | float | bool
Fact: TypeAlias = Mapping[str, Scalar]


@dataclass(frozen=True, slots=True)
class Equals:
    """``fact[field] == value``: a bool equals only a bool; numbers compare as numbers."""

    field: str
    value: Scalar


@dataclass(frozen=True, slots=True)
class AtLeast:
    """``fact[field] >= value`` for a number (never a bool or a string)."""

    field: str
    value: int | float


@dataclass(frozen=True, slots=True)
class AnyOf:
    """At least one of the terms holds (an empty AnyOf holds for no fact)."""

    terms: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class AllOf:
    """Every term holds (an empty AllOf holds for every fact)."""

    terms: tuple[Condition, ...]


Condition: TypeAlias = Equals | AtLeast | AnyOf | AllOf


@dataclass(frozen=True, slots=True)
class MatchRule:
    """A named condition: a matcher reports ``name`` for every fact that satisfies it."""

    name: str
    condition: Condition
    origin: tuple[str | int, ...] = ()  # where in the ruleset it comes from, for errors


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _equal(actual: object, wanted: Scalar) -> bool:
    if isinstance(wanted, bool) or isinstance(actual, bool):
        return isinstance(actual, bool) and isinstance(wanted, bool) and actual is wanted
    if _is_number(wanted):
        return _is_number(actual) and actual == wanted
    return isinstance(actual, str) and actual == wanted


def holds(condition: Condition, fact: Fact) -> bool:
    """Whether ``fact`` satisfies ``condition``: the reference semantics of the form.

    A field the fact lacks satisfies no test on it.
    """
    match condition:
        case Equals(field, value):
            return field in fact and _equal(fact[field], value)
        case AtLeast(field, value):
            actual = fact.get(field)
            return _is_number(actual) and actual >= value  # type: ignore[operator]
        case AnyOf(terms):
            return any(holds(term, fact) for term in terms)
        case AllOf(terms):
            return all(holds(term, fact) for term in terms)
    raise TypeError(f"not a condition: {condition!r}")


def _walk(condition: Condition) -> Iterator[Equals | AtLeast]:
    if isinstance(condition, AnyOf | AllOf):
        for term in condition.terms:
            yield from _walk(term)
    else:
        yield condition


def fields(condition: Condition) -> frozenset[str]:
    """Every fact field the condition tests."""
    return frozenset(test.field for test in _walk(condition))


def tests(condition: Condition) -> Iterator[Equals | AtLeast]:
    """The leaf tests of a condition, depth first."""
    return _walk(condition)
