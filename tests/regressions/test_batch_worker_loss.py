"""A batch survives losing its Dask workers, with output identical to a serial run.

Reported by an operator (issue 14): killing the only Dask worker, or all of them, lost the
whole batch in 11 of 11 runs (exit 1, a raw ``FutureCancelledError``, no output): the
ruleset had been scattered to the workers, and the future holding it died with them. Each
task now carries the ruleset as data, lost pieces are submitted again (split case by case
after a second loss, so a case that kills workers fails alone), and a batch that cannot
finish raises ``BatchError`` keeping every computed result (the CLI writes those lines and
exits 1). Workers are killed for real (SIGKILL), in child processes with a time bound.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

import tierrules
from tests.support.cli import child_env, run_cli
from tierrules.testing import generate_cases

DRIVER = Path(__file__).resolve().parents[1] / "batch_drivers" / "worker_loss.py"

pytestmark = pytest.mark.slow  # starts Dask clusters and kills their workers: ~2 minutes


def scenario(name: str, cases: int, timeout: float = 300) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(DRIVER), name, str(cases)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_env(),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result: dict[str, Any] = json.loads(proc.stdout.splitlines()[-1])
    return result


@pytest.mark.parametrize("name", ["only", "all"])
def test_killed_workers_are_replaced_and_the_output_is_the_serial_one(name: str) -> None:
    result = scenario(name, 200)
    assert result["identical"], result
    assert result["killed"] >= 2
    assert result["progress_first"] == [0, 200] and result["progress_last"] == [200, 200]
    assert result["progress_monotone"]


def test_a_cluster_that_loses_every_worker_for_good_keeps_what_was_computed() -> None:
    result = scenario("gone", 200)
    assert result["raised"] == "BatchError", result
    assert result["kept"] >= 20 and result["kept_identical"]
    assert result["kept"] + result["missing"] == result["total"]
    assert "no worker" in result["message"]


def test_a_case_that_kills_every_worker_fails_alone() -> None:
    result = scenario("poison", 200)
    assert result["raised"] == "BatchError", result
    assert "poison" in result["missing"] and len(result["missing"]) <= 10  # at most its chunk
    assert result["kept_identical"] and result["kept"] == 201 - len(result["missing"])


def _kill_workers_of(pid: int, cpu: float, killed: list[int]) -> None:
    """Kill the Dask worker processes under ``pid`` once each has used ``cpu`` seconds (started,
    built its engine and is evaluating)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            children = psutil.Process(pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return
        try:
            workers = [p for p in children if any("spawn_main" in part for part in p.cmdline())]
            ready = len(workers) >= 2 and all(p.cpu_times().user > cpu for p in workers)
        except psutil.Error:  # a process ended while we looked
            continue
        if ready:
            for worker in workers:
                os.kill(worker.pid, signal.SIGKILL)
                killed.append(worker.pid)
            return
        time.sleep(0.05)


def test_cli_batch_survives_its_workers_being_killed(tmp_path: Path) -> None:
    ruleset = tierrules.load_ruleset()
    log = tmp_path / "cases.jsonl"
    with log.open("w", encoding="utf-8") as handle:
        for i, (events, now) in enumerate(generate_cases(ruleset, 3000, seed=8)):
            handle.write(json.dumps({"name": f"c{i}", "now": now.isoformat(), "events": events}) + "\n")
    serial = run_cli("evaluate", "--batch", str(log), "--workers", "0", timeout=300)
    assert serial.returncode == 0, serial.stderr
    proc = subprocess.Popen(
        [sys.executable, "-m", "tierrules", "evaluate", "--batch", str(log), "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    killed: list[int] = []
    killer = threading.Thread(target=_kill_workers_of, args=(proc.pid, 3.0, killed))
    killer.start()
    out, err = proc.communicate(timeout=300)
    killer.join()
    assert len(killed) >= 2, "the workers were not found to be killed"
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in err
    assert out == serial.stdout
