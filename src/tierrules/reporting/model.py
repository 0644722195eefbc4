"""What a report holds: typed, frozen results, and their JSON form.

Every share is ``met / (met + breached)`` in percent: obligations (or calls) still
``pending`` and ``cancelled`` obligations are counted in their own columns and left out of
the share until they are decided. Groups are ``{field: value}`` in the order of the ``by``
fields (a value is None when the cases do not carry it).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from ..vocabulary import Text

if TYPE_CHECKING:  # pandas is an optional extra
    import pandas

__all__ = [
    "WEEKDAYS",
    "AgentScores",
    "AttainmentPoint",
    "BreachTimes",
    "EscalationCount",
    "Report",
    "RuleAttainment",
    "TargetAttainment",
    "ViolationCount",
    "WorstCase",
]

Group = dict[str, str | None]
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class WorstCase(_Result):
    """A case behind a breach: the latest (or the lowest-scoring call) first."""

    case_id: str | None = Field(description="The case id in the events (null for customer-level items).")
    name: str = Field(description="The case log record the case came from.")
    item: str = Field(description="The obligation id, or 'score' for a call's scorecard.")
    late_by: dt.timedelta | None = Field(
        default=None, description="met_at (or the case's now, when unmet) minus due_at; null for calls."
    )
    percent: float | None = Field(default=None, description="The call's score in percent (call measures).")


class _Tally(_Result):
    period: str = Field(description="'2026-11', '2026-W48', '2026-11-24', '2026-Q4' or 'all'.")
    period_start: dt.date | None = Field(description="The period's first day; null for 'all'.")
    group: Group = Field(default_factory=dict, description="The group's values, one per 'by' field.")
    cases: int = Field(description="Distinct cases with at least one counted item.")
    items: int = Field(description="Obligations (or calls) counted: met + breached + pending + cancelled.")
    met: int
    breached: int = Field(description="Breached obligations (calls: failed).")
    pending: int = Field(description="Not decided yet: due after the case's now.")
    cancelled: int = Field(description="Stopped before their due time; neither met nor breached.")
    attainment: float | None = Field(
        description="met / (met + breached) in percent, rounded to 4 places; null when none is decided."
    )
    worst: list[WorstCase] = Field(default_factory=list)


class RuleAttainment(_Tally):
    """How often one rule was kept, in one period and group."""

    rule: str
    source: str


class TargetAttainment(_Tally):
    """A target's share in one period and group, against its threshold."""

    target: str
    source: str
    description: Text
    measure: str
    rules: list[str] = Field(description="The rules measured (empty for calls_passed).")
    op: Literal[">=", ">"]
    target_percent: float
    status: Literal["pass", "fail", "no data"]
    provisional: bool = Field(description="Pending items could still change the verdict.")


class AttainmentPoint(_Result):
    """A target's share over a shorter span (the chart's time axis)."""

    target: str
    group: Group
    start: dt.date
    met: int
    breached: int
    attainment: float | None


class BreachTimes(_Result):
    """When breaches fell due, in the ruleset's timezone: a weekday x hour count."""

    # by_hour and by_weekday are in the JSON too; reading it back ignores them.
    model_config = ConfigDict(frozen=True, extra="ignore")

    matrix: list[list[int]] = Field(description="7 rows (Monday first) of 24 hourly counts.")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def by_hour(self) -> list[int]:
        """Breaches per hour of the day, 00 to 23."""
        return [sum(row[h] for row in self.matrix) for h in range(24)]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def by_weekday(self) -> list[int]:
        """Breaches per weekday, Monday first."""
        return [sum(row) for row in self.matrix]


class EscalationCount(_Result):
    """Escalations a rule's breaches raised, in one period and group."""

    rule: str
    source: str
    period: str
    period_start: dt.date | None
    group: Group
    raised: int
    cases: int
    by_level: dict[str, int] = Field(description="Escalations per level escalated to.")


class ViolationCount(_Result):
    """Etiquette findings of one check, in one period and group."""

    source: str
    rule: str
    period: str
    period_start: dt.date | None
    group: Group
    fail: int
    review: int
    cases: int


class AgentScores(_Result):
    """One agent's call scorecards (A1): how many passed and how the scores spread."""

    agent_id: str | None
    team: str | None
    calls: int
    passed: int
    pass_rate: float
    mean: float
    min: float
    q1: float
    median: float
    q3: float
    max: float
    histogram: list[int] = Field(description="Calls per 10-point band: [0,10), [10,20) ... [90,100].")


class Report(_Result):
    """Attainment of a policy over a case log: targets, rules, escalations, etiquette."""

    ruleset: str = Field(description="'<name> <version>' of the ruleset the cases were evaluated with.")
    timezone: str
    cases: int = Field(description="Case log records evaluated.")
    now: dt.datetime | None = Field(
        description="The instant every case was evaluated at; null: each its own."
    )
    period: str = Field(description="The period of the rule rows (targets may set their own).")
    by: list[str]
    timeline_grain: Literal["day", "week", "month"]
    targets: list[TargetAttainment]
    rules: list[RuleAttainment]
    timeline: list[AttainmentPoint]
    breach_times: BreachTimes
    escalations: list[EscalationCount]
    violations: list[ViolationCount]
    scores: list[AgentScores]
    score_pass_percent: float | None = Field(
        default=None, description="The scorecard's pass mark (A1), when the ruleset has one."
    )

    def to_json(self, *, indent: int | None = 2) -> str:
        """The report as JSON text; the same report always gives the same bytes."""
        return json.dumps(self.model_dump(mode="json"), ensure_ascii=False, indent=indent) + "\n"

    def to_dataframe(self, table: str = "targets") -> pandas.DataFrame:
        """One table of the report as a pandas DataFrame (needs the ``pandas`` extra).

        ``table`` is ``targets``, ``rules``, ``timeline``, ``escalations``, ``violations``,
        ``scores`` or ``breach_times``. Group fields become columns of their own
        (``group.team``); ``worst`` becomes a list of case ids.
        """
        try:
            import pandas
        except ImportError:
            raise ImportError("Report.to_dataframe needs pandas: pip install 'tierrules[pandas]'") from None
        return pandas.DataFrame(self.records(table))

    def records(self, table: str = "targets") -> list[dict[str, Any]]:
        """One table of the report as flat rows (what ``to_dataframe`` and the CSV hold)."""
        if table == "breach_times":
            return [
                {"weekday": WEEKDAYS[d], "hour": h, "breaches": self.breach_times.matrix[d][h]}
                for d in range(7)
                for h in range(24)
            ]
        tables: dict[str, list[Any]] = {
            "targets": self.targets,
            "rules": self.rules,
            "timeline": self.timeline,
            "escalations": self.escalations,
            "violations": self.violations,
            "scores": self.scores,
        }
        if table not in tables:
            raise ValueError(f"unknown table {table!r}: one of {', '.join([*tables, 'breach_times'])}")
        return [_flat(row) for row in tables[table]]


def _flat(row: BaseModel) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.model_dump(mode="python").items():
        if key == "group":
            out.update({f"group.{k}": v for k, v in value.items()})
        elif key == "worst":
            out[key] = [w["case_id"] or w["name"] for w in value]
        elif key == "description":
            out[key] = value["en"]
        else:
            out[key] = value
    return out
