"""The editor schemas (``tierrules schema``, ``schema/*.schema.json``) accept what the loader accepts.

Every bundled ruleset file is validated on its own (against the any-file schema and its
own file's schema) and merged (against the whole-document schema) with ``jsonschema``;
what the schemas refuse, the loader refuses too. YAML is read the way a YAML language
server reads it (YAML 1.2: ``2026-12-31`` is a string, not a date).
"""

from __future__ import annotations

import copy
import io
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given, settings

import tierrules
from tierrules import testing
from tierrules.cli import main
from tierrules.events import EVENT_TYPES
from tierrules.ruleset.schema import (
    CLAUSES,
    DIALECT,
    HEADER_KEYS,
    render,
    ruleset_schema,
    schema_file_name,
    schema_names,
)

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_DIR = ROOT / "schema"
DEFAULT = ROOT / "rulesets" / "default"
RULESET_FILES = sorted(p for p in DEFAULT.glob("*.yaml") if not p.name.endswith(".test.yaml"))


class _Yaml12Loader(yaml.SafeLoader):
    """PyYAML without YAML 1.1 timestamps: dates stay strings, as editors see them."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_Yaml12Loader)


def errors(schema: dict[str, Any], document: Any) -> list[str]:
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    return [f"{e.json_path}: {e.message[:200]}" for e in validator.iter_errors(document)]


def merged_default() -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for path in RULESET_FILES:
        merged.update(load_yaml(path.read_text(encoding="utf-8")))
    return merged


# --- the checked-in files ---------------------------------------------------------------------


def test_schema_directory_is_up_to_date() -> None:
    stale = [
        name
        for name in schema_names()
        if not (SCHEMA_DIR / schema_file_name(name)).is_file()
        or (SCHEMA_DIR / schema_file_name(name)).read_text(encoding="utf-8") != render(ruleset_schema(name))
    ]
    known = {schema_file_name(name) for name in schema_names()}
    extra = sorted(p.name for p in SCHEMA_DIR.glob("*.schema.json") if p.name not in known)
    assert not stale, f"schema/ is out of date for {stale}: run `tierrules schema --all schema`"
    assert not extra, f"schema/ has files no schema produces: {extra}"


def test_cli_check_reports_a_stale_directory(tmp_path: Path) -> None:
    out = io.StringIO()
    assert main(["schema", "--all", str(tmp_path)], out) == 0
    assert main(["schema", "--all", str(tmp_path), "--check"], io.StringIO()) == 0
    (tmp_path / "deadlines.schema.json").write_text("{}\n", encoding="utf-8")
    report = io.StringIO()
    assert main(["schema", "--all", str(tmp_path), "--check"], report) == 1
    assert f"out of date: {tmp_path / 'deadlines.schema.json'}" in report.getvalue()


# --- the schemas themselves -----------------------------------------------------------------------


@pytest.mark.parametrize("name", schema_names())
def test_each_schema_is_draft7_with_id_and_dialect(name: str) -> None:
    schema = ruleset_schema(name)
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["$schema"] == DIALECT
    assert schema["$id"].endswith(f"/schema/{schema_file_name(name)}")
    assert schema["title"] and schema["description"]


def _keys_without_description(node: Any, path: str = "$") -> list[str]:
    """Every key of every object schema that has no description (`if` conditions aside)."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, prop in node.get("properties", {}).items():
            if isinstance(prop, dict) and not prop.get("description"):
                found.append(f"{path}.properties.{key}")
        for key, value in node.items():
            if key != "if":
                found += _keys_without_description(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _keys_without_description(value, f"{path}[{i}]")
    return found


@pytest.mark.parametrize("name", schema_names())
def test_every_key_has_a_description(name: str) -> None:
    assert _keys_without_description(ruleset_schema(name)) == []


def test_per_file_schemas_cover_every_section_of_the_format() -> None:
    sections = [k for k in tierrules.Ruleset.model_fields if k not in HEADER_KEYS]
    assert list(schema_names()) == ["file", "document", "ruleset", *sections]
    assert set(ruleset_schema("ruleset")["properties"]) == set(HEADER_KEYS)
    for section in sections:
        assert list(ruleset_schema(section)["properties"]) == [section]
        assert ruleset_schema(section)["required"] == [section]
    assert ruleset_schema("file")["required"] == []
    assert set(ruleset_schema("document")["required"]) >= {"name", "version", "timezone", "calendars"}


def test_event_names_and_clause_ids_are_enums() -> None:
    trigger = ruleset_schema("deadlines")["definitions"]["Trigger"]["properties"]["event"]
    case_events = [name for name, model in EVENT_TYPES.items() if model.scope == "case"]
    assert trigger["enum"] == case_events
    assert len(trigger["enumDescriptions"]) == len(case_events)
    sources = ruleset_schema("deadlines")["definitions"]["DeadlineRule"]["properties"]["source"]
    assert sources["enum"] == list(CLAUSES)
    tier_source = ruleset_schema("tiers")["definitions"]["ThresholdRule"]["properties"]["source"]
    assert tier_source["enum"] == [c for c in CLAUSES if c.startswith("T")]
    check_source = ruleset_schema("etiquette")["definitions"]["GreetingCheck"]["properties"]["source"]
    assert check_source["enum"] == [c for c in CLAUSES if c.startswith("Q")]


def test_durations_are_strings_first() -> None:
    definitions = ruleset_schema("deadlines")["definitions"]
    within = definitions["DeadlineRule"]["properties"]["within"]
    assert {"$ref": "#/definitions/Duration"} in within["anyOf"]
    text_form = definitions["Duration"]["anyOf"][0]
    assert text_form["type"] == "string" and "10 minutes" in text_form["examples"]
    months = ruleset_schema("tiers")["definitions"]["Months"]["anyOf"][0]
    assert months["type"] == "string" and "3 months" in months["examples"]
    schema = ruleset_schema("file")
    good = {"deadlines": [_rule(within="45 working minutes")]}
    assert errors(schema, good) == []
    assert errors(schema, {"deadlines": [_rule(within="1 working fortnight")]})


# --- the bundled ruleset ------------------------------------------------------------------------


@pytest.mark.parametrize("path", RULESET_FILES, ids=lambda p: p.name)
def test_each_bundled_file_validates_on_its_own(path: Path) -> None:
    document = load_yaml(path.read_text(encoding="utf-8"))
    assert errors(ruleset_schema("file"), document) == []
    assert errors(ruleset_schema(path.stem), document) == []
    # The printed default schema is the any-file one.
    out = io.StringIO()
    assert main(["schema"], out) == 0
    assert errors(json.loads(out.getvalue()), document) == []


def test_the_merged_default_ruleset_validates() -> None:
    merged = merged_default()
    assert errors(ruleset_schema("document"), merged) == []
    assert errors(ruleset_schema("file"), merged) == []


def test_per_file_schema_refuses_another_files_keys() -> None:
    calendars = load_yaml((DEFAULT / "calendars.yaml").read_text(encoding="utf-8"))
    assert errors(ruleset_schema("deadlines"), calendars)
    assert errors(ruleset_schema("document"), calendars)  # name, version ... are missing


# --- the yaml-language-server modeline ------------------------------------------------------------

MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")


@pytest.mark.parametrize("path", RULESET_FILES, ids=lambda p: p.name)
@pytest.mark.parametrize("which", ["file", "own"])
def test_modeline_on_top_of_each_bundled_file(path: Path, which: str, tmp_path: Path) -> None:
    """The documented set-up line: a path relative to the file, resolved as the server does."""
    copy_dir = tmp_path / "rulesets" / "default"
    copy_dir.mkdir(parents=True)
    (tmp_path / "schema").mkdir()
    for name in schema_names():
        (tmp_path / "schema" / schema_file_name(name)).write_text(
            (SCHEMA_DIR / schema_file_name(name)).read_text(encoding="utf-8"), encoding="utf-8"
        )
    name = "file" if which == "file" else path.stem
    text = f"# yaml-language-server: $schema=../../schema/{schema_file_name(name)}\n" + path.read_text(
        encoding="utf-8"
    )
    target = copy_dir / path.name
    target.write_text(text, encoding="utf-8")
    match = MODELINE.match(target.read_text(encoding="utf-8").splitlines()[0])
    assert match is not None
    schema_path = (target.parent / match.group(1)).resolve()
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    assert errors(schema, load_yaml(target.read_text(encoding="utf-8"))) == []


def test_the_loader_reads_files_with_modelines(tmp_path: Path) -> None:
    for path in RULESET_FILES:
        modeline = f"# yaml-language-server: $schema=../schema/{schema_file_name(path.stem)}\n"
        (tmp_path / path.name).write_text(modeline + path.read_text(encoding="utf-8"), encoding="utf-8")
    assert tierrules.load_ruleset(tmp_path).model_dump() == tierrules.load_ruleset(DEFAULT).model_dump()


# --- what the schema refuses, the loader refuses -----------------------------------------------


def _rule(**changes: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": "E2.complaint-reply",
        "source": "E2",
        "description": {"zh": "答复", "en": "reply"},
        "start": {"event": "complaint_registered"},
        "met_by": {"event": "complaint_replied"},
        "within": "1 working hour",
    }
    rule.update(changes)
    return rule


BAD_DEADLINES = {
    "unknown event": _rule(start={"event": "complaint_registred"}),
    "customer event": _rule(start={"event": "customer_profile"}),
    "unmatchable field": _rule(start={"event": "complaint_registered", "when": {"severity": "urgent"}}),
    "bad field value": _rule(start={"event": "feedback_received", "when": {"severity": "hot"}}),
    "bad duration": _rule(within="1 working fortnight"),
    "clause not in the catalog": _rule(source="E99"),
    "unknown key": _rule(withn="1 hour"),
}


@pytest.mark.parametrize("case", BAD_DEADLINES, ids=str)
def test_schema_and_loader_both_refuse(case: str, tmp_path: Path) -> None:
    document = merged_default()
    document["deadlines"] = [*document["deadlines"][1:], BAD_DEADLINES[case]]
    assert errors(ruleset_schema("document"), document), case
    assert errors(ruleset_schema("deadlines"), {"deadlines": document["deadlines"]}), case
    if case == "clause not in the catalog":
        # The loader checks the form (a letter and a number); the catalog is the schema's and
        # the policy catalog test's (tests/test_policy_catalog.py).
        return
    with pytest.raises(tierrules.RulesetError):
        tierrules.load_ruleset(document)


def test_tier_names_are_checked(tmp_path: Path) -> None:
    document = merged_default()
    bad = copy.deepcopy(document)
    bad["tiers"]["vip_card"]["tier"] = "platnum"
    assert errors(ruleset_schema("tiers"), {"tiers": bad["tiers"]})
    with pytest.raises(tierrules.RulesetError):
        tierrules.load_ruleset(bad)


@settings(max_examples=15, deadline=None)
@given(testing.rulesets())
def test_every_generated_ruleset_validates(ruleset: tierrules.Ruleset) -> None:
    """Loader-accepted variations of the default (durations in object form too) pass the schema."""
    document = ruleset.model_dump(mode="json", exclude_none=True)
    assert errors(ruleset_schema("document"), document) == []


@settings(max_examples=50, deadline=None)
@given(testing.calendars())
def test_every_generated_calendar_validates(calendar: dict[str, Any]) -> None:
    assert errors(ruleset_schema("calendars"), {"calendars": {"c": calendar}}) == []


# --- the command ----------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["deadlines", "deadlines.yaml", "rulesets/default/deadlines.yaml"])
def test_cli_prints_one_files_schema(which: str) -> None:
    out = io.StringIO()
    assert main(["schema", which], out) == 0
    assert out.getvalue() == render(ruleset_schema("deadlines"))


def test_cli_unknown_schema_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "deadlins"], io.StringIO()) == 2
    assert "did you mean 'deadlines'" in capsys.readouterr().err


def test_cli_lists_the_names() -> None:
    out = io.StringIO()
    assert main(["schema", "--list"], out) == 0
    assert out.getvalue().split() == list(schema_names())
