"""Ctrl-C during evaluate() is a KeyboardInterrupt, and the engine is usable afterwards.

Reported by an operator (issue 14): in 21 of 200 real SIGINTs during ``evaluate()`` the
interrupt surfaced as an ``EngineError``, and some vanished altogether: durable_rules' own
``Promise.run`` catches BaseException around an action and turns it into session state,
and the fence's actions caught BaseException too (durable_rules also logged tracebacks to
stderr). The fence now hands durable_rules actions of its own (``_FenceAction``) that keep
an interrupt and re-raise it once the call is over; opening and deleting a session defer
SIGINT/SIGTERM so the session bookkeeping stays exact. Real signals are sent to a child
process, each after the previous one was handled, within a time bound
(``TIERRULES_INTERRUPT_ROUNDS`` raises the count; 600 x 4 runs passed during development).
"""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import pytest

from tests.support.cli import child_env

DRIVER = Path(__file__).resolve().parents[1] / "durable_drivers" / "interrupt.py"
ROUNDS = int(os.environ.get("TIERRULES_INTERRUPT_ROUNDS", "200"))

pytestmark = pytest.mark.durable


def _lines(stream: IO[str]) -> queue.Queue[str]:
    """The lines of ``stream`` as they come, read by a thread (so waiting can time out)."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in stream:
            lines.put(line.strip())
        lines.put("")  # end of output

    threading.Thread(target=read, daemon=True).start()
    return lines


def test_sigint_during_evaluate_is_a_keyboard_interrupt() -> None:
    rng = random.Random(14)
    proc = subprocess.Popen(
        [sys.executable, str(DRIVER), str(ROUNDS)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env({"TIERRULES_MATCHER": "durable"}),
    )
    assert proc.stdout is not None and proc.stderr is not None
    lines = _lines(proc.stdout)
    swallowed = 0  # signals after which the child went on evaluating as if nothing happened
    try:
        assert lines.get(timeout=60) == "ready"
        handled = 0
        while handled < ROUNDS:
            time.sleep(rng.uniform(0.0005, 0.02))
            os.kill(proc.pid, signal.SIGINT)
            try:
                line = lines.get(timeout=5)
            except queue.Empty:
                swallowed += 1
                assert swallowed <= ROUNDS, "no signal is ever handled"
                continue
            assert line, "the child died"
            handled += 1
        summary = json.loads(lines.get(timeout=60))
        proc.wait(timeout=60)
    finally:
        proc.kill()
    stderr = proc.stderr.read()
    assert proc.returncode == 0, stderr[-3000:]
    assert swallowed == 0
    assert summary["outcomes"] == {"KeyboardInterrupt": ROUNDS}, summary
    assert summary["wrong"] == 0 and summary["usable"] and summary["live_sessions"] == 1, summary
    assert "Traceback" not in stderr and "exception" not in stderr.lower(), stderr[-3000:]


def test_signal_handlers_are_restored(tmp_path: Path) -> None:
    """The host's handlers are in place after evaluate(), and a SIGTERM handler's SystemExit propagates."""
    script = tmp_path / "host.py"
    script.write_text(
        "import datetime as dt, os, signal, sys, tierrules\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started ignoring it\n"
        "def on_term(signum, frame):\n"
        "    raise SystemExit(7)\n"
        "signal.signal(signal.SIGTERM, on_term)\n"
        "engine = tierrules.Engine(matcher='durable')\n"
        "now = dt.datetime.fromisoformat('2026-11-24T12:00:00+08:00')\n"
        "event = {'type': 'complaint_registered', 'at': '2026-11-24T10:00:00+08:00', 'case_id': 'c'}\n"
        "engine.evaluate([event], now)\n"
        "assert signal.getsignal(signal.SIGTERM) is on_term\n"
        "assert signal.getsignal(signal.SIGINT) is signal.default_int_handler\n"
        "os.kill(os.getpid(), signal.SIGTERM)\n"
        "print('not reached')\n",
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, env=child_env()
    )
    assert proc.returncode == 7, proc.stderr
    assert "not reached" not in proc.stdout
