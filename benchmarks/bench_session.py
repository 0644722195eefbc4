#!/usr/bin/env python3
"""Streaming a call through a ``tierrules.Session`` against one whole-call ``evaluate()`` (issue 13).

Run from a clone after ``python3 -m pip install -e .``::

    python benchmarks/bench_session.py                 # sizes 50..800, 100k-case memory pass: ~10 min
    python benchmarks/bench_session.py --quick         # sizes 50..200, 5k-case memory pass: ~1 min
    python benchmarks/bench_session.py --sizes 400 --memory-cases 0 --json /tmp/s.json

What it measures, for a phone call of N utterances (``case_opened``, ``call_answered``, N
utterances alternating agent and customer -- one agent turn in twenty with a forbidden
phrase -- and ``call_ended``; N = 50, 100, 200, 400, 800):

1. **whole**: one ``engine.evaluate(all events, now)`` of the finished call (median of
   ``--repeats`` runs, each on words the engine has not seen before) -- the issue's yardstick;
2. **stream**: the same call, in words no evaluation has seen either (the exactness check
   runs after the stream), appended one by one to a fresh session on a ``MemoryStore``
   (``now=None``: each append evaluates at the latest event), ``--streams`` times on new
   words each (the run of median total is reported): the total, the ratio to *whole* (the
   issue's target: at most 3x at N=400) in wall time and in CPU time, per-append p50 and p99 (target: p99
   under 2 ms at N=400), the share of the time spent inside ``Engine.evaluate``, and what
   the session adds per append outside it (validation, storing, the cache, what is new);
   and **alone**: the same stream with the engine stubbed to answer the finished call's
   decision at once -- the session's own cost per append, the floor under an incremental
   engine (mean and p99);
3. **durable**: the same stream on a ``SqliteStore`` file with ``synchronous=FULL`` (each
   append waits for its commit to reach the disk), in ``--db-dir`` (default: a temp dir);
4. **out of order**: the stream again on a ``MemoryStore`` with every 10th utterance held
   back and delivered 5 events late; p50/p99 of the late appends against the in-order ones;
5. **memory**: ``--memory-cases`` (100,000) cases opened one by one (each naming its own
   customer) through one session on a ``SqliteStore`` (``synchronous=NORMAL``, so the pass
   measures memory, not the disk) with the default cache of 1,024 cases; VmRSS after 1%,
   10%, 50% and 100% of them, and the cache's size.

Every stream's last decision is checked byte for byte against *whole*. It prints a table
and writes JSON (default ``benchmarks/results/session.json``; the directory is
git-ignored). A script, not a test: it asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

try:
    import tierrules
except ImportError:  # not installed: the source tree next to this script
    sys.path.insert(0, str(REPO / "src"))
    import tierrules

CST = dt.timezone(dt.timedelta(hours=8))
START = dt.datetime(2026, 11, 24, 9, 0, tzinfo=CST)
AGENT = [
    "您好，这里是星河银行，我是客服小李，很高兴为您服务。",
    "好的，我马上为您查询一下，请稍等。",
    "感谢您的耐心等待，您的卡片目前处于锁定状态。",
    "为了保障您的账户安全，请允许我核实您的身份信息。",
    "已经为您提交了解锁申请，预计两个小时内完成。",
]
CUSTOMER = ["我的卡被锁了，怎么办？", "大概什么时候能好？", "好的，谢谢。", "还需要我做什么吗？"]


def call(n: int, case_id: str = "CALL-1") -> list[dict[str, Any]]:
    """A phone call of ``n`` utterances, in time order."""

    def at(seconds: float) -> str:
        return (START + dt.timedelta(seconds=seconds)).isoformat()

    events: list[dict[str, Any]] = [
        {"type": "case_opened", "at": at(0), "case_id": case_id, "channel": "phone",
         "customer_id": "CU-1", "customer_name": "张伟", "customer_gender": "male",
         "agent_name": "小李", "organisation": "星河银行"},
        {"type": "call_answered", "at": at(8), "case_id": case_id, "rings": 2},
    ]  # fmt: skip
    for i in range(n):
        agent = i % 2 == 0
        text = AGENT[(i // 2) % len(AGENT)] if agent else CUSTOMER[(i // 2) % len(CUSTOMER)]
        if agent and i % 40 == 20:
            text = "这个我不知道，您自己看着办吧。"  # a forbidden phrase: a violation
        # Every turn's words are its own, as in a real call (no turn is normalised for free).
        text = f"{text[:-1]}（第{i + 1}句）{text[-1]}"
        events.append(
            {"type": "utterance", "at": at(10 + 6 * i), "case_id": case_id,
             "speaker": "agent" if agent else "customer", "text": text,
             "offset_seconds": 2 + 6 * i, "duration_seconds": 5}
        )  # fmt: skip
    events.append({"type": "call_ended", "at": at(12 + 6 * n), "case_id": case_id, "hung_up_by": "customer"})
    return events


def late(events: list[dict[str, Any]], every: int = 10, by: int = 5) -> tuple[list[dict[str, Any]], set[int]]:
    """Arrival order with every ``every``-th utterance held back ``by`` events; the late ones' positions."""
    order = list(range(len(events)))
    held = [i for i in range(2, len(events) - 1) if (i - 2) % every == every - 1]
    for i in held:
        order.remove(i)
        order.insert(min(order.index(i - 1) + 1 + by, len(order)), i)
    return [events[i] for i in order], {order.index(i) for i in held}


