"""batch: the progress hook, the in-process threshold, and partial results when a case fails."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from distributed import Client

import tierrules
from tierrules import batch
from tierrules.testing import generate_cases


@pytest.fixture(scope="module")
def cases() -> list[tierrules.CaseRecord]:
    ruleset = tierrules.load_ruleset()
    return [
        tierrules.CaseRecord(f"g{i}", ev, now)
        for i, (ev, now) in enumerate(generate_cases(ruleset, 60, seed=4))
    ]


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with batch.open_client(workers=2) as opened:
        yield opened


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def __call__(self, done: int, total: int) -> None:
        self.calls.append((done, total))


def check_calls(calls: list[tuple[int, int]], total: int) -> None:
    assert calls[0] == (0, total) and calls[-1] == (total, total)
    assert all(t == total for _, t in calls)
    assert all(a <= b for (a, _), (b, _) in itertools.pairwise(calls))


def test_progress_in_process(cases: list[tierrules.CaseRecord]) -> None:
    seen = Recorder()
    batch.evaluate_cases(cases, workers=0, progress=seen)
    assert seen.calls == [(i, len(cases)) for i in range(len(cases) + 1)]


def test_progress_on_dask(cases: list[tierrules.CaseRecord], client: Client) -> None:
    seen = Recorder()
    results = batch.evaluate_cases(cases, client=client, chunk_size=7, progress=seen)
    check_calls(seen.calls, len(cases))
    assert len(seen.calls) == 1 + 9  # (0, total), then one call per chunk
    assert results == batch.evaluate_cases(cases, workers=0)


def test_progress_of_an_empty_batch() -> None:
    seen = Recorder()
    assert batch.evaluate_cases([], workers=2, progress=seen) == []
    assert seen.calls == [(0, 0)]


def test_a_failing_progress_callback_stops_the_batch(
    cases: list[tierrules.CaseRecord], client: Client
) -> None:
    def boom(done: int, total: int) -> None:
        if done:
            raise RuntimeError("the host's bar broke")

    with pytest.raises(RuntimeError, match="bar broke"):
        batch.evaluate_cases(cases, client=client, chunk_size=5, progress=boom)
    assert batch.evaluate_cases(cases[:5], client=client) == batch.evaluate_cases(cases[:5], workers=0)


def test_small_logs_run_in_process(
    cases: list[tierrules.CaseRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_cluster(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a local cluster was started for a small log")

    monkeypatch.setattr(batch, "open_client", no_cluster)
    assert len(cases) < batch.IN_PROCESS_BELOW
    assert batch.evaluate_cases(cases) == batch.evaluate_cases(cases, workers=0)


def test_an_engine_failure_on_one_case_keeps_the_others(
    cases: list[tierrules.CaseRecord], client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In this process (where the engine can be made to fail): the others' results are kept."""
    real = batch._decide

    def decide(engines: Any, case: tierrules.CaseRecord, limits: Any) -> list[str]:
        if case.name == "g7":
            raise tierrules.EngineError("durable_rules stopped part-way")
        return real(engines, case, limits)

    monkeypatch.setattr(batch, "_decide", decide)
    with pytest.raises(batch.BatchError) as caught:
        batch.evaluate_cases(cases, workers=0)
    err = caught.value
    assert isinstance(err, tierrules.EngineError)
    assert list(err.failures) == ["g7"] and "stopped part-way" in err.failures["g7"]
    assert err.results[7] is None and len(err.completed) == len(cases) - 1
    expected = batch.evaluate_cases(cases[:7], workers=0)
    assert err.completed[:7] == expected


def test_decision_size_limit(cases: list[tierrules.CaseRecord]) -> None:
    tiny = tierrules.Limits(max_decision_bytes=100)
    with pytest.raises(batch.BatchError, match="max_decision_bytes"):
        batch.evaluate_cases(cases[:3], workers=0, limits=tiny)


def test_now_is_checked_in_the_log(tmp_path: Any) -> None:
    log = tmp_path / "log.jsonl"
    log.write_text('{"now": "2026-11-24T10:00:00", "events": []}\n')
    with pytest.raises(tierrules.EventError, match="UTC offset"):
        batch.evaluate_log(log)
