"""The report as tables for people: rich tables on a terminal, plain aligned text when piped.

Both forms show the same sections, columns and values; only the drawing differs. On a
terminal, rich colours pass and fail (and honours ``NO_COLOR``); through a pipe the text is
plain, with no escape codes, and does not depend on the terminal's width.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Literal, TextIO

from .model import WEEKDAYS, Report, TargetAttainment, WorstCase

__all__ = ["Section", "sections", "write_table"]

Style = Literal["", "pass", "fail", "dim"]
_SPARKS = " ▁▂▃▄▅▆▇█"
_SHOWN_WORST = 3


@dataclasses.dataclass(frozen=True)
class Section:
    """One table: a title, column headers (numeric columns are right-aligned) and rows."""

    title: str
    headers: tuple[str, ...]
    numeric: frozenset[int]
    rows: list[list[tuple[str, Style]]]
    note: str = ""
    drop: tuple[int, ...] = ()  # columns a narrow terminal hides, first to go first


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def _group(group: dict[str, str | None], fields: tuple[str, ...] | None) -> str:
    """The group's values ('hotline-a / phone'), named ('team=hotline-a') when rows group differently."""
    if fields is not None:
        return " / ".join("-" if v is None else v for v in group.values()) or "all"
    return ", ".join(f"{k}={'-' if v is None else v}" for k, v in group.items()) or "all"


def _grouping(groups: Sequence[dict[str, str | None]]) -> tuple[str, tuple[str, ...] | None]:
    """The group column's header, and the fields every row shares (None when they differ)."""
    shapes = {tuple(g) for g in groups}
    if len(shapes) == 1:
        [fields] = shapes
        return (" / ".join(fields) if fields else "Group"), fields
    return "Group", None


def _worst(worst: Sequence[WorstCase]) -> str:
    shown = [w.case_id or w.name for w in worst[:_SHOWN_WORST]]
    return " ".join(shown) + (" ..." if len(worst) > _SHOWN_WORST else "")


def _plain(*cells: object) -> list[tuple[str, Style]]:
    return [(str(c), "") for c in cells]


def _result(row: TargetAttainment) -> tuple[str, Style]:
    text = {"pass": "pass", "fail": "FAIL", "no data": "no data"}[row.status]
    style: Style = "pass" if row.status == "pass" else "fail" if row.status == "fail" else "dim"
    return text + ("*" if row.provisional else ""), style


def _targets(report: Report) -> Section:
    title, fields = _grouping([t.group for t in report.targets])
    headers = (
        "Target",
        "Clause",
        "Period",
        title,
        "Cases",
        "Met",
        "Breached",
        "Pending",
        "Cancelled",
        "Attainment",
        "Target %",
        "Result",
        "Worst cases",
    )
    rows = [
        [
            *_plain(
                t.target, t.source, t.period, _group(t.group, fields), t.cases, t.met, t.breached, t.pending
            ),
            *_plain(t.cancelled, _pct(t.attainment), f"{t.op} {t.target_percent:g}%"),
            _result(t),
            (_worst(t.worst), "dim"),
        ]
        for t in report.targets
    ]
    note = (
        "* pending items could still change this result" if any(t.provisional for t in report.targets) else ""
    )
    return Section("Targets", headers, frozenset(range(4, 11)), rows, note, drop=(12, 8, 2, 1, 4, 7, 5, 6))


def _rules(report: Report) -> Section:
    title, fields = _grouping([r.group for r in report.rules])
    headers = (
        "Rule",
        "Clause",
        "Period",
        title,
        "Cases",
        "Met",
        "Breached",
        "Pending",
        "Cancelled",
        "Attainment",
        "Worst cases",
    )
    rows = [
        [
            *_plain(
                r.rule, r.source, r.period, _group(r.group, fields), r.cases, r.met, r.breached, r.pending
            ),
            *_plain(r.cancelled, _pct(r.attainment)),
            (_worst(r.worst), "dim"),
        ]
        for r in report.rules
    ]
    return Section("Rules", headers, frozenset(range(4, 10)), rows, drop=(10, 8, 2, 1, 4, 7, 5))


def _breaches(report: Report) -> list[Section]:
    times = report.breach_times
    weekday = Section(
        "Breaches by weekday (when they fell due)",
        (*WEEKDAYS, "Total"),
        frozenset(range(8)),
        [_plain(*times.by_weekday, sum(times.by_weekday))],
    )
    hours = times.by_hour
    hour = Section(
        "Breaches by hour of day",
        ("Hours", *(f"+{h}" for h in range(12))),
        frozenset(range(1, 13)),
        [_plain("00-11", *hours[:12]), _plain("12-23", *hours[12:])],
    )
    return [weekday, hour]


def _escalations(report: Report) -> Section:
    title, fields = _grouping([e.group for e in report.escalations])
    rows = [
        _plain(
            e.rule,
            e.source,
            e.period,
            _group(e.group, fields),
            e.raised,
            e.cases,
            ", ".join(f"L{level}: {n}" for level, n in e.by_level.items()),
        )
        for e in report.escalations
    ]
    return Section(
        "Escalations raised",
        ("Rule", "Clause", "Period", title, "Raised", "Cases", "By level"),
        frozenset({4, 5}),
        rows,
        drop=(2, 1, 5),
    )


