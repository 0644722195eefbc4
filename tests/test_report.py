"""Attainment reports: every number checked against an independent count over the same decisions.

The counts here are written again, deliberately simply, from the decisions' JSON (what
``tierrules evaluate --batch`` prints): no code of ``tierrules.reporting`` is used to compute
the expected values.
"""

from __future__ import annotations

import datetime as dt
import importlib
import io
import json
import random
import statistics
from collections import Counter, defaultdict
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tierrules
from tierrules import batch, testing
from tierrules.reporting import demo, from_decisions
from tierrules.reporting.html import render_html
from tierrules.reporting.table import write_table

from .conftest import at, ev

SHANGHAI = ZoneInfo("Asia/Shanghai")
RULESET = tierrules.load_ruleset()


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(SHANGHAI)


@pytest.fixture(scope="module")
def month() -> tuple[list[tierrules.CaseRecord], list[dict[str, Any]]]:
    """A fifth of the demo month (about 700 cases) and each case's decision as JSON data."""
    cases = demo.cases(seed=11, scale=0.2)
    engine = tierrules.Engine(RULESET)
    decisions = [json.loads(engine.evaluate(c.events, c.now).to_json()) for c in cases]
    return cases, decisions


@pytest.fixture(scope="module")
def by_team(month: tuple[list[tierrules.CaseRecord], list[dict[str, Any]]]) -> tierrules.Report:
    return tierrules.report(month[0], by=["team"], workers=0)


@pytest.fixture(scope="module")
def overall(month: tuple[list[tierrules.CaseRecord], list[dict[str, Any]]]) -> tierrules.Report:
    return tierrules.report(month[0], workers=0)


# --- the independent count -------------------------------------------------------------------


def first_event(case: tierrules.CaseRecord, case_id: str | None) -> dt.datetime:
    return min(local(e["at"]) for e in case.events if e.get("case_id") == case_id)


def expected_targets(
    cases: list[tierrules.CaseRecord], decisions: list[dict[str, Any]]
) -> dict[Any, Counter[str]]:
    """(target, month, team) -> statuses, straight from the decisions."""
    out: dict[Any, Counter[str]] = defaultdict(Counter)
    for case, decision in zip(cases, decisions, strict=True):
        for ob in decision["obligations"]:
            for target in RULESET.targets:
                if target.measure == "met_in_time" and ob["rule"] in (target.rules or []):
                    key = (target.id, local(ob["started_at"]).strftime("%Y-%m"), ob.get("team"))
                    out[key][ob["status"]] += 1
        for score in decision["scores"]:
            for target in RULESET.targets:
                if target.measure == "calls_passed":
                    key = (
                        target.id,
                        first_event(case, score["case_id"]).strftime("%Y-%m"),
                        score.get("team"),
                    )
                    out[key]["met" if score["passed"] else "breached"] += 1
    return out


def test_every_target_row_matches_the_independent_count(month: Any, by_team: tierrules.Report) -> None:
    expected = expected_targets(*month)
    got = {(r.target, r.period, r.group["team"]): r for r in by_team.targets}
    assert set(got) == set(expected)
    thresholds = {t.id: t for t in RULESET.targets}
    for key, counts in expected.items():
        row = got[key]
        assert (row.met, row.breached, row.pending, row.cancelled) == (
            counts["met"],
            counts["breached"],
            counts["pending"],
            counts["cancelled"],
        ), key
        decided = counts["met"] + counts["breached"]
        assert row.attainment == pytest.approx(100 * counts["met"] / decided)
        target = thresholds[key[0]]
        if target.at_least is not None:
            passed = counts["met"] * 100 >= target.at_least * decided
        else:
            assert target.above is not None
            passed = counts["met"] * 100 > target.above * decided
        assert row.status == ("pass" if passed else "fail"), key


def test_the_demo_month_has_teams_that_pass_and_teams_that_fail(by_team: tierrules.Report) -> None:
    verdicts = {(r.target, r.group["team"]): r.status for r in by_team.targets}
    assert verdicts[("E3.answered-in-24h", "hotline-b")] == "fail"
    assert verdicts[("E3.answered-in-24h", "hotline-a")] == "pass"
    assert verdicts[("E9.waited-under-2-minutes", "lobby-west")] == "fail"
    assert verdicts[("E9.waited-under-2-minutes", "lobby-east")] == "pass"
    assert verdicts[("E9.resolved-in-48h", "complaints")] == "fail"


