"""Ruleset loading: valid default, and errors that name file, line, json-path and a suggestion."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import tierrules
from tierrules.compiler.conditions import Equals, MatchRule
from tierrules.matching.durable import MAX_DISTINCT_VALUES_PER_FIELD, check_limits


def test_default_ruleset_names_a_clause_for_every_rule() -> None:
    rs = tierrules.load_ruleset()
    assert rs.name == "default"
    assert {d.source for d in rs.deadlines} >= {"E1", "E2", "E3"}
    for rule in rs.deadlines:
        assert rule.description.zh and rule.description.en


@pytest.fixture
def ruleset_dir(tmp_path: Path) -> Path:
    target = tmp_path / "rs"
    shutil.copytree(tierrules.default_ruleset_path(), target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def load_error(path: Path) -> tierrules.RulesetError:
    with pytest.raises(tierrules.RulesetError) as info:
        tierrules.load_ruleset(path)
    assert isinstance(info.value, tierrules.TierrulesError)
    return info.value


def test_bad_duration_names_file_path_and_line(ruleset_dir: Path) -> None:
    deadlines = ruleset_dir / "deadlines.yaml"
    edit(deadlines, "within: 1 working hour", "within: 1 working fortnight")
    err = load_error(ruleset_dir)
    assert err.json_path == "$.deadlines[1].within"
    assert err.file == deadlines
    assert err.line == line_of(deadlines, "1 working fortnight")
    assert "deadlines.yaml" in str(err) and "fortnight" in str(err)


def test_unknown_event_type_suggests(ruleset_dir: Path) -> None:
    deadlines = ruleset_dir / "deadlines.yaml"
    edit(
        deadlines,
        "met_by: [{event: complaint_replied}, {event: complaint_resolved}]",
        "met_by: [{event: complaint_replyed}, {event: complaint_resolved}]",
    )
    err = load_error(ruleset_dir)
    assert err.json_path == "$.deadlines[1].met_by[0].event"
    assert err.best.suggestion == "complaint_replied"
    assert err.line == line_of(deadlines, "complaint_replyed")


def test_unknown_key_suggests(ruleset_dir: Path) -> None:
    deadlines = ruleset_dir / "deadlines.yaml"
    edit(deadlines, "    within: 10 minutes", "    withn: 10 minutes")
    err = load_error(ruleset_dir)
    paths = {p.json_path for p in err.problems}
    assert "$.deadlines[0].withn" in paths
    assert err.best.json_path == "$.deadlines[0].withn"
    assert err.best.suggestion == "within"


def test_bad_condition_value_suggests(ruleset_dir: Path) -> None:
    edit(ruleset_dir / "deadlines.yaml", "when: {severity: general}", "when: {severity: genral}")
    err = load_error(ruleset_dir)
    assert err.json_path == "$.deadlines[4].start.when.severity"
    assert err.best.suggestion == "general"


def test_unknown_calendar_suggests(ruleset_dir: Path) -> None:
    edit(ruleset_dir / "ruleset.yaml", "default_calendar: business", "default_calendar: busines")
    err = load_error(ruleset_dir)
    assert err.json_path == "$.default_calendar"
    assert err.best.suggestion == "business"
    assert err.file == ruleset_dir / "ruleset.yaml"


def test_bad_hours_and_timezone(ruleset_dir: Path) -> None:
    cal = ruleset_dir / "calendars.yaml"
    edit(cal, 'mon: ["09:00-18:00"]', 'mon: ["18:00-09:00"]')
    edit(cal, "timezone: Asia/Shanghai", "timezone: Asia/Shanghia")
    err = load_error(ruleset_dir)
    paths = {p.json_path for p in err.problems}
    assert "$.calendars.business.hours.mon[0]" in paths or "$.calendars.business" in paths


def test_duplicate_rule_id(ruleset_dir: Path) -> None:
    edit(ruleset_dir / "deadlines.yaml", "id: E2.complaint-reply", "id: E1.escalate")
    err = load_error(ruleset_dir)
    assert err.json_path == "$.deadlines[1].id"


def test_duplicate_yaml_key_is_refused(ruleset_dir: Path) -> None:
    deadlines = ruleset_dir / "deadlines.yaml"
    edit(deadlines, "    within: 10 minutes\n", "    within: 10 minutes\n    within: 20 minutes\n")
    err = load_error(ruleset_dir)
    assert "duplicate key 'within'" in str(err)
    assert err.line == line_of(deadlines, "within: 20 minutes")


def test_key_in_two_files_is_refused(ruleset_dir: Path) -> None:
    (ruleset_dir / "zz.yaml").write_text("timezone: UTC\n", encoding="utf-8")
    err = load_error(ruleset_dir)
    assert err.json_path == "$.timezone" and err.file == ruleset_dir / "zz.yaml"


def test_invalid_yaml_names_the_line(ruleset_dir: Path) -> None:
    (ruleset_dir / "deadlines.yaml").write_text("deadlines:\n  - id: [unclosed\n", encoding="utf-8")
    err = load_error(ruleset_dir)
    assert err.file == ruleset_dir / "deadlines.yaml" and err.line is not None


def test_a_bad_ruleset_is_not_half_applied(ruleset_dir: Path) -> None:
    edit(ruleset_dir / "deadlines.yaml", "within: 24 hours", "within: soon")
    load_error(ruleset_dir)
    # The default engine is unaffected and still evaluates.
    assert tierrules.Engine(tierrules.load_ruleset()).ruleset.name == "default"


def test_mapping_input_reports_paths() -> None:
    with pytest.raises(tierrules.RulesetError) as info:
        tierrules.load_ruleset({"name": "x", "version": "1"})
    paths = {p.json_path for p in info.value.problems}
    assert {"$.timezone", "$.default_calendar", "$.calendars"} <= paths


def test_too_many_values_on_one_field_is_refused() -> None:
    rules = [MatchRule(f"r{i}", Equals("type", f"t{i}")) for i in range(MAX_DISTINCT_VALUES_PER_FIELD + 1)]
    assert any("distinct values" in p.message for p in check_limits(rules))
    assert not any("distinct values" in p.message for p in check_limits(rules[1:]))
