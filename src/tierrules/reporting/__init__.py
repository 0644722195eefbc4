"""Attainment reports: how well the policy was kept over a case log (docs/reports.md).

:func:`report` evaluates every case of a case log (each at its own ``now``, or all at one
given instant) and counts the decisions by rule, by the ruleset's targets, by period and by
group: met, breached, pending and cancelled obligations, the share met in time against the
target, the worst cases behind the breaches, when breaches fall due, the escalations raised,
etiquette findings per clause and each agent's call scores.

>>> import tierrules
>>> from tierrules.reporting import demo
>>> cases = demo.cases(seed=3, scale=0.05)
>>> rep = tierrules.report(cases, by=["team"], workers=0)
>>> row = next(t for t in rep.targets if t.target == "E9.responded-in-24h")
>>> row.group["team"] is not None, row.met + row.breached + row.pending + row.cancelled == row.items
(True, True)
>>> rep.to_json() == tierrules.report(cases, by=["team"], workers=0).to_json()
True

Renderers: :func:`~tierrules.reporting.table.write_table` (a terminal table: rich on a
terminal, plain text when piped), :func:`~tierrules.reporting.csvfile.write_csv`,
``Report.to_json()`` and :func:`~tierrules.reporting.html.render_html` (one self-contained file
with plotly charts; needs the ``report`` extra).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..batch import dask_available, evaluate_cases, open_client
from ..caselog import CaseRecord, case_error, read_cases
from ..compiler.load import load_ruleset
from ..decision import Decision
from ..errors import EventError
from ..evaluation.engine import Engine
from ..ruleset.model import Ruleset
from .aggregate import DEFAULT_TOP, ReportBuilder
from .model import (
    AgentScores,
    AttainmentPoint,
    BreachTimes,
    EscalationCount,
    Report,
    RuleAttainment,
    TargetAttainment,
    ViolationCount,
    WorstCase,
)

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "AUTO_DASK_CASES",
    "CHUNK_CASES",
    "AgentScores",
    "AttainmentPoint",
    "BreachTimes",
    "EscalationCount",
    "Report",
    "ReportBuilder",
    "RuleAttainment",
    "TargetAttainment",
    "ViolationCount",
    "WorstCase",
    "from_decisions",
    "report",
]

AUTO_DASK_CASES = 20_000
"""With ``workers=None``, logs of at least this many cases are evaluated on a local Dask
cluster (when the machine has more than one CPU); smaller ones in this process, where a
cluster's start-up costs more than it saves (docs/performance.md, "Reports")."""

CHUNK_CASES = 2_000
"""Cases sent to Dask per round: their decisions are counted and dropped while the next round
is evaluated."""


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextmanager
def _where(count: int, workers: int | None, address: str | None) -> Iterator[Client | None]:
    """The client to evaluate on, or None for this process; a cluster opened here is closed after."""
    if address is not None:
        with open_client(address=address) as opened:
            yield opened
    elif workers == 0 or (
        workers is None and (count < AUTO_DASK_CASES or _cpus() < 2 or not dask_available())
    ):
        yield None
    else:
        with open_client(workers=workers) as opened:
            yield opened


def from_decisions(
    records: Sequence[CaseRecord],
    decisions: Sequence[Decision | Mapping[str, Any] | str],
    *,
    ruleset: Ruleset | str | Path | None = None,
    now: dt.datetime | None = None,
    period: str | None = None,
    by: Sequence[str] | None = None,
    top: int = DEFAULT_TOP,
) -> Report:
    """A report of decisions already made: ``decisions[i]`` is the decision of ``records[i]``
    (a :class:`~tierrules.Decision`, its JSON data, or its JSON text, as ``--batch`` writes).

    ``records`` give each case's events (for the groups) and ``now`` (how late an unmet
    breach is); ``now`` here only labels the report. Other arguments as :func:`report`.
    """
    if len(records) != len(decisions):
        raise ValueError(f"{len(records)} records but {len(decisions)} decisions")
    chosen = ruleset if isinstance(ruleset, Ruleset) else load_ruleset(ruleset)
    builder = ReportBuilder(chosen, period=period, by=by, top=top, now=now)
    for record, decision in zip(records, decisions, strict=True):
        if isinstance(decision, Decision):
            data: Mapping[str, Any] = decision.model_dump(mode="json")
        elif isinstance(decision, str):
            data = json.loads(decision)
        else:
            data = decision
        builder.add(record.name, record.now, record.events, data)
    return builder.build()


