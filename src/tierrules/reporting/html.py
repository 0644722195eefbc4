"""The report as one self-contained HTML page: charts and tables, no network needed to open it.

plotly.js is inlined (about 4.8 MB, from the installed ``plotly`` package), every figure is
drawn from JSON in the page, and the styles are in a ``<style>`` element: the file can be
mailed or archived and opened offline. Needs the ``report`` extra
(``pip install 'tierrules[report]'``); see docs/reports.md for why plotly.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable, Sequence

from .model import Report, TargetAttainment
from .table import Section, heading, sections

__all__ = ["MISSING_EXTRA", "has_plotly", "render_html", "write_html"]

_NO_TARGETS = "<p>No target rows: no case was counted (or the ruleset has no targets).</p>"
MISSING_EXTRA = "the HTML report needs plotly: pip install 'tierrules[report]'"

_STYLE = """
body { margin: 0; background: #EEF2F7; color: #1F2933;
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", sans-serif; }
header { background: #1F3A5F; color: #FFFFFF; padding: 18px 28px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 0; opacity: .85; }
main { padding: 16px 28px 40px; }
h2 { font-size: 17px; margin: 26px 0 10px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 12px; }
.card { background: #FFFFFF; border-radius: 8px; padding: 12px 14px; border-left: 6px solid #999; }
.card.pass { border-left-color: #2E8B57; } .card.fail { border-left-color: #C0392B; }
.card .id { font-weight: 600; font-size: 13px; }
.card .big { font-size: 28px; font-weight: 700; margin: 2px 0; }
.card .sub { font-size: 12px; color: #52606D; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 12px; }
.chart { background: #FFFFFF; border-radius: 8px; padding: 6px; min-height: 330px;
         min-width: 0; overflow: hidden; }
table { border-collapse: collapse; background: #FFFFFF; font-size: 12.5px; width: 100%; }
th, td { padding: 4px 8px; border-bottom: 1px solid #E4E7EB; text-align: left; white-space: nowrap; }
th { background: #D9E2EC; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.pass { color: #2E8B57; font-weight: 600; } td.fail { color: #C0392B; font-weight: 700; }
td.dim { color: #7B8794; }
.scroll { max-height: 520px; overflow: auto; border-radius: 8px; }
.note { font-size: 12px; color: #52606D; }
"""


def has_plotly() -> bool:
    """Whether plotly (the ``report`` extra) can be imported."""
    try:
        import plotly  # noqa: F401
    except ImportError:
        return False
    return True


def _require_plotly() -> None:
    if not has_plotly():
        raise ImportError(MISSING_EXTRA)


def _table(section: Section) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in section.headers)
    rows = []
    for row in section.rows:
        cells = []
        for i, (text, style) in enumerate(row):
            classes = " ".join(c for c in ("num" if i in section.numeric else "", style) if c)
            cells.append(
                f'<td class="{classes}">{html.escape(text)}</td>'
                if classes
                else f"<td>{html.escape(text)}</td>"
            )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    note = f'<p class="note">{html.escape(section.note)}</p>' if section.note else ""
    body = "".join(rows) or f'<tr><td colspan="{len(section.headers)}">(none)</td></tr>'
    return (
        f'<h2>{html.escape(section.title)}</h2><div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>{note}"
    )


def _verdict(rows: Sequence[TargetAttainment]) -> tuple[str, str]:
    """The card's state (pass, fail or none) and its line: the verdict, or how many rows pass."""
    counts = Counter(r.status for r in rows)
    judged = counts["pass"] + counts["fail"]
    state = ("fail" if counts["fail"] else "pass") if judged else ""
    if len(rows) > 1:
        return state, f"{counts['pass']} of {judged} rows pass"
    return state, rows[0].status


def _card(target: str, rows: Sequence[TargetAttainment]) -> str:
    """A target at a glance: its share over every row, its threshold and verdict."""
    met, breached = sum(r.met for r in rows), sum(r.breached for r in rows)
    share = f"{100 * met / (met + breached):.1f}%" if met + breached else "-"
    state, verdict = _verdict(rows)
    first = rows[0]
    return (
        f'<div class="card {state}"><div class="id">{html.escape(target)} ({html.escape(first.source)})</div>'
        f'<div class="big">{share}</div>'
        f'<div class="sub">target {html.escape(first.op)} {first.target_percent:g}% · '
        f"{html.escape(verdict)}</div>"
        f'<div class="sub">{html.escape(first.description.en)}</div>'
        f'<div class="sub" lang="zh">{html.escape(first.description.zh)}</div></div>'
    )


def _figure(figure: object, div_id: str) -> str:
    import plotly.io as pio

    config = {"displaylogo": False, "responsive": True}
    body = pio.to_html(figure, include_plotlyjs=False, full_html=False, div_id=div_id, config=config)
    return f'<div class="chart">{body}</div>'


def _charts(report: Report) -> Iterable[str]:
    from . import charts

    by_target: dict[str, list[TargetAttainment]] = {}
    for row in report.targets:
        by_target.setdefault(row.target, []).append(row)
    palette = charts.colours([charts.label(p.group) for p in report.timeline])
    if by_target:
        yield '<h2>Targets over time</h2><div class="charts">'
        for i, (target, rows) in enumerate(by_target.items()):
            yield _figure(charts.target_over_time(report, target, palette), f"chart-time-{i}")
            if any(r.group for r in rows):
                yield _figure(charts.target_by_group(rows), f"chart-groups-{i}")
        yield "</div>"
    yield '<h2>Breaches and call scores</h2><div class="charts">'
    yield _figure(charts.breach_heatmap(report), "chart-breaches")
    if report.scores:
        yield _figure(charts.agent_scores(report), "chart-scores")
    yield "</div>"


def render_html(report: Report) -> str:
    """The whole page as text; the same report always gives the same bytes (for one plotly version)."""
    _require_plotly()
    import plotly
    import plotly.offline

    by_target: dict[str, list[TargetAttainment]] = {}
    for row in report.targets:
        by_target.setdefault(row.target, []).append(row)
    cards = "".join(_card(target, rows) for target, rows in by_target.items())
    tables = "".join(_table(s) for s in sections(report))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Attainment report: {html.escape(report.ruleset)}</title><style>{_STYLE}</style>"
        f"<!-- plotly.js as bundled with plotly.py {plotly.__version__} (MIT licence), inlined -->"
        f'<script type="text/javascript">{plotly.offline.get_plotlyjs()}</script></head><body>'
        "<header><h1>Attainment report</h1>"
        f"<p>{html.escape(heading(report, prefix=False))}</p></header><main>"
        f'<h2>Targets</h2><div class="cards">{cards or _NO_TARGETS}</div>'
        + "".join(_charts(report))
        + tables
        + "</main></body></html>\n"
    )


def write_html(report: Report, path: str) -> None:
    """Write :func:`render_html` to ``path`` (UTF-8)."""
    text = render_html(report)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
