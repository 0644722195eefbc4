"""The event vocabulary: what a host may tell tierrules about a case.

Every event is validated here, strictly, before anything reaches durable_rules: the
engine compares loosely (``"5" > 3`` is true there) and cannot report which field was
wrong, so nothing unvalidated may be posted to it.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
import typing
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Annotated, Any, ClassVar, Literal, Union, cast

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from .errors import EventError, PathPart, Problem, Rank, did_you_mean, problems_from_validation
from .limits import DEFAULT_LIMITS, Limits
from .vocabulary import (
    BackofficeSeverity,
    CaseSeverity,
    Channel,
    EmergencyCategory,
    FeedbackSeverity,
    Speaker,
    Tier,
)

__all__ = [
    "EVENT_TYPES",
    "MAX_INTEGER",
    "MAX_META_DEPTH",
    "MAX_YEAR",
    "MIN_YEAR",
    "AmenityKind",
    "AmenityOffered",
    "BackofficeRequested",
    "BackofficeResponded",
    "CallAnswered",
    "CallEnded",
    "CareContacted",
    "CaseOpened",
    "CasePaused",
    "CaseResolved",
    "CaseResponded",
    "CaseResumed",
    "CaseUpdated",
    "ComplaintRegistered",
    "ComplaintReplied",
    "ComplaintResolved",
    "CustomerArrived",
    "CustomerGreeted",
    "CustomerLeft",
    "CustomerProfile",
    "CustomerServed",
    "EmergencyReported",
    "Escalated",
    "EscalationNeeded",
    "Event",
    "EventBase",
    "FeedbackReceived",
    "FeedbackResolved",
    "FeedbackResponded",
    "FollowUpChannel",
    "FollowUpContacted",
    "IncidentReviewed",
    "InvitationSent",
    "PlanConfirmed",
    "PlanDrafted",
    "PlanRequested",
    "ProgressReported",
    "ReceptionCompleted",
    "ServiceDelivered",
    "StaffInPlace",
    "TierOverride",
    "TransferCompleted",
    "TransferRequested",
    "Utterance",
    "VisitCancelled",
    "VisitRescheduled",
    "VisitScheduled",
    "check_instant",
    "decode_json",
    "field_choices",
    "field_kind",
    "json_lines",
    "parse_event",
    "parse_events",
    "parse_instant",
]


MIN_YEAR = 1900
"""The earliest year of an accepted instant (``at``, ``expected_at``, ``until``, ``now``)."""
MAX_YEAR = 2199
"""The latest year of an accepted instant. Deadlines, cadences and escalation chains reach
at most a few centuries past an instant, so every computed time stays within what
``datetime`` can hold (year 9999); an instant in year 1 or 9999 would overflow later."""
MAX_INTEGER = 2**63 - 1
"""The largest integer an event field takes: the rule engine reads integers as 64-bit."""
MAX_META_DEPTH = 32
"""How deeply ``meta`` may nest objects and arrays."""


def check_instant(value: dt.datetime, what: str = "date-time") -> dt.datetime:
    """``value`` if it is timezone-aware and its year lies in MIN_YEAR..MAX_YEAR, else ValueError."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive {what}: add a UTC offset such as +08:00 or Z")
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"{what} must lie in the years {MIN_YEAR} to {MAX_YEAR}")
    return value


def _check_unicode(text: str) -> None:
    """Refuse text that cannot be written as UTF-8 (an unpaired surrogate, which JSON can carry)."""
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as err:
            raise ValueError(f"not valid Unicode text: unpaired surrogate at character {err.start}") from None


