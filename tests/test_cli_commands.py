"""The command line's everyday options: ``--now now``, ``diff --exit-code``, stdin (``-``)
everywhere a file is read, ``init``, ``test`` on the bundled ruleset, ``--version``."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

import tierrules
from tierrules.cli import COMMANDS, main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "complaint.jsonl"
DEFAULT = ROOT / "rulesets" / "default"
CST = dt.timezone(dt.timedelta(hours=8))


def run(*argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tierrules", *argv], input=stdin, capture_output=True, text=True, timeout=120
    )


def call(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three cases: two named, one not (named by file and line)."""
    path = tmp_path_factory.mktemp("log") / "cases.jsonl"
    complaint = {"type": "complaint_registered", "at": "2026-11-24T17:30:00+08:00", "case_id": "c1"}
    lines = [
        {"name": "saturday", "now": "2026-11-28T16:00:00+08:00", "events": [
            {"type": "complaint_registered", "at": "2026-11-28T15:00:00+08:00", "case_id": "s"}]},
        {"name": "late", "now": "2026-11-25T12:00:00+08:00", "events": [complaint]},
        {"now": "2026-11-24T17:45:00+08:00", "events": [complaint]},
    ]  # fmt: skip
    path.write_text("".join(json.dumps(c) + "\n" for c in lines), encoding="utf-8")
    return path


# --- --now now ----------------------------------------------------------------------------


def test_now_now_evaluates_at_the_current_instant() -> None:
    started = dt.datetime.now(CST).replace(microsecond=0) - dt.timedelta(minutes=3)
    event = {"type": "escalation_needed", "at": started.isoformat(), "case_id": "n", "agent_level": 1}
    before = dt.datetime.now(dt.timezone.utc)
    proc = run("evaluate", "-", "--now", "now", "--format", "json", stdin=json.dumps(event))
    after = dt.datetime.now(dt.timezone.utc)
    assert proc.returncode == 0, proc.stderr
    [e1] = json.loads(proc.stdout)["obligations"]
    assert e1["status"] == "pending"  # due 10 minutes after a start 3 minutes ago
    assert e1["due_at"] == (started + dt.timedelta(minutes=10)).isoformat()
    next_check = dt.datetime.fromisoformat(json.loads(proc.stdout)["next_check_at"])
    assert before < next_check
    assert next_check - after < dt.timedelta(minutes=10)


def test_now_now_refuses_events_from_the_future() -> None:
    later = (dt.datetime.now(CST) + dt.timedelta(hours=1)).isoformat()
    event = {"type": "complaint_registered", "at": later, "case_id": "f"}
    proc = run("evaluate", "-", "--now", "now", stdin=json.dumps(event))
    assert proc.returncode == 2
    assert "now" in proc.stderr


def test_now_is_shown_on_the_ruleset_clock() -> None:
    code, text = call("evaluate", str(EXAMPLE), "--now", "2026-11-24T10:30:00Z", "--format", "table")
    assert code == 0
    assert text.startswith("decision at 2026-11-24 18:30 +08:00 Asia/Shanghai")
    code, text = call("evaluate", str(EXAMPLE), "--now", "NOW", "--format", "table")
    assert code == 0
    assert " +08:00 Asia/Shanghai" in text.splitlines()[0]


def test_a_word_that_is_not_now_is_refused() -> None:
    proc = run("evaluate", str(EXAMPLE), "--now", "today")
    assert proc.returncode == 2
    assert "not an ISO 8601 date-time: 'today'" in proc.stderr


# --- diff --exit-code --------------------------------------------------------------------


def test_diff_exit_code_is_0_when_nothing_changed(log: Path) -> None:
    assert call("diff", str(DEFAULT), str(DEFAULT), "--cases", str(log), "--exit-code")[0] == 0


def test_diff_exit_code_is_1_when_a_decision_changed(log: Path, e2_45: Path) -> None:
    code, text = call("diff", str(DEFAULT), str(e2_45), "--cases", str(log), "--exit-code")
    assert code == 1
    assert "3 cases, 3 with a changed decision" in text
    assert call("diff", str(DEFAULT), str(e2_45), "--cases", str(log))[0] == 0  # a report, not a gate
    code, text = call("diff", str(DEFAULT), str(e2_45), "--cases", str(log), "--exit-code", "--json")
    assert code == 1
    assert json.loads(text)["cases_changed"] == 3


# --- stdin -------------------------------------------------------------------------------


