"""Evaluate in a loop while the parent sends real SIGINTs (tests/regressions/test_interrupts.py).

Run as ``python interrupt.py ROUNDS``. Prints ``ready`` once the reference decision is
computed, then one line per signal it handled (``KeyboardInterrupt`` or the name of any
other exception), and finally a JSON summary: how each signal ended, how many decisions
differed from the reference, and whether the engine still decides correctly afterwards.
The parent waits for each line before the next signal, so a signal never lands in the
handler of the previous one.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import sys
from collections import Counter
from typing import Any

import tierrules

CST = dt.timezone(dt.timedelta(hours=8))
DAY = dt.datetime(2026, 11, 24, 9, tzinfo=CST)
NOW = DAY + dt.timedelta(hours=9)


def events() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(40):
        at = DAY + dt.timedelta(minutes=i)
        case = f"c{i % 10}"
        out.append({"type": "case_opened", "at": at.isoformat(), "case_id": case, "channel": "phone"})
        out.append({"type": "complaint_registered", "at": at.isoformat(), "case_id": case})
        out.append(
            {"type": "escalation_needed", "at": at.isoformat(), "case_id": case, "agent_level": 1 + i % 3}
        )
        out.append({"type": "feedback_received", "at": at.isoformat(), "case_id": case, "severity": "urgent"})
        if i % 2:
            out.append(
                {
                    "type": "complaint_replied",
                    "at": (at + dt.timedelta(minutes=5)).isoformat(),
                    "case_id": case,
                }
            )
    return out


def main(rounds: int) -> None:
    # Python installs its KeyboardInterrupt handler only if SIGINT was not ignored when it
    # started, and a shell starts background jobs with SIGINT ignored: a CI that runs the
    # suite in the background would otherwise send signals this process never sees.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    engine = tierrules.Engine(tierrules.load_ruleset(), matcher="durable")
    cases = events()
    reference = engine.evaluate(cases, NOW).to_json()
    outcomes: Counter[str] = Counter()
    wrong = evaluations = 0
    # SIGINT is blocked while a signal's outcome is recorded and printed, and unblocked only
    # inside the try: a signal sent right after the line was read lands in the evaluations.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    print("ready", flush=True)
    while sum(outcomes.values()) < rounds:
        try:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
            while True:
                evaluations += 1
                if engine.evaluate(cases, NOW).to_json() != reference:
                    wrong += 1
        except BaseException as err:  # we count what each signal became
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
            name = type(err).__name__
            outcomes[name] += 1
            print(name, flush=True)
    usable = all(engine.evaluate(cases, NOW).to_json() == reference for _ in range(20))
    live = engine._matcher.engine_ruleset.live_sessions  # type: ignore[attr-defined]
    summary = {
        "outcomes": dict(outcomes),
        "wrong": wrong,
        "evaluations": evaluations,
        "usable": usable,
        "live_sessions": live,
    }
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
