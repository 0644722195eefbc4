"""The report's charts as plotly figures (the ``report`` extra): what the HTML page draws.

- each target's share over time, one line per group, against a dashed target line;
- each target's share per group in the latest period, bars coloured by pass or fail;
- breaches by weekday and hour of day, a heat map;
- each agent's call scores, a box per agent (quartiles, whiskers at min and max).

Figures hold only the report's numbers and fixed styling, so the same report always gives
the same figure JSON.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

from .model import WEEKDAYS, AgentScores, Report, TargetAttainment

__all__ = ["PALETTE", "agent_scores", "breach_heatmap", "target_by_group", "target_over_time"]

# Okabe-Ito, distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
PASS, FAIL, TARGET_LINE = "#2E8B57", "#C0392B", "#555555"
_FONT = {"family": "system-ui, -apple-system, 'Segoe UI', 'Noto Sans CJK SC', sans-serif", "size": 12}


def label(group: dict[str, str | None]) -> str:
    """A group as a legend entry: 'hotline-a', 'hotline-a / phone', or 'all'."""
    return " / ".join("-" if v is None else v for v in group.values()) or "all"


def colours(labels: Sequence[str]) -> dict[str, str]:
    """One colour per label, in sorted order, so a team has the same colour in every chart."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(sorted(set(labels)))}


def _layout(title: str, height: int, **more: Any) -> dict[str, Any]:
    return {
        "title": {"text": title, "x": 0.01, "font": {"size": 15}},
        "height": height,
        "margin": {"l": 56, "r": 16, "t": 48, "b": 44},
        "font": _FONT,
        "template": "plotly_white",
        "paper_bgcolor": "#FFFFFF",
        "plot_bgcolor": "#F7F9FC",
        "legend": {"orientation": "h", "y": -0.18},
        **more,
    }


ROLLING_DAYS = 7


def _rolling(points: Sequence[tuple[dt.date, int, int]]) -> list[tuple[dt.date, float]]:
    """Daily (day, met, breached) as the share met over the trailing ``ROLLING_DAYS`` days."""
    counts = {day: (met, breached) for day, met, breached in points}
    first, last = min(counts), max(counts)
    out = []
    for n in range((last - first).days + 1):
        day = first + dt.timedelta(days=n)
        window = [counts.get(day - dt.timedelta(days=k), (0, 0)) for k in range(ROLLING_DAYS)]
        met, breached = sum(m for m, _ in window), sum(b for _, b in window)
        if met + breached:
            out.append((day, round(100 * met / (met + breached), 4)))
    return out


def _series(report: Report, target: str) -> dict[str, list[tuple[dt.date, float]]]:
    """Per group: the share per point; per day it is a trailing 7-day share (daily counts are noisy)."""
    counts: dict[str, list[tuple[dt.date, int, int]]] = defaultdict(list)
    for point in report.timeline:
        if point.target == target:
            counts[label(point.group)].append((point.start, point.met, point.breached))
    if report.timeline_grain == "day":
        return {name: _rolling(points) for name, points in counts.items()}
    return {
        name: [(day, round(100 * m / (m + b), 4)) for day, m, b in points if m + b]
        for name, points in counts.items()
    }


def _lines(series: dict[str, list[tuple[dt.date, float]]], palette: dict[str, str]) -> list[go.Scatter]:
    return [
        go.Scatter(
            x=[day.isoformat() for day, _ in series[name]],
            y=[share for _, share in series[name]],
            name=name,
            mode="lines",
            line={"color": palette.get(name, PALETTE[0]), "width": 2},
        )
        for name in sorted(series)
        if series[name]
    ]


def _target_line(figure: go.Figure, row: TargetAttainment, note: bool = True) -> None:
    """The target as a dashed line; ``note`` labels it (an empty annotation would say "new text")."""
    label = {
        "annotation_text": f"target {row.op} {row.target_percent:g}%",
        "annotation_position": "bottom right",
    }
    figure.add_hline(
        y=row.target_percent,
        line={"dash": "dash", "color": TARGET_LINE, "width": 1.5},
        **(label if note else {}),
    )


