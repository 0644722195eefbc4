"""``evaluate --format json|table``: JSON for programs (byte-identical), tables for people.

Default: a table when stdout is a terminal, JSON when it is not. Tables are coloured on a
terminal, plain when piped, and ``NO_COLOR`` is honoured; ``--color`` overrides both.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest

import tierrules
from tierrules.cli import main
from tierrules.cli.table import console_for, render_decision

from .support.terminal import ANSI, COLOUR, run_cli

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "complaint.jsonl"
NOW = "2026-11-24T18:30:00+08:00"


def expected_json(events_file: Path, now: str, indent: int | None = 2) -> str:
    events = [json.loads(line) for line in events_file.read_text(encoding="utf-8").splitlines() if line]
    decision = tierrules.Engine().evaluate(events, now=dt.datetime.fromisoformat(now))
    return decision.to_json(indent=indent) + "\n"


def section(text: str, title: str) -> list[list[str]]:
    """The rows of the table whose title starts with ``title``, each split into words."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return [line.split() for line in lines[start + 3 : end]]  # after the title, header and rule


def cells(text: str, title: str, first: str) -> list[str]:
    """The words of the one row of a table (by title) that starts with ``first``."""
    [row] = [row for row in section(text, title) if row[0] == first]
    return row


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


@pytest.fixture(scope="module")
def everything(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A call with a violation and a score, a breached escalation step, a customer's tier."""
    events = [
        json.loads(line) for line in (ROOT / "examples" / "call-simplified.jsonl").open(encoding="utf-8")
    ]
    events += [
        {"type": "complaint_registered", "at": "2026-11-24T10:00:00+08:00", "case_id": "C-7"},
        {"type": "escalation_needed", "at": "2026-11-24T10:01:00+08:00", "case_id": "C-7", "agent_level": 1},
        {
            "type": "customer_profile",
            "at": "2026-11-01T00:00:00+08:00",
            "customer_id": "CUST-88",
            "spend_12m": 120000,
            "visits_12m": 30,
            "tenure_months": 40,
        },
    ]
    path = tmp_path_factory.mktemp("events") / "everything.jsonl"
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), encoding="utf-8")
    return path


def test_piped_default_is_the_json_of_today() -> None:
    default = run_cli("evaluate", str(EXAMPLE), "--now", NOW)
    chosen = run_cli("evaluate", str(EXAMPLE), "--now", NOW, "--format", "json")
    assert default.returncode == chosen.returncode == 0, default.stderr
    assert default.stdout == chosen.stdout == expected_json(EXAMPLE, NOW)