# Complexity C: an explicit stack instead of recursion: meta may nest deeper than Python recurses.
def _json_like(value: object) -> None:
    """Refuse what is not JSON data, or nests deeper than MAX_META_DEPTH (iteratively: no recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list | tuple):
            if depth > MAX_META_DEPTH:
                raise ValueError(f"nested more than {MAX_META_DEPTH} levels deep")
            if isinstance(item, dict):
                if not all(isinstance(k, str) for k in item):
                    raise ValueError("object keys must be strings")
                stack.extend((v, depth + 1) for v in item.values())
            else:
                stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, str):
            _check_unicode(item)
        elif not isinstance(item, int | float | bool | type(None)):
            shown = repr(item) if isinstance(item, _HugeInteger) else type(item).__name__
            raise ValueError(f"must hold JSON values only, not {shown}")


def parse_instant(text: str) -> dt.datetime:
    """``datetime.fromisoformat``, also taking a ``Z`` offset on Python 3.10 (3.11 does)."""
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    return dt.datetime.fromisoformat(text)


class EventBase(BaseModel):
    """Fields every event carries."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    type: str
    at: dt.datetime = Field(description="When it happened: ISO 8601 with a UTC offset.")
    case_id: str = Field(min_length=1, description="The case (ticket, call, visit) it belongs to.")
    id: str | None = Field(
        default=None,
        min_length=1,
        description="Optional host-side event id; decisions name it "
        "(start_event_id, met_event_id, event_id).",
    )
    seq: int | None = Field(
        default=None,
        ge=0,
        le=2**53,
        description="Orders events at the same instant (lower first); without it they keep the order given.",
    )
    meta: dict[str, Any] | None = Field(
        default=None, description="Free-form host data; carried, never matched on."
    )
    agent_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The agent who acted; carried to obligations and scorecards for reports.",
    )
    team: str | None = Field(
        default=None, min_length=1, max_length=200, description="The agent's team; carried like agent_id."
    )

    # Fields a ruleset may put conditions on (the rest are carried, not matched).
    matchable: ClassVar[tuple[str, ...]] = ()
    # "case" events belong to a case; "customer" events to a customer (case_id optional).
    scope: ClassVar[str] = "case"

    @field_validator("at", mode="before")
    @classmethod
    def _aware_iso(cls, value: object) -> dt.datetime:
        if isinstance(value, dt.datetime):
            parsed = value
        elif isinstance(value, str):
            try:
                parsed = parse_instant(value)
            except ValueError:
                raise ValueError("not an ISO 8601 date-time") from None
        else:
            raise ValueError("must be an ISO 8601 date-time string with a UTC offset")
        return check_instant(parsed)

    @field_validator("meta")
    @classmethod
    def _meta_is_json(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            _json_like(value)
        return value


class CaseOpened(EventBase):
    """A case starts (a call, a lobby visit, an online chat, a field visit)."""

    type: Literal["case_opened"]
    channel: Channel
    severity: CaseSeverity = "general"
    customer_id: str | None = Field(default=None, min_length=1)
    customer_name: str | None = Field(
        default=None, min_length=1, description="The customer's full name, surname first (Q4)."
    )
    customer_gender: Literal["male", "female", "unknown"] | None = Field(
        default=None, description="Chooses the honorific for Q4: 先生 (male), 女士 (female)."
    )
    agent_name: str | None = Field(default=None, min_length=1, description="The agent's name (Q2).")
    organisation: str | None = Field(
        default=None, min_length=1, description="The organisation's name as the agent says it (Q2)."
    )
    returning: bool = Field(
        default=False, description="A returning (regular) customer: Q1's regulars' greeting."
    )
    organisation_aliases: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="Other names the agent may use for the organisation (交行 for 交通银行) (Q2).",
    )
    group_leader_name: str | None = Field(
        default=None,
        min_length=1,
        description="A group visit: the leader (or eldest), who is greeted first (Q4; S2 团队客户接待).",
    )
    group_leader_gender: Literal["male", "female", "unknown"] | None = None
    matchable: ClassVar[tuple[str, ...]] = ("channel", "severity")


class EscalationNeeded(EventBase):
    """The handling agent cannot resolve the issue (starts the E1 clock)."""

    type: Literal["escalation_needed"]
    agent_level: int = Field(ge=1, le=MAX_INTEGER)
    matchable: ClassVar[tuple[str, ...]] = ("agent_level",)


class Escalated(EventBase):
    """The issue was reported to the next level."""

    type: Literal["escalated"]
    to_level: int = Field(ge=1, le=MAX_INTEGER)
    matchable: ClassVar[tuple[str, ...]] = ("to_level",)


class ComplaintRegistered(EventBase):
    """A complaint was recorded (starts the E2 clock)."""

    type: Literal["complaint_registered"]


class ComplaintReplied(EventBase):
    """The customer was given a solution or the handling process."""

    type: Literal["complaint_replied"]


