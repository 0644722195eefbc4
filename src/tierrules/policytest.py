"""Policy tests: YAML cases next to a ruleset, run like ``opa test``.

A test file (``*.test.yaml``, beside the ruleset or in its ``tests/`` directory)::

    cases:
      - name: complaint on Saturday is due Monday 10:00
        now: 2026-11-28T16:00:00+08:00
        events:
          - {type: complaint_registered, at: 2026-11-28T15:00:00+08:00, case_id: c1}
        expect:
          obligations:
            - {rule: E2.complaint-reply, due_at: 2026-11-30T10:00:00+08:00, status: pending}
          next_check_at: 2026-11-30T10:00:00+08:00

Each expected list item must match a distinct actual item on the keys it gives (values
equal; instants compared as instants, whatever their offset; nested mappings by subset,
nested lists item by item in the same way). ``violations`` (etiquette, with ``missing``,
``evidence``, ...) and ``scores`` (per-call scorecards) are lists like the others. Extra
actual items are allowed unless ``exact: true`` (in ``expect``, for every list it names).
``next_check_at`` is compared when given (``null`` expects none).
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .decision import Decision
from .errors import EventError, PathPart, Problem, RulesetError, TierrulesError
from .evaluation.engine import Engine
from .ruleset.model import Ruleset
from .ruleset.reader import SourceMap, read_yaml

LIST_KEYS = ("obligations", "escalations", "warnings", "violations", "tiers", "scores")
_EXPECT_KEYS = {*LIST_KEYS, "next_check_at", "exact"}
_CASE_KEYS = {"name", "now", "events", "expect", "description"}


class PolicyTestError(TierrulesError):
    """A policy test file is malformed (bad YAML, missing keys, invalid events)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid policy test: " + "; ".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class PolicyCase:
    """One case of a policy test file."""

    name: str
    now: dt.datetime
    events: list[dict[str, Any]]
    expect: dict[str, Any]
    file: Path
    line: int | None
    index: int


@dataclass
class CaseResult:
    """The outcome of one case: passed, or the failure messages (diffs)."""

    case: PolicyCase
    failures: list[str] = field(default_factory=list)
    decision: Decision | None = None

    @property
    def passed(self) -> bool:
        return not self.failures


def _jsonable(value: Any) -> Any:
    """YAML values to their JSON form: datetimes and dates to ISO text."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _instant(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else None
    if isinstance(value, str) and len(value) >= 19 and value[4:5] == "-" and value[10:11] in "T ":
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo is not None else None
    return None


def find_test_files(where: Path) -> list[Path]:
    """``*.test.yaml`` files: ``where`` itself, beside a ruleset, or in its ``tests/`` tree."""
    if where.is_file():
        return [where]
    found = sorted(where.glob("*.test.yaml")) + sorted(where.glob("*.test.yml"))
    tests = where / "tests"
    if tests.is_dir():
        found += sorted(tests.rglob("*.test.yaml")) + sorted(tests.rglob("*.test.yml"))
    return found


def ruleset_dir_for(test_file: Path) -> Path:
    """The ruleset a test file belongs to: its directory, or the parent of a ``tests/`` directory."""
    folder = test_file.parent
    for candidate in (folder, *folder.parents):
        if candidate.name != "tests" and any(
            p.suffix in {".yaml", ".yml"} and not p.name.endswith((".test.yaml", ".test.yml"))
            for p in candidate.iterdir()
            if p.is_file()
        ):
            return candidate
    return folder


def load_test_file(path: Path) -> tuple[list[PolicyCase], Path | None]:
    """Parse a test file into cases; the second value is its ``ruleset:`` (relative paths resolved).

    Raises :class:`PolicyTestError` naming the file and line of what is wrong.
    """
    smap = SourceMap()
    try:
        data = read_yaml(path, smap)
    except RulesetError as err:  # unreadable, not YAML, duplicate keys
        raise PolicyTestError(list(err.problems)) from None
    source = _Source(path, smap)
    raw_cases = _file_cases(data, source)
    ruleset = data.get("ruleset")
    ruleset_path = (path.parent / str(ruleset)).resolve() if ruleset is not None else None
    cases = _parse_cases(raw_cases, source)
    # Re-locate event errors later: keep the source map on the cases' file.
    _SOURCE_MAPS[path] = smap
    return cases, ruleset_path


@dataclass(frozen=True)
class _Source:
    """A test file being read, and where each of its paths is in it."""

    path: Path
    smap: SourceMap

    def error(self, message: str, where: tuple[PathPart, ...], value: Any = None) -> PolicyTestError:
        """The error for what is wrong at ``where``, located at its file and line."""
        file, line = self.smap.locate(where)
        return PolicyTestError([Problem(message, where, value, file=file or self.path, line=line)])


def _file_cases(data: Any, source: _Source) -> list[Any]:
    """The file's ``cases`` list, once the file is a mapping of known keys."""
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise source.error("a policy test file is a mapping with a 'cases' list", ())
    extra = set(data) - {"cases", "ruleset", "description"}
    if extra:
        raise source.error(f"unknown key {sorted(extra)[0]!r} (expected cases, ruleset, description)", ())
    cases: list[Any] = data["cases"]
    return cases


