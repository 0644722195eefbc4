"""The durable_rules matcher, and the fence around durable_rules 2.0.28.

durable_rules does the rule matching; this module is the only place that touches it,
and it holds every workaround for its measured defects (docs/durable_rules.md):

* no background threads: ``Host._run`` starts timer threads that make ``delete_state``
  segfault intermittently, so our host never starts them (and we use no durable timers:
  deadlines come from our own calendar arithmetic);
* one process-wide lock around every call (the engine is not thread-safe);
* one long-lived session per ruleset, whose facts are retracted after each call (creating
  and deleting a session costs time in proportion to the ruleset's rules; retracting does
  not), so a ruleset never nears the 1,024-live-session limit; a marker fact fires an
  action when the session opens, because deleting a session in which no action ran
  segfaults, and the session is deleted only after a failure;
* every posted fact gets a unique string id (the engine de-duplicates by content);
* a session's facts go in as one batch (``assert_facts``); when any fact of a batch matches
  no rule the engine reports the whole batch "not handled" and leaves the matched facts'
  actions queued, undispatched: we dispatch them ourselves, with errors reported, and keep
  only the hits of our own session;
* actions take one parameter (two makes them asynchronous) and never raise into the
  engine, which would swallow the exception: we record it and re-raise after posting;
* only validated, flat facts of matchable fields are posted (type looseness, the
  256-property limit, ``$`` keys), and no regular expressions are ever compiled;
* one shared Host, with ruleset names versioned by content (names cannot be reused);
* no ``durable.lang`` import: it creates a module-level Host with running threads;
* numbers reach the engine in the only forms its JSON reader takes: its number parser
  accepts an exponent only after a fraction (``1.0e-09``, never ``1e-09``, which Python's
  ``json`` writes) and reads integers with ``atol``; durable_rules' own ``json`` is replaced
  by :class:`_EngineJson`, which writes floats with a fraction and refuses integers past 64 bits;
* a condition with ``$or`` fires its action once per matching alternative: hits are counted
  once per rule and fact;
* rule sets past the measured limits (511 distinct values tested on one field, ~1,500
  rules) are refused before they reach the engine, naming the ruleset rule at fault.
  Conditions never join two facts, so the same-type join crash (31+ rules) cannot arise.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import itertools
import json
import logging
import re
import signal
import threading
import warnings
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal

from ..compiler.conditions import AllOf, AnyOf, AtLeast, Condition, Equals, Fact, MatchRule, tests
from ..errors import EngineError, Problem, Rank, RulesetError

# durable/engine.py calls datetime.utcfromtimestamp, deprecated since Python 3.12.
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"durable\.engine")

import durable.engine as _de  # noqa: E402
import durable_rules_engine as _dre  # noqa: E402

_INT64 = 2**63 - 1
_BARE_EXPONENT = re.compile(r"[0-9][eE]|[0-9]{19}")  # an exponent, or an integer near 64 bits


class _EngineJson:
    """What ``durable.engine`` calls ``json``: stdlib JSON, with numbers the engine can read.

    The C number parser (``getNumber`` in rules/src/rules/json.c) only accepts an exponent
    after a fraction, so ``1e-09`` ends the number at ``e`` and the rest of the text fails to
    parse (the whole batch is then lost); ``1.0e-09`` is read. Integers go through ``atol``,
    so one past 64 bits is refused here rather than silently wrapped.
    """

    loads = staticmethod(json.loads)

    @staticmethod
    def dumps(value: Any, **kwargs: Any) -> str:
        text = json.dumps(value, **kwargs)
        # Fast path: almost every batch has no number written with an exponent.
        if not _BARE_EXPONENT.search(text):
            return text
        # Floats become marked strings, then the marks and quotes are dropped: the number
        # is written as the engine reads it, and no string of the data is touched.
        marked = json.dumps(_engine_numbers(value), **kwargs)
        return marked.replace(_MARK_OPEN, "").replace(_MARK_CLOSE, "")


_MARK = "\x00"  # NUL never occurs in facts (validated enums and generated ids)
_MARK_OPEN = '"' + json.dumps(_MARK)[1:-1]
_MARK_CLOSE = json.dumps(_MARK)[1:-1] + '"'


def _engine_number(value: float) -> str:
    text = repr(value)
    mantissa, e, exponent = text.partition("e")
    if e and "." not in mantissa:
        text = f"{mantissa}.0e{exponent}"
    return f"{_MARK}{text}{_MARK}"


def _engine_numbers(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return _engine_number(value)
    if isinstance(value, int) and not -_INT64 <= value <= _INT64:
        raise EngineError(f"integer {value} is past durable_rules' 64-bit range")
    if isinstance(value, dict):
        return {k: _engine_numbers(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_engine_numbers(v) for v in value]
    return value


_de.json = _EngineJson  # durable.engine's module-level ``json`` name

LOCK = threading.RLock()

# durable_rules logs a traceback for every action error it catches (to stderr, through
# logging's last-resort handler); each is an EngineError of ours already.
_DURABLE_LOG = logging.getLogger("durable")
_DURABLE_LOG.addHandler(logging.NullHandler())
_DURABLE_LOG.propagate = False


# Signals whose Python handlers raise (KeyboardInterrupt, or a host's SystemExit).
_DEFERRED_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM") if hasattr(signal, name))


@contextlib.contextmanager
def _deferred_signals() -> Iterator[None]:
    """Hold SIGINT/SIGTERM while a session is opened or deleted; deliver them to their handlers after.

    Opening and deleting a session change what must be deleted later, so an interrupt in
    the middle would leave the bookkeeping wrong. Python runs signal handlers in the main
    thread only; there each Python-level handler is swapped for one that records the
    signal, and restored and called when the block ends. It costs some 20 µs (four
    ``signal`` calls), so it guards only these rare steps, never the posting of facts (there
    :class:`_FenceAction` keeps interrupts from being swallowed).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[tuple[int, Any]] = []
    saved: dict[int, Callable[[int, Any], Any]] = {}

    def defer(signum: int, frame: Any) -> None:
        pending.append((signum, frame))

    try:
        for number in _DEFERRED_SIGNALS:
            handler = signal.getsignal(number)
            if callable(handler):
                saved[number] = handler
                signal.signal(number, defer)
        yield
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)
        for number, frame in pending:
            saved[number](number, frame)


