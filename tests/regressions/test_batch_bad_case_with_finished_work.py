"""Regression: a bad case met while later chunks had also finished ended in a raw KeyError.

Found by ``tests/test_report.py::test_dask_gives_the_in_process_report`` (intermittently):
when one round of ``distributed.wait`` returned several finished chunks and the first held
a bad case, the batch cancelled the later chunks -- removing them from its pending work --
then went on to collect the next finished one of the same round, no longer pending:
``KeyError: <Future ...>`` instead of the ``EventError`` naming the case. Made deterministic
here by having ``wait`` return only when every chunk has finished (a real local cluster).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import distributed  # the test extra installs Dask
import pytest

import tierrules
from tierrules import batch

NOW = dt.datetime.fromisoformat("2026-11-24T18:00:00+08:00")


def _case(name: str) -> tierrules.CaseRecord:
    return tierrules.CaseRecord(
        name, [{"type": "complaint_registered", "at": "2026-11-24T10:00:00+08:00", "case_id": name}], NOW
    )


def test_the_first_bad_case_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    real_wait = distributed.wait

    def wait_for_all(futures: Any, timeout: Any = None, return_when: str = "ALL_COMPLETED") -> Any:
        return real_wait(futures, return_when="ALL_COMPLETED")

    monkeypatch.setattr(distributed, "wait", wait_for_all)
    broken = tierrules.CaseRecord("broken", [{"type": "complaint_registered", "at": "yesterday"}], NOW)
    cases = [_case("c0"), broken, *(_case(f"c{i}") for i in range(1, 40))]
    with batch.open_client(workers=1) as client, pytest.raises(tierrules.EventError, match="case broken"):
        batch.evaluate_cases(cases, client=client, chunk_size=2)
