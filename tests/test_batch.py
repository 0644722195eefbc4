"""tierrules.batch: parallel evaluation on Dask gives exactly the serial results, in order."""

from __future__ import annotations

import datetime as dt
import doctest
import io
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import dask.config
import psutil
import pytest
from distributed import Client

import tierrules
from tierrules import CaseRecord as Case
from tierrules import batch
from tierrules.cli import main
from tierrules.testing import generate_cases

ROOT = Path(__file__).resolve().parent.parent
# Event files; demo-month.jsonl is a case log (one {"name", "now", "events"} per line), not events.
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.jsonl") if p.name != "demo-month.jsonl")
DEFAULT = Path(tierrules.default_ruleset_path())


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    """One local cluster of two worker processes for the whole module."""
    with batch.open_client(workers=2) as opened:
        yield opened


@pytest.fixture(scope="module")
def address(client: Client) -> str:
    return str(client.scheduler.address)


@pytest.fixture(scope="module")
def ruleset() -> tierrules.Ruleset:
    return tierrules.load_ruleset()


def example_cases() -> list[Case]:
    """The example event files, each as one case evaluated a day after its last event."""
    out = []
    for path in EXAMPLES:
        events = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        last = max(dt.datetime.fromisoformat(e["at"]) for e in events)
        out.append(Case(path.name, events, last + dt.timedelta(days=1)))
    return out


@pytest.fixture(scope="module")
def cases(ruleset: tierrules.Ruleset) -> list[Case]:
    generated = [
        Case(f"generated-{i}", ev, now) for i, (ev, now) in enumerate(generate_cases(ruleset, 200, seed=11))
    ]
    return [*generated[:100], *example_cases(), *generated[100:]]


@pytest.fixture(scope="module")
def serial(ruleset: tierrules.Ruleset, cases: list[Case]) -> list[tierrules.Decision]:
    engine = tierrules.Engine(ruleset)
    return [engine.evaluate(case.events, case.now) for case in cases]


def write_log(path: Path, cases: list[Case]) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for case in cases:
            record = {"name": case.name, "now": case.now.isoformat(), "events": case.events}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def bad_case(name: str, now: dt.datetime) -> Case:
    event = {"type": "complaint_registered", "at": "2026-11-24T10:00:00+08:00", "case_id": "c", "severity": 3}
    ok = {"type": "case_opened", "at": "2026-11-24T09:00:00+08:00", "case_id": "c", "channel": "phone"}
    return Case(name, [ok, event], now)


# --- the Python API --------------------------------------------------------------------------


def test_parallel_results_are_the_serial_bytes_in_input_order(
    client: Client, cases: list[Case], serial: list[tierrules.Decision]
) -> None:
    assert any(d.violations for d in serial)  # the example calls: etiquette is covered too
    results = batch.evaluate_cases(cases, client=client, chunk_size=17)  # a chunk boundary mid-examples
    assert [r.name for r in results] == [c.name for c in cases]
    assert [r.decision_json for r in results] == [d.to_json(indent=None) for d in serial]
    assert [r.to_json() for r in results] == [d.to_json() for d in serial]
    assert [r.decision for r in results] == serial


def test_default_chunking_and_in_process_agree(client: Client, cases: list[Case]) -> None:
    parallel = batch.evaluate_cases(cases, client=client)
    assert batch.evaluate_cases(cases, workers=0) == parallel


def test_order_is_input_order_not_completion_order(client: Client, cases: list[Case]) -> None:
    chosen = list(reversed(cases[:60]))
    results = batch.evaluate_cases(chosen, client=client, chunk_size=1)  # 60 tasks, two workers
    assert [r.name for r in results] == [c.name for c in chosen]
    by_name = {r.name: r.decision_json for r in batch.evaluate_cases(cases[:60], workers=0)}
    assert [r.decision_json for r in results] == [by_name[c.name] for c in chosen]


def test_each_worker_builds_one_engine_per_ruleset(
    client: Client, cases: list[Case], ruleset: tierrules.Ruleset
) -> None:
    for _ in range(3):
        batch.evaluate_cases(cases, ruleset=ruleset, client=client, chunk_size=10)
    key, _ = batch._ruleset_data(ruleset)
    builds = client.run(batch._engine_builds)
    assert len(builds) == 2
    assert all(counts[key] == 1 for counts in builds.values()), builds


def test_a_changed_ruleset_is_another_engine(client: Client, cases: list[Case], e2_45: Path) -> None:
    changed = tierrules.load_ruleset(e2_45)
    engine = tierrules.Engine(changed)
    results = batch.evaluate_cases(cases, ruleset=changed, client=client)
    assert [r.decision_json for r in results] == [
        engine.evaluate(c.events, c.now).to_json(indent=None) for c in cases
    ]
    default = batch.evaluate_cases(cases, client=client)
    assert [r.decision_json for r in results] != [r.decision_json for r in default]


def test_a_bad_event_names_its_case(client: Client, cases: list[Case]) -> None:
    now = cases[0].now
    chosen = [*cases[:150], bad_case("bad-150", now), *cases[150:], bad_case("bad-last", now)]
    with pytest.raises(tierrules.EventError) as parallel:
        batch.evaluate_cases(chosen, client=client, chunk_size=20)
    err = parallel.value
    assert type(err) is tierrules.EventError  # not a Dask wrapper
    assert "case bad-150:" in str(err) and "bad-last" not in str(err)  # the first bad case
    assert (err.index, err.field) == (1, "severity")  # kept from the event's own error
    assert "(got <object" not in str(err)
    with pytest.raises(tierrules.EventError) as in_process:
        batch.evaluate_cases(chosen, workers=0)
    assert str(in_process.value) == str(err)


