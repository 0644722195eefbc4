#!/usr/bin/env python3
"""Benchmark ``tierrules.Engine.evaluate()`` on generated call-center case histories.

Run from a clone after ``python3 -m pip install -e .``::

    python benchmarks/bench_evaluate.py             # the full run (issue 7): ~20 min on 2 idle cores
    python benchmarks/bench_evaluate.py --quick     # smoke run, about two minutes
    python benchmarks/bench_evaluate.py --memory-cases 100000 --json /tmp/bench.json

    # another checkout (the same script measures an older tree):
    python benchmarks/bench_evaluate.py --quick --src /tmp/old/src
    # two trees side by side: each in its own process, in turns (A B, then B A, ...), then
    # a table of the medians and their ratios
    python benchmarks/bench_evaluate.py --quick --src /tmp/old/src --src src --rounds 2

It prints a table and writes the numbers as JSON (default
``benchmarks/results/latest.json``; the directory is git-ignored and created if missing).

What it measures (see docs/performance.md):

1. latency of one ``evaluate()`` call, p50/p99 in µs, for generated cases of 1, 10 and 100
   events;
2. throughput in events/s over the first ``--cases`` (100,000) ten-event cases of pass 3,
   each evaluated on its own the way a call-center host calls it (one call per case, the
   whole history every time);
3. memory: peak RSS (``ru_maxrss``) and current RSS (``VmRSS``) after 1%, 10% and 100% of
   ``--memory-cases`` (1,000,000) cases, i.e. after 10k, 100k and 1M, in one pass;
4. where the time goes: ``parse_events`` (validation), the matcher (the durable_rules
   fence: ``Engine._matcher.match``; before the restructure ``Engine._engine.match``) and
   the rest, each timed separately on the same cases;
5. references on the same facts, interleaved with 4 case by case: (a) raw durable_rules on
   the equivalent hand-written ruleset (one rule per start/met/cancel role, one
   ``assert_fact`` per fact), (b) raw durable_rules making the calls tierrules makes (the
   shared definition, one ``assert_facts`` batch per case), (c) a plain-Python predicate
   evaluator over the same conditions (the floor); the ratios, and whether all four agree
   on every match;
6. rule-count scaling: the default ruleset against one with 10x its deadline rules, the
   extra copies on event types the workload never posts; evaluate() p50/p99 and events/s,
   and raw durable_rules (a) and (b) on both;
7. leaf costs: one working-time addition on the business calendar across 2026 (CN
   holidays), one normalised forbidden-phrase scan of a 200-character agent utterance;
8. the bundled example cases (every ``examples/*.jsonl`` of this checkout that holds one
   event a line), each evaluated 40 minutes after its last event, p50/p99; the calls also
   on words the engine has not seen before (an engine may keep what it worked out about a
   text it has seen);
9. whole calls: one ``evaluate()`` of a finished phone call of N utterances (the call of
   ``benchmarks/bench_session.py``; N = 100 and 400) on unseen and on seen words, how many
   facts ``evaluate()`` sent to the matcher and what the matcher cost on them;
10. a batch: the demo month (``examples/demo-month.jsonl``, 3,547 mixed cases; ``agent_id``
    and ``team`` dropped from its events, fields trees before issue 11 do not know), one
    ``evaluate()`` per case: cases/s, events/s, p50/p99 per case.

The tree measured is the installed ``tierrules`` (the source tree next to this script when
none is), or the one in ``--src DIR``. Two or more ``--src`` run each tree in a child
process of this script, ``--rounds`` times in turns, and print the medians side by side.
The internals that sections 4-6 and 9 call (the matcher, the definitions posted to
durable_rules, how facts are built) are found by feature detection (:class:`Tree`), so
the same script measures trees from before and after the restructure into
``evaluation/``, ``compiler/`` and ``matching/``; what a tree lacks is left out, not guessed.

This is a script, not a test: it asserts nothing about speed. Private attributes and
helpers of the tree are read and called, never changed.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import datetime as dt
import gc
import hashlib
import heapq
import importlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"durable\.engine")
import durable.engine as de  # noqa: E402

perf_ns = time.perf_counter_ns
Engine = Any  # a tierrules.Engine of the tree under test

# --------------------------------------------------------------------------------------
# The tree under test: imported by use_tree(), its internals found by feature detection
# --------------------------------------------------------------------------------------

tierrules: Any = None  # the tierrules package under test, set by use_tree()
T: Tree  # its internals, set by use_tree()


def _first(*names: str) -> Any:
    """The first ``module:attribute`` of ``names`` that imports; ImportError if none does."""
    for name in names:
        module, _, attr = name.partition(":")
        try:
            found = importlib.import_module(module)
        except ImportError:
            continue
        if hasattr(found, attr):
            return getattr(found, attr)
    raise ImportError(f"none of {', '.join(names)}")


def _optional(*names: str) -> Any:
    try:
        return _first(*names)
    except ImportError:
        return None


class Tree:
    """Where the tree under test keeps what the benchmark calls.

    ``layout`` is ``"stages"`` for trees laid out by pipeline stage (``evaluation/``,
    ``compiler/``, ``matching/``: the engine asks ``Engine._matcher``) and ``"flat"`` for the
    trees before (``_engine.py``, ``_compile.py``: the engine asks ``Engine._engine``, a
    durable_rules ruleset behind the fence).
    """

    def __init__(self) -> None:
        markers = ("tierrules.matching.durable", "tierrules.compiler.compiled", "tierrules._compile")
        self.layout = "stages" if importlib.util.find_spec("tierrules.matching") else "flat"
        self.event_types: dict[str, Any] = _first(
            "tierrules.events:EVENT_TYPES", "tierrules._events:EVENT_TYPES"
        )
        self.order = _first(
            "tierrules.evaluation.facts:order_events",  # (events) -> (ordered, UTC instants)
            "tierrules.evaluation.engine:_ordered",
            "tierrules._engine:_ordered",
        )
        self.build_cases = _first("tierrules.evaluation.cases:build_cases", "tierrules._cases:build_cases")
        self.marker_rule: str = _first(*(f"{m}:SESSION_MARKER_RULE" for m in markers))
        self.marker_type: str = _first(*(f"{m}:SESSION_MARKER_TYPE" for m in markers))
        # the re-matching of starts at later case changes (trees with memo-less MatchPlan)
        self.lookups = _optional("tierrules.evaluation.facts:_lookups")
        # match rules -> durable_rules JSON (trees whose compiler is backend-neutral)
        self.durable_definition = _optional("tierrules.matching.durable:definition")
        self.read_ruleset_files = _first(
            "tierrules.ruleset.reader:read_ruleset_files", "tierrules._loader:read_ruleset_files"
        )
        self.default_ruleset_path = _first(
            "tierrules.compiler.load:default_ruleset_path", "tierrules._ruleset:default_ruleset_path"
        )
        self.phrase_matcher = _first(
            "tierrules.evaluation.etiquette:default_matcher",
            "tierrules.text:default_matcher",
            "tierrules._text:default_matcher",
        )
        self.normalize = _first("tierrules.text:normalize", "tierrules._text:normalize")

    # -- the matcher: what evaluate() asks which facts fire which rules -------------------

    @staticmethod
    def fence_owner(engine: Engine) -> Any:
        """The object whose ``match(facts)`` evaluate() calls for the case rules."""
        owner = getattr(engine, "_matcher", None)
        return owner if owner is not None else engine._engine

    def fence(self, engine: Engine) -> Callable[[list[dict[str, Any]]], dict[int, Any]]:
        return self.fence_owner(engine).match  # type: ignore[no-any-return]

    def fence_name(self, engine: Engine) -> str:
        return (
            "Engine._matcher.match"
            if getattr(engine, "_matcher", None) is not None
            else "Engine._engine.match"
        )

    # -- what is posted to durable_rules ------------------------------------------------

    def shared_definition(self, engine: Engine) -> dict[str, dict[str, Any]]:
        """The durable_rules ruleset evaluate() posts to (roles with one condition share a rule)."""
        compiled = engine._compiled
        if hasattr(compiled, "engine_definition"):
            return dict(compiled.engine_definition())
        return dict(self.durable_definition(compiled.case_rules))

    def unshared_definition(self, engine: Engine) -> dict[str, dict[str, Any]]:
        """One durable_rules rule per role: what a hand translation of the ruleset would post."""
        compiled = engine._compiled
        if hasattr(compiled, "unshared_engine_definition"):
            return dict(compiled.unshared_engine_definition())
        if hasattr(compiled, "unshared_rules"):
            return dict(self.durable_definition(compiled.unshared_rules()))
        return self.shared_definition(engine)  # trees without sharing: the same thing

    @staticmethod
    def roles(engine: Engine) -> Callable[[str], tuple[str, ...]]:
        """Matcher rule name -> the role names (``E2.complaint-reply#start``...) it stands for."""
        compiled = engine._compiled
        nodes = getattr(compiled, "shared", None)
        if nodes is None:
            nodes = getattr(compiled, "engine_nodes", None)
        if nodes is None:
            return lambda name: (name,)
        table = {name: tuple(getattr(r, "name", str(r)) for r in roles) for name, roles in nodes.items()}
        return lambda name: table.get(name, (name,))

    # -- the facts evaluate() posts, rebuilt the way it builds them ------------------------

    def facts(self, engine: Engine, events: list[dict[str, Any]], now: dt.datetime) -> list[dict[str, Any]]:
        """The facts ``evaluate(events, now)`` passes to the matcher, rebuilt from its helpers.

        Mirrors private code that changes: :class:`Facts` checks it against the facts
        ``evaluate()`` really posts and stops using it when they differ.
        """
        ordered, _ = self.order(self.parse_events(events))
        affects = getattr(engine, "_affects_clocks", None)  # words-only utterances left out
        if affects is not None:
            ordered = [e for e in ordered if affects(e)]
        tiers = engine._tiers(ordered, now)
        cases = self.build_cases(ordered, tiers.attributes if tiers is not None else None)
        builder = getattr(engine, "_facts", None)
        if builder is None:  # flat trees: every event, Engine._fact
            return [engine._fact(e, cases.get(e.case_id) if e.case_id else None) for e in ordered]
        compiled = engine._compiled
        types = compiled.matched_types() if hasattr(compiled, "matched_types") else None
        out = [
            builder.fact(e, cases.get(e.case_id or "")) for e in ordered if types is None or e.type in types
        ]
        if self.lookups is not None:
            now_utc = now.astimezone(dt.timezone.utc)
            for k in self.lookups(compiled, compiled.watched_starts(), ordered, cases, now_utc):
                event = ordered[k.index]
                out.append(builder.fact(event, cases[event.case_id or ""], k.at))
        return out

    @property
    def parse_events(self) -> Callable[[Any], Any]:
        return tierrules.parse_events  # type: ignore[no-any-return]


def use_tree(src: Path | None) -> None:
    """Import tierrules from ``src`` (a directory holding ``tierrules/``), or as installed."""
    global tierrules, T
    if src is not None:
        src = src.resolve()
        if not (src / "tierrules" / "__init__.py").is_file():
            raise SystemExit(f"--src {src}: no tierrules/__init__.py there")
        sys.path.insert(0, str(src))
    try:
        import tierrules as package
    except ImportError:  # not installed: the source tree next to this script
        sys.path.insert(0, str(REPO / "src"))
        import tierrules as package
    if src is not None and Path(package.__file__).resolve().parent != src / "tierrules":
        raise SystemExit(f"--src {src}: imported tierrules from {package.__file__} instead")
    tierrules = package
    T = Tree()
    _set_workload(T.event_types)


def tree_root() -> Path:
    """The checkout the tree under test belongs to (src/tierrules -> the checkout)."""
    package = Path(tierrules.__file__).resolve().parent
    return package.parent.parent if package.parent.name == "src" else package.parent


# --------------------------------------------------------------------------------------
# Workload: seeded, realistic case histories
# --------------------------------------------------------------------------------------

CST = dt.timezone(dt.timedelta(hours=8))
UTC = dt.timezone.utc
FIRST_DAY = dt.datetime(2026, 11, 2, tzinfo=CST)  # a Monday
SPAN_DAYS = 56  # cases open over eight weeks: weekdays, nights and weekends
MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0

# (on time, late) delay ranges in seconds for each follow-up; which one is used (or none:
# "never") is drawn per trigger. The deadlines are those of the bundled default ruleset:
# E1 10 min, E2 1 working hour, E3 24 h response / 24 h progress / 5 working days result.
# The case and complaint closings (case_responded, case_resolved, complaint_resolved) meet
# the E5/E9/E10 clocks of later rulesets; they are generated only if the installed
# tierrules knows them, so the script runs on older and newer event vocabularies.
ALL_FOLLOW_UPS: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "escalated": ((1 * MINUTE, 9 * MINUTE), (11 * MINUTE, 90 * MINUTE)),
    "complaint_replied": ((5 * MINUTE, 50 * MINUTE), (2 * HOUR, 30 * HOUR)),
    "complaint_resolved": ((2 * HOUR, 40 * HOUR), (50 * HOUR, 120 * HOUR)),
    "feedback_responded": ((20 * MINUTE, 20 * HOUR), (25 * HOUR, 72 * HOUR)),
    "progress_reported": ((2 * HOUR, 22 * HOUR), (25 * HOUR, 96 * HOUR)),
    "feedback_resolved": ((1 * DAY, 4 * DAY), (8 * DAY, 14 * DAY)),
    "case_responded": ((5 * MINUTE, 90 * MINUTE), (3 * HOUR, 30 * HOUR)),
    "case_resolved": ((2 * HOUR, 20 * HOUR), (30 * HOUR, 96 * HOUR)),
}
OUTCOMES = ("on_time", "late", "never")
OUTCOME_WEIGHTS = (0.65, 0.20, 0.15)
TRIGGERS = ("complaint_registered", "feedback_received", "escalation_needed")
TRIGGER_WEIGHTS = (0.35, 0.35, 0.30)
FOLLOW_UPS = dict(ALL_FOLLOW_UPS)  # the kinds the tree under test knows (_set_workload)
WORKLOAD_TYPES = frozenset({"case_opened", *TRIGGERS, *FOLLOW_UPS})


