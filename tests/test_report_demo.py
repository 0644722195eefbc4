"""The demo month: seeded and committed, a realistic 50-seat centre, and the README's one command."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import tierrules
from tierrules.reporting import demo

ROOT = Path(__file__).resolve().parents[1]
LOG = ROOT / "examples" / "demo-month.jsonl"


def test_the_committed_log_is_the_generator_output(tmp_path: Path) -> None:
    fresh = tmp_path / "month.jsonl"
    count = demo.write(fresh)
    assert fresh.read_bytes() == LOG.read_bytes()
    assert LOG.stat().st_size < 5_000_000
    assert count == len(LOG.read_text(encoding="utf-8").splitlines())
    assert demo.generate(seed=1, scale=0.05) != demo.generate(seed=2, scale=0.05)


def test_a_month_of_a_50_seat_centre() -> None:
    cases = tierrules.read_cases(LOG)
    assert len(cases) > 3000
    assert len({c.name for c in cases}) == len(cases)
    events = [e for c in cases for e in c.events]
    teams: dict[str, set[str]] = {}
    for e in events:
        if "agent_id" in e:
            teams.setdefault(e["team"], set()).add(e["agent_id"])
    assert sum(len(agents) for agents in teams.values()) == 50 and len(teams) == 5
    types = Counter(e["type"] for e in events)
    for kind in (
        "complaint_registered",
        "feedback_received",
        "escalation_needed",
        "escalated",
        "customer_arrived",
        "visit_scheduled",
        "emergency_reported",
        "utterance",
        "customer_profile",
        "case_paused",
    ):
        assert types[kind] > 0, kind
    channels = Counter(e["channel"] for e in events if e["type"] == "case_opened")
    assert channels["phone"] > 1500 and channels["lobby"] > 500 and channels["visit"] > 10
    days = {e["at"][:10] for e in events if e["type"] == "case_opened"}
    assert len(days) == 30  # every day of November 2026
    for case in cases[:50]:  # each case has its own now, at or after its last event
        assert case.now >= max(e.at for e in tierrules.parse_events(case.events))


def test_the_readme_command_prints_the_table_and_writes_the_html(tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    proc = subprocess.run(
        [sys.executable, "-m", "tierrules", "report", str(LOG), "--by", "team", "-o", str(html)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("Attainment report: 3,")
    targets = lines[lines.index("Targets") + 3 : lines.index("Rules")]
    # Target Clause Period team Cases Met Breached Pending Cancelled Attainment ">=" "90%" Result ...
    verdicts = {(cells[0], cells[3]): cells[12] for cells in map(str.split, targets) if len(cells) > 12}
    assert verdicts[("E3.answered-in-24h", "hotline-b")] == "FAIL"
    assert verdicts[("E3.answered-in-24h", "hotline-a")] == "pass"
    assert verdicts[("E9.waited-under-2-minutes", "lobby-west")] == "FAIL"
    assert verdicts[("A4.procedure-compliance", "hotline-a")] == "pass"
    assert html.read_text(encoding="utf-8").count("Plotly.newPlot(") == 12
    assert f"wrote the html report to {html}" in proc.stderr
