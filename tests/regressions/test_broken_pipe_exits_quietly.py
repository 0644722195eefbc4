"""A reader that stops early (``tierrules evaluate --batch big.jsonl | head``) gets no traceback.

Found while adding the human output of issue 15: with stdout's reader gone, the command
died with ``BrokenPipeError`` and a Python traceback on stderr (exit 1, an "engine failure"
by the documented exit codes). It now exits 141 (128 + SIGPIPE, as a shell reports a
command killed by a closed pipe) and prints nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_closed_stdout_is_not_a_crash(tmp_path: Path) -> None:
    log = tmp_path / "cases.jsonl"
    case = {"now": "2026-11-24T18:30:00+08:00", "events": [
        {"type": "complaint_registered", "at": "2026-11-24T17:30:00+08:00", "case_id": "c"}]}  # fmt: skip
    log.write_text(json.dumps(case) + "\n", encoding="utf-8")
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "tierrules", "evaluate", "--batch", str(log), "--workers", "0"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert "Traceback" not in proc.stderr
    assert proc.stderr == ""
    assert proc.returncode == 141


def test_closed_stdout_of_stream_is_not_a_read_error(tmp_path: Path) -> None:
    # Found at the merge of sessions: `tierrules stream FILE | head -1` said "cannot read FILE:
    # Broken pipe" (the write's BrokenPipeError was caught as the file's OSError) and exited 2.
    events = Path(__file__).resolve().parents[2] / "examples" / "complaint.jsonl"
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "tierrules", "stream", str(events)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert proc.stderr == ""
    assert proc.returncode == 141