def _parse_cases(raw_cases: list[Any], source: _Source) -> list[PolicyCase]:
    """Every case, in file order; the first problem found raises."""
    cases: list[PolicyCase] = []
    names: set[str] = set()
    for i, raw in enumerate(raw_cases):
        case = _parse_case(raw, i, source, taken=names)
        names.add(case.name)
        cases.append(case)
    return cases


def _parse_case(raw: Any, index: int, source: _Source, taken: set[str]) -> PolicyCase:
    """One case, checked in the order its errors are reported; ``taken``: earlier cases' names."""
    where: tuple[PathPart, ...] = ("cases", index)
    case = _case_mapping(raw, where, source)
    name = str(case["name"])
    if name in taken:
        raise source.error(f"duplicate case name {name!r}", (*where, "name"))
    now = _instant(case["now"])
    if now is None:
        raise source.error("'now' must be a date-time with a UTC offset", (*where, "now"), case["now"])
    if not isinstance(case["events"], list):
        raise source.error("'events' must be a list", (*where, "events"))
    expect = _expectations(case["expect"], (*where, "expect"), source)
    return PolicyCase(
        name=name,
        now=now,
        events=_jsonable(case["events"]),
        expect=_jsonable(expect),
        file=source.path,
        line=source.smap.lines.get(where),
        index=index,
    )


def _case_mapping(raw: Any, where: tuple[PathPart, ...], source: _Source) -> dict[str, Any]:
    """``raw`` once it is a mapping with every required key and no unknown one."""
    if not isinstance(raw, dict):
        raise source.error("a case is a mapping (name, now, events, expect)", where)
    unknown = set(raw) - _CASE_KEYS
    if unknown:
        key = sorted(unknown)[0]
        raise source.error(f"unknown key {key!r} in a case", (*where, key))
    for key in ("name", "now", "events", "expect"):
        if key not in raw:
            raise source.error(f"case is missing {key!r}", where)
    return raw


def _expectations(expect: Any, where: tuple[PathPart, ...], source: _Source) -> dict[str, Any]:
    """``expect`` once it is a mapping of known expectations, each list a list of mappings."""
    if not isinstance(expect, dict):
        raise source.error("'expect' must be a mapping", where)
    for key, value in expect.items():
        if key not in _EXPECT_KEYS:
            raise source.error(
                f"unknown expectation {key!r} (expected one of {sorted(_EXPECT_KEYS)})", (*where, key)
            )
        if key in LIST_KEYS and not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
            raise source.error(f"expect.{key} must be a list of mappings", (*where, key))
    return expect


_SOURCE_MAPS: dict[Path, SourceMap] = {}


# ----------------------------------------------------------------------------- matching


# Grade C: a branch per kind of value, in the order that decides (instants before text, bools before numbers).
def matches(expected: Any, actual: Any) -> bool:
    """Does ``actual`` satisfy ``expected`` (subset of keys, instants as instants)?"""
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and all(
            k in actual and matches(v, actual[k]) for k, v in expected.items()
        )
    if isinstance(expected, list):
        return isinstance(actual, list) and _assign(expected, actual) is not None
    e_at, a_at = _instant(expected), _instant(actual)
    if e_at is not None and a_at is not None:
        return e_at == a_at
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return float(expected) == float(actual)
    return bool(expected == actual)


def _assign(expected: Sequence[Any], actual: Sequence[Any]) -> dict[int, int] | None:
    """A matching of every expected item to a distinct actual item, or None."""
    owner, unplaced = _max_matching(expected, actual)
    return None if unplaced else {i: j for j, i in owner.items()}


def _unmatched(expected: Sequence[Any], actual: Sequence[Any]) -> list[int]:
    """Indexes of expected items left over in a maximum matching."""
    return _max_matching(expected, actual)[1]