def _violations(report: Report) -> Section:
    title, fields = _grouping([v.group for v in report.violations])
    rows = [
        _plain(v.source, v.rule, v.period, _group(v.group, fields), v.fail, v.review, v.cases)
        for v in report.violations
    ]
    return Section(
        "Etiquette findings per clause",
        ("Clause", "Check", "Period", title, "Fail", "Review", "Cases"),
        frozenset({4, 5, 6}),
        rows,
        drop=(2, 6),
    )


def _sparkline(histogram: Sequence[int]) -> str:
    top = max(histogram) or 1
    return "".join(_SPARKS[round(n / top * (len(_SPARKS) - 1))] for n in histogram)


def _scores(report: Report) -> Section:
    rows = [
        [
            *_plain(s.agent_id or "-", s.team or "-", s.calls, s.passed),
            (_pct(s.pass_rate), "pass" if s.pass_rate >= 95 else "fail" if s.pass_rate < 80 else ""),
            *_plain(*(f"{x:.1f}" for x in (s.mean, s.min, s.q1, s.median, s.q3, s.max))),
            (_sparkline(s.histogram), ""),
        ]
        for s in report.scores
    ]
    return Section(
        "Call scores per agent (A1 scorecard, percent)",
        (
            "Agent",
            "Team",
            "Calls",
            "Passed",
            "Pass rate",
            "Mean",
            "Min",
            "Q1",
            "Median",
            "Q3",
            "Max",
            "0..100",
        ),
        frozenset(range(2, 11)),
        rows,
        drop=(7, 9, 6, 10, 5, 3),
    )


def sections(report: Report) -> list[Section]:
    """The report's tables, in the order they are shown."""
    return [
        _targets(report),
        _rules(report),
        *_breaches(report),
        _escalations(report),
        _violations(report),
        _scores(report),
    ]


def heading(report: Report, *, prefix: bool = True) -> str:
    """One line saying what was evaluated, with which ruleset, at which instant."""
    at = f"all at {report.now.isoformat()}" if report.now is not None else "each at its own now"
    by = f", by {', '.join(report.by)}" if report.by else ""
    text = (
        f"{report.cases:,} cases ({at}); ruleset {report.ruleset}; period {report.period}{by}; "
        f"times in {report.timezone}"
    )
    return f"Attainment report: {text}" if prefix else text


def _aligned(row: Sequence[str], widths: Sequence[int], numeric: frozenset[int]) -> str:
    parts = [cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i]) for i, cell in enumerate(row)]
    return "  ".join(parts).rstrip()


def _plain_text(section: Section) -> str:
    cells = [list(section.headers), *[[text for text, _ in row] for row in section.rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(section.headers))]
    lines = [section.title, "=" * len(section.title), _aligned(cells[0], widths, section.numeric)]
    lines.append("  ".join("-" * w for w in widths))
    lines += [_aligned(row, widths, section.numeric) for row in cells[1:]] or ["(none)"]
    if section.note:
        lines.append(section.note)
    return "\n".join(lines) + "\n"


def _rich_table(section: Section, keep: Sequence[int], notes: Sequence[str]) -> Any:
    from rich import box
    from rich.table import Table

    styles = {"": "", "pass": "green", "fail": "bold red", "dim": "dim"}
    table = Table(
        title=section.title, title_justify="left", box=box.SIMPLE_HEAVY, caption="\n".join(notes) or None
    )
    for i in keep:
        # The first column names the row (a rule, a target): never cut it; others wrap.
        table.add_column(
            section.headers[i], justify="right" if i in section.numeric else "left", no_wrap=i == keep[0]
        )
    for row in section.rows:
        cells = [row[i] for i in keep]
        table.add_row(
            *[f"[{styles[style]}]{_escape(text)}[/]" if style else _escape(text) for text, style in cells]
        )
    if not section.rows:
        table.add_row("(none)")
    return table


def _fitted(section: Section, console: Any) -> Any:
    """The section's table with the optional columns a narrow terminal cannot show hidden, and a note."""
    from rich.measure import Measurement

    keep = list(range(len(section.headers)))
    notes = [section.note] if section.note else []
    for column in (None, *section.drop):
        if column is not None:
            keep.remove(column)
        table = _rich_table(section, keep, notes)
        wide = console.options.update(max_width=100_000)  # the table's natural width, unclamped
        if Measurement.get(console, wide, table).maximum <= console.width:
            break
    hidden = [h for i, h in enumerate(section.headers) if i not in keep]
    if hidden:
        notes.append(f"hidden to fit the terminal: {', '.join(hidden)} (widen it, or pipe for every column)")
        table = _rich_table(section, keep, notes)
    return table


def _rich(report: Report, out: TextIO, width: int | None) -> None:
    from rich.console import Console

    console = Console(file=out, force_terminal=True, width=width, highlight=False, soft_wrap=False)
    console.print(heading(report), style="bold")
    for section in sections(report):
        console.print(_fitted(section, console))


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def write_table(
    report: Report, out: TextIO, *, terminal: bool | None = None, width: int | None = None
) -> None:
    """Write the report's tables: rich when ``out`` is a terminal (or ``terminal=True``), else plain text."""
    if terminal is None:
        terminal = bool(getattr(out, "isatty", lambda: False)())
    if terminal:
        _rich(report, out, width)
        return
    out.write(heading(report) + "\n\n")
    out.write("\n".join(_plain_text(s) for s in sections(report)))
