"""``tierrules report``: tables (rich on a terminal, plain piped), CSV, JSON, HTML; exit 2 on bad input."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from pathlib import Path

import pytest

import tierrules
from tierrules.cli import main
from tierrules.reporting import demo
from tierrules.reporting.table import write_table

COLOUR = re.compile(r"\x1b\[[0-9;]*(3[0-7]|9[0-7]|38;)")  # an SGR sequence setting a foreground colour


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "cases.jsonl"
    demo.write(path, seed=5, scale=0.06)
    return path


@pytest.fixture(scope="module")
def api(log: Path) -> tierrules.Report:
    return tierrules.report(log, workers=0)


def run(*argv: str, out: io.StringIO | None = None) -> tuple[int, str]:
    stream = out if out is not None else io.StringIO()
    return main(list(argv), out=stream), stream.getvalue()


def test_piped_table_is_plain_text(log: Path, api: tierrules.Report) -> None:
    code, text = run("report", str(log))
    assert code == 0
    assert "\x1b" not in text
    assert text.startswith(f"Attainment report: {api.cases:,} cases (each at its own now)")
    for title in (
        "Targets",
        "Rules",
        "Breaches by weekday",
        "Breaches by hour",
        "Escalations raised",
        "Etiquette findings per clause",
        "Call scores per agent",
    ):
        assert f"\n{title}" in text
    row = next(line for line in text.splitlines() if line.startswith("E9.responded-in-24h"))
    target = next(t for t in api.targets if t.target == "E9.responded-in-24h")
    assert row.split()[4:8] == [str(target.cases), str(target.met), str(target.breached), str(target.pending)]


def test_terminal_table_is_rich_and_honours_no_color(log: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    code, coloured = run("report", str(log), out=Terminal())
    assert code == 0 and COLOUR.search(coloured)
    assert "Targets" in coloured and "E3.answered-in-24h" in coloured
    monkeypatch.setenv("NO_COLOR", "1")
    code, plain = run("report", str(log), out=Terminal())
    assert code == 0 and not COLOUR.search(plain)
    assert "E3.answered-in-24h" in plain


def test_rich_and_plain_show_the_same_cells(api: tierrules.Report) -> None:
    rich_out, plain_out = Terminal(), io.StringIO()
    write_table(api, rich_out, terminal=True, width=250)
    write_table(api, plain_out)
    for row in api.targets:
        assert row.target in rich_out.getvalue() and f"{row.attainment:.1f}%" in plain_out.getvalue()


def test_json_is_the_python_api(log: Path, api: tierrules.Report) -> None:
    code, text = run("report", str(log), "--format", "json")
    assert code == 0
    assert text == api.to_json()
    assert json.loads(text)["targets"][0]["target"] == "E3.answered-in-24h"


def test_csv_by_team(log: Path) -> None:
    code, text = run("report", str(log), "--format", "csv", "--by", "team")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(text)))
    rep = tierrules.report(log, by=["team"], workers=0)
    assert len(rows) == len(rep.targets) + len(rep.rules)
    first = rows[0]
    assert (first["kind"], first["id"], first["group.team"]) == (
        "target",
        "E3.answered-in-24h",
        rep.targets[0].group["team"],
    )
    assert int(first["met"]) == rep.targets[0].met and first["status"] in {"pass", "fail"}
    assert {r["kind"] for r in rows} == {"target", "rule"}


def test_output_file_format_from_its_suffix(
    log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.csv"
    code, table = run("report", str(log), "-o", str(out))
    assert code == 0
    assert out.read_text(encoding="utf-8").startswith("kind,id,source,period,period_start")
    assert "Targets" in table  # the table is still printed
    assert "wrote the csv report to" in capsys.readouterr().err
    code, quiet = run("report", str(log), "-o", str(tmp_path / "r.json"), "-q")
    assert code == 0 and quiet == ""
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["cases"] > 100


def test_html_file(log: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    code, table = run("report", str(log), "--by", "team", "-o", str(out))
    assert code == 0 and "Targets" in table
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Plotly.newPlot" in page
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", page)  # nothing fetched: self-contained


def test_html_without_the_extra_is_a_clear_error(
    log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "plotly", None)  # import plotly now raises ImportError
    with pytest.raises(SystemExit) as info:
        run("report", str(log), "--format", "html", "-o", str(tmp_path / "r.html"))
    assert info.value.code == 2
    assert "pip install 'tierrules[report]'" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--by", "tem"], "did you mean 'team'?"),
        (["--by", "team,team"], "listed twice"),
        (["--period", "fortnight"], "invalid choice"),
        (["--format", "pdf"], "invalid choice"),
        (["--now", "2026-11-30T00:00:00"], "add a UTC offset"),
        (["-q"], "--quiet goes with -o"),
        (["--workers", "2", "--scheduler", "tcp://x:1"], "not both"),
        (["-o", "/nonexistent/dir/r.html"], "cannot write into /nonexistent/dir"),
    ],
)
def test_bad_arguments_exit_2(
    log: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        run("report", str(log), *argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_a_bad_case_exits_2_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "bad.jsonl"
    good = {"name": "ok", "now": "2026-11-24T12:00:00+08:00", "events": []}
    bad = {
        "name": "broken",
        "now": "2026-11-24T12:00:00+08:00",
        "events": [
            {
                "type": "feedback_received",
                "at": "2026-11-24T10:00:00+08:00",
                "case_id": "c",
                "severity": "hot",
            }
        ],
    }
    log.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    code, out = run("report", str(log))
    assert code == 2 and out == ""
    assert "case broken" in capsys.readouterr().err
    log.write_text(json.dumps(good) + "\n{not json\n", encoding="utf-8")
    code, _ = run("report", str(log))
    assert code == 2
    assert "line 2" in capsys.readouterr().err
    code, _ = run("report", str(tmp_path / "missing.jsonl"))
    assert code == 2


def test_one_now_for_all_and_events_after_it_refused(log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, text = run("report", str(log), "--now", "2026-12-31T00:00:00+08:00", "--format", "json")
    assert code == 0
    data = json.loads(text)
    assert data["now"] == "2026-12-31T00:00:00+08:00"
    assert (
        sum(r["pending"] for r in data["rules"] if r["rule"].startswith("E")) == 0
    )  # everything is due by then
    code, _ = run("report", str(log), "--now", "2026-11-02T00:00:00+08:00")
    assert code == 2
    assert "event is after now" in capsys.readouterr().err