@contextlib.contextmanager
def _inside_engine() -> Iterator[None]:
    """The process-wide engine lock; rulesets whose engines were collected are released first
    (outermost entry only)."""
    with LOCK:
        if _dropped and not _releasing:
            _releasing.append(True)
            try:
                _collect_dropped()
            finally:
                _releasing.clear()
        yield


_releasing: list[bool] = []  # set while _collect_dropped runs (it re-enters _inside_engine)


MAX_LIVE_SESSIONS = 1000  # the engine fails at its 1,025th live session
MAX_FACT_PROPERTIES = 253  # 256 properties fail (error 302); the fence adds id and sid
MAX_DISTINCT_VALUES_PER_FIELD = 511  # 512 distinct values tested on one field hang posting
MAX_ENGINE_RULES = 500  # 1,500 simple rules fail with error 303 and ~2 GB RSS
SESSION_MARKER_TYPE = "tierrules.session_opened"
SESSION_MARKER_RULE = "tierrules.session"


class _FenceAction(_de.Promise):  # type: ignore[misc]
    """How durable_rules runs a fence action: nothing it raises reaches durable_rules' handlers.

    durable_rules' own ``Promise.run`` catches BaseException around an action and turns it
    into session state, so a Ctrl-C delivered as the action starts (Python runs signal
    handlers between bytecodes) vanished, or became an "action failed" EngineError. Here a
    KeyboardInterrupt or SystemExit raised in the action is kept and re-raised by ``match``
    once the call is over (the action is completed, the engine consistent); one raised
    around it propagates through durable_rules' dispatch to ``match``, which discards the
    session. Exceptions never get here: the action records them.
    """

    def __init__(self, func: Callable[[Any], None], interrupts: list[BaseException]) -> None:
        super().__init__(func)
        self._interrupts = interrupts

    def __call__(self, c: Any) -> None:
        """The action itself (what ``run`` calls)."""
        self._func(c)

    def run(self, c: Any, complete: Callable[[Any], None]) -> None:
        try:
            self._func(c)
        except BaseException as err:
            self._interrupts.append(err)
        complete(None)


