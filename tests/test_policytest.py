"""Policy test files: `tierrules test`, matching, coverage, errors, and the pytest plugin."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import tierrules
from tierrules.cli import main
from tierrules.policytest import check, find_test_files, load_test_file, matches, ruleset_dir_for

DEFAULT = Path(tierrules.default_ruleset_path())

CASE = """\
cases:
  - name: saturday complaint
    now: 2026-11-28T16:00:00+08:00
    events:
      - {type: complaint_registered, at: 2026-11-28T15:00:00+08:00, case_id: c1}
    expect:
      obligations:
        - {rule: E2.complaint-reply, due_at: %s, status: pending}
"""


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def test_default_ruleset_tests_pass_with_full_coverage() -> None:
    code, text = run("test", str(DEFAULT))
    assert code == 0, text
    assert "coverage: 58/58 rules (100%)" in text
    assert "rules no case fired" not in text


def test_failure_shows_a_diff_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "e2.test.yaml").write_text(CASE % "2026-11-30T11:00:00+08:00")
    code, text = run("test", str(DEFAULT), "--tests", str(tmp_path))
    assert code == 1
    assert "FAIL saturday complaint" in text
    assert '-  "due_at": "2026-11-30T11:00:00+08:00"' in text
    assert '+  "due_at": "2026-11-30T10:00:00+08:00"' in text
    assert "rules no case fired" in text and "T6.override" in text


def test_instants_match_across_offsets(tmp_path: Path) -> None:
    (tmp_path / "e2.test.yaml").write_text(CASE % "2026-11-30T02:00:00Z")
    code, text = run("test", str(DEFAULT), "--tests", str(tmp_path / "e2.test.yaml"))
    assert code == 0, text


def test_bad_files_exit_2_with_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.test.yaml"
    bad.write_text(CASE.replace("complaint_registered", "complaint_registred") % "2026-11-30T10:00:00+08:00")
    assert run("test", str(DEFAULT), "--tests", str(bad))[0] == 2
    err = capsys.readouterr().err
    assert f"{bad}:5" in err and "complaint_registered" in err
    bad.write_text(CASE.replace("    now:", "    nowe:") % "x")
    assert run("test", str(DEFAULT), "--tests", str(bad))[0] == 2
    assert "nowe" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run("test", str(DEFAULT), "--tests", str(empty))[0] == 2


def test_matching_semantics() -> None:
    assert matches({"a": 1}, {"a": 1.0, "b": 2})
    assert not matches({"a": True}, {"a": 1})
    assert matches([{"k": 1}, {"k": 1}], [{"k": 1}, {"k": 1}, {"k": 2}])
    assert not matches([{"k": 1}, {"k": 1}], [{"k": 1}, {"k": 2}])  # distinct items
    assert matches("2026-11-30T10:00:00+08:00", "2026-11-30T02:00:00+00:00")
    assert matches({"x": None}, {"x": None}) and not matches({"x": None}, {})


def test_exact_flags_extra_items() -> None:
    import datetime as dt

    decision = tierrules.evaluate(
        [{"type": "complaint_registered", "at": "2026-11-24T10:00:00+08:00", "case_id": "c1"}],
        now=dt.datetime.fromisoformat("2026-11-24T10:10:00+08:00"),
    )
    loose = {"obligations": [{"rule": "E2.complaint-reply"}]}
    assert check(decision, loose) == []
    failures = check(decision, {**loose, "exact": True})
    assert len(failures) == 1 and "2 unexpected item(s)" in failures[0]
    assert check(decision, {"next_check_at": None}) != []


def test_test_files_are_found_beside_and_under_tests(tmp_path: Path) -> None:
    shutil.copytree(DEFAULT, tmp_path / "rs")
    (tmp_path / "rs" / "x.test.yaml").write_text(CASE % "2026-11-30T10:00:00+08:00")
    files = find_test_files(tmp_path / "rs")
    assert files[0].name == "x.test.yaml" and len(files) == 6
    assert ruleset_dir_for(tmp_path / "rs" / "tests" / "e1-e4.test.yaml") == tmp_path / "rs"
    tierrules.load_ruleset(tmp_path / "rs")  # the test file is not part of the ruleset


def test_pytest_plugin_runs_policy_tests(tmp_path: Path) -> None:
    shutil.copytree(DEFAULT, tmp_path / "rs")
    (tmp_path / "rs" / "tests" / "fail.test.yaml").write_text(CASE % "2026-11-30T11:00:00+08:00")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "rs" / "tests")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    bundled = sum(len(load_test_file(f)[0]) for f in find_test_files(DEFAULT))
    assert f"1 failed, {bundled} passed" in proc.stdout
    assert "policy case 'saturday complaint' failed" in proc.stdout
