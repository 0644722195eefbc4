"""Regression: a labelled corpus case with a bad event (``text: 3315``: YAML reads an unquoted
number as an integer) ended ``benchmarks/etiquette_corpus.py`` in a raw ``EventError``
traceback naming neither the file nor the case. Found scoring blind set am (issue 12)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import tierrules
from tierrules.agreement import load_corpus, score

ROOT = Path(__file__).resolve().parents[2]
CASE = """id: bad-text
now: 2026-11-24T10:00:00+08:00
events:
  - {type: utterance, at: 2026-11-24T09:00:02+08:00, case_id: bad-text, speaker: agent, text: 您好}
  - {type: utterance, at: 2026-11-24T09:00:05+08:00, case_id: bad-text, speaker: customer, text: 3315}
labels: {Q1: pass}
"""


def test_a_bad_event_names_the_case_file_and_the_event(tmp_path: Path) -> None:
    path = tmp_path / "bad-text.yaml"
    path.write_text(CASE, encoding="utf-8")
    with pytest.raises(tierrules.RulesetError) as caught:
        score(load_corpus(tmp_path), tierrules.Engine())
    assert caught.value.file == path
    assert caught.value.json_path == "$.events[1].text"


def test_the_script_exits_2_with_the_location(tmp_path: Path) -> None:
    (tmp_path / "bad-text.yaml").write_text(CASE, encoding="utf-8")
    script = ROOT / "benchmarks" / "etiquette_corpus.py"
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    assert "bad-text.yaml" in done.stderr and "$.events[1].text" in done.stderr
    assert "Traceback" not in done.stderr
