"""JSON Schemas of the ruleset format, for editors and for checking files outside tierrules.

A ruleset is a directory of YAML files whose top-level keys are merged, and an editor shows
one file at a time. So there is a schema for each file of the bundled layout (``ruleset``
for ``ruleset.yaml``'s header keys, then one per section: ``calendars``, ``deadlines``,
``tiers``, ``etiquette``, and any section the format gains), one that accepts **any single
file** of a ruleset directory (``file``: every key allowed, none required) and one for the
whole merged document (``document``: the required keys required).

The schemas are derived from the pydantic models (:mod:`tierrules.ruleset.model`), then
made useful in an editor: event names, clause ids and tier names are enums, durations are
strings (``"10 minutes"``; the object form stays valid), every key has a description, and
each schema carries ``$schema`` and ``$id``. They are written for JSON Schema draft-07,
which every YAML language server and :mod:`jsonschema` read. Semantic checks (a calendar
name that exists, weights that add up to 100) stay with the loader.

>>> from tierrules.ruleset.schema import ruleset_schema, schema_names
>>> schema_names()[:3]
('file', 'document', 'ruleset')
>>> schema = ruleset_schema("deadlines")
>>> schema["$id"].endswith("/schema/deadlines.schema.json"), schema["required"]
(True, ['deadlines'])
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any, Final

from ..events import EVENT_TYPES, field_choices, field_kind
from ..vocabulary import ID_PATTERN, TIERS
from .model import Ruleset

__all__ = [
    "CATALOG_URL",
    "CLAUSES",
    "DIALECT",
    "HEADER_KEYS",
    "SCHEMA_BASE_URL",
    "render",
    "ruleset_schema",
    "schema_file_name",
    "schema_names",
]

DIALECT: Final = "http://json-schema.org/draft-07/schema#"
# Where the checked-in schema/ files are published (a placeholder until the project has a
# public home: the same URL form as pyproject.toml's project URLs).
SCHEMA_BASE_URL: Final = "https://raw.githubusercontent.com/tierrules/tierrules/main/schema/"
CATALOG_URL: Final = "https://tierrules.github.io/tierrules/policy/"

# The clause catalog's ids and titles: docs/policy.md has one "### <id> — <title>" heading
# for each (tests/test_policy_catalog.py keeps the two the same).
CLAUSES: Final[dict[str, str]] = {
    "T1": "Tiering criteria and the three-tier table",
    "T2": "The five tiers and their order",
    "T3": "Service levels 1 to 3",
    "T4": "Service classes A, B and C",
    "T5": "Mapping tiers to classes and levels",
    "T6": "Thresholds and manual designations",
    "T7": "Care cadence by tier",
    "T8": "Return-visit cadence",
    "T9": "Benefits by tier",
    "E1": "Escalate within 10 minutes",
    "E2": "Complaint reply within 1 working hour",
    "E3": "Feedback response within 24 hours",
    "E4": "Emergencies",
    "E5": "Level-1 response and resolution times",
    "E6": "Plan turnaround by class",
    "E7": "Back-office response",
    "E8": "Lobby greeting and waiting",
    "E9": "Complaint handling targets",
    "E10": "Reception and communication times",
    "E11": "Follow-up after a reception",
    "E12": "Scheduling courtesy",
    "Q1": "Greeting by time of day",
    "Q2": "Answering the phone",
    "Q3": "Speaking pace",
    "Q4": "Using the customer's name",
    "Q5": "Forbidden phrases",
    "Q6": "Identity checks",
    "Q7": "Transfers",
    "Q8": "Closing a call",
    "Q9": "Complaint conversation",
    "Q10": "Presence: eye contact, distance and dress",
    "Q11": "Privacy",
    "A1": "Reception scorecard weights",
    "A2": "Customer satisfaction index",
    "A3": "Satisfaction bands",
    "A4": "Observer and survey targets",
    "A5": "Review frequency",
}

# ruleset.yaml's keys; every other top-level key of the format is a section with a file of
# its own (calendars.yaml, deadlines.yaml, ...).
HEADER_KEYS: Final = ("name", "version", "description", "timezone", "default_calendar", "levels")

# Descriptions for keys whose model field has none: "Model.key", or "key" for a key that
# means the same wherever it appears. tests/test_schema.py requires one on every key.
_DESCRIPTIONS: Final[dict[str, str]] = {
    "id": "Unique rule id: a letter, then letters, digits, '.', '_' or '-' (e.g. 'E2.complaint-reply').",
    "description": "What the rule asks, in Chinese (zh) and English (en).",
    "Ruleset.name": "The ruleset's name: a letter, then letters, digits, '.', '_' or '-'.",
    "Ruleset.version": 'Your version of the policy; quote it ("2026.11.0").',
    "Ruleset.description": "What the ruleset encodes, in Chinese (zh) and English (en).",
    "Ruleset.default_calendar": "The calendar (a key of 'calendars') that rules naming none use.",
    "Ruleset.calendars": "Business calendars by name: opening hours, holidays, make-up days.",
    "Ruleset.deadlines": "Deadline rules: a clock started by one event and met by another (E clauses).",
    "Text.zh": "Chinese text.",
    "Text.en": "English text.",
    "Duration.amount": "How many units (1 to 100000).",
    "Duration.unit": "seconds, minutes, hours or days.",
    "Duration.working": "Count only the calendar's open time.",
    "Months.amount": "How many months.",
    "CalendarSpec.always_open": "Open around the clock (24x7); takes no hours, holidays or dates.",
    "CalendarSpec.holidays": "Public holidays and make-up working days from the holidays package.",
    "HolidaySourceSpec.country": "ISO country code of the holidays package, e.g. CN.",
    "HolidaySourceSpec.subdiv": "Optional subdivision (province, state) code.",
    "Trigger.event": "The event type (a case event).",
    "Trigger.when": "Only events whose fields have these values: field -> value, or a list (any of).",
    "DeadlineRule.start": "The event that starts the clock.",
    "DeadlineRule.met_by": "The event (same case, at or after the start) that meets the obligation.",
    "DeadlineRule.due_before": "Due a duration before an instant the start event names (not 'within').",
    "DeadlineRule.escalate": "What a breach raises; without it a breach escalates nothing.",
    "DueBefore.field": "The start event's date-time field, e.g. expected_at.",
    "DueBefore.by": "How long before that instant (wall clock).",
    "EscalationSpec.to_level": "Escalate to this fixed level (or use above_field).",
    "EscalationSpec.priority": "Rank the escalations by a field of the start event.",
    "PrioritySpec.field": "An enumerated field of the start event, e.g. category.",
    "PrioritySpec.order": "Its values, most urgent (priority 1) first.",
    "TiersSpec.service": "The tier -> service class and level mapping (T5).",
    "TiersSpec.vip_card": "What a VIP card on the latest profile gives (T6).",
    "TiersSpec.override": "The rule that names manual tier_override designations (T6).",
    "TiersSpec.soft_landing": "How downgrades wait and step down (T6).",
    "TiersSpec.cadences": "Recurring contacts owed to a tier (T7) or a service level (T8).",
    "ThresholdRule.tier": "The tier this rule qualifies for.",
    "ServiceRule.by_tier": "For each of the five tiers: its service class and level.",
    "ServiceSpec.service_class": "T4 class: A premium, B standard, C economy.",
    "ServiceSpec.service_level": "T3 level: 1 is the highest.",
    "VipCardRule.tier": "The lowest tier a VIP card gives.",
    "SoftLandingRule.max_downgrade_steps": "The most tiers one review moves down (4: to the computed tier).",
    "CadenceRule.tier": "The tier that is owed the contact (or use service_level).",
    "CadenceRule.service_level": "The service level that is owed the contact (or use tier).",
    "CadenceRule.every": "How often: '<n> months', at least 1.",
    "EtiquetteSpec.greeting": "Q1: greeting by time of day, and the VIP form.",
    "EtiquetteSpec.phone_opening": "Q2: answer by the 3rd ring, name the organisation and yourself.",
    "EtiquetteSpec.pace": "Q3: speaking pace in characters per minute.",
    "EtiquetteSpec.customer_name": "Q4: the customer's name at least twice in the first minute.",
    "EtiquetteSpec.forbidden_phrases": "Q5: phrases an agent must not say.",
    "EtiquetteSpec.identity_check": "Q6: the reason before asking for identity data.",
    "EtiquetteSpec.transfer": "Q7: reason, wait and consent before a transfer.",
    "EtiquetteSpec.closing": "Q8: summary, anything else, thanks, the customer hangs up first.",
    "EtiquetteSpec.complaint_conversation": "Q9: restatement, deadline, number, contact and apology.",
    "EtiquetteSpec.scorecard": "The per-call scorecard (A1): weighted items adding up to 100.",
    "GreetingCheck.slots": "Greetings by local start time, in time order; the last runs past midnight.",
    "GreetingCheck.vip": "The VIP form (尊敬的XX客户，欢迎您再次莅临): expected in person, only with strict.",
    "GreetingSlot.start": "Local start time, HH:MM.",
    "GreetingSlot.greeting": "The greeting expected from then on, e.g. 早上好.",
    "VipGreeting.levels": "Service levels (T3) that get the VIP greeting.",
    "VipGreeting.phrases": "Any of these is the VIP greeting.",
    "VipGreeting.address": "Or the first part followed by the second, at most max_gap characters later.",
    "PhoneOpeningCheck.max_rings": "Answered by this ring.",
    "PhoneOpeningCheck.require_organisation": "The opening names the organisation (when known).",
    "PhoneOpeningCheck.require_agent_name": "The opening gives the agent's name (when known).",
    "PaceCheck.severity": "fail costs scorecard points; review does not (the default here).",
    "PaceCheck.min_per_minute": "Slowest acceptable pace, counted characters per minute.",
    "PaceCheck.max_per_minute": "Fastest acceptable pace, counted characters per minute.",
    "CustomerNameCheck.min_mentions": "How many times the name must be said.",
    "CustomerNameCheck.within_seconds": "Within this many seconds of the call's start.",
    "ForbiddenPhrasesCheck.phrases": "'default' (the built-in list) or your own list of phrases.",
    "PhraseSpec.phrase": "The forbidden phrase (either script, either punctuation width).",
    "IdentityCheck.reason": "Ways of giving the reason (为了保障您的账户安全).",
    "IdentityCheck.request": "Ways of asking for identity data (报一下您的身份证号).",
    "TransferCheck.reason": "Ways of saying why the call is transferred (需要专业部门处理).",
    "TransferCheck.wait": "Ways of giving the expected wait (约30秒).",
    "TransferCheck.consent": "Ways of asking the customer's consent (您看可以吗).",
    "TransferCheck.stay_until_picked_up": "The transfer_completed must say picked_up: true.",
    "ClosingCheck.summary": "Ways of summarising before the closing question (我再跟您确认一下).",
    "ClosingCheck.question": "Ways of asking whether there is anything else.",
    "ClosingCheck.thanks": "Thanks at the close of a phone call.",
    "ClosingCheck.lobby_thanks": "Thanks or farewell at the close of a visit (欢迎再次光临).",
    "ClosingCheck.summary_severity": "How a missing summary is reported: fail or review.",
    "ClosingCheck.customer_hangs_up_first": "call_ended must say hung_up_by: customer.",
    "ComplaintConversationCheck.complaint_words": "The customer's words that raise a complaint (我要投诉).",
    "ComplaintConversationCheck.not_a_complaint": "Words that say it is not a complaint (不是要投诉).",
    "ComplaintConversationCheck.restate": "Restating the complaint (让我确认一下).",
    "ComplaintConversationCheck.confirm": "Asking the customer to confirm a restatement (对吗).",
    "ComplaintConversationCheck.deadline": "Stating a handling deadline (24小时内).",
    "ComplaintConversationCheck.number": "Giving a complaint number (投诉编号).",
    "ComplaintConversationCheck.contact": "Giving a contact for follow-up (联系电话).",
    "ComplaintConversationCheck.apology": "An apology or a specific thanks (抱歉).",
    "ComplaintConversationCheck.contact_review_on_phone": "A missing contact on a phone call is for review.",
    "CustomerNameCheck.compound_surnames": "Two-character surnames kept whole (欧阳).",
    "CustomerNameCheck.group_leader_first": "In a group visit, address the leader before anyone else.",
    "EtiquetteSpec.opening": "Which agent turns make up the opening (speech recognition splits it).",
    "Opening.seconds": "The opening is the agent's turns in this many seconds from the start.",
    "Opening.turns": "At most this many agent turns.",
    "ForbiddenPhrasesCheck.quote_markers": "Words that introduce someone else's words (您是说, 商家回复).",
    "ForbiddenPhrasesCheck.policy_reading": "Words that show a rule read aloud (条款): review, not fail.",
    "GreetingCheck.boundary_minutes": "Near a slot boundary, the neighbouring slot's greeting is fine too.",
    "GreetingCheck.channels": "The channels the greeting is checked on (phone, lobby).",
    "PhoneOpeningCheck.name_prefixes": "Prefixes agents use with their surname (小李, 老李).",
    "PhoneOpeningCheck.staff_number": "A staff number said instead of a name (工号8823): review.",
    "ComplaintConversationCheck.negations": "Words that cancel a phrase directly after them (暂时没有).",
    "ComplaintConversationCheck.review_steps": "Steps reported as review (no points) instead of fail.",
    "Scorecard.pass_percent": "A call passes at score / max * 100 >= this.",
    "Scorecard.items": "The weighted items; weights add up to 100.",
    "ScorecardItem.id": "The item's id.",
    "ScorecardItem.description": "What the item scores, in Chinese (zh) and English (en).",
    "ScorecardItem.weight": "Points the item is worth.",
    "ScorecardItem.checks": "The check ids (this section's) the item covers.",
}


# What an editor says when a string does not match a pattern (YAML language servers read
# ``patternErrorMessage``; other validators ignore it). Text forms say it in their description.
_PATTERN_HELP: Final[dict[str, str]] = {
    ID_PATTERN: "expected an id: a letter, then letters, digits, '.', '_' or '-'",
    r"^([01][0-9]|2[0-3]):[0-5][0-9]$": "expected a local time HH:MM, e.g. 09:00",
}


def schema_names() -> tuple[str, ...]:
    """Every schema's name: ``file``, ``document``, ``ruleset`` and one per section."""
    return ("file", "document", "ruleset", *_sections())


