"""tierrules: a written customer-service policy, as rules a machine can enforce.

>>> import datetime as dt, tierrules
>>> engine = tierrules.Engine(tierrules.load_ruleset())   # the bundled default policy
>>> decision = engine.evaluate(
...     [{"type": "complaint_registered", "at": "2026-11-21T11:00:00+08:00", "case_id": "c1"}],
...     now=dt.datetime.fromisoformat("2026-11-23T09:00:00+08:00"),
... )
>>> [e2] = [o for o in decision.obligations if o.source == "E2"]
>>> e2.due_at.isoformat()     # a Saturday complaint: 1 working hour is 10:00 Monday
'2026-11-23T10:00:00+08:00'

The pipeline, one package per stage (docs/architecture.md): :mod:`~tierrules.ruleset` reads
and checks the YAML, :mod:`~tierrules.compiler` turns it into match rules and calendars,
:mod:`~tierrules.matching` decides which events fire which rules (durable_rules, or plain
Python), :mod:`~tierrules.evaluation` computes the obligations, tiers and etiquette, and
:mod:`~tierrules.decision` holds what comes out. Event models are in :mod:`tierrules.events`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what type checkers and editors see; at run time, __getattr__ below imports
    from .caselog import CaseRecord, read_cases
    from .compiler.load import default_ruleset_path, load_ruleset
    from .decision import (
        DeadlineWarning,
        Decision,
        Escalation,
        Evidence,
        NextTier,
        Obligation,
        Score,
        ScoreItem,
        TierAssignment,
        Violation,
    )
    from .errors import EngineError, EventError, Problem, Rank, RulesetError, TierrulesError, best_match
    from .evaluation.engine import Engine, evaluate
    from .events import Event, EventBase, parse_events
    from .limits import Limits
    from .reporting import (
        AgentScores,
        AttainmentPoint,
        BreachTimes,
        EscalationCount,
        Report,
        RuleAttainment,
        TargetAttainment,
        ViolationCount,
        WorstCase,
        report,
    )
    from .ruleset.model import Ruleset
    from .session import MemoryStore, New, PostgresStore, Session, SqliteStore, Store, StoreError, Update
    from .vocabulary import Duration, Months, Text

    __version__: str

# Where each public name lives. ``import tierrules`` imports none of them: the first use of
# a name imports its module (PEP 562), so ``tierrules --help`` and a program that only needs
# ``tierrules.events`` do not pay for the engine (docs/performance.md, "Start-up").
_HOMES: dict[str, str] = {
    "CaseRecord": "caselog",
    "read_cases": "caselog",
    "default_ruleset_path": "compiler.load",
    "load_ruleset": "compiler.load",
    **dict.fromkeys(
        (
            "DeadlineWarning",
            "Decision",
            "Escalation",
            "Evidence",
            "NextTier",
            "Obligation",
            "Score",
            "ScoreItem",
            "TierAssignment",
            "Violation",
        ),
        "decision",
    ),
    **dict.fromkeys(
        ("EngineError", "EventError", "Problem", "Rank", "RulesetError", "TierrulesError", "best_match"),
        "errors",
    ),
    "Engine": "evaluation.engine",
    "evaluate": "evaluation.engine",
    "Event": "events",
    "EventBase": "events",
    "parse_events": "events",
    "Limits": "limits",
    **dict.fromkeys(
        (
            "AgentScores",
            "AttainmentPoint",
            "BreachTimes",
            "EscalationCount",
            "Report",
            "RuleAttainment",
            "TargetAttainment",
            "ViolationCount",
            "WorstCase",
            "report",
        ),
        "reporting",
    ),
    "Ruleset": "ruleset.model",
    **dict.fromkeys(
        ("MemoryStore", "New", "PostgresStore", "Session", "SqliteStore", "Store", "StoreError", "Update"),
        "session",
    ),
    "Duration": "vocabulary",
    "Months": "vocabulary",
    "Text": "vocabulary",
}

# Subpackages an eager ``import tierrules`` used to bring along, so ``tierrules.events.X``
# keeps working after a bare ``import tierrules``.
_SUBMODULES = frozenset(
    (
        "aio",
        "calendars",
        "caselog",
        "compiler",
        "decision",
        "errors",
        "evaluation",
        "events",
        "matching",
        "policytest",
        "reporting",
        "ruleset",
        "session",
        "text",
        "vocabulary",
    )
)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tierrules")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0"


if not TYPE_CHECKING:  # hidden from mypy, so a misspelt attribute stays a type error

    def __getattr__(name: str) -> Any:
        if name in _HOMES:
            value = getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
        elif name == "__version__":
            value = _version()
        elif name in _SUBMODULES:
            value = importlib.import_module(f".{name}", __name__)
        else:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        globals()[name] = value  # once: later lookups do not come here
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_SUBMODULES})


__all__ = [
    "AgentScores",
    "AttainmentPoint",
    "BreachTimes",
    "CaseRecord",
    "DeadlineWarning",
    "Decision",
    "Duration",
    "Engine",
    "EngineError",
    "Escalation",
    "EscalationCount",
    "Event",
    "EventBase",
    "EventError",
    "Evidence",
    "Limits",
    "MemoryStore",
    "Months",
    "New",
    "NextTier",
    "Obligation",
    "PostgresStore",
    "Problem",
    "Rank",
    "Report",
    "RuleAttainment",
    "Ruleset",
    "RulesetError",
    "Score",
    "ScoreItem",
    "Session",
    "SqliteStore",
    "Store",
    "StoreError",
    "TargetAttainment",
    "Text",
    "TierAssignment",
    "TierrulesError",
    "Update",
    "Violation",
    "ViolationCount",
    "WorstCase",
    "__version__",
    "best_match",
    "default_ruleset_path",
    "evaluate",
    "load_ruleset",
    "parse_events",
    "read_cases",
    "report",
]
