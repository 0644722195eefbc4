"""Deadline arithmetic benchmark: µs per working-time addition across a year of holidays.

    python benchmarks/bench_calendar.py [--n 20000] [--json PATH]

Starts are spread over every hour of 2026 (weekends, China's public holidays and make-up
working days included) on the default ruleset's business calendar; each row times one
call shape over all starts and reports the median of 5 runs in µs per call.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import tierrules
from tierrules.compiler.load import compiled


def _starts(n: int) -> list[dt.datetime]:
    tz = dt.timezone(dt.timedelta(hours=8))
    t0 = dt.datetime(2026, 1, 1, tzinfo=tz)
    step = dt.timedelta(days=365) / n
    return [t0 + i * step for i in range(n)]


def _time(fn: Callable[[dt.datetime], object], starts: list[dt.datetime]) -> float:
    runs = []
    for _ in range(5):
        t = time.perf_counter()
        for s in starts:
            fn(s)
        runs.append((time.perf_counter() - t) / len(starts) * 1e6)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/calendar.json"))
    args = parser.parse_args()
    cal = compiled(tierrules.load_ruleset()).calendars["business"]
    starts = _starts(args.n)
    for s in starts[:: max(1, len(starts) // 400)]:  # warm the per-year holiday cache
        cal.add_working_days(s, 5)
    rows = {
        "add_working_time 1h": lambda s: cal.add_working_time(s, dt.timedelta(hours=1)),
        "add_working_time 24h": lambda s: cal.add_working_time(s, dt.timedelta(hours=24)),
        "add_working_days 5": lambda s: cal.add_working_days(s, 5),
        "working_time_between 7d": lambda s: cal.working_time_between(s, s + dt.timedelta(days=7)),
        "next_open": cal.next_open,
    }
    results = {name: _time(fn, starts) for name, fn in rows.items()}
    machine = f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}"
    print(f"calendar arithmetic, {args.n} starts over 2026 (CN holidays), median of 5; {machine}")
    print(f"{'call':28} {'µs/call':>8}")
    for name, us in results.items():
        print(f"{name:28} {us:8.1f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"machine": machine, "n": args.n, "us_per_call": results}, indent=2))


if __name__ == "__main__":
    sys.exit(main())
