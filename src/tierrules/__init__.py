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

from importlib.metadata import PackageNotFoundError, version

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
from .ruleset.model import Ruleset
from .vocabulary import Duration, Months, Text

try:
    __version__ = version("tierrules")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = [
    "CaseRecord",
    "DeadlineWarning",
    "Decision",
    "Duration",
    "Engine",
    "EngineError",
    "Escalation",
    "Event",
    "EventBase",
    "EventError",
    "Evidence",
    "Limits",
    "Months",
    "NextTier",
    "Obligation",
    "Problem",
    "Rank",
    "Ruleset",
    "RulesetError",
    "Score",
    "ScoreItem",
    "Text",
    "TierAssignment",
    "TierrulesError",
    "Violation",
    "__version__",
    "best_match",
    "default_ruleset_path",
    "evaluate",
    "load_ruleset",
    "parse_events",
    "read_cases",
]
