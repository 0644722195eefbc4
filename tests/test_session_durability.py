"""Crash safety (issue 13): a writer killed with SIGKILL in the middle of appends loses no acknowledged event.

A child process appends events to a store as fast as it can and prints each one after
``append`` returned (its acknowledgement); the test kills it with SIGKILL at an arbitrary
moment, reopens the store and checks that every acknowledged event is there, that what is
stored is exactly the first events the child sent (the acknowledged ones, perhaps with
the one in flight), and that every decision is evaluate()'s. A second child then
re-delivers the last events, as a host does after a crash: they come back as duplicates
and nothing is stored twice.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import tierrules

from .support.streams import case_history

SRC = str(Path(tierrules.__file__).resolve().parent.parent)

# Child processes and storage, not matching: the default-matcher run of tests/run.sh is enough.
pytestmark = pytest.mark.slow
CASES = ("k0", "k1", "k2", "k3")

# The writer's events, shared by the child (which sends them) and the test (which checks them).
_EVENTS = r"""
import datetime as dt

def event(i):
    base = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    case = f"k{i % 4}"
    at = (base + dt.timedelta(seconds=7 * i)).isoformat()
    if i < 4:
        return {"type": "case_opened", "at": at, "case_id": case, "channel": "phone", "id": f"e{i}",
                "customer_id": "X"}
    if i % 9 == 0:
        return {"type": "complaint_registered", "at": at, "case_id": case, "id": f"e{i}"}
    if i % 13 == 0:
        return {"type": "customer_profile", "at": at, "customer_id": "X", "id": f"e{i}",
                "spend_12m": 1000 * i, "visits_12m": i % 30, "tenure_months": 12}
    return {"type": "utterance", "at": at, "case_id": case, "speaker": "agent" if i % 2 else "customer",
            "text": f"第{i}句，您好", "id": f"e{i}"}
"""

_WRITER = (
    _EVENTS
    + r"""
import json, sys
import tierrules

kind, target, start = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = tierrules.SqliteStore(target) if kind == "sqlite" else tierrules.PostgresStore(target)
session = tierrules.Session(tierrules.Engine(), store=store)
i = start
while True:
    update = session.append(event(i), now=None)
    print(json.dumps({"i": i, "duplicate": update.duplicate}), flush=True)
    i += 1
"""
)

_NS: dict[str, Any] = {}
exec(_EVENTS, _NS)
event = _NS["event"]


def _run_writer(
    kind: str, target: str, start: int, acks_wanted: int, timeout: float = 120.0
) -> list[dict[str, Any]]:
    """Start a writer, read ``acks_wanted`` acknowledgements, SIGKILL it; returns every ack it printed."""
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, kind, target, str(start)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    watchdog = threading.Timer(timeout, proc.kill)  # the time bound: a stuck writer fails the test
    watchdog.start()
    acks: list[dict[str, Any]] = []
    try:
        assert proc.stdout is not None
        while len(acks) < acks_wanted:
            line = proc.stdout.readline()
            if not line:
                break
            acks.append(json.loads(line))
        time.sleep(0.001 * (start % 5))  # somewhere inside a later append
        proc.send_signal(signal.SIGKILL)
        rest, err = proc.communicate(timeout=30)
    finally:
        watchdog.cancel()
        proc.kill()
    acks += [json.loads(line) for line in rest.splitlines() if line.strip()]  # acked before the kill
    assert proc.returncode == -signal.SIGKILL, f"writer ended otherwise ({proc.returncode}): {err}"
    assert len(acks) >= acks_wanted, f"writer acknowledged only {len(acks)} events: {err}"
    return acks


def _stored_ids(session: tierrules.Session) -> list[int]:
    events = [e for case in CASES for e in session.events(case)] + session.customer_events("X")
    numbers = sorted(int(str(e.id)[1:]) for e in events)
    assert len(numbers) == len(set(numbers)), "an event was stored twice"
    return numbers


def _check(store: tierrules.Store, acked: set[int]) -> int:
    """What is stored is events 0..n (every acked one, perhaps one more); decisions are evaluate()'s."""
    engine = tierrules.Engine()
    session = tierrules.Session(engine, store=store)
    stored = _stored_ids(session)
    assert acked <= set(stored), f"acknowledged but lost: {sorted(acked - set(stored))}"
    assert stored == list(range(len(stored))), "not a prefix of what was sent"
    assert len(stored) - 1 <= max(acked) + 1, "more than the one append in flight"
    stream = [event(i) for i in stored]
    now = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    for case in CASES:
        assert (
            session.decision(case, now).to_json()
            == engine.evaluate(case_history(stream, case), now).to_json()
        )
    return len(stored) - 1


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_sigkill_mid_append_loses_no_acknowledged_event(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    target = str(tmp_path / "cases.db") if kind == "sqlite" else request.getfixturevalue("postgres_db")

    def reopen() -> tierrules.Store:
        return tierrules.SqliteStore(target) if kind == "sqlite" else tierrules.PostgresStore(target)

    acks = _run_writer(kind, target, 0, 60)
    assert [a["i"] for a in acks] == list(range(len(acks))) and not any(a["duplicate"] for a in acks)
    with reopen() as store:
        highest = _check(store, {a["i"] for a in acks})
    # The host re-delivers what it sent last (ten acked, perhaps one in flight), then carries on.
    start = len(acks) - 10
    again = _run_writer(kind, target, start, 25)
    assert [a["duplicate"] for a in again if a["i"] <= highest] == [True] * (highest - start + 1)
    assert not any(a["duplicate"] for a in again if a["i"] > highest)
    with reopen() as store:
        _check(store, {a["i"] for a in acks + again})
