"""The command line: evaluate, validate, schema; exit 2 naming the line on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tierrules.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "complaint.jsonl"


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tierrules", *args], input=stdin, capture_output=True, text=True, timeout=60
    )


def test_evaluate_example_prints_decision() -> None:
    proc = run("evaluate", str(EXAMPLE), "--now", "2026-11-24T18:30:00+08:00")
    assert proc.returncode == 0, proc.stderr
    decision = json.loads(proc.stdout)
    assert {o["source"] for o in decision["obligations"]} >= {"E1", "E2", "E3"}
    [e2] = [o for o in decision["obligations"] if o["source"] == "E2"]
    assert e2["due_at"] == "2026-11-25T09:30:00+08:00"
    pending = [o["due_at"] for o in decision["obligations"] if o["status"] == "pending"]
    assert "2026-11-24T18:30:00+08:00" < decision["next_check_at"] <= min(pending)


def test_evaluate_is_byte_identical_across_runs(tmp_path: Path) -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    reversed_file = tmp_path / "reversed.jsonl"
    reversed_file.write_text("\n".join(reversed(lines)) + "\n", encoding="utf-8")
    a = run("evaluate", str(EXAMPLE), "--now", "2026-11-24T18:30:00+08:00")
    b = run("evaluate", str(reversed_file), "--now", "2026-11-24T18:30:00+08:00")
    assert a.stdout == b.stdout
    assert a.returncode == b.returncode == 0


def test_evaluate_stdin_json_array() -> None:
    events = [{"type": "complaint_registered", "at": "2026-11-28T15:00:00+08:00", "case_id": "x"}]
    proc = run("evaluate", "-", "--now", "2026-11-28T16:00:00+08:00", "--compact", stdin=json.dumps(events))
    assert proc.returncode == 0, proc.stderr
    [e2] = [o for o in json.loads(proc.stdout)["obligations"] if o["source"] == "E2"]
    assert e2["due_at"] == "2026-11-30T10:00:00+08:00"


def test_bad_event_exits_2_and_names_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"type": "case_opened", "at": "2026-11-24T09:00:00+08:00", "case_id": "c", "channel": "phone"}\n'
        "\n"
        '{"type": "feedback_received", "at": "2026-11-24T10:00:00+08:00", "case_id": "c", '
        '"severity": "hot"}\n',
        encoding="utf-8",
    )
    proc = run("evaluate", str(bad), "--now", "2026-11-24T18:30:00+08:00")
    assert proc.returncode == 2
    assert "line 3" in proc.stderr
    assert "severity" in proc.stderr
    assert proc.stdout == ""


def test_invalid_json_line_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": \n', encoding="utf-8")
    proc = run("evaluate", str(bad), "--now", "2026-11-24T18:30:00+08:00")
    assert proc.returncode == 2
    assert "line 1" in proc.stderr


def test_naive_now_is_a_usage_error() -> None:
    proc = run("evaluate", str(EXAMPLE), "--now", "2026-11-24T18:30:00")
    assert proc.returncode == 2
    assert "offset" in proc.stderr


def test_validate_default_and_broken(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate"]) == 0
    assert "ok:" in capsys.readouterr().out
    broken = tmp_path / "r.yaml"
    broken.write_text("name: x\nversion: '1'\ntimezone: Mars/Base\n", encoding="utf-8")
    assert main(["validate", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "r.yaml" in err
    assert "$.default_calendar" in err or "$.calendars" in err


def test_schema_is_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "tierrules ruleset file"  # any one file of a ruleset directory
    assert "deadlines" in schema["properties"]