def test_batch_reads_the_case_log_from_stdin(log: Path) -> None:
    from_file = run("evaluate", "--batch", str(log), "--workers", "0")
    from_stdin = run("evaluate", "--batch", "-", "--workers", "0", stdin=log.read_text(encoding="utf-8"))
    assert from_file.returncode == from_stdin.returncode == 0, from_stdin.stderr
    file_lines = [json.loads(line) for line in from_file.stdout.splitlines()]
    stdin_lines = [json.loads(line) for line in from_stdin.stdout.splitlines()]
    assert [line["decision"] for line in stdin_lines] == [line["decision"] for line in file_lines]
    assert [line["name"] for line in stdin_lines] == ["saturday", "late", "<stdin>:3"]
    assert file_lines[2]["name"] == "cases.jsonl:3"


def test_a_bad_case_on_stdin_names_stdin_and_the_line() -> None:
    text = '{"now": "2026-11-24T12:00:00+08:00", "events": []}\n{"events": []}\n'
    proc = run("evaluate", "--batch", "-", "--workers", "0", stdin=text)
    assert proc.returncode == 2
    assert "<stdin>" in proc.stderr and "line 2" in proc.stderr
    assert proc.stdout == ""


def test_diff_reads_cases_from_stdin(log: Path, e2_45: Path) -> None:
    proc = run(
        "diff", str(DEFAULT), str(e2_45), "--cases", "-", "--json", stdin=log.read_text(encoding="utf-8")
    )
    assert proc.returncode == 0, proc.stderr
    file_json = call("diff", str(DEFAULT), str(e2_45), "--cases", str(log), "--json")[1]
    from_stdin, from_file = json.loads(proc.stdout), json.loads(file_json)
    assert from_stdin["cases"] == from_file["cases"] == 3
    assert from_stdin["rules"] == [
        {**r, "examples": [e.replace("cases.jsonl:3", "<stdin>:3") for e in r["examples"]]}
        for r in from_file["rules"]
    ]


def test_events_from_stdin_as_json_lines() -> None:
    proc = run(
        "evaluate", "-", "--now", "2026-11-24T18:30:00+08:00", stdin=EXAMPLE.read_text(encoding="utf-8")
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == run("evaluate", str(EXAMPLE), "--now", "2026-11-24T18:30:00+08:00").stdout


# --- init --------------------------------------------------------------------------------


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_init_copies_the_default_ruleset_and_its_tests(tmp_path: Path) -> None:
    target = tmp_path / "policies" / "my-policy"
    code, text = call("init", str(target))
    assert code == 0
    bundled = _files(tierrules.default_ruleset_path())
    assert _files(target) == {k: v for k, v in bundled.items() if k.endswith(".yaml")}
    assert any(name.startswith("tests/") for name in _files(target))
    assert [p.name for p in target.parent.iterdir()] == ["my-policy"]  # no staging directory left
    assert f"Created {target}/ from the bundled default ruleset" in text
    assert f"  2. tierrules validate {target}\n  3. tierrules test {target}\n" in text


def test_an_initialised_ruleset_validates_and_passes_its_tests(tmp_path: Path) -> None:
    assert call("init", str(tmp_path / "mine"))[0] == 0
    assert call("validate", str(tmp_path / "mine"))[0] == 0
    code, report = call("test", str(tmp_path / "mine"))
    assert code == 0
    assert "(100%)" in report


def test_init_fills_an_empty_directory(tmp_path: Path) -> None:
    assert call("init", str(tmp_path))[0] == 0
    assert (tmp_path / "deadlines.yaml").is_file()


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("name: mine\n", encoding="utf-8")
    proc = run("init", str(tmp_path))
    assert proc.returncode == 2
    assert f"refusing to overwrite {tmp_path}: it is not empty" in proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["mine.yaml"]
    a_file = tmp_path / "mine.yaml"
    proc = run("init", str(a_file))
    assert proc.returncode == 2
    assert "it exists and is not a directory" in proc.stderr
    assert a_file.read_text(encoding="utf-8") == "name: mine\n"


# --- test, validate, --version -----------------------------------------------------------


def test_test_without_a_ruleset_runs_the_bundled_tests() -> None:
    code, text = call("test")
    assert code == 0
    assert text == call("test", str(tierrules.default_ruleset_path()))[1]
    assert "cases passed" in text and "coverage:" in text


def test_validate_still_prints_ok() -> None:
    code, text = call("validate")
    assert code == 0
    assert text.startswith(f"ok: {tierrules.default_ruleset_path()}: ruleset default ")


def test_version() -> None:
    proc = run("--version")
    assert proc.returncode == 0
    assert proc.stdout == f"tierrules {tierrules.__version__}\n"


def test_every_command_has_help() -> None:
    for name in COMMANDS:
        proc = run(name, "--help")
        assert proc.returncode == 0, name
        assert proc.stdout.startswith(f"usage: tierrules {name}")
