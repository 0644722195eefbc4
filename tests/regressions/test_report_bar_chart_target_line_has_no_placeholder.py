"""The per-group bar chart's target line carries no annotation, not plotly's "new text" placeholder.

Found on the docs screenshot of the HTML report (docs/report-screenshot.png, during issue 16):
the dashed target line of each "by group" bar chart was drawn with ``annotation_text=None``
but an ``annotation_position``, and plotly then adds an annotation with its editable
placeholder, so "new text" showed at the end of the line.
"""

from __future__ import annotations

import datetime as dt

from tierrules.reporting import charts
from tierrules.reporting.model import TargetAttainment


def row(team: str, met: int, breached: int) -> TargetAttainment:
    return TargetAttainment(
        target="E3.answered-in-24h",
        source="E3",
        description={"zh": "测试", "en": "test"},  # type: ignore[arg-type]
        measure="met_in_time",
        rules=["E3.feedback-response"],
        op=">=",
        target_percent=90,
        status="pass" if met * 100 >= 90 * (met + breached) else "fail",
        provisional=False,
        period="2026-11",
        period_start=dt.date(2026, 11, 1),
        group={"team": team},
        cases=met + breached,
        items=met + breached,
        met=met,
        breached=breached,
        pending=0,
        cancelled=0,
        attainment=100 * met / (met + breached),
    )


def test_bar_chart_target_line_has_no_annotation() -> None:
    figure = charts.target_by_group([row("a", 9, 1), row("b", 7, 3)])
    annotations = [a.text for a in figure.layout.annotations]
    assert annotations == []
    assert [s.y0 for s in figure.layout.shapes] == [90]  # the line itself is still there
