"""``evaluate --format table``: a decision as tables a person reads.

One table per non-empty part of the decision (obligations, escalations, warnings,
violations, scores, tiers), then the next check. Coloured on a terminal (breached red,
pending yellow, met green), plain text when piped or when ``NO_COLOR`` is set; ``rich``
draws it. Instants are shown on the ruleset's clock, as the decision reports them, without
their offset when it is the one of ``now`` (shown once, in the header).

The JSON form (``--format json``) is the contract for programs; this view may change.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, TextIO, cast

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.table import Table
    from rich.text import Text

    from ..decision import DeadlineWarning, Decision, Escalation, Obligation, Score, TierAssignment, Violation
    from ..ruleset.model import Ruleset

__all__ = ["ColorChoice", "console_for", "render_decision"]

ColorChoice = Literal["auto", "always", "never"]

# Not a terminal: rows stay on one line each (for grep and diff), however long.
_PIPE_WIDTH = 1000

_STATUS_STYLE = {"breached": "bold red", "pending": "yellow", "met": "green"}
_SEVERITY_STYLE = {"fail": "red", "review": "yellow"}


def console_for(out: TextIO, color: ColorChoice = "auto") -> Console:
    """A console writing to ``out``: colour on a terminal, unless ``NO_COLOR``; ``--color`` overrides."""
    from rich.console import Console

    stream = cast(TextIO, _Trimmed(out))  # enough of a TextIO for rich
    if color == "always":  # an explicit flag beats NO_COLOR (no-color.org)
        return Console(file=stream, force_terminal=True, no_color=False, highlight=False)
    width = None if stream.isatty() else _PIPE_WIDTH
    if color == "never":
        return Console(file=stream, color_system=None, highlight=False, width=width)
    return Console(file=stream, highlight=False, width=width)


class _Trimmed:
    """``out`` without the spaces rich pads table rows with at the end of each line."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def write(self, text: str) -> int:
        self._out.write(re.sub(r"[ \t]+(?=\n)", "", text))
        return len(text)

    def flush(self) -> None:
        self._out.flush()

    def isatty(self) -> bool:
        isatty = getattr(self._out, "isatty", None)
        return bool(isatty()) if callable(isatty) else False

    def fileno(self) -> int:  # rich asks it for the terminal's size
        return self._out.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self._out, "encoding", None) or "utf-8"


def _span(delta: dt.timedelta) -> str:
    """``2d 3h``, ``11h 05m``, ``45m``, ``10s``: the two largest units."""
    seconds = int(abs(delta).total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s" if secs else f"{minutes}m"
    return f"{secs}s"


class _Clock:
    """Formats instants against ``now``, the way ``ls -l`` does dates.

    The year only when it is not now's, seconds only when not zero, the UTC offset only when
    it is not now's (a daylight-saving change); the header shows ``now`` in full.
    """

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def at(self, instant: dt.datetime | None) -> str:
        if instant is None:
            return "-"
        date = "%m-%d" if instant.year == self.now.year else "%Y-%m-%d"
        text = instant.strftime(f"{date} %H:%M" + (":%S" if instant.second else ""))
        if instant.utcoffset() != self.now.utcoffset():
            text += instant.strftime(" %z")
        return text

    def relative(self, instant: dt.datetime) -> str:
        delta = instant - self.now
        return f"in {_span(delta)}" if delta >= dt.timedelta(0) else f"{_span(delta)} ago"

    def header(self) -> str:
        offset = self.now.strftime("%z")
        return self.now.strftime("%Y-%m-%d %H:%M" + (":%S" if self.now.second else "")) + (
            f" {offset[:3]}:{offset[3:]}"
        )


@dataclasses.dataclass
class _Section:
    """One part of the decision as rows; the first column names whose each row is."""

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str | RenderableType, ...]]
    keep_first: bool = False  # tiers: the customer column stays, even for one customer
    prose: tuple[str, ...] = ()  # the columns that wrap on a narrow terminal; the others never do

    def table(self) -> Table:
        """The rows as a table; one case only: its name in the title instead of a column."""
        from rich import box
        from rich.table import Table

        title, columns, rows = self.title, self.columns, self.rows
        whose = {str(row[0]) for row in rows}
        if len(whose) == 1 and not self.keep_first:
            title = f"{title} · {whose.pop()}"
            columns, rows = columns[1:], [row[1:] for row in rows]
        table = Table(
            title=_styled(title, "bold"),  # a case id is text, never rich markup
            title_justify="left",
            title_style="bold",
            box=box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
            padding=(0, 1, 0, 0),  # one space and the column rule: 80 columns hold an obligation
        )
        for name in columns:
            table.add_column(name, no_wrap=name not in self.prose, overflow="fold")
        for row in rows:
            table.add_row(*(_styled(c) if isinstance(c, str) else c for c in row))
        return table


def _styled(text: str, style: str | None = None) -> Text:
    """A cell: the text as is (never read as rich markup, whatever it holds)."""
    from rich.text import Text

    return Text(text, style=style or "")


def _counts(values: Sequence[str]) -> str:
    order = {"breached": 0, "pending": 1, "met": 2, "fail": 0, "review": 1}
    seen = sorted(set(values), key=lambda v: (order.get(v, 9), v))
    return ", ".join(f"{values.count(v)} {v}" for v in seen)


