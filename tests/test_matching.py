"""Two matchers, one answer: durable_rules and the plain-Python reference agree on every fact.

The condition form (:mod:`tierrules.compiler.conditions`) has one meaning, :func:`holds`;
the Python matcher is that meaning, and durable_rules must give the same matches for random
rules and random facts of the kinds validated events produce. Then whole decisions: random
cases under the default ruleset and random stricter variants are byte-identical on both.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tierrules
from tierrules import matching, testing
from tierrules.compiler.conditions import AllOf, AnyOf, AtLeast, Condition, Equals, MatchRule, holds
from tierrules.matching.durable import DurableMatcher
from tierrules.matching.python import PythonMatcher

pytestmark = pytest.mark.durable  # both matchers are named explicitly: one run is enough

ROOT = Path(__file__).resolve().parents[1]

# A field vocabulary like the events': each field has one kind, as validated facts do.
TYPES = ("a", "b", "c")
STRINGS = ("x", "y", "z", "中文")
KINDS: dict[str, st.SearchStrategy[Any]] = {
    "s": st.sampled_from(STRINGS),
    "i": st.integers(-3, 1_000_000),
    "f": st.one_of(st.floats(-10, 1e9, allow_nan=False), st.integers(0, 400_000).map(float)),
    "b": st.booleans(),
}


def leaf() -> st.SearchStrategy[Condition]:
    equals = st.one_of(
        st.builds(Equals, st.just("type"), st.sampled_from(TYPES)),
        st.builds(Equals, st.just("s"), st.sampled_from(STRINGS)),
        st.builds(Equals, st.just("i"), st.integers(-3, 12)),
        st.builds(Equals, st.just("b"), st.booleans()),
    )
    at_least = st.one_of(
        st.builds(AtLeast, st.just("i"), st.integers(-3, 12)),
        st.builds(
            AtLeast, st.just("f"), st.one_of(st.integers(0, 300_000), st.floats(0, 3e5, allow_nan=False))
        ),
    )
    return st.one_of(equals, at_least)


conditions: st.SearchStrategy[Condition] = st.recursive(
    leaf(),
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda t: AllOf(tuple(t))),
        st.lists(inner, min_size=1, max_size=3).map(lambda t: AnyOf(tuple(t))),
    ),
    max_leaves=6,
)


@st.composite
def rules(draw: st.DrawFn) -> list[MatchRule]:
    """Rules like the compiler's: each tests ``type`` first, then any condition."""
    out = []
    for n in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(TYPES))
        rest = draw(st.lists(conditions, max_size=2))
        out.append(MatchRule(f"r{n}", AllOf((Equals("type", kind), *rest)) if rest else Equals("type", kind)))
    return out


@st.composite
def facts(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for _ in range(draw(st.integers(0, 8))):
        fact: dict[str, Any] = {"type": draw(st.sampled_from(TYPES))}
        for name, values in KINDS.items():
            if draw(st.booleans()):
                fact[name] = draw(values)
        out.append(fact)
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules(), facts())
def test_durable_and_python_match_the_same_facts(rules: list[MatchRule], facts: list[dict[str, Any]]) -> None:
    durable = DurableMatcher(rules).match(facts)
    python = PythonMatcher(rules).match(facts)
    assert durable == python
    # and both are the reference semantics
    expected = {
        i: tuple(r.name for r in rules if holds(r.condition, fact))
        for i, fact in enumerate(facts)
        if any(holds(r.condition, fact) for r in rules)
    }
    assert python == expected


def test_reference_semantics_edges() -> None:
    assert holds(Equals("b", True), {"b": True})
    assert not holds(Equals("b", True), {"b": 1})  # a bool is never a number
    assert not holds(Equals("i", 1), {"i": True})
    assert holds(Equals("i", 1), {"i": 1.0})  # numbers compare as numbers
    assert not holds(Equals("s", "1"), {"s": 1})
    assert not holds(AtLeast("i", 0), {"i": "5"})  # durable_rules' looseness is not the meaning
    assert not holds(AtLeast("i", 0), {})  # a missing field satisfies no test
    assert not holds(AnyOf(()), {"i": 1})
    assert holds(AllOf(()), {})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(testing.timed_cases(), st.data())
def test_whole_decisions_are_byte_identical_on_both_matchers(
    case: tuple[list[dict[str, Any]], dt.datetime], data: st.DataObject
) -> None:
    events, now = case
    ruleset = data.draw(st.one_of(st.just(DEFAULT), testing.rulesets(DEFAULT)))
    durable = tierrules.Engine(ruleset, matcher="durable").evaluate(events, now)
    python = tierrules.Engine(ruleset, matcher="python").evaluate(events, now)
    assert durable.to_json() == python.to_json()


DEFAULT = tierrules.load_ruleset()


def test_engine_picks_the_matcher(monkeypatch: pytest.MonkeyPatch) -> None:
    assert tierrules.Engine(DEFAULT, matcher="python").matcher == "python"
    assert tierrules.Engine(DEFAULT, matcher="durable").matcher == "durable"
    monkeypatch.setenv("TIERRULES_MATCHER", "python")
    assert tierrules.Engine(DEFAULT).matcher == "python"
    monkeypatch.setenv("TIERRULES_MATCHER", "durable")
    assert tierrules.Engine(DEFAULT).matcher == "durable"
    monkeypatch.setenv("TIERRULES_MATCHER", "rete")
    with pytest.raises(tierrules.TierrulesError, match="TIERRULES_MATCHER='rete'"):
        tierrules.Engine(DEFAULT)


def test_without_durable_rules_the_python_matcher_is_used_with_one_warning() -> None:
    """Where durable_rules cannot be imported, the library says so once and uses Python."""
    code = (
        "import sys, warnings\n"
        "sys.modules['durable_rules_engine'] = None  # an import of it now fails\n"
        "warnings.simplefilter('always')\n"
        "import tierrules\n"
        "with warnings.catch_warnings(record=True) as seen:\n"
        "    warnings.simplefilter('always')\n"
        "    a = tierrules.Engine()\n"
        "    b = tierrules.Engine()\n"
        "print(a.matcher, b.matcher, len([w for w in seen if 'durable_rules' in str(w.message)]))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TIERRULES_MATCHER"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["python", "python", "1"]


def test_python_matcher_indexes_by_type() -> None:
    rules = [
        MatchRule("a", Equals("type", "a")),
        MatchRule("any", AnyOf((Equals("s", "x"), Equals("s", "y")))),
    ]
    matcher = matching.build_matcher(rules, "python")
    assert matcher.match([{"type": "a", "s": "y"}, {"type": "b", "s": "x"}, {"type": "b"}]) == {
        0: ("a", "any"),
        1: ("any",),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert matching.build_matcher(rules, "durable").match([{"type": "a", "s": "y"}]) == {0: ("a", "any")}
