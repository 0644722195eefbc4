"""Progress bars on stderr for long work: drawn only when stderr is a terminal, never in the output.

The commands run on a real pseudo-terminal (tests/support/terminal.py): stderr on a pty,
stdout a pipe, as when a person runs ``tierrules evaluate --batch big.jsonl > out.jsonl``.
"""

from __future__ import annotations

import io
import json
import os
import pty
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from tierrules import batch
from tierrules.cli import main
from tierrules.cli.progress import accepts_progress, counted, progress_bar

from .support.terminal import ANSI, run_cli

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "rulesets" / "default"


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("log") / "cases.jsonl"
    cases = [
        {"name": f"case {i}", "now": "2026-11-24T18:30:00+08:00", "events": [
            {"type": "complaint_registered", "at": "2026-11-24T17:30:00+08:00", "case_id": f"c{i}"}]}
        for i in range(40)
    ]  # fmt: skip
    path.write_text("".join(json.dumps(c) + "\n" for c in cases), encoding="utf-8")
    return path


def test_batch_draws_a_bar_on_a_terminal_and_keeps_stdout_clean(log: Path) -> None:
    piped = run_cli("evaluate", "--batch", str(log), "--workers", "0")
    watched = run_cli("evaluate", "--batch", str(log), "--workers", "0", stderr_tty=True)
    assert piped.returncode == watched.returncode == 0, watched.stderr
    assert watched.stdout == piped.stdout  # the JSON lines, byte for byte
    assert [json.loads(line)["name"] for line in watched.stdout.splitlines()][-1] == "case 39"
    assert "evaluating 40 cases" in watched.plain_stderr
    assert piped.stderr == ""


def test_diff_counts_the_cases_it_compares(log: Path) -> None:
    proc = run_cli("diff", str(DEFAULT), str(DEFAULT), "--cases", str(log), stderr_tty=True)
    assert proc.returncode == 0, proc.stderr
    assert "comparing 40 cases" in proc.plain_stderr
    assert "40/40" in proc.plain_stderr
    assert proc.stdout.startswith(f"{DEFAULT} -> {DEFAULT}: 40 cases, 0 with a changed decision")


def test_no_bar_when_stderr_is_not_a_terminal_or_when_asked(log: Path) -> None:
    assert run_cli("diff", str(DEFAULT), str(DEFAULT), "--cases", str(log)).stderr == ""
    quiet = run_cli("diff", str(DEFAULT), str(DEFAULT), "--cases", str(log), "--no-progress", stderr_tty=True)
    assert quiet.returncode == 0
    assert ANSI.sub("", quiet.stderr).strip() == ""


def _terminal() -> tuple[int, Any]:
    master, slave = pty.openpty()
    return master, os.fdopen(slave, "w", encoding="utf-8")


def _read(master: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the writing end is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return ANSI.sub("", b"".join(chunks).decode("utf-8", errors="replace"))


def test_progress_bar_reports_done_of_total_on_a_terminal() -> None:
    master, stream = _terminal()
    with progress_bar("working", 3, stream=stream) as progress:
        for done, _ in enumerate(counted(["a", "b", "c"], 3, progress), start=1):
            assert done <= 3
    stream.close()
    assert "working" in (text := _read(master))
    assert "3/3" in text


def test_progress_bar_is_silent_off_a_terminal() -> None:
    out = io.StringIO()
    with progress_bar("working", 3, stream=out) as progress:
        progress(3, 3)
    assert out.getvalue() == ""


def test_counted_reports_each_item_once_it_is_consumed() -> None:
    seen: list[tuple[int, int]] = []
    assert list(counted("xyz", 3, lambda done, total: seen.append((done, total)))) == ["x", "y", "z"]
    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]


def test_batch_uses_the_progress_hook_when_the_batch_api_has_it(
    log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The contract with tierrules.batch: ``evaluate_cases(..., progress=callback(done, total))``.

    Until the hook lands the CLI detects its absence (and shows an indeterminate bar); this
    test gives the CLI a batch function with exactly that signature, wrapping the real one.
    """
    real = batch.evaluate_cases
    calls: list[tuple[int, int]] = []

    def with_hook(cases: Sequence[Any], *, progress: Callable[[int, int], None], **options: Any) -> Any:
        results = []
        for done, case in enumerate(cases, start=1):
            results += real([case], **{**options, "workers": 0})
            progress(done, len(cases))
            calls.append((done, len(cases)))
        return results

    assert not accepts_progress(lambda cases: None)
    assert accepts_progress(with_hook)
    monkeypatch.setattr(batch, "evaluate_cases", with_hook)
    master, stream = _terminal()
    monkeypatch.setattr("sys.stderr", stream)
    out = io.StringIO()
    assert main(["evaluate", "--batch", str(log)], out=out) == 0
    stream.close()
    assert calls[-1] == (40, 40)
    assert len(out.getvalue().splitlines()) == 40
    assert "40/40" in _read(master)