class FeedbackReceived(EventBase):
    """A piece of customer feedback arrived (starts the E3 clocks)."""

    type: Literal["feedback_received"]
    severity: FeedbackSeverity
    matchable: ClassVar[tuple[str, ...]] = ("severity",)


class FeedbackResponded(EventBase):
    """First response to a feedback."""

    type: Literal["feedback_responded"]


class ProgressReported(EventBase):
    """Progress on an urgent or important feedback was reported to the customer."""

    type: Literal["progress_reported"]


class FeedbackResolved(EventBase):
    """The result of a feedback was reported to the customer."""

    type: Literal["feedback_resolved"]


class CasePaused(EventBase):
    """The clock stops for pausable rules (e.g. waiting on the customer)."""

    type: Literal["case_paused"]
    reason: str | None = None


class CaseResumed(EventBase):
    """The clock runs again after a pause."""

    type: Literal["case_resumed"]


class CaseUpdated(EventBase):
    """The case's severity changed: severity-dependent targets are recomputed."""

    type: Literal["case_updated"]
    severity: CaseSeverity


class EmergencyReported(EventBase):
    """An urgent problem stopping the customer's normal use (E4)."""

    type: Literal["emergency_reported"]
    category: EmergencyCategory
    matchable: ClassVar[tuple[str, ...]] = ("category",)


class IncidentReviewed(EventBase):
    """The written review of an emergency was filed (E4)."""

    type: Literal["incident_reviewed"]


class CaseResponded(EventBase):
    """The customer got a first substantive response (E5, E10)."""

    type: Literal["case_responded"]


class CaseResolved(EventBase):
    """The case's problem was solved (E5, E10)."""

    type: Literal["case_resolved"]


class ComplaintResolved(EventBase):
    """A complaint was resolved (E9)."""

    type: Literal["complaint_resolved"]


class PlanRequested(EventBase):
    """The customer asked for a service plan (starts the E6 turnaround clocks)."""

    type: Literal["plan_requested"]


class PlanDrafted(EventBase):
    """A first draft of the service plan was delivered (E6)."""

    type: Literal["plan_drafted"]


class PlanConfirmed(EventBase):
    """The final service plan was confirmed (E6)."""

    type: Literal["plan_confirmed"]


class BackofficeRequested(EventBase):
    """The front line asked the back office for help (E7)."""

    type: Literal["backoffice_requested"]
    severity: BackofficeSeverity = "general"
    matchable: ClassVar[tuple[str, ...]] = ("severity",)


class BackofficeResponded(EventBase):
    """The back office responded (E7)."""

    type: Literal["backoffice_responded"]


class CustomerArrived(EventBase):
    """A customer walked in (lobby, reception): starts greeting and waiting clocks (E8, E10)."""

    type: Literal["customer_arrived"]
    vip: bool = False
    matchable: ClassVar[tuple[str, ...]] = ("vip",)


class CustomerGreeted(EventBase):
    """Staff greeted the arriving customer (E8: within 10 seconds)."""

    type: Literal["customer_greeted"]


AmenityKind = Literal["water", "tea", "reading", "progress_update", "snack", "apology_gift"]


class AmenityOffered(EventBase):
    """Something was offered to a waiting customer (E8)."""

    type: Literal["amenity_offered"]
    kind: AmenityKind
    matchable: ClassVar[tuple[str, ...]] = ("kind",)


class CustomerLeft(EventBase):
    """The customer left the lobby or reception: the in-person conversation is over (Q8, Q9)."""

    type: Literal["customer_left"]


class CustomerServed(EventBase):
    """The waiting customer was called to service: waiting clocks stop (E8, E9)."""

    type: Literal["customer_served"]


class ReceptionCompleted(EventBase):
    """A reception (visit) was completed (E10, E11)."""

    type: Literal["reception_completed"]


FollowUpChannel = Literal["phone", "email", "visit", "message"]


class FollowUpContacted(EventBase):
    """A follow-up contact after a reception or service (E10, E11)."""

    type: Literal["follow_up_contacted"]
    channel: FollowUpChannel
    matchable: ClassVar[tuple[str, ...]] = ("channel",)


class ServiceDelivered(EventBase):
    """A service step after a reception was delivered (E11)."""

    type: Literal["service_delivered"]
    stage: Literal["initial", "mid_term", "tracking"]
    matchable: ClassVar[tuple[str, ...]] = ("stage",)