def test_rule_rows_match_the_independent_count(month: Any, overall: tierrules.Report) -> None:
    cases, decisions = month
    expected: dict[Any, Counter[str]] = defaultdict(Counter)
    case_sets: dict[Any, set[Any]] = defaultdict(set)
    for case, decision in zip(cases, decisions, strict=True):
        for ob in decision["obligations"]:
            key = (ob["rule"], local(ob["started_at"]).strftime("%Y-%m"))
            expected[key][ob["status"]] += 1
            case_sets[key].add((case.name, ob["case_id"]))
    got = {(r.rule, r.period): r for r in overall.rules}
    assert set(got) == set(expected)
    for key, counts in expected.items():
        row = got[key]
        assert row.items == sum(counts.values())
        assert (row.met, row.breached, row.pending) == (counts["met"], counts["breached"], counts["pending"])
        assert row.cases == len(case_sets[key])
    order = [r.rule for r in overall.rules if r.period == "2026-11"]
    assert RULESET.tiers is not None
    rule_ids = [r.id for r in RULESET.deadlines] + [c.id for c in RULESET.tiers.cadences]
    assert order == [r for r in rule_ids if r in order]  # the ruleset's order


def test_worst_cases_are_the_latest_breaches(month: Any, overall: tierrules.Report) -> None:
    cases, decisions = month
    late = []
    for case, decision in zip(cases, decisions, strict=True):
        for ob in decision["obligations"]:
            if ob["rule"] == "E9.complaint-resolution" and ob["status"] == "breached":
                end = local(ob["met_at"]) if ob["met_at"] else case.now
                late.append((end - local(ob["due_at"]), ob["id"]))
    late.sort(key=lambda x: (-x[0], x[1]))
    [row] = [r for r in overall.targets if r.target == "E9.resolved-in-48h"]
    assert [w.item for w in row.worst] == [item for _, item in late[:5]]
    assert [w.late_by for w in row.worst] == [lateness for lateness, _ in late[:5]]
    assert all(w.late_by is not None and w.late_by > dt.timedelta(0) for w in row.worst)


def test_breaches_by_weekday_and_hour(month: Any, overall: tierrules.Report) -> None:
    grid = [[0] * 24 for _ in range(7)]
    for decision in month[1]:
        for ob in decision["obligations"]:
            if ob["status"] == "breached":
                due = local(ob["due_at"])
                grid[due.weekday()][due.hour] += 1
    assert overall.breach_times.matrix == grid
    assert overall.breach_times.by_weekday == [sum(row) for row in grid]
    assert sum(overall.breach_times.by_hour) == sum(map(sum, grid)) > 0


def test_escalations_violations_and_scores(month: Any, overall: tierrules.Report) -> None:
    decisions = month[1]
    raised = Counter(e["rule"] for d in decisions for e in d["escalations"])
    levels = Counter((e["rule"], str(e["to_level"])) for d in decisions for e in d["escalations"])
    assert {r.rule: r.raised for r in overall.escalations} == dict(raised)
    assert {(r.rule, lv): n for r in overall.escalations for lv, n in r.by_level.items()} == dict(levels)
    findings = Counter((v["source"], v["rule"], v["severity"]) for d in decisions for v in d["violations"])
    got = {}
    for row in overall.violations:
        got.update({(row.source, row.rule, "fail"): row.fail, (row.source, row.rule, "review"): row.review})
    assert {k: v for k, v in got.items() if v} == dict(findings)
    calls: dict[Any, list[Any]] = defaultdict(list)
    for d in decisions:
        for s in d["scores"]:
            calls[s.get("agent_id"), s.get("team")].append(s)
    assert len(overall.scores) == len(calls) > 20
    for row in overall.scores:
        mine = calls[row.agent_id, row.team]
        percents = [s["percent"] for s in mine]
        assert row.calls == len(mine)
        assert row.passed == sum(s["passed"] for s in mine)
        assert row.mean == pytest.approx(statistics.fmean(percents))
        assert (row.min, row.max) == (min(percents), max(percents))
        assert row.median == pytest.approx(statistics.median(percents))
        assert sum(row.histogram) == len(mine)


def test_grouping_by_channel_reads_the_cases_events(month: Any) -> None:
    cases, decisions = month
    expected: Counter[Any] = Counter()
    for case, decision in zip(cases, decisions, strict=True):
        channel = {e["case_id"]: e["channel"] for e in case.events if e["type"] == "case_opened"}
        for ob in decision["obligations"]:
            if ob["rule"] == "E9.complaint-response":
                expected[channel.get(ob["case_id"]), ob["status"]] += 1
    rep = tierrules.report(cases, by=["channel"], workers=0)
    got: Counter[Any] = Counter()
    for row in rep.targets:
        if row.target == "E9.responded-in-24h":
            for status in ("met", "breached", "pending", "cancelled"):
                if getattr(row, status):
                    got[row.group["channel"], status] += getattr(row, status)
    assert got == expected
    assert {"phone", "lobby"} <= {channel for channel, _ in got}


