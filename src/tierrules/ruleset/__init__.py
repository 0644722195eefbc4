"""Stage 1, the ruleset: what a policy author writes, as validated models.

YAML is read with positions (:mod:`.reader`); each section has its pydantic models
(:mod:`.model` for the document, calendars and deadlines; :mod:`.tiers`; :mod:`.etiquette`;
:mod:`.targets`);
:mod:`.checks` finds what pydantic cannot (names that resolve, values that mean something).
Nothing here evaluates anything. The models are re-exported here: they are the public types
of a :class:`Ruleset`.
"""

from .etiquette import (
    Check,
    ClosingCheck,
    ComplaintConversationCheck,
    CustomerNameCheck,
    EtiquetteSpec,
    ForbiddenPhrasesCheck,
    GreetingCheck,
    GreetingSlot,
    IdentityCheck,
    Opening,
    PaceCheck,
    PhoneOpeningCheck,
    PhraseSpec,
    Scorecard,
    ScorecardItem,
    TransferCheck,
    VipGreeting,
    Wording,
)
from .model import (
    CalendarSpec,
    DeadlineRule,
    DueBefore,
    EscalationSpec,
    HolidaySourceSpec,
    PrioritySpec,
    Ruleset,
    Trigger,
)
from .targets import Target
from .tiers import (
    CadenceRule,
    OverrideRule,
    ServiceRule,
    ServiceSpec,
    SoftLandingRule,
    ThresholdRule,
    Thresholds,
    TierRule,
    TiersSpec,
    VipCardRule,
)

__all__ = [
    "CadenceRule",
    "CalendarSpec",
    "Check",
    "ClosingCheck",
    "ComplaintConversationCheck",
    "CustomerNameCheck",
    "DeadlineRule",
    "DueBefore",
    "EscalationSpec",
    "EtiquetteSpec",
    "ForbiddenPhrasesCheck",
    "GreetingCheck",
    "GreetingSlot",
    "HolidaySourceSpec",
    "IdentityCheck",
    "Opening",
    "OverrideRule",
    "PaceCheck",
    "PhoneOpeningCheck",
    "PhraseSpec",
    "PrioritySpec",
    "Ruleset",
    "Scorecard",
    "ScorecardItem",
    "ServiceRule",
    "ServiceSpec",
    "SoftLandingRule",
    "Target",
    "ThresholdRule",
    "Thresholds",
    "TierRule",
    "TiersSpec",
    "TransferCheck",
    "Trigger",
    "VipCardRule",
    "VipGreeting",
    "Wording",
]