_VISIT_ID = Field(
    default=None,
    min_length=1,
    description="Which visit of the case (several may be scheduled); events without one apply to any.",
)


class VisitScheduled(EventBase):
    """A guest visit or reception was scheduled for ``expected_at`` (E12)."""

    type: Literal["visit_scheduled"]
    expected_at: dt.datetime
    importance: Literal["important", "regular"] = "regular"
    visit_id: str | None = _VISIT_ID
    matchable: ClassVar[tuple[str, ...]] = ("importance",)

    @field_validator("expected_at", mode="before")
    @classmethod
    def _aware_expected(cls, value: object) -> dt.datetime:
        return EventBase._aware_iso(value)


class VisitRescheduled(EventBase):
    """A scheduled visit moved to a new ``expected_at``: its courtesy clocks follow it (E12)."""

    type: Literal["visit_rescheduled"]
    visit_id: str = Field(min_length=1)
    expected_at: dt.datetime

    @field_validator("expected_at", mode="before")
    @classmethod
    def _aware_expected(cls, value: object) -> dt.datetime:
        return EventBase._aware_iso(value)


class VisitCancelled(EventBase):
    """A scheduled visit was called off: what it still owed is no longer owed (E12)."""

    type: Literal["visit_cancelled"]
    visit_id: str = Field(min_length=1)


class StaffInPlace(EventBase):
    """Staff were in place for a scheduled visit (E12)."""

    type: Literal["staff_in_place"]
    visit_id: str | None = _VISIT_ID


class InvitationSent(EventBase):
    """The visit invitation was sent (E12)."""

    type: Literal["invitation_sent"]
    visit_id: str | None = _VISIT_ID


class _CustomerEvent(EventBase):
    """An event about a customer rather than a case: ``case_id`` is optional."""

    case_id: str | None = Field(default=None, min_length=1)  # type: ignore[assignment]
    customer_id: str = Field(min_length=1)
    scope: ClassVar[str] = "customer"


class CustomerProfile(_CustomerEvent):
    """A customer's figures from the CRM (docs/policy.md T1, T6): what tiers are computed from."""

    type: Literal["customer_profile"]
    spend_12m: float = Field(ge=0, allow_inf_nan=False, description="Spend over the last 12 months, CNY.")
    visits_12m: int = Field(ge=0, le=MAX_INTEGER)
    tenure_months: int = Field(ge=0, le=MAX_INTEGER)
    vip_card: bool = False
    matchable: ClassVar[tuple[str, ...]] = ("spend_12m", "visits_12m", "tenure_months", "vip_card")


class TierOverride(_CustomerEvent):
    """A manual tier designation (T4, T6), optionally until an instant."""

    type: Literal["tier_override"]
    tier: Tier
    until: dt.datetime | None = None
    reason: str = Field(min_length=1)

    @field_validator("until", mode="before")
    @classmethod
    def _aware_until(cls, value: object) -> dt.datetime | None:
        return None if value is None else EventBase._aware_iso(value)


class CareContacted(_CustomerEvent):
    """A care or return-visit contact with the customer (meets T7/T8 cadences)."""

    type: Literal["care_contacted"]


class CallAnswered(EventBase):
    """The agent picked up a phone call after ``rings`` rings (Q2)."""

    type: Literal["call_answered"]
    rings: int = Field(ge=0, le=MAX_INTEGER)
    matchable: ClassVar[tuple[str, ...]] = ("rings",)


class Utterance(EventBase):
    """One turn of a conversation (Q1-Q8): who spoke, what was said, and optionally when and how long."""

    type: Literal["utterance"]
    speaker: Speaker
    text: str
    offset_seconds: float | None = Field(
        default=None, ge=0, allow_inf_nan=False, description="Seconds since the call started."
    )
    duration_seconds: float | None = Field(
        default=None, gt=0, allow_inf_nan=False, description="How long the turn lasted (Q3 pace)."
    )
    matchable: ClassVar[tuple[str, ...]] = ("speaker",)


class TransferRequested(EventBase):
    """The agent starts transferring the call (Q7)."""

    type: Literal["transfer_requested"]
    target: str | None = Field(default=None, min_length=1, description="Where to, free text.")


class TransferCompleted(EventBase):
    """The transfer ended: ``picked_up`` tells whether the other side answered before the agent left (Q7)."""

    type: Literal["transfer_completed"]
    picked_up: bool
    matchable: ClassVar[tuple[str, ...]] = ("picked_up",)


