#!/usr/bin/env python3
"""Medians of several bench_evaluate.py result files, as a Markdown table.

    python benchmarks/bench_evaluate.py --json benchmarks/results/run1.json   # repeat 3x
    python benchmarks/summarize.py benchmarks/results/run*.json

On a shared machine one run can be slowed by other work; the median of three runs is what
docs/performance.md reports. Each metric's median is taken on its own, so a row's
numbers may come from different runs. Files from older versions of the benchmark work
too: metrics they lack show as "—".
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

MISSING = object()


def _get(result: dict[str, Any], path: str) -> Any:
    value: Any = result
    for part in path.split("."):
        try:
            if part.startswith("cases="):  # the list element for that many cases
                value = next(v for v in value if v["cases"] == int(part[6:]))
                continue
            value = value[int(part)] if isinstance(value, list) else value[part]
        except (KeyError, IndexError, ValueError, TypeError, StopIteration):
            return MISSING
    return value


def _rows(first: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows = [
        ("evaluate() p50, 1 event (µs)", "latency.0.p50_us", "{:,.0f}"),
        ("evaluate() p99, 1 event (µs)", "latency.0.p99_us", "{:,.0f}"),
        ("evaluate() p50, 10 events (µs)", "latency.1.p50_us", "{:,.0f}"),
        ("evaluate() p99, 10 events (µs)", "latency.1.p99_us", "{:,.0f}"),
        ("evaluate() p50, 100 events (µs)", "latency.2.p50_us", "{:,.0f}"),
        ("evaluate() p99, 100 events (µs)", "latency.2.p99_us", "{:,.0f}"),
        ("throughput, 10-event cases (events/s)", "throughput.events_per_s", "{:,.0f}"),
        ("time per 10-event case (µs)", "throughput.us_per_case", "{:,.0f}"),
    ]
    checkpoints = _get(first, "memory.checkpoints")
    if checkpoints is MISSING:  # older files: memory before/after the throughput run
        rows += [
            ("peak RSS before throughput run (MiB)", "throughput.memory_before.ru_maxrss_mib", "{:,.1f}"),
            ("peak RSS after (MiB)", "throughput.memory_after.ru_maxrss_mib", "{:,.1f}"),
            ("current RSS before (MiB)", "throughput.memory_before.vmrss_mib", "{:,.1f}"),
            ("current RSS after (MiB)", "throughput.memory_after.vmrss_mib", "{:,.1f}"),
        ]
    else:
        rows.append(("peak / current RSS before the memory pass (MiB)", "memory.memory_before", "rss"))
        for row in checkpoints:  # matched by case count across runs
            label = f"peak / current RSS after {row['cases']:,} cases (MiB)"
            rows.append((label, f"memory.checkpoints.cases={row['cases']}", "rss"))
        rows += [
            (
                "current RSS growth after the first checkpoint (MiB)",
                "memory.growth_from_first_checkpoint.vmrss_mib",
                "{:+.1f}",
            ),
            ("memory pass duration (s)", "memory.wall_seconds", "{:,.0f}"),
        ]
    rows += [
        ("share: validation (parse_events)", "breakdown.share.parse_events", "{:.1%}"),
        ("share: durable_rules fence (match)", "breakdown.share.match", "{:.1%}"),
        ("share: rest", "breakdown.share.rest", "{:.1%}"),
        ("tierrules evaluate(), same pass (events/s)", "breakdown.tierrules_events_per_s", "{:,.0f}"),
        ("tierrules fence, match() (events/s)", "breakdown.fence.events_per_s", "{:,.0f}"),
        ("(a) raw durable_rules, equivalent ruleset (events/s)", "breakdown.raw.events_per_s", "{:,.0f}"),
        (
            "(b) raw durable_rules, tierrules' calls (events/s)",
            "breakdown.raw_tierrules_calls.events_per_s",
            "{:,.0f}",
        ),
        ("(c) plain-Python floor (events/s)", "breakdown.floor.events_per_s", "{:,.0f}"),
        ("**tierrules / (a) per-event cost** (target ≤ 1.5x)", "breakdown.ratio_tierrules_to_raw", "{:.2f}x"),
        ("fence / (a)", "breakdown.ratio_fence_to_raw", "{:.2f}x"),
        ("tierrules / (b)", "breakdown.ratio_tierrules_to_raw_tierrules_calls", "{:.2f}x"),
        ("fence / (b)", "breakdown.ratio_fence_to_raw_tierrules_calls", "{:.2f}x"),
        ("tierrules / floor", "breakdown.ratio_tierrules_to_floor", "{:.0f}x"),
        ("(a) / floor", "breakdown.ratio_raw_to_floor", "{:.0f}x"),
        ("(b) / floor", "breakdown.ratio_raw_tierrules_calls_to_floor", "{:.0f}x"),
        (
            "cases where (a), (b) or the floor matched differently",
            "breakdown.agreement.cases_differing",
            "count",
        ),
    ]
    factor = _get(first, "scaling.scaled_ruleset.factor")
    if factor is not MISSING:
        x = f"{factor}x"
        rows += [
            ("scaling: default, evaluate() p50 / p99, 10 events (µs)", "scaling.default.evaluate", "p50p99"),
            (f"scaling: {x} rules, evaluate() p50 / p99 (µs)", "scaling.scaled.evaluate", "p50p99"),
            ("scaling: default, evaluate() (events/s)", "scaling.default.evaluate.events_per_s", "{:,.0f}"),
            (f"scaling: {x} rules, evaluate() (events/s)", "scaling.scaled.evaluate.events_per_s", "{:,.0f}"),
            (f"scaling: {x} / default, evaluate() p50", "scaling.ratio.evaluate_p50", "{:.2f}x"),
            (f"scaling: {x} / default, evaluate() p99", "scaling.ratio.evaluate_p99", "{:.2f}x"),
            (
                f"**scaling: {x} / default, evaluate() per-event cost** (target ~1.0)",
                "scaling.ratio.evaluate_per_event_cost",
                "{:.2f}x",
            ),
            ("scaling: default, raw (a) (events/s)", "scaling.default.raw.events_per_s", "{:,.0f}"),
            (f"scaling: {x} rules, raw (a) (events/s)", "scaling.scaled.raw.events_per_s", "{:,.0f}"),
            (
                f"scaling: {x} / default, raw (a) per-event cost",
                "scaling.ratio.raw_per_event_cost",
                "{:.2f}x",
            ),
            (
                f"scaling: {x} / default, raw (b) per-event cost",
                "scaling.ratio.raw_tierrules_calls_per_event_cost",
                "{:.2f}x",
            ),
        ]
    rows += [
        (
            "leaf: add_working_time 1 h over 2026 (µs)",
            "leaf.calendar.rows.add_working_time 1h.us_per_call",
            "{:.1f}",
        ),
        (
            "leaf: add_working_time 24 h over 2026 (µs)",
            "leaf.calendar.rows.add_working_time 24h.us_per_call",
            "{:.1f}",
        ),
        (
            "leaf: phrase scan, 200 chars, all (µs)",
            "leaf.phrase_scan.rows.find(), all utterances.us_per_call",
            "{:.1f}",
        ),
        (
            "leaf: phrase scan, with a forbidden phrase (µs)",
            "leaf.phrase_scan.rows.find(), with a forbidden phrase.us_per_call",
            "{:.1f}",
        ),
        ("leaf: phrase scan, without (µs)", "leaf.phrase_scan.rows.find(), without.us_per_call", "{:.1f}"),
        (
            "leaf: normalize() alone, 200 chars (µs)",
            "leaf.phrase_scan.rows.normalize() alone.us_per_call",
            "{:.1f}",
        ),
    ]
    return rows


def _cell(value: Any, fmt: str) -> tuple[str, float | None]:
    """The text of one run's value, and the number its median is taken over."""
    if value is MISSING:
        return "—", None
    if fmt == "rss":
        return f"{value['ru_maxrss_mib']:.1f} / {value['vmrss_mib']:.1f}", value["vmrss_mib"]
    if fmt == "p50p99":
        return f"{value['p50_us']:,.0f} / {value['p99_us']:,.0f}", value["p50_us"]
    if fmt == "count":
        total = sum(value.values()) if isinstance(value, dict) else int(value)
        return f"{total:,}", float(total)
    return fmt.format(value), float(value)


