"""How well the etiquette checks agree with human reviewers, on a labelled corpus.

A QA team labels real calls the way their reviewers judge them (per clause: ``pass``,
``fail``, ``review`` when a reviewer could go either way, ``na`` when it does not apply) and
measures the checks against those labels before switching automatic checking on. The corpus
format is described in tests/corpus/etiquette/README.md: one YAML file per case with
``id``, ``now``, ``events`` and ``labels``.

Scoring: a clause's verdict is ``fail`` when the decision has a violation of that clause
with severity ``fail``; ``review`` violations abstain. Precision and recall are on the
``fail`` class over every judgement not labelled ``review``; ``na`` counts as ``pass``.

>>> import tierrules
>>> from tierrules.agreement import LabelledCase, score
>>> case = LabelledCase("c1", __import__("datetime").datetime.fromisoformat("2026-11-24T09:10:00+08:00"),
...     [{"type": "utterance", "at": "2026-11-24T09:00:00+08:00", "case_id": "c1",
...       "speaker": "agent", "text": "这是规定，没有例外。"}], {"Q5": "fail"})
>>> report = score([case], tierrules.Engine())
>>> report.clauses["Q5"].recall
1.0
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from .decision import Decision
from .errors import EventError, Problem, RulesetError
from .evaluation.engine import Engine
from .ruleset.reader import SourceMap, read_yaml

__all__ = ["ClauseScore", "LabelledCase", "Report", "load_corpus", "score"]

Label = Literal["pass", "fail", "review", "na"]
_LABELS = ("pass", "fail", "review", "na")


@dataclass(frozen=True)
class LabelledCase:
    """One conversation, when it is judged, and the reviewer's label per clause."""

    id: str
    now: dt.datetime
    events: list[dict[str, Any]]
    labels: Mapping[str, str]
    notes: Mapping[str, str] = field(default_factory=dict)
    source: Path | None = None


@dataclass
class ClauseScore:
    """Agreement on one clause: the confusion counts over judged cases."""

    clause: str
    true_fail: int = 0
    false_fail: int = 0  # the checks failed what the reviewer passed
    missed_fail: int = 0  # the reviewer failed what the checks passed
    true_pass: int = 0
    reviews: int = 0  # labelled review: not scored
    alarms: int = 0  # passed or n/a by the reviewer, yet some violation (review included)
    disagreements: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        flagged = self.true_fail + self.false_fail
        return self.true_fail / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_fail + self.missed_fail
        return self.true_fail / wanted if wanted else 1.0

    @property
    def judged(self) -> int:
        return self.true_fail + self.false_fail + self.missed_fail + self.true_pass