class CallEnded(EventBase):
    """The call ended; ``hung_up_by`` says who hung up first (Q8)."""

    type: Literal["call_ended"]
    hung_up_by: Speaker
    matchable: ClassVar[tuple[str, ...]] = ("hung_up_by",)


Event = (
    CaseOpened
    | EscalationNeeded
    | Escalated
    | ComplaintRegistered
    | ComplaintReplied
    | FeedbackReceived
    | FeedbackResponded
    | ProgressReported
    | FeedbackResolved
    | CasePaused
    | CaseResumed
    | CaseUpdated
    | EmergencyReported
    | IncidentReviewed
    | CaseResponded
    | CaseResolved
    | ComplaintResolved
    | PlanRequested
    | PlanDrafted
    | PlanConfirmed
    | BackofficeRequested
    | BackofficeResponded
    | CustomerArrived
    | CustomerGreeted
    | AmenityOffered
    | CustomerServed
    | CustomerLeft
    | ReceptionCompleted
    | FollowUpContacted
    | ServiceDelivered
    | VisitScheduled
    | VisitRescheduled
    | VisitCancelled
    | StaffInPlace
    | InvitationSent
    | CustomerProfile
    | TierOverride
    | CareContacted
    | CallAnswered
    | Utterance
    | TransferRequested
    | TransferCompleted
    | CallEnded
)

EVENT_TYPES: dict[str, type[EventBase]] = {
    typing.get_args(cls.model_fields["type"].annotation)[0]: cls for cls in typing.get_args(Event)
}


_MODELS = frozenset(EVENT_TYPES.values())


def field_choices(event_type: str, field: str) -> tuple[Any, ...] | None:
    """The allowed values of an enumerated field, or None when it is open (ints, strings)."""
    annotation = EVENT_TYPES[event_type].model_fields[field].annotation
    if typing.get_origin(annotation) is Literal:
        return typing.get_args(annotation)
    return None


def field_kind(event_type: str, field: str) -> type | None:
    """The Python type a condition on ``field`` must use (None for optional or compound fields)."""
    annotation = EVENT_TYPES[event_type].model_fields[field].annotation
    if typing.get_origin(annotation) is Literal:
        return type(typing.get_args(annotation)[0])
    return annotation if isinstance(annotation, type) else None


def _at_line(line: int | None) -> Callable[[Problem], Problem] | None:
    if line is None:
        return None
    return lambda problem: replace(problem, line=line)


# Complexity C: each refusal its own located problem (shape, type, unknown type, the model's).
def parse_event(raw: object, index: int, line: int | None = None) -> EventBase:
    """Validate one event (a dict or an event model); raise EventError naming the field."""
    if isinstance(raw, EventBase):
        return raw
    prefix: tuple[PathPart, ...] = (index,)
    if not isinstance(raw, Mapping):
        raise EventError([Problem("an event must be a JSON object", prefix, raw, line=line)])
    dollar = [k for k in raw if isinstance(k, str) and k.startswith("$")]
    if dollar:
        # durable_rules reserves $-keys for its own operators and state.
        raise EventError(
            [
                Problem(
                    "keys starting with '$' are reserved",
                    (*prefix, dollar[0]),
                    raw[dollar[0]],
                    line=line,
                    rank=Rank.UNKNOWN_NAME,
                )
            ]
        )
    kind = raw.get("type")
    if kind is None:
        raise EventError([Problem("field required", (*prefix, "type"), line=line, rank=Rank.MISSING)])
    if not isinstance(kind, str) or kind not in EVENT_TYPES:
        raise EventError(
            [
                Problem(
                    "unknown event type",
                    (*prefix, "type"),
                    kind,
                    line=line,
                    suggestion=did_you_mean(kind, EVENT_TYPES) if isinstance(kind, str) else None,
                    rank=Rank.UNKNOWN_NAME,
                )
            ]
        )
    model = EVENT_TYPES[kind]
    try:
        return model.model_validate(dict(raw))
    except ValidationError as err:
        raise EventError(
            [p.descend(*prefix) for p in problems_from_validation(err, model, place=_at_line(line))]
        ) from None


_ANY_EVENTS: TypeAdapter[list[EventBase]] | None = None


