"""A blank phrase in an etiquette phrase list is a located RulesetError.

Found by tests/fuzz/test_fuzz_rulesets.py (issue 14): ``restate_phrases: [复述, ""]`` got
past the models (a list of any strings) and then failed inside the semantic checks, where
a phrase model is built from each step phrase: a raw pydantic ValidationError escaped
``load_ruleset`` and the CLI printed a traceback.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

import tierrules
from tests.support.cli import assert_refused, run_cli


@pytest.mark.parametrize("blank", ["", " ", "\t"])
@pytest.mark.parametrize(
    ("section", "field"),
    [
        ("complaint_conversation", "restate_phrases"),
        ("complaint_conversation", "negations"),
        ("customer_name", "male"),
        ("closing", "thanks_phrases"),
    ],
)
def test_blank_phrase(tmp_path: Path, blank: str, section: str, field: str) -> None:
    ruleset = tmp_path / "rs"
    shutil.copytree(tierrules.default_ruleset_path(), ruleset)
    path = ruleset / "etiquette.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["etiquette"][section][field] = [*data["etiquette"][section].get(field, []), blank]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(tierrules.RulesetError, match="blank") as caught:
        tierrules.load_ruleset(ruleset)
    assert caught.value.file == path and f"{section}.{field}" in caught.value.json_path
    assert_refused(run_cli("validate", str(ruleset)), str(path), "blank")
