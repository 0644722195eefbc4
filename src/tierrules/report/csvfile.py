"""The report's attainment rows as CSV: one row per target or rule, period and group.

One flat table a spreadsheet opens as it is: ``kind`` (target or rule), the id and clause,
the period, one ``group.<field>`` column per group field, the counts, the share in percent,
and for targets the threshold and the verdict. The other tables are in the JSON form and
``Report.to_dataframe()``.
"""

from __future__ import annotations

import csv
from typing import Any, TextIO

from .model import Report

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


def write_csv(report: Report, out: TextIO) -> None:
    """Write the targets, then the rules, as CSV (RFC 4180, ``\\r\\n`` line ends, UTF-8 text)."""
    fields: list[str] = []
    for row in [*report.targets, *report.rules]:
        fields += [f for f in row.group if f not in fields]
    writer = csv.writer(out)
    writer.writerow([*COLUMNS, *(f"group.{f}" for f in fields), *_COUNTS, *_VERDICT])
    for t in report.targets:
        head = ["target", t.target, t.source, t.period, t.period_start]
        counts = [t.cases, t.items, t.met, t.breached, t.pending, t.cancelled, t.attainment]
        verdict = [
            t.op,
            t.target_percent,
            t.status,
            t.provisional,
            " ".join(w.case_id or w.name for w in t.worst),
        ]
        writer.writerow(
            [
                _value(v)
                for v in [
                    *head,
                    *(t.group.get(f) if f in t.group else _ALL for f in fields),
                    *counts,
                    *verdict,
                ]
            ]
        )
    for r in report.rules:
        head = ["rule", r.rule, r.source, r.period, r.period_start]
        counts = [r.cases, r.items, r.met, r.breached, r.pending, r.cancelled, r.attainment]
        empty: list[object] = [None, None, None, None, " ".join(w.case_id or w.name for w in r.worst)]
        writer.writerow(
            [
                _value(v)
                for v in [
                    *head,
                    *(r.group.get(f) if f in r.group else _ALL for f in fields),
                    *counts,
                    *empty,
                ]
            ]
        )