def schema_file_name(name: str) -> str:
    """The file a schema is published as: ``deadlines`` -> ``deadlines.schema.json``."""
    return f"{name}.schema.json"


def render(schema: dict[str, Any]) -> str:
    """A schema as the text ``tierrules schema`` prints and ``schema/`` holds (stable, UTF-8)."""
    return json.dumps(schema, ensure_ascii=False, indent=2) + "\n"


def ruleset_schema(name: str = "file") -> dict[str, Any]:
    """The JSON Schema ``name`` (one of :func:`schema_names`); raises KeyError for another."""
    if name not in schema_names():
        raise KeyError(name)
    base = _base()
    properties: dict[str, Any] = base["properties"]
    required: list[str] = base["required"]
    if name == "file":
        keys, needed = list(properties), []
        title, what = "tierrules ruleset file", "Any one YAML file of a tierrules ruleset directory"
    elif name == "document":
        keys, needed = list(properties), required
        title, what = "tierrules ruleset", "A whole tierrules ruleset (all its files merged, or one file)"
    elif name == "ruleset":
        keys, needed = list(HEADER_KEYS), [k for k in HEADER_KEYS if k in required]
        title, what = "tierrules ruleset.yaml", "A tierrules ruleset's ruleset.yaml: name, version, zones"
    else:
        keys, needed = [name], [name]
        title, what = f"tierrules {name}.yaml", f"A tierrules ruleset's {name}.yaml: the '{name}' section"
    body = {
        "type": "object",
        "additionalProperties": False,
        "properties": {key: properties[key] for key in keys},
        "required": needed,
    }
    out: dict[str, Any] = {
        "$schema": DIALECT,
        "$id": SCHEMA_BASE_URL + schema_file_name(name),
        "title": title,
        "description": (
            f"{what}. A ruleset is a directory of YAML files whose top-level keys are merged; "
            "tierrules validate checks the whole."
        ),
        **body,
    }
    definitions = _reachable(body, base["definitions"])
    if definitions:
        out["definitions"] = definitions
    return out


