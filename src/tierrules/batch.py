"""Evaluate a large log of cases in parallel on Dask, with results identical to a serial run.

durable_rules is not thread-safe (tierrules fences it with one lock per process), so the
work is spread over worker *processes*: by default a :class:`distributed.LocalCluster`
on this machine with one single-threaded worker per CPU, or any running Dask cluster
given by the address of its scheduler (``tcp://host:8786``). Dask is the ``batch`` extra
(``pip install 'tierrules[batch]'``); without it, and for logs too small for workers to
pay off (:data:`IN_PROCESS_BELOW` cases), batches run in this process.

The ruleset travels with every task, as plain data (its ``model_dump`` as JSON text), and
each worker process builds one :class:`~tierrules.Engine` per ruleset, cached under a hash
of its content; the cases travel in chunks. A worker that dies takes nothing with it: its
chunks are submitted again and the next worker builds the engine from the data its task
carries. Every decision is rendered to JSON on the worker (``Decision.to_json(indent=None)``)
and the results come back in input order, byte for byte what
``Engine.evaluate(events, now).to_json(indent=None)`` gives in this process.

A case is one line of a JSON Lines case log, ``{"name": ..., "now": ..., "events": [...]}``
(the format ``tierrules diff --cases`` reads; ``name`` is optional):

>>> import json, pathlib, tempfile, tierrules
>>> from tierrules import batch
>>> log = pathlib.Path(tempfile.mkdtemp()) / "cases.jsonl"
>>> case = {"name": "c1 complaint", "now": "2026-11-24T17:45:00+08:00", "events": [
...     {"type": "complaint_registered", "at": "2026-11-24T17:30:00+08:00", "case_id": "c1"}]}
>>> _ = log.write_text(json.dumps(case) + "\\n")
>>> [result] = batch.evaluate_log(log, workers=1)      # one worker process on a LocalCluster
>>> result.name
'c1 complaint'
>>> [o.rule for o in result.decision.obligations]
['E2.complaint-reply', 'E9.complaint-resolution', 'E9.complaint-response']

``workers=0`` evaluates in this process, without Dask (the serial reference):

>>> batch.evaluate_log(log, workers=0) == [result]
True

Errors: a malformed event raises :class:`~tierrules.EventError` naming the case, with the
event's index and field kept from the original error; nothing is returned for the other
cases. When several cases are bad, the first in input order is reported, as in a serial run.
A batch that cannot finish (the rule engine failed on a case, a case kept killing its
workers, the cluster lost every worker) raises :class:`BatchError`, which keeps every
result that was computed.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import math
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .caselog import CaseRecord, case_error, read_cases
from .compiler.load import load_ruleset
from .decision import Decision
from .errors import MISSING, EngineError, EventError, Problem, TierrulesError
from .evaluation.engine import Engine
from .limits import DEFAULT_LIMITS, Limits
from .ruleset.model import Ruleset

if TYPE_CHECKING:
    from distributed import Client, Future

__all__ = [
    "IN_PROCESS_BELOW",
    "MAX_CHUNK_SIZE",
    "BatchError",
    "CaseResult",
    "Progress",
    "evaluate_cases",
    "evaluate_log",
    "open_client",
    "result_line",
]

MAX_CHUNK_SIZE = 500
"""The most cases one Dask task evaluates (the automatic chunk size is smaller for small logs)."""

IN_PROCESS_BELOW = 3000
"""With ``workers=None``, logs of fewer cases are evaluated in this process: starting a local
cluster and building an engine in each worker costs more than it saves below about this size
on two cores (``benchmarks/bench_batch_threshold.py``; docs/batch.md)."""

BATCH_EXTRA = "pip install 'tierrules[batch]'"

Progress = Callable[[int, int], None]
"""``progress(done, total)``: called with ``(0, total)`` first, then as cases complete."""

_CHUNKS_PER_WORKER = 4  # enough tasks that a slow chunk does not leave the other workers idle
_ENGINE_CACHE = 8  # rulesets a worker process keeps compiled
_WORKER_WAIT = 60.0  # seconds a cluster may be without workers before the batch gives up
_ATTEMPTS = 3  # submissions of a piece of work lost with its worker before it is given up
_POLL = 0.5  # seconds between looks at the cluster while waiting for results
_FETCH_WAIT = 10.0  # seconds to fetch a finished result before looking at the cluster again

_log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class CaseResult:
    """One case's outcome: its name and its decision as compact JSON.

    ``decision_json`` is exactly ``Engine.evaluate(events, now).to_json(indent=None)``;
    :attr:`decision` parses it back into a :class:`~tierrules.Decision` (on first use).
    """

    name: str
    decision_json: str

    @functools.cached_property
    def decision(self) -> Decision:
        """The decision as a model (equal to the serial one, field for field)."""
        return Decision.model_validate_json(self.decision_json)

    def to_json(self, *, indent: int | None = 2) -> str:
        """The decision as JSON text, the same bytes as ``Decision.to_json(indent=indent)``."""
        if indent is None:
            return self.decision_json
        return json.dumps(json.loads(self.decision_json), ensure_ascii=False, indent=indent)


class BatchError(EngineError):
    """A batch that could not evaluate every case; the results that were computed are kept.

    ``results`` holds one entry per input case, in input order: its :class:`CaseResult`, or
    None where it was not evaluated; ``failures`` maps those cases' names to the reason.
    """

    def __init__(
        self, message: str, results: Sequence[CaseResult | None], failures: Mapping[str, str]
    ) -> None:
        super().__init__(message)
        self.results: list[CaseResult | None] = list(results)
        self.failures: dict[str, str] = dict(failures)

    @property
    def completed(self) -> list[CaseResult]:
        """The results that were computed, in input order."""
        return [r for r in self.results if r is not None]


# --- on the workers ------------------------------------------------------------------------

_ENGINES: dict[str, Engine] = {}
_BUILDS: Counter[str] = Counter()  # engines built in this process, by ruleset hash (tests read it)


def _engine(key: str, text: str, ruleset: Ruleset | None = None) -> Engine:
    """This process's engine for a ruleset (its JSON text, or the model): built once, then reused."""
    engine = _ENGINES.get(key)
    if engine is None:
        engine = Engine(ruleset if ruleset is not None else load_ruleset(json.loads(text)))
        if len(_ENGINES) >= _ENGINE_CACHE:
            del _ENGINES[next(iter(_ENGINES))]
        _ENGINES[key] = engine
        _BUILDS[key] += 1
    return engine