def test_from_decisions_equals_report(month: Any, by_team: tierrules.Report) -> None:
    cases, decisions = month
    assert from_decisions(cases, decisions, by=["team"]).to_json() == by_team.to_json()
    as_text = [json.dumps(d) for d in decisions]
    assert from_decisions(cases, as_text, by=["team"]) == by_team


def test_one_now_for_every_case(month: Any) -> None:
    cases = month[0][:80]
    now = max(c.now for c in cases)
    rep = tierrules.report(cases, now=now, workers=0)
    engine = tierrules.Engine(RULESET)
    pending = sum(
        1 for c in cases for o in engine.evaluate(c.events, now).obligations if o.status == "pending"
    )
    assert sum(r.pending for r in rep.rules) == pending
    assert rep.now == now


def test_json_round_trips_and_is_deterministic(by_team: tierrules.Report, month: Any) -> None:
    text = by_team.to_json()
    assert tierrules.Report.model_validate_json(text) == by_team
    shuffled = list(month[0])
    random.Random(5).shuffle(shuffled)
    assert tierrules.report(shuffled, by=["team"], workers=0).to_json() == text


def test_to_dataframe(by_team: tierrules.Report) -> None:
    frame = by_team.to_dataframe("targets")
    assert list(frame["target"].unique())[:2] == ["E3.answered-in-24h", "E9.responded-in-24h"]
    assert "group.team" in frame.columns and len(frame) == len(by_team.targets)
    assert by_team.to_dataframe("breach_times")["breaches"].sum() == sum(by_team.breach_times.by_weekday)
    with pytest.raises(ValueError, match="unknown table"):
        by_team.to_dataframe("nope")


# --- decisions from a newer tierrules: extra fields, cancelled obligations ------------------------


def complaint_case() -> tuple[tierrules.CaseRecord, dict[str, Any]]:
    events = [
        ev("case_opened", "2026-11-24 10:00", channel="phone", agent_id="A1", team="t1"),
        ev("complaint_registered", "2026-11-24 10:05"),
        ev("complaint_replied", "2026-11-24 10:30"),
    ]
    now = at("2026-11-27 12:00")
    decision = json.loads(tierrules.evaluate(events, now=now).to_json())
    return tierrules.CaseRecord("c1", events, now), decision


def test_unknown_fields_and_a_cancelled_status_are_read() -> None:
    record, decision = complaint_case()
    decision["next_check_by_case"] = {"c1": None}
    for item in [*decision["obligations"], *decision["escalations"]]:
        item["message"] = {"zh": "消息", "en": "message"}
        item["start_event_id"] = "e-1"
    [resolution] = [o for o in decision["obligations"] if o["rule"] == "E9.complaint-resolution"]
    assert resolution["status"] == "breached"
    resolution["status"] = "cancelled"
    rep = from_decisions([record], [decision])
    [row] = [r for r in rep.targets if r.target == "E9.resolved-in-48h"]
    assert (row.items, row.met, row.breached, row.pending, row.cancelled) == (1, 0, 0, 0, 1)
    assert (row.attainment, row.status) == (None, "no data")
    [replied] = [r for r in rep.targets if r.target == "E9.responded-in-24h"]
    assert (replied.met, replied.status) == (1, "pass")


def test_an_unknown_status_is_refused_not_dropped() -> None:
    record, decision = complaint_case()
    decision["obligations"][0]["status"] = "waived"
    with pytest.raises(tierrules.EngineError, match="unknown status 'waived'"):
        from_decisions([record], [decision])


def test_escalations_are_grouped_by_the_obligation_behind_them() -> None:
    events = [
        ev("case_opened", "2026-11-24 10:00", channel="phone", agent_id="A1", team="t1"),
        ev("complaint_registered", "2026-11-24 10:05", agent_id="B7", team="desk"),
    ]
    rep = tierrules.report(
        [tierrules.CaseRecord("c", events, at("2026-11-26 12:00"))], by=["team"], workers=0
    )
    teams = {(r.rule, r.group["team"]) for r in rep.escalations}
    assert ("E2.complaint-reply", "desk") in teams


def test_bad_arguments() -> None:
    record, decision = complaint_case()
    with pytest.raises(ValueError, match="did you mean 'team'"):
        from_decisions([record], [decision], by=["teams"])
    with pytest.raises(ValueError, match="unknown period"):
        from_decisions([record], [decision], period="fortnight")
    with pytest.raises(ValueError, match="1 records but 0 decisions"):
        from_decisions([record], [])