class TimedEngine(tierrules.Engine):
    """The engine, with the time spent inside ``evaluate`` added up."""

    spent_ns = 0

    def evaluate(self, events: Any, now: dt.datetime, *, memo: Any = None) -> tierrules.Decision:
        t0 = time.perf_counter_ns()
        try:
            return super().evaluate(events, now, memo=memo)
        finally:
            self.spent_ns += time.perf_counter_ns() - t0


class StubEngine(tierrules.Engine):
    """Answers every call with one precomputed decision: what the session costs by itself."""

    answer: tierrules.Decision | None = None

    def evaluate(self, events: Any, now: dt.datetime, *, memo: Any = None) -> tierrules.Decision:
        assert self.answer is not None
        return self.answer


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def variant(events: list[dict[str, Any]], tag: str) -> list[dict[str, Any]]:
    """The same call in words no evaluation has seen yet: the engine keeps what it worked out
    about words it has seen (the forbidden phrases of a turn's text), and a host's next call
    brings new ones. Every measured run gets its own ``tag``."""
    return [{**e, "text": f"{e['text']}[{tag}]"} if e["type"] == "utterance" else e for e in events]


def whole(engine: tierrules.Engine, events: list[dict[str, Any]], repeats: int) -> tuple[float, float]:
    """The median whole-call evaluate (wall, CPU seconds), each run on words it has not seen."""
    now = dt.datetime.fromisoformat(events[-1]["at"])
    times, cpu = [], []
    for r in range(repeats):
        fresh = variant(events, f"w{r}")
        c0, t0 = time.process_time(), time.perf_counter()
        engine.evaluate(fresh, now)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(times), statistics.median(cpu)


def expected(engine: tierrules.Engine, events: list[dict[str, Any]]) -> str:
    """What ``evaluate()`` gives for the finished call: a stream's last decision must be it."""
    return engine.evaluate(events, max(dt.datetime.fromisoformat(e["at"]) for e in events)).to_json()


def stream(engine: TimedEngine, arrivals: list[dict[str, Any]], store: tierrules.Store) -> dict[str, Any]:
    """Append every event (words not seen before); per-append wall times (ms), the engine's
    share, and the exactness check against ``evaluate()`` (run after, so as not to warm it)."""
    session = tierrules.Session(engine, store=store)
    engine.spent_ns = 0
    per: list[float] = []
    update = None
    c_all, t_all = time.process_time(), time.perf_counter()
    for event in arrivals:
        t0 = time.perf_counter_ns()
        update = session.append(event, now=None)
        per.append((time.perf_counter_ns() - t0) / 1e6)
    total = time.perf_counter() - t_all
    cpu = time.process_time() - c_all
    share = engine.spent_ns / 1e9 / total
    assert update is not None
    exact = update.decision.to_json() == expected(engine, arrivals)
    if not exact:
        raise SystemExit("the session's last decision differs from evaluate(): this is a bug")
    return {"total_s": total, "cpu_s": cpu, "per_ms": per, "engine_share": share, "exact": exact}