def test_compact_is_one_line_json_even_on_a_terminal() -> None:
    proc = run_cli("evaluate", str(EXAMPLE), "--now", NOW, "--compact", stdout_tty=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.replace("\r\n", "\n") == expected_json(EXAMPLE, NOW, indent=None)


def test_terminal_gets_a_coloured_table() -> None:
    proc = run_cli("evaluate", str(EXAMPLE), "--now", NOW, stdout_tty=True)
    assert proc.returncode == 0, proc.stderr
    assert COLOUR.search(proc.stdout), "statuses are coloured on a terminal"
    text = proc.plain_stdout
    assert "decision at 2026-11-24 18:30 +08:00 Asia/Shanghai" in text
    assert "Obligations (7: 6 pending, 1 met) · C-1001" in text
    e2 = cells(text, "Obligations", "E2.complaint-reply")
    assert e2 == ["E2.complaint-reply", "E2", "pending", "11-25", "09:30", "(in", "15h", "00m)", "-"]
    e1 = cells(text, "Obligations", "E1.escalate")
    assert e1 == ["E1.escalate", "E1", "met", "11-24", "17:42", "11-24", "17:40"]
    assert "next check: 11-25 05:30 (in 11h 00m)" in text
    assert not text.lstrip().startswith("{")


def test_no_color_on_a_terminal_keeps_the_table_without_colour() -> None:
    proc = run_cli("evaluate", str(EXAMPLE), "--now", NOW, stdout_tty=True, env={"NO_COLOR": "1"})
    assert proc.returncode == 0, proc.stderr
    assert "Obligations (7: 6 pending, 1 met)" in proc.plain_stdout
    assert not COLOUR.search(proc.stdout)


def test_table_when_piped_is_plain_text() -> None:
    proc = run_cli("evaluate", str(EXAMPLE), "--now", NOW, "--format", "table")
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stdout
    lines = proc.stdout.splitlines()
    assert all(line == line.rstrip() for line in lines), "no padding at the end of lines"
    assert sum(line.startswith("E") and " pending " in line for line in lines) == 6  # one line a row


def test_color_flag_overrides_detection() -> None:
    always = run_cli("evaluate", str(EXAMPLE), "--now", NOW, "--format", "table", "--color", "always")
    assert COLOUR.search(always.stdout)
    never = run_cli("evaluate", str(EXAMPLE), "--now", NOW, "--color", "never", stdout_tty=True)
    assert "Obligations" in never.stdout
    assert not ANSI.search(never.stdout)
    forced = run_cli(
        "evaluate",
        str(EXAMPLE),
        "--now",
        NOW,
        "--format",
        "table",
        "--color",
        "always",
        env={"NO_COLOR": "1"},
    )
    assert COLOUR.search(forced.stdout), "an explicit flag beats NO_COLOR"


@pytest.fixture(scope="module")
def everything_table(everything: Path) -> str:
    code, text = run("evaluate", str(everything), "--now", "2026-11-24T10:50:00+08:00", "--format", "table")
    assert code == 0
    return text


@pytest.mark.parametrize(
    "title",
    [
        "Obligations (7: 1 breached, 6 pending)",
        "Escalations (1) · C-7",
        "Violations (1: 1 fail) · CALL-2001",
        "Scores (1) · CALL-2001",
        "Tiers (1)",
        "Warnings (4) · C-7",
        "next check: 11-24 11:00 (in 10m)",
    ],
)
def test_table_shows_every_part_of_the_decision(everything_table: str, title: str) -> None:
    assert title in everything_table.splitlines()


def test_table_rows_of_each_part(everything_table: str) -> None:
    text = everything_table
    assert ["C-7", "E1.escalate", "E1", "breached", "11-24", "10:11", "-"] in section(text, "Obligations")
    assert [row[:2] for row in section(text, "Obligations") if row[0] == "customer"] == [
        ["customer", "CUST-88"],
        ["customer", "CUST-88"],
    ]  # customer-level obligations (T7, T8) name the customer
    assert cells(text, "Escalations", "E1.escalate")[:5] == ["E1.escalate", "E1", "11-24", "10:11", "2"]
    assert ["E2.complaint-reply", "E2", "11-24", "10:48", "80%", "11-24", "11:00"] in section(
        text, "Warnings"
    )
    violation = " ".join(cells(text, "Violations", "Q5.forbidden-phrases"))
    assert "fail" in violation and "“请您别着急”" in violation and "say '谢谢您的耐心' instead" in violation
    assert cells(text, "Scores", "0/80") == ["0/80", "0%", "auto-failed", "forbidden-phrases"]
    assert cells(text, "Tiers", "CUST-88")[:6] == ["CUST-88", "gold", "B", "2", "T6.gold", "T6"]


def test_table_cells_are_shown_as_given_never_as_markup(tmp_path: Path) -> None:
    events = tmp_path / "e.jsonl"
    event = {"type": "complaint_registered", "at": "2026-11-24T17:30:00+08:00", "case_id": "[bold]x[/bold]"}
    events.write_text(json.dumps(event) + "\n", encoding="utf-8")
    code, text = run("evaluate", str(events), "--now", NOW, "--format", "table")
    assert code == 0
    assert "· [bold]x[/bold]" in text


def test_instants_show_the_year_and_offset_only_when_they_differ_from_now() -> None:
    decision = tierrules.Engine().evaluate(
        [{"type": "complaint_registered", "at": "2026-12-31T17:30:00+08:00", "case_id": "y"}],
        now=dt.datetime.fromisoformat("2026-12-31T17:45:00+08:00"),
    )
    out = io.StringIO()
    now = dt.datetime.fromisoformat("2026-12-31T17:45:00+08:00")
    render_decision(decision, console_for(out, "never"), now=now, ruleset=tierrules.load_ruleset())
    [e2] = [line for line in out.getvalue().splitlines() if line.startswith("E2.")]
    assert "2027-01-04 09:30 (in" in e2  # next year: the year is shown (New Year holidays in between)


def test_compact_table_is_a_usage_error() -> None:
    proc = run_cli("evaluate", str(EXAMPLE), "--now", NOW, "--format", "table", "--compact")
    assert proc.returncode == 2
    assert "--compact is for JSON" in proc.stderr


def test_batch_table_shows_each_case_under_its_name(tmp_path: Path) -> None:
    log = tmp_path / "cases.jsonl"
    cases = [
        {"name": f"case {i}", "now": f"2026-11-24T1{i}:00:00+08:00", "events": [
            {"type": "complaint_registered", "at": "2026-11-24T09:30:00+08:00", "case_id": f"c{i}"}]}
        for i in range(2)
    ]  # fmt: skip
    log.write_text("".join(json.dumps(c) + "\n" for c in cases), encoding="utf-8")
    code, text = run("evaluate", "--batch", str(log), "--workers", "0", "--format", "table")
    assert code == 0
    assert "case 0: decision at 2026-11-24 10:00 +08:00" in text
    assert "case 1: decision at 2026-11-24 11:00 +08:00" in text
    assert "Obligations (3: 3 pending) · c0" in text
    assert "Escalations (1) · c1" in text  # at 11:00 the reply (due 10:30) is late: a supervisor is paged
    code, lines = run("evaluate", "--batch", str(log), "--workers", "0")
    assert [json.loads(line)["name"] for line in lines.splitlines()] == ["case 0", "case 1"]
