#!/usr/bin/env python3
"""Benchmark ``tierrules.Engine.evaluate()`` on generated call-center case histories.

Run from a clone after ``python3 -m pip install -e .``::

    python benchmarks/bench_evaluate.py                 # 100,000 ten-event cases (a few minutes)
    python benchmarks/bench_evaluate.py --quick         # smoke run, a few seconds
    python benchmarks/bench_evaluate.py --cases 20000 --json /tmp/bench.json

It prints a table and writes the numbers as JSON (default
``benchmarks/results/latest.json``; the directory is git-ignored and created if missing).

What it measures (see docs/performance.md):

1. latency of one ``evaluate()`` call, p50/p99 in µs, for cases of 1, 10 and 100 events;
2. throughput in events/s over ``--cases`` ten-event cases, each evaluated on its own the
   way a call-center host calls it (one call per case, the whole history every time);
3. peak RSS (``ru_maxrss``) and current RSS (``VmRSS``) before and after that run;
4. where the time goes: ``parse_events`` (validation), the durable_rules fence
   (``Engine._engine.match``) and the rest, each timed separately on the same cases;
5. a reference: raw durable_rules posting the same facts to the same rules, one session
   per case, and the tierrules / raw per-event cost ratio.

This is a script, not a test: it asserts nothing about speed. The private attributes
``Engine._engine``, ``Engine._compiled`` and ``tierrules._engine._fact`` are read, never
changed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import hashlib
import heapq
import importlib.metadata
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

try:
    import tierrules
except ImportError:  # not installed: fall back to the source tree next to this script
    sys.path.insert(0, str(REPO / "src"))
    import tierrules
from tierrules._engine import _fact  # noqa: E402
from tierrules._events import EVENT_TYPES  # noqa: E402

try:  # evaluate() builds case time lines before it makes facts (since the E4-E12 clocks)
    from tierrules._cases import build_cases as _build_cases
except ImportError:  # pragma: no cover - older trees
    _build_cases = None

warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"durable\.engine")
import durable.engine as de  # noqa: E402

perf_ns = time.perf_counter_ns

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
FOLLOW_UPS: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "escalated": ((1 * MINUTE, 9 * MINUTE), (11 * MINUTE, 90 * MINUTE)),
    "complaint_replied": ((5 * MINUTE, 50 * MINUTE), (2 * HOUR, 30 * HOUR)),
    "complaint_resolved": ((2 * HOUR, 40 * HOUR), (50 * HOUR, 120 * HOUR)),
    "feedback_responded": ((20 * MINUTE, 20 * HOUR), (25 * HOUR, 72 * HOUR)),
    "progress_reported": ((2 * HOUR, 22 * HOUR), (25 * HOUR, 96 * HOUR)),
    "feedback_resolved": ((1 * DAY, 4 * DAY), (8 * DAY, 14 * DAY)),
    "case_responded": ((5 * MINUTE, 90 * MINUTE), (3 * HOUR, 30 * HOUR)),
    "case_resolved": ((2 * HOUR, 20 * HOUR), (30 * HOUR, 96 * HOUR)),
}
FOLLOW_UPS = {kind: delays for kind, delays in FOLLOW_UPS.items() if kind in EVENT_TYPES}
OUTCOMES = ("on_time", "late", "never")
OUTCOME_WEIGHTS = (0.65, 0.20, 0.15)
TRIGGERS = ("complaint_registered", "feedback_received", "escalation_needed")
TRIGGER_WEIGHTS = (0.35, 0.35, 0.30)


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


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10)
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
    for path in sorted(package.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
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
        "git": _git("describe", "--always", "--dirty"),
        "durable_rules": _version("durable_rules"),
        "pydantic": _version("pydantic"),
        "python_dateutil": _version("python-dateutil"),
        "holidays": _version("holidays"),
    }


def evaluate_facts(engine: tierrules.Engine, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The facts ``evaluate()`` posts for ``events``, rebuilt the way it builds them.

    This mirrors private code that changes; :class:`Facts` checks it against the facts
    ``evaluate()`` really posts and stops using it when they differ.
    """
    parsed = tierrules.parse_events(events)
    keyed = sorted(((e.at.astimezone(UTC), e.model_dump_json(), e) for e in parsed), key=lambda k: k[:2])
    ordered = [e for _, _, e in keyed]
    if _build_cases is None:
        return [_fact(e) for e in ordered]
    cases = _build_cases(ordered, None)
    return [_fact(e, cases.get(e.case_id) if e.case_id else None) for e in ordered]


