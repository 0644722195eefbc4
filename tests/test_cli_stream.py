"""``tierrules stream`` (issue 13): JSON Lines events in, one flushed JSON update per line out."""

from __future__ import annotations

import io
import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

import tierrules
from tierrules.cli import main

from .conftest import at, ev

SRC = str(Path(tierrules.__file__).resolve().parent.parent)


def _run(tmp_path: Path, lines: list[str], *args: str) -> tuple[int, list[dict[str, Any]]]:
    source = tmp_path / "in.jsonl"
    source.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    out = io.StringIO()
    code = main(["stream", str(source), *args], out=out)
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def _line(event: dict[str, Any], **extra: Any) -> str:
    return json.dumps({**event, **extra}, ensure_ascii=False)


def test_each_event_gets_its_update_as_evaluate_decides(engine: tierrules.Engine, tmp_path: Path) -> None:
    events = [
        ev("case_opened", "2026-11-24 09:00", channel="phone", customer_id="CU-1"),
        ev("escalation_needed", "2026-11-24 09:01", agent_level=1),
        ev("complaint_registered", "2026-11-24 09:02", "c2"),
    ]
    code, out = _run(tmp_path, [_line(e) for e in events], "--db", str(tmp_path / "cases.db"))
    assert code == 0
    assert [(u["line"], u["case_id"], u["seq"]) for u in out] == [(1, "c1", 1), (2, "c1", 2), (3, "c2", 1)]
    decision = engine.evaluate(events[:2], at("2026-11-24 09:01"))  # now: the case's latest event
    assert out[1]["decision"] == decision.model_dump(mode="json")
    assert out[1]["now"] == at("2026-11-24 09:01").isoformat()


def test_now_comes_from_the_line_then_the_option_then_the_case(tmp_path: Path) -> None:
    event = ev("complaint_registered", "2026-11-24 09:00")
    lines = [
        _line(event),
        _line(ev("complaint_replied", "2026-11-24 09:10"), now=at("2026-11-24 12:00").isoformat()),
        _line(ev("case_responded", "2026-11-24 09:20")),
    ]
    code, out = _run(tmp_path, lines, "--now", at("2026-11-25 08:00").isoformat())
    assert code == 0
    assert [u["now"] for u in out] == [
        at("2026-11-25 08:00").isoformat(),
        at("2026-11-24 12:00").isoformat(),
        at("2026-11-25 08:00").isoformat(),
    ]


def test_bad_lines_get_located_error_lines_and_the_stream_goes_on(tmp_path: Path, capsys: Any) -> None:
    lines = [
        _line(ev("case_opened", "2026-11-24 09:00", channel="phone")),
        "{not json",
        _line(ev("feedback_received", "2026-11-24 09:01", severity="hot")),
        _line(ev("complaint_registered", "2026-11-24 09:02", agent_idd="a1")),
        "",
        '["an", "array"]',
        _line(ev("complaint_registered", "2026-11-24 09:03"), now="yesterday"),
        '{"close_case": "c1"}',
        _line(ev("complaint_replied", "2026-11-24 09:04")),
        _line(ev("complaint_registered", "2026-11-24 09:05", "c2")),
    ]
    code, out = _run(tmp_path, lines, "--db", str(tmp_path / "cases.db"))
    assert code == 2
    assert [u["line"] for u in out] == [1, 2, 3, 4, 6, 7, 8, 9, 10]  # the blank line 5 is no event
    errors = {u["line"]: u["error"] for u in out if "error" in u}
    assert sorted(errors) == [2, 3, 4, 6, 7, 9]
    assert errors[3]["problems"][0]["path"] == "$.severity" and errors[3]["problems"][0]["value"] == "hot"
    assert errors[4]["problems"][0]["suggestion"] == "agent_id"
    assert errors[7]["problems"][0]["path"] == "$.now"
    assert "closed" in errors[9]["message"] and all(e["kind"] == "refused" for e in errors.values())
    assert "line 3" in errors[3]["message"]
    assert out[6] == {"line": 8, "closed": "c1"} and out[8]["case_id"] == "c2"
    assert "6 line(s) not applied (line 2, 3, 4, 6, 7, 9)" in capsys.readouterr().err