# --- building ----------------------------------------------------------------------------


def _sections() -> list[str]:
    return [key for key in Ruleset.model_fields if key not in HEADER_KEYS]


def _base() -> dict[str, Any]:
    """The whole document's schema, made for editors; ``definitions`` hold the models."""
    raw = Ruleset.model_json_schema(ref_template="#/definitions/{model}")
    definitions: dict[str, Any] = raw.pop("$defs", {})
    definitions["Ruleset"] = raw
    for model, node in definitions.items():
        _describe(model, node)
    for node in _walk(definitions):
        _draft7(node)
    _refine(definitions)
    return {
        "properties": raw["properties"],
        "required": raw.get("required", []),
        "definitions": {k: v for k, v in definitions.items() if k != "Ruleset"},
    }


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every object of a JSON value, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _describe(model: str, node: dict[str, Any]) -> None:
    """Give every key of a model's object (and of objects inline in it) a description."""
    for obj in _walk(node):
        for key, prop in obj.get("properties", {}).items():
            if isinstance(prop, dict) and "description" not in prop:
                name = obj.get("title", model)
                text = _DESCRIPTIONS.get(f"{name}.{key}") or _DESCRIPTIONS.get(key)
                if text is not None:
                    prop["description"] = text


def _draft7(node: dict[str, Any]) -> None:
    """pydantic writes 2020-12 tuples (``prefixItems``); draft-07 spells them ``items: [...]``.

    Patterns get a readable error message for editors.
    """
    pattern = node.get("pattern")
    if isinstance(pattern, str):
        help_text = node.get("description") if "examples" in node else _PATTERN_HELP.get(pattern)
        if help_text:
            node["patternErrorMessage"] = help_text
    if "prefixItems" in node:
        items = node.pop("prefixItems")
        node["items"] = items
        node["additionalItems"] = False
        node.setdefault("minItems", len(items))
        node.setdefault("maxItems", len(items))