def _set_workload(event_types: dict[str, Any]) -> None:
    """Generate only follow-ups of event types the tree under test knows."""
    global FOLLOW_UPS, WORKLOAD_TYPES
    FOLLOW_UPS = {kind: delays for kind, delays in ALL_FOLLOW_UPS.items() if kind in event_types}
    WORKLOAD_TYPES = frozenset({"case_opened", *TRIGGERS, *FOLLOW_UPS})


def _case_start(rng: random.Random) -> dt.datetime:
    """60% inside Mon-Fri 09:00-18:00, the rest at any hour of any day."""
    if rng.random() < 0.6:
        while True:
            day = rng.randrange(SPAN_DAYS)
            if (FIRST_DAY + dt.timedelta(days=day)).weekday() < 5:
                break
        second = rng.randrange(9 * 3600, 18 * 3600)
    else:
        day = rng.randrange(SPAN_DAYS)
        second = rng.randrange(86400)
    return FIRST_DAY + dt.timedelta(days=day, seconds=second)


def _stamp(rng: random.Random, at: dt.datetime) -> str:
    """ISO 8601 with an offset: mostly +08:00, some hosts send UTC."""
    if rng.random() < 0.15:
        at = at.astimezone(UTC)
    return at.isoformat(timespec="seconds")


def make_case(rng: random.Random, case_id: str, n_events: int) -> tuple[list[dict[str, Any]], dt.datetime]:
    """One case's history of exactly ``n_events`` events, in time order, and a ``now``.

    ``case_opened`` comes first; then triggers (complaints, feedback, escalation needs) at
    random gaps, each scheduling its replies on time, late or never; events are emitted in
    time order and the history is cut at ``n_events`` (replies still scheduled then are
    simply not there yet). ``now`` is a little or a lot after the last event, so decisions
    mix pending, met and breached obligations.
    """
    t = _case_start(rng)
    events: list[dict[str, Any]] = []

    def emit(kind: str, at: dt.datetime, **fields: Any) -> None:
        events.append(
            {
                "type": kind,
                "at": _stamp(rng, at),
                "case_id": case_id,
                "id": f"{case_id}-{len(events)}",
                **fields,
            }
        )

    opened: dict[str, Any] = {
        "channel": rng.choice(("phone", "phone", "phone", "lobby", "online", "online", "visit")),
        "severity": rng.choices(("critical", "urgent", "important", "general"), (0.05, 0.15, 0.3, 0.5))[0],
    }
    if rng.random() < 0.7:
        opened["customer_id"] = f"CUST-{rng.randrange(1, 50_000)}"
    emit("case_opened", t, **opened)

    scheduled: list[tuple[dt.datetime, int, str, dict[str, Any]]] = []  # heap of follow-ups
    seq = 0
    next_trigger = t + dt.timedelta(seconds=rng.randrange(30, 20 * 60))

    def schedule(kind: str, after: dt.datetime, **fields: Any) -> None:
        nonlocal seq
        outcome = rng.choices(OUTCOMES, OUTCOME_WEIGHTS)[0]
        if outcome == "never" or kind not in FOLLOW_UPS:
            return
        lo, hi = FOLLOW_UPS[kind][0 if outcome == "on_time" else 1]
        seq += 1
        heapq.heappush(scheduled, (after + dt.timedelta(seconds=rng.uniform(lo, hi)), seq, kind, fields))

    schedule("case_responded", t)
    schedule("case_resolved", t)
    while len(events) < n_events:
        if scheduled and scheduled[0][0] <= next_trigger:
            at, _, kind, fields = heapq.heappop(scheduled)
            emit(kind, at, **fields)
            continue
        at = next_trigger
        kind = rng.choices(TRIGGERS, TRIGGER_WEIGHTS)[0]
        if kind == "complaint_registered":
            emit(kind, at)
            schedule("complaint_replied", at)
            schedule("complaint_resolved", at)
        elif kind == "feedback_received":
            severity = rng.choices(("urgent", "important", "general"), (0.2, 0.3, 0.5))[0]
            emit(kind, at, severity=severity)
            schedule("feedback_responded", at)
            if severity == "general":
                schedule("feedback_resolved", at)
            else:
                schedule("progress_reported", at)
        else:
            level = rng.choices((1, 2, 3), (0.7, 0.25, 0.05))[0]
            emit(kind, at, agent_level=level)
            schedule("escalated", at, to_level=level + 1)
        next_trigger = at + dt.timedelta(seconds=max(30.0, rng.expovariate(1 / (2 * HOUR))))

    last = dt.datetime.fromisoformat(events[-1]["at"])
    if rng.random() < 0.6:
        now = last + dt.timedelta(seconds=rng.uniform(0, 30 * MINUTE))
    else:
        now = last + dt.timedelta(seconds=rng.uniform(30 * MINUTE, 3 * DAY))
    return events, now.astimezone(CST)


def cases(
    seed: int, count: int, n_events: int, prefix: str = "C"
) -> Iterator[tuple[list[dict[str, Any]], dt.datetime]]:
    """``count`` cases, generated lazily (the same ones for the same seed)."""
    rng = random.Random(seed)
    for i in range(count):
        yield make_case(rng, f"{prefix}-{i:07d}", n_events)


# --------------------------------------------------------------------------------------
# Measurement helpers
# --------------------------------------------------------------------------------------


