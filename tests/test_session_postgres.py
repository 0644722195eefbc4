"""Two processes appending to one case through PostgreSQL are serialised (issue 13).

Both writers start at the same moment and append agent utterances (each with a forbidden
phrase, so each adds a violation) to the same case. The row lock on the case makes the
appends run one after another: the case's arrival numbers are 1..n without gaps or
repeats, every update's decision is evaluate() over exactly the events before it in the
stored order, and every forbidden phrase is reported as new exactly once across both processes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import tierrules

SRC = str(Path(tierrules.__file__).resolve().parent.parent)

# Child processes and storage, not matching: the default-matcher run of tests/run.sh is enough.
pytestmark = pytest.mark.slow
BASE = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
NOW = BASE + dt.timedelta(hours=2)
PER_WRITER = 30

_WRITER = r"""
import datetime as dt, hashlib, json, sys
import tierrules

dsn, name, count, now = sys.argv[1], sys.argv[2], int(sys.argv[3]), dt.datetime.fromisoformat(sys.argv[4])
session = tierrules.Session(tierrules.Engine(), store=tierrules.PostgresStore(dsn))
base = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
offset = 0 if name == "a" else 1
print("ready", flush=True)
sys.stdin.readline()  # go
for i in range(count):
    event = {"type": "utterance", "at": (base + dt.timedelta(seconds=2 * i + offset + 10)).isoformat(),
             "case_id": "K", "speaker": "agent", "text": f"{name}{i}：我不知道", "id": f"{name}{i}"}
    update = session.append(event, now=now)
    print(json.dumps({
        "id": event["id"], "seq": update.seq,
        "sha": hashlib.sha256(update.decision.to_json().encode()).hexdigest(),
        "new": [v.evidence.text + "@" + v.at.isoformat() for v in update.new.violations
                if v.rule == "Q5.forbidden-phrases"],
    }), flush=True)
"""


def _writers(dsn: str) -> list[list[dict[str, Any]]]:
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, dsn, name, str(PER_WRITER), NOW.isoformat()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for name in ("a", "b")
    ]
    try:
        for proc in procs:  # both have built their engine and connected
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        outputs = [proc.communicate(timeout=300) for proc in procs]
    finally:
        for proc in procs:
            proc.kill()
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    return [[json.loads(line) for line in out.splitlines()] for out, _ in outputs]


def test_two_processes_appending_to_one_case_are_serialised(postgres_db: str) -> None:
    engine = tierrules.Engine()
    with tierrules.PostgresStore(postgres_db) as store:
        opened = {
            "type": "case_opened",
            "at": BASE.isoformat(),
            "case_id": "K",
            "channel": "phone",
            "id": "open",
        }
        tierrules.Session(engine, store=store).append(opened, now=NOW)
    a, b = _writers(postgres_db)
    with tierrules.PostgresStore(postgres_db) as store:
        stored = tierrules.Session(engine, store=store).events("K")
    assert len(stored) == 1 + 2 * PER_WRITER
    assert sorted(u["seq"] for u in a + b) == list(range(2, 2 + 2 * PER_WRITER))  # no gap, no repeat
    order = [e.id for e in stored]
    assert all(order[u["seq"] - 1] == u["id"] for u in a + b)  # each was stored where its update says
    by_seq = sorted(a + b, key=lambda u: u["seq"])
    assert len({u["id"][0] for u in by_seq[:PER_WRITER]}) == 2, "the writers did not overlap"
    for update in by_seq:
        expected = engine.evaluate(stored[: update["seq"]], NOW).to_json()
        assert update["sha"] == hashlib.sha256(expected.encode()).hexdigest(), update
    reported = [key for u in a + b for key in u["new"]]
    assert len(reported) == len(set(reported)) == 2 * PER_WRITER  # each phrase reported once
