"""Regression: a labelled corpus case whose ``now`` is not a date-time (``now: tomorrow``)
ended in a bare ``ValueError`` from ``datetime.fromisoformat`` instead of the located
``RulesetError`` every other malformed case gets. Found in review of ``tierrules.agreement``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import tierrules
from tierrules.agreement import load_corpus

CASE = """id: bad-now
now: {now}
events:
  - {{type: utterance, at: 2026-11-24T09:00:02+08:00, case_id: bad-now, speaker: agent, text: 您好}}
labels: {{Q1: pass}}
"""


@pytest.mark.parametrize("now", ["tomorrow", "2026-13-45T09:00:00+08:00", "2026-11-24T09:00:00"])
def test_a_bad_now_is_a_located_error(tmp_path: Path, now: str) -> None:
    path = tmp_path / "bad-now.yaml"
    path.write_text(CASE.format(now=now), encoding="utf-8")
    with pytest.raises(tierrules.RulesetError) as caught:
        load_corpus(tmp_path)
    assert caught.value.file == path and caught.value.line == 2
    # the YAML reader itself refuses an impossible date; the rest is refused as a `now`
    assert "month must be in 1..12" in str(caught.value) or "'now' must be a date-time" in str(caught.value)
