"""Numbers whose JSON form has an exponent reach durable_rules in a form it can read.

Found by the matcher differential test (tests/test_matching.py) and reported by an operator
(issue 14): a ``spend_12m`` of ``3e-05`` or ``1e+16`` made the whole ``evaluate()`` fail
with an EngineError naming no field, because durable_rules' number parser only takes an
exponent after a fraction (``1.0e-05``).
"""

from __future__ import annotations

import datetime as dt

import pytest

import tierrules

NOW = dt.datetime.fromisoformat("2026-11-24T12:00:00+08:00")


@pytest.mark.parametrize("spend", [3e-05, 1e16, 1e-300, 1.5e300, 0.0001, 123456789012345678.0])
@pytest.mark.parametrize("matcher", ["durable", "python"])
def test_profiles_with_exponent_spend_are_evaluated(spend: float, matcher: str) -> None:
    profile = {
        "type": "customer_profile",
        "at": "2026-11-01T10:00:00+08:00",
        "customer_id": "C1",
        "spend_12m": spend,
        "visits_12m": 30,
        "tenure_months": 40,
    }
    decision = tierrules.Engine(matcher=matcher).evaluate([profile], NOW)  # type: ignore[arg-type]
    [tier] = decision.tiers
    assert tier.tier == ("diamond" if spend >= 1_000_000 else "standard")


def test_durable_json_writes_a_fraction_before_every_exponent() -> None:
    from tierrules.matching.durable import _EngineJson

    text = _EngineJson.dumps([{"a": 1e-09, "b": "1e5 stays text", "c": 1e16, "d": 1.5}], ensure_ascii=False)
    assert text == '[{"a": 1.0e-09, "b": "1e5 stays text", "c": 1.0e+16, "d": 1.5}]'
