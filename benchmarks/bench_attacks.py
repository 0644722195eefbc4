#!/usr/bin/env python3
"""Cost of hostile but valid cases: what one evaluate() spends on pause-heavy cases and long calls.

Run from a clone::

    python benchmarks/bench_attacks.py                           # the default sizes
    python benchmarks/bench_attacks.py --pauses 500,1000,2000 --turns 1000 --json /tmp/a.json

Each measurement runs in a child process (so peak RSS is its own, from ``ru_maxrss``):

- ``pauses N``: one case of N events: a quarter start pausable clocks (complaints and
  plan requests), the rest pause and resume the case; every pausable obligation lists the
  case's pauses, so the decision grows with clocks x pauses.
- ``turns N x C``: one call of N agent utterances of C characters each.

Reported: seconds for ``evaluate()``, seconds for ``to_json()``, the JSON size and the peak
RSS. Limits are lifted (``Limits(...=None)``) so the evaluation core itself is measured.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def _pauses(n: int) -> list[dict[str, Any]]:
    """n events in one case: a quarter start pausable clocks (complaints, plan requests), the
    rest pause and resume it; every pausable obligation's explanation lists every pause."""
    import datetime as dt

    start = dt.datetime(2026, 11, 2, 9, tzinfo=dt.timezone(dt.timedelta(hours=8)))

    def event(kind: str, minutes: int) -> dict[str, Any]:
        return {"type": kind, "at": (start + dt.timedelta(minutes=minutes)).isoformat(), "case_id": "c"}

    out = [{**event("case_opened", 0), "channel": "phone"}]
    for i in range(n // 4):
        out.append(event("complaint_registered" if i % 2 else "plan_requested", 4 * i + 1))
        out += [
            event("case_paused", 4 * i + 2),
            event("case_resumed", 4 * i + 3),
            event("case_paused", 4 * i + 4),
        ]
        out[-1]["type"] = "case_resumed" if i == n // 4 - 1 else "case_paused"
    return out


def _turns(n: int, chars: int) -> list[dict[str, Any]]:
    import datetime as dt

    start = dt.datetime(2026, 11, 2, 9, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    text = ("您好请问有什么可以帮您" * (chars // 11 + 1))[:chars]
    out: list[dict[str, Any]] = [
        {"type": "case_opened", "at": start.isoformat(), "case_id": "call", "channel": "phone"}
    ]
    for i in range(n):
        at = start + dt.timedelta(seconds=i + 1)
        out.append(
            {"type": "utterance", "at": at.isoformat(), "case_id": "call", "speaker": "agent", "text": text}
        )
    return out


def child(kind: str, size: int, chars: int) -> None:
    sys.path.insert(0, str(REPO / "src"))
    import datetime as dt

    import tierrules

    events = _pauses(size) if kind == "pauses" else _turns(size, chars)
    last = max(dt.datetime.fromisoformat(e["at"]) for e in events)
    unlimited = tierrules.Limits(**dict.fromkeys(tierrules.Limits.__dataclass_fields__))
    engine = tierrules.Engine(limits=unlimited)
    started = time.perf_counter()
    decision = engine.evaluate(events, last + dt.timedelta(days=3))
    evaluated = time.perf_counter() - started
    started = time.perf_counter()
    text = decision.to_json(indent=None)
    rendered = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "kind": kind,
                "size": size,
                "chars": chars,
                "events": len(events),
                "evaluate_s": round(evaluated, 2),
                "to_json_s": round(rendered, 2),
                "json_mb": round(len(text.encode()) / 2**20, 1),
                "peak_rss_mb": round(peak_mb),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pauses", default="500,1000,2000,4000")
    parser.add_argument("--turns", default="1000,2500")
    parser.add_argument("--chars", type=int, default=10_000)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "attacks.json")
    parser.add_argument("--child", nargs=3, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), int(args.child[2]))
        return
    runs = [("pauses", int(n), 0) for n in args.pauses.split(",") if n] + [
        ("turns", int(n), args.chars) for n in args.turns.split(",") if n
    ]
    rows = []
    for kind, size, chars in runs:
        try:
            out = subprocess.run(
                [sys.executable, __file__, "--child", kind, str(size), str(chars)],
                capture_output=True,
                text=True,
                timeout=args.timeout,
                check=True,
            )
            row = json.loads(out.stdout.splitlines()[-1])
        except subprocess.TimeoutExpired:
            row = {"kind": kind, "size": size, "chars": chars, "timeout_s": args.timeout}
        rows.append(row)
        print(json.dumps(row), flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
