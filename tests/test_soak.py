"""Soak: 1,000,000 events through Engine.evaluate(), RSS stays flat.

durable_rules keeps ~280 KB per live session plus every fact asserted into it; tierrules
keeps one session per ruleset and retracts each evaluation's facts, so memory must not
grow with the number of events or evaluations. Runs in a subprocess so that a crash shows
up as a signal, not as a dead test run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import tierrules

pytestmark = pytest.mark.durable

EVENTS = 1_000_000
EVENTS_PER_EVALUATION = 50  # 20,000 evaluations, each asserting and retracting 52 facts
MAX_GROWTH_KB = 30 * 1024


@pytest.mark.slow
def test_one_million_events_keep_memory_flat() -> None:
    """Defect: per-session memory — 1M events in 20,000 evaluations leave RSS flat, one session."""
    src = str(Path(tierrules.__file__).resolve().parents[1])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")])),
        "TIERRULES_MATCHER": "durable",  # the soak is about the durable_rules fence
    }
    proc = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).parent / "durable_drivers" / "soak.py"),
            str(EVENTS),
            str(EVENTS_PER_EVALUATION),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.splitlines()[-1])
    print(
        f"soak: {out['events']} events in {out['evaluations']} evaluations, {out['seconds']} s; "
        f"RSS kB at 10% {out['rss_kb_10']}, 50% {out['rss_kb_50']}, 100% {out['rss_kb_100']}"
    )
    assert out["events"] == EVENTS
    assert out["evaluations"] == EVENTS // EVENTS_PER_EVALUATION
    assert out["obligations"] == out["expected_obligations"] > 0  # no action lost
    assert out["live_sessions"] == 1  # the ruleset's one session, facts retracted after each call
    assert out["rss_kb_50"] <= out["rss_kb_10"] + MAX_GROWTH_KB, out
    assert out["rss_kb_100"] <= out["rss_kb_10"] + MAX_GROWTH_KB, out
