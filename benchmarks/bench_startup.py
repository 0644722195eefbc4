"""Start-up cost: ``import tierrules``, ``tierrules --help`` and the first use of the engine.

Each command runs in a fresh interpreter, ``--runs`` times after ``--warmup`` runs, one after
another; the table gives the median wall time with its quartiles and the median CPU time
(user + system, which a busy machine disturbs less than wall time), beside ``python -c
pass``, the interpreter's own floor. ``--src`` picks the source tree to measure, so two
checkouts (before and after a change) compare on the same machine in the same minute:

    python benchmarks/bench_startup.py                      # this checkout
    python benchmarks/bench_startup.py --src /tmp/old/src   # another tree
    python benchmarks/bench_startup.py --json out.json

(hyperfine, from Debian, gives the same medians: ``hyperfine -N 'python3 -m tierrules --help'``.)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

COMMANDS = {
    "python -c pass": ["-c", "pass"],
    "import tierrules": ["-c", "import tierrules"],
    "tierrules --help": ["-m", "tierrules", "--help"],
    "tierrules --version": ["-m", "tierrules", "--version"],
    "import + Engine()": ["-c", "import tierrules; tierrules.Engine()"],
}


def _once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run (CPU from the child's own rusage)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    if proc.stderr:
        proc.stderr.close()
    return wall, usage.ru_utime + usage.ru_stime


def _modules(env: dict[str, str]) -> dict[str, int]:
    code = (
        "import sys; n = len(sys.modules); import tierrules; "
        "print(len(sys.modules) - n, sum(m.startswith('tierrules.') for m in sys.modules), "
        "int('pydantic' in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    added, ours, pydantic = (int(x) for x in out.stdout.split())
    return {"modules_added": added, "tierrules_submodules": ours, "pydantic_imported": pydantic}


def measure(src: Path, runs: int, warmup: int) -> dict[str, dict[str, float]]:
    """Per command: median, quartiles and median CPU time, in seconds."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    results: dict[str, dict[str, float]] = {}
    for name, args in COMMANDS.items():
        argv = [sys.executable, *args]
        for _ in range(warmup):
            _once(argv, env)
        samples = [_once(argv, env) for _ in range(runs)]
        walls = sorted(w for w, _ in samples)
        q1, median, q3 = statistics.quantiles(walls, n=4)
        results[name] = {
            "median_s": median,
            "q1_s": q1,
            "q3_s": q3,
            "cpu_median_s": statistics.median(c for _, c in samples),
            "runs": runs,
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="source tree (default: this checkout)")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    src = args.src.resolve()
    load = os.getloadavg()[0]
    results = measure(src, args.runs, args.warmup)
    modules = _modules({**os.environ, "PYTHONPATH": str(src)})
    print(f"{src}: {args.runs} runs each, {os.cpu_count()} CPUs, load {load:.2f} before")
    print(f"{'command':<22}{'median':>10}{'q1':>10}{'q3':>10}{'cpu':>10}")
    for name, r in results.items():
        print(
            f"{name:<22}{r['median_s'] * 1000:>8.0f}ms{r['q1_s'] * 1000:>8.0f}ms"
            f"{r['q3_s'] * 1000:>8.0f}ms{r['cpu_median_s'] * 1000:>8.0f}ms"
        )
    print("import tierrules:", modules)
    if args.json:
        data = {"src": str(src), "load_before": load, "commands": results, "import": modules}
        args.json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
