"""Numbers an event cannot mean are EventErrors on their field; exponents are fine.

Reported by an operator (issue 14): ``Infinity`` in ``spend_12m`` made ``evaluate()`` fail
with an EngineError naming no field (durable_rules stopped reading the batch); integers
past 64 bits on matchable fields reached the engine; integer literals of over 4,300 digits
made the CLI fail with a raw ValueError (Python's int/str conversion limit). Floats written
with an exponent (``3e-05``, ``1e+16``) must evaluate: see test_numbers_with_exponents.py.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import pytest

import tierrules
from tests.support.cli import assert_refused, run_cli

NOW = dt.datetime.fromisoformat("2026-11-24T12:00:00+08:00")
AT = "2026-11-01T10:00:00+08:00"


def profile(**fields: Any) -> dict[str, Any]:
    base = {
        "type": "customer_profile",
        "at": AT,
        "customer_id": "C1",
        "spend_12m": 5,
        "visits_12m": 1,
        "tenure_months": 1,
    }
    return {**base, **fields}


@pytest.mark.parametrize("matcher", ["durable", "python"])
@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_non_finite_spend(matcher: str, value: float) -> None:
    with pytest.raises(tierrules.EventError) as caught:
        tierrules.Engine(matcher=matcher).evaluate([profile(spend_12m=value)], NOW)  # type: ignore[arg-type]
    assert (caught.value.index, caught.value.field) == (0, "spend_12m")


@pytest.mark.parametrize("matcher", ["durable", "python"])
@pytest.mark.parametrize(
    ("event", "field"),
    [
        (profile(visits_12m=2**63), "visits_12m"),
        (profile(tenure_months=2**64), "tenure_months"),
        (profile(visits_12m=10**5000), "visits_12m"),
        ({"type": "call_answered", "at": AT, "case_id": "c", "rings": 2**63}, "rings"),
        ({"type": "escalation_needed", "at": AT, "case_id": "c", "agent_level": 2**70}, "agent_level"),
        ({"type": "escalated", "at": AT, "case_id": "c", "to_level": 2**63}, "to_level"),
    ],
)
def test_integers_past_64_bits(matcher: str, event: dict[str, Any], field: str) -> None:
    with pytest.raises(tierrules.EventError, match="less than or equal to 9223372036854775807") as caught:
        tierrules.Engine(matcher=matcher).evaluate([event], NOW)  # type: ignore[arg-type]
    assert (caught.value.index, caught.value.field) == (0, field)
    assert len(str(caught.value)) < 500  # the value is shown short


def test_the_largest_integer_evaluates() -> None:
    decision = tierrules.Engine(matcher="durable").evaluate([profile(visits_12m=2**63 - 1)], NOW)
    assert decision.tiers[0].customer_id == "C1"


def profile_line(spend: str = "1", visits: str = "1") -> str:
    head = f'{{"type": "customer_profile", "at": "{AT}", "customer_id": "C1", '
    return head + f'"spend_12m": {spend}, "visits_12m": {visits}, "tenure_months": 1}}'


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (profile_line(spend="Infinity"), "spend_12m"),
        (profile_line(spend="-Infinity"), "spend_12m"),
        (profile_line(spend="NaN"), "spend_12m"),
        (profile_line(spend="1e999"), "spend_12m"),
        (profile_line(visits="9" * 5000), "visits_12m"),
        (profile_line(visits="18446744073709551616"), "visits_12m"),
    ],
)
def test_cli(tmp_path: Path, line: str, field: str) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    assert_refused(run_cli("evaluate", str(path), "--now", NOW.isoformat()), f"$[0].{field}")
    array = tmp_path / "events.json"
    array.write_text("[" + line + "]", encoding="utf-8")
    assert_refused(run_cli("evaluate", str(array), "--now", NOW.isoformat()), f"$[0].{field}")


def test_a_long_integer_in_meta_is_refused_on_meta(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    event = {"type": "complaint_registered", "at": AT, "case_id": "c"}
    path.write_text(json.dumps(event)[:-1] + ', "meta": {"n": ' + "1" * 4400 + "}}\n", encoding="utf-8")
    assert_refused(run_cli("evaluate", str(path), "--now", NOW.isoformat()), "$[0].meta", "4,400 digits")


@pytest.mark.parametrize("spend", ["3e-05", "1e+16", "1E5", "2.5e-3"])
def test_exponents_in_json_evaluate(tmp_path: Path, spend: str) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(profile())[:-1].replace('"spend_12m": 5', f'"spend_12m": {spend}') + "}\n")
    proc = run_cli("evaluate", str(path), "--now", NOW.isoformat(), "--compact")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["tiers"][0]["customer_id"] == "C1"
