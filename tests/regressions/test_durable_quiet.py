"""durable_rules prints nothing: its tracebacks are silenced (the fence reports them as EngineError).

Reported by an operator (issue 14): when an action failed inside durable_rules (as Ctrl-C
did), durable_rules logged a traceback to stderr through logging's last-resort handler, on
top of the EngineError tierrules raised. Here a real failure is injected into durable_rules'
own action bookkeeping (``update_state`` raising once) in a child process: the evaluation
raises EngineError, nothing is printed, and the next evaluation decides normally.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import child_env

pytestmark = pytest.mark.durable

SCRIPT = """
import datetime as dt, json, tierrules
import durable_rules_engine
import durable.engine

engine = tierrules.Engine(matcher="durable")
now = dt.datetime.fromisoformat("2026-11-24T12:00:00+08:00")
events = [{"type": "complaint_registered", "at": "2026-11-24T10:00:00+08:00", "case_id": "c"}]
reference = engine.evaluate(events, now).to_json()
real = durable_rules_engine.update_state
calls = []

def failing(*args):
    calls.append(1)
    raise RuntimeError("injected failure")

durable.engine.durable_rules_engine.update_state = failing
try:
    engine.evaluate(events, now)
    outcome = "decided"
except tierrules.EngineError as err:
    outcome = "EngineError"
durable.engine.durable_rules_engine.update_state = real
after = engine.evaluate(events, now).to_json() == reference
print(json.dumps({"outcome": outcome, "calls": len(calls), "after": after}))
"""


def test_an_action_failure_inside_durable_rules_prints_nothing(tmp_path: Path) -> None:
    script = tmp_path / "inject.py"
    script.write_text(SCRIPT, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        env=child_env(),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.splitlines()[-1])
    assert result == {"outcome": "EngineError", "calls": 1, "after": True}
    assert proc.stderr == ""