def percentile(sorted_values: list[int] | list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), -(-len(sorted_values) * p // 100)))
    return float(sorted_values[int(rank) - 1])


def rss_now_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def memory() -> dict[str, float]:
    """Peak (ru_maxrss, KiB on Linux) and current (VmRSS) resident set size, in MiB."""
    return {
        "ru_maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "vmrss_mib": rss_now_kib() / 1024,
    }


def _git(*args: str, cwd: Path = REPO) -> str | None:
    """A read-only git command (``--no-optional-locks``: never rewrites the index)."""
    try:
        out = subprocess.run(
            ["git", "--no-optional-locks", *args], cwd=cwd, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine() -> dict[str, Any]:
    cpu_model = None
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    package = Path(tierrules.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": cpu_model,
        "cpu_count": os.cpu_count(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "loadavg_at_start": list(os.getloadavg()),
        "tierrules": tierrules.__version__,
        "tierrules_path": str(package),
        "tierrules_source_sha256": digest.hexdigest()[:16],
        "tierrules_layout": T.layout,
        "git": _git("describe", "--always", "--dirty", cwd=tree_root()),
        "bench_script_git": _git("describe", "--always", "--dirty"),
        "durable_rules": _version("durable_rules"),
        "pydantic": _version("pydantic"),
        "python_dateutil": _version("python-dateutil"),
        "holidays": _version("holidays"),
    }


def posted_facts(engine: Engine, events: list[dict[str, Any]], now: dt.datetime) -> list[Any]:
    """The fact lists ``evaluate()`` passes to the matcher's ``match``, observed, not patched.

    A profile hook watches for calls of ``match`` on the engine's case-rule matcher and
    keeps their ``facts`` argument; nothing of the engine is replaced. Slow (every Python
    call hits the hook): used to check :meth:`Tree.facts` and as its fallback, never
    inside a timed region.
    """
    owner = T.fence_owner(engine)
    target = type(owner).match.__code__
    seen: list[Any] = []

    def hook(frame: Any, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code is target and frame.f_locals.get("self") is owner:
            seen.append(list(frame.f_locals["facts"]))

    previous = sys.getprofile()
    sys.setprofile(hook)
    try:
        engine.evaluate(events, now)
    finally:
        sys.setprofile(previous)
    return seen


class Facts:
    """Facts for the breakdown: rebuilt (fast) while that agrees with ``evaluate()``.

    Every ``check_every``-th case is checked against the facts ``evaluate()`` posts; on the
    first difference the rebuild is dropped and every case's facts are observed instead
    (slower wall time; the timed regions are unaffected).
    """

    def __init__(self, engine: Engine, check_every: int = 100) -> None:
        self.engine = engine
        self.check_every = check_every
        self.mode = "rebuilt"
        self.checked = 0
        self.mismatch: str | None = None

    def __call__(self, index: int, events: list[dict[str, Any]], now: dt.datetime) -> list[dict[str, Any]]:
        if self.mode == "observed":
            return self._observed(events, now)
        try:
            facts = T.facts(self.engine, events, now)
        except Exception as err:  # the private helpers changed shape
            self._switch(f"rebuilding facts failed: {type(err).__name__}: {err}")
            return self._observed(events, now)
        if index % self.check_every == 0:
            self.checked += 1
            observed = self._observed(events, now)
            if observed != facts:
                self._switch(f"rebuilt facts differ from evaluate()'s on {events[0]['case_id']}")
                return observed
        return facts

    def _observed(self, events: list[dict[str, Any]], now: dt.datetime) -> list[dict[str, Any]]:
        seen = posted_facts(self.engine, events, now)
        if len(seen) != 1:
            raise SystemExit(
                f"evaluate() called {T.fence_name(self.engine)} {len(seen)} times; expected once"
            )
        return list(seen[0])

    def _switch(self, why: str) -> None:
        self.mode, self.mismatch = "observed", why
        print(f"  note: {why}; observing evaluate()'s facts for every case from now on", flush=True)


# --------------------------------------------------------------------------------------
# References: raw durable_rules on an equivalent ruleset, and a plain-Python floor
# --------------------------------------------------------------------------------------


class _IdleHost(de.Host):  # type: ignore[misc]
    """A Host without the dispatch/timer threads (they make delete_state crash)."""

    def _run(self) -> None:
        return None


def _marker() -> tuple[str, str]:
    return T.marker_rule, T.marker_type


def as_roles(matches: dict[int, list[str]], roles: Callable[[str], tuple[str, ...]]) -> dict[int, list[str]]:
    """``index -> engine rule names`` as ``index -> sorted role names`` (for comparisons)."""
    return {i: sorted(r for name in names for r in roles(name)) for i, names in matches.items() if names}


class RawDurable:
    """A durable_rules definition registered on a plain durable Host.

    Sessions open with a marker fact whose rule fires an action (deleting a session in
    which no action ran segfaults). No validation, no lock, no decision. Two ways of posting:

    * ``batch=False``: a session per case (durable_rules' idiom: the case is the session),
      one ``assert_fact`` per fact, ``MessageNotHandledException`` caught (a fact that
      matched no rule), the session deleted after: how one would write it by hand;
    * ``batch=True``: as the fence posts them — one long-lived session; per case the facts
      as one ``assert_facts`` batch, a marker first and an end marker last, retracted after.
      When any fact of a batch matches no rule durable_rules raises
      ``MessageNotHandledException`` for the whole batch and leaves the matched facts'
      actions queued: they are dispatched with ``Ruleset.dispatch()`` until a round adds no
      hit.
    """

    def __init__(self, definition: dict[str, dict[str, Any]], *, batch: bool) -> None:
        marker_rule, self.marker_type = _marker()
        self.batch = batch
        self.hits: list[tuple[str, str]] = []
        self.markers: list[str] = []
        hits, markers = self.hits, self.markers

        def action(rule_name: str) -> Callable[[Any], None]:
            if rule_name == marker_rule:

                def mark(c: Any) -> None:
                    markers.append(c.m["id"])

                return mark

            def run(c: Any) -> None:  # one parameter: two would make it asynchronous
                hits.append((rule_name, c.m["id"]))

            return run

        self.rules = len(definition)
        self.name = f"bench_raw_{os.getpid()}_{time.time_ns()}"  # ruleset names cannot be reused
        self.host = _IdleHost()
        self.host.register_rulesets(
            {
                self.name: {
                    rule: {**json.loads(json.dumps(body)), "run": action(rule)}
                    for rule, body in definition.items()
                }
            }
        )
        self.ruleset = self.host.get_ruleset(self.name)
        self.sessions = 0
        self.pool_sid: str | None = None
        self.prefix = ""
        self.dispatch_rounds = 0
        self.not_handled_batches = 0

    def run_case(self, facts: list[dict[str, Any]]) -> None:
        """Post one case's facts (timed; see :meth:`matches`).

        ``batch=False``: a fresh session per case, deleted after. ``batch=True``: as the fence
        does, one long-lived session whose facts are retracted after each case.
        """
        self.sessions += 1
        host, name = self.host, self.name
        self.hits.clear()
        self.markers.clear()
        if self.batch:
            sid = self._pool_session()
            call = self.sessions
            batch = [{"id": f"{call}.start", "type": self.marker_type, "sid": sid}]
            batch += [{**fact, "id": f"{call}.{index}", "sid": sid} for index, fact in enumerate(facts)]
            batch.append({"id": f"{call}.end", "type": self.marker_type, "sid": sid})
            self.prefix = f"{call}."
            try:
                host.assert_facts(name, batch)
            except de.MessageNotHandledException:
                self.not_handled_batches += 1
                ruleset, hits, markers = self.ruleset, self.hits, self.markers
                while True:  # run the actions the batch left queued
                    before = len(hits) + len(markers)
                    ruleset.dispatch()
                    self.dispatch_rounds += 1
                    if len(hits) + len(markers) == before:
                        break
            if len(self.markers) != 2:
                raise SystemExit(f"raw durable_rules (batch): session markers {self.markers}; expected both")
            try:  # noqa: SIM105 - try/except is cheaper than contextlib.suppress on this path
                host.retract_facts(name, batch)
            except de.MessageNotHandledException:
                pass
            return
        self.prefix = ""
        sid = f"r{self.sessions}"
        try:  # noqa: SIM105 - try/except is cheaper than contextlib.suppress on this path
            host.assert_fact(name, {"id": "marker", "type": self.marker_type, "sid": sid})
        except de.MessageNotHandledException:
            pass
        if not self.markers:
            raise SystemExit("raw durable_rules: the marker fired no action; refusing to delete the session")
        for index, fact in enumerate(facts):
            try:  # noqa: SIM105 - try/except is cheaper than contextlib.suppress on this path
                host.assert_fact(name, {**fact, "id": str(index), "sid": sid})
            except de.MessageNotHandledException:
                pass  # no rule matched: normal flow
        host.delete_state(name, sid)

    def _pool_session(self) -> str:
        if self.pool_sid is None:
            sid = "pool"
            try:  # noqa: SIM105 - try/except is cheaper than contextlib.suppress on this path
                self.host.assert_fact(self.name, {"id": "opened", "type": self.marker_type, "sid": sid})
            except de.MessageNotHandledException:
                pass
            if not self.markers:
                raise SystemExit("raw durable_rules (batch): the session marker fired no action")
            self.markers.clear()
            self.pool_sid = sid
        return self.pool_sid

    def matches(self) -> dict[int, list[str]]:
        """The last case's matches: fact index -> engine rule names."""
        out: dict[int, list[str]] = {}
        for rule, fact_id in self.hits:
            out.setdefault(int(fact_id[len(self.prefix) :]), []).append(rule)
        return out


_ABSENT = object()
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "$gt": lambda a, b: a > b,
    "$gte": lambda a, b: a >= b,
    "$lt": lambda a, b: a < b,
    "$lte": lambda a, b: a <= b,
    "$neq": lambda a, b: a != b,
}


def _predicate(term: Any) -> Callable[[dict[str, Any]], bool]:
    """A Python test for one durable_rules JSON condition term.

    Covers every form the tree's compiler emits (``{field: value}``, ``$and``, ``$or``,
    the ``$gte`` comparisons of tier thresholds) plus the other comparisons and ``$ex``/
    ``$nex``; anything else raises, so the floor never silently tests less than the engine.
    """
    if not isinstance(term, dict) or len(term) != 1:
        raise ValueError(f"unsupported condition term {term!r}")
    ((key, value),) = term.items()
    if key == "$and":
        parts = [_predicate(t) for t in value]
        return lambda f: all(p(f) for p in parts)
    if key == "$or":
        parts = [_predicate(t) for t in value]
        return lambda f: any(p(f) for p in parts)
    if key in _COMPARE:
        ((field, wanted),) = value.items()
        op = _COMPARE[key]

        def compare(f: dict[str, Any]) -> bool:
            have = f.get(field, _ABSENT)
            return have is not _ABSENT and have is not None and op(have, wanted)

        return compare
    if key in ("$ex", "$nex"):
        ((field, _),) = value.items()
        exists = key == "$ex"
        return lambda f: (field in f) is exists
    if key.startswith("$"):
        raise ValueError(f"unsupported condition operator {key!r}")
    return lambda f: f.get(key, _ABSENT) == value


def _equalities(term: Any) -> tuple[str, frozenset[Any]] | None:
    """``{f: v}`` or ``{"$or": [{f: v1}, {f: v2}]}`` on one field, as (f, {values}); else None."""
    if isinstance(term, dict) and len(term) == 1:
        ((key, value),) = term.items()
        if not key.startswith("$") and not isinstance(value, dict | list):
            return key, frozenset([value])
        if key == "$or":
            parts = [_equalities(t) for t in value]
            if parts and all(p is not None for p in parts) and len({p[0] for p in parts if p}) == 1:
                return parts[0][0], frozenset().union(*(p[1] for p in parts if p))  # type: ignore[index]
    return None


class PythonFloor:
    """The floor: the same conditions, indexed by event type, tested in plain Python.

    Built from the unshared definition (one condition per role); ``match`` returns the same
    ``fact index -> rule names`` mapping as durable_rules. Conditions are ``{"type": X}``
    or ``{"$and": [{"type": X}, term, ...]}``: the type selects the candidate rules, the
    other terms become set-membership checks (equality, ``$or`` of equalities on one
    field) or, for any other form, a general predicate.
    """

    def __init__(self, definition: dict[str, dict[str, Any]]) -> None:
        marker_rule, _ = _marker()
        typed: dict[str, list[tuple[str, Any]]] = {}
        untyped: list[tuple[str, Any]] = []
        self.rules = 0
        for name, body in definition.items():
            if name == marker_rule:
                continue
            patterns = body.get("all") or body.get("any") or []
            if len(patterns) != 1 or set(patterns[0]) != {"m"}:
                raise ValueError(f"rule {name!r}: only single-pattern rules are supported")
            condition = patterns[0]["m"]
            terms = list(condition["$and"]) if set(condition) == {"$and"} else [condition]
            kind = None
            rest = []
            for term in terms:
                if kind is None and isinstance(term, dict) and set(term) == {"type"}:
                    kind = term["type"]
                else:
                    rest.append(term)
            checks = [_equalities(t) for t in rest]
            if all(c is not None for c in checks):
                test: Any = tuple(checks) or None  # set-membership checks, or type only
            else:
                test = _predicate({"$and": rest})
            self.rules += 1
            (typed.setdefault(kind, []) if kind is not None else untyped).append((name, test))
        self.by_type = {kind: tuple(rules + untyped) for kind, rules in typed.items()}
        self.untyped = tuple(untyped)

    def match(self, facts: list[dict[str, Any]]) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        by_type, untyped, absent = self.by_type, self.untyped, _ABSENT
        for index, fact in enumerate(facts):
            hit = []
            for name, test in by_type.get(fact["type"], untyped):
                if test is None:
                    hit.append(name)
                elif type(test) is tuple:
                    for field, values in test:
                        if fact.get(field, absent) not in values:
                            break
                    else:
                        hit.append(name)
                elif test(fact):
                    hit.append(name)
            if hit:
                out[index] = hit
        return out


# --------------------------------------------------------------------------------------
# The 10x ruleset: copies of every deadline rule that cannot match the workload's events
# --------------------------------------------------------------------------------------

# applies_to values that make each copy's start condition distinct; only case attributes the
# default ruleset already tests (service_level, severity), so facts carry no extra fields.
SCALE_LEVELS = ((1,), (2,), (3,), (1, 2), (2, 3), (1, 3), (1, 2, 3))
SCALE_SEVERITIES = ("critical", "urgent", "important", "general")


def ruleset_data(path: Path | None) -> dict[str, Any]:
    """A ruleset directory (default: the tree's bundled default) as plain data (its YAML merged)."""
    data, _ = T.read_ruleset_files(path if path is not None else T.default_ruleset_path())
    return copy.deepcopy(dict(data))


def scaled_ruleset_data(factor: int, base_path: Path | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The default ruleset with ``factor`` x its deadline rules, and how it was built.

    Copy ``k`` (1..factor-1) of a rule keeps its clocks (within, within_by, calendar_by,
    pausable, warn_at) and replaces its triggers: the start on one of the case event types
    the workload never posts, cycled, made distinct from every other copy's start by an
    ``applies_to`` on service_level x severity (attributes the default ruleset already tests,
    so the facts evaluate() posts keep the same fields); met_by and cancelled_by on
    unposted types too. So no copy can match a workload event, every copy's start is its
    own durable_rules rule, and the met/cancel conditions (type only) share rules, which
    keeps the compiled ruleset inside the fence's 500-rule limit. ``due_before`` (a field
    of the original start event) becomes ``within: 1 day``; escalations that read a field
    of the start event become ``to_level: 2``; ``pair_by`` and ``met_requires_level``, which
    name fields of the original events, are dropped.
    """
    data = ruleset_data(base_path)
    base = list(data["deadlines"])
    unposted = sorted(
        t
        for t, model in T.event_types.items()
        if getattr(model, "scope", "case") == "case" and t not in WORKLOAD_TYPES
    )
    combos = [(lv, sev) for lv in SCALE_LEVELS for sev in SCALE_SEVERITIES]
    copies: list[dict[str, Any]] = []
    n = 0
    for k in range(1, factor):
        for rule in base:
            if n >= len(unposted) * len(combos):
                raise SystemExit(f"cannot make {factor}x distinct copies with {len(unposted)} unposted types")
            clone = copy.deepcopy(rule)
            clone["id"] = f"{rule['id']}.x{k}"
            levels, severity = combos[n // len(unposted)]
            clone["start"] = {"event": unposted[n % len(unposted)]}
            clone["applies_to"] = {"service_level": list(levels), "severity": [severity]}
            clone["met_by"] = {"event": unposted[(n + 7) % len(unposted)]}
            if "cancelled_by" in clone:
                clone["cancelled_by"] = {"event": unposted[(n + 13) % len(unposted)]}
            # fields of the original events the copies' events may lack (trees since issue 11)
            clone.pop("pair_by", None)
            clone.pop("met_requires_level", None)
            if (
                clone.pop("due_before", None) is not None
                and "within" not in clone
                and "within_by" not in clone
            ):
                clone["within"] = "1 day"
            esc = clone.get("escalate")
            if isinstance(esc, dict) and ("above_field" in esc or "priority" in esc):
                clone["escalate"] = {"to_level": 2}
            copies.append(clone)
            n += 1
    data["deadlines"] = base + copies
    data["name"] = f"{data.get('name', 'default')}-x{factor}"
    info = {
        "factor": factor,
        "deadline_rules": len(data["deadlines"]),
        "copies": len(copies),
        "copy_event_types": unposted,
        "workload_event_types": sorted(WORKLOAD_TYPES),
    }
    return data, info


def scaled_engine(factor: int, base_path: Path | None) -> tuple[Engine, dict[str, Any]]:
    """An Engine on the ``factor`` x ruleset; the largest multiple that compiles if it does not."""
    from tierrules import RulesetError

    problems = None
    for f in range(factor, 1, -1):
        data, info = scaled_ruleset_data(f, base_path)
        try:
            engine = tierrules.Engine(tierrules.load_ruleset(data))
        except RulesetError as err:
            problems = problems or str(err)[:500]
            continue
        info["requested_factor"] = factor
        info["refused"] = problems
        info["engine_rules"] = len(T.shared_definition(engine))
        info["unshared_engine_rules"] = len(T.unshared_definition(engine))
        return engine, info
    raise SystemExit(f"no scaled ruleset compiles: {problems}")


# --------------------------------------------------------------------------------------
# The benchmark
# --------------------------------------------------------------------------------------


def bench_latency(engine: Engine, n_events: int, calls: int, warmup: int, seed: int) -> dict[str, Any]:
    """Latency of single evaluate() calls on a pool of distinct cases of ``n_events`` events."""
    pool = list(cases(seed, min(calls, 1000), n_events, prefix=f"L{n_events}"))
    for i in range(warmup):
        events, now = pool[i % len(pool)]
        engine.evaluate(events, now)
    samples: list[int] = []
    evaluate = engine.evaluate
    for i in range(calls):
        events, now = pool[i % len(pool)]
        t0 = perf_ns()
        evaluate(events, now)
        samples.append(perf_ns() - t0)
    samples.sort()
    return {
        "events_per_case": n_events,
        "calls": calls,
        "warmup_calls": warmup,
        "distinct_cases": len(pool),
        "p50_us": percentile(samples, 50) / 1e3,
        "p90_us": percentile(samples, 90) / 1e3,
        "p99_us": percentile(samples, 99) / 1e3,
        "mean_us": statistics.fmean(samples) / 1e3,
        "max_us": samples[-1] / 1e3,
    }


def bench_throughput_memory(
    engine: Engine, count: int, total: int, n_events: int, seed: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One pass of ``total`` cases, evaluated one by one; throughput over the first ``count``.

    Memory is read (after ``gc.collect()``, outside the timed regions) at 1%, 10% and 100%
    of the pass and at ``count``; cases are generated lazily, so the workload holds none.
    """
    evaluate = engine.evaluate
    checkpoints = sorted({c for c in (total // 100, total // 10, total, count) if c > 0})
    inside = 0
    events_total = 0
    statuses: Counter[str] = Counter()
    types: Counter[str] = Counter()
    escalations = 0
    gc.collect()
    before = memory()
    rows: list[dict[str, Any]] = []
    throughput: dict[str, Any] = {}
    wall0 = perf_ns()
    for done, (events, now) in enumerate(cases(seed, total, n_events), start=1):
        t0 = perf_ns()
        decision = evaluate(events, now)
        inside += perf_ns() - t0
        events_total += len(events)
        if done <= count:
            types.update(e["type"] for e in events)
            for ob in decision.obligations:
                statuses[ob.status] += 1
            escalations += len(decision.escalations)
        if done == checkpoints[len(rows)]:
            gc.collect()
            rows.append(
                {
                    "cases": done,
                    "events": events_total,
                    **memory(),
                    "evaluate_seconds": inside / 1e9,
                    "wall_seconds": (perf_ns() - wall0) / 1e9,
                }
            )
            if done == count:
                throughput = {
                    "cases": count,
                    "events_per_case": n_events,
                    "events": events_total,
                    "source": f"the first {count:,} cases of the {total:,}-case memory pass",
                    "evaluate_seconds": inside / 1e9,
                    "wall_seconds": (perf_ns() - wall0) / 1e9,
                    "events_per_s": events_total / (inside / 1e9),
                    "cases_per_s": count / (inside / 1e9),
                    "us_per_case": inside / count / 1e3,
                    "us_per_event": inside / events_total / 1e3,
                    "memory_before": before,
                    "memory_after": {k: rows[-1][k] for k in ("ru_maxrss_mib", "vmrss_mib")},
                    "workload": {
                        "obligations": dict(sorted(statuses.items())),
                        "obligations_per_case": sum(statuses.values()) / count,
                        "escalations": escalations,
                        "event_types": dict(types.most_common()),
                    },
                }
            if len(rows) < len(checkpoints):
                print(
                    f"  {done:,} cases: peak RSS {rows[-1]['ru_maxrss_mib']:.1f} MiB, "
                    f"current {rows[-1]['vmrss_mib']:.1f} MiB, {events_total / (inside / 1e9):,.0f} events/s",
                    flush=True,
                )
    previous = {"events": 0, "evaluate_seconds": 0.0}
    for row in rows:
        row["events_per_s_since_previous"] = (row["events"] - previous["events"]) / max(
            row["evaluate_seconds"] - previous["evaluate_seconds"], 1e-9
        )
        previous = row
    first, last = rows[0], rows[-1]
    mem = {
        "cases": total,
        "events_per_case": n_events,
        "memory_before": before,
        "checkpoints": rows,
        "growth_from_first_checkpoint": {
            "ru_maxrss_mib": last["ru_maxrss_mib"] - first["ru_maxrss_mib"],
            "vmrss_mib": last["vmrss_mib"] - first["vmrss_mib"],
        },
        "wall_seconds": last["wall_seconds"],
    }
    return throughput, mem


def _agree(a: dict[int, list[str]], b: dict[int, list[str]]) -> bool:
    return {i: sorted(v) for i, v in a.items() if v} == {i: sorted(v) for i, v in b.items() if v}


def bench_breakdown(
    engine: Engine,
    raw_a: RawDurable,
    raw_b: RawDurable,
    floor: PythonFloor,
    count: int,
    n_events: int,
    seed: int,
) -> dict[str, Any]:
    """Time parse_events, the fence's match, (a), (b), the floor and evaluate() on each case.

    The six are interleaved case by case so that load from other processes on a shared
    machine hits them alike. The facts are the ones ``evaluate()`` posts (see
    :class:`Facts`), built outside the timed regions; the matches of the fence, (a), (b)
    and the floor are compared (as role names) on every case, outside the timed regions.
    """
    parse_events = tierrules.parse_events
    match = T.fence(engine)
    evaluate = engine.evaluate
    roles = T.roles(engine)
    facts_for = Facts(engine)
    t_parse = t_match = t_a = t_b = t_floor = t_eval = 0
    events_total = 0
    matched_roles = 0
    disagree: Counter[str] = Counter()
    first_disagreement: dict[str, str] = {}
    for index, (events, now) in enumerate(cases(seed, count, n_events)):
        t0 = perf_ns()
        parse_events(events)
        t1 = perf_ns()
        facts = facts_for(index, events, now)
        t2 = perf_ns()
        matched = match(facts)
        t3 = perf_ns()
        raw_a.run_case(facts)
        t4 = perf_ns()
        raw_b.run_case(facts)
        t5 = perf_ns()
        floor_matches = floor.match(facts)
        t6 = perf_ns()
        evaluate(events, now)
        t7 = perf_ns()
        t_parse += t1 - t0
        t_match += t3 - t2
        t_a += t4 - t3
        t_b += t5 - t4
        t_floor += t6 - t5
        t_eval += t7 - t6
        events_total += len(events)
        fence = as_roles(matched, roles)
        matched_roles += sum(map(len, fence.values()))
        for label, other in (
            ("raw_equivalent", as_roles(raw_a.matches(), lambda n: (n,))),
            ("raw_tierrules_calls", as_roles(raw_b.matches(), roles)),
            ("floor", as_roles(floor_matches, lambda n: (n,))),
        ):
            if not _agree(fence, other):
                disagree[label] += 1
                first_disagreement.setdefault(label, events[0]["case_id"])
    if disagree:
        print(f"  WARNING: matches differ from the fence's: {dict(disagree)}", flush=True)
    rest = t_eval - t_parse - t_match

    def per(t: int) -> dict[str, float]:
        return {
            "us_per_case": t / count / 1e3,
            "us_per_event": t / events_total / 1e3,
            "events_per_s": events_total / (t / 1e9),
        }

    return {
        "cases": count,
        "events": events_total,
        "matcher": T.fence_name(engine),
        "facts": {
            "source": facts_for.mode,
            "cases_checked": facts_for.checked,
            "mismatch": facts_for.mismatch,
        },
        "evaluate_us_per_case": t_eval / count / 1e3,
        "parse_events_us_per_case": t_parse / count / 1e3,
        "match_us_per_case": t_match / count / 1e3,
        "rest_us_per_case": rest / count / 1e3,
        "share": {
            "parse_events": t_parse / t_eval,
            "match": t_match / t_eval,
            "rest": rest / t_eval,
        },
        # (a) the primary reference: the equivalent hand-written ruleset, one assert_fact per fact
        "raw": {**per(t_a), "rules": raw_a.rules, "posting": "assert_fact per fact"},
        # (b) the calls tierrules makes: shared rules, one assert_facts batch per case
        "raw_tierrules_calls": {
            **per(t_b),
            "rules": raw_b.rules,
            "posting": "assert_facts batch per case",
            "not_handled_batches": raw_b.not_handled_batches,
            "dispatch_rounds": raw_b.dispatch_rounds,
        },
        "floor": {**per(t_floor), "rules": floor.rules},
        "fence": per(t_match),
        "tierrules": per(t_eval),
        "tierrules_events_per_s": events_total / (t_eval / 1e9),
        "matched_roles_per_case": matched_roles / count,
        "agreement": {
            "cases_compared": count,
            "cases_differing": dict(disagree),
            "first_differing_case": first_disagreement,
        },
        # per-event cost ratios, all timed side by side in this pass
        "ratio_tierrules_to_raw": t_eval / t_a,
        "ratio_fence_to_raw": t_match / t_a,
        "ratio_tierrules_to_raw_tierrules_calls": t_eval / t_b,
        "ratio_fence_to_raw_tierrules_calls": t_match / t_b,
        "ratio_raw_to_raw_tierrules_calls": t_a / t_b,
        "ratio_tierrules_to_floor": t_eval / t_floor,
        "ratio_fence_to_floor": t_match / t_floor,
        "ratio_raw_to_floor": t_a / t_floor,
        "ratio_raw_tierrules_calls_to_floor": t_b / t_floor,
    }


def _stats(samples: list[int]) -> dict[str, float]:
    samples = sorted(samples)
    return {
        "p50_us": percentile(samples, 50) / 1e3,
        "p90_us": percentile(samples, 90) / 1e3,
        "p99_us": percentile(samples, 99) / 1e3,
        "mean_us": statistics.fmean(samples) / 1e3,
    }


def bench_scaling(
    engine: Engine,
    big: Engine,
    big_info: dict[str, Any],
    count: int,
    warmup: int,
    n_events: int,
    seed: int,
) -> dict[str, Any]:
    """evaluate() and raw durable_rules (a) and (b) on the default and the scaled ruleset.

    All six are timed on every case, interleaved (the two engines in alternating order),
    on ``warmup`` + ``count`` distinct cases; the first ``warmup`` are not counted. Every
    50th case the two engines' decisions are compared, and on every case raw (a)'s
    matches: the copies must never match.
    """
    engines = (engine, big)
    raws_a = [RawDurable(T.unshared_definition(e), batch=False) for e in engines]
    raws_b = [RawDurable(T.shared_definition(e), batch=True) for e in engines]
    facts_for = (Facts(engine), Facts(big))  # each engine's own facts (the fields its rules test)
    samples: tuple[list[int], list[int]] = ([], [])
    t_a = [0, 0]
    t_b = [0, 0]
    events_total = 0
    decisions_checked = decisions_differing = hits_differing = facts_differing = 0
    for index, (events, now) in enumerate(cases(seed, warmup + count, n_events, prefix="S")):
        facts = (facts_for[0](index, events, now), facts_for[1](index, events, now))
        order = (0, 1) if index % 2 == 0 else (1, 0)
        counted = index >= warmup
        decisions: list[Any] = [None, None]
        for j in order:
            evaluate = engines[j].evaluate
            t0 = perf_ns()
            decisions[j] = evaluate(events, now)
            elapsed = perf_ns() - t0
            if counted:
                samples[j].append(elapsed)
        hits: list[dict[int, list[str]]] = [{}, {}]
        for j in order:
            t0 = perf_ns()
            raws_a[j].run_case(facts[j])
            elapsed = perf_ns() - t0
            hits[j] = raws_a[j].matches()
            if counted:
                t_a[j] += elapsed
        for j in order:
            t0 = perf_ns()
            raws_b[j].run_case(facts[j])
            elapsed = perf_ns() - t0
            if counted:
                t_b[j] += elapsed
        if counted:
            events_total += len(events)
        if not _agree(hits[0], hits[1]):
            hits_differing += 1
        if facts[0] != facts[1]:
            facts_differing += 1
        if index % 50 == 0:
            decisions_checked += 1
            if decisions[0] != decisions[1]:
                decisions_differing += 1
    if hits_differing or decisions_differing:
        print(
            f"  WARNING: the scaled ruleset matched differently on {hits_differing} cases, "
            f"decided differently on {decisions_differing} of {decisions_checked} checked",
            flush=True,
        )

    def side(j: int) -> dict[str, Any]:
        e = engines[j]
        total_ns = sum(samples[j])
        return {
            "ruleset": e.ruleset.name,
            "deadline_rules": len(e.ruleset.deadlines),
            "engine_rules": len(T.shared_definition(e)),
            "unshared_engine_rules": len(T.unshared_definition(e)),
            "evaluate": {**_stats(samples[j]), "events_per_s": events_total / (total_ns / 1e9)},
            "raw": {"us_per_case": t_a[j] / count / 1e3, "events_per_s": events_total / (t_a[j] / 1e9)},
            "raw_tierrules_calls": {
                "us_per_case": t_b[j] / count / 1e3,
                "events_per_s": events_total / (t_b[j] / 1e9),
            },
        }

    default, scaled = side(0), side(1)
    return {
        "cases": count,
        "warmup_cases": warmup,
        "events_per_case": n_events,
        "events": events_total,
        "scaled_ruleset": big_info,
        "default": default,
        "scaled": scaled,
        # scaled / default: 1.0 means the rules that cannot match cost nothing
        "ratio": {
            "evaluate_p50": scaled["evaluate"]["p50_us"] / default["evaluate"]["p50_us"],
            "evaluate_p99": scaled["evaluate"]["p99_us"] / default["evaluate"]["p99_us"],
            "evaluate_per_event_cost": sum(samples[1]) / sum(samples[0]),
            "raw_per_event_cost": t_a[1] / t_a[0],
            "raw_tierrules_calls_per_event_cost": t_b[1] / t_b[0],
        },
        "check": {
            "facts_sources": [f.mode for f in facts_for],
            "facts_differing_cases": facts_differing,
            "raw_matches_differing_cases": hits_differing,
            "decisions_checked": decisions_checked,
            "decisions_differing": decisions_differing,
        },
    }


# Agent turns for the phrase scan: simplified and traditional, some with allow contexts
# (实在不行, 行不行, 这是规定的办理时限) that must not be flagged.
PLAIN_SENTENCES = (
    "您好，这里是客户服务中心，请问有什么可以帮您？",
    "我已经查到您的订单信息，请稍等一下。",
    "非常抱歉给您带来不便，我们会尽快为您处理。",
    "您反映的问题我已经详细记录下来了。",
    "我们会在二十四小时内给您回复处理进展。",
    "请您提供一下预留的手机号码，方便我核实身份。",
    "关于退款的问题，一般会在三到五个工作日内到账。",
    "如果您还有其他疑问，可以随时拨打我们的热线。",
    "我这边帮您转接到专门负责的同事，请不要挂机。",
    "感谢您的耐心等待，让我为您查询一下。",
    "您的投诉我们非常重视，已经提交给主管处理。",
    "这个情况我们可以尝试为您申请特殊处理。",
    "系统显示您的包裹目前正在派送途中。",
    "为了保障您的账户安全，请不要向他人透露验证码。",
    "稍后会有短信通知发送到您的手机上，请注意查收。",
    "实在不行我们给您换货，您看这样可以吗？",
    "这样处理行不行，您这边方便吗？",
    "这是规定的办理时限，我们会尽量加快。",
)
ALLOW_SENTENCES = frozenset(PLAIN_SENTENCES[-3:])
TRADITIONAL_SENTENCES = (
    "您好，這裡是客戶服務中心，請問有什麼可以幫您？",
    "非常抱歉給您帶來不便，我們會儘快為您處理。",
    "您反映的問題我已經詳細記錄下來了。",
    "感謝您的耐心等待，讓我為您查詢一下。",
    "關於退款的問題，一般會在三到五個工作日內到賬。",
    "如果您還有其他疑問，可以隨時撥打我們的熱線。",
)
FORBIDDEN_SENTENCES = (
    "这个不行，我们没办法。",
    "这是规定，我也没有办法。",
    "请您别着急，听我说完。",
    "这个我不知道，您问别人吧。",
    "这种事情不 可能 发生。",
    "没有例外，大家都一样。",
)
FORBIDDEN_TRADITIONAL = (
    "請您別著急，聽我說完。",
    "這是規定，我也沒有辦法。",
    "沒有例外，大家都一樣。",
)
UTTERANCE_CHARS = 200


def utterances(seed: int, count: int) -> list[tuple[str, bool, bool]]:
    """``count`` 200-character agent utterances, half with one forbidden phrase.

    Each is (text, has a forbidden phrase, traditional characters); a quarter are traditional.
    The sentence cut at 200 characters is never one with an allow context, so a cut can
    never leave a forbidden phrase behind (这是规定的办理时限 cut to 这是规定).
    """
    rng = random.Random(seed)
    longest = max(map(len, PLAIN_SENTENCES + TRADITIONAL_SENTENCES))
    out: list[tuple[str, bool, bool]] = []
    for i in range(count):
        traditional = rng.random() < 0.25
        pool = TRADITIONAL_SENTENCES if traditional else PLAIN_SENTENCES
        phrase = None
        if i % 2 == 0:
            phrase = rng.choice(FORBIDDEN_TRADITIONAL if traditional else FORBIDDEN_SENTENCES)
            at = rng.randrange(0, UTTERANCE_CHARS - len(phrase) - longest)
        text = ""
        while len(text) < UTTERANCE_CHARS:
            if phrase is not None and len(text) >= at:
                text, phrase = text + phrase, None
                continue
            sentence = rng.choice(pool)
            if len(text) + len(sentence) > UTTERANCE_CHARS and sentence in ALLOW_SENTENCES:
                continue
            text += sentence
        out.append((text[:UTTERANCE_CHARS], i % 2 == 0, traditional))
    return out


def _medians_us(
    rows: tuple[tuple[str, Callable[[Any], object], list[Any]], ...], runs: int
) -> dict[str, dict[str, Any]]:
    """µs per call of each row, median of ``runs`` passes over its inputs.

    The rows take turns (pass 1 of every row, then pass 2...), so a burst of load from
    other processes hits them alike rather than one row's every pass.
    """
    times: dict[str, list[float]] = {label: [] for label, _, _ in rows}
    for _ in range(runs):
        for label, fn, inputs in rows:
            t0 = perf_ns()
            for x in inputs:
                fn(x)
            times[label].append((perf_ns() - t0) / len(inputs) / 1e3)
    return {label: {"us_per_call": statistics.median(t), "runs_us": t} for label, t in times.items()}


def bench_leaf(engine: Engine, starts_n: int, texts_n: int, seed: int, runs: int = 5) -> dict[str, Any]:
    """µs per call, median of ``runs`` passes: calendar arithmetic over 2026 and the phrase scan."""
    default_matcher, normalize = T.phrase_matcher, T.normalize
    calendars = engine._compiled.calendars
    name = "business" if "business" in calendars else engine.ruleset.default_calendar
    cal = calendars[name]
    t0 = dt.datetime(2026, 1, 1, tzinfo=CST)
    step = dt.timedelta(days=365) / starts_n
    starts = [t0 + i * step for i in range(starts_n)]
    for s in starts[:: max(1, starts_n // 400)]:  # warm the per-year holiday cache
        cal.add_working_days(s, 5)
    one_hour, one_day = dt.timedelta(hours=1), dt.timedelta(hours=24)
    calendar_rows = _medians_us(
        (
            ("add_working_time 1h", lambda s: cal.add_working_time(s, one_hour), starts),
            ("add_working_time 24h", lambda s: cal.add_working_time(s, one_day), starts),
            ("add_working_days 5", lambda s: cal.add_working_days(s, 5), starts),
        ),
        runs,
    )

    matcher = default_matcher()
    texts = utterances(seed, texts_n)
    flagged = [t for t, has, _ in texts if has]
    clean = [t for t, has, _ in texts if not has]
    found_in_flagged = sum(1 for t in flagged if matcher.find(t))
    found_in_clean = sum(1 for t in clean if matcher.find(t))
    all_texts = [t for t, _, _ in texts]
    for t in all_texts:  # warm OpenCC and the regex
        matcher.find(t)
    scan_rows = _medians_us(
        (
            ("find(), all utterances", matcher.find, all_texts),
            ("find(), with a forbidden phrase", matcher.find, flagged),
            ("find(), without", matcher.find, clean),
            ("normalize() alone", normalize, all_texts),
        ),
        runs,
    )
    return {
        "runs": runs,
        "calendar": {
            "calendar": name,
            "starts": starts_n,
            "span": "every 365/n days over 2026, +08:00 (weekends, CN holidays and make-up days)",
            "rows": calendar_rows,
        },
        "phrase_scan": {
            "utterances": texts_n,
            "chars": UTTERANCE_CHARS,
            "traditional": sum(1 for _, _, trad in texts if trad),
            "with_phrase": len(flagged),
            "with_phrase_found": found_in_flagged,
            "without_phrase_found": found_in_clean,
            "rows": scan_rows,
        },
    }


# --------------------------------------------------------------------------------------
# The bundled examples, whole calls and a batch: the same events on every tree
# --------------------------------------------------------------------------------------

EXAMPLE_NOW_AFTER = dt.timedelta(minutes=40)  # complaint.jsonl at 18:30, as in the README


def unseen_words(events: list[dict[str, Any]], tag: str) -> list[dict[str, Any]]:
    """The events with ``[tag]`` after every utterance's text: words no call has had before.

    An engine may keep what it worked out about a text (the normalised form, phrase hits)
    between calls; a host's next call brings new words, so this is the honest per-call cost.
    """
    return [{**e, "text": f"{e['text']}[{tag}]"} if e.get("type") == "utterance" else e for e in events]


def example_cases(directory: Path) -> list[tuple[str, list[dict[str, Any]], dt.datetime]]:
    """Every ``*.jsonl`` in ``directory`` holding one event a line (case logs are skipped)."""
    found = []
    for path in sorted(directory.glob("*.jsonl")):
        lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if not lines or not all(isinstance(x, dict) and "type" in x for x in lines):
            continue
        last = max(dt.datetime.fromisoformat(e["at"]) for e in lines)
        found.append((path.name, lines, last + EXAMPLE_NOW_AFTER))
    return found


def _decision_counts(decision: Any) -> dict[str, int]:
    return {
        part: len(getattr(decision, part))
        for part in ("obligations", "warnings", "escalations", "violations", "scores")
        if isinstance(getattr(decision, part, None), list)
    }


def bench_examples(engine: Engine, directory: Path, calls: int, warmup: int) -> dict[str, Any]:
    """p50/p99 of evaluate() on each bundled example, the examples taking turns call by call.

    Examples with utterances also run on unseen words (:func:`unseen_words`), a new tag per
    call; the tagged events are built outside the timed region.
    """
    rows: list[dict[str, Any]] = []
    variants: list[tuple[str, list[dict[str, Any]], dt.datetime, bool]] = []
    for name, events, now in example_cases(directory):
        variants.append((name, events, now, False))
        if any(e.get("type") == "utterance" for e in events):
            variants.append((name, events, now, True))
    samples: list[list[int]] = [[] for _ in variants]
    evaluate = engine.evaluate
    for i in range(warmup + calls):
        for j, (_, events, now, fresh) in enumerate(variants):
            given = unseen_words(events, f"u{i}") if fresh else events
            t0 = perf_ns()
            evaluate(given, now)
            elapsed = perf_ns() - t0
            if i >= warmup:
                samples[j].append(elapsed)
    for (name, events, now, fresh), times in zip(variants, samples, strict=True):
        rows.append(
            {
                "example": name,
                "words": "unseen" if fresh else "as given",
                "events": len(events),
                "now": now.isoformat(),
                "calls": calls,
                **_stats(times),
                "decision": _decision_counts(evaluate(events, now)),
            }
        )
    return {"directory": str(directory), "warmup_calls": warmup, "rows": rows}


CALL_START = dt.datetime(2026, 11, 24, 9, 0, tzinfo=CST)
CALL_AGENT = (
    "您好，这里是星河银行，我是客服小李，很高兴为您服务。",
    "好的，我马上为您查询一下，请稍等。",
    "感谢您的耐心等待，您的卡片目前处于锁定状态。",
    "为了保障您的账户安全，请允许我核实您的身份信息。",
    "已经为您提交了解锁申请，预计两个小时内完成。",
)
CALL_CUSTOMER = ("我的卡被锁了，怎么办？", "大概什么时候能好？", "好的，谢谢。", "还需要我做什么吗？")


def call(n: int, case_id: str = "CALL-1") -> list[dict[str, Any]]:
    """A phone call of ``n`` utterances, in time order (benchmarks/bench_session.py's call).

    ``case_opened``, ``call_answered``, ``n`` utterances alternating agent and customer (one
    agent turn in forty with a forbidden phrase), every turn's words its own, ``call_ended``.
    """

    def at(seconds: float) -> str:
        return (CALL_START + dt.timedelta(seconds=seconds)).isoformat()

    events: list[dict[str, Any]] = [
        {"type": "case_opened", "at": at(0), "case_id": case_id, "channel": "phone",
         "customer_id": "CU-1", "customer_name": "张伟", "customer_gender": "male",
         "agent_name": "小李", "organisation": "星河银行"},
        {"type": "call_answered", "at": at(8), "case_id": case_id, "rings": 2},
    ]  # fmt: skip
    for i in range(n):
        agent = i % 2 == 0
        text = (
            CALL_AGENT[(i // 2) % len(CALL_AGENT)] if agent else CALL_CUSTOMER[(i // 2) % len(CALL_CUSTOMER)]
        )
        if agent and i % 40 == 20:
            text = "这个我不知道，您自己看着办吧。"  # a forbidden phrase: a violation
        text = f"{text[:-1]}（第{i + 1}句）{text[-1]}"
        events.append(
            {"type": "utterance", "at": at(10 + 6 * i), "case_id": case_id,
             "speaker": "agent" if agent else "customer", "text": text,
             "offset_seconds": 2 + 6 * i, "duration_seconds": 5}
        )  # fmt: skip
    events.append({"type": "call_ended", "at": at(12 + 6 * n), "case_id": case_id, "hung_up_by": "customer"})
    return events


def bench_calls(engine: Engine, sizes: list[int], repeats: int) -> list[dict[str, Any]]:
    """Whole-call evaluate() of a finished call of N utterances: median of ``repeats`` runs.

    "unseen": each run on words no call had before (as bench_session's yardstick); "seen":
    the same events again. Also observed once (outside the timings): the facts evaluate()
    sent to the matcher, and the matcher's own time on them (median of ``repeats``).
    """
    rows = []
    match = T.fence(engine)
    for n in sizes:
        events = call(n)
        now = dt.datetime.fromisoformat(events[-1]["at"])
        engine.evaluate(unseen_words(events, "warm"), now)
        unseen, seen = [], []
        for r in range(repeats):
            variant = unseen_words(events, f"r{r}")
            t0 = perf_ns()
            engine.evaluate(variant, now)
            unseen.append(perf_ns() - t0)
        for _ in range(repeats):
            t0 = perf_ns()
            decision = engine.evaluate(events, now)
            seen.append(perf_ns() - t0)
        posted = posted_facts(engine, events, now)
        facts = [f for batch in posted for f in batch]
        fence = []
        for _ in range(repeats):
            t0 = perf_ns()
            match(facts)
            fence.append(perf_ns() - t0)
        rows.append(
            {
                "utterances": n,
                "events": len(events),
                "repeats": repeats,
                "unseen_ms": statistics.median(unseen) / 1e6,
                "unseen_runs_ms": [t / 1e6 for t in unseen],
                "seen_ms": statistics.median(seen) / 1e6,
                "matcher_calls": len(posted),
                "facts_to_matcher": len(facts),
                "fact_types_to_matcher": dict(Counter(f.get("type") for f in facts).most_common()),
                "matcher_ms": statistics.median(fence) / 1e6,
                "decision": _decision_counts(decision),
            }
        )
    return rows


BATCH_DROPPED_FIELDS = ("agent_id", "team")  # issue 11's fields: unknown to older trees


def batch_cases(path: Path, limit: int | None) -> list[tuple[str, list[dict[str, Any]], dt.datetime]]:
    """A case log's cases (``{"name", "now", "events"}`` a line), without the dropped fields."""
    out = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            record = json.loads(line)
            events = [{k: v for k, v in e.items() if k not in BATCH_DROPPED_FIELDS} for e in record["events"]]
            out.append((str(record.get("name", len(out))), events, dt.datetime.fromisoformat(record["now"])))
            if limit is not None and len(out) >= limit:
                break
    return out


def bench_batch(engine: Engine, path: Path, limit: int | None, warmup: int = 100) -> dict[str, Any]:
    """One evaluate() per case of the case log, in order; ``warmup`` cases first, untimed."""
    found = batch_cases(path, limit)
    evaluate = engine.evaluate
    error = _first("tierrules.errors:EventError", "tierrules._errors:EventError", "tierrules:EventError")
    for _, events, now in found[:warmup]:
        with contextlib.suppress(error):
            evaluate(events, now)
    times: list[int] = []
    rejected: list[str] = []
    events_total = 0
    types: Counter[str] = Counter()
    wall0 = perf_ns()
    for name, events, now in found:
        t0 = perf_ns()
        try:
            evaluate(events, now)
        except error:
            rejected.append(name)
            continue
        times.append(perf_ns() - t0)
        events_total += len(events)
        types.update(e["type"] for e in events)
    inside = sum(times)
    return {
        "file": str(path),
        "dropped_fields": list(BATCH_DROPPED_FIELDS),
        "cases": len(times),
        "events": events_total,
        "rejected_cases": len(rejected),
        "first_rejected": rejected[:5],
        "evaluate_seconds": inside / 1e9,
        "wall_seconds": (perf_ns() - wall0) / 1e9,
        "cases_per_s": len(times) / (inside / 1e9) if inside else float("nan"),
        "events_per_s": events_total / (inside / 1e9) if inside else float("nan"),
        "us_per_case": inside / max(len(times), 1) / 1e3,
        **_stats(times),
        "utterances": types.get("utterance", 0),
    }


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------


def print_report(result: dict[str, Any]) -> None:
    m = result["machine"]
    print()
    print("tierrules evaluate() benchmark")
    print(f"  machine   {m['platform']} | {m['cpu_model']} | {m['cpu_count']} CPUs | {m['python']}")
    print(f"  load avg  {' '.join(f'{x:.2f}' for x in m['loadavg_at_start'])} at start")
    rs = result["ruleset"]
    print(
        f"  ruleset   {rs['name']} {rs['version']}: {rs['deadline_rules']} deadline rules, "
        f"{rs['engine_rules']} durable_rules rules ({rs.get('unshared_engine_rules', '?')} unshared)"
    )
    print(f"  tree      {m['tierrules_path']} ({m.get('tierrules_layout', '?')} layout)")
    print(
        f"  versions  tierrules {m['tierrules']} ({m['git']}, src {m['tierrules_source_sha256']}), "
        f"durable_rules {m['durable_rules']}, pydantic {m['pydantic']}"
    )
    print(f"  duration  {result.get('duration_seconds', 0):,.0f} s")
    print()
    if "latency" in result:
        print("1. evaluate() latency, one call per case (µs)")
        heads = ("events/case", "calls", "p50", "p90", "p99", "mean", "p50 µs/event")
        widths = (11, 6, 9, 9, 9, 9, 12)
        print("  " + "  ".join(f"{h:>{w}}" for h, w in zip(heads, widths, strict=True)))
        for row in result["latency"]:
            cells = (
                f"{row['events_per_case']:>11}",
                f"{row['calls']:>6}",
                *(f"{row[k]:>9.1f}" for k in ("p50_us", "p90_us", "p99_us", "mean_us")),
                f"{row['p50_us'] / row['events_per_case']:>12.1f}",
            )
            print("  " + "  ".join(cells))
    if "throughput" in result:
        t = result["throughput"]
        print()
        print(f"2. throughput: {t['cases']:,} cases x {t['events_per_case']} events, one evaluate() per case")
        print(f"  ({t['source']})")
        print(f"  {'events/s':<28} {t['events_per_s']:>12,.0f}   ({t['cases_per_s']:,.0f} cases/s)")
        print(f"  {'µs per case / per event':<28} {t['us_per_case']:>12,.1f}   / {t['us_per_event']:.1f}")
        print(
            f"  {'time in evaluate() / wall':<28} {t['evaluate_seconds']:>12,.1f} s / "
            f"{t['wall_seconds']:.1f} s (wall includes generation)"
        )
        w = t["workload"]
        print(
            f"  {'obligations':<28} {w['obligations']}  ({w['obligations_per_case']:.2f}/case), "
            f"escalations {w['escalations']:,}"
        )
    if "memory" in result:
        mem = result["memory"]
        b = mem["memory_before"]
        print()
        print(
            f"3. memory over {mem['cases']:,} cases evaluated one by one "
            f"(MiB; {mem['wall_seconds']:,.0f} s wall)"
        )
        print(f"  {'after cases':>12} {'peak RSS':>10} {'current RSS':>12} {'events/s in segment':>20}")
        print(f"  {'0 (before)':>12} {b['ru_maxrss_mib']:>10.1f} {b['vmrss_mib']:>12.1f}")
        for row in mem["checkpoints"]:
            print(
                f"  {row['cases']:>12,} {row['ru_maxrss_mib']:>10.1f} {row['vmrss_mib']:>12.1f} "
                f"{row['events_per_s_since_previous']:>20,.0f}"
            )
        g = mem["growth_from_first_checkpoint"]
        print(
            f"  growth after the first checkpoint: peak {g['ru_maxrss_mib']:+.1f}, "
            f"current {g['vmrss_mib']:+.1f}"
        )
    if "breakdown" in result:
        d = result["breakdown"]
        print()
        print(f"4. where the time goes ({d['cases']:,} cases, timed separately)          µs/case   share")
        if d["facts"]["source"] != "rebuilt":
            print(f"  (facts observed from evaluate(): {d['facts']['mismatch']})")
        for label, key in (
            ("validation (parse_events)", "parse_events"),
            (f"matcher ({d.get('matcher', 'Engine._engine.match')})", "match"),
            ("rest (sort, facts, deadlines, Decision)", "rest"),
        ):
            print(f"  {label:<48} {d[f'{key}_us_per_case']:>9.1f}  {d['share'][key]:>6.1%}")
        print(f"  {'evaluate() total':<48} {d['evaluate_us_per_case']:>9.1f}  {1:>6.1%}")
        print()
        print("5. references on the same facts, interleaved with 4       events/s    µs/case  rules")
        ra, rb, fl = d["raw"], d["raw_tierrules_calls"], d["floor"]
        for label, row, rules in (
            ("tierrules evaluate()", d["tierrules"], ""),
            ("tierrules matcher (match)", d["fence"], rs["engine_rules"]),
            ("(a) raw durable_rules, equivalent ruleset", ra, ra["rules"]),
            ("(b) raw durable_rules, the calls tierrules makes", rb, rb["rules"]),
            ("(c) plain-Python predicates (floor)", fl, fl["rules"]),
        ):
            print(f"  {label:<50} {row['events_per_s']:>11,.0f} {row['us_per_case']:>9.1f}  {rules!s:>5}")
        print("  per-event cost ratios:")
        print(f"    {'tierrules / (a)   (target <= 1.5x)':<40} {d['ratio_tierrules_to_raw']:>7.2f}x")
        print(f"    {'fence / (a)':<40} {d['ratio_fence_to_raw']:>7.2f}x")
        print(f"    {'tierrules / (b)':<40} {d['ratio_tierrules_to_raw_tierrules_calls']:>7.2f}x")
        print(f"    {'fence / (b)':<40} {d['ratio_fence_to_raw_tierrules_calls']:>7.2f}x")
        print(f"    {'(a) / (b)':<40} {d['ratio_raw_to_raw_tierrules_calls']:>7.2f}x")
        print(f"    {'tierrules / floor':<40} {d['ratio_tierrules_to_floor']:>7.1f}x")
        print(f"    {'(a) / floor':<40} {d['ratio_raw_to_floor']:>7.1f}x")
        print(f"    {'(b) / floor':<40} {d['ratio_raw_tierrules_calls_to_floor']:>7.1f}x")
        ag = d["agreement"]
        verdict = "all agree" if not ag["cases_differing"] else f"DIFFER: {ag['cases_differing']}"
        print(
            f"  matches of the fence, (a), (b) and the floor on {ag['cases_compared']:,} cases: {verdict} "
            f"({d['matched_roles_per_case']:.1f} roles matched per case; (b) batches not handled: "
            f"{rb['not_handled_batches']:,})"
        )
    if "scaling" in result:
        s = result["scaling"]
        si = s["scaled_ruleset"]
        print()
        print(
            f"6. rule-count scaling: {s['cases']:,} ten-event cases, "
            f"default vs {si['factor']}x deadline rules "
            f"(copies on {len(si['copy_event_types'])} event types the workload never posts)"
        )
        if si["factor"] != si["requested_factor"]:
            print(f"  ({si['requested_factor']}x refused by the compiler: {si['refused']})")
        print(
            f"  {'':<34} {'deadline':>8} {'engine':>7} {'unshared':>8} {'p50 µs':>8} {'p99 µs':>8} "
            f"{'events/s':>9} {'(a) ev/s':>9} {'(b) ev/s':>9}"
        )
        for label, side in (("default", s["default"]), (f"{si['factor']}x", s["scaled"])):
            e = side["evaluate"]
            print(
                f"  {label:<34} {side['deadline_rules']:>8} {side['engine_rules']:>7} "
                f"{side['unshared_engine_rules']:>8} {e['p50_us']:>8.0f} {e['p99_us']:>8.0f} "
                f"{e['events_per_s']:>9,.0f} {side['raw']['events_per_s']:>9,.0f} "
                f"{side['raw_tierrules_calls']['events_per_s']:>9,.0f}"
            )
        r = s["ratio"]
        print(
            f"  {si['factor']}x / default: evaluate p50 {r['evaluate_p50']:.2f}x, "
            f"p99 {r['evaluate_p99']:.2f}x, "
            f"per-event cost {r['evaluate_per_event_cost']:.2f}x; raw (a) {r['raw_per_event_cost']:.2f}x, "
            f"(b) {r['raw_tierrules_calls_per_event_cost']:.2f}x   (target ~1.0)"
        )
        c = s["check"]
        print(
            f"  copies never matched: facts differed on {c['facts_differing_cases']} cases, "
            f"raw (a) matches on {c['raw_matches_differing_cases']}; "
            f"decisions differed on {c['decisions_differing']} of {c['decisions_checked']} checked"
        )
    if "leaf" in result:
        leaf = result["leaf"]
        cal, scan = leaf["calendar"], leaf["phrase_scan"]
        print()
        print(f"7. leaf costs (µs per call, median of {leaf['runs']} passes, the rows taking turns)")
        print(f"  calendar '{cal['calendar']}', {cal['starts']:,} starts over 2026 (CN holidays):")
        for label, row in cal["rows"].items():
            print(f"    {label:<38} {row['us_per_call']:>8.1f}")
        print(
            f"  phrase scan, {scan['utterances']} agent utterances of {scan['chars']} characters "
            f"({scan['traditional']} traditional; phrase found in {scan['with_phrase_found']}/"
            f"{scan['with_phrase']} with one, in {scan['without_phrase_found']} without):"
        )
        for label, row in scan["rows"].items():
            print(f"    {label:<38} {row['us_per_call']:>8.1f}")
    if "examples" in result:
        ex = result["examples"]
        print()
        print(f"8. bundled examples ({ex['directory']}), evaluated 40 min after the last event (µs)")
        print(f"  {'example':<24} {'words':<9} {'events':>6} {'calls':>6} {'p50':>9} {'p99':>9} {'mean':>9}")
        for row in ex["rows"]:
            print(
                f"  {row['example']:<24} {row['words']:<9} {row['events']:>6} {row['calls']:>6} "
                f"{row['p50_us']:>9.1f} {row['p99_us']:>9.1f} {row['mean_us']:>9.1f}"
            )
    if "calls" in result:
        print()
        print("9. whole calls: one evaluate() of a finished call (ms, medians)")
        print(
            f"  {'utterances':>10} {'events':>6} {'unseen':>9} {'seen':>9} {'facts to matcher':>17} "
            f"{'matcher':>9}"
        )
        for row in result["calls"]:
            print(
                f"  {row['utterances']:>10} {row['events']:>6} "
                f"{row['unseen_ms']:>9.2f} {row['seen_ms']:>9.2f} "
                f"{row['facts_to_matcher']:>17} {row['matcher_ms']:>9.2f}"
            )
    if "batch" in result:
        b = result["batch"]
        print()
        print(
            f"10. batch: {b['cases']:,} cases of {Path(b['file']).name} ({b['events']:,} events, "
            f"without {', '.join(b['dropped_fields'])}), one evaluate() per case"
        )
        print(
            f"  {b['cases_per_s']:,.0f} cases/s, {b['events_per_s']:,.0f} events/s, "
            f"{b['us_per_case']:,.0f} µs "
            f"per case (p50 {b['p50_us']:,.0f}, p99 {b['p99_us']:,.0f}); rejected {b['rejected_cases']}"
        )
    print()


# --------------------------------------------------------------------------------------
# Two or more trees side by side
# --------------------------------------------------------------------------------------

# (label, path into a run's JSON, unit, higher is better): the rows of the side-by-side table
COMPARED: tuple[tuple[str, tuple[Any, ...], str, bool], ...] = (
    ("generated case, 1 event: p50", ("latency", 0, "p50_us"), "µs", False),
    ("generated case, 10 events: p50", ("latency", 1, "p50_us"), "µs", False),
    ("generated case, 100 events: p50", ("latency", 2, "p50_us"), "µs", False),
    ("generated case, 10 events: p99", ("latency", 1, "p99_us"), "µs", False),
    ("throughput, 10-event cases", ("throughput", "events_per_s"), "events/s", True),
    ("batch (demo month), per case", ("batch", "us_per_case"), "µs", False),
    ("batch (demo month)", ("batch", "cases_per_s"), "cases/s", True),
    ("validation (parse_events), per 10-event case", ("breakdown", "parse_events_us_per_case"), "µs", False),
    ("matcher, per 10-event case", ("breakdown", "match_us_per_case"), "µs", False),
    ("rest of evaluate(), per 10-event case", ("breakdown", "rest_us_per_case"), "µs", False),
    ("evaluate() in the breakdown pass, per case", ("breakdown", "evaluate_us_per_case"), "µs", False),
    ("raw durable_rules (a), per case", ("breakdown", "raw", "us_per_case"), "µs", False),
    ("tierrules / raw durable_rules (a)", ("breakdown", "ratio_tierrules_to_raw"), "x", False),
    ("10x rules / default, per-event cost", ("scaling", "ratio", "evaluate_per_event_cost"), "x", False),
    ("peak RSS after the memory pass", ("memory", "checkpoints", -1, "ru_maxrss_mib"), "MiB", False),
    ("add_working_time 1h", ("leaf", "calendar", "rows", "add_working_time 1h", "us_per_call"), "µs", False),
    (
        "phrase scan, find()",
        ("leaf", "phrase_scan", "rows", "find(), all utterances", "us_per_call"),
        "µs",
        False,
    ),
)


def _dig(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def compared_rows(result: dict[str, Any]) -> dict[str, tuple[float, str, bool]]:
    """The values of one run that the side-by-side table shows, by row label."""
    out: dict[str, tuple[float, str, bool]] = {}
    for label, path, unit, higher in COMPARED[:4]:
        value = _dig(result, path)
        if isinstance(value, int | float):
            out[label] = (float(value), unit, higher)
    for row in _dig(result, ("examples", "rows")) or []:
        words = "" if row["words"] == "as given" else ", unseen words"
        out[f"example {row['example']}{words}: p50"] = (row["p50_us"], "µs", False)
    for row in result.get("calls") or []:
        n = row["utterances"]
        out[f"call of {n} utterances, whole evaluate(), unseen words"] = (row["unseen_ms"], "ms", False)
        out[f"call of {n} utterances, whole evaluate(), seen words"] = (row["seen_ms"], "ms", False)
        out[f"call of {n} utterances, facts sent to the matcher"] = (row["facts_to_matcher"], "facts", False)
        out[f"call of {n} utterances, matcher on those facts"] = (row["matcher_ms"], "ms", False)
    for label, path, unit, higher in COMPARED[4:]:
        value = _dig(result, path)
        if isinstance(value, int | float):
            out[label] = (float(value), unit, higher)
    return out


def _fmt(value: float, unit: str) -> str:
    """A table cell: the unit is in the row's label."""
    if unit == "x":
        return f"{value:.2f}x"
    if unit in ("ms", "MiB") or abs(value) < 100:
        return f"{value:,.2f}" if unit in ("ms", "MiB") else f"{value:,.1f}"
    return f"{value:,.0f}"


def _label(src: Path) -> str:
    root = src.resolve().parent if src.resolve().name == "src" else src.resolve()
    return _git("describe", "--always", "--dirty", cwd=root) or root.name


def compare(args: argparse.Namespace, child_args: list[str]) -> int:
    """Run each ``--src`` tree in a child process, ``--rounds`` times in turns, then the table.

    Round r runs the trees in the given order when r is odd and in reverse when it is
    even (A B, B A, A B, ...), so a drift in the machine's load favours neither.
    """
    trees = [Path(s).resolve() for s in args.src]
    labels = [_label(s) for s in trees]
    if len(set(labels)) != len(labels):
        labels = [f"{label} ({s})" for label, s in zip(labels, trees, strict=True)]
    out_dir = args.json.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = args.json.stem
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label in labels}
    schedule: list[tuple[int, int]] = []
    for r in range(1, args.rounds + 1):
        order = range(len(trees)) if r % 2 == 1 else reversed(range(len(trees)))
        schedule += [(r, i) for i in order]
    for r, i in schedule:
        path = out_dir / f"{stem}-{labels[i].split()[0]}-run{r}.json"
        argv = [sys.executable, str(Path(__file__).resolve()), "--src", str(trees[i]), *child_args]
        argv += ["--json", str(path)]
        print(f"== round {r}: {labels[i]} ({trees[i]}), load {os.getloadavg()[0]:.2f}", flush=True)
        done = subprocess.run(argv, check=False)
        if done.returncode != 0:
            raise SystemExit(f"the run of {trees[i]} failed (exit {done.returncode})")
        result = json.loads(path.read_text(encoding="utf-8"))
        result["json"] = str(path)
        runs[labels[i]].append(result)
    summary = summarize_runs(labels, runs)
    print()
    print(summary["markdown"])
    args.json.write_text(
        json.dumps(
            {"trees": [str(t) for t in trees], "labels": labels, **summary}, indent=2, ensure_ascii=False
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"\nsummary written to {args.json}; each run's results beside it ({stem}-*-run*.json)")
    return 0


def summarize_runs(labels: list[str], runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Medians per tree and row; the ratio of each tree's time to the first tree's."""
    medians: dict[str, dict[str, float]] = {}
    values: dict[str, dict[str, list[float]]] = {}
    units: dict[str, tuple[str, bool]] = {}
    order: list[str] = []
    for label in labels:
        per_row: dict[str, list[float]] = {}
        for result in runs[label]:
            for row, (value, unit, higher) in compared_rows(result).items():
                per_row.setdefault(row, []).append(value)
                units[row] = (unit, higher)
                if row not in order:
                    order.append(row)
        values[label] = per_row
        medians[label] = {row: statistics.median(v) for row, v in per_row.items()}
    base = labels[0]
    lines = [
        "| measurement | "
        + " | ".join(f"`{label}`" for label in labels)
        + " | "
        + " | ".join(f"`{label}` / `{base}`" for label in labels[1:])
        + " |",
        "|---|" + "---:|" * (2 * len(labels) - 1),
    ]
    ratios: dict[str, dict[str, float]] = {}
    for row in order:
        unit, higher = units[row]
        cells = [_fmt(medians[label][row], unit) if row in medians[label] else "—" for label in labels]
        ratio_cells = []
        for label in labels[1:]:
            a, b = medians[base].get(row), medians[label].get(row)
            if a is None or b is None or a == 0 or b == 0:
                ratio_cells.append("—")
                continue
            # as a time ratio: below 1 the tree is faster (rates are inverted)
            ratio = a / b if higher else b / a
            ratios.setdefault(row, {})[label] = ratio
            ratio_cells.append("—" if unit == "facts" else f"{ratio:.2f}")
        lines.append(f"| {row} ({unit}) | " + " | ".join(cells + ratio_cells) + " |")
    loads = {
        label: [
            [round(x, 2) for x in r["machine"]["loadavg_at_start"]]
            + [round(x, 2) for x in r.get("loadavg_at_end", [])][:1]
            for r in runs[label]
        ]
        for label in labels
    }
    lines.append("")
    lines.append(
        "Medians of "
        + ", ".join(f"{len(runs[label])} runs of `{label}`" for label in labels)
        + "; the ratios are time ratios (rates inverted): below 1.00 is faster than "
        + f"`{base}`. Load average (1, 5, 15 min) at each run's start, then the 1-min one at its end: "
        + "; ".join(
            f"`{label}` " + ", ".join("/".join(map(str, x)) for x in loads[label]) for label in labels
        )
        + "."
    )
    return {
        "medians": medians,
        "values": values,
        "ratios": ratios,
        "loadavg": loads,
        "runs": {label: [r["json"] for r in runs[label]] for label in labels},
        "markdown": "\n".join(lines),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run (a few thousand cases per section; about two minutes)",
    )
    parser.add_argument(
        "--src",
        action="append",
        type=Path,
        default=None,
        metavar="DIR",
        help="the source tree to measure (the directory holding tierrules/; default: the installed "
        "tierrules). Give it twice or more to run each tree in turns and compare them",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="with several --src: runs of each tree, in turns (default %(default)s)",
    )
    parser.add_argument(
        "--ruleset",
        type=Path,
        default=None,
        help="ruleset directory to evaluate (default: the tree's bundled default ruleset)",
    )
    parser.add_argument(
        "--skip",
        default="",
        help="comma-separated sections to leave out: "
        "throughput (with memory), latency, breakdown, scaling, leaf, examples, calls, batch",
    )
    parser.add_argument(
        "--cases", type=int, default=None, help="ten-event cases for throughput (default 100000)"
    )
    parser.add_argument(
        "--memory-cases",
        type=int,
        default=None,
        help="cases in the memory pass, RSS read after 1%%, 10%% and 100%% (default 1000000; "
        "at least --cases: throughput is its first --cases cases)",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        help="where to write results (default benchmarks/results/latest.json; with several --src "
        "benchmarks/results/compare.json, each run beside it)",
    )
    parser.add_argument("--seed", type=int, default=20261124, help="workload seed (default %(default)s)")
    parser.add_argument(
        "--latency-calls", type=int, default=None, help="measured calls per size (default 3000)"
    )
    parser.add_argument(
        "--breakdown-cases",
        type=int,
        default=None,
        help="cases for the breakdown and the references (default: --cases)",
    )
    parser.add_argument(
        "--scaling-cases", type=int, default=None, help="cases for rule-count scaling (default 20000)"
    )
    parser.add_argument(
        "--scaling-factor", type=int, default=10, help="deadline rules x this (default %(default)s)"
    )
    parser.add_argument(
        "--leaf-n", type=int, default=None, help="calendar starts for the leaf costs (default 20000)"
    )
    parser.add_argument(
        "--example-calls", type=int, default=None, help="timed calls per bundled example (default 2000)"
    )
    parser.add_argument(
        "--call-sizes", default="100,400", help="utterances of the whole calls (default %(default)s)"
    )
    parser.add_argument(
        "--call-repeats", type=int, default=None, help="runs per whole call, median taken (default 9)"
    )
    parser.add_argument(
        "--batch-file",
        type=Path,
        default=REPO / "examples" / "demo-month.jsonl",
        help="case log for the batch (default: this checkout's demo month)",
    )
    parser.add_argument("--batch-cases", type=int, default=None, help="cases of the batch (default: all)")
    args = parser.parse_args(argv)
    raw_argv = sys.argv[1:] if argv is None else list(argv)

    if args.src and len(args.src) > 1:
        if args.rounds < 1:
            parser.error("--rounds must be at least 1")
        # everything but --src, --rounds and --json goes to every run
        child_args, skip_next = [], False
        for arg in raw_argv:
            if skip_next:
                skip_next = False
                continue
            name = arg.split("=", 1)[0]
            if name in ("--src", "--rounds", "--json"):
                skip_next = "=" not in arg
                continue
            child_args.append(arg)
        if args.json is None:
            args.json = HERE / "results" / "compare.json"
        return compare(args, child_args)

    use_tree(args.src[0] if args.src else None)
    if args.json is None:
        args.json = HERE / "results" / "latest.json"
    quick = args.quick
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    unknown = skip - {"throughput", "latency", "breakdown", "scaling", "leaf", "examples", "calls", "batch"}
    if unknown:
        parser.error(f"--skip: unknown sections {sorted(unknown)}")
    count = args.cases if args.cases is not None else (2_000 if quick else 100_000)
    total = max(
        count, args.memory_cases if args.memory_cases is not None else (5_000 if quick else 1_000_000)
    )
    calls = args.latency_calls if args.latency_calls is not None else (300 if quick else 3_000)
    warmup = max(50, calls // 10)
    breakdown_count = min(args.breakdown_cases or count, count)
    scaling_count = args.scaling_cases if args.scaling_cases is not None else (500 if quick else 20_000)
    leaf_n = args.leaf_n if args.leaf_n is not None else (2_000 if quick else 20_000)
    example_calls = args.example_calls if args.example_calls is not None else (200 if quick else 2_000)
    call_sizes = [int(n) for n in args.call_sizes.split(",") if n.strip()]
    call_repeats = args.call_repeats if args.call_repeats is not None else (3 if quick else 9)
    batch_limit = args.batch_cases if args.batch_cases is not None else (500 if quick else None)
    if min(count, calls, breakdown_count, scaling_count, leaf_n, example_calls, call_repeats) < 1 or (
        args.scaling_factor < 2
    ):
        parser.error("counts must be positive and --scaling-factor at least 2")

    started = perf_ns()
    result: dict[str, Any] = {
        "benchmark": "tierrules.bench_evaluate",
        "started_at": dt.datetime.now(UTC).isoformat(timespec="seconds"),
        "argv": raw_argv,
        "seed": args.seed,
        "quick": quick,
        "machine": machine(),
        "workload_follow_ups": sorted(FOLLOW_UPS),
    }
    memory_at_start = memory()
    t_setup = perf_ns()
    engine = tierrules.Engine(tierrules.load_ruleset(args.ruleset))
    unshared = T.unshared_definition(engine)
    raw_a = RawDurable(unshared, batch=False)
    raw_b = RawDurable(T.shared_definition(engine), batch=True)
    floor = PythonFloor(unshared)
    result["setup_seconds"] = (perf_ns() - t_setup) / 1e9
    result["ruleset"] = {
        "name": engine.ruleset.name,
        "version": engine.ruleset.version,
        "path": str(args.ruleset or T.default_ruleset_path()),
        "deadline_rules": len(engine.ruleset.deadlines),
        # durable_rules rules, the session marker included
        "engine_rules": len(T.shared_definition(engine)),
        "unshared_engine_rules": len(unshared),
    }
    result["memory_at_start"] = memory_at_start

    # The memory pass runs first, so that its peak RSS is not hidden by the latency pools.
    if "throughput" not in skip:
        print(f"throughput and memory: {total:,} ten-event cases, one evaluate() each ...", flush=True)
        result["throughput"], result["memory"] = bench_throughput_memory(engine, count, total, 10, args.seed)
    if "latency" not in skip:
        print(
            f"latency: {calls} calls after {warmup} warm-up, for 1, 10 and 100 events per case ...",
            flush=True,
        )
        result["latency"] = [bench_latency(engine, n, calls, warmup, args.seed + n) for n in (1, 10, 100)]
    if "examples" not in skip:
        print(f"bundled examples: {example_calls:,} calls each ...", flush=True)
        result["examples"] = bench_examples(
            engine, REPO / "examples", example_calls, max(20, example_calls // 10)
        )
    if "calls" not in skip:
        print(
            f"whole calls of {', '.join(map(str, call_sizes))} utterances, {call_repeats} runs each ...",
            flush=True,
        )
        result["calls"] = bench_calls(engine, call_sizes, call_repeats)
    if "batch" not in skip and args.batch_file.is_file():
        print(f"batch: {args.batch_file.name}, one evaluate() per case ...", flush=True)
        result["batch"] = bench_batch(engine, args.batch_file, batch_limit)
    if "breakdown" not in skip:
        print(f"breakdown and references: {breakdown_count:,} of the throughput cases ...", flush=True)
        result["breakdown"] = bench_breakdown(engine, raw_a, raw_b, floor, breakdown_count, 10, args.seed)
    if "scaling" not in skip:
        print(
            f"scaling: default vs {args.scaling_factor}x deadline rules, {scaling_count:,} cases ...",
            flush=True,
        )
        big, big_info = scaled_engine(args.scaling_factor, args.ruleset)
        result["scaling"] = bench_scaling(
            engine, big, big_info, scaling_count, min(200, scaling_count), 10, args.seed + 1000
        )
    if "leaf" not in skip:
        print(f"leaf costs: calendar over {leaf_n:,} starts, phrase scan ...", flush=True)
        result["leaf"] = bench_leaf(engine, leaf_n, 200 if quick else 1_000, args.seed)
    result["memory_at_end"] = memory()
    result["loadavg_at_end"] = list(os.getloadavg())
    result["finished_at"] = dt.datetime.now(UTC).isoformat(timespec="seconds")
    result["duration_seconds"] = (perf_ns() - started) / 1e9

    print_report(result)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
