"""A FastAPI service: events in over HTTP, each answered with its case's decision and what is new.

Run it from the repository root (``pip install -e ".[service]"``)::

    uvicorn examples.service.app:app                              # cases in memory
    TIERRULES_DB=cases.db uvicorn examples.service.app:app        # a SQLite file
    TIERRULES_DB=postgresql://app@db/cases uvicorn examples.service.app:app

Endpoints (see README.md here):

``POST /events[?now=ISO]``
    One event (a JSON object) or a list of them, appended in order. Answers the update --
    ``{"case_id", "seq", "now", "new", "decision", ...}``, ``Update.to_dict()`` -- or a
    list of updates. ``now`` defaults to the stream's own clock: the latest ``at`` of the
    case's events. A list is validated whole before anything is stored.
``GET /cases/{case_id}/decision[?now=ISO]``
    The case's decision, the engine's own JSON; ``now`` defaults to the server's clock.
``POST /cases/{case_id}/close``
    Archive the case (it takes no more events; the worker stops waking it).

Bad input is HTTP 422 with the located problems, an unknown case 404::

    {"error": {"kind": "refused", "message": "...",
               "problems": [{"json_path": "$.severity", "message": "...", "value": "hot"}]}}

Every session call goes through one :class:`~tierrules.aio.AsyncSession` (one worker
thread: the loop never blocks, appends run in arrival order); every update is handed to a
:class:`~examples.service.worker.Worker`, which refreshes the case at its ``next_check_at``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import re
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

import tierrules
from tierrules import Engine, EngineError, EventError, Problem, Session, Store, StoreError
from tierrules.aio import AsyncSession
from tierrules.errors import MISSING

from .worker import Clock, OnNew, RealClock, Worker, log_json

__all__ = ["ENV_DB", "app", "create_app", "store_from_env"]

ENV_DB = "TIERRULES_DB"

# "+08:00" in a query string that was not URL-encoded arrives as " 08:00".
_UNENCODED_PLUS = re.compile(r" (\d{2}(?::?\d{2})?)$")


def store_from_env(db: str | None = None) -> Store:
    """The store ``$TIERRULES_DB`` names: a SQLite path, a ``postgresql://`` URL, or memory when unset."""
    db = os.environ.get(ENV_DB, "") if db is None else db
    if not db:
        return tierrules.MemoryStore()
    if db.startswith(("postgresql://", "postgres://")):
        return tierrules.PostgresStore(db)
    return tierrules.SqliteStore(db)


# ---------------------------------------------------------------------------- errors as JSON


def _problem_json(problem: Problem) -> dict[str, Any]:
    out: dict[str, Any] = {"json_path": problem.json_path, "message": problem.message}
    if problem.has_value:
        try:
            out["value"] = jsonable_encoder(problem.value)
        except (TypeError, ValueError):
            out["value"] = repr(problem.value)
    if problem.suggestion:
        out["suggestion"] = problem.suggestion
    return out


def _error(
    status: int, kind: str, message: str, problems: Sequence[Problem] = (), **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {"kind": kind, "message": message}
    if problems:
        body["problems"] = [_problem_json(p) for p in problems]
    return JSONResponse({"error": body, **extra}, status_code=status)


class RefusedError(Exception):
    """Events refused by ``POST /events``: the problems located in the request body, and the
    updates of the events of a list stored before the refused one."""

    def __init__(self, problems: Sequence[Problem], applied: list[dict[str, Any]]) -> None:
        super().__init__(str(EventError(problems)))  # worded for where the problems are now
        self.problems = problems
        self.applied = applied


def _in_body(problems: Sequence[Problem], index: int | None) -> list[Problem]:
    """Problems of the event at ``index`` of the body (None: the body is that one event).

    tierrules locates a problem of one event at ``$[0].field``; in a list body it is
    ``$[index].field``, in a one-event body ``$.field``. Other paths (``now``) are kept.
    """
    out = []
    for p in problems:
        path = p.absolute_path
        if path and isinstance(path[0], int):
            path = path[1:] if index is None else (index, *path[1:])
        out.append(replace(p, absolute_path=path))
    return out


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RefusedError)
    async def refused(request: Request, exc: RefusedError) -> JSONResponse:
        extra = {"applied": exc.applied} if exc.applied else {}
        return _error(422, "refused", str(exc), exc.problems, **extra)

    @app.exception_handler(EventError)
    async def event_error(request: Request, exc: EventError) -> JSONResponse:
        # On /cases/{case_id}/...: a problem on the case id is "no such case in the store".
        if exc.best.absolute_path == ("case_id",):
            return _error(404, "not_found", str(exc), exc.problems)
        return _error(422, "refused", str(exc), exc.problems)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for item in exc.errors():
            if item.get("type") == "json_invalid":  # its loc is a character offset, not a path
                ctx = item.get("ctx") or {}
                problems.append(Problem(f"not valid JSON: {ctx.get('error', item['msg'])}"))
            else:
                path = tuple(p for p in item["loc"][1:] if isinstance(p, str | int))
                problems.append(Problem(item["msg"], path, item.get("input", MISSING)))
        return _error(422, "refused", "invalid request", problems)

    @app.exception_handler(EngineError)
    async def engine_error(request: Request, exc: EngineError) -> JSONResponse:
        return _error(500, "failed", f"the rule engine failed: {exc}")

    @app.exception_handler(StoreError)
    async def store_error(request: Request, exc: StoreError) -> JSONResponse:
        return _error(503, "failed", f"the store failed: {exc}")


