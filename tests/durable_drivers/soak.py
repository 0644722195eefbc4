"""Soak: push many events through ``Engine.evaluate()``; watch RSS.

Run as ``python soak.py <events> [events_per_evaluation]``. Every evaluation is one batch
of events (a realistic mix of every event type over a few case ids, timestamps
increasing through the run), asserted into and retracted from the ruleset's one
durable_rules session. Prints
one JSON object: RSS after 10%, 50% and 100% of the events, the obligations produced and
expected, the sessions left alive and the elapsed time.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
import time
from typing import Any

import tierrules

CST = dt.timezone(dt.timedelta(hours=8))
START = dt.datetime(2026, 11, 2, 8, 0, tzinfo=CST)

# (type, weight); every start event yields a known number of obligations in the default ruleset
MIX = [
    ("case_opened", 15),
    ("escalation_needed", 10),  # E1
    ("escalated", 8),
    ("complaint_registered", 12),  # E2
    ("complaint_replied", 10),
    ("feedback_received", 15),  # E3 response + (progress or general result)
    ("feedback_responded", 10),
    ("progress_reported", 10),
    ("feedback_resolved", 10),
]
# E1; E2 + E9 response + E9 resolution; E3 response + progress or result; E10 communication
# (+ E10 key problem for critical/urgent cases, counted in batch()).
OBLIGATIONS = {"escalation_needed": 1, "complaint_registered": 3, "feedback_received": 2, "case_opened": 1}
TYPES = [kind for kind, _ in MIX]
WEIGHTS = [weight for _, weight in MIX]


def rss_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def batch(rng: random.Random, number: int, size: int) -> tuple[list[dict[str, Any]], dt.datetime, int]:
    """One evaluation's events, the instant to evaluate at, and the obligations expected."""
    base = START + dt.timedelta(minutes=7 * number)
    cases = [f"b{number}-c{k}" for k in range(rng.randint(2, 5))]
    events: list[dict[str, Any]] = []
    expected = 0
    opened: dict[str, str] = {}
    at = base
    for kind in rng.choices(TYPES, WEIGHTS, k=size):
        at += dt.timedelta(seconds=rng.randint(1, 90))
        event: dict[str, Any] = {"type": kind, "at": at.isoformat(), "case_id": rng.choice(cases)}
        if kind == "case_opened":
            event["channel"] = rng.choice(["phone", "lobby", "online", "visit"])
            if rng.random() < 0.3:
                event["severity"] = rng.choice(["critical", "urgent", "important", "general"])
            # A case's severity is set by its first case_opened (E10 key problem applies then).
            severity = opened.setdefault(event["case_id"], event.get("severity", "general"))
            expected += severity in ("critical", "urgent")
        elif kind == "escalation_needed":
            event["agent_level"] = rng.randint(1, 3)
        elif kind == "escalated":
            event["to_level"] = rng.randint(2, 4)
        elif kind == "feedback_received":
            event["severity"] = rng.choice(["urgent", "important", "general"])
        if rng.random() < 0.2:
            event["id"] = f"host-{number}-{len(events)}"
            event["meta"] = {"agent": f"a{rng.randint(1, 40)}", "note": "x" * rng.randint(0, 40)}
        expected += OBLIGATIONS.get(kind, 0)
        events.append(event)
    return events, at + dt.timedelta(minutes=rng.randint(0, 120)), expected


def main(total: int, size: int) -> None:
    engine = tierrules.Engine(tierrules.load_ruleset())
    rng = random.Random(20261124)
    evaluations = total // size
    checkpoints = {
        max(1, evaluations // 10): "rss_kb_10",
        max(1, evaluations // 2): "rss_kb_50",
        evaluations: "rss_kb_100",
    }
    out: dict[str, Any] = {
        "events": 0,
        "evaluations": evaluations,
        "events_per_evaluation": size,
        "rss_kb_start": rss_kb(),
    }
    obligations = expected = 0
    started = time.perf_counter()
    for number in range(1, evaluations + 1):
        events, now, want = batch(rng, number, size)
        decision = engine.evaluate(events, now=now)
        obligations += len(decision.obligations)
        expected += want
        out["events"] += len(events)
        if number in checkpoints:
            out[checkpoints[number]] = rss_kb()
            print(
                f"{checkpoints[number]}: {out[checkpoints[number]]} after {out['events']} events",
                file=sys.stderr,
                flush=True,
            )
    out.update(
        obligations=obligations,
        expected_obligations=expected,
        live_sessions=engine._matcher.engine_ruleset.live_sessions,
        seconds=round(time.perf_counter() - started, 1),
    )
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 50)
