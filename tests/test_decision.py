"""Decisions are built without re-validation on the hot path; these tests keep that honest."""

from __future__ import annotations

import pytest

import tierrules
from tierrules import testing
from tierrules.decision import Decision, Obligation

RULESET = tierrules.load_ruleset()
ENGINE = tierrules.Engine(RULESET)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_decision_revalidates_to_itself(seed: int) -> None:
    checked = 0
    for events, now in testing.generate_cases(RULESET, 150, seed=seed):
        decision = ENGINE.evaluate(events, now)
        again = Decision.model_validate(decision.model_dump())
        assert again == decision
        assert again.to_json() == decision.to_json()
        checked += len(decision.obligations) + len(decision.warnings) + len(decision.escalations)
    assert checked > 500  # the cases exercised the trusted constructors


def test_trusted_parts_fill_defaults_and_stay_frozen() -> None:
    import datetime as dt

    at = dt.datetime(2026, 11, 24, 10, tzinfo=dt.timezone.utc)
    fields = {"id": "c1/E2/1", "rule": "E2", "source": "E2", "case_id": "c1"}
    fields |= {"started_at": at, "due_at": at, "status": "pending"}
    part = Obligation._trusted(dict(fields))
    assert part == Obligation(**fields)
    assert part.paused_for == dt.timedelta(0) and part.changes == [] and part.met_at is None
    with pytest.raises(Exception, match="frozen"):
        part.status = "met"  # type: ignore[misc]


def test_decisions_do_not_depend_on_the_machine_time_zone() -> None:
    """Same events and now give the same bytes whatever TZ the host process runs in."""
    import os
    import subprocess
    import sys

    script = (
        "import hashlib, tierrules\n"
        "from tierrules import testing\n"
        "rs = tierrules.load_ruleset(); e = tierrules.Engine(rs)\n"
        "out = [e.evaluate(ev, now).to_json() for ev, now in testing.generate_cases(rs, 120, seed=9)]\n"
        "print(hashlib.sha256(''.join(out).encode()).hexdigest())\n"
    )
    digests = set()
    for zone in ("UTC", "America/New_York", "Asia/Kolkata"):
        env = {**os.environ, "TZ": zone}
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True, timeout=300
        )
        digests.add(done.stdout.strip())
    assert len(digests) == 1
