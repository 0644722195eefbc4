#!/usr/bin/env python3
"""CPU time of ``evaluate()`` in two source trees, in alternating fresh processes.

For a quick "did this change slow anything down" on a shared machine: each round runs tree A
then tree B (B then A on odd rounds), each in its own interpreter, on the same seeded
workload -- generated 10-event cases (``bench_evaluate.make_case``) and the bundled example
call -- and reports per-tree medians of process CPU time, which a busy machine disturbs
less than wall time::

    python benchmarks/bench_ab.py /tmp/before/src src --rounds 8
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = r"""
import datetime as dt, json, random, sys, time
sys.path.insert(0, sys.argv[1]); sys.path.insert(1, sys.argv[2])
import tierrules, bench_evaluate as be
engine = tierrules.Engine(tierrules.load_ruleset())
rng = random.Random(7)
cases = [be.make_case(rng, f"c{i}", 10) for i in range(1500)]
call = [json.loads(line) for line in open(sys.argv[3], encoding="utf-8")]
now = max(dt.datetime.fromisoformat(e["at"]) for e in call) + dt.timedelta(minutes=40)
for events, at in cases[:200]:
    engine.evaluate(events, at)
t = time.process_time()
for events, at in cases:
    engine.evaluate(events, at)
generated = (time.process_time() - t) / len(cases) * 1e6
for _ in range(200):
    engine.evaluate(call, now)
t = time.process_time()
for _ in range(2000):
    engine.evaluate(call, now)
example = (time.process_time() - t) / 2000 * 1e6
print(json.dumps({"generated_us": generated, "example_call_us": example}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path, help="tree A's src directory")
    parser.add_argument("b", type=Path, help="tree B's src directory")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--call", type=Path, default=HERE.parent / "examples" / "call-simplified.jsonl")
    args = parser.parse_args()
    runs: dict[str, list[dict[str, float]]] = {"A": [], "B": []}
    for r in range(args.rounds):
        order = [("A", args.a), ("B", args.b)] if r % 2 == 0 else [("B", args.b), ("A", args.a)]
        for name, src in order:
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(src.resolve()), str(HERE), str(args.call.resolve())],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            runs[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
    for key in ("generated_us", "example_call_us"):
        a = statistics.median(run[key] for run in runs["A"])
        b = statistics.median(run[key] for run in runs["B"])
        print(f"{key}: A {a:,.0f} µs  B {b:,.0f} µs  B/A {b / a:.2f}  (medians of {args.rounds})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
