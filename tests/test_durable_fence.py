"""The fence around durable_rules 2.0.28: one test per defect in docs/durable_rules.md.

Each defect is shown twice where that is cheap and safe: raw, with ``durable.engine``
driven by ``durable_drivers/raw.py`` in a subprocess (crashes and hangs never happen in
this process), and through tierrules, which must be immune. ``durable.lang`` is never
imported here: it would start a module-level Host with background threads.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import durable.engine as de
import pytest
from packaging.specifiers import SpecifierSet

import tierrules
from tierrules.compiler.conditions import AllOf, Equals, MatchRule
from tierrules.evaluation.facts import FactBuilder
from tierrules.events import EVENT_TYPES, parse_event
from tierrules.matching import durable as _durable

pytestmark = pytest.mark.durable

DRIVERS = Path(__file__).parent / "durable_drivers"
ROOT = Path(__file__).resolve().parents[1]
CST = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=CST)  # a Tuesday
SEGFAULT = -signal.SIGSEGV


def ev(kind: str, hhmm: str, case: str = "c1", **fields: Any) -> dict[str, Any]:
    return {"type": kind, "at": f"2026-11-24T{hhmm}:00+08:00", "case_id": case, **fields}


def run(script: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a driver in a fresh interpreter that imports this checkout's tierrules."""
    src = str(Path(tierrules.__file__).resolve().parents[1])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")])),
        "TIERRULES_MATCHER": "durable",
    }
    return subprocess.run(
        [sys.executable, str(DRIVERS / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def run_json(script: str, *args: str, timeout: float = 60) -> dict[str, Any]:
    proc = run(script, *args, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result: dict[str, Any] = json.loads(proc.stdout.splitlines()[-1])
    return result


@pytest.fixture(scope="module", autouse=True)
def durable_matcher() -> Iterator[None]:
    """These tests are about durable_rules: engines here use it whatever TIERRULES_MATCHER says."""
    before = os.environ.get("TIERRULES_MATCHER")
    os.environ["TIERRULES_MATCHER"] = "durable"
    yield
    if before is None:
        del os.environ["TIERRULES_MATCHER"]
    else:
        os.environ["TIERRULES_MATCHER"] = before


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    """The safe raw observations, gathered in one subprocess."""
    return run_json("raw.py", "observations")


@pytest.fixture(scope="module")
def default_engine() -> tierrules.Engine:
    return tierrules.Engine(tierrules.load_ruleset())


PROBE_MARKER_RULE = "probe.session"
PROBE_DEFINITION = {
    "probe#start": {"all": [{"m": {"type": "probe"}}]},
    PROBE_MARKER_RULE: {"all": [{"m": {"type": "probe.opened"}}]},
}


@pytest.fixture
def probe() -> Iterator[_durable.EngineRuleset]:
    """A small engine ruleset of our own, registered through the fence."""
    found = _durable.engine_ruleset(PROBE_DEFINITION, PROBE_MARKER_RULE, "probe.opened")
    found._discard(_durable._shared_host())  # each test starts without a session
    yield found
    live = found.live_sessions
    found._discard(_durable._shared_host())
    found.live_sessions = 0  # report a leak once, not in every later test
    assert live in (0, 1), "a test left more than the ruleset's one session alive"


def registered(engine_ruleset: _durable.EngineRuleset) -> Any:
    """durable_rules' own Ruleset object behind a fence ruleset."""
    return _durable._shared_host().get_ruleset(engine_ruleset.name)


def walk(node: Any) -> Iterator[tuple[Any, Any]]:
    """Every (key, value) pair in nested JSON."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield key, value
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def generated_ruleset(deadlines: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": "generated",
        "version": "1",
        "timezone": "Asia/Shanghai",
        "default_calendar": "always",
        "calendars": {"always": {"timezone": "Asia/Shanghai", "always_open": True}},
        "deadlines": deadlines,
    }


def deadline(i: int, **start_when: Any) -> dict[str, Any]:
    return {
        "id": f"R{i}",
        "source": "E1",
        "description": {"zh": "测试", "en": "test"},
        "start": {"event": "escalation_needed", "when": start_when},
        "met_by": {"event": "escalated"},
        "within": "10 minutes",
    }


def distinct_deadline(i: int) -> dict[str, Any]:
    """A deadline whose start and met conditions no other generated deadline shares."""
    rule = deadline(i, agent_level=i + 1)
    rule["met_by"] = {"event": "escalated", "when": {"to_level": i + 1}}
    return rule


# --- Crashes and hangs -------------------------------------------------------------------


def test_raw_delete_state_without_action_segfaults() -> None:
    """Defect: delete_state on a session in which no action ran segfaults."""
    assert run("raw.py", "delete_without_action").returncode == SEGFAULT
    control = run("raw.py", "delete_after_action")
    assert (control.returncode, control.stdout.split()[-1]) == (0, "deleted")


def test_tierrules_sessions_without_matches_are_deleted_safely() -> None:
    """Defect: delete_state without an action — a marker action runs when a session opens."""
    out = run_json("fence.py", "unmatched", "600")  # empty cases and case_opened-only cases
    assert out == {"rounds": 600, "nonempty": 0, "live_sessions": 1}  # the ruleset's one session


def test_raw_host_starts_background_threads() -> None:
    """Defect: each durable Host() starts two timer threads (which crash delete_state)."""
    out = run_json("raw.py", "host_threads")
    assert out["after"] - out["before"] == 2


def test_tierrules_host_starts_no_threads() -> None:
    """Defect: background timer threads + delete_state — tierrules' host never starts them."""
    out = run_json("fence.py", "fence_state")
    assert out == {
        "threads_before": out["threads_before"],
        "threads_after": out["threads_before"],
        "durable_lang": False,
        "host": "_QuietHost",
    }
    before = threading.active_count()
    host = _durable._QuietHost()
    assert host._run() is None
    assert threading.active_count() == before
    assert _durable._QuietHost._run is not de.Host._run


def test_raw_1025th_live_session_fails_then_segfaults() -> None:
    """Defect: the 1,025th live session raises MemoryError; the next post segfaults."""
    proc = run("raw.py", "live_sessions", "1100")
    assert "MemoryError at session 1025" in proc.stdout
    assert "posted after MemoryError" not in proc.stdout
    assert proc.returncode == SEGFAULT
    control = run("raw.py", "live_sessions", "1024")
    assert (control.returncode, control.stdout.strip()) == (0, "1024 sessions fine")


def test_tierrules_deletes_every_session() -> None:
    """Defect: 1,025th live session — 3,000 evaluations in a row stay correct in one session."""
    out = run_json("fence.py", "sessions", "3000")
    assert out == {"rounds": 3000, "wrong": [], "live_sessions": 1}


def test_fence_refuses_a_session_near_the_limit(
    probe: _durable.EngineRuleset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect: 1,025th live session — the fence refuses to open one past its own cap."""
    monkeypatch.setattr(probe, "live_sessions", _durable.MAX_LIVE_SESSIONS)
    posted: list[object] = []
    monkeypatch.setattr(probe, "_post", lambda *args: posted.append(args))
    with pytest.raises(tierrules.EngineError, match="live durable_rules sessions"):
        probe.match([{"type": "probe"}])
    assert posted == []
    assert _durable.MAX_LIVE_SESSIONS < 1024
    monkeypatch.undo()


def test_raw_512_distinct_values_hang() -> None:
    """Defect: 512 distinct values tested on one field hang the first post (511 work)."""
    control = run("raw.py", "distinct_values", "511", timeout=30)
    assert (control.returncode, control.stdout.splitlines()[-1]) == (0, "post: ['1']")
    with pytest.raises(subprocess.TimeoutExpired) as hung:
        run("raw.py", "distinct_values", "512", timeout=5)
    assert b"registered" in (hung.value.stdout or b"")  # set-up passed; the post hung


def test_tierrules_refuses_512_distinct_values() -> None:
    """Defect: 512 distinct values hang — the durable matcher refuses a ruleset testing 512 values."""
    ruleset = tierrules.load_ruleset(generated_ruleset([deadline(1, agent_level=list(range(1, 513)))]))
    with pytest.raises(tierrules.RulesetError, match="more than 511 distinct values") as err:
        tierrules.Engine(ruleset, matcher="durable")
    assert err.value.json_path == "$.deadlines[0]"
    tierrules.Engine(ruleset, matcher="python")  # no such limit in plain Python
    # and the most it allows really works in the engine (a hang would time out here)
    out = run_json("fence.py", "most_values", timeout=30)
    assert out == {"levels": [1, 511, 512], "obligations": [1, 1, 0], "live_sessions": 1}


def test_raw_many_same_type_joins_fail() -> None:
    """Defect: 70 rules joining the same two event types make every post fail (error 303)."""
    control = run("raw.py", "same_type_joins", "30", timeout=30)
    assert (control.returncode, control.stdout.splitlines()[-1]) == (0, "second: ['2']")
    many = run("raw.py", "same_type_joins", "70", timeout=30)
    assert many.returncode == 0
    assert "error code: 303" in many.stdout.splitlines()[-1]


def test_tierrules_conditions_cannot_join() -> None:
    """Defect: 31+ same-type joins segfault — the condition form is over one fact, so every
    durable_rules rule tierrules registers has exactly one pattern, however many rules share types."""
    rules = [MatchRule(f"j{i}", AllOf((Equals("type", "a"), Equals("k", i)))) for i in range(80)]
    definition = _durable.definition(rules)
    assert all(len(rule["all"]) == 1 for rule in definition.values())
    assert not list(_durable.check_limits(rules))


def test_tierrules_refuses_too_many_rules() -> None:
    """Defect: 1,500 simple rules fail with error 303 at ~2 GB — 600 distinct engine rules are refused."""
    many = tierrules.load_ruleset(generated_ruleset([distinct_deadline(i) for i in range(300)]))
    with pytest.raises(tierrules.RulesetError, match=f"at most {_durable.MAX_ENGINE_RULES}"):
        tierrules.Engine(many, matcher="durable")
    assert _durable.MAX_ENGINE_RULES < 1500
    fine = tierrules.load_ruleset(generated_ruleset([distinct_deadline(i) for i in range(200)]))
    tierrules.Engine(fine, matcher="durable")  # 401 rules: fine
    # Rules sharing a condition share one engine rule: 600 identical deadlines are 3 rules.
    shared = tierrules.load_ruleset(generated_ruleset([deadline(i) for i in range(600)]))
    assert len(_durable.definition(tierrules.Engine(shared)._compiled.case_rules)) == 3


def test_fence_actions_finish_far_inside_the_lease(
    default_engine: tierrules.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect: an action running past 10 s loses its lease — fence actions take microseconds."""
    durations: list[float] = []
    for promise in registered(default_engine._matcher.engine_ruleset)._actions.values():

        def timed(c: Any, func: Any = promise._func) -> None:
            start = time.perf_counter()
            func(c)
            durations.append(time.perf_counter() - start)

        monkeypatch.setattr(promise, "_func", timed)
    events = [ev("escalation_needed", f"10:{m:02d}", case=f"c{m % 5}", agent_level=1) for m in range(50)]
    default_engine.evaluate(events[:1], now=NOW)  # the session is open before timing
    durations.clear()
    decision = default_engine.evaluate(events, now=NOW)
    assert len(decision.obligations) == 50
    assert len(durations) == 52  # 50 starts and the session's two markers
    assert max(durations) < 0.5


# --- Wrong results -----------------------------------------------------------------------


def test_raw_regex_alternation_is_broken(raw: dict[str, Any]) -> None:
    """Defect: `$mt` with `.*(stupid|idiot).*` does not match; `.*stupid.*` does."""
    assert raw["regex_alternation"] == "not handled"
    assert raw["regex_plain"] == ["2"]


def test_tierrules_compiles_no_regular_expressions(default_engine: tierrules.Engine) -> None:
    """Defect: broken regex alternation — no engine definition of the default ruleset uses `$mt`."""
    compiled = _durable.definition(default_engine._compiled.case_rules)
    sent = registered(default_engine._matcher.engine_ruleset).get_definition()
    for definition in (compiled, sent):
        keys = {key for key, _ in walk(definition)}
        assert "type" in keys  # the walk sees the conditions
        assert not keys & {"$mt", "$imt"}


def test_raw_action_exceptions_are_swallowed(raw: dict[str, Any]) -> None:
    """Defect: an action's exception is swallowed into the state; later rules still fire."""
    assert raw["exception_post"] == []  # post() returned normally
    assert "exception caught boom" in raw["exception_state"]
    assert raw["exception_later_rule"] == ["2"]


def _strip_ids(probe: _durable.EngineRuleset, monkeypatch: pytest.MonkeyPatch, *, marker_too: bool) -> None:
    """Post facts without their id, so the fence's action fails inside the engine."""
    post = probe._post

    def without_id(host: Any, facts: list[dict[str, Any]]) -> bool:
        stripped = [
            {k: v for k, v in fact.items() if k != "id"}
            if marker_too or fact["type"] != probe.marker_type
            else fact
            for fact in facts
        ]
        return post(host, stripped)

    monkeypatch.setattr(probe, "_post", without_id)


def test_fence_action_failure_raises_and_deletes_session(
    probe: _durable.EngineRuleset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect: swallowed action exceptions — the fence re-raises them as EngineError."""
    _strip_ids(probe, monkeypatch, marker_too=False)
    with pytest.raises(tierrules.EngineError, match="probe#start: TypeError: fact without a string id"):
        probe.match([{"type": "probe"}])
    assert probe.live_sessions == 0
    monkeypatch.undo()
    assert probe.match([{"type": "probe"}]) == {0: ["probe#start"]}


def test_fence_marker_action_failure_still_deletes_session(
    probe: _durable.EngineRuleset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect: swallowed action exceptions — a failed marker action still ran, so its session is deleted."""
    _strip_ids(probe, monkeypatch, marker_too=True)
    for _ in range(3):
        with pytest.raises(tierrules.EngineError):
            probe.match([{"type": "probe"}])
        assert probe.live_sessions == 0  # not leaked: 1,000 of these would block the engine
    monkeypatch.undo()
    assert probe.match([{"type": "probe"}]) == {0: ["probe#start"]}


def test_raw_identical_events_are_deduplicated(raw: dict[str, Any]) -> None:
    """Defect: without a unique id, a second identical event raises MessageObservedException."""
    assert raw["dedup_first"] == [None]
    assert raw["dedup_second"] == "observed"


def test_tierrules_counts_identical_events(
    default_engine: tierrules.Engine, probe: _durable.EngineRuleset
) -> None:
    """Defect: content de-duplication — two identical events make two obligations."""
    same = ev("complaint_registered", "10:00")
    decision = default_engine.evaluate([same, dict(same)], now=NOW)
    e2 = [o.id for o in decision.obligations if o.source == "E2"]
    assert e2 == ["c1/E2.complaint-reply/1", "c1/E2.complaint-reply/2"]
    assert probe.match([{"type": "probe"}] * 3) == {
        0: ["probe#start"],
        1: ["probe#start"],
        2: ["probe#start"],
    }


def test_tierrules_refuses_dollar_keys(default_engine: tierrules.Engine) -> None:
    """Defect: `$` keys are durable_rules' own — an event carrying one is refused, field named."""
    with pytest.raises(tierrules.EventError, match="reserved") as err:
        default_engine.evaluate(
            [ev("complaint_registered", "10:00"), ev("complaint_replied", "10:05", **{"$s": 1})], now=NOW
        )
    assert (err.value.index, err.value.field) == (1, "$s")


def test_raw_unknown_attributes_read_as_none(raw: dict[str, Any]) -> None:
    """Defect: a typo on c.m reads as None; the TypeError that follows is swallowed."""
    assert raw["typo_seen"] == [[None, True]]
    assert raw["typo_post"] == []
    assert "'NoneType' object has no attribute 'upper'" in raw["typo_exception"]


def test_fence_action_rejects_none_from_c_m(probe: _durable.EngineRuleset) -> None:
    """Defect: unknown attributes read as None — the fence's action checks what it reads."""
    action = probe._action("probe#start")
    hits = list(probe._hits)
    try:
        action(SimpleNamespace(m=de.Content({"type": "probe"})))  # no id: reads as None
        assert probe._hits == hits
        assert probe._errors == ["probe#start: TypeError: fact without a string id and sid: None, None"]
    finally:
        probe._errors.clear()


def test_raw_type_looseness(raw: dict[str, Any]) -> None:
    """Defect: "5" and 5.5 match `> 3`; None and True do not."""
    assert raw["loose"] == {
        "'5'": ["0"],
        "5.5": ["1"],
        "None": "not handled",
        "True": "not handled",
        "2": "not handled",
    }


@pytest.mark.parametrize("level", ["5", 5.5, True, None])
def test_tierrules_refuses_loose_types(default_engine: tierrules.Engine, level: object) -> None:
    """Defect: type looseness — events are validated strictly before posting."""
    with pytest.raises(tierrules.EventError) as err:
        default_engine.evaluate([ev("escalation_needed", "10:00", agent_level=level)], now=NOW)
    assert (err.value.index, err.value.field) == (0, "agent_level")


def test_raw_256_properties_fail(raw: dict[str, Any]) -> None:
    """Defect: an event with 256 properties fails with error 302."""
    assert raw["wide_256"] == "error: Could not assert fact, error code: 302"


def test_tierrules_posts_only_matchable_fields(default_engine: tierrules.Engine) -> None:
    """Defect: 256-property limit — only type and matchable fields reach the engine."""
    meta = {f"k{i}": i for i in range(300)}
    wide = ev("feedback_received", "10:00", severity="urgent", id="host-1", meta=meta)
    facts = FactBuilder(default_engine._compiled)
    assert facts.fact(parse_event(wide, 0), None) == {"type": "feedback_received", "severity": "urgent"}
    for kind, model in EVENT_TYPES.items():
        assert set(model.matchable) <= set(model.model_fields) - {"meta", "id", "at", "case_id"}, kind
    decision = default_engine.evaluate([wide], now=NOW)
    assert sorted(o.rule for o in decision.obligations) == ["E3.feedback-response", "E3.progress-report"]


def test_fence_reports_an_engine_post_error_and_deletes_session(probe: _durable.EngineRuleset) -> None:
    """Defect: 256 properties fail (302) — if one got through, EngineError, session deleted."""
    with pytest.raises(tierrules.EngineError, match="302"):
        probe.match([{"type": "probe", **{f"k{i}": i for i in range(300)}}])
    assert probe.live_sessions == 0


def test_raw_batch_with_an_unmatched_fact_dispatches_nothing(raw: dict[str, Any]) -> None:
    """Defect: one unmatched fact makes a batch "not handled"; matched facts' actions stay queued."""
    assert raw["batch_unmatched"] == "not handled"
    assert raw["batch_unmatched_dispatched"] == ["1"]  # they ran only when dispatched by hand


def test_fence_batches_with_unmatched_facts_lose_no_match(probe: _durable.EngineRuleset) -> None:
    """Defect: queued actions after "not handled" — the fence dispatches them itself."""
    facts = [{"type": "other"}, {"type": "probe"}, {"type": "other"}, {"type": "probe"}, {"type": "other"}]
    assert probe.match(facts) == {1: ["probe#start"], 3: ["probe#start"]}
    assert probe.match([{"type": "other"}]) == {}


def test_raw_batch_stops_silently_at_a_fact_it_cannot_take(raw: dict[str, Any]) -> None:
    """Defect: a 300-property fact in a batch raises nothing and drops the facts after it."""
    assert raw["batch_wide"] == ["3"]


def test_raw_batch_starting_with_a_fact_it_cannot_take_segfaults() -> None:
    """Defect: a batch whose first fact fails (error 302 territory) crashes the process."""
    assert run("raw.py", "batch_wide_first").returncode == SEGFAULT


def test_fence_refuses_wide_facts_before_posting(probe: _durable.EngineRuleset) -> None:
    """Defect: batch crash/truncation on wide facts — refused before anything is posted."""
    with pytest.raises(tierrules.EngineError, match="300 properties"):
        probe.match([{"type": "probe", **{f"k{i}": i for i in range(299)}}])
    assert probe.live_sessions == 0


def test_fence_detects_a_batch_cut_short(
    probe: _durable.EngineRuleset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect: silent batch truncation — the end marker is missing, so the fence raises."""
    monkeypatch.setattr(_durable, "MAX_FACT_PROPERTIES", 10_000)  # let the wide fact through
    wide = {"type": "probe", **{f"k{i}": i for i in range(300)}}
    with pytest.raises(tierrules.EngineError, match="stopped part-way"):
        probe.match([{"type": "probe"}, wide, {"type": "probe"}])
    assert probe.live_sessions == 0
    monkeypatch.undo()
    assert probe.match([{"type": "probe"}]) == {0: ["probe#start"]}


def test_raw_two_parameter_action_blocks_session(raw: dict[str, Any]) -> None:
    """Defect: an action with two parameters is asynchronous and blocks its session."""
    assert raw["async_first"] == ["async"]
    assert raw["async_second"] == []  # the b rule never ran: the session waits for a callback


def test_fence_actions_take_one_parameter(
    default_engine: tierrules.Engine, probe: _durable.EngineRuleset
) -> None:
    """Defect: two-parameter actions are async — every registered fence action takes one."""
    for fence in (default_engine._matcher.engine_ruleset, probe):
        actions = registered(fence)._actions
        assert set(actions) == set(registered(fence).get_definition())
        for name, promise in actions.items():
            assert len(inspect.signature(promise._func).parameters) == 1, name
            assert promise._sync, name


def test_raw_join_session_poisoning(raw: dict[str, Any]) -> None:
    """Defect: a stored event missing a joined field poisons the session (error 311)."""
    assert raw["join_healthy"] == [[], ["2"]]
    poisoned = raw["join_poisoned"]
    assert poisoned[1] == poisoned[3] == "error: Could not assert fact, error code: 311"


def test_raw_two_patterns_are_two_events(raw: dict[str, Any]) -> None:
    """Defect: `all` with two patterns needs two events, even if one event fits both."""
    assert raw["two_patterns"] == [[], [["1", "2"]]]


def test_tierrules_rules_have_exactly_one_pattern(default_engine: tierrules.Engine) -> None:
    """Defects: join poisoning (311), two-pattern semantics, cross-event arithmetic — no joins."""
    definition = registered(default_engine._matcher.engine_ruleset).get_definition()
    assert len(definition) == len(default_engine._compiled.shared) + 1  # + the marker
    for name, rule in definition.items():
        assert set(rule) == {"all"}, name
        [pattern] = rule["all"]
        assert list(pattern) == ["m"], name
        for key, value in walk(pattern["m"]):
            # operators start with `$`; a field's value is a constant, never another event's field
            assert key.startswith("$") or isinstance(value, str | int | bool), (name, key)
            assert key not in ("$l", "$r"), name
    # a rule on two fields of one event is one `$and` pattern and fires on that one event
    decision = default_engine.evaluate([ev("feedback_received", "10:00", severity="important")], now=NOW)
    assert "E3.progress-report" in {o.rule for o in decision.obligations}


def test_raw_unmatched_post_raises(raw: dict[str, Any]) -> None:
    """Defect: a post no rule matches raises MessageNotHandledException."""
    assert raw["no_match"] == "not handled"


def test_tierrules_unmatched_events_are_normal_flow(
    default_engine: tierrules.Engine, probe: _durable.EngineRuleset
) -> None:
    """Defect: MessageNotHandledException is normal flow — unmatched events give an empty decision."""
    events = [ev("case_paused", "10:00"), ev("case_resumed", "10:05", case="c2")]
    quiet = tierrules.Decision(next_check_by_case={"c1": None, "c2": None})
    assert default_engine.evaluate(events, now=NOW) == quiet
    assert default_engine.evaluate([], now=NOW) == tierrules.Decision()
    assert probe.match([{"type": "other"}, {"type": "probe"}]) == {1: ["probe#start"]}


def test_raw_bad_rulesets_fail_with_bare_codes(raw: dict[str, Any]) -> None:
    """Defect: a bad JSON ruleset fails with a bare numeric code."""
    assert raw["bad_rulesets"] == {
        "unknown_operator": "Could not create ruleset, error code: 202",
        "all_not_a_list": "Could not create ruleset, error code: 204",
    }


def test_tierrules_validates_rulesets_first() -> None:
    """Defect: bare numeric codes — tierrules names the path, and wraps engine refusals."""
    bad = generated_ruleset([{**deadline(1), "within": "ten minutes"}])
    with pytest.raises(tierrules.RulesetError) as err:
        tierrules.load_ruleset(bad)
    assert err.value.json_path == "$.deadlines[0].within"
    with pytest.raises(tierrules.EngineError, match="durable_rules refused ruleset"):
        _durable.engine_ruleset({"bad": {"all": [{"m": {"$zz": {"a": 1}}}]}}, "bad", "bad.opened")


# --- Threads and global state ------------------------------------------------------------


def test_tierrules_threads_give_serial_results() -> None:
    """Defect: not thread-safe — 8 threads on distinct cases equal the serial decisions."""
    out = run_json("fence.py", "threads", "8", "400")
    assert out["obligations"] > 1000  # every case has several
    assert (out["differ"], out["errors"], out["live_sessions"]) == ([], [], 1)


def test_raw_ruleset_names_register_once(raw: dict[str, Any]) -> None:
    """Defect: a ruleset name cannot be registered twice on a Host."""
    assert raw["register_twice"] == "Ruleset with name nomatch already registered"


def test_tierrules_one_host_versioned_names() -> None:
    """Defect: names register once per Host — one shared host, names versioned by content."""
    first = tierrules.Engine(tierrules.load_ruleset())
    again = tierrules.Engine(tierrules.load_ruleset())  # would raise if it registered again
    assert first._matcher.engine_ruleset is again._matcher.engine_ruleset
    changed = tierrules.Engine(tierrules.load_ruleset(generated_ruleset([deadline(1)])))
    assert changed._matcher.engine_ruleset.name != first._matcher.engine_ruleset.name
    assert changed._matcher.engine_ruleset.name.startswith("tierrules_")
    host = _durable._shared_host()
    assert host is _durable._shared_host()
    assert {first._matcher.engine_ruleset.name, changed._matcher.engine_ruleset.name} <= set(
        host._ruleset_directory
    )


def test_python_313_is_excluded() -> None:
    """Defect: durable_rules does not import on Python 3.13 — requires-python stops at 3.12."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    supported = SpecifierSet(project["requires-python"])
    assert "3.11.7" in supported and "3.12.0" in supported
    assert "3.13.0" not in supported and "3.14.0" not in supported
    assert "durable_rules==2.0.28" in project["dependencies"]


def test_python_312_deprecation_warning_is_silenced() -> None:
    """Defect: durable/engine.py warns on Python 3.12 (utcfromtimestamp) — the fence ignores it."""
    code = (
        "import warnings, tierrules.matching.durable\n"
        "warnings.warn_explicit('utcfromtimestamp() is deprecated', DeprecationWarning,\n"
        "                       'engine.py', 16, module='durable.engine')\n"
        "print('ok')\n"
    )
    src = str(Path(tierrules.__file__).resolve().parents[1])
    proc = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": src},
        check=False,
    )
    assert (proc.returncode, proc.stdout.strip()) == (0, "ok"), proc.stderr[-2000:]


def test_fence_session_whose_opening_marker_fails_is_deleted(
    probe: _durable.EngineRuleset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defects: swallowed action errors, delete without action — a session whose opening
    marker's action ran but failed is deleted (an action ran) and the call fails."""
    host = _durable._shared_host()
    assert_fact = host.assert_fact

    def without_id(name: str, fact: dict[str, Any], *rest: Any) -> Any:
        return assert_fact(name, {k: v for k, v in fact.items() if k != "id"}, *rest)

    monkeypatch.setattr(host, "assert_fact", without_id)
    with pytest.raises(tierrules.EngineError, match=r"session marker failed: .*without a string id"):
        probe.match([{"type": "probe"}])
    assert probe.live_sessions == 0
    monkeypatch.undo()
    assert probe.match([{"type": "probe"}]) == {0: ["probe#start"]}
    assert probe.live_sessions == 1


def test_fence_reuses_one_session_and_retracts_its_facts(probe: _durable.EngineRuleset) -> None:
    """Session churn costs time in proportion to the rules: one session, facts retracted after."""
    for _ in range(50):
        assert probe.match([{"type": "probe"}, {"type": "other"}]) == {0: ["probe#start"]}
    assert probe.live_sessions == 1
    state = _durable._shared_host().get_state(probe.name, probe._sid)
    assert set(state) <= {"sid", "id", "$s"}  # no fact left behind
