"""Evaluate a large log of cases in parallel on Dask, with results identical to a serial run.

durable_rules is not thread-safe (tierrules fences it with one lock per process), so the
work is spread over worker *processes*: by default a :class:`distributed.LocalCluster`
on this machine with one single-threaded worker per CPU, or any running Dask cluster
given by the address of its scheduler (``tcp://host:8786``).

The ruleset travels to the workers once, as plain data (its ``model_dump``), and each
worker process builds one :class:`~tierrules.Engine` per ruleset, cached under a hash of
its content; the cases travel in chunks. Every decision is rendered to JSON on the worker
(``Decision.to_json(indent=None)``) and the results come back in input order, byte for byte
what ``Engine.evaluate(events, now).to_json(indent=None)`` gives in this process.

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
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import math
import os
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .caselog import CaseRecord, case_error, read_cases
from .compiler.load import load_ruleset
from .decision import Decision
from .errors import MISSING, EngineError, EventError, Problem
from .evaluation.engine import Engine
from .ruleset.model import Ruleset

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "MAX_CHUNK_SIZE",
    "CaseResult",
    "evaluate_cases",
    "evaluate_log",
    "open_client",
    "result_line",
]

MAX_CHUNK_SIZE = 500
"""The most cases one Dask task evaluates (the automatic chunk size is smaller for small logs)."""

_CHUNKS_PER_WORKER = 4  # enough tasks that a slow chunk does not leave the other workers idle
_ENGINE_CACHE = 8  # rulesets a worker process keeps compiled
_WORKER_WAIT = 60.0  # seconds to wait for a remote cluster to have a worker


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


# --- on the workers ------------------------------------------------------------------------

_ENGINES: dict[str, Engine] = {}
_BUILDS: Counter[str] = Counter()  # engines built in this process, by ruleset hash (tests read it)


def _engine(key: str, data: Mapping[str, Any]) -> Engine:
    """This process's engine for a ruleset: built (compiled) once, then reused."""
    engine = _ENGINES.get(key)
    if engine is None:
        engine = Engine(load_ruleset(data))
        if len(_ENGINES) >= _ENGINE_CACHE:
            del _ENGINES[next(iter(_ENGINES))]
        _ENGINES[key] = engine
        _BUILDS[key] += 1
    return engine


def _engine_builds() -> dict[str, int]:
    """How many engines this process has built, per ruleset hash (for tests)."""
    return dict(_BUILDS)


@dataclasses.dataclass(frozen=True)
class _Failure:
    """A bad case in a chunk: its position and its problems, already naming the case."""

    position: int
    problems: tuple[Problem, ...]


def _evaluate_chunk(
    keys: Sequence[str], cases: Sequence[CaseRecord], *rulesets: Mapping[str, Any]
) -> tuple[list[list[str]], _Failure | None]:
    """Evaluate cases under each ruleset; stops at the first bad case (a Dask task)."""
    engines = [_engine(key, data) for key, data in zip(keys, rulesets, strict=True)]
    out: list[list[str]] = []
    for position, case in enumerate(cases):
        try:
            out.append([e.evaluate(case.events, case.now).to_json(indent=None) for e in engines])
        except EventError as err:
            # Problem.value may be the MISSING sentinel, which does not survive pickling;
            # the named problems carry the value in their message and never set it.
            return out, _Failure(position, case_error(case.name, err.problems).problems)
    return out, None


# --- on the client -------------------------------------------------------------------------


def _ruleset_data(ruleset: Ruleset) -> tuple[str, dict[str, Any]]:
    """The ruleset as plain data, and a hash of its content (the engines' cache key)."""
    data = ruleset.model_dump(mode="json")
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest(), data


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextmanager
def open_client(workers: int | None = None, address: str | None = None) -> Iterator[Client]:
    """A Dask client, closed (with the cluster it started) on exit.

    With ``address`` it connects to that scheduler (``tcp://host:8786``) and leaves the
    cluster running; otherwise it starts a :class:`distributed.LocalCluster` of
    ``workers`` single-threaded worker processes (default: one per CPU). Keep one open to
    run several batches without starting workers each time:

    >>> from tierrules import batch
    >>> with batch.open_client(workers=1) as client:
    ...     len(client.scheduler_info()["workers"])
    1
    """
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
    with dask.config.set({"distributed.worker.profile.enabled": False}):
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers if workers is not None else _cpu_count(),
            threads_per_worker=1,  # one engine lock per process: threads would only queue
            processes=True,
            host="127.0.0.1",
            dashboard_address=":0",  # any free port: several clusters may run at once
            silence_logs=logging.ERROR,
        )
    with cluster, Client(cluster) as client:  # type: ignore[no-untyped-call]
        yield client