def test_own_local_cluster_is_closed(cases: list[Case], serial: list[tierrules.Decision]) -> None:
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    results = batch.evaluate_cases(cases[:20], workers=2)
    assert [r.decision_json for r in results] == [d.to_json(indent=None) for d in serial[:20]]
    after = {p.pid for p in psutil.Process().children(recursive=True) if p.is_running()}
    assert after <= before | {p.pid for p in _resource_trackers()}


def _resource_trackers() -> list[psutil.Process]:
    return [p for p in psutil.Process().children() if any("resource_tracker" in part for part in p.cmdline())]


def test_unreachable_scheduler_is_an_engine_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with (
        dask.config.set({"distributed.comm.timeouts.connect": "1s"}),
        pytest.raises(tierrules.EngineError, match="cannot reach the Dask scheduler"),
    ):
        batch.evaluate_cases(example_cases(), address=f"tcp://127.0.0.1:{port}")


def test_empty_input() -> None:
    assert batch.evaluate_cases([], workers=2) == []


def test_docstring_examples() -> None:
    result = doctest.testmod(batch, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


# --- the command line ------------------------------------------------------------------------


def test_cli_batch_lines_match_serial_evaluate(
    address: str, cases: list[Case], serial: list[tierrules.Decision], tmp_path: Path
) -> None:
    log = write_log(tmp_path / "cases.jsonl", cases)
    code, text = run("evaluate", "--batch", str(log), "--scheduler", address)
    assert code == 0
    expected = "".join(
        json.dumps({"name": c.name, "decision": json.loads(d.to_json())}, ensure_ascii=False) + "\n"
        for c, d in zip(cases, serial, strict=True)
    )
    assert text == expected
    assert run("evaluate", "--batch", str(log), "--workers", "0") == (0, expected)


def test_cli_batch_names_unnamed_lines_by_file_and_line(tmp_path: Path) -> None:
    [case] = example_cases()[:1]
    log = tmp_path / "log.jsonl"
    log.write_text("\n" + json.dumps({"now": case.now.isoformat(), "events": case.events}) + "\n")
    code, text = run("evaluate", "--batch", str(log), "--workers", "0")
    assert code == 0
    assert json.loads(text)["name"] == "log.jsonl:2"


def test_cli_batch_bad_case_exit_2_and_no_output(
    address: str, cases: list[Case], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = write_log(
        tmp_path / "cases.jsonl", [*cases[:50], bad_case("the bad one", cases[0].now), *cases[50:]]
    )
    code, text = run("evaluate", "--batch", str(log), "--scheduler", address)
    assert (code, text) == (2, "")
    err = capsys.readouterr().err
    assert "case the bad one:" in err and "severity" in err
    assert "Traceback" not in err


def test_cli_batch_bad_log_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "cases.jsonl"
    log.write_text('{"now": "2026-11-24T10:00:00+08:00"}\n')
    assert run("evaluate", "--batch", str(log), "--workers", "0") == (2, "")
    assert "cases.jsonl" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["evaluate", "--batch", "x.jsonl", "events.jsonl"],
        ["evaluate", "--batch", "x.jsonl", "--now", "2026-11-24T10:00:00+08:00"],
        ["evaluate", "events.jsonl"],
        ["evaluate", "events.jsonl", "--now", "2026-11-24T10:00:00+08:00", "--workers", "2"],
        ["evaluate", "--batch", "x.jsonl", "--workers", "-1"],
        ["evaluate", "--batch", "x.jsonl", "--workers", "2", "--scheduler", "tcp://h:8786"],
        ["diff", "a", "b", "--generate", "3", "--workers", "two"],
    ],
)
def test_cli_argument_errors_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv, out=io.StringIO())
    assert exit_.value.code == 2


# --- tierrules diff --workers ----------------------------------------------------------------


@pytest.mark.parametrize("output", [["--json"], []], ids=["json", "table"])
def test_diff_on_workers_is_the_serial_diff(
    address: str, e2_45: Path, cases: list[Case], tmp_path: Path, output: list[str]
) -> None:
    log = write_log(tmp_path / "cases.jsonl", cases[90:110])
    argv = [
        "diff",
        str(DEFAULT),
        str(e2_45),
        "--cases",
        str(log),
        "--generate",
        "200",
        "--seed",
        "1",
        *output,
    ]
    code, serial = run(*argv)
    assert code == 0
    assert "E2.complaint-reply" in serial
    assert run(*argv, "--scheduler", address) == (0, serial)


def test_diff_workers_starts_and_stops_local_workers(e2_45: Path) -> None:
    argv = ["diff", str(DEFAULT), str(e2_45), "--generate", "40", "--seed", "3", "--json"]
    code, serial = run(*argv)
    assert run(*argv, "--workers", "2") == (code, serial)


def test_diff_on_workers_names_a_bad_case(
    address: str, cases: list[Case], tmp_path: Path, e2_45: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = write_log(tmp_path / "cases.jsonl", [*cases[:30], bad_case("bad diff case", cases[0].now)])
    argv = ["diff", str(DEFAULT), str(e2_45), "--cases", str(log)]
    assert run(*argv, "--scheduler", address) == (2, "")
    parallel = capsys.readouterr().err
    assert "case bad diff case:" in parallel
    assert run(*argv) == (2, "")
    assert capsys.readouterr().err == parallel