def median_stream(engine: TimedEngine, events: list[dict[str, Any]], runs: int) -> dict[str, Any]:
    """``runs`` in-memory streams, each on words not seen before: the one of median total time
    (the stream is measured like the whole call, as a median, not one run the VM may slow)."""
    found = sorted(
        (stream(engine, variant(events, f"memory{r}"), tierrules.MemoryStore()) for r in range(runs)),
        key=lambda s: s["total_s"],
    )
    middle = found[len(found) // 2]
    return {**middle, "cpu_s": statistics.median(s["cpu_s"] for s in found)}


def _summary(per: list[float]) -> dict[str, float]:
    return {"p50_ms": round(pct(per, 50), 3), "p99_ms": round(pct(per, 99), 3), "max_ms": round(max(per), 3)}


def floor(stub: StubEngine, events: list[dict[str, Any]], answer: tierrules.Decision) -> dict[str, float]:
    """The session alone: the same stream, the engine answering the finished call's decision at once."""
    stub.answer = answer
    session = tierrules.Session(stub)
    per = []
    for event in events:
        t0 = time.perf_counter_ns()
        session.append(event, now=None)
        per.append((time.perf_counter_ns() - t0) / 1e6)
    return {"mean_ms": round(statistics.fmean(per), 3), **_summary(per)}


def sizes_pass(
    engine: TimedEngine,
    sizes: Iterable[int],
    repeats: int,
    db_dir: Path,
    late_sizes: set[int],
    streams: int = 3,
) -> list[dict[str, Any]]:
    stub = StubEngine()
    rows = []
    for n in sizes:
        events = call(n)
        whole_s, whole_cpu = whole(engine, events, repeats)
        mem = median_stream(engine, events, streams)
        answer = tierrules.Decision.model_validate_json(expected(engine, variant(events, "memory0")))
        alone = floor(stub, events, answer)
        path = db_dir / f"call-{n}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        with tierrules.SqliteStore(path) as store:
            durable = stream(engine, variant(events, "sqlite"), store)
        row: dict[str, Any] = {
            "utterances": n,
            "events": len(events),
            "whole_ms": round(whole_s * 1000, 2),
            "stream_s": round(mem["total_s"], 3),
            "ratio": round(mem["total_s"] / whole_s, 1),
            # The same, in CPU time: what the machine's other work does not move.
            "whole_cpu_ms": round(whole_cpu * 1000, 2),
            "stream_cpu_s": round(mem["cpu_s"], 3),
            "cpu_ratio": round(mem["cpu_s"] / whole_cpu, 2),
            **_summary(mem["per_ms"]),
            "engine_share": round(mem["engine_share"], 3),
            # The session's own cost per append (outside Engine.evaluate): the floor of an incremental engine.
            "session_ms": round(mem["total_s"] * (1 - mem["engine_share"]) / len(events) * 1000, 3),
            "session_alone": alone,
            "durable_s": round(durable["total_s"], 3),
            "durable": _summary(durable["per_ms"]),
        }
        if n in late_sizes:
            arrivals, held = late(variant(events, "late"))
            ooo = stream(engine, arrivals, tierrules.MemoryStore())
            row["out_of_order"] = {
                "late_events": len(held),
                "stream_s": round(ooo["total_s"], 3),
                "late": _summary([t for i, t in enumerate(ooo["per_ms"]) if i in held]),
                "in_order": _summary([t for i, t in enumerate(ooo["per_ms"]) if i not in held]),
            }
        rows.append(row)
        print(_row_text(row), flush=True)
    return rows


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


def memory_pass(cases: int, db_dir: Path) -> dict[str, Any]:
    path = db_dir / "memory.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    marks = sorted({max(1, cases // 100), max(1, cases // 10), max(1, cases // 2), cases})
    out: dict[str, Any] = {"cases": cases, "rss_mb": {}, "seconds": {}}
    with tierrules.SqliteStore(path, synchronous="normal") as store:
        session = tierrules.Session(tierrules.Engine(), store=store)
        gc.collect()
        out["rss_before_mb"] = round(_rss_mb(), 1)
        t0 = time.perf_counter()
        for i in range(cases):
            at = (START + dt.timedelta(seconds=i)).isoformat()
            session.append({"type": "case_opened", "at": at, "case_id": f"case-{i}", "channel": "phone",
                            "customer_id": f"cu-{i}"}, now=None)  # fmt: skip
            if i + 1 in marks:
                gc.collect()
                out["rss_mb"][i + 1] = round(_rss_mb(), 1)
                out["seconds"][i + 1] = round(time.perf_counter() - t0, 1)
                print(
                    f"  memory: {i + 1:>7} open cases  RSS {out['rss_mb'][i + 1]:6.1f} MB  "
                    f"({out['seconds'][i + 1]:.0f} s)  cache {session.cache_info()}",
                    flush=True,
                )
        out["cache"] = session.cache_info()
    out["db_mb"] = round(path.stat().st_size / 2**20, 1)
    return out


def _row_text(r: dict[str, Any]) -> str:
    text = (
        f"{r['utterances']:>5} {r['whole_ms']:>9.2f} {r['stream_s'] * 1000:>11.1f} {r['ratio']:>7.1f}x "
        f"{r['cpu_ratio']:>6.2f}x "
        f"{r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['engine_share']:>7.0%} {r['session_ms']:>8.3f} "
        f"{r['session_alone']['mean_ms']:>7.3f}/{r['session_alone']['p99_ms']:<7.3f}"
        f"{r['durable_s'] * 1000:>11.1f} {r['durable']['p50_ms']:>8.2f} {r['durable']['p99_ms']:>8.2f}"
    )
    if "out_of_order" in r:
        o = r["out_of_order"]
        text += f"   late p50/p99 {o['late']['p50_ms']:.2f}/{o['late']['p99_ms']:.2f} ms"
    return text


HEADER = (
    "    N  whole ms  stream ms   ratio    cpu  p50 ms   p99 ms  engine  session   alone mean/p99"
    "  durable ms  d.p50 ms d.p99 ms\n"
    "      (evaluate)  (memory)  (/whole) ratio (per append)    share  ms/app.   (stub engine)"
    "    (SQLite FULL)"
)


def _machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "tierrules": tierrules.__version__,
        "commit": commit,
        "loadavg_before": os.getloadavg(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--sizes", default="50,100,200,400,800", help="utterances per call (comma-separated)")
    parser.add_argument("--late-sizes", default="100,400", help="sizes also streamed out of order")
    parser.add_argument("--repeats", type=int, default=5, help="runs of the whole-call evaluate (median)")
    parser.add_argument("--streams", type=int, default=3, help="in-memory streams per size (the median one)")
    parser.add_argument(
        "--memory-cases", type=int, default=100_000, help="open cases in the memory pass (0: skip)"
    )
    parser.add_argument(
        "--db-dir", type=Path, default=None, help="where the SQLite files go (default: a temp dir)"
    )
    parser.add_argument("--quick", action="store_true", help="sizes 50,100,200 and a 5,000-case memory pass")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "session.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.late_sizes, args.memory_cases = "50,100,200", "100", min(args.memory_cases, 5000)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    late_sizes = {int(s) for s in args.late_sizes.split(",") if s}
    db_dir = args.db_dir or Path(tempfile.mkdtemp(prefix="bench-session-"))
    db_dir.mkdir(parents=True, exist_ok=True)
    machine = _machine()
    engine = TimedEngine()
    print(f"{machine['cpu']} ({machine['cpus']} CPUs), load {machine['loadavg_before'][0]:.2f}, "
          f"commit {machine['commit'] or '?'}; SQLite files in {db_dir}\n{HEADER}", flush=True)  # fmt: skip
    rows = sizes_pass(engine, sizes, args.repeats, db_dir, late_sizes, args.streams)
    memory = memory_pass(args.memory_cases, db_dir) if args.memory_cases else None
    machine["loadavg_after"] = os.getloadavg()
    report = {"machine": machine, "sizes": rows, "memory": memory}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