class _QuietHost(_de.Host):  # type: ignore[misc]
    """A Host that never starts the dispatch and timer threads."""

    def _run(self) -> None:
        return None

    def get_action(self, action_name: str) -> Any:
        raise EngineError(f"durable_rules asked for unknown action {action_name!r}")


_host: _QuietHost | None = None
_registered: dict[str, EngineRuleset] = {}
_session_ids = itertools.count(1)

UNUSED_KEPT = 8
"""Registered rulesets that no engine uses any more, kept (most recent first) so that an
unchanged definition loaded again reuses its registration; older ones are deleted from
durable_rules, with their memory (docs/reliability.md, "Reloading rulesets")."""
_unused: collections.OrderedDict[str, None] = collections.OrderedDict()
# Names whose last user was garbage-collected: appended by finalizers (in any thread, at any
# time), handled under the engine lock at the next use of the engine.
_dropped: collections.deque[str] = collections.deque()


def _shared_host() -> _QuietHost:
    global _host
    if _host is None:
        _host = _QuietHost()
    return _host


class EngineRuleset:
    """A durable_rules ruleset registered once on the shared host.

    ``match`` posts facts into a fresh session and returns, for each fact, the names of
    the rules it matched.
    """

    def __init__(
        self,
        name: str,
        definition: Mapping[str, Mapping[str, Any]],
        marker_rule: str,
        marker_type: str,
    ) -> None:
        self.name = name
        self.marker_rule = marker_rule
        self.marker_type = marker_type
        self.live_sessions = 0
        self.users = 0  # engines (matchers) using it; see acquire()
        self._sid: str | None = None
        self._calls = itertools.count(1)
        self._hits: list[tuple[str, str, str]] = []
        self._errors: list[str] = []
        self._interrupts: list[BaseException] = []
        engine_def: dict[str, dict[str, Any]] = {}
        for rule_name, rule in definition.items():
            engine_def[rule_name] = {**json.loads(json.dumps(rule)), "run": self._action(rule_name)}
        try:
            _shared_host().register_rulesets({name: engine_def})
        except Exception as err:  # the engine reports bad definitions as bare numeric codes
            raise EngineError(f"durable_rules refused ruleset {name!r}: {err}") from err

    def _action(self, rule_name: str) -> _FenceAction:
        hits, errors, interrupts = self._hits, self._errors, self._interrupts

        def action(c: Any) -> None:  # exactly one parameter: two would make it async
            try:
                # durable_rules 2.0.28 keeps the matched message as a dict in ``c._m``; ``c.m``
                # would build a wrapper object per read.
                raw = getattr(c, "__dict__", {}).get("_m")
                fact = raw.get("m") if isinstance(raw, dict) else None
                if isinstance(fact, dict):
                    fact_id, sid = fact.get("id"), fact.get("sid")
                else:
                    m = c.m
                    fact_id, sid = m["id"], m["sid"]
                if not isinstance(fact_id, str) or not isinstance(sid, str):
                    raise TypeError(f"fact without a string id and sid: {fact_id!r}, {sid!r}")
                hits.append((rule_name, sid, fact_id))
            except Exception as err:  # the engine would swallow it
                errors.append(f"{rule_name}: {type(err).__name__}: {err}")

        return _FenceAction(action, interrupts)

    # Kept whole: size check, markers, retract-or-discard and hit mapping share one sid in one fence.
    def match(self, facts: Sequence[Mapping[str, Any]]) -> dict[int, list[str]]:
        """Post ``facts`` (flat, validated) and map fact index -> the rules it matched.

        The facts go into this ruleset's one long-lived session and are retracted after:
        creating and deleting a session costs time in proportion to the number of rules,
        retracting does not. Rules never join facts, so facts of one call cannot match with
        another's. On any failure the session is deleted and the next call opens a new one.
        """
        with _inside_engine():
            host = _shared_host()
            for index, fact in enumerate(facts):
                if len(fact) > MAX_FACT_PROPERTIES:
                    raise EngineError(
                        f"fact {index} has {len(fact)} properties; durable_rules fails past "
                        f"{MAX_FACT_PROPERTIES + 2} (error 302) and drops the rest of a batch"
                    )
            sid = self._session(host)
            call = next(self._calls)
            prefix = f"{call}."
            # The marker first: a batch whose first fact the engine cannot take crashes it.
            # The end marker last: its action proves the engine took the whole batch.
            start_id, end_id = f"{call}.start", f"{call}.end"
            batch = [{"id": start_id, "type": self.marker_type, "sid": sid}]
            batch += [{**fact, "id": f"{prefix}{index}", "sid": sid} for index, fact in enumerate(facts)]
            batch.append({"id": end_id, "type": self.marker_type, "sid": sid})
            self._hits.clear()
            self._errors.clear()
            self._interrupts.clear()
            done = False
            try:
                if not self._post(host, batch):
                    self._dispatch_queued(host, len(batch))
                markers = {f for rule, s, f in self._hits if rule == self.marker_rule and s == sid}
                if self._interrupts:
                    raise self._interrupts[0]
                if self._errors:
                    raise EngineError("a rule action failed: " + "; ".join(self._errors))
                if start_id not in markers or end_id not in markers:
                    raise EngineError("durable_rules stopped part-way through the facts; nothing was decided")
                self._retract(host, batch)
                done = True
            finally:
                if not done:
                    self._discard(host)
            out: dict[int, list[str]] = {}
            for rule, s, fact_id in self._hits:
                if rule != self.marker_rule and s == sid and fact_id.startswith(prefix):
                    found = out.setdefault(int(fact_id[len(prefix) :]), [])
                    if rule not in found:  # an $or fires once per matching alternative
                        found.append(rule)
            return out

    def _session(self, host: _QuietHost) -> str:
        """The ruleset's session, opened on first use with a marker whose action runs.

        An action must have run in a session before it may be deleted (else: segfault), so
        a session whose opening marker did not fire is never kept or deleted.
        """
        if self._sid is not None:
            return self._sid
        with _deferred_signals():
            return self._open(host)

    def _open(self, host: _QuietHost) -> str:
        if self.live_sessions >= MAX_LIVE_SESSIONS:
            raise EngineError(f"{self.live_sessions} live durable_rules sessions; refusing another")
        sid = f"s{next(_session_ids)}"
        self._hits.clear()
        self._errors.clear()
        self._interrupts.clear()
        self.live_sessions += 1
        try:
            host.assert_fact(self.name, {"id": "opened", "type": self.marker_type, "sid": sid})
        except BaseException as err:
            # Interrupted (Ctrl-C) or failed: delete the session if an action ran in it,
            # else leave it counted (deleting it could crash the engine).
            if self._interrupts or self._marker_ran(sid):
                self._delete(host, sid)
            if isinstance(err, Exception):
                raise EngineError(f"durable_rules could not open a session: {err}") from err
            raise
        if self._interrupts:  # the marker's action ran and was interrupted: deletable
            self._delete(host, sid)
            raise self._interrupts[0]
        if self._errors:  # the marker's action ran but failed: deletable, but not usable
            self._delete(host, sid)
            raise EngineError("durable_rules session marker failed: " + "; ".join(self._errors))
        if not self._marker_ran(sid):
            raise EngineError("durable_rules session marker failed: no action ran")
        self._sid = sid
        return sid

    def _marker_ran(self, sid: str) -> bool:
        return any(rule == self.marker_rule and s == sid for rule, s, _ in self._hits)

    def _discard(self, host: _QuietHost) -> None:
        """Delete the session after a failure (safe: its opening marker's action ran)."""
        if self._sid is None:
            return
        with _deferred_signals():
            sid, self._sid = self._sid, None
            self._delete(host, sid)

    def _delete(self, host: _QuietHost, sid: str) -> None:
        """Delete a session in which an action ran, and count it gone, even when interrupted.

        An interrupt can land in durable_rules' Python before or after its C call: the
        deletion is tried again (deleting a deleted session is a harmless error), then the
        interrupt goes on.
        """
        try:
            host.delete_state(self.name, sid)
        except Exception:
            pass
        except BaseException:
            with contextlib.suppress(Exception):
                host.delete_state(self.name, sid)
            raise
        finally:
            self.live_sessions -= 1

    def release(self) -> None:
        """Delete this ruleset from durable_rules (its session first), freeing its memory.

        Only for a ruleset no engine uses: it cannot be matched on afterwards. Its session's
        opening marker ran, so deleting the session is safe; the engine then frees the
        ruleset's node, string and state pools.
        """
        host = _shared_host()
        self._discard(host)
        engine_side = host._ruleset_directory.pop(self.name, None)
        _registered.pop(self.name, None)
        if engine_side is None:
            return
        with contextlib.suppress(ValueError):
            host._ruleset_list.remove(engine_side)
        try:
            _dre.delete_ruleset(engine_side._handle)
        except Exception as err:  # an invalid handle: nothing was freed, nothing is broken
            raise EngineError(f"durable_rules could not delete ruleset {self.name!r}: {err}") from err

    def _retract(self, host: _QuietHost, batch: list[dict[str, Any]]) -> None:
        try:
            host.retract_facts(self.name, batch)
        except _de.MessageNotHandledException:
            pass  # retractions match no rule: normal flow
        except Exception as err:
            raise EngineError(f"durable_rules failed retracting facts: {err}") from err

    def _post(self, host: _QuietHost, facts: list[dict[str, Any]]) -> bool:
        """Assert ``facts`` as one batch; False when the engine left their actions queued."""
        try:
            host.assert_facts(self.name, facts)
        except _de.MessageNotHandledException:
            return False  # some fact matched no rule: normal flow, but nothing was dispatched
        except _de.MessageObservedException as err:
            raise EngineError(f"durable_rules de-duplicated a fact: {err.message}") from None
        except EngineError:
            raise
        except Exception as err:
            raise EngineError(f"durable_rules failed on a fact: {err}") from err
        return True

    def _dispatch_queued(self, host: _QuietHost, limit: int) -> None:
        """Run the actions a "not handled" batch left queued, as the host's dispatch thread would.

        ``Ruleset.dispatch`` drops errors; this reports them. Each round drains one session's
        queue, so ``limit`` rounds (one per fact) is far more than a drained queue needs.
        """
        ruleset = host.get_ruleset(self.name)
        failures: list[BaseException] = []

        def complete(error: Any, _state: Any) -> None:
            if isinstance(error, BaseException) and not isinstance(error, Exception):
                self._interrupts.append(error)  # re-raised by match once the session is discarded
            elif error:
                failures.append(error if isinstance(error, BaseException) else EngineError(str(error)))

        for _ in range(limit + 1):
            try:
                result = _dre.start_action(ruleset._handle)
                if not result:
                    return
                ruleset._flush_actions(
                    json.loads(result[0]), {"message": json.loads(result[1])}, result[2], complete
                )
            except Exception as err:
                raise EngineError(f"durable_rules failed dispatching actions: {err}") from err
            if failures:
                raise EngineError(f"durable_rules failed dispatching actions: {failures[0]}")
        raise EngineError("durable_rules kept queueing actions; gave up dispatching")


