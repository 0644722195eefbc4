"""`tierrules schema` accepts each file of the bundled ruleset on its own.

Found by a new user (issue 15, "Editor schema is broken"): the printed schema described
only the merged document, so the VS Code YAML language server reported 57 problems over
the bundled files (every file lacked the other files' required keys), and event names
were free strings with nothing to complete.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import yaml

from tierrules.cli import main

DEFAULT = Path(__file__).resolve().parents[2] / "rulesets" / "default"


def test_each_file_validates_against_the_printed_schema() -> None:
    out = io.StringIO()
    assert main(["schema"], out) == 0
    validator = jsonschema.Draft7Validator(json.loads(out.getvalue()))
    files = sorted(p for p in DEFAULT.glob("*.yaml"))
    assert len(files) == 6  # ruleset, calendars, deadlines, tiers, etiquette, targets
    for path in files:
        document = json.loads(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), default=str))
        assert [e.message for e in validator.iter_errors(document)] == [], path.name
    trigger = json.loads(out.getvalue())["definitions"]["Trigger"]["properties"]["event"]
    assert "complaint_registered" in trigger["enum"]
