"""The ruleset's ``targets`` section: the bundled targets, and bad targets refused where they are written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

import tierrules
from tierrules.ruleset import Target

DEFAULT = tierrules.default_ruleset_path()


def test_bundled_targets_cite_their_clauses() -> None:
    ruleset = tierrules.load_ruleset()
    found = {t.id: (t.source, t.measure, t.op, t.percent, t.rules) for t in ruleset.targets}
    assert found == {
        "E3.answered-in-24h": ("E3", "met_in_time", ">=", 90, ["E3.feedback-response"]),
        "E9.responded-in-24h": ("E9", "met_in_time", ">=", 100, ["E9.complaint-response"]),
        "E9.resolved-in-48h": ("E9", "met_in_time", ">=", 90, ["E9.complaint-resolution"]),
        "E9.waited-under-2-minutes": ("E9", "met_in_time", ">=", 100, ["E9.waiting"]),
        "A4.procedure-compliance": ("A4", "calls_passed", ">", 95, None),
    }
    text = (DEFAULT / "targets.yaml").read_text(encoding="utf-8")
    for unmeasurable in ("first-contact resolution", "NPS", "A5"):
        assert unmeasurable in text  # the YAML says what the events cannot measure


def test_json_schema_validates_the_bundled_ruleset() -> None:
    import jsonschema  # the test extra installs it

    data: dict[str, Any] = {}
    for path in sorted(DEFAULT.glob("*.yaml")):
        data.update(yaml.safe_load(path.read_text(encoding="utf-8")))
    schema = tierrules.Ruleset.model_json_schema()
    jsonschema.validate(json.loads(json.dumps(data, default=str)), schema)
    assert "targets" in schema["properties"]
    bad = {**data, "targets": [{**data["targets"][0], "at_least": "90%"}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(json.loads(json.dumps(bad, default=str)), schema)


def with_targets(tmp_path: Path, targets: list[dict[str, Any]]) -> Path:
    where = tmp_path / "rs"
    shutil.copytree(DEFAULT, where)
    (where / "targets.yaml").write_text(
        yaml.safe_dump({"targets": targets}, allow_unicode=True), encoding="utf-8"
    )
    return where


def target(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "X.test",
        "source": "E3",
        "description": {"zh": "测试", "en": "test"},
        "rules": ["E3.feedback-response"],
        "at_least": 90,
    }
    return {k: v for k, v in {**base, **fields}.items() if v is not None}


def refused(tmp_path: Path, *targets: dict[str, Any]) -> tierrules.RulesetError:
    with pytest.raises(tierrules.RulesetError) as info:
        tierrules.load_ruleset(with_targets(tmp_path, list(targets)))
    return info.value


def test_unknown_rule_gets_a_did_you_mean_with_file_and_line(tmp_path: Path) -> None:
    err = refused(tmp_path, target(), target(id="X.two", rules=["E3.feedback-responce"]))
    assert err.json_path == "$.targets[1].rules[0]"
    assert err.best.suggestion == "E3.feedback-response"
    assert err.file is not None and err.file.name == "targets.yaml" and err.line is not None
    assert "did you mean 'E3.feedback-response'?" in str(err)


def test_an_etiquette_check_is_not_an_obligation_rule(tmp_path: Path) -> None:
    err = refused(tmp_path, target(rules=["Q5.forbidden-phrases"]))
    assert "not one of the obligations measure met_in_time counts" in str(err)


def test_unknown_clause_and_group_field(tmp_path: Path) -> None:
    err = refused(tmp_path, target(rules=None, clauses=["E13"], by=["teams"]))
    messages = {p.json_path: p for p in err.problems}
    assert messages["$.targets[0].clauses[0]"].suggestion in {"E1", "E12", "E3"}
    assert messages["$.targets[0].by[0]"].suggestion == "team"


def test_meta_group_fields_need_a_key(tmp_path: Path) -> None:
    assert tierrules.load_ruleset(with_targets(tmp_path, [target(by=["meta.site", "team"])])).targets
    err = refused(tmp_path / "x", target(by=["meta."]))
    assert "meta.<key>" in str(err)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"above": 95}, "exactly one of 'at_least'"),
        ({"at_least": None}, "exactly one of 'at_least'"),
        ({"at_least": 101}, "less than or equal to 100"),
        ({"rules": None}, "needs 'rules' or 'clauses'"),
        ({"clauses": ["E3"]}, "'rules' or 'clauses', not both"),
        ({"measure": "calls_passed"}, "takes no 'rules' or 'clauses'"),
        ({"period": "fortnight"}, "'day', 'week', 'month', 'quarter' or 'all'"),
        ({"at_least": 0.9}, "0.9 means 0.9%; write 90 for 90%"),
        ({"id": "E3.feedback-response"}, "target id is also a rule id"),
        ({"measure": "calls_passed", "rules": None, "at_least": 90, "source": "A4"}, None),
    ],
)
def test_bad_shapes(tmp_path: Path, fields: dict[str, Any], message: str | None) -> None:
    written = {**target(), **fields}
    written = {k: v for k, v in written.items() if v is not None}
    if message is None:
        assert tierrules.load_ruleset(with_targets(tmp_path, [written])).targets[0].measure == "calls_passed"
        return
    err = refused(tmp_path, written)
    assert message in str(err)
    assert err.json_path.startswith("$.targets[0]")


def test_duplicate_target_ids(tmp_path: Path) -> None:
    err = refused(tmp_path, target(), target())
    assert err.json_path == "$.targets[1].id" and "duplicate target id" in str(err)


def test_calls_measures_need_a_scorecard(tmp_path: Path) -> None:
    where = with_targets(
        tmp_path, [target(measure="calls_without_violation", rules=["Q5.forbidden-phrases"])]
    )
    assert tierrules.load_ruleset(where).targets[0].rules == ["Q5.forbidden-phrases"]
    (where / "etiquette.yaml").unlink()
    with pytest.raises(tierrules.RulesetError, match="no 'etiquette' section"):
        tierrules.load_ruleset(where)


def test_calls_without_violation_counts_fail_findings_of_the_checks_named(tmp_path: Path) -> None:
    where = with_targets(
        tmp_path,
        [
            target(
                id="Q5.courteous-calls",
                source="Q5",
                measure="calls_without_violation",
                rules=None,
                clauses=["Q5", "Q8"],
                at_least=100,
            )
        ],
    )
    ruleset = tierrules.load_ruleset(where)
    from tierrules.reporting import demo

    cases = demo.cases(seed=2, scale=0.08)
    rep = tierrules.report(cases, ruleset=ruleset, period="all", workers=0)
    engine = tierrules.Engine(ruleset)
    calls = failed = 0
    for case in cases:
        decision = engine.evaluate(case.events, case.now)
        for score in decision.scores:
            calls += 1
            failed += any(
                v.case_id == score.case_id and v.source in ("Q5", "Q8") and v.severity == "fail"
                for v in decision.violations
            )
    [row] = rep.targets
    assert 0 < failed < calls
    assert (row.met + row.breached, row.breached) == (calls, failed)
    assert row.rules == ["Q5.forbidden-phrases", "Q8.closing"]


def test_target_model_is_public() -> None:
    assert Target.model_json_schema()["title"] == "Target"
    assert tierrules.Ruleset.model_fields["targets"].default_factory is not None
