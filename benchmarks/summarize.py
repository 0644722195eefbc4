#!/usr/bin/env python3
"""Medians of several bench_evaluate.py result files, as a Markdown table.

    python benchmarks/bench_evaluate.py --json benchmarks/results/run1.json   # repeat 3x
    python benchmarks/summarize.py benchmarks/results/run*.json

On a shared machine one run can be slowed by other work; the median of three runs is what
docs/performance.md reports. Each metric's median is taken on its own, so a row's
numbers may come from different runs.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any


def _get(result: dict[str, Any], path: str) -> Any:
    value: Any = result
    for part in path.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


ROWS = [
    ("evaluate() p50, 1 event (µs)", "latency.0.p50_us", "{:,.0f}"),
    ("evaluate() p99, 1 event (µs)", "latency.0.p99_us", "{:,.0f}"),
    ("evaluate() p50, 10 events (µs)", "latency.1.p50_us", "{:,.0f}"),
    ("evaluate() p99, 10 events (µs)", "latency.1.p99_us", "{:,.0f}"),
    ("evaluate() p50, 100 events (µs)", "latency.2.p50_us", "{:,.0f}"),
    ("evaluate() p99, 100 events (µs)", "latency.2.p99_us", "{:,.0f}"),
    ("throughput, 10-event cases (events/s)", "throughput.events_per_s", "{:,.0f}"),
    ("time per 10-event case (µs)", "throughput.us_per_case", "{:,.0f}"),
    ("peak RSS before throughput run (MiB)", "throughput.memory_before.ru_maxrss_mib", "{:,.1f}"),
    ("peak RSS after (MiB)", "throughput.memory_after.ru_maxrss_mib", "{:,.1f}"),
    ("current RSS before (MiB)", "throughput.memory_before.vmrss_mib", "{:,.1f}"),
    ("current RSS after (MiB)", "throughput.memory_after.vmrss_mib", "{:,.1f}"),
    ("share: validation (parse_events)", "breakdown.share.parse_events", "{:.1%}"),
    ("share: durable_rules fence (match)", "breakdown.share.match", "{:.1%}"),
    ("share: rest", "breakdown.share.rest", "{:.1%}"),
    ("raw durable_rules (events/s)", "breakdown.raw.events_per_s", "{:,.0f}"),
    ("tierrules, same pass (events/s)", "breakdown.tierrules_events_per_s", "{:,.0f}"),
    ("tierrules / raw per-event cost", "breakdown.ratio_tierrules_to_raw", "{:.2f}x"),
    ("fence / raw per-event cost", "breakdown.ratio_fence_to_raw", "{:.2f}x"),
]


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    results = [json.loads(Path(p).read_text(encoding="utf-8")) for p in argv]
    print(f"| metric | median of {len(results)} | runs |")
    print("|---|---:|---|")
    for label, path, fmt in ROWS:
        values = [_get(r, path) for r in results]
        runs = ", ".join(fmt.format(v) for v in values)
        print(f"| {label} | {fmt.format(statistics.median(values))} | {runs} |")
    print()
    for path, r in zip(argv, results, strict=True):
        m = r["machine"]
        print(
            f"- {Path(path).name}: {r['started_at']}, load {m['loadavg_at_start'][0]:.2f}, "
            f"{m['git']}, src {m['tierrules_source_sha256']}, {r['throughput']['cases']:,} cases"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