def _engine_builds() -> dict[str, int]:
    """How many engines this process has built, per ruleset hash (for tests)."""
    return dict(_BUILDS)


def _worker_pid() -> int:
    """This worker's process id (for tests that kill workers)."""
    return os.getpid()


@dataclasses.dataclass(frozen=True)
class _Failure:
    """A case a chunk could not evaluate: its position in the chunk, and why.

    ``problems`` (already naming the case) for a bad case, which fails the whole batch;
    ``reason`` alone for a rule engine failure, which fails that case only.
    """

    position: int
    problems: tuple[Problem, ...] = ()
    reason: str = ""


def _decide(engines: Sequence[Engine], case: CaseRecord, limits: Limits) -> list[str]:
    out = []
    for engine in engines:
        text = engine.evaluate(case.events, case.now).to_json(indent=None)
        cap = limits.max_decision_bytes
        if cap is not None and len(text) > cap // 4 and len(text.encode("utf-8")) > cap:
            raise EngineError(
                f"its decision is {len(text.encode('utf-8')):,} bytes of JSON; at most {cap:,} "
                "(Limits.max_decision_bytes)"
            )
        out.append(text)
    return out


def _evaluate_chunk(
    keys: Sequence[str], texts: Sequence[str], cases: Sequence[CaseRecord], limits: Limits = DEFAULT_LIMITS
) -> tuple[list[list[str] | None], list[_Failure]]:
    """Evaluate cases under each ruleset (a Dask task, and the in-process loop).

    Stops at the first bad case (the batch fails on it); a case the rule engine fails on
    is a failure of that case only, and the chunk goes on.
    """
    engines = [_engine(key, text) for key, text in zip(keys, texts, strict=True)]
    out: list[list[str] | None] = []
    failures: list[_Failure] = []
    for position, case in enumerate(cases):
        try:
            out.append(_decide(engines, case, limits))
        except EventError as err:
            # Problem.value may be the MISSING sentinel, which does not survive pickling;
            # the named problems carry the value in their message and never set it.
            failures.append(_Failure(position, case_error(case.name, err.problems).problems))
            return out, failures
        except TierrulesError as err:
            out.append(None)
            failures.append(_Failure(position, reason=f"{type(err).__name__}: {err}"))
    return out, failures


