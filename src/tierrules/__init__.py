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
"""

from importlib.metadata import PackageNotFoundError, version

from ._decision import Decision, Escalation, Obligation, Violation
from ._engine import Engine, evaluate
from ._errors import EngineError, EventError, Problem, RulesetError, TierrulesError, best_match
from ._events import Event, EventBase, parse_events
from ._model import Ruleset
from ._ruleset import default_ruleset_path, load_ruleset

try:
    __version__ = version("tierrules")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = [
    "Decision",
    "Engine",
    "EngineError",
    "Escalation",
    "Event",
    "EventBase",
    "EventError",
    "Obligation",
    "Problem",
    "Ruleset",
    "RulesetError",
    "TierrulesError",
    "Violation",
    "__version__",
    "best_match",
    "default_ruleset_path",
    "evaluate",
    "load_ruleset",
    "parse_events",
]