def _obligations(items: Sequence[Obligation], clock: _Clock) -> _Section:
    rows: list[tuple[str | RenderableType, ...]] = []
    for o in items:
        due = clock.at(o.due_at) + (f" ({clock.relative(o.due_at)})" if o.status == "pending" else "")
        status = o.status + (" (paused)" if o.paused else "")
        who = o.case_id if o.case_id is not None else f"customer {o.customer_id}"
        rows.append(
            (who, o.rule, o.source, _styled(status, _STATUS_STYLE.get(o.status)), due, clock.at(o.met_at))
        )
    title = f"Obligations ({len(items)}: {_counts([o.status for o in items])})"
    return _Section(title, ("case", "rule", "clause", "status", "due", "met"), rows)


def _escalations(items: Sequence[Escalation], clock: _Clock) -> _Section:
    rows: list[tuple[str | RenderableType, ...]] = []
    for e in items:
        level = str(e.to_level) + (f", priority {e.priority}" if e.priority is not None else "")
        level += f", step {e.step}" if e.step else ""
        rows.append((e.case_id, e.rule, e.source, clock.at(e.at), _styled(level, "bold magenta"), e.reason))
    return _Section(
        f"Escalations ({len(items)})", ("case", "rule", "clause", "at", "to level", "reason"), rows
    )


def _warnings(items: Sequence[DeadlineWarning], clock: _Clock) -> _Section:
    rows: list[tuple[str | RenderableType, ...]] = [
        (w.case_id, w.rule, w.source, clock.at(w.at), f"{w.percent}%", clock.at(w.due_at)) for w in items
    ]
    return _Section(f"Warnings ({len(items)})", ("case", "rule", "clause", "at", "time used", "due"), rows)


def _violations(items: Sequence[Violation], clock: _Clock) -> _Section:
    rows: list[tuple[str | RenderableType, ...]] = []
    for v in items:
        evidence = f"“{v.evidence.text}”" if v.evidence is not None else ""
        message = (v.message.en or v.message.zh) if v.message is not None else ""
        severity = _styled(v.severity, _SEVERITY_STYLE.get(v.severity))
        rows.append((v.case_id, v.rule, v.source, severity, clock.at(v.at), evidence, message))
    title = f"Violations ({len(items)}: {_counts([v.severity for v in items])})"
    columns = ("case", "rule", "clause", "severity", "at", "evidence", "message")
    return _Section(title, columns, rows, prose=("evidence", "message"))


def _score_result(s: Score) -> RenderableType:
    if s.auto_failed:
        return _styled("auto-failed", "bold red")
    return _styled("passed", "green") if s.passed else _styled("failed", "red")


def _scores(items: Sequence[Score], clock: _Clock) -> _Section:
    rows: list[tuple[str | RenderableType, ...]] = []
    for s in items:
        lost = ", ".join(i.id for i in s.items if i.status == "fail") or "-"
        rows.append((s.case_id, f"{s.score:g}/{s.max:g}", f"{s.percent:g}%", _score_result(s), lost))
    return _Section(
        f"Scores ({len(items)})", ("case", "score", "percent", "result", "lost on"), rows, prose=("lost on",)
    )


def _next_tier(t: TierAssignment) -> str:
    if t.next_tier is None:
        return "-"
    gaps = ", ".join(f"{k} +{v:g}" for k, v in t.next_tier.gaps.items() if v)
    return f"{t.next_tier.tier}" + (f" ({gaps})" if gaps else "")


def _tiers(items: Sequence[TierAssignment], clock: _Clock) -> _Section:
    rows: list[tuple[str | RenderableType, ...]] = [
        (
            t.customer_id,
            _styled(t.tier, "bold"),
            t.service_class,
            str(t.service_level),
            t.rule,
            t.source,
            _next_tier(t),
        )
        for t in items
    ]
    columns = ("customer", "tier", "class", "level", "rule", "clause", "next tier")
    return _Section(f"Tiers ({len(items)})", columns, rows, keep_first=True, prose=("next tier",))


def _sections(decision: Decision, clock: _Clock) -> list[tuple[str, _Section | None]]:
    """Each part's name and its rows (None: the part is empty), in the JSON's order of interest."""
    d = decision
    return [
        ("obligations", _obligations(d.obligations, clock) if d.obligations else None),
        ("escalations", _escalations(d.escalations, clock) if d.escalations else None),
        ("warnings", _warnings(d.warnings, clock) if d.warnings else None),
        ("violations", _violations(d.violations, clock) if d.violations else None),
        ("scores", _scores(d.scores, clock) if d.scores else None),
        ("tiers", _tiers(d.tiers, clock) if d.tiers else None),
    ]


def _line(*parts: tuple[str, str]) -> RenderableType:
    from rich.text import Text

    return Text.assemble(*parts)


def render_decision(
    decision: Decision, console: Console, *, now: dt.datetime, ruleset: Ruleset, title: str | None = None
) -> None:
    """Print ``decision``, evaluated at ``now`` under ``ruleset``, as tables (``title``: the case's name).

    ``now`` must be on the ruleset's clock (the decision's instants are).
    """
    clock = _Clock(now)
    heading = f"{title}: " if title else ""
    console.print(
        _line(
            (f"{heading}decision at {clock.header()} {ruleset.timezone}", "bold"),
            (f" · ruleset {ruleset.name} {ruleset.version}", "dim"),
        )
    )
    empty = []
    for name, section in _sections(decision, clock):
        if section is None:
            empty.append(name)
        else:
            console.print()
            console.print(section.table())
    console.print()
    if empty:
        listed = ", ".join(empty[:-1]) + (" or " if len(empty) > 1 else "") + empty[-1]
        console.print(_line((f"no {listed}", "dim")))
    nxt = decision.next_check_at
    when = (
        f"{clock.at(nxt)} ({clock.relative(nxt)})"
        if nxt is not None
        else "none (nothing changes until a new event)"
    )
    console.print(_line(("next check: ", "bold"), (when, "")))