def _median(values: list[Any], fmt: str) -> str:
    present = [v for v in values if v is not MISSING]
    if not present:
        return "—"
    if fmt in ("rss", "p50p99"):  # two numbers: the median of each
        keys = ("ru_maxrss_mib", "vmrss_mib") if fmt == "rss" else ("p50_us", "p99_us")
        merged = {k: statistics.median(v[k] for v in present) for k in keys}
        return _cell(merged, fmt)[0]
    if fmt == "count":
        return _cell(max(present, key=lambda v: _cell(v, fmt)[1] or 0), fmt)[0]
    return fmt.format(statistics.median(present))


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    results = [json.loads(Path(p).read_text(encoding="utf-8")) for p in argv]
    m = results[0]["machine"]
    print(
        f"Machine: {m['platform']}, {m['cpu_model']}, {m['cpu_count']} CPUs, {m['python']}; "
        f"durable_rules {m['durable_rules']}, pydantic {m['pydantic']}."
    )
    print()
    single = len(results) == 1
    print("| metric | value |" if single else f"| metric | median of {len(results)} | runs |")
    print("|---|---:|" if single else "|---|---:|---|")
    for label, path, fmt in _rows(results[0]):
        values = [_get(r, path) for r in results]
        if all(v is MISSING for v in values):
            continue
        runs = "" if single else " " + ", ".join(_cell(v, fmt)[0] for v in values) + " |"
        print(f"| {label} | {_median(values, fmt)} |{runs}")
    print()
    for path, r in zip(argv, results, strict=True):
        rm = r["machine"]
        mem = r.get("memory", {}).get("cases")
        print(
            f"- {Path(path).name}: {r['started_at']}, load {rm['loadavg_at_start'][0]:.2f}, "
            f"{rm['git']}, src {rm['tierrules_source_sha256']}, {r['throughput']['cases']:,} throughput cases"
            + (f", {mem:,} in the memory pass" if mem else "")
            + (f", {r['duration_seconds'] / 60:.0f} min" if "duration_seconds" in r else "")
            + (" (--quick)" if r.get("quick") else "")
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