def translate(condition: Condition) -> dict[str, Any]:
    """A condition in durable_rules' JSON form (one fact: ``$and``/``$or``, ``$gte``)."""
    match condition:
        case Equals(field, value):
            return {field: value}
        case AtLeast(field, value):
            return {"$gte": {field: value}}
        case AnyOf(terms):
            return {"$or": [translate(t) for t in terms]}
        case AllOf(terms):
            return {"$and": [translate(t) for t in terms]}
    raise TypeError(f"not a condition: {condition!r}")


def definition(rules: Sequence[MatchRule]) -> dict[str, dict[str, Any]]:
    """The durable_rules ruleset (without actions): one single-fact rule per match rule, plus
    the session marker rule."""
    out = {rule.name: {"all": [{"m": translate(rule.condition)}]} for rule in rules}
    out[SESSION_MARKER_RULE] = {"all": [{"m": {"type": SESSION_MARKER_TYPE}}]}
    return out


def check_limits(rules: Sequence[MatchRule]) -> Iterator[Problem]:
    """Refuse rule sets past durable_rules' measured limits; paths are the rules' origins."""
    if len(rules) + 1 > MAX_ENGINE_RULES:
        yield Problem(
            f"{len(rules) + 1} engine rules; durable_rules fails past about 1,500 and "
            f"tierrules allows at most {MAX_ENGINE_RULES}",
            rank=Rank.ENGINE_LIMIT,
        )
    values: dict[str, set[str]] = {}
    reported: set[str] = set()
    for rule in rules:
        for test in tests(rule.condition):
            seen = values.setdefault(test.field, set())
            seen.add(repr(test.value))
            if len(seen) > MAX_DISTINCT_VALUES_PER_FIELD and test.field not in reported:
                reported.add(test.field)
                yield Problem(
                    f"more than {MAX_DISTINCT_VALUES_PER_FIELD} distinct values tested on field "
                    f"{test.field!r} (durable_rules hangs at 512)",
                    rule.origin,
                    rank=Rank.ENGINE_LIMIT,
                )


