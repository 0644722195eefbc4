#!/usr/bin/env python3
"""Throughput of ``tierrules.batch`` (Dask) on 1 and 2 worker processes, against a serial run.

Run from a clone after ``python3 -m pip install -e ".[test]"`` (it needs hypothesis for the
generated cases)::

    python benchmarks/bench_batch.py                      # 20,000 generated cases
    python benchmarks/bench_batch.py --cases 2000 --workers 1,2,4 --json /tmp/batch.json

It prints a table and writes the numbers as JSON (default ``benchmarks/results/batch.json``;
the directory is git-ignored and created if missing).

What it measures, on the same ``--cases`` cases from ``tierrules.testing.generate_cases``:

1. serial: one ``Engine`` in this process, ``evaluate(events, now).to_json(indent=None)``
   per case — exactly what a batch returns for each case;
2. for each worker count N: a ``LocalCluster`` of N single-threaded worker processes is
   started (timed separately, "startup"), then ``batch.evaluate_cases(cases, client=...)``
   is timed end to end: shipping the ruleset, building one engine per worker, sending the
   cases, evaluating, rendering JSON on the workers and gathering it in input order.

3. with ``--no-dask-reference``: the same chunks on a plain ``multiprocessing`` pool of N
   processes (no Dask), which shows how far the machine itself scales.

Throughput is cases (and events) over that wall time; every run's results are checked to be
byte-identical to the serial ones. A script, not a test: it asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import multiprocessing
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

try:
    import tierrules
except ImportError:  # not installed: fall back to the source tree next to this script
    sys.path.insert(0, str(REPO / "src"))
    import tierrules
from tierrules import CaseRecord as Case  # noqa: E402
from tierrules import batch  # noqa: E402


def _cases(ruleset: tierrules.Ruleset, count: int, seed: int) -> list[Case]:
    from tierrules.testing import generate_cases

    return [
        Case(f"case-{i}", ev, now) for i, (ev, now) in enumerate(generate_cases(ruleset, count, seed=seed))
    ]


def _warm(_: int) -> None:
    """Import tierrules in a pool process before the clock starts."""


def _row(label: str, seconds: float, cases: int, events: int, **extra: Any) -> dict[str, Any]:
    return {
        "run": label,
        "seconds": round(seconds, 3),
        "cases_per_s": round(cases / seconds, 1),
        "events_per_s": round(events / seconds, 1),
        **extra,
    }


def _machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "tierrules": tierrules.__version__,
        "dask": importlib.metadata.version("dask"),
        "distributed": importlib.metadata.version("distributed"),
        "loadavg_before": os.getloadavg(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=20_000, help="generated cases (default 20,000)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the generated cases")
    parser.add_argument(
        "--workers", default="1,2", help="worker counts to run, comma-separated (default 1,2)"
    )
    parser.add_argument("--chunk-size", type=int, default=None, help="cases per task (default: automatic)")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "batch.json", help="where to write")
    parser.add_argument(
        "--no-dask-reference",
        action="store_true",
        help="also run the same chunks on a plain multiprocessing pool (the machine's own scaling)",
    )
    args = parser.parse_args(argv)
    counts = [int(w) for w in args.workers.split(",") if w.strip()]

    machine = _machine()
    ruleset = tierrules.load_ruleset()
    started = time.perf_counter()
    cases = _cases(ruleset, args.cases, args.seed)
    events = sum(len(c.events) for c in cases)
    print(f"{len(cases)} cases, {events} events (generated in {time.perf_counter() - started:.1f} s)")

    engine = tierrules.Engine(ruleset)
    started = time.perf_counter()
    expected = [engine.evaluate(c.events, c.now).to_json(indent=None) for c in cases]
    serial = time.perf_counter() - started
    rows = [_row("serial (in process)", serial, len(cases), events, workers=0, identical=True)]
    print(f"serial: {serial:.2f} s", flush=True)

    for n in counts:
        started = time.perf_counter()
        with batch.open_client(workers=n) as client:
            startup = time.perf_counter() - started
            started = time.perf_counter()
            results = batch.evaluate_cases(cases, client=client, chunk_size=args.chunk_size)
            wall = time.perf_counter() - started
        identical = [r.decision_json for r in results] == expected
        rows.append(
            _row(
                f"dask, {n} worker{'s' if n > 1 else ''}",
                wall,
                len(cases),
                events,
                workers=n,
                startup_seconds=round(startup, 2),
                identical=identical,
            )
        )
        print(f"{n} worker(s): {wall:.2f} s (+{startup:.1f} s startup), identical: {identical}", flush=True)

    if args.no_dask_reference:
        key, text = batch._ruleset_data(ruleset)
        size = max(1, min(batch.MAX_CHUNK_SIZE, len(cases) // (4 * max(counts))))
        chunks = [cases[i : i + size] for i in range(0, len(cases), size)]
        for n in counts:
            with multiprocessing.get_context("spawn").Pool(n) as pool:
                pool.map(_warm, range(n))  # start the processes before the clock
                started = time.perf_counter()
                parts = pool.starmap(batch._evaluate_chunk, [([key], [text], chunk) for chunk in chunks])
                wall = time.perf_counter() - started
            identical = [out[0] if out else None for done, _ in parts for out in done] == expected
            label = f"multiprocessing, {n} process{'es' if n > 1 else ''} (no Dask)"
            rows.append(_row(label, wall, len(cases), events, workers=-n, identical=identical))
            print(f"{label}: {wall:.2f} s, identical: {identical}", flush=True)

    one = next((r for r in rows if r["workers"] == 1), None)
    for row in rows:
        row["speedup_vs_serial"] = round(serial / row["seconds"], 2)
        row["speedup_vs_1_worker"] = round(one["seconds"] / row["seconds"], 2) if one else None
    machine["loadavg_after"] = os.getloadavg()

    header = ("run", "seconds", "cases/s", "events/s", "vs serial", "vs 1 worker", "startup s", "identical")
    table = [
        (
            r["run"],
            f"{r['seconds']:.2f}",
            f"{r['cases_per_s']:,.0f}",
            f"{r['events_per_s']:,.0f}",
            f"{r['speedup_vs_serial']:.2f}x",
            f"{r['speedup_vs_1_worker']:.2f}x" if r["speedup_vs_1_worker"] else "-",
            f"{r['startup_seconds']:.1f}" if "startup_seconds" in r else "-",
            "yes" if r["identical"] else "NO",
        )
        for r in rows
    ]
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for line in table:
        print("| " + " | ".join(line) + " |")
    print(f"\n{machine['cpu']} ({machine['cpus']} CPUs), load {machine['loadavg_before'][0]:.2f} before")

    args.json.parent.mkdir(parents=True, exist_ok=True)
    report = {"cases": len(cases), "events": events, "seed": args.seed, "machine": machine, "runs": rows}
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.json}")
    return 0 if all(r["identical"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