def target_over_time(report: Report, target: str, palette: dict[str, str]) -> go.Figure:
    """The target's share over time per group (a trailing 7-day share on daily data), and the target."""
    series = _series(report, target)
    row = next(t for t in report.targets if t.target == target)
    figure = go.Figure(_lines(series, palette))
    _target_line(figure, row)
    floor = min([y for points in series.values() for _, y in points] + [row.target_percent])
    grain = report.timeline_grain
    span = f"trailing {ROLLING_DAYS} days" if grain == "day" else f"per {grain}"
    figure.update_layout(
        **_layout(f"{target}: share met, {span}", 330),
        yaxis={"title": "% met", "range": [max(0, floor - 5), 101], "ticksuffix": "%"},
        xaxis={"title": None},
    )
    return figure


def _bars(shown: Sequence[TargetAttainment]) -> go.Bar:
    return go.Bar(
        x=[label(r.group) for r in shown],
        y=[r.attainment for r in shown],
        marker={"color": [PASS if r.status == "pass" else FAIL for r in shown]},
        text=[f"{r.attainment or 0:.1f}%" for r in shown],
        textposition="outside",
        customdata=[[r.met, r.breached, r.pending] for r in shown],
        hovertemplate="%{x}: %{y:.1f}%<br>met %{customdata[0]}, breached %{customdata[1]}, "
        "pending %{customdata[2]}<extra></extra>",
        name="share met",
    )


def target_by_group(rows: Sequence[TargetAttainment]) -> go.Figure:
    """The target's share per group in its latest period (``rows``: one target's): green passes, red fails."""
    latest = max((r.period_start or r.period, r.period) for r in rows)[1]
    figure = go.Figure(_bars([r for r in rows if r.period == latest and r.attainment is not None]))
    _target_line(figure, rows[0], note=False)
    figure.update_layout(
        **_layout(f"{rows[0].target}: {latest} by group", 330, showlegend=False),
        yaxis={"title": "% met", "range": [0, 112], "ticksuffix": "%"},
    )
    return figure


def breach_heatmap(report: Report) -> go.Figure:
    """Breaches by weekday (rows, Monday on top) and hour of day (columns) of their due time."""
    figure = go.Figure(
        go.Heatmap(
            z=report.breach_times.matrix,
            x=[f"{h:02d}" for h in range(24)],
            y=list(WEEKDAYS),
            colorscale="YlOrRd",
            hovertemplate="%{y} %{x}:00: %{z} breaches<extra></extra>",
            colorbar={"title": {"text": "breaches"}},
        )
    )
    figure.update_layout(
        **_layout(f"When breaches fell due ({report.timezone})", 330),
        yaxis={"autorange": "reversed"},
        xaxis={"title": "hour of day", "dtick": 1},
    )
    return figure


def _box(team: str, agents: Sequence[AgentScores], colour: str) -> go.Box:
    return go.Box(
        name=team,
        x=[s.agent_id or "-" for s in agents],
        q1=[s.q1 for s in agents],
        median=[s.median for s in agents],
        q3=[s.q3 for s in agents],
        lowerfence=[s.min for s in agents],
        upperfence=[s.max for s in agents],
        mean=[s.mean for s in agents],
        marker={"color": colour},
        boxpoints=False,
    )


def agent_scores(report: Report) -> go.Figure:
    """A box per agent from the quartiles (whiskers at min and max), coloured by team."""
    teams: dict[str, list[AgentScores]] = defaultdict(list)
    for scores in report.scores:
        teams[scores.team or "-"].append(scores)
    palette = colours(list(teams))
    figure = go.Figure([_box(team, teams[team], palette[team]) for team in sorted(teams)])
    if report.score_pass_percent is not None:
        figure.add_hline(
            y=report.score_pass_percent,
            line={"dash": "dash", "color": TARGET_LINE, "width": 1.5},
            annotation_text=f"pass mark {report.score_pass_percent:g}%",
        )
    figure.update_layout(
        **_layout("Call scores per agent (A1 scorecard)", 380),
        yaxis={"title": "score %", "range": [-2, 103], "ticksuffix": "%"},
        xaxis={"tickangle": -60},
    )
    return figure
