#!/usr/bin/env python3
"""What a long-running process keeps when it reloads a ruleset again and again.

Run from a clone::

    python benchmarks/bench_reload.py                          # 1,000 reloads of each kind
    python benchmarks/bench_reload.py --reloads 200 --kinds threshold --json /tmp/reload.json

Each reload loads the default ruleset from plain data (``load_ruleset(mapping)``) with one
edit, builds an ``Engine``, evaluates one case, and drops the engine; RSS (``/proc``) is
sampled after a ``gc.collect()`` every ``--every`` reloads. Kinds of edit:

- ``unchanged``: the same ruleset every time;
- ``target``: a deadline target changes (the rule engine's definition does not);
- ``threshold``: a tier threshold changes (a new rule-engine ruleset every time);
- ``condition``: a deadline's trigger condition changes (a new case ruleset every time).

Each kind runs in its own child process, so one does not inherit another's memory.
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
KINDS = ("unchanged", "target", "threshold", "condition")


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _edit(base: dict[str, Any], kind: str, i: int) -> dict[str, Any]:
    data = copy.deepcopy(base)
    if kind == "target":
        rule = next(r for r in data["deadlines"] if r["id"] == "E2.complaint-reply")
        rule["within"] = f"{30 + i} working minutes"
    elif kind == "threshold":
        diamond = next(t for t in data["tiers"]["thresholds"] if t["tier"] == "diamond")
        diamond["min"]["spend_12m"] = 1_000_000 + i
    elif kind == "condition":
        rule = next(r for r in data["deadlines"] if r["id"] == "E1.escalate")
        rule["start"]["when"] = {"agent_level": [*range(1, 2 + i % 500), 1000 + i]}
    return data


def child(kind: str, reloads: int, every: int) -> None:
    sys.path.insert(0, str(REPO / "src"))
    import datetime as dt

    import tierrules
    from tierrules.ruleset.reader import read_ruleset_files

    base, _ = read_ruleset_files(tierrules.default_ruleset_path())
    now = dt.datetime.fromisoformat("2026-11-24T12:00:00+08:00")
    events = [
        {"type": "complaint_registered", "at": "2026-11-24T10:00:00+08:00", "case_id": "c"},
        {
            "type": "customer_profile",
            "at": "2026-11-01T10:00:00+08:00",
            "customer_id": "C",
            "spend_12m": 5,
            "visits_12m": 1,
            "tenure_months": 1,
        },
    ]
    samples = []
    started = time.perf_counter()
    for i in range(reloads + 1):
        if i % every == 0:
            gc.collect()
            samples.append(
                {
                    "reloads": i,
                    "rss_mb": round(_rss_mb(), 1),
                    "seconds": round(time.perf_counter() - started, 2),
                }
            )
        if i == reloads:
            break
        engine = tierrules.Engine(tierrules.load_ruleset(_edit(base, kind, i)))
        engine.evaluate(events, now)
        del engine
    first, last = samples[0], samples[-1]
    print(
        json.dumps(
            {
                "kind": kind,
                "reloads": reloads,
                "rss_first_mb": first["rss_mb"],
                "rss_last_mb": last["rss_mb"],
                "kept_per_reload_kb": round(
                    (last["rss_mb"] - samples[1]["rss_mb"]) * 1024 / max(1, reloads - every), 1
                ),
                "ms_per_reload": round(last["seconds"] * 1000 / reloads, 1),
                "samples": samples,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reloads", type=int, default=1000)
    parser.add_argument("--every", type=int, default=100)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "reload.json")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.reloads, args.every)
        return
    results = []
    header = ("kind", "reloads", "RSS first MB", "RSS last MB", "KB kept/reload", "ms/reload")
    print(" ".join(f"{h:>14}" for h in header))
    for kind in args.kinds.split(","):
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                kind,
                "--reloads",
                str(args.reloads),
                "--every",
                str(args.every),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        row = json.loads(out.stdout.splitlines()[-1])
        results.append(row)
        print(
            f"{kind:>10} {row['reloads']:>8} {row['rss_first_mb']:>13} {row['rss_last_mb']:>12} "
            f"{row['kept_per_reload_kb']:>15} {row['ms_per_reload']:>10}",
            flush=True,
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"loadavg": os.getloadavg(), "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