def _any_events() -> TypeAdapter[list[EventBase]]:
    """All event models as one list validator, dispatched on ``type`` inside pydantic-core."""
    global _ANY_EVENTS
    if _ANY_EVENTS is None:
        union: Any = Annotated[Union[tuple(EVENT_TYPES.values())], Field(discriminator="type")]  # noqa: UP007
        _ANY_EVENTS = TypeAdapter(list[union])
    return _ANY_EVENTS


def _items(raw: object, cap: int | None) -> list[object]:
    """The events of ``raw`` as a list, reading at most one past ``cap``."""
    if type(raw) is list:  # the common case, checked first: a session calls this per event
        return raw[: cap + 1] if cap is not None else raw[:]
    if isinstance(raw, str | bytes | Mapping):
        raise EventError([_not_a_list(raw)])
    try:
        iterator = iter(raw)  # type: ignore[call-overload]
    except TypeError:
        raise EventError([_not_a_list(raw)]) from None
    return list(iterator if cap is None else itertools.islice(iterator, cap + 1))


def _not_a_list(raw: object) -> Problem:
    return Problem("events must be a list of event objects", (), type(raw).__name__, rank=Rank.SHAPE)


@functools.cache
def _string_fields(model: type[EventBase]) -> tuple[str, ...]:
    """The free-text fields of an event model (not ``type``, not enumerations)."""
    out = []
    for name, info in model.model_fields.items():
        args = typing.get_args(info.annotation) or (info.annotation,)
        if name != "type" and str in args:
            out.append(name)
    return tuple(out)


# Events already found within some Limits, by identity (events are frozen): a session that
# evaluates a growing list of events checks each event once, not on every call.
_WITHIN: dict[int, tuple[weakref.ref[EventBase], Limits]] = {}
_WITHIN_KEPT = 200_000


