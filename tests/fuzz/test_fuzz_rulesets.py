"""Fuzz: raw YAML rulesets through the API and the CLI load (and evaluate) or give a located RulesetError.

A mutated ruleset that loads must also run: the example calls and a few generated cases
evaluate to decisions (never an OverflowError or an EngineError from a number the
ruleset let through). Bounded for CI like tests/fuzz/test_fuzz_events.py.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path

from hypothesis import given

import tierrules
from tests.fuzz.outcomes import check_cli, check_decision, check_ruleset_error
from tests.fuzz.strategies import EXAMPLES, RulesetMutation, ruleset_mutations
from tests.fuzz.test_fuzz_events import fuzz
from tests.support.cli import run_cli
from tierrules.testing import generate_cases


def _cases() -> list[tuple[list[dict[str, object]], dt.datetime]]:
    out = list(generate_cases(tierrules.load_ruleset(), 12, seed=3))
    for path in EXAMPLES:
        events = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        last = max(dt.datetime.fromisoformat(str(e["at"])) for e in events)
        out.append((events, last + dt.timedelta(days=40)))
    return out


CASES = _cases()


def _write(folder: Path, files: dict[str, bytes]) -> Path:
    ruleset = folder / "rs"
    ruleset.mkdir()
    for name, data in files.items():
        (ruleset / name).write_bytes(data)
    return ruleset


@fuzz(80)
@given(ruleset_mutations())
def test_api(mutation: RulesetMutation) -> None:
    with tempfile.TemporaryDirectory() as folder:
        where = _write(Path(folder), mutation.files())
        try:
            ruleset = tierrules.load_ruleset(where)
        except tierrules.TierrulesError as err:
            check_ruleset_error(err)
            return
    try:
        engine = tierrules.Engine(ruleset)
    except tierrules.TierrulesError as err:  # past what the rule engine can run: named by json-path
        check_ruleset_error(err, needs_file=False)
        return
    for events, now in CASES:
        check_decision(engine.evaluate(events, now))


@fuzz(25)
@given(ruleset_mutations())
def test_cli(mutation: RulesetMutation) -> None:
    with tempfile.TemporaryDirectory() as folder:
        where = _write(Path(folder), mutation.files())
        proc = run_cli("validate", str(where), timeout=120)
        check_cli(proc, located=(str(where),))
        if proc.returncode == 0:
            run = run_cli(
                "evaluate", str(EXAMPLES[0]), "--now", "2026-12-31T00:00:00+08:00", "--ruleset", str(where)
            )
            check_cli(run, located=(str(where), str(EXAMPLES[0])))
            assert run.returncode == 0, run.stderr