class DurableMatcher:
    """Matches facts on durable_rules, through the fence (:class:`EngineRuleset`)."""

    kind: Literal["durable"] = "durable"

    def __init__(self, rules: Sequence[MatchRule]) -> None:
        problems = list(check_limits(rules))
        if problems:
            raise RulesetError(problems)
        self._order = {rule.name: i for i, rule in enumerate(rules)}
        self.engine_ruleset = acquire(definition(rules), self)

    def match(self, facts: Sequence[Fact]) -> dict[int, tuple[str, ...]]:
        hits = self.engine_ruleset.match(facts)
        order = self._order
        return {i: tuple(sorted(names, key=order.__getitem__)) for i, names in hits.items()}


def acquire(definition: Mapping[str, Mapping[str, Any]], user: object) -> EngineRuleset:
    """The registered engine ruleset for ``definition``, used by ``user`` until it is collected.

    When its last user is gone, the ruleset joins the :data:`UNUSED_KEPT` most recently
    unused ones, and the oldest beyond those is deleted from durable_rules: a process that
    reloads edited rulesets keeps a bounded number of them, and one that reloads an
    unchanged ruleset reuses its registration.
    """
    with _inside_engine():
        found = engine_ruleset(definition)
        found.users += 1
        _unused.pop(found.name, None)
        weakref.finalize(user, _dropped.append, found.name)
        return found


