"""A process that reloads rulesets keeps a bounded amount of memory; an unchanged one is reused.

Reported by an operator (issue 14): each edited ruleset loaded into a long-running process
kept ~1.1 MB after every Engine was dropped (200 reloads: +213 MB), because durable_rules
rulesets were registered for good. Registered rulesets now count the engines using them;
the 8 most recently unused are kept for reuse and older ones are deleted from durable_rules
(session first, then the ruleset). Loading an unchanged definition returns the same
compiled Ruleset. benchmarks/bench_reload.py measures 1,000 reloads (docs/reliability.md).
"""

from __future__ import annotations

import copy
import datetime as dt
import gc
import json
import subprocess
import sys
from typing import Any

import pytest

import tierrules
from tests.support.cli import child_env
from tierrules.matching import durable
from tierrules.ruleset.reader import read_ruleset_files

pytestmark = pytest.mark.durable

NOW = dt.datetime.fromisoformat("2026-11-24T12:00:00+08:00")
EVENTS = [
    {"type": "escalation_needed", "at": "2026-11-24T10:00:00+08:00", "case_id": "c", "agent_level": 1},
    {
        "type": "customer_profile",
        "at": "2026-11-01T10:00:00+08:00",
        "customer_id": "C",
        "spend_12m": 5,
        "visits_12m": 1,
        "tenure_months": 1,
    },
]


def edited(base: dict[str, Any], i: int) -> dict[str, Any]:
    """The default ruleset with E1's trigger condition changed: a new engine ruleset each time."""
    data = copy.deepcopy(base)
    rule = next(r for r in data["deadlines"] if r["id"] == "E1.escalate")
    rule["start"]["when"] = {"agent_level": [1, 2, 3, 1000 + i]}
    return data


@pytest.fixture(scope="module")
def base() -> dict[str, Any]:
    data, _ = read_ruleset_files(tierrules.default_ruleset_path())
    return data


def test_an_unchanged_ruleset_is_reused() -> None:
    first = tierrules.load_ruleset()
    again = tierrules.load_ruleset(tierrules.default_ruleset_path())
    assert again is first
    engines = [tierrules.Engine(first, matcher="durable")]
    before = durable.registered_count()
    engines += [tierrules.Engine(again, matcher="durable") for _ in range(5)]
    assert durable.registered_count() == before
    assert len({id(e._matcher.engine_ruleset) for e in engines}) == 1  # type: ignore[attr-defined]


def test_edited_rulesets_are_released_beyond_a_few(base: dict[str, Any]) -> None:
    kept = tierrules.Engine(tierrules.load_ruleset(edited(base, 0)), matcher="durable")
    reference = kept.evaluate(EVENTS, NOW)
    for i in range(1, 40):
        engine = tierrules.Engine(tierrules.load_ruleset(edited(base, i)), matcher="durable")
        assert engine.evaluate(EVENTS, NOW).obligations
        del engine
        gc.collect()
    tierrules.Engine(matcher="durable").evaluate([], NOW)  # the next use releases what was dropped
    assert durable.registered_count() <= 4 + durable.UNUSED_KEPT  # the default's, kept's, and the unused
    assert kept.evaluate(EVENTS, NOW) == reference  # an engine in use is never released


def test_a_released_definition_can_be_loaded_again(base: dict[str, Any]) -> None:
    data = edited(base, 500)
    expected = tierrules.Engine(tierrules.load_ruleset(data), matcher="durable").evaluate(EVENTS, NOW)
    gc.collect()
    for i in range(501, 501 + 2 * durable.UNUSED_KEPT):  # push 500 out of the unused ones
        tierrules.Engine(tierrules.load_ruleset(edited(base, i)), matcher="durable")
        gc.collect()
    tierrules.Engine(matcher="durable").evaluate([], NOW)
    assert all("1500" not in json.dumps(r.name) for r in durable._registered.values())
    again = tierrules.Engine(tierrules.load_ruleset(copy.deepcopy(data)), matcher="durable")
    assert again.evaluate(EVENTS, NOW) == expected


SCRIPT = """
import copy, datetime as dt, gc, json, os, tierrules
from tierrules.ruleset.reader import read_ruleset_files

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

base, _ = read_ruleset_files(tierrules.default_ruleset_path())
now = dt.datetime.fromisoformat("2026-11-24T12:00:00+08:00")
events = [{"type": "escalation_needed", "at": "2026-11-24T10:00:00+08:00", "case_id": "c", "agent_level": 1}]
samples = []
for i in range(301):
    if i in (50, 300):
        gc.collect()
        samples.append(rss())
    data = copy.deepcopy(base)
    rule = next(r for r in data["deadlines"] if r["id"] == "E1.escalate")
    rule["start"]["when"] = {"agent_level": [1, 2, 3, 1000 + i]}
    engine = tierrules.Engine(tierrules.load_ruleset(data), matcher="durable")
    engine.evaluate(events, now)
    del engine
print(json.dumps(samples))
"""


def test_rss_of_250_edited_reloads_stays_bounded() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=600,
        env=child_env(),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    at_50, at_300 = json.loads(proc.stdout.splitlines()[-1])
    # Before: ~1.4 MB kept per reload (about 350 MB here); now the growth is a few tens of KB each.
    assert at_300 - at_50 < 40, (at_50, at_300)
