"""Kill Dask workers for real while a batch runs (tests/regressions/test_batch_worker_loss.py).

Run as ``python worker_loss.py SCENARIO CASES``; prints one JSON object: whether the batch
returned the serial results, what it raised, and how many workers were killed. Scenarios:

- ``only``: a local cluster of one worker; it is killed twice mid-batch (its nanny restarts it).
- ``all``: two workers, both killed mid-batch, twice.
- ``gone``: one worker without a nanny on a separate scheduler, killed mid-batch and never
  replaced: the batch must give up (``BatchError``) keeping what was computed.
- ``poison``: one case kills every worker that evaluates it: it alone is reported missing.

The batch runs in this child process so that a hang is caught by the parent's timeout.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from typing import Any

import dask.config
from distributed import Client, LocalCluster
from distributed.diagnostics.plugin import WorkerPlugin

import tierrules
from tierrules import batch
from tierrules.testing import generate_cases


def cases(count: int) -> list[tierrules.CaseRecord]:
    ruleset = tierrules.load_ruleset()
    return [
        tierrules.CaseRecord(f"case-{i}", ev, now)
        for i, (ev, now) in enumerate(generate_cases(ruleset, count, seed=5))
    ]


def serial(chosen: list[tierrules.CaseRecord]) -> list[str]:
    return [r.decision_json for r in batch.evaluate_cases(chosen, workers=0)]


class Killer:
    """A progress callback that kills every worker process when the batch reaches given points."""

    def __init__(self, client: Client, at: list[int]) -> None:
        self.client = client
        self.at = sorted(at)
        self.killed = 0
        self.calls: list[tuple[int, int]] = []

    def __call__(self, done: int, total: int) -> None:
        self.calls.append((done, total))
        if self.at and done >= self.at[0]:
            self.at.pop(0)
            for pid in self.client.run(batch._worker_pid).values():
                os.kill(pid, signal.SIGKILL)
                self.killed += 1


def run_local(chosen: list[tierrules.CaseRecord], workers: int, at: list[int]) -> dict[str, Any]:
    with batch.open_client(workers=workers) as client:
        killer = Killer(client, at)
        results = batch.evaluate_cases(chosen, client=client, chunk_size=10, progress=killer)
    monotone = all(a[0] <= b[0] for a, b in itertools.pairwise(killer.calls))
    return {
        "identical": [r.decision_json for r in results] == serial(chosen),
        "killed": killer.killed,
        "progress_first": killer.calls[0],
        "progress_last": killer.calls[-1],
        "progress_monotone": monotone,
    }


def run_gone(chosen: list[tierrules.CaseRecord]) -> dict[str, Any]:
    batch._WORKER_WAIT = 3.0
    with (
        LocalCluster(n_workers=0, processes=True, host="127.0.0.1", dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        address = cluster.scheduler_address
        worker = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--no-nanny", "--nthreads", "1"],
        )
        client.wait_for_workers(1, timeout=60)
        killer = Killer(client, [20])
        try:
            batch.evaluate_cases(chosen, client=client, chunk_size=10, progress=killer)
            return {"raised": None}
        except batch.BatchError as err:
            expected = serial(chosen)
            kept = [(i, r.decision_json) for i, r in enumerate(err.results) if r is not None]
            return {
                "raised": "BatchError",
                "message": str(err)[:300],
                "kept": len(kept),
                "kept_identical": all(expected[i] == text for i, text in kept),
                "missing": len(err.failures),
                "total": len(chosen),
            }
        finally:
            worker.kill()


class Poison(WorkerPlugin):
    """Makes every worker die when it evaluates the case named ``poison``."""

    def setup(self, worker: Any) -> None:
        real = batch._decide

        def decide(engines: Any, case: Any, limits: Any) -> list[str]:
            if case.name == "poison":
                os._exit(3)
            return real(engines, case, limits)

        batch._decide = decide  # type: ignore[assignment]


def run_poison(chosen: list[tierrules.CaseRecord]) -> dict[str, Any]:
    batch._WORKER_WAIT = 10.0  # a worker killed while its nanny restarts it is not replaced
    chosen = [*chosen[:37], tierrules.CaseRecord("poison", chosen[0].events, chosen[0].now), *chosen[37:]]
    with batch.open_client(workers=2) as client:
        client.register_plugin(Poison())
        try:
            batch.evaluate_cases(chosen, client=client, chunk_size=10)
            return {"raised": None}
        except batch.BatchError as err:
            expected = serial([c if c.name != "poison" else chosen[0] for c in chosen])
            kept = [(i, r.decision_json) for i, r in enumerate(err.results) if r is not None]
            return {
                "raised": "BatchError",
                "missing": sorted(err.failures),
                "kept": len(kept),
                "kept_identical": all(expected[i] == text for i, text in kept),
                "message": str(err)[:300],
            }


def main(scenario: str, count: int) -> None:
    chosen = cases(count)
    started = time.monotonic()
    # Dask retries a task lost with its worker (allowed-failures) before tierrules sees it
    # lost; fewer retries keep the poison scenario short.
    retries = 0 if scenario == "poison" else 2
    with dask.config.set({"distributed.scheduler.allowed-failures": retries}):
        if scenario == "only":
            result = run_local(chosen, 1, [30, 90])
        elif scenario == "all":
            result = run_local(chosen, 2, [30, 120])
        elif scenario == "gone":
            result = run_gone(chosen)
        else:
            result = run_poison(chosen)
    result["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
