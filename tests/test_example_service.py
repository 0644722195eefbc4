"""examples/service/app.py, for real: uvicorn on a free port, httpx over TCP.

The app runs in a background thread with a SQLite store and an accelerated clock the test
injects (``create_app``); one more test starts ``uvicorn examples.service.app:app`` as a
subprocess, configured by ``TIERRULES_DB`` as a user would, and stops it with SIGTERM.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from examples.service.app import create_app
from examples.service.worker import AcceleratedClock, Wake, Worker

import tierrules

from .conftest import at, ev

ROOT = Path(__file__).resolve().parent.parent
COMPLAINT = [
    json.loads(line)
    for line in (ROOT / "examples" / "complaint.jsonl").read_text(encoding="utf-8").splitlines()
]
START = at("2026-11-24 18:30")
SPEED = 20.0  # the app's clock: E8's 10 seconds pass in half a real second, C-1001's night in 45 minutes


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Service:
    """The running app: its base URL, a client, the store and what its worker reported."""

    def __init__(self, url: str, app: Any, store: tierrules.SqliteStore, reported: queue.Queue[Wake]) -> None:
        self.url = url
        self.app = app
        self.client = httpx.Client(base_url=url, timeout=30)
        self.store = store
        self.reported = reported
        self.seen: list[Wake] = []

    @property
    def worker(self) -> Worker:
        """The app's worker (read from the test's thread: only to look)."""
        worker: Worker = self.app.state.worker
        return worker

    def post(self, body: Any, now: dt.datetime | None = None) -> httpx.Response:
        params = {"now": now.isoformat()} if now is not None else {}
        return self.client.post("/events", json=body, params=params)

    def decision(self, case_id: str, now: dt.datetime) -> httpx.Response:
        return self.client.get(f"/cases/{case_id}/decision", params={"now": now.isoformat()})

    def wakes(self, case_id: str, *, wait: float) -> list[Wake]:
        """The worker's reports on ``case_id``, after waiting ``wait`` seconds for the first one.

        (The worker also wakes other tests' cases whose events are older than the app's clock.)
        """
        deadline = time.monotonic() + wait
        while True:
            with contextlib.suppress(queue.Empty):
                while True:
                    self.seen.append(self.reported.get_nowait())
            found = [w for w in self.seen if w.case_id == case_id]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.02)


@pytest.fixture(scope="module")
def service(engine: tierrules.Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    store = tierrules.SqliteStore(tmp_path_factory.mktemp("service") / "cases.db")
    reported: queue.Queue[Wake] = queue.Queue()
    app = create_app(store=store, engine=engine, clock=AcceleratedClock(START, SPEED), on_new=reported.put)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start in 30 s"
        time.sleep(0.02)
    running = Service(f"http://127.0.0.1:{port}", app, store, reported)
    try:
        yield running
    finally:
        running.client.close()
        server.should_exit = True
        thread.join(timeout=30)
        assert not thread.is_alive()
        store.close()  # given to create_app, so the app left it open


def _evaluate(engine: tierrules.Engine, events: list[dict[str, Any]], now: dt.datetime) -> Any:
    return json.loads(engine.evaluate(events, now).to_json())


def test_a_complaint_event_by_event_over_http(service: Service, engine: tierrules.Engine) -> None:
    for n, event in enumerate(COMPLAINT, start=1):
        response = service.post(event, now=START)
        assert response.status_code == 200, response.text
        update = response.json()
        assert (update["case_id"], update["seq"], update["now"]) == ("C-1001", n, START.isoformat())
        assert update["decision"] == _evaluate(engine, COMPLAINT[:n], START)
    assert update["decision"]["next_check_at"] == "2026-11-25T05:30:00+08:00"
    assert [w["rule"] for w in update["new"]["warnings"]] == []  # E3's 50% is at 05:50, tomorrow

    # The decision later, without an event: the engine's own JSON, byte for byte.
    later = at("2026-11-25 09:30")
    response = service.decision("C-1001", later)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.text == engine.evaluate(COMPLAINT, later).to_json()
    assert [(e["rule"], e["to_level"]) for e in response.json()["escalations"]] == [("E2.complaint-reply", 2)]

    # "+08:00" not URL-encoded (a hand-typed URL) reads as " 08:00": still understood.
    raw = service.client.get("/cases/C-1001/decision?now=2026-11-25T09:30:00+08:00")
    assert raw.text == response.text


def test_a_list_of_events_gives_a_list_of_updates(service: Service, engine: tierrules.Engine) -> None:
    events = [{**e, "case_id": "C-2002"} for e in COMPLAINT]
    response = service.post(events)  # now: the stream's clock, the latest event
    assert response.status_code == 200, response.text
    updates = response.json()
    assert [u["seq"] for u in updates] == [1, 2, 3, 4, 5]
    assert [u["now"] for u in updates] == [e["at"] for e in events]
    assert updates[-1]["decision"] == _evaluate(engine, events, dt.datetime.fromisoformat(events[-1]["at"]))
    # Sent without "Content-Type: application/json" (curl -d): read as JSON all the same.
    more = ev("complaint_replied", "2026-11-24 18:00", case="C-2002")
    response = service.client.post("/events", content=json.dumps(more))
    assert response.status_code == 200, response.text
    assert response.json()["seq"] == 6
    assert [o["status"] for o in response.json()["decision"]["obligations"] if o["source"] == "E2"] == ["met"]


def _problems(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"]["kind"] == "refused"
    assert "Traceback" not in response.text
    problems: list[dict[str, Any]] = body["error"]["problems"]
    for problem in problems:
        assert set(problem) <= {"json_path", "message", "value", "suggestion"}  # no file, no line
    return problems


def test_bad_input_is_422_with_the_located_problem_and_stores_nothing(service: Service) -> None:
    assert service.post(ev("complaint_registered", "2026-11-24 17:30", case="C-3003")).json()["seq"] == 1

    hot = ev("feedback_received", "2026-11-24 18:00", case="C-3003", severity="hot")
    [problem] = _problems(service.post(hot))
    assert problem["json_path"] == "$.severity"
    assert problem["value"] == "hot"
    assert problem["message"].startswith("Input should be 'critical', 'urgent', 'important' or 'general'")

    # In a list, the problem names the event's index; the good event before it is not stored.
    typo = ev("feedback_received", "2026-11-24 18:10", case="C-3003", severty="urgent")
    good = ev("complaint_replied", "2026-11-24 18:05", case="C-3003")
    problems = _problems(service.post([good, typo]))
    assert {
        "json_path": "$[1].severty",
        "message": "unknown field 'severty'",
        "value": "urgent",
        "suggestion": "severity",
    } in problems
    assert {"json_path": "$[1].severity", "message": "field required"} in problems

    late = ev("complaint_replied", "2026-11-24 19:00", case="C-3003")
    [problem] = _problems(service.post(late, now=START))
    assert (problem["json_path"], problem["message"]) == ("$.at", f"event is after now ({START.isoformat()})")

    [problem] = _problems(
        service.client.post("/events", content=b"{bad", headers={"content-type": "application/json"})
    )
    assert problem["json_path"] == "$" and problem["message"].startswith("not valid JSON")
    [problem] = _problems(service.client.post("/events", json="an event"))
    assert problem == {
        "json_path": "$",
        "message": "the body must be an event object or a list of them",
        "value": "str",
    }
    [problem] = _problems(service.client.get("/cases/C-3003/decision", params={"now": "2026-11-24T18:00"}))
    assert (problem["json_path"], problem["value"]) == ("$.now", "2026-11-24T18:00")  # no UTC offset

    # Nothing of that was stored: the next event is the case's second.
    assert service.post(good).json()["seq"] == 2


def test_a_list_refused_half_way_reports_what_was_stored(service: Service) -> None:
    first = ev("complaint_registered", "2026-11-24 17:30", case="C-4004", id="x-1")
    clash = ev("complaint_registered", "2026-11-24 17:35", case="C-4005", id="x-1")  # the id again
    response = service.post([first, clash])
    [problem] = _problems(response)
    assert problem["json_path"] == "$[1].id"
    assert "already stored" in problem["message"]
    assert [u["case_id"] for u in response.json()["applied"]] == ["C-4004"]


def test_close_a_case(service: Service, engine: tierrules.Engine) -> None:
    events = [ev("complaint_registered", "2026-11-24 17:30", case="C-5005")]
    assert service.post(events[0]).status_code == 200
    response = service.client.post("/cases/C-5005/close")
    assert (response.status_code, response.json()) == (200, {"closed": "C-5005"})
    assert "C-5005" not in service.worker.pending()  # no longer woken

    [problem] = _problems(service.post(ev("complaint_replied", "2026-11-24 17:50", case="C-5005")))
    assert (problem["json_path"], problem["message"]) == (
        "$.case_id",
        "the case is closed: it takes no more events",
    )
    # A closed case is still readable (for reports).
    later = at("2026-11-25 12:00")
    assert service.decision("C-5005", later).text == engine.evaluate(events, later).to_json()

    for response in (service.decision("C-nope", later), service.client.post("/cases/C-nope/close")):
        assert response.status_code == 404
        assert response.json()["error"]["problems"] == [
            {"json_path": "$.case_id", "message": "no such case in the store", "value": "C-nope"}
        ]


def test_the_worker_wakes_a_case_posted_over_http(service: Service, engine: tierrules.Engine) -> None:
    arrived = START  # the app's clock started there and runs 20 times faster
    update = service.post(
        {"type": "customer_arrived", "at": arrived.isoformat(), "case_id": "L-6006"}, now=arrived
    )
    assert update.json()["decision"]["next_check_at"] == (arrived + dt.timedelta(seconds=10)).isoformat()

    [wake] = service.wakes("L-6006", wait=10)  # 10 virtual seconds: half a real second
    assert wake.due == arrived + dt.timedelta(seconds=10)
    assert wake.update.now >= wake.due
    assert [b.rule for b in wake.update.new.breaches] == ["E8.greet"]
    # What the worker reported is what the service says at that instant.
    response = service.decision("L-6006", wake.update.now)
    assert response.text == wake.update.decision.to_json()
    assert [o["status"] for o in response.json()["obligations"] if o["rule"] == "E8.greet"] == ["breached"]
    # Reported once: a second (20 virtual seconds) later, nothing more on it (E8's next step is at 5 minutes).
    time.sleep(1.0)
    assert len(service.wakes("L-6006", wait=0)) == 1


def test_uvicorn_from_the_command_line_with_a_sqlite_store(tmp_path: Path, engine: tierrules.Engine) -> None:
    """As the README runs it: ``TIERRULES_DB=cases.db uvicorn examples.service.app:app``; SIGTERM stops it."""
    db = tmp_path / "cases.db"
    port = _free_port()
    env = {**os.environ, "TIERRULES_DB": str(db)}
    log = tmp_path / "uvicorn.log"  # a file, not a pipe: a full pipe would block the server's logging
    with log.open("w") as out:  # the child keeps its own copy of the file
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "examples.service.app:app", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=out,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the service did not start in 60 s"
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/openapi.json", timeout=5).status_code == 200:
                    break
            time.sleep(0.1)
        response = httpx.post(f"{url}/events", json=COMPLAINT, timeout=30)
        assert response.status_code == 200, response.text
        assert [u["seq"] for u in response.json()] == [1, 2, 3, 4, 5]
        later = at("2026-11-25 09:30")
        response = httpx.get(f"{url}/cases/C-1001/decision", params={"now": later.isoformat()}, timeout=30)
        assert response.text == engine.evaluate(COMPLAINT, later).to_json()
        # A lobby customer who arrived 9 s ago on the wall clock: E8's greeting is due in 1 s.
        now = dt.datetime.now(dt.timezone.utc)
        arrived = {
            "type": "customer_arrived",
            "at": (now - dt.timedelta(seconds=9)).isoformat(),
            "case_id": "L-1",
        }
        response = httpx.post(f"{url}/events", json=arrived, params={"now": now.isoformat()}, timeout=30)
        assert response.status_code == 200, response.text
        assert response.json()["new"]["breaches"] == []
        deadline = time.monotonic() + 10
        while '"case_id": "L-1"' not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = log.read_text()
    # uvicorn shuts down gracefully, then re-raises the signal it caught (since 0.29).
    assert proc.returncode in (0, -signal.SIGTERM), stderr
    assert "Application shutdown complete" in stderr
    # The worker (real time) woke the lobby case a second later and logged the breach as a JSON line.
    logged = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    [lobby] = [entry for entry in logged if entry["case_id"] == "L-1"]
    assert [b["rule"] for b in lobby["new"]["breaches"]] == ["E8.greet"], stderr
    # The events are in the file, and the store was closed cleanly: reopened, same decision.
    with tierrules.SqliteStore(db) as store:
        session = tierrules.Session(engine, store=store)
        assert len(session.events("C-1001")) == 5
        assert session.decision("C-1001", later).to_json() == engine.evaluate(COMPLAINT, later).to_json()
