#!/usr/bin/env python3
"""Where a local Dask cluster starts to pay off against evaluating a case log in this process.

Run from a clone (needs the ``batch`` extra and hypothesis for the generated cases)::

    python benchmarks/bench_batch_threshold.py                   # 250 .. 8,000 cases, 3 runs each
    python benchmarks/bench_batch_threshold.py --sizes 500,2000 --runs 1 --json /tmp/t.json

For each size N it times, end to end as ``tierrules evaluate --batch`` would run them:

- in process: ``batch.evaluate_cases(cases, workers=0)`` (one engine built in this process);
- on Dask: ``batch.evaluate_cases(cases, workers=W)`` with W = the CPUs of this machine,
  starting the local cluster, building an engine in each worker, evaluating, gathering and
  closing the cluster — all of it counted, since a one-shot ``--batch`` pays all of it.

It prints the median seconds of each and the ratio; ``tierrules.batch.IN_PROCESS_BELOW`` is
set from where Dask becomes faster. A script, not a test: it asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
try:
    import tierrules
except ImportError:  # not installed: the source tree next to this script
    sys.path.insert(0, str(REPO / "src"))
    import tierrules
from tierrules import batch  # noqa: E402
from tierrules.testing import generate_cases  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="250,500,1000,2000,4000,8000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=batch._cpu_count())
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "batch_threshold.json")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    ruleset = tierrules.load_ruleset()
    pool = [
        tierrules.CaseRecord(f"c{i}", ev, now)
        for i, (ev, now) in enumerate(generate_cases(ruleset, max(sizes), seed=0))
    ]
    rows = []
    cpus = batch._cpu_count()
    print(f"{platform.processor() or platform.machine()}, {cpus} CPUs, workers={args.workers}", flush=True)
    print(f"{'cases':>7} {'in process s':>13} {'Dask s':>8} {'Dask/in process':>16}")
    for size in sizes:
        cases = pool[:size]
        local, dask = [], []
        for _ in range(args.runs):
            started = time.perf_counter()
            serial = batch.evaluate_cases(cases, ruleset=ruleset, workers=0)
            local.append(time.perf_counter() - started)
            started = time.perf_counter()
            parallel = batch.evaluate_cases(cases, ruleset=ruleset, workers=args.workers)
            dask.append(time.perf_counter() - started)
            assert parallel == serial
        row = {"cases": size, "in_process_s": statistics.median(local), "dask_s": statistics.median(dask)}
        row["ratio"] = row["dask_s"] / row["in_process_s"]
        rows.append(row)
        print(
            f"{size:>7} {row['in_process_s']:>13.2f} {row['dask_s']:>8.2f} {row['ratio']:>16.2f}", flush=True
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "cpus": batch._cpu_count(),
        "workers": args.workers,
        "python": platform.python_version(),
        "loadavg_after": os.getloadavg(),
    }
    args.json.write_text(json.dumps({"machine": meta, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