def _collect_dropped() -> None:
    """Count down the users of rulesets whose engines were collected; release the excess unused.

    Called with the engine lock held (finalizers only queue names: they may run anywhere).
    """
    while _dropped:
        name = _dropped.popleft()
        found = _registered.get(name)
        if found is None:
            continue
        found.users -= 1
        if found.users <= 0:
            _unused[name] = None
            _unused.move_to_end(name)
    while len(_unused) > UNUSED_KEPT:
        name, _ = _unused.popitem(last=False)
        found = _registered.get(name)
        if found is not None and found.users <= 0:
            found.release()


def registered_count() -> int:
    """How many rulesets are registered in durable_rules in this process (tests and benchmarks)."""
    with _inside_engine():
        return len(_registered)


def engine_ruleset(
    definition: Mapping[str, Mapping[str, Any]],
    marker_rule: str = SESSION_MARKER_RULE,
    marker_type: str = SESSION_MARKER_TYPE,
) -> EngineRuleset:
    """The registered engine ruleset for ``definition``, registering it on first use."""
    digest = hashlib.sha256(json.dumps(definition, sort_keys=True).encode()).hexdigest()[:20]
    name = f"tierrules_{digest}"
    with _inside_engine():
        found = _registered.get(name)
        if found is None:
            found = EngineRuleset(name, definition, marker_rule, marker_type)
            _registered[name] = found
        return found
