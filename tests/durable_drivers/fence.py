"""Drive tierrules through the situations that crash or corrupt raw durable_rules.

Run as ``python fence.py <scenario> [args]``; each scenario prints one JSON object and
exits 0. The tests run it in a subprocess so that a regression in the fence shows up as
a signal or a timeout, not as a dead test run.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import threading
from typing import Any

import tierrules
from tierrules.matching import durable as _durable

CST = dt.timezone(dt.timedelta(hours=8))
DAY = dt.datetime(2026, 11, 24, tzinfo=CST)  # a Tuesday


def ev(kind: str, minute: int, case: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "at": (DAY + dt.timedelta(hours=10, minutes=minute)).isoformat(),
        "case_id": case,
        **fields,
    }


def unmatched(rounds: str) -> None:
    """Sessions in which no rule of the ruleset matches: the fence's marker action still runs."""
    engine = tierrules.Engine(tierrules.load_ruleset())
    now = DAY + dt.timedelta(hours=12)
    nonempty = 0
    for i in range(int(rounds)):
        # Pause marks match no engine rule at all (the default ruleset starts no clock on them).
        events = [] if i % 3 == 0 else [ev("case_paused", j, f"c{i}") for j in range(i % 3)]
        decision = engine.evaluate(events, now=now)
        nonempty += bool(decision.obligations or decision.escalations or decision.violations)
    print(
        json.dumps(
            {
                "rounds": int(rounds),
                "nonempty": nonempty,
                "live_sessions": engine._matcher.engine_ruleset.live_sessions,
            }
        )
    )


def _case(i: int) -> tuple[list[dict[str, Any]], str]:
    """Case ``c<i>``: a complaint at 10:00, replied at 10:30 when i is odd. Expected status."""
    events = [ev("complaint_registered", 0, f"c{i}"), ev("case_opened", 1, f"c{i}", channel="lobby")]
    if i % 2:
        events.append(ev("complaint_replied", 30, f"c{i}"))
    return events, "met" if i % 2 else "pending"


def sessions(rounds: str) -> None:
    """Many evaluations in a row: each one's session is deleted, so the engine never nears 1,024."""
    engine = tierrules.Engine(tierrules.load_ruleset())
    now = DAY + dt.timedelta(hours=10, minutes=45)
    wrong = []
    for i in range(int(rounds)):
        events, status = _case(i)
        decision = engine.evaluate(events, now=now)
        got = [(o.case_id, o.rule, o.status) for o in decision.obligations if o.source == "E2"]
        if got != [(f"c{i}", "E2.complaint-reply", status)]:
            wrong.append([i, got])
    print(
        json.dumps(
            {
                "rounds": int(rounds),
                "wrong": wrong[:5],
                "live_sessions": engine._matcher.engine_ruleset.live_sessions,
            }
        )
    )


def _thread_case(i: int) -> list[dict[str, Any]]:
    """A case exercising every default rule, different for each ``i``."""
    case = f"t{i}"
    severity = ("urgent", "important", "general")[i % 3]
    events = [
        ev("case_opened", 0, case, channel=("phone", "lobby", "online", "visit")[i % 4]),
        ev("escalation_needed", 1, case, agent_level=1 + i % 3),
        ev("complaint_registered", 2, case),
        ev("feedback_received", 3, case, severity=severity),
    ]
    if i % 2:
        events += [
            ev("escalated", 5 + i % 10, case, to_level=2 + i % 3),
            ev("complaint_replied", 40 + i % 50, case),
        ]
    if i % 5 == 0:
        events += [
            ev("feedback_responded", 60, case),
            ev("progress_reported", 70, case),
            ev("feedback_resolved", 80, case),
        ]
    if i % 7 == 0:
        events += [ev("complaint_registered", 90, case)]
    return events


def threads(workers: str, cases: str) -> None:
    """Concurrent evaluate() calls on distinct cases give exactly the serial decisions."""
    engine = tierrules.Engine(tierrules.load_ruleset())
    now = DAY + dt.timedelta(hours=13)
    inputs = [_thread_case(i) for i in range(int(cases))]
    serial = [engine.evaluate(events, now=now).to_json() for events in inputs]
    n = int(workers)
    results: list[str | None] = [None] * len(inputs)
    errors: list[str] = []
    start = threading.Barrier(n)

    def work(k: int) -> None:
        try:
            start.wait()
            for i in range(k, len(inputs), n):
                results[i] = engine.evaluate(inputs[i], now=now).to_json()
        except Exception as err:
            errors.append(f"{type(err).__name__}: {err}")

    pool = [threading.Thread(target=work, args=(k,)) for k in range(n)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    differ = [i for i, (a, b) in enumerate(zip(serial, results, strict=True)) if a != b]
    obligations = sum(len(json.loads(s)["obligations"]) for s in serial)
    print(
        json.dumps(
            {
                "cases": len(inputs),
                "obligations": obligations,
                "differ": differ[:10],
                "errors": errors[:5],
                "live_sessions": engine._matcher.engine_ruleset.live_sessions,
            }
        )
    )


def most_values() -> None:
    """511 distinct values on one field (the most the fence allows) load and evaluate."""
    ruleset = tierrules.load_ruleset(
        {
            "name": "wide",
            "version": "1",
            "timezone": "Asia/Shanghai",
            "default_calendar": "always",
            "calendars": {"always": {"timezone": "Asia/Shanghai", "always_open": True}},
            "deadlines": [
                {
                    "id": "R1",
                    "source": "E1",
                    "description": {"zh": "x", "en": "x"},
                    "start": {"event": "escalation_needed", "when": {"agent_level": list(range(1, 512))}},
                    "met_by": {"event": "escalated"},
                    "within": "10 minutes",
                }
            ],
        }
    )
    engine = tierrules.Engine(ruleset)
    now = DAY + dt.timedelta(hours=11)
    levels = [1, 511, 512]
    started = [
        len(engine.evaluate([ev("escalation_needed", 0, "c1", agent_level=lv)], now=now).obligations)
        for lv in levels
    ]
    print(
        json.dumps(
            {
                "levels": levels,
                "obligations": started,
                "live_sessions": engine._matcher.engine_ruleset.live_sessions,
            }
        )
    )


def fence_state() -> None:
    """Threads and modules after building an Engine and evaluating."""
    before = threading.active_count()
    engine = tierrules.Engine(tierrules.load_ruleset())
    engine.evaluate([ev("complaint_registered", 0, "c1")], now=DAY + dt.timedelta(hours=11))
    print(
        json.dumps(
            {
                "threads_before": before,
                "threads_after": threading.active_count(),
                "durable_lang": "durable.lang" in sys.modules,
                "host": type(_durable._host).__name__,
            }
        )
    )


SCENARIOS = {
    "unmatched": unmatched,
    "sessions": sessions,
    "threads": threads,
    "most_values": most_values,
    "fence_state": fence_state,
}

if __name__ == "__main__":
    SCENARIOS[sys.argv[1]](*sys.argv[2:])