def _event_problem(index: int, event: EventBase, limits: Limits) -> Problem | None:
    """The first limit one event exceeds (its strings, its ``meta``), as a problem, or None."""
    for name in _string_fields(type(event)):
        value = getattr(event, name)
        if value is None:
            continue
        is_text = name == "text" and isinstance(event, Utterance)
        cap, which = (
            (limits.max_utterance_chars, "max_utterance_chars")
            if is_text
            else (limits.max_string_chars, "max_string_chars")
        )
        if cap is not None and len(value) > cap:
            message = f"{len(value):,} characters; at most {cap:,} (Limits.{which})"
            return Problem(message, (index, name), rank=Rank.INVALID)
    if event.meta is not None and limits.max_meta_bytes is not None:
        size = len(json.dumps(event.meta, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        if size > limits.max_meta_bytes:
            return Problem(
                f"{size:,} bytes of JSON; at most {limits.max_meta_bytes:,} (Limits.max_meta_bytes)",
                (index, "meta"),
                rank=Rank.INVALID,
            )
    return None


def limit_problem(
    events: Sequence[EventBase], limits: Limits, *, start: int = 0, text_total: int = 0
) -> tuple[Problem | None, int]:
    """The first event from ``start`` on that exceeds ``limits`` (a problem naming its index
    and field, or None), and the utterance characters of all the events.

    ``text_total`` is what the events before ``start`` hold: a caller that checked them
    already (an engine evaluating a growing list) checks only the new ones.
    """
    cap = limits.max_text_chars
    for index in range(start, len(events)):
        event = events[index]
        if isinstance(event, Utterance):
            text_total += len(event.text)
            if cap is not None and text_total > cap:
                too_long = Problem(
                    f"the utterances so far hold {text_total:,} characters; at most {cap:,} in one "
                    "evaluation (Limits.max_text_chars)",
                    (index, "text"),
                    rank=Rank.INVALID,
                )
                return too_long, text_total
        seen = _WITHIN.get(id(event))
        if seen is not None and seen[1] is limits and seen[0]() is event:
            continue
        problem = _event_problem(index, event, limits)
        if problem is not None:
            return problem, text_total
        if len(_WITHIN) >= _WITHIN_KEPT:
            _WITHIN.clear()
        _WITHIN[id(event)] = (weakref.ref(event), limits)
    return None, text_total


def validate_events(
    raw: Iterable[object], limits: Limits, now: dt.datetime | None, known: Sequence[EventBase] = ()
) -> tuple[list[EventBase], int]:
    """:func:`parse_events` up to, not including, the per-event limits (:func:`limit_problem`);
    also how many of the events are ``known`` (events validated before: the list starts with
    them), which are not looked at again."""
    if now is not None:
        _check_now_range(now)
    items = _items(raw, limits.max_events)
    if limits.max_events is not None and len(items) > limits.max_events:
        raise EventError(
            [
                Problem(
                    f"more than {limits.max_events:,} events in one evaluation (Limits.max_events)",
                    (limits.max_events,),
                    rank=Rank.INVALID,
                )
            ]
        )
    # A list compare (identity first, in C) is how a growing list is recognised cheaply.
    seen = len(known) if known and len(items) >= len(known) and items[: len(known)] == known else 0
    # Models were validated when they were made; anything else is validated now.
    if _MODELS.issuperset(map(type, items[seen:] if seen else items)):
        return cast(list[EventBase], items), seen
    return _validated(items), 0


def parse_events(
    raw: Iterable[object], *, limits: Limits | None = None, now: dt.datetime | None = None
) -> list[EventBase]:
    """Validate a list of events; the first malformed one raises EventError with its index.

    ``raw`` is any iterable of event dicts or models (not a string or mapping). ``limits``
    (default :data:`~tierrules.limits.DEFAULT_LIMITS`) bounds how much is accepted; ``now``,
    when given, is checked to lie in the accepted years too.
    """
    chosen = DEFAULT_LIMITS if limits is None else limits
    events, _ = validate_events(raw, chosen, now)
    problem, _ = limit_problem(events, chosen)
    if problem is not None:
        raise EventError([problem])
    return events


def _validated(items: list[object]) -> list[EventBase]:
    try:
        # The same models in one call; on any failure the per-event path below finds the
        # first bad event and words the error.
        return _any_events().validate_python(items)
    except ValidationError:
        return [parse_event(item, index) for index, item in enumerate(items)]


def _check_now_range(now: dt.datetime) -> None:
    if not isinstance(now, dt.datetime):
        raise EventError([Problem("now must be a timezone-aware datetime", ("now",), now, rank=Rank.SHAPE)])
    try:
        check_instant(now, "now")
    except ValueError as err:
        raise EventError([Problem(str(err), ("now",), now.isoformat(), rank=Rank.INVALID)]) from None


class _HugeInteger:
    """An integer literal too long to convert (Python refuses more than 4,300 digits)."""

    __slots__ = ("digits",)

    def __init__(self, digits: int) -> None:
        self.digits = digits

    def __repr__(self) -> str:
        return f"<an integer of {self.digits:,} digits>"


def _parse_int(text: str) -> int | _HugeInteger:
    try:
        return int(text)
    except ValueError:
        return _HugeInteger(len(text.lstrip("-")))


def decode_json(text: str, name: str, line: int | None = None) -> Any:
    """JSON text as Python data; EventError naming ``name`` and the line when it is not JSON.

    Integers too long for Python to convert are kept as placeholders that fail validation on
    their field; nesting too deep for the parser is refused here. ``NaN`` and ``Infinity``
    decode to floats, which the event models refuse on every number field.
    """
    try:
        try:
            return json.loads(text)
        except ValueError as err:
            if isinstance(err, json.JSONDecodeError) or "digits" not in str(err):
                raise
        return json.loads(text, parse_int=_parse_int)
    except json.JSONDecodeError as err:
        at = err.lineno if line is None else line
        raise EventError([Problem(f"{name}: not valid JSON: {err.msg}", line=at, rank=Rank.SHAPE)]) from None
    except RecursionError:
        raise EventError(
            [Problem(f"{name}: JSON nested too deeply to read", line=line, rank=Rank.SHAPE)]
        ) from None
    except ValueError as err:  # pragma: no cover - json raises no other ValueError we know of
        raise EventError([Problem(f"{name}: not valid JSON: {err}", line=line, rank=Rank.SHAPE)]) from None


def json_lines(text: str, name: str) -> Iterator[tuple[int, int, Any]]:
    """(line number, record index, decoded value) for each non-blank JSON Lines line.

    A line that is not JSON raises EventError naming ``name`` and the line.
    """
    index = 0
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        yield lineno, index, decode_json(line, name, lineno)
        index += 1
