"""`tierrules diff`: impact analysis of a ruleset change."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

import tierrules
from tierrules.cli import main
from tierrules.policytest import find_test_files, load_test_file

DEFAULT = Path(tierrules.default_ruleset_path())


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def test_generated_impact_of_e2_45_minutes(e2_45: Path) -> None:
    code, text = run("diff", str(DEFAULT), str(e2_45), "--generate", "200", "--seed", "1", "--json")
    assert code == 0
    report = json.loads(text)
    assert report["cases"] == 200
    [e2] = report["rules"]  # only E2 changes
    assert e2["rule"] == "E2.complaint-reply"
    assert e2["moved"] > 0 and e2["newly_met"] == 0  # stricter: nothing newly met
    assert e2["appeared"] == e2["vanished"] == 0
    assert -15 * 60 - 86400 * 10 <= e2["earliest_shift_seconds"] <= e2["latest_shift_seconds"] < 0
    assert report["tiers"]["changes"] == []
    assert "E2.complaint-reply" in report["escalations"]["appeared"]


def test_recorded_cases_and_human_table(e2_45: Path, tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    case = {
        "name": "late reply",
        "now": "2026-11-24T12:00:00+08:00",
        "events": [
            {"type": "complaint_registered", "at": "2026-11-24T10:00:00+08:00", "case_id": "c1"},
            {"type": "complaint_replied", "at": "2026-11-24T10:50:00+08:00", "case_id": "c1"},
        ],
    }
    cases.write_text(json.dumps(case) + "\n")
    code, text = run("diff", str(DEFAULT), str(e2_45), "--cases", str(cases))
    assert code == 0
    assert "1 cases, 1 with a changed decision" in text
    assert "E2.complaint-reply" in text and "-15m" in text
    assert (
        "late reply: c1/E2.complaint-reply/1 due 2026-11-24T11:00:00+08:00 -> 2026-11-24T10:45:00+08:00"
        in text
    )
    assert "met -> breached" in text


def test_policy_test_directory_as_cases(e2_45: Path) -> None:
    code, text = run("diff", str(DEFAULT), str(e2_45), "--cases", str(DEFAULT / "tests"), "--json")
    assert code == 0
    report = json.loads(text)
    assert report["cases"] == sum(len(load_test_file(f)[0]) for f in find_test_files(DEFAULT))
    assert [r["rule"] for r in report["rules"]] == ["E2.complaint-reply"]


def test_same_ruleset_changes_nothing() -> None:
    code, text = run("diff", str(DEFAULT), str(DEFAULT), "--generate", "50")
    assert code == 0
    assert "0 with a changed decision" in text and "no obligation changed" in text


def test_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("diff", str(DEFAULT), str(DEFAULT))[0] == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"now": "2026-11-24T12:00:00", "events": []}\n')
    assert run("diff", str(DEFAULT), str(DEFAULT), "--cases", str(bad))[0] == 2
    assert "UTC offset" in capsys.readouterr().err
