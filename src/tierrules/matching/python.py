"""The plain-Python matcher: the reference semantics of the condition form.

Rules are indexed by the event type their condition requires (every compiled rule tests
``type``), so a fact is only tried against the rules that can match it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from ..compiler.conditions import AllOf, Condition, Equals, Fact, MatchRule, holds

__all__ = ["PythonMatcher"]


def _required_type(condition: Condition) -> str | None:
    """The ``type`` value a condition requires, when it requires exactly one."""
    if isinstance(condition, Equals) and condition.field == "type" and isinstance(condition.value, str):
        return condition.value
    if isinstance(condition, AllOf):
        for term in condition.terms:
            found = _required_type(term)
            if found is not None:
                return found
    return None


class PythonMatcher:
    """Evaluates every condition with :func:`~tierrules.compiler.conditions.holds`."""

    kind: Literal["python"] = "python"

    def __init__(self, rules: Sequence[MatchRule]) -> None:
        self._by_type: dict[str, list[MatchRule]] = {}
        self._untyped: list[MatchRule] = []
        order = {rule.name: i for i, rule in enumerate(rules)}
        for rule in rules:
            required = _required_type(rule.condition)
            if required is None:
                self._untyped.append(rule)
            else:
                self._by_type.setdefault(required, []).append(rule)
        self._order = order

    def match(self, facts: Sequence[Fact]) -> dict[int, tuple[str, ...]]:
        out: dict[int, tuple[str, ...]] = {}
        for index, fact in enumerate(facts):
            kind = fact.get("type")
            candidates = self._by_type.get(kind, []) if isinstance(kind, str) else []
            if self._untyped:
                candidates = sorted([*candidates, *self._untyped], key=lambda r: self._order[r.name])
            names = tuple(rule.name for rule in candidates if holds(rule.condition, fact))
            if names:
                out[index] = names
        return out
