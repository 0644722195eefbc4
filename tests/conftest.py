"""Shared helpers: compact event builders on the default ruleset's timezone."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest

import tierrules

pytest_plugins = ["tests.support.servers"]

CST = dt.timezone(dt.timedelta(hours=8))


def at(text: str) -> dt.datetime:
    """'2026-11-24 17:30' in China Standard Time."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=CST)


def ev(event_type: str, when: str, case: str = "c1", **fields: Any) -> dict[str, Any]:
    return {"type": event_type, "at": at(when).isoformat(), "case_id": case, **fields}


@pytest.fixture(scope="session")
def engine() -> tierrules.Engine:
    return tierrules.Engine(tierrules.load_ruleset())


@pytest.fixture(scope="module")
def e2_45(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the default ruleset with E2 at 45 working minutes instead of 1 working hour."""
    new = tmp_path_factory.mktemp("rs") / "new"
    shutil.copytree(tierrules.default_ruleset_path(), new)
    path = new / "deadlines.yaml"
    text = path.read_text(encoding="utf-8")
    at = text.index("within: 1 working hour", text.index("id: E2.complaint-reply"))
    path.write_text(text[:at] + "within: 45 working minutes" + text[at + len("within: 1 working hour") :])
    return new
