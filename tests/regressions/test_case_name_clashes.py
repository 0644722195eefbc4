"""Cases whose names repeat are refused, naming both places, never silently dropped.

Reported by an operator (issue 14): ``evaluate --batch DIR`` (and ``diff --cases DIR``)
dropped every case whose name repeated across the directory's files, exit 0: 4 of 8 cases
were gone. Case names identify cases in every report, so a clash is refused (exit 2) with
both file:line places; unnamed cases are called by their file's path relative to the
directory and their line, so they never clash, even for files of one name in two folders.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import tierrules
from tests.support.cli import assert_refused, run_cli

NOW = "2026-11-24T18:00:00+08:00"
EVENTS = [{"type": "complaint_registered", "at": "2026-11-24T17:00:00+08:00", "case_id": "c"}]
DEFAULT = Path(tierrules.default_ruleset_path())


def line(name: str | None) -> str:
    record = {"now": NOW, "events": EVENTS} | ({"name": name} if name is not None else {})
    return json.dumps(record) + "\n"


def test_a_name_in_two_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text(line("C-1") + line("C-2") + line("C-3") + line("C-4"))
    (tmp_path / "b.jsonl").write_text(line("C-5") + line("C-6") + line("C-1") + line("C-8"))
    with pytest.raises(tierrules.EventError) as caught:
        tierrules.read_cases(tmp_path)
    message = str(caught.value)
    assert "'C-1' appears twice" in message
    assert f"{tmp_path / 'a.jsonl'}:1" in message and f"{tmp_path / 'b.jsonl'}:3" in message
    for argv in (
        ["evaluate", "--batch", str(tmp_path)],
        ["diff", str(DEFAULT), str(DEFAULT), "--cases", str(tmp_path)],
    ):
        proc = run_cli(*argv)
        assert_refused(proc, "'C-1' appears twice", f"{tmp_path / 'b.jsonl'}:3")
        assert proc.stdout == ""


def test_a_name_twice_in_one_log_is_refused(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    log.write_text(line("C-1") + "\n" + line("C-1"))
    assert_refused(run_cli("evaluate", "--batch", str(log), "--workers", "0"), f"{log}:1 and {log}:3")


def test_unnamed_cases_are_named_by_relative_path_and_line(tmp_path: Path) -> None:
    for folder in ("north", "south"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "day.jsonl").write_text(line(None) + line(None))
    names = [case.name for case in tierrules.read_cases(tmp_path)]
    assert names == [
        os.path.join("north", "day.jsonl") + ":1",
        os.path.join("north", "day.jsonl") + ":2",
        os.path.join("south", "day.jsonl") + ":1",
        os.path.join("south", "day.jsonl") + ":2",
    ]
    proc = run_cli("evaluate", "--batch", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 4


def test_every_case_of_a_directory_is_evaluated(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text("".join(line(f"a{i}") for i in range(4)))
    (tmp_path / "b.jsonl").write_text("".join(line(f"b{i}") for i in range(4)))
    proc = run_cli("evaluate", "--batch", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(out)["name"] for out in proc.stdout.splitlines()] == [f"a{i}" for i in range(4)] + [
        f"b{i}" for i in range(4)
    ]


def test_unreadable_entries_of_a_case_directory_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text(line("a"))
    (tmp_path / "gone.jsonl").symlink_to(tmp_path / "missing.jsonl")
    assert_refused(run_cli("evaluate", "--batch", str(tmp_path)), "gone.jsonl", "dangling symbolic link")
    (tmp_path / "gone.jsonl").unlink()
    os.mkfifo(tmp_path / "pipe.jsonl")
    assert_refused(
        run_cli("evaluate", "--batch", str(tmp_path), timeout=60), "pipe.jsonl", "not a regular file"
    )
    (tmp_path / "pipe.jsonl").unlink()
    (tmp_path / "latin.jsonl").write_bytes(b'{"name": "caf\xe9"}\n')
    assert_refused(run_cli("evaluate", "--batch", str(tmp_path)), "latin.jsonl", "not UTF-8")


def test_a_symlinked_folder_is_read_once(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.jsonl").write_text(line("a"))
    (tmp_path / "link").symlink_to(tmp_path / "real")
    (tmp_path / "real" / "loop").symlink_to(tmp_path)
    assert [case.name for case in tierrules.read_cases(tmp_path)] == ["a"]