def _clause_enum(letters: str) -> dict[str, Any]:
    ids = [cid for cid in CLAUSES if cid[0] in letters]
    return {
        "enum": ids,
        "enumDescriptions": [f"{cid}: {CLAUSES[cid]} ({CATALOG_URL})" for cid in ids],
    }


def _case_events() -> list[str]:
    return [name for name, model in EVENT_TYPES.items() if model.scope == "case"]


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0] if text and text.strip() else ""


def _when_schema(event: str) -> dict[str, Any]:
    """``when`` for one event type: only its matchable fields, with their values."""
    model = EVENT_TYPES[event]
    props: dict[str, Any] = {}
    for field in model.matchable:
        choices = field_choices(event, field)
        kind = field_kind(event, field)
        value: dict[str, Any]
        if choices is not None:
            value = {"enum": list(choices)}
        elif kind is bool:
            value = {"type": "boolean"}
        elif kind is int:
            value = {"type": "integer"}
        elif kind is float:
            value = {"type": "number"}
        else:
            value = {}
        info = model.model_fields[field]
        props[field] = {
            "description": info.description or f"{event}.{field}: a value, or a list (any of).",
            "anyOf": [value, {"type": "array", "items": value, "minItems": 1}],
        }
    return {
        "description": f"Fields of {event} to match: {', '.join(model.matchable) or 'none'}.",
        "type": "object",
        "additionalProperties": False,
        "properties": props,
    }