def test_stop_on_error_stops_at_the_first_bad_line(tmp_path: Path) -> None:
    lines = [
        _line(ev("case_opened", "2026-11-24 09:00", channel="phone")),
        "{",
        _line(ev("case_resolved", "2026-11-24 09:01")),
    ]
    code, out = _run(tmp_path, lines, "--stop-on-error")
    assert code == 2 and [u["line"] for u in out] == [1, 2]


def test_refresh_and_restart_continue_from_the_store(tmp_path: Path) -> None:
    db = str(tmp_path / "cases.db")
    needed = ev("escalation_needed", "2026-11-24 09:00", agent_level=1, id="e1")
    code, first = _run(tmp_path, [_line(needed)], "--db", db)
    assert code == 0 and first[0]["new"]["breaches"] == []
    lines = [
        _line(needed),  # re-delivered after a restart
        json.dumps({"refresh": "c1", "now": at("2026-11-24 09:30").isoformat()}),
        json.dumps({"refresh": "c1", "now": at("2026-11-24 09:31").isoformat()}),
        json.dumps({"refresh": "c1"}),
    ]
    code, again = _run(tmp_path, lines, "--db", db)
    assert code == 2
    assert again[0]["duplicate"] is True and again[0]["seq"] == 1
    assert [b["id"] for b in again[1]["new"]["breaches"]] == ["c1/E1.escalate/1"]
    assert again[2]["new"]["breaches"] == []
    assert again[3]["error"]["problems"][0]["path"] == "$.now"


def test_an_unusable_db_is_a_bad_argument(tmp_path: Path, capsys: Any) -> None:
    code, out = _run(tmp_path, [], "--db", str(tmp_path))  # a directory
    assert code == 2 and out == []
    assert f"--db {tmp_path}" in capsys.readouterr().err


def test_a_postgres_url_uses_the_shared_store(postgres_db: str, tmp_path: Path) -> None:
    fields = dict(part.split("=", 1) for part in postgres_db.split())
    url = f"postgresql://{fields['user']}@{fields['host']}:{fields['port']}/{fields['dbname']}"
    event = ev("complaint_registered", "2026-11-24 09:00")
    code, out = _run(tmp_path, [_line(event)], "--db", url)
    assert code == 0 and out[0]["seq"] == 1
    with tierrules.PostgresStore(postgres_db) as store:
        assert len(tierrules.Session(store=store).events("c1")) == 1


def test_each_update_is_written_before_the_next_line_is_read(tmp_path: Path) -> None:
    """A pipe: the answer to a line arrives while stdin is still open (flushed, not buffered)."""
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tierrules", "stream", "--db", str(tmp_path / "cases.db")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdin is not None and proc.stdout is not None
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
    try:
        for n, event in enumerate(
            [ev("case_opened", "2026-11-24 09:00", channel="phone"), ev("case_resolved", "2026-11-24 09:05")],
            1,
        ):
            proc.stdin.write(_line(event) + "\n")
            proc.stdin.flush()
            answer = json.loads(lines.get(timeout=60))  # fails the test if the line never comes
            assert answer["line"] == n and answer["seq"] == n
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()


@pytest.mark.parametrize(
    "command", ['{"close_case": 7}', '{"refresh": "nope", "now": "2026-11-24T10:00:00+08:00"}']
)
def test_bad_commands_are_refused(tmp_path: Path, command: str) -> None:
    code, out = _run(tmp_path, [command])
    assert code == 2 and out[0]["error"]["kind"] == "refused"


def test_a_reader_that_goes_away_ends_the_stream_quietly(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    events = "".join(
        _line(ev("utterance", f"2026-11-24 09:{i:02d}", speaker="agent", text="您好")) + "\n"
        for i in range(60)
    )
    reader = subprocess.Popen(["head", "-c", "10"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    proc = subprocess.run(
        [sys.executable, "-m", "tierrules", "stream"],
        input=events,
        stdout=reader.stdin,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        timeout=300,
    )
    assert reader.stdin is not None
    reader.stdin.close()
    reader.wait(timeout=60)
    assert proc.returncode == 141  # 128 + SIGPIPE, as for every command
    assert "Traceback" not in proc.stderr