def posted_facts(engine: tierrules.Engine, events: list[dict[str, Any]], now: dt.datetime) -> list[Any]:
    """The fact lists ``evaluate()`` passes to ``Engine._engine.match``, observed, not patched.

    A profile hook watches for the call of ``match`` and keeps its ``facts`` argument;
    nothing of the engine is replaced. Slow (every Python call hits the hook): used to
    check :func:`evaluate_facts` and as its fallback, never inside a timed region.
    """
    target = type(engine._engine).match.__code__
    seen: list[Any] = []

    def hook(frame: Any, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code is target:
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

    def __init__(self, engine: tierrules.Engine, check_every: int = 100) -> None:
        self.engine = engine
        self.check_every = check_every
        self.mode = "rebuilt"
        self.checked = 0
        self.mismatch: str | None = None

    def __call__(self, index: int, events: list[dict[str, Any]], now: dt.datetime) -> list[dict[str, Any]]:
        if self.mode == "observed":
            return self._observed(events, now)
        try:
            facts = evaluate_facts(self.engine, events)
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
            raise SystemExit(f"evaluate() called Engine._engine.match {len(seen)} times; expected once")
        return list(seen[0])

    def _switch(self, why: str) -> None:
        self.mode, self.mismatch = "observed", why
        print(f"  note: {why}; observing evaluate()'s facts for every case from now on", flush=True)


# --------------------------------------------------------------------------------------
# Reference: raw durable_rules on the same rules and facts
# --------------------------------------------------------------------------------------


class _IdleHost(de.Host):  # type: ignore[misc]
    """A Host without the dispatch/timer threads (they make delete_state crash)."""

    def _run(self) -> None:
        return None


class RawDurable:
    """The engine definition of a tierrules Engine, registered on a plain durable Host.

    Same rules, same facts, one session per case opened by a marker fact that fires an
    action (deleting a session in which no action ran segfaults), then deleted. No
    validation, no lock, no decision: the floor tierrules' matching cannot go below.
    """

    def __init__(self, engine: tierrules.Engine) -> None:
        from tierrules._compile import SESSION_MARKER_TYPE

        self.marker_type = SESSION_MARKER_TYPE
        self.hits: list[tuple[str, str]] = []
        definition = engine._compiled.engine_definition()
        hits = self.hits

        def action(rule_name: str) -> Callable[[Any], None]:
            def run(c: Any) -> None:  # one parameter: two would make it asynchronous
                hits.append((rule_name, c.m["id"]))

            return run

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
        self.sessions = 0

    def run_case(self, facts: list[dict[str, Any]]) -> int:
        """Post one case's facts to a fresh session; return the number of rule matches."""
        self.sessions += 1
        sid = f"r{self.sessions}"
        host, name = self.host, self.name
        self.hits.clear()
        try:  # noqa: SIM105 - try/except is cheaper than contextlib.suppress on this path
            host.assert_fact(name, {"id": "marker", "type": self.marker_type, "sid": sid})
        except de.MessageNotHandledException:
            pass
        if not self.hits:
            raise SystemExit("raw durable_rules: the marker fired no action; refusing to delete the session")
        for index, fact in enumerate(facts):
            try:  # noqa: SIM105 - try/except is cheaper than contextlib.suppress on this path
                host.assert_fact(name, {**fact, "id": str(index), "sid": sid})
            except de.MessageNotHandledException:
                pass  # no rule matched: normal flow
        host.delete_state(name, sid)
        return len(self.hits) - 1


# --------------------------------------------------------------------------------------
# The benchmark
# --------------------------------------------------------------------------------------


def bench_latency(
    engine: tierrules.Engine, n_events: int, calls: int, warmup: int, seed: int
) -> dict[str, Any]:
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


def bench_throughput(engine: tierrules.Engine, count: int, n_events: int, seed: int) -> dict[str, Any]:
    """evaluate() each generated case on its own; sum the time spent inside evaluate()."""
    evaluate = engine.evaluate
    inside = 0
    events_total = 0
    statuses: Counter[str] = Counter()
    types: Counter[str] = Counter()
    escalations = 0
    gc.collect()
    before = memory()
    wall0 = perf_ns()
    for events, now in cases(seed, count, n_events):
        t0 = perf_ns()
        decision = evaluate(events, now)
        inside += perf_ns() - t0
        events_total += len(events)
        types.update(e["type"] for e in events)
        for ob in decision.obligations:
            statuses[ob.status] += 1
        escalations += len(decision.escalations)
    wall = perf_ns() - wall0
    after = memory()
    return {
        "cases": count,
        "events_per_case": n_events,
        "events": events_total,
        "evaluate_seconds": inside / 1e9,
        "wall_seconds": wall / 1e9,
        "events_per_s": events_total / (inside / 1e9),
        "cases_per_s": count / (inside / 1e9),
        "us_per_case": inside / count / 1e3,
        "us_per_event": inside / events_total / 1e3,
        "memory_before": before,
        "memory_after": after,
        "workload": {
            "obligations": dict(sorted(statuses.items())),
            "obligations_per_case": sum(statuses.values()) / count,
            "escalations": escalations,
            "event_types": dict(types.most_common()),
        },
    }


def bench_breakdown(
    engine: tierrules.Engine, raw: RawDurable, count: int, n_events: int, seed: int
) -> dict[str, Any]:
    """Time parse_events, the fence's match, raw durable_rules and evaluate() on each case.

    The four are interleaved case by case so that load from other processes on a shared
    machine hits them alike. The facts posted to the fence and to raw durable_rules are the
    ones ``evaluate()`` posts (see :class:`Facts`), built outside the timed regions.
    """
    parse_events = tierrules.parse_events
    match = engine._engine.match
    evaluate = engine.evaluate
    facts_for = Facts(engine)
    t_parse = t_match = t_raw = t_eval = 0
    events_total = 0
    for index, (events, now) in enumerate(cases(seed, count, n_events)):
        t0 = perf_ns()
        parse_events(events)
        t1 = perf_ns()
        facts = facts_for(index, events, now)
        t2 = perf_ns()
        matched = match(facts)
        t3 = perf_ns()
        raw_matches = raw.run_case(facts)
        t4 = perf_ns()
        evaluate(events, now)
        t5 = perf_ns()
        t_parse += t1 - t0
        t_match += t3 - t2
        t_raw += t4 - t3
        t_eval += t5 - t4
        events_total += len(events)
        if raw_matches != sum(map(len, matched.values())):
            raise SystemExit(f"raw durable_rules and the fence disagree on {events[0]['case_id']}")
    rest = t_eval - t_parse - t_match
    return {
        "cases": count,
        "events": events_total,
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
        "raw": {
            "us_per_case": t_raw / count / 1e3,
            "us_per_event": t_raw / events_total / 1e3,
            "events_per_s": events_total / (t_raw / 1e9),
        },
        "tierrules_events_per_s": events_total / (t_eval / 1e9),
        # per-event cost of evaluate() / of raw durable_rules, timed side by side
        "ratio_tierrules_to_raw": t_eval / t_raw,
        # per-event cost of the fence alone / of raw durable_rules
        "ratio_fence_to_raw": t_match / t_raw,
    }


def print_report(result: dict[str, Any]) -> None:
    m = result["machine"]
    print()
    print("tierrules evaluate() benchmark")
    print(f"  machine   {m['platform']} | {m['cpu_model']} | {m['cpu_count']} CPUs | {m['python']}")
    print(f"  load avg  {' '.join(f'{x:.2f}' for x in m['loadavg_at_start'])} at start")
    rs = result["ruleset"]
    print(
        f"  ruleset   {rs['name']} {rs['version']}: {rs['deadline_rules']} deadline rules, "
        f"{rs['engine_rules']} durable_rules rules"
    )
    print(
        f"  versions  tierrules {m['tierrules']} ({m['git']}, src {m['tierrules_source_sha256']}), "
        f"durable_rules {m['durable_rules']}, pydantic {m['pydantic']}"
    )
    print()
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
    t = result["throughput"]
    print()
    print(f"2. throughput: {t['cases']:,} cases x {t['events_per_case']} events, one evaluate() per case")
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
    b, a = t["memory_before"], t["memory_after"]
    print()
    print("3. memory (MiB)                    before      after")
    print(f"  {'peak RSS (ru_maxrss)':<28} {b['ru_maxrss_mib']:>10.1f} {a['ru_maxrss_mib']:>10.1f}")
    print(f"  {'current RSS (VmRSS)':<28} {b['vmrss_mib']:>10.1f} {a['vmrss_mib']:>10.1f}")
    d = result["breakdown"]
    print()
    print(f"4. where the time goes ({d['cases']:,} of the same cases, timed separately)   µs/case   share")
    if d["facts"]["source"] != "rebuilt":
        print(f"  (facts observed from evaluate(): {d['facts']['mismatch']})")
    for label, key in (
        ("validation (parse_events)", "parse_events"),
        ("durable_rules fence (Engine._engine.match)", "match"),
        ("rest (sort, facts, deadlines, Decision)", "rest"),
    ):
        print(f"  {label:<48} {d[f'{key}_us_per_case']:>9.1f}  {d['share'][key]:>6.1%}")
    print(f"  {'evaluate() total':<48} {d['evaluate_us_per_case']:>9.1f}  {1:>6.1%}")
    r = d["raw"]
    print()
    print("5. reference: raw durable_rules, same rules and facts, one session per case")
    print(f"  {'raw events/s':<36} {r['events_per_s']:>10,.0f}   ({r['us_per_case']:.1f} µs/case)")
    print(
        f"  {'tierrules events/s (same pass)':<36} {d['tierrules_events_per_s']:>10,.0f}   "
        f"({d['evaluate_us_per_case']:.1f} µs/case)"
    )
    print(f"  {'tierrules / raw per-event cost':<36} {d['ratio_tierrules_to_raw']:>10.2f}x")
    print(f"  {'fence / raw per-event cost':<36} {d['ratio_fence_to_raw']:>10.2f}x")
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cases", type=int, default=None, help="ten-event cases for throughput (default 100000)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="small smoke run (2,000 cases, fewer latency calls)"
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=HERE / "results" / "latest.json",
        help="where to write results (default %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=20261124, help="workload seed (default %(default)s)")
    parser.add_argument(
        "--latency-calls", type=int, default=None, help="measured calls per size (default 3000)"
    )
    parser.add_argument(
        "--breakdown-cases",
        type=int,
        default=None,
        help="cases for the breakdown and raw reference (default: --cases)",
    )
    args = parser.parse_args(argv)
    count = args.cases if args.cases is not None else (2_000 if args.quick else 100_000)
    calls = args.latency_calls if args.latency_calls is not None else (300 if args.quick else 3_000)
    warmup = max(50, calls // 10)
    breakdown_count = min(args.breakdown_cases or count, count)
    if count < 1 or calls < 1:
        parser.error("--cases and --latency-calls must be positive")

    result: dict[str, Any] = {
        "benchmark": "tierrules.bench_evaluate",
        "started_at": dt.datetime.now(UTC).isoformat(timespec="seconds"),
        "argv": sys.argv[1:],
        "seed": args.seed,
        "quick": args.quick,
        "machine": machine(),
    }
    memory_at_start = memory()
    t_setup = perf_ns()
    engine = tierrules.Engine(tierrules.load_ruleset())
    raw = RawDurable(engine)
    result["setup_seconds"] = (perf_ns() - t_setup) / 1e9
    definition = engine._compiled.engine_definition()
    result["ruleset"] = {
        "name": engine.ruleset.name,
        "version": engine.ruleset.version,
        "deadline_rules": len(engine.ruleset.deadlines),
        "engine_rules": len(definition),  # durable_rules rules, the session marker included
    }
    result["memory_at_start"] = memory_at_start

    print(f"latency: {calls} calls after {warmup} warm-up, for 1, 10 and 100 events per case ...", flush=True)
    result["latency"] = [bench_latency(engine, n, calls, warmup, args.seed + n) for n in (1, 10, 100)]
    print(f"throughput: {count:,} ten-event cases ...", flush=True)
    result["throughput"] = bench_throughput(engine, count, 10, args.seed)
    print(f"breakdown and raw durable_rules reference: {breakdown_count:,} of the same cases ...", flush=True)
    result["breakdown"] = bench_breakdown(engine, raw, breakdown_count, 10, args.seed)
    result["memory_at_end"] = memory()
    result["finished_at"] = dt.datetime.now(UTC).isoformat(timespec="seconds")

    print_report(result)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
