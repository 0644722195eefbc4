"""A session told every item with an empty ``id`` apart from none of the others.

Found merging issue 11 into the session branch: decision parts gained an ``id`` defaulting
to "", and ``update.new`` keyed an item by its id whenever it was a string, so every item
built without an id had the same key ("escalation:") and only the first was ever new. An
empty id now falls back to the digest of the item's JSON.
"""

from __future__ import annotations

import tierrules
from tierrules.session.update import ReportState, diff

from ..conftest import at


def test_items_are_known_by_id_or_else_by_their_json() -> None:
    when = at("2026-11-24 10:00")
    common = {"rule": "E2.complaint-reply", "source": "E2", "case_id": "c1", "at": when, "to_level": 2}
    with_ids = [tierrules.Escalation(id=f"c1/E2/{n}", reason="x", **common) for n in (1, 2)]
    without = [tierrules.Escalation(reason=r, **common) for r in ("a", "b")]
    state = ReportState()
    new, changed = diff(tierrules.Decision(escalations=with_ids + without), state, 1)
    assert changed and len(new.escalations) == 4  # two ids, and two different texts without one
    again, changed = diff(tierrules.Decision(escalations=[*with_ids, without[0]]), state, 2)
    assert not changed and again.escalations == []
    renamed = tierrules.Escalation(id="c1/E2/1", reason="other words", **common)
    assert diff(tierrules.Decision(escalations=[renamed]), state, 3)[0].escalations == []  # same id