@dataclass
class Report:
    """Per-clause agreement over a corpus, and the totals."""

    clauses: dict[str, ClauseScore]
    cases: int

    @property
    def overall(self) -> ClauseScore:
        total = ClauseScore("all")
        for c in self.clauses.values():
            total.true_fail += c.true_fail
            total.false_fail += c.false_fail
            total.missed_fail += c.missed_fail
            total.true_pass += c.true_pass
            total.reviews += c.reviews
            total.alarms += c.alarms
        return total

    def table(self) -> str:
        """A plain-text table: one row per clause, then all clauses together."""
        rows = [("clause", "judged", "fail", "flagged", "agreed", "precision", "recall", "review", "alarms")]
        for c in [*(self.clauses[k] for k in sorted(self.clauses, key=_clause_key)), self.overall]:
            rows.append(
                (
                    c.clause,
                    str(c.judged),
                    str(c.true_fail + c.missed_fail),
                    str(c.true_fail + c.false_fail),
                    str(c.true_fail + c.true_pass),
                    f"{c.precision:.3f}",
                    f"{c.recall:.3f}",
                    str(c.reviews),
                    str(c.alarms),
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = []
        for r in rows:
            cells = [
                cell.ljust(w) if i == 0 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(r, widths, strict=True))
            ]
            lines.append("  ".join(cells))
        return "\n".join(lines)


def _clause_key(clause: str) -> tuple[str, int]:
    return clause[0], int(clause[1:]) if clause[1:].isdigit() else 0


def load_corpus(where: Path | Iterable[Path]) -> list[LabelledCase]:
    """Every ``*.yaml`` case under a directory (or the files given), in file-name order.

    Raises :class:`~tierrules.RulesetError` naming the file and line of a malformed case.
    """
    paths = sorted(Path(where).rglob("*.yaml")) if isinstance(where, str | Path) else sorted(where)
    cases = []
    for path in paths:
        if path.name.lower() == "readme.yaml":
            continue
        smap = SourceMap()
        data = read_yaml(path, smap)
        cases.append(_case(path, data, smap))
    return cases


def _case(path: Path, data: Any, smap: SourceMap) -> LabelledCase:
    def bad(message: str, *where: str | int) -> RulesetError:
        file, line = smap.locate(where)
        return RulesetError([Problem(message, where, file=file or path, line=line)], source=path)

    if not isinstance(data, dict):
        raise bad("a labelled case is a mapping")
    missing = [key for key in ("id", "now", "events", "labels") if key not in data]
    if missing:
        raise bad(f"missing {missing[0]!r}", missing[0])
    labels = data["labels"]
    if not _valid_labels(labels):
        raise bad(f"labels map clauses to one of {', '.join(_LABELS)}", "labels")
    now = _instant(data["now"])
    if now is None:
        raise bad("'now' must be a date-time with a UTC offset", "now")
    events = [_plain(e) for e in data["events"]]
    return LabelledCase(str(data["id"]), now, events, labels, dict(data.get("notes") or {}), path)


def _valid_labels(labels: Any) -> bool:
    return isinstance(labels, dict) and all(v in _LABELS for v in labels.values())


def _instant(value: Any) -> dt.datetime | None:
    """``now`` as an aware date-time (YAML gives one, or ISO text), or None if it is not one."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:  # not ISO text: refused by the caller, with the file and key
            return None
    return value if isinstance(value, dt.datetime) and value.tzinfo is not None else None


def _plain(event: Any) -> Any:
    """YAML gives date-times as datetime objects; events take ISO text."""
    if isinstance(event, dict):
        return {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in event.items()}
    return event


def _evaluated(engine: Engine, case: LabelledCase) -> Decision:
    """The case's decision; a bad event is refused naming the case's file and the event."""
    try:
        return engine.evaluate(case.events, case.now)
    except EventError as exc:
        problems = [replace(p.descend("events"), file=case.source) for p in exc.problems]
        raise RulesetError(problems, source=case.source) from None


def verdicts(decision: Decision) -> dict[str, str]:
    """Per clause: ``fail`` (a fail violation), ``review`` (review violations only)."""
    out: dict[str, str] = {}
    for v in decision.violations:
        if v.severity == "fail":
            out[v.source] = "fail"
        else:
            out.setdefault(v.source, "review")
    return out


def score(cases: Sequence[LabelledCase], engine: Engine) -> Report:
    """Evaluate every case and compare the verdicts with the labels."""
    clauses: dict[str, ClauseScore] = {}
    for case in cases:
        got = verdicts(_evaluated(engine, case))
        for clause, label in case.labels.items():
            c = clauses.setdefault(clause, ClauseScore(clause))
            verdict = got.get(clause, "pass")
            if label == "review":
                c.reviews += 1
                continue
            if verdict != "pass" and label in ("pass", "na"):
                c.alarms += 1
            wanted, flagged = label == "fail", verdict == "fail"
            if wanted and flagged:
                c.true_fail += 1
            elif flagged:
                c.false_fail += 1
                c.disagreements.append(f"{case.id}: checks fail, reviewer {label}")
            elif wanted:
                c.missed_fail += 1
                c.disagreements.append(f"{case.id}: reviewer fail, checks {verdict}")
            else:
                c.true_pass += 1
    return Report(clauses, len(cases))