def report(
    cases: str | Path | Sequence[CaseRecord],
    *,
    ruleset: Ruleset | str | Path | None = None,
    now: dt.datetime | None = None,
    period: str | None = None,
    by: Sequence[str] | None = None,
    top: int = DEFAULT_TOP,
    workers: int | None = None,
    address: str | None = None,
) -> Report:
    """Evaluate a case log and report how well the ruleset's rules and targets were kept.

    - ``cases``: a case log (JSON Lines of ``{"name", "now", "events"}``, or a directory of
      them, as :func:`tierrules.read_cases` reads) or the :class:`~tierrules.CaseRecord` s.
    - ``ruleset``: a :class:`~tierrules.Ruleset` or its path (default: the bundled policy);
      its ``targets`` are what the report measures.
    - ``now``: evaluate every case at this instant instead of its own ``now``.
    - ``period`` (day, week, month, quarter, all) and ``by`` (group fields: agent, team,
      channel, severity, tier, service_class, service_level, ``meta.<key>``) replace every
      target's own; rule rows use them too (default: month, no grouping).
    - ``top``: the worst cases kept per row.
    - ``workers``, ``address``: where to evaluate, as in :func:`tierrules.batch.evaluate_cases`
      (``address``: a running Dask scheduler; ``workers=0``: this process); ``workers=None``
      picks this process for logs under :data:`AUTO_DASK_CASES` cases and a local Dask cluster
      of one worker per CPU above.

    Raises :class:`~tierrules.EventError` for a bad case (naming it),
    :class:`~tierrules.RulesetError` for a bad ruleset, ``ValueError`` for a bad ``period``
    or ``by``. The same cases and arguments always give the same report.
    """
    chosen = ruleset if isinstance(ruleset, Ruleset) else load_ruleset(ruleset)
    builder = ReportBuilder(chosen, period=period, by=by, top=top, now=now)
    records = read_cases(Path(cases)) if isinstance(cases, str | Path) else list(cases)
    if now is not None:
        records = [dataclasses.replace(r, now=now) for r in records]
    with _where(len(records), workers, address) as on:
        decided = _in_process(records, chosen) if on is None else _on_dask(records, chosen, on)
        for record, decision in decided:
            builder.add(record.name, record.now, record.events, json.loads(decision))
    return builder.build()


def _in_process(records: Sequence[CaseRecord], ruleset: Ruleset) -> Iterator[tuple[CaseRecord, str]]:
    """Each case's decision JSON from one engine in this process, as ``batch`` renders it."""
    engine = Engine(ruleset)
    for record in records:
        try:
            yield record, engine.evaluate(record.events, record.now).to_json(indent=None)
        except EventError as err:
            raise case_error(record.name, err.problems) from None


def _on_dask(
    records: Sequence[CaseRecord], ruleset: Ruleset, client: Client
) -> Iterator[tuple[CaseRecord, str]]:
    """Each case's decision JSON from Dask, a chunk at a time; the next chunk is evaluated on
    the workers while this one is counted here, so they do not wait for the counting."""
    chunks = [records[i : i + CHUNK_CASES] for i in range(0, len(records), CHUNK_CASES)]
    with ThreadPoolExecutor(max_workers=1) as ahead:
        future = ahead.submit(evaluate_cases, chunks[0], ruleset=ruleset, client=client) if chunks else None
        for i, chunk in enumerate(chunks):
            assert future is not None
            results = future.result()
            if i + 1 < len(chunks):
                future = ahead.submit(evaluate_cases, chunks[i + 1], ruleset=ruleset, client=client)
            yield from zip(chunk, (r.decision_json for r in results), strict=True)