def _refine(definitions: dict[str, Any]) -> None:
    """Enums where the format has fixed names: events, clauses, tiers."""
    events = _case_events()
    trigger = definitions["Trigger"]
    trigger["properties"]["event"].update(
        enum=events,
        enumDescriptions=[_first_line(EVENT_TYPES[e].__doc__) for e in events],
    )
    trigger["allOf"] = [
        {
            "if": {"properties": {"event": {"const": event}}, "required": ["event"]},
            "then": {"properties": {"when": _when_schema(event)}},
        }
        for event in events
    ]
    for node in definitions.values():
        source = node.get("properties", {}).get("source")
        if source is None or "pattern" not in source:
            continue
        # The loader's pattern names the letters a section may cite (^[T][0-9]+$ ...).
        letters = source.pop("pattern").split("[", 1)[1].split("]", 1)[0]
        source.update(_clause_enum(letters))
        source["description"] = (
            f"{source.get('description', 'The policy clause.')} One of the catalog's clauses: {CATALOG_URL}"
        )
    tier_enum = {"enum": list(TIERS)}
    for model, key in (("ThresholdRule", "tier"), ("VipCardRule", "tier"), ("CadenceRule", "tier")):
        prop = definitions[model]["properties"][key]
        _narrow_string(prop, tier_enum)
    definitions["ServiceRule"]["properties"]["by_tier"]["propertyNames"] = tier_enum


def _narrow_string(prop: dict[str, Any], enum: dict[str, Any]) -> None:
    """Replace the string alternative of ``prop`` (plain or ``anyOf`` with null) by ``enum``."""
    if prop.get("type") == "string":
        prop.pop("type")
        prop.pop("minLength", None)
        prop.update(copy.deepcopy(enum))
        return
    for option in prop.get("anyOf", []):
        if option.get("type") == "string":
            option.clear()
            option.update(copy.deepcopy(enum))


def _reachable(body: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """The definitions ``body`` refers to, directly or through each other, in a stable order."""
    seen: set[str] = set()
    todo = [body]
    while todo:
        for node in _walk(todo.pop()):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/definitions/"):
                target = ref.removeprefix("#/definitions/")
                if target not in seen:
                    seen.add(target)
                    todo.append(definitions[target])
    return {name: definitions[name] for name in sorted(seen)}
