"""Fuzz: raw JSON events through the API and the CLI give a decision or a located EventError.

Bounded for CI (``TIERRULES_FUZZ_EXAMPLES`` scales the number of examples, default 1;
``derandomize`` keeps CI runs reproducible; run with ``TIERRULES_FUZZ_EXAMPLES=20`` and
``TIERRULES_FUZZ_RANDOM=1`` to search further). See docs/reliability.md.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tierrules
from tests.fuzz.outcomes import check_cli, check_decision, check_event_error
from tests.fuzz.strategies import event_files, mutated_events
from tests.support.cli import run_cli

SCALE = float(os.environ.get("TIERRULES_FUZZ_EXAMPLES", "1"))
RANDOM = bool(os.environ.get("TIERRULES_FUZZ_RANDOM"))


def fuzz(examples: int) -> Any:
    return settings(
        max_examples=max(1, int(examples * SCALE)),
        deadline=None,
        derandomize=not RANDOM,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


ENGINE = tierrules.Engine()
NOWS = st.one_of(
    st.just(None),
    st.sampled_from(
        [
            dt.datetime(1, 1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=5))),
            dt.datetime(9999, 12, 31, 23, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
            dt.datetime(2199, 12, 31, 23, tzinfo=dt.timezone.utc),
            dt.datetime(2026, 11, 24, 12),  # naive
        ]
    ),
)


@fuzz(300)
@given(mutated_events(), NOWS)
def test_api(case: tuple[list[Any], dt.datetime], other_now: dt.datetime | None) -> None:
    events, now = case
    try:
        decision = ENGINE.evaluate(events, other_now or now)
    except tierrules.TierrulesError as err:
        check_event_error(err)
    else:
        check_decision(decision)


@fuzz(40)
@given(event_files())
def test_cli(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "events.jsonl"
        path.write_bytes(data)
        proc = run_cli("evaluate", str(path), "--now", "2026-12-31T00:00:00+08:00", "--compact", timeout=120)
    check_cli(proc, located=(str(path), "$"))


@fuzz(10)
@given(event_files())
def test_cli_stdin(data: bytes) -> None:
    proc = run_cli(
        "evaluate", "-", "--now", "2026-12-31T00:00:00+08:00", "--compact", stdin=data, timeout=120
    )
    check_cli(proc, located=("<stdin>", "$"))
