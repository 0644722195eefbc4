"""A fact matching two alternatives of one rule's ``$or`` counts once.

Found by the matcher differential test (tests/test_matching.py): durable_rules expands an
``$or`` into one rule variant per alternative and runs the action once for each that
matches, so the fence reported the rule twice for one fact (a deadline would have started
twice).
"""

from __future__ import annotations

import pytest

from tierrules.compiler.conditions import AllOf, AnyOf, Equals, MatchRule
from tierrules.matching import build_matcher


@pytest.mark.parametrize("kind", ["durable", "python"])
def test_overlapping_alternatives_match_once(kind: str) -> None:
    rule = MatchRule("r", AllOf((Equals("type", "a"), AnyOf((Equals("type", "a"), Equals("s", "x"))))))
    matcher = build_matcher([rule], kind)  # type: ignore[arg-type]
    assert matcher.match([{"type": "a", "s": "x"}]) == {0: ("r",)}