def _max_matching(expected: Sequence[Any], actual: Sequence[Any]) -> tuple[dict[int, int], list[int]]:
    """A maximum matching by augmenting paths: {actual index: expected index}, and the expected left over."""
    fits = [[j for j, a in enumerate(actual) if matches(e, a)] for e in expected]
    owner: dict[int, int] = {}

    def place(i: int, seen: set[int]) -> bool:
        for j in fits[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or place(owner[j], seen):
                owner[j] = i
                return True
        return False

    unplaced = [i for i in range(len(expected)) if not place(i, set())]
    return owner, unplaced


def _project(expected: Any, actual: Any) -> Any:
    """``actual`` cut down to the keys ``expected`` names (for a readable diff)."""
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        return {k: _project(v, actual[k]) if k in actual else "<missing>" for k, v in expected.items()}
    return actual


def _score(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> tuple[int, int]:
    same_rule = int(expected.get("rule") is not None and expected.get("rule") == actual.get("rule"))
    same_id = int(
        expected.get("customer_id") is not None and expected.get("customer_id") == actual.get("customer_id")
    )
    return (same_rule + same_id, sum(1 for k, v in expected.items() if k in actual and matches(v, actual[k])))


def _dump(value: Any) -> list[str]:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False).splitlines()


def _diff(expected: Any, actual: Any, label: str) -> str:
    lines = difflib.unified_diff(
        _dump(expected),
        _dump(actual),
        fromfile=f"expected {label}",
        tofile=f"actual {label}",
        lineterm="",
        n=8,
    )
    return "\n".join(lines)


def check(decision: Decision, expect: Mapping[str, Any]) -> list[str]:
    """Failure messages (readable diffs) for ``decision`` against ``expect``; empty when it passes."""
    actual = decision.model_dump(mode="json")
    exact = bool(expect.get("exact", False))
    failures: list[str] = []
    for key in LIST_KEYS:
        if key in expect:
            failures += _list_failures(key, expect[key], actual[key], exact=exact)
    if "next_check_at" in expect:
        failures += _next_check_failures(expect["next_check_at"], actual["next_check_at"])
    return failures


def _list_failures(
    key: str, wanted: list[dict[str, Any]], got: list[dict[str, Any]], *, exact: bool
) -> list[str]:
    """A diff per expected item no actual item matches; with ``exact``, the actual items left over."""
    failures = [_missing(key, i, wanted[i], got) for i in _unmatched(wanted, got)]
    if exact:
        used = set((_assign(wanted, got) or {}).values())
        extra = [a for j, a in enumerate(got) if j not in used]
        if extra:
            summary = [_summary(a) for a in extra]
            failures.append(
                f"{key}: {len(extra)} unexpected item(s) (exact: true):\n  + " + "\n  + ".join(summary)
            )
    return failures


def _missing(key: str, index: int, item: dict[str, Any], got: list[dict[str, Any]]) -> str:
    """The failure for an expected item not found: a diff against the closest actual item."""
    label = key[:-1]  # "obligations" -> "obligation"
    if not got:
        return f"{key}[{index}] not found; the decision has no {key}:\n" + _diff(item, None, label)
    best = max(got, key=lambda a: _score(item, a))
    return f"{key}[{index}] not found; closest actual item:\n" + _diff(item, _project(item, best), label)


def _next_check_failures(want: Any, have: Any) -> list[str]:
    """``null`` expects no next check; an instant expects that instant, whatever its offset."""
    if want is None and have is None:
        return []
    if want is not None and have is not None and matches(want, have):
        return []
    return [f"next_check_at: expected {want}, got {have}"]


def _summary(item: Mapping[str, Any]) -> str:
    keys = ("id", "rule", "case_id", "customer_id", "tier", "status", "due_at", "at", "to_level", "missing")
    return json.dumps({k: item[k] for k in keys if k in item}, ensure_ascii=False)


# ----------------------------------------------------------------------------- running


def run_case(engine: Engine, case: PolicyCase) -> CaseResult:
    """Evaluate one case; bad events raise :class:`PolicyTestError` with the file and line."""
    try:
        decision = engine.evaluate(case.events, case.now)
    except EventError as err:
        smap = _SOURCE_MAPS.get(case.file)
        path = ("cases", case.index, "events", *err.absolute_path)
        file, line = smap.locate(path) if smap else (case.file, case.line)
        raise PolicyTestError(
            [
                Problem(
                    f"case {case.name!r}: {err.best.message}",
                    path,
                    err.best.value,
                    file=file,
                    line=line,
                    suggestion=err.best.suggestion,
                )
            ]
        ) from None
    return CaseResult(case, check(decision, case.expect), decision)


def rule_ids(ruleset: Ruleset) -> dict[str, str]:
    """Every rule id of the ruleset and its clause (deadlines, tiers, etiquette checks)."""
    out = {r.id: r.source for r in ruleset.deadlines}
    spec = ruleset.tiers
    if spec is not None:
        out.update({r.id: r.source for r in spec.thresholds})
        for rule in (spec.service, spec.vip_card, spec.override, spec.soft_landing):
            if rule is not None:
                out[rule.id] = rule.source
        out.update({r.id: r.source for r in spec.cadences})
    if ruleset.etiquette is not None:
        # An etiquette check counts as fired when a case produced one of its violations.
        out.update({rule.id: rule.source for _, rule in ruleset.etiquette.checks()})
    return out


def fired_rules(decision: Decision, ruleset: Ruleset) -> set[str]:
    """Rules a decision shows firing: obligations, escalations, warnings, violations, tiers, reasons."""
    fired = {o.rule for o in decision.obligations}
    fired |= {e.rule for e in decision.escalations}
    fired |= {w.rule for w in decision.warnings}
    fired |= {v.rule for v in decision.violations}
    return fired | _tier_rules(decision, ruleset)


def _tier_rules(decision: Decision, ruleset: Ruleset) -> set[str]:
    """The rules that decided each tier, those its reasons name, and the service mapping."""
    fired = {tier.rule for tier in decision.tiers}
    fired |= {str(r["rule"]) for tier in decision.tiers for r in tier.reasons if "rule" in r}
    spec = ruleset.tiers
    if decision.tiers and spec is not None and spec.service is not None:
        fired.add(spec.service.id)  # every tier entry is mapped through it
    return fired


@dataclass
class Coverage:
    """Which rules and clauses the cases fired."""

    rules: dict[str, str]
    fired: set[str]

    @property
    def uncovered_rules(self) -> list[str]:
        return sorted(r for r in self.rules if r not in self.fired)

    @property
    def uncovered_clauses(self) -> list[str]:
        covered = {self.rules[r] for r in self.fired if r in self.rules}
        return sorted(set(self.rules.values()) - covered, key=lambda c: (c[0], int(c[1:])))

    @property
    def percent(self) -> float:
        return (
            100.0 * (len(self.rules) - len(self.uncovered_rules)) / len(self.rules) if self.rules else 100.0
        )


@dataclass
class Report:
    """All results of a ``tierrules test`` run."""

    results: list[CaseResult]
    coverage: Coverage
    files: list[Path]

    @property
    def failed(self) -> list[CaseResult]:
        return [r for r in self.results if not r.passed]


def run(ruleset: Ruleset, files: Iterable[Path], engine: Engine | None = None) -> Report:
    """Run every case of ``files`` on ``ruleset``; raises :class:`PolicyTestError` on a bad file."""
    engine = engine or Engine(ruleset)
    paths = list(files)
    results: list[CaseResult] = []
    fired: set[str] = set()
    for path in paths:
        cases, _ = load_test_file(path)
        for case in cases:
            result = run_case(engine, case)
            results.append(result)
            if result.decision is not None:
                fired |= fired_rules(result.decision, ruleset)
    return Report(results, Coverage(rule_ids(ruleset), fired), paths)


def format_report(report: Report, *, verbose: bool = False) -> str:
    """The human report: per-file lines, diffs for failures, a coverage summary."""
    by_file: dict[Path, list[CaseResult]] = {}
    for result in report.results:
        by_file.setdefault(result.case.file, []).append(result)
    lines = [line for path in report.files for line in _file_lines(path, by_file.get(path, []), verbose)]
    total = len(report.results)
    lines.append(f"{total - len(report.failed)}/{total} cases passed in {len(report.files)} file(s)")
    lines += _coverage_lines(report.coverage)
    return "\n".join(lines) + "\n"


def _file_lines(path: Path, results: list[CaseResult], verbose: bool) -> list[str]:
    """A file's summary line, then each failed case (every case when ``verbose``)."""
    bad = [r for r in results if not r.passed]
    shown = [r for r in results if verbose or not r.passed]
    return [
        f"{'FAIL' if bad else 'ok  '} {path} ({len(results) - len(bad)}/{len(results)} passed)",
        *(line for result in shown for line in _case_lines(path, result)),
    ]


def _case_lines(path: Path, result: CaseResult) -> list[str]:
    """PASS or FAIL, the case's name and file:line, then its failures' diffs indented."""
    where = f"{path}:{result.case.line}" if result.case.line else str(path)
    return [
        f"  {'PASS' if result.passed else 'FAIL'} {result.case.name}  [{where}]",
        *("      " + text for failure in result.failures for text in failure.splitlines()),
    ]


def _coverage_lines(cov: Coverage) -> list[str]:
    covered = len(cov.rules) - len(cov.uncovered_rules)
    lines = [f"coverage: {covered}/{len(cov.rules)} rules ({cov.percent:.0f}%)"]
    if cov.uncovered_rules:
        lines.append("  rules no case fired: " + ", ".join(cov.uncovered_rules))
    if cov.uncovered_clauses:
        lines.append("  clauses no case fired: " + ", ".join(cov.uncovered_clauses))
    return lines
