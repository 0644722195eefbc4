#!/usr/bin/env python3
"""How long ``tierrules report`` takes on the demo month, stage by stage, and when Dask pays.

Run from a clone (``python3 -m pip install -e ".[test]"``)::

    python benchmarks/bench_report.py                     # the committed demo month, 3 CLI runs
    python benchmarks/bench_report.py --runs 1 --scales 1,4 --json /tmp/report.json

It prints a table and writes JSON (default ``benchmarks/results/report.json``; git-ignored).

1. **cli**: ``python -m tierrules report examples/demo-month.jsonl`` in a fresh process, wall
   time (the README's one command: start-up, reading, evaluating, counting, printing), and
   the same with ``--by team -o report.html``; the median of ``--runs``.
2. **stages**, in this process on the same log: reading the case log, evaluating every case
   (one engine, decisions rendered to JSON, as ``report`` does), counting the decisions into
   a report (``from_decisions``), and rendering the table, CSV, JSON and HTML.
3. **dask**: for each ``--scales`` multiple of the demo volume, ``tierrules.report`` in this
   process (``workers=0``) against a local Dask cluster of ``--workers`` processes, cluster
   start-up included: where the cluster starts to pay is what sets
   ``tierrules.reporting.AUTO_DASK_CASES``.

A script, not a test: it asserts nothing about speed. The machine's load is printed with the
numbers, since other processes on a shared box move them.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
LOG = REPO / "examples" / "demo-month.jsonl"

try:
    import tierrules
except ImportError:  # not installed: the source tree next to this script
    sys.path.insert(0, str(REPO / "src"))
    import tierrules
from tierrules.reporting import demo, from_decisions  # noqa: E402


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def _cli(argv: list[str], runs: int) -> float:
    env = dict(os.environ, PYTHONPATH=str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "tierrules", *argv], check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _stages(log: Path) -> dict[str, float]:
    from tierrules.reporting.csvfile import write_csv
    from tierrules.reporting.html import render_html
    from tierrules.reporting.table import write_table

    out: dict[str, float] = {}
    out["read"], cases = _timed(lambda: tierrules.read_cases(log))
    engine = tierrules.Engine(tierrules.load_ruleset())
    out["evaluate"], decisions = _timed(
        lambda: [engine.evaluate(c.events, c.now).to_json(indent=None) for c in cases]
    )
    out["count"], report = _timed(lambda: from_decisions(cases, decisions, by=["team"]))
    out["table"], _ = _timed(lambda: write_table(report, io.StringIO()))
    out["csv"], _ = _timed(lambda: write_csv(report, io.StringIO()))
    out["json"], _ = _timed(report.to_json)
    out["html"], _ = _timed(lambda: render_html(report))
    out["cases"] = len(cases)
    return out


def _dask(scale: float, workers: int) -> dict[str, float]:
    cases = demo.cases(seed=demo.DEFAULT_SEED, scale=scale)
    serial, one = _timed(lambda: tierrules.report(cases, workers=0))
    parallel, other = _timed(lambda: tierrules.report(cases, workers=workers))
    assert one == other, "a Dask report differs from the in-process one"
    return {"scale": scale, "cases": len(cases), "in_process": serial, "dask": parallel}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="CLI runs per command (median)")
    parser.add_argument("--scales", default="1,4", help="demo volumes for the Dask comparison")
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "report.json")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    results: dict[str, Any] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_before": round(load, 2),
        "tierrules": tierrules.__version__,
    }
    with tempfile.TemporaryDirectory() as tmp:
        html = Path(tmp) / "report.html"
        results["cli"] = {
            "table": _cli(["report", str(LOG)], args.runs),
            "table + html by team": _cli(["report", str(LOG), "--by", "team", "-o", str(html)], args.runs),
        }
    results["stages"] = _stages(LOG)
    results["dask"] = [_dask(float(s), args.workers) for s in args.scales.split(",")]
    results["load_after"] = round(os.getloadavg()[0], 2)

    load = f"load {results['load_before']} -> {results['load_after']}"
    print(f"Python {results['python']}, {results['cpus']} CPUs, {load}")
    print(f"\nCLI on {LOG.name} ({results['stages']['cases']:.0f} cases), median of {args.runs}:")
    for name, seconds in results["cli"].items():
        print(f"  {name:<24} {seconds:7.2f} s")
    print("\nStages in one process:")
    for name, seconds in results["stages"].items():
        if name != "cases":
            print(f"  {name:<24} {seconds:7.2f} s")
    print(f"\nIn process vs Dask ({args.workers} workers, cluster start-up included):")
    for row in results["dask"]:
        print(
            f"  {row['cases']:>7,} cases   in process {row['in_process']:7.2f} s   Dask {row['dask']:7.2f} s"
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