def _instant(value: str | None, clock: Clock) -> dt.datetime | None:
    """A ``now`` query parameter: ISO 8601 with a UTC offset, or ``now`` (the server's clock).

    None when absent.
    """
    if value is None:
        return None
    text = _UNENCODED_PLUS.sub(r"+\1", value.strip())
    if text.lower() == "now":
        return clock.now()
    text = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text  # Python 3.10 reads no "Z"
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        when = None
    if when is None or when.utcoffset() is None:
        raise EventError(
            [Problem("now must be an ISO 8601 date-time with a UTC offset, or 'now'", ("now",), value)]
        )
    return when


def _json_body(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise EventError([Problem(f"not valid JSON: {err}")]) from None


# ---------------------------------------------------------------------------- the app


def _session(request: Request) -> AsyncSession:
    session: AsyncSession = request.app.state.session
    return session


def _worker(request: Request) -> Worker:
    worker: Worker = request.app.state.worker
    return worker


def _clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


SessionDep = Annotated[AsyncSession, Depends(_session)]
WorkerDep = Annotated[Worker, Depends(_worker)]
ClockDep = Annotated[Clock, Depends(_clock)]


def _show_worker_log() -> None:
    """The worker logs JSON lines at INFO; show them on stderr unless logging is configured."""
    logger = logging.getLogger("tierrules.worker")
    if not logger.hasHandlers():
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def create_app(
    store: Store | None = None,
    engine: Engine | None = None,
    *,
    clock: Clock | None = None,
    on_new: OnNew = log_json,
) -> FastAPI:
    """The service. ``store``: where cases live (``$TIERRULES_DB`` when None; a store given
    here is left open at shutdown, one made here is closed). ``engine``: the bundled default
    policy when None. ``clock`` and ``on_new`` go to the worker (``clock`` is also the
    default ``now`` of ``GET /cases/{case_id}/decision``).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _show_worker_log()

        # Compiling the ruleset and opening the store block: not on the loop.
        def open_session() -> Session:
            return Session(
                engine if engine is not None else Engine(),
                store=store if store is not None else store_from_env(),
            )

        session = await asyncio.to_thread(open_session)
        async with AsyncSession(session, close_store=store is None) as sessions:
            app.state.session = sessions
            app.state.clock = clock if clock is not None else RealClock()
            async with Worker(sessions, clock=app.state.clock, on_new=on_new) as worker:
                app.state.worker = worker
                yield

    app = FastAPI(title="tierrules service", lifespan=lifespan)
    _install_error_handlers(app)

    @app.post("/events")
    async def post_events(
        session: SessionDep,
        worker: WorkerDep,
        clock: ClockDep,
        body: Annotated[Any, Body(description="one event, or a list of events, in the JSON form")],
        now: str | None = None,
    ) -> Any:
        """Append the events in order; answer each one's update (its case's decision and what is new)."""
        when = _instant(now, clock)  # None: the stream's clock
        if isinstance(body, bytes):  # sent without "Content-Type: application/json" (curl -d)
            body = _json_body(body)
        one = isinstance(body, dict)
        if not one and not isinstance(body, list):
            raise EventError(
                [Problem("the body must be an event object or a list of them", (), type(body).__name__)]
            )
        events = [body] if one else body
        try:  # the whole list first: a malformed event anywhere stores nothing
            await asyncio.to_thread(tierrules.parse_events, events)
        except EventError as err:
            raise RefusedError(_in_body(err.problems, None if one else err.index), []) from None
        updates: list[dict[str, Any]] = []
        for index, event in enumerate(events):
            try:
                update = await session.append(event, when)
            except EventError as err:  # refused by the session: a closed case, an id reused, ...
                raise RefusedError(_in_body(err.problems, None if one else index), updates) from None
            worker.track(update)
            updates.append(update.to_dict())
        return updates[0] if one else updates

    @app.get("/cases/{case_id}/decision")
    async def get_decision(
        session: SessionDep, clock: ClockDep, case_id: str, now: str | None = None
    ) -> Response:
        """The case's decision at ``now`` (default: the server's clock), as the engine writes it."""
        decision = await session.decision(case_id, _instant(now, clock) or clock.now())
        return Response(decision.to_json(), media_type="application/json")

    @app.post("/cases/{case_id}/close")
    async def close_case(session: SessionDep, worker: WorkerDep, case_id: str) -> dict[str, str]:
        """Archive the case: it takes no more events and is no longer woken."""
        await session.close_case(case_id)
        worker.forget(case_id)
        return {"closed": case_id}

    return app


app = create_app()
