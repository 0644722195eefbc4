"""The report's attainment rows as CSV: one row per target or rule, period and group.

One flat table a spreadsheet opens as it is: ``kind`` (target or rule), the id and clause,
the period, one ``group.<field>`` column per group field, the counts, the share in percent,
and for targets the threshold and the verdict. The other tables are in the JSON form and
``Report.to_dataframe()``.
"""

from __future__ import annotations

import csv
from typing import Any, TextIO

from .model import Report, RuleAttainment, TargetAttainment

__all__ = ["COLUMNS", "write_csv"]

COLUMNS = ("kind", "id", "source", "period", "period_start")
_COUNTS = ("cases", "items", "met", "breached", "pending", "cancelled", "attainment")
_VERDICT = ("op", "target_percent", "status", "provisional", "worst_cases")


_ALL = "(all)"  # the row is not grouped by this field (an empty cell: the cases did not say)


def _value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _row(
    kind: str, ident: str, row: RuleAttainment | TargetAttainment, fields: list[str], verdict: list[Any]
) -> list[Any]:
    group = [row.group.get(f) if f in row.group else _ALL for f in fields]
    counts = [row.cases, row.items, row.met, row.breached, row.pending, row.cancelled, row.attainment]
    worst = " ".join(w.case_id or w.name for w in row.worst)
    return [
        _value(v)
        for v in [kind, ident, row.source, row.period, row.period_start, *group, *counts, *verdict, worst]
    ]


def write_csv(report: Report, out: TextIO) -> None:
    """Write the targets, then the rules, as CSV (RFC 4180, ``\\r\\n`` line ends, UTF-8 text)."""
    fields: list[str] = []
    for row in [*report.targets, *report.rules]:
        fields += [f for f in row.group if f not in fields]
    writer = csv.writer(out)
    writer.writerow([*COLUMNS, *(f"group.{f}" for f in fields), *_COUNTS, *_VERDICT])
    for t in report.targets:
        writer.writerow(
            _row("target", t.target, t, fields, [t.op, t.target_percent, t.status, t.provisional])
        )
    for r in report.rules:
        writer.writerow(_row("rule", r.rule, r, fields, [None, None, None, None]))