def _chunk_size(count: int, workers: int, chunk_size: int | None) -> int:
    if chunk_size is not None:
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
        return chunk_size
    return max(1, min(MAX_CHUNK_SIZE, math.ceil(count / (workers * _CHUNKS_PER_WORKER))))


def _on_client(
    client: Client, cases: Sequence[CaseRecord], rulesets: Sequence[Ruleset], chunk_size: int | None
) -> list[list[str]]:
    keyed = [_ruleset_data(r) for r in rulesets]
    keys = [key for key, _ in keyed]
    # Once to every worker; a list, because a dict given to scatter would go key by key.
    shipped = client.scatter([data for _, data in keyed], broadcast=True, hash=False)  # type: ignore[no-untyped-call]
    size = _chunk_size(len(cases), max(1, len(client.scheduler_info()["workers"])), chunk_size)
    futures = [
        client.submit(_evaluate_chunk, keys, list(cases[i : i + size]), *shipped, pure=False)
        for i in range(0, len(cases), size)
    ]
    out: list[list[str]] = []
    try:
        for start, future in zip(range(0, len(cases), size), futures, strict=True):
            done, failure = future.result()
            if failure is not None:
                raise EventError([dataclasses.replace(p, value=MISSING) for p in failure.problems]) from None
            out.extend(done)
            if len(done) != len(cases[start : start + size]):  # pragma: no cover - a worker bug
                raise EngineError(f"a worker returned {len(done)} results for a chunk at case {start}")
    finally:
        client.cancel([*futures, *shipped])  # type: ignore[no-untyped-call]
    return out


def _in_process(cases: Sequence[CaseRecord], rulesets: Sequence[Ruleset]) -> list[list[str]]:
    engines = [Engine(r) for r in rulesets]
    out = []
    for case in cases:
        try:
            out.append([e.evaluate(case.events, case.now).to_json(indent=None) for e in engines])
        except EventError as err:
            raise case_error(case.name, err.problems) from None
    return out


def evaluate_json(
    cases: Sequence[CaseRecord],
    rulesets: Sequence[Ruleset],
    *,
    workers: int | None = None,
    address: str | None = None,
    client: Client | None = None,
    chunk_size: int | None = None,
) -> list[list[str]]:
    """Each case's decision JSON under each ruleset, in input order (``tierrules diff`` uses it)."""
    if client is not None:
        return _on_client(client, cases, rulesets, chunk_size)
    if address is None and workers == 0:
        return _in_process(cases, rulesets)
    if not cases:
        return []
    with open_client(workers, address) as opened:
        return _on_client(opened, cases, rulesets, chunk_size)


def evaluate_cases(
    cases: Sequence[CaseRecord],
    *,
    ruleset: Ruleset | None = None,
    workers: int | None = None,
    address: str | None = None,
    client: Client | None = None,
    chunk_size: int | None = None,
) -> list[CaseResult]:
    """Evaluate every case (``CaseRecord(name, events, now)``) and return the results in input order.

    - ``ruleset``: the ruleset to enforce (default: the bundled policy). Workers receive it
      as data; they need tierrules installed (the same version), not the ruleset files.
    - ``client``: a running :class:`distributed.Client` to use (left open), for instance
      from :func:`open_client`; else
    - ``address``: the scheduler of a running Dask cluster, ``tcp://host:8786``; else
    - ``workers``: start a local cluster of that many worker processes for this call
      (``None``: one per CPU). ``workers=0`` evaluates in this process, without Dask.
    - ``chunk_size``: cases per Dask task (default: about four tasks per worker, at most
      :data:`MAX_CHUNK_SIZE`).

    Raises :class:`~tierrules.EventError` naming the first bad case, in input order.

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
        cases, chosen, workers=workers, address=address, client=client, chunk_size=chunk_size
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
) -> list[CaseResult]:
    """:func:`evaluate_cases` over a JSON Lines case log (or a directory of them).

    Each line is ``{"name": ..., "now": ..., "events": [...]}``; a line without a name is
    called ``<file name>:<line>``. A malformed line raises :class:`~tierrules.EventError`
    naming the file and the line before anything is evaluated.
    """
    cases = read_cases(Path(path))
    return evaluate_cases(
        cases, ruleset=ruleset, workers=workers, address=address, client=client, chunk_size=chunk_size
    )


def result_line(result: CaseResult) -> str:
    """One line of ``tierrules evaluate --batch`` output: ``{"name": ..., "decision": {...}}``."""
    return f'{{"name": {json.dumps(result.name, ensure_ascii=False)}, "decision": {result.decision_json}}}'
