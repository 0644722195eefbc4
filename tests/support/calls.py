"""Calls and visits built from a list of turns, for the etiquette regression tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import tierrules

CST = dt.timezone(dt.timedelta(hours=8))
CASE = "reg-1"
_ENGINE: tierrules.Engine | None = None


def engine() -> tierrules.Engine:
    """One engine on the bundled ruleset, shared by the tests that use this module."""
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = tierrules.Engine()
    return _ENGINE


def conversation(
    turns: list[tuple[str, str] | dict[str, Any]],
    *,
    channel: str = "phone",
    hour: int = 10,
    opened: dict[str, Any] | None = None,
    ended: bool = True,
) -> list[dict[str, Any]]:
    """case_opened, call_answered (or customer_arrived), the turns 8 s apart (a dict is an
    event of its own, 3 s after the turn before), then call_ended / customer_left."""
    start = dt.datetime(2026, 11, 24, hour, 0, tzinfo=CST)

    def at(seconds: int) -> str:
        return (start + dt.timedelta(seconds=seconds)).isoformat()

    fields = {
        "customer_name": "王芳",
        "customer_gender": "female",
        "agent_name": "李明",
        "organisation": "招商银行",
        **(opened or {}),
    }
    events: list[dict[str, Any]] = [
        {"type": "case_opened", "at": at(0), "case_id": CASE, "channel": channel, **fields}
    ]
    if channel == "phone":
        events.append({"type": "call_answered", "at": at(3), "case_id": CASE, "rings": 2})
    else:
        events.append({"type": "customer_arrived", "at": at(3), "case_id": CASE})
    t = 5
    for item in turns:
        if isinstance(item, dict):
            events.append({**item, "at": at(t), "case_id": CASE})
            t += 3
            continue
        speaker, text = item
        events.append(
            {"type": "utterance", "at": at(t), "case_id": CASE, "speaker": speaker, "text": text,
             "offset_seconds": t}
        )  # fmt: skip
        t += 8
    if ended:
        phone = channel == "phone"
        end = {"type": "call_ended", "hung_up_by": "customer"} if phone else {"type": "customer_left"}
        events.append({**end, "at": at(t), "case_id": CASE})
    return events


def transferred(target: str, *, picked_up: bool = True) -> list[dict[str, Any]]:
    """A transfer to ``target`` as the host sends it: requested, then completed."""
    return [
        {"type": "transfer_requested", "target": target},
        {"type": "transfer_completed", "picked_up": picked_up},
    ]


def verdicts(events: list[dict[str, Any]], clause: str) -> list[tuple[str, str | None]]:
    """(severity, what is missing or the phrase) of the clause's violations, an hour after the last event."""
    now = dt.datetime.fromisoformat(events[-1]["at"]) + dt.timedelta(hours=1)
    found = engine().evaluate(events, now).violations
    dumped = [v.model_dump() for v in found if v.rule.split(".")[0] == clause]
    return [(v["severity"], v.get("missing") or v.get("phrase")) for v in dumped]


def severities(events: list[dict[str, Any]], clause: str) -> set[str]:
    """The severities of the clause's violations (empty: the clause passes)."""
    return {severity for severity, _ in verdicts(events, clause)}