# --- on the client -------------------------------------------------------------------------


def _ruleset_data(ruleset: Ruleset) -> tuple[str, str]:
    """The ruleset as JSON text, and a hash of its content (the engines' cache key)."""
    data = ruleset.model_dump(mode="json")
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest(), text


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def dask_available() -> bool:
    """Whether ``dask.distributed`` can be imported (the ``batch`` extra is installed)."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


def _require_dask(what: str) -> None:
    try:
        import distributed  # noqa: F401
    except ImportError as err:
        raise EngineError(
            f"{what} needs Dask, which is not installed ({err.name or err}): {BATCH_EXTRA}; "
            "or evaluate in this process (workers=0, --workers 0)"
        ) from None


@contextmanager
def open_client(workers: int | None = None, address: str | None = None) -> Iterator[Client]:
    """A Dask client, closed (with the cluster it started) on exit.

    With ``address`` it connects to that scheduler (``tcp://host:8786``) and leaves the
    cluster running; otherwise it starts a :class:`distributed.LocalCluster` of
    ``workers`` single-threaded worker processes (default: one per CPU). Keep one open to
    run several batches without starting workers each time. Needs the ``batch`` extra.

    >>> from tierrules import batch
    >>> with batch.open_client(workers=1) as client:
    ...     len(client.scheduler_info()["workers"])
    1
    """
    _require_dask("a Dask client")
    from distributed import Client, LocalCluster

    if address is not None:
        try:
            client = Client(address)  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError) as err:
            raise EngineError(f"cannot reach the Dask scheduler at {address}: {err}") from None
        with client:
            try:
                client.wait_for_workers(1, timeout=_WORKER_WAIT)
            except TimeoutError:
                raise EngineError(
                    f"the Dask cluster at {address} has no worker (waited {_WORKER_WAIT:.0f} s)"
                ) from None
            yield client
        return
    if workers is not None and workers < 1:
        raise ValueError(f"a local cluster needs at least one worker, got workers={workers}")
    import dask.config

    # The workers' statistical profiler samples every thread's stack every 10 ms; on
    # short CPU-bound tasks it costs a few percent and nothing here reads it.
    count = workers if workers is not None else _cpu_count()
    with dask.config.set({"distributed.worker.profile.enabled": False}), _starting(count):
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=count,
            threads_per_worker=1,  # one engine lock per process: threads would only queue
            processes=True,
            host="127.0.0.1",
            dashboard_address=":0",  # any free port: several clusters may run at once
            # Lost workers are handled and reported here; Dask's own logs of them would only
            # repeat that on stderr ("Couldn't gather keys", "Worker ... died").
            silence_logs=logging.CRITICAL,
        )
    with cluster, Client(cluster) as client:  # type: ignore[no-untyped-call]
        yield client


@contextmanager
def _starting(count: int) -> Iterator[None]:
    """Starting a local cluster: a worker that dies while it starts is an EngineError."""
    try:
        yield
    except (RuntimeError, OSError, TimeoutError) as err:  # "Nanny failed to start", ...
        raise EngineError(f"could not start {count} local Dask worker process(es): {err}") from None


def _chunk_size(count: int, workers: int, chunk_size: int | None) -> int:
    if chunk_size is not None:
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
        return chunk_size
    return max(1, min(MAX_CHUNK_SIZE, math.ceil(count / (workers * _CHUNKS_PER_WORKER))))


class _LostError(Exception):
    """A piece of work whose result did not arrive."""


@dataclasses.dataclass(frozen=True)
class _Piece:
    """A run of consecutive cases submitted as one task, and how often it was submitted."""

    start: int
    end: int
    attempt: int = 1


class _Run:
    """One batch on a Dask client: submits pieces, collects results, resubmits what workers lost."""

    def __init__(
        self,
        client: Client,
        cases: Sequence[CaseRecord],
        rulesets: Sequence[Ruleset],
        limits: Limits,
        progress: Progress | None,
    ) -> None:
        self.client = client
        self.cases = cases
        keyed = [_ruleset_data(r) for r in rulesets]
        # Each task carries the ruleset (tens of KB): nothing a dead worker held is needed.
        self.keys = [key for key, _ in keyed]
        self.texts = [text for _, text in keyed]
        self.limits = limits
        self.progress = progress
        self.results: list[list[str] | None] = [None] * len(cases)
        self.failures: dict[int, str] = {}  # case position -> why it was not evaluated
        self.bad: tuple[int, tuple[Problem, ...]] | None = None  # the first bad case seen
        self.pending: dict[Future[Any], _Piece] = {}
        self.done = 0

    def submit(self, piece: _Piece) -> None:
        future = self.client.submit(
            _evaluate_chunk,
            self.keys,
            self.texts,
            list(self.cases[piece.start : piece.end]),
            self.limits,
            pure=False,
        )
        self.pending[future] = piece

    def run(self, size: int) -> list[list[str] | None]:
        for start in range(0, len(self.cases), size):
            self.submit(_Piece(start, min(start + size, len(self.cases))))
        self.report()
        from distributed import wait

        idle_since: float | None = None
        try:
            while self.pending:
                try:
                    finished, _ = wait(  # type: ignore[no-untyped-call]
                        list(self.pending), timeout=_POLL, return_when="FIRST_COMPLETED"
                    )
                except TimeoutError:
                    finished = set()
                for future in finished:
                    # A bad case met in this round may have cancelled later work finished too.
                    piece = self.pending.pop(future, None)
                    if piece is not None:
                        self.collect(future, piece)
                idle_since = self.check_workers(idle_since) if not finished else None
        finally:
            if self.pending:
                self.client.cancel(list(self.pending))  # type: ignore[no-untyped-call]
        return self.results

    def collect(self, future: Future[Any], piece: _Piece) -> None:
        # Our tasks return their errors: anything raised is the cluster's (a worker lost,
        # KilledWorker after Dask's own retries, a lost connection) or a worker-side crash.
        # A finished result can still be lost with its worker before it is fetched.
        try:
            if future.status == "cancelled":
                raise _LostError("its worker was lost")
            out, failures = future.result(timeout=_FETCH_WAIT)
        except TimeoutError:
            self.pending[future] = piece  # lost before it was fetched, and being computed again
            return
        except Exception as error:
            self.retry(
                piece, str(error) if isinstance(error, _LostError) else f"{type(error).__name__}: {error}"
            )
            return
        self.accept(piece, out, failures)

    def retry(self, piece: _Piece, reason: str) -> None:
        _log.info("cases %d-%d: %s (attempt %d)", piece.start, piece.end - 1, reason, piece.attempt)
        if piece.attempt < _ATTEMPTS:
            if piece.end - piece.start > 1 and piece.attempt > 1:
                # Lost twice: go case by case, so one case that kills workers fails alone.
                for start in range(piece.start, piece.end):
                    self.submit(_Piece(start, start + 1, piece.attempt + 1))
            else:
                self.submit(dataclasses.replace(piece, attempt=piece.attempt + 1))
            return
        for position in range(piece.start, piece.end):
            self.failures[position] = f"not evaluated after {_ATTEMPTS} attempts ({reason})"

    def accept(self, piece: _Piece, out: list[list[str] | None], failures: list[_Failure]) -> None:
        for offset, rendered in enumerate(out):
            self.results[piece.start + offset] = rendered
        for failure in failures:
            position = piece.start + failure.position
            if failure.problems:
                if self.bad is None or position < self.bad[0]:
                    self.bad = (position, failure.problems)
                    self.cancel_after(position)
            else:
                self.failures[position] = failure.reason
        self.done += len(out)
        self.report()

    def cancel_after(self, position: int) -> None:
        """A bad case fails the batch: work after it is not needed (what comes before is, to
        find the first bad case in input order)."""
        later = [f for f, piece in self.pending.items() if piece.start > position]
        for future in later:
            del self.pending[future]
        if later:
            self.client.cancel(later)  # type: ignore[no-untyped-call]

    def check_workers(self, idle_since: float | None) -> float | None:
        """Give up when the cluster has had no worker for _WORKER_WAIT seconds."""
        if self.client.nthreads():  # type: ignore[no-untyped-call]
            return None
        now = time.monotonic()
        if idle_since is None:
            return now
        if now - idle_since > _WORKER_WAIT:
            for piece in self.pending.values():
                for position in range(piece.start, piece.end):
                    self.failures[position] = f"the Dask cluster had no worker for {_WORKER_WAIT:.0f} s"
            self.client.cancel(list(self.pending))  # type: ignore[no-untyped-call]
            self.pending.clear()
        return idle_since

    def report(self) -> None:
        if self.progress is not None:
            self.progress(self.done, len(self.cases))


def _finish(
    cases: Sequence[CaseRecord],
    results: Sequence[list[str] | None],
    failures: Mapping[int, str],
    bad: tuple[int, tuple[Problem, ...]] | None,
) -> list[list[str]]:
    """The results, or the error: the first bad case, else a BatchError keeping what was computed
    (under the first ruleset)."""
    if bad is not None:
        raise EventError([dataclasses.replace(p, value=MISSING) for p in bad[1]]) from None
    padded = [*results, *[None] * (len(cases) - len(results))]
    missing = sorted(set(failures) | {i for i, r in enumerate(padded) if r is None})
    if not missing:
        return [r for r in padded if r is not None]
    raise _batch_error(cases, padded, failures, missing)


def _batch_error(
    cases: Sequence[CaseRecord],
    results: Sequence[list[str] | None],
    failures: Mapping[int, str],
    missing: Sequence[int],
) -> BatchError:
    """The error for cases that could not be evaluated, keeping the others' results."""
    reasons = {cases[i].name: failures.get(i, "not evaluated") for i in missing}
    shown = "; ".join(f"{name}: {why}" for name, why in list(reasons.items())[:5])
    more = f" (and {len(missing) - 5} more)" if len(missing) > 5 else ""
    kept = [
        CaseResult(c.name, out[0]) if out is not None else None for c, out in zip(cases, results, strict=True)
    ]
    return BatchError(
        f"{len(missing)} of {len(cases)} cases could not be evaluated; the other "
        f"{len(cases) - len(missing)} results are kept: {shown}{more}",
        kept,
        reasons,
    )


# Case by case in input order, as _Run.accept does per piece: the first bad case ends it, progress each case.
def _in_process(
    cases: Sequence[CaseRecord], rulesets: Sequence[Ruleset], limits: Limits, progress: Progress | None
) -> list[list[str]]:
    keyed = [_ruleset_data(r) for r in rulesets]
    for (key, _), ruleset in zip(keyed, rulesets, strict=True):
        _engine(key, "", ruleset)  # this process's engine for it, built from the model at hand
    keys, texts = [k for k, _ in keyed], [t for _, t in keyed]
    results: list[list[str] | None] = []
    failures: dict[int, str] = {}
    if progress is not None:
        progress(0, len(cases))
    for position, case in enumerate(cases):
        out, found = _evaluate_chunk(keys, texts, [case], limits)
        for failure in found:
            if failure.problems:
                return _finish(cases, results, failures, (position, failure.problems))
            failures[position] = failure.reason
        results.append(out[0] if out else None)
        if progress is not None:
            progress(position + 1, len(cases))
    return _finish(cases, results, failures, None)


def _plan(count: int, workers: int | None, address: str | None) -> str:
    """Where a batch runs without a given client: "process", or "dask"."""
    if address is not None:
        _require_dask(f"evaluating on the Dask cluster at {address}")
        return "dask"
    if workers == 0:
        return "process"
    if workers is None:
        small = count < IN_PROCESS_BELOW or _cpu_count() < 2
        return "process" if small or not dask_available() else "dask"
    _require_dask(f"evaluating on {workers} local worker process(es)")
    return "dask"


def evaluate_json(
    cases: Sequence[CaseRecord],
    rulesets: Sequence[Ruleset],
    *,
    workers: int | None = None,
    address: str | None = None,
    client: Client | None = None,
    chunk_size: int | None = None,
    limits: Limits | None = None,
    progress: Progress | None = None,
) -> list[list[str]]:
    """Each case's decision JSON under each ruleset, in input order (``tierrules diff`` uses it).

    Raises :class:`~tierrules.EventError` for the first bad case, :class:`BatchError` when
    some cases could not be evaluated (its results are the first ruleset's).
    """
    chosen = limits if limits is not None else DEFAULT_LIMITS
    if client is None and _plan(len(cases), workers, address) == "process":
        return _in_process(cases, rulesets, chosen, progress)
    if not cases:
        if progress is not None:
            progress(0, 0)
        return []
    if client is not None:
        return _dask(client, cases, rulesets, chunk_size, chosen, progress)
    with open_client(workers, address) as opened:
        return _dask(opened, cases, rulesets, chunk_size, chosen, progress)


def _dask(
    client: Client,
    cases: Sequence[CaseRecord],
    rulesets: Sequence[Ruleset],
    chunk_size: int | None,
    limits: Limits,
    progress: Progress | None,
) -> list[list[str]]:
    run = _Run(client, cases, rulesets, limits, progress)
    size = _chunk_size(len(cases), max(1, len(client.nthreads())), chunk_size)  # type: ignore[no-untyped-call]
    results = run.run(size)
    return _finish(cases, results, run.failures, run.bad)


def evaluate_cases(
    cases: Sequence[CaseRecord],
    *,
    ruleset: Ruleset | None = None,
    workers: int | None = None,
    address: str | None = None,
    client: Client | None = None,
    chunk_size: int | None = None,
    limits: Limits | None = None,
    progress: Progress | None = None,
) -> list[CaseResult]:
    """Evaluate every case (``CaseRecord(name, events, now)``) and return the results in input order.

    - ``ruleset``: the ruleset to enforce (default: the bundled policy). Workers receive it
      as data; they need tierrules installed (the same version), not the ruleset files.
    - ``client``: a running :class:`distributed.Client` to use (left open), for instance
      from :func:`open_client`; else
    - ``address``: the scheduler of a running Dask cluster, ``tcp://host:8786``; else
    - ``workers``: start a local cluster of that many worker processes for this call;
      ``workers=0`` evaluates in this process; ``None`` (the default) evaluates in this
      process below :data:`IN_PROCESS_BELOW` cases, on one CPU, or without Dask installed,
      and on one local worker per CPU otherwise.
    - ``chunk_size``: cases per Dask task (default: about four tasks per worker, at most
      :data:`MAX_CHUNK_SIZE`).
    - ``limits``: :class:`~tierrules.Limits` for each case (default: the documented ones).
    - ``progress``: ``progress(done, total)``, called with ``(0, total)`` first and then as
      cases complete (per case in this process, per chunk on Dask), in this process.

    Raises :class:`~tierrules.EventError` naming the first bad case, in input order, and
    :class:`BatchError` (with the computed results) when some cases could not be evaluated.

    >>> import datetime as dt, tierrules
    >>> from tierrules import batch
    >>> now = dt.datetime.fromisoformat("2026-11-24T17:45:00+08:00")
    >>> broken = [{"type": "complaint_registered", "at": "yesterday", "case_id": "c"}]
    >>> bad = tierrules.CaseRecord("broken", broken, now)
    >>> batch.evaluate_cases([bad], workers=0)
    Traceback (most recent call last):
    ...
    tierrules.errors.EventError: invalid event at index 0: $[0].at: case broken: $[0].at: ...
    """
    chosen = [ruleset if ruleset is not None else load_ruleset()]
    rendered = evaluate_json(
        cases,
        chosen,
        workers=workers,
        address=address,
        client=client,
        chunk_size=chunk_size,
        limits=limits,
        progress=progress,
    )
    return [CaseResult(case.name, out[0]) for case, out in zip(cases, rendered, strict=True)]


def evaluate_log(
    path: str | Path,
    *,
    ruleset: Ruleset | None = None,
    workers: int | None = None,
    address: str | None = None,
    client: Client | None = None,
    chunk_size: int | None = None,
    limits: Limits | None = None,
    progress: Progress | None = None,
) -> list[CaseResult]:
    """:func:`evaluate_cases` over a JSON Lines case log (or a directory of them).

    Each line is ``{"name": ..., "now": ..., "events": [...]}``; a line without a name is
    called ``<file name>:<line>``. A malformed line, or a case name used twice, raises
    :class:`~tierrules.EventError` naming the file and the line before anything is evaluated.
    """
    cases = read_cases(Path(path))
    return evaluate_cases(
        cases,
        ruleset=ruleset,
        workers=workers,
        address=address,
        client=client,
        chunk_size=chunk_size,
        limits=limits,
        progress=progress,
    )


def result_line(result: CaseResult) -> str:
    """One line of ``tierrules evaluate --batch`` output: ``{"name": ..., "decision": {...}}``."""
    return f'{{"name": {json.dumps(result.name, ensure_ascii=False)}, "decision": {result.decision_json}}}'
