"""Matching: which facts satisfy which rule conditions, behind one protocol and two backends.

* :mod:`.durable` runs the conditions on durable_rules 2.0.28, inside a fence that holds
  every workaround for its measured defects (docs/durable_rules.md); the default wherever
  durable_rules imports.
* :mod:`.python` evaluates them in plain Python; it is the reference semantics of the
  condition form (:func:`tierrules.compiler.conditions.holds`).

``TIERRULES_MATCHER=python`` (or ``durable``) sets the default; ``Engine(..., matcher=...)``
picks one per engine. Both must give the same matches (a differential test checks it).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Literal, Protocol

from ..compiler.conditions import Fact, MatchRule
from ..errors import TierrulesError

__all__ = ["Matcher", "MatcherKind", "build_matcher", "default_kind"]

MatcherKind = Literal["durable", "python"]
_KINDS: tuple[MatcherKind, ...] = ("durable", "python")
ENV = "TIERRULES_MATCHER"


class Matcher(Protocol):
    """Decides which rules each fact satisfies; built once per rule set."""

    @property
    def kind(self) -> MatcherKind:
        """Which backend this is."""
        ...

    def match(self, facts: Sequence[Fact]) -> Mapping[int, tuple[str, ...]]:
        """Fact index -> the names of the rules it satisfies, in rule order (unmatched facts omitted)."""
        ...


_warned = False


def _durable_available() -> bool:
    global _warned
    try:
        import durable_rules_engine  # noqa: F401
    except ImportError as err:
        if not _warned:
            _warned = True
            warnings.warn(
                f"durable_rules cannot be imported ({err}); tierrules uses its Python matcher",
                RuntimeWarning,
                stacklevel=3,
            )
        return False
    return True


def default_kind() -> MatcherKind:
    """The matcher an Engine uses unless told: ``$TIERRULES_MATCHER``, else durable."""
    wanted = os.environ.get(ENV, "").strip().lower() or "durable"
    if wanted not in _KINDS:
        raise TierrulesError(f"{ENV}={wanted!r}: expected one of {', '.join(_KINDS)}")
    return "durable" if wanted == "durable" else "python"


def build_matcher(rules: Sequence[MatchRule], kind: MatcherKind | None = None) -> Matcher:
    """A matcher for ``rules``; durable_rules unless ``kind`` (or the environment) says otherwise.

    When durable_rules cannot be imported, says so once (a RuntimeWarning) and uses Python.
    Raises :class:`~tierrules.RulesetError` when the rules exceed what the backend can run.
    """
    chosen = kind if kind is not None else default_kind()
    if chosen not in _KINDS:
        raise TierrulesError(f"unknown matcher {chosen!r}: expected one of {', '.join(_KINDS)}")
    if chosen == "durable" and _durable_available():
        from .durable import DurableMatcher

        return DurableMatcher(rules)
    from .python import PythonMatcher

    return PythonMatcher(rules)
