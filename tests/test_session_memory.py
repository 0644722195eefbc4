"""A session's memory is bounded by its cache, not by how many cases are open (issue 13).

Two child processes each open 4,000 cases (each naming its own customer) through a
session on a SQLite store and report their resident memory (VmRSS) after 1,000 and after
4,000 cases: one with a cache of 200 cases, whose memory must stay flat, and one whose
cache holds every case, which shows that the measurement does see memos pile up. The
100,000-case run is in benchmarks/bench_session.py (docs/performance.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import tierrules

SRC = str(Path(tierrules.__file__).resolve().parent.parent)

# Child processes and storage, not matching: the default-matcher run of tests/run.sh is enough.
pytestmark = pytest.mark.slow

_CHILD = r"""
import datetime as dt, gc, json, sys
import tierrules

def rss_mb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024

path, cap = sys.argv[1], int(sys.argv[2])
session = tierrules.Session(tierrules.Engine(matcher="python"),
                            store=tierrules.SqliteStore(path, synchronous="normal"), cache_size=cap)
base = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
marks = {}
for i in range(4000):
    at = (base + dt.timedelta(seconds=i)).isoformat()
    session.append({"type": "case_opened", "at": at, "case_id": f"case-{i}", "channel": "phone",
                    "customer_id": f"cu-{i}"}, now=None)
    if i + 1 in (1000, 4000):
        gc.collect()
        marks[i + 1] = rss_mb()
print(json.dumps({"marks": marks, "cache": session.cache_info()}))
"""


def test_memory_stays_flat_with_many_open_cases(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    runs = {
        cap: subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(tmp_path / f"cases-{cap}.db"), str(cap)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for cap in (200, 1_000_000)
    }
    results = {}
    for cap, proc in runs.items():
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        results[cap] = json.loads(out)
    capped, uncapped = results[200], results[1_000_000]
    assert capped["cache"] == {"cases": 200, "customers": 200, "cap": 200}
    growth = capped["marks"]["4000"] - capped["marks"]["1000"]
    assert growth < 4.0, f"RSS grew {growth:.1f} MB over 3,000 more open cases with a 200-case cache"
    seen = uncapped["marks"]["4000"] - uncapped["marks"]["1000"]
    assert seen > 2 * growth + 4.0, f"uncapped grew only {seen:.1f} MB: the measurement cannot tell"