def test_meta_keys_group_and_periods_label() -> None:
    events = [
        ev("case_opened", "2026-11-30 10:00", channel="lobby", meta={"site": "north"}),
        ev("complaint_registered", "2026-11-30 10:05"),
        ev("case_opened", "2026-12-01 10:00", case="c2", channel="lobby", meta={"site": "south"}),
        ev("complaint_registered", "2026-12-01 10:05", case="c2"),
    ]
    rep = tierrules.report(
        [tierrules.CaseRecord("r", events, at("2026-12-01 10:30"))],
        by=["meta.site"],
        period="week",
        workers=0,
    )
    rows = {(r.period, r.group["meta.site"]) for r in rep.rules if r.rule == "E2.complaint-reply"}
    assert rows == {("2026-W49", "north"), ("2026-W49", "south")}
    quarter = tierrules.report([tierrules.CaseRecord("r", events, at("2026-12-01 10:30"))], period="quarter")
    assert {r.period for r in quarter.rules} == {"2026-Q4"}


# --- properties over generated cases ---------------------------------------------------------------


def _staffed(events: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    out = []
    for e in events:
        e = dict(e)
        if e.get("case_id") and rng.random() < 0.5:
            e["team"] = rng.choice(["red", "blue"])
            e["agent_id"] = e["team"][0] + str(rng.randint(1, 3))
        out.append(e)
    return out


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(testing.timed_cases(RULESET), min_size=1, max_size=6), st.randoms(use_true_random=False))
def test_groups_add_up_to_the_whole(timed: list[Any], rng: random.Random) -> None:
    records = [
        tierrules.CaseRecord(f"r{i}", _staffed(events, rng), now) for i, (events, now) in enumerate(timed)
    ]
    whole = tierrules.report(records, period="all", workers=0)
    parts = tierrules.report(records, period="all", by=["team", "channel"], workers=0)
    for kind in ("rules", "targets"):
        totals: Counter[Any] = Counter()
        for row in getattr(parts, kind):
            assert row.items == row.met + row.breached + row.pending + row.cancelled
            for status in ("met", "breached", "pending", "cancelled"):
                totals[getattr(row, "rule", None) or row.target, status] += getattr(row, status)
        wholes = Counter(
            {
                (getattr(row, "rule", None) or row.target, status): getattr(row, status)
                for row in getattr(whole, kind)
                for status in ("met", "breached", "pending", "cancelled")
            }
        )
        assert +totals == +wholes
    breached = sum(r.breached for r in whole.rules)
    assert sum(whole.breach_times.by_weekday) == breached


# --- on Dask -----------------------------------------------------------------------------------


def test_dask_gives_the_in_process_report(month: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # several rounds, counted while the next runs
    monkeypatch.setattr(importlib.import_module("tierrules.reporting"), "CHUNK_CASES", 60)
    cases = month[0][:250]
    broken = tierrules.CaseRecord(
        "broken", [{"type": "complaint_registered", "at": "yesterday", "case_id": "x"}], cases[0].now
    )
    with batch.open_client(workers=2) as client:
        address = str(client.scheduler.address)
        on_dask = tierrules.report(cases, by=["team"], address=address)
        with pytest.raises(tierrules.EventError, match="case broken"):
            tierrules.report([*cases[:100], broken, *cases[100:]], address=address)
    assert on_dask.to_json() == tierrules.report(cases, by=["team"], workers=0).to_json()
    with pytest.raises(tierrules.EventError, match="case broken"):
        tierrules.report([*cases[:10], broken], workers=0)


@pytest.mark.parametrize("name", ["tierrules.reporting", "tierrules.reporting.demo"])
def test_docstring_examples(name: str) -> None:
    import doctest

    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_a_target_nothing_counted_for_says_no_data() -> None:
    events = [
        ev("case_opened", "2026-11-24 10:00", channel="phone"),
        ev("complaint_registered", "2026-11-24 10:05"),
    ]
    rep = tierrules.report(
        [tierrules.CaseRecord("c", events, at("2026-11-24 10:30"))], by=["team"], workers=0
    )
    rows = {r.target: r for r in rep.targets}
    assert set(rows) == {t.id for t in RULESET.targets}  # every target, none left out
    for target in ("E3.answered-in-24h", "E9.waited-under-2-minutes", "A4.procedure-compliance"):
        row = rows[target]
        assert (row.items, row.status, row.period, row.group) == (0, "no data", "2026-11", {"team": None})
    assert rows["E9.responded-in-24h"].pending == 1
    empty = tierrules.report([], workers=0)
    assert (empty.cases, empty.targets, empty.rules) == (0, [], [])
    text = io.StringIO()
    write_table(empty, text)
    assert text.getvalue().count("(none)") == 5  # targets, rules, escalations, findings, scores
    assert "no case was counted" in render_html(empty) and "<table>" in render_html(empty)
