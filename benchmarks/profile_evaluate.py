#!/usr/bin/env python3
"""Profile ``Engine.evaluate()`` with cProfile on the benchmark's generated cases.

    python benchmarks/profile_evaluate.py               # 5,000 ten-event cases
    python benchmarks/profile_evaluate.py --cases 20000 --top 20 --all

Prints the functions with the largest cumulative time: by default only those defined in
the tierrules package (``--all`` for every function), then the largest own ("tottime")
costs of every function, which shows the library code (pydantic, dateutil, durable) that
tierrules' calls end up in. Profiling slows Python code down several times, C code much
less: use the shares, not the absolute times, and bench_evaluate.py for the speed.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_evaluate as bench

import tierrules


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=5_000, help="ten-event cases (default %(default)s)")
    parser.add_argument("--events", type=int, default=10, help="events per case (default %(default)s)")
    parser.add_argument("--top", type=int, default=10, help="rows per table (default %(default)s)")
    parser.add_argument(
        "--all", action="store_true", help="cumulative table over all functions, not only tierrules'"
    )
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--out", type=Path, default=None, help="also save the raw profile (pstats format)")
    args = parser.parse_args(argv)

    engine = tierrules.Engine(tierrules.load_ruleset())
    work = list(bench.cases(args.seed, args.cases, args.events))
    for events, now in work[:200]:  # warm-up: imports, calendar caches
        engine.evaluate(events, now)

    profiler = cProfile.Profile()
    profiler.enable()
    for events, now in work:
        engine.evaluate(events, now)
    profiler.disable()
    if args.out:
        profiler.dump_stats(str(args.out))

    package = str(Path(tierrules.__file__).resolve().parent)
    stats = pstats.Stats(profiler, stream=io.StringIO())
    total = max(stats.total_tt, 1e-12)  # type: ignore[attr-defined]
    rows = []
    for (filename, line, name), (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if args.all or filename.startswith(package):
            where = f"{Path(filename).name}:{line}" if filename.startswith(package) else f"{filename}:{line}"
            rows.append((cumtime, tottime, ncalls, f"{where}({name})"))

    print(f"cProfile of {args.cases:,} cases x {args.events} events; profiled total {total:.2f} s")
    scope = "all functions" if args.all else f"functions in {package}"
    print(f"\ntop {args.top} by cumulative time, {scope}")
    print(f"  {'cum s':>7} {'cum %':>6} {'own s':>7} {'calls':>9}  function")
    for cumtime, tottime, ncalls, label in sorted(rows, reverse=True)[: args.top]:
        print(f"  {cumtime:>7.2f} {cumtime / total:>6.1%} {tottime:>7.2f} {ncalls:>9,}  {label}")

    print(f"\ntop {args.top} by own time, all functions")
    print(f"  {'own s':>7} {'own %':>6} {'calls':>9}  function")
    own = sorted(
        ((tt, nc, fn, ln, nm) for (fn, ln, nm), (_cc, nc, tt, _ct, _cl) in stats.stats.items()),  # type: ignore[attr-defined]
        reverse=True,
    )
    for tottime, ncalls, filename, line, name in own[: args.top]:
        short = f"{Path(filename).name}:{line}" if filename.startswith(package) else f"{filename}:{line}"
        print(f"  {tottime:>7.2f} {tottime / total:>6.1%} {ncalls:>9,}  {short}({name})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
