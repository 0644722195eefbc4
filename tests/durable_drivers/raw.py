"""Drive durable_rules 2.0.28 directly, without tierrules, to show its measured defects.

Run as ``python raw.py <scenario> [args]``. Scenarios that crash or hang are meant to be
run in a subprocess with a timeout; the others print one JSON object of observations.
Only ``durable.engine`` is used (never ``durable.lang``), with a Host whose ``_run``
starts no background threads unless the scenario is about those threads.
"""

from __future__ import annotations

import json
import sys
import threading
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)

import durable.engine as de  # noqa: E402


class QuietHost(de.Host):  # type: ignore[misc]
    """No dispatch or timer threads."""

    def _run(self) -> None:
        return None


HITS: list[object] = []


def record(c: de.Closure) -> None:
    HITS.append(c.m["id"])


def one_rule_host(name: str = "r") -> QuietHost:
    host = QuietHost()
    host.register_rulesets({name: {"a": {"all": [{"m": {"type": "a"}}], "run": record}}})
    return host


def post(host: QuietHost, ruleset: str, fact: dict[str, object]) -> object:
    """The ids the fact's actions recorded, or what went wrong, as a JSON-able value."""
    HITS.clear()
    try:
        host.assert_fact(ruleset, fact)
    except de.MessageNotHandledException:
        return "not handled"
    except de.MessageObservedException:
        return "observed"
    except Exception as err:
        return f"{type(err).__name__}: {err}"
    return list(HITS)


def post_batch(host: QuietHost, ruleset: str, facts: list[dict[str, object]]) -> object:
    """Like :func:`post`, for ``assert_facts``."""
    HITS.clear()
    try:
        host.assert_facts(ruleset, facts)
    except de.MessageNotHandledException:
        return "not handled"
    except Exception as err:
        return f"{type(err).__name__}: {err}"
    return list(HITS)


def say(text: str) -> None:
    print(text, flush=True)


# --- crashes and hangs (run these in a subprocess) ---------------------------------------


def delete_without_action() -> None:
    """delete_state on a session in which no action ran: segfaults."""
    host = one_rule_host()
    say(f"post: {post(host, 'r', {'id': '1', 'type': 'b', 'sid': 's1'})}")
    host.delete_state("r", "s1")
    say("deleted")  # not reached


def delete_after_action() -> None:
    """The control: once an action ran, delete_state is fine."""
    host = one_rule_host()
    say(f"post: {post(host, 'r', {'id': '1', 'type': 'a', 'sid': 's1'})}")
    host.delete_state("r", "s1")
    say("deleted")


def live_sessions(count: str) -> None:
    """Open sessions (an action runs in each, none deleted) until the engine fails."""
    host = one_rule_host()
    for i in range(1, int(count) + 1):
        try:
            host.assert_fact("r", {"id": "1", "type": "a", "sid": f"s{i}"})
        except MemoryError:
            say(f"MemoryError at session {i}")
            host.assert_fact("r", {"id": "2", "type": "a", "sid": f"s{i}"})
            say("posted after MemoryError")  # not reached: segfault
            return
    say(f"{count} sessions fine")


def distinct_values(count: str) -> None:
    """``type == 't<i>'`` rules: 511 distinct values work, 512 hang the first post."""
    host = QuietHost()
    rules = {f"r{i}": {"all": [{"m": {"type": f"t{i}"}}], "run": record} for i in range(int(count))}
    host.register_rulesets({"many": rules})
    say("registered")
    say(f"post: {post(host, 'many', {'id': '1', 'type': 't0', 'sid': 's1'})}")


def same_type_joins(count: str) -> None:
    """Rules joining two events of the same two types: 70 make every post fail (303)."""

    def joined(c: de.Closure) -> None:
        HITS.append(c.b["id"])

    host = QuietHost()
    second = {"$and": [{"type": "b"}, {"$gt": {"at": {"a": "at"}}}]}
    rules = {
        f"j{i}": {"all": [{"a": {"$and": [{"type": "a"}, {"k": i}]}}, {"b": second}], "run": joined}
        for i in range(int(count))
    }
    host.register_rulesets({"joins": rules})
    say(f"first: {post(host, 'joins', {'id': '1', 'type': 'a', 'k': 0, 'at': 1, 'sid': 's1'})}")
    say(f"second: {post(host, 'joins', {'id': '2', 'type': 'b', 'at': 2, 'sid': 's1'})}")


def host_threads() -> None:
    """A plain Host starts background threads (and has no way to stop them)."""
    before = threading.active_count()
    de.Host()
    print(json.dumps({"before": before, "after": threading.active_count()}), flush=True)


# --- wrong results (safe: one JSON object of observations) -------------------------------


def batch_wide_first() -> None:
    """A batch whose first fact the engine cannot take (300 properties): segfaults."""
    host = one_rule_host()
    wide = {"id": "1", "type": "a", "sid": "s1", **{f"k{i}": i for i in range(300)}}
    say(str(post_batch(host, "r", [wide, {"id": "2", "type": "a", "sid": "s1"}])))


def observations() -> None:
    host = QuietHost()
    out: dict[str, object] = {}

    # Action exceptions are swallowed; the traceback lands in the session state.
    def boom(c: de.Closure) -> None:
        raise ValueError("boom")

    host.register_rulesets(
        {
            "exc": {
                "a_boom": {"all": [{"m": {"type": "a"}}], "run": boom},
                "b_later": {"all": [{"m": {"type": "b"}}], "run": record},
            }
        }
    )
    out["exception_post"] = post(host, "exc", {"id": "1", "type": "a", "sid": "s1"})
    out["exception_state"] = host.get_state("exc", "s1").get("exception", "")
    out["exception_later_rule"] = post(host, "exc", {"id": "2", "type": "b", "sid": "s1"})

    # Events without an id are de-duplicated by content.
    host.register_rulesets({"dup": {"a": {"all": [{"m": {"type": "a"}}], "run": record}}})
    out["dedup_first"] = post(host, "dup", {"type": "a", "x": 1, "sid": "s1"})
    out["dedup_second"] = post(host, "dup", {"type": "a", "x": 1, "sid": "s1"})

    # Regular expressions: alternation is broken.
    host.register_rulesets(
        {
            "re": {
                "alternation": {"all": [{"m": {"$mt": {"alt": ".*(stupid|idiot).*"}}}], "run": record},
                "plain": {"all": [{"m": {"$mt": {"plain": ".*stupid.*"}}}], "run": record},
            }
        }
    )
    text = "that is a stupid question"
    out["regex_alternation"] = post(host, "re", {"id": "1", "alt": text, "sid": "s1"})
    out["regex_plain"] = post(host, "re", {"id": "2", "plain": text, "sid": "s1"})

    # Type looseness: "5" and 5.5 match > 3; None and True do not.
    host.register_rulesets({"loose": {"gt": {"all": [{"m": {"$gt": {"rings": 3}}}], "run": record}}})
    out["loose"] = {
        repr(v): post(host, "loose", {"id": str(i), "rings": v, "sid": f"s{i}"})
        for i, v in enumerate(["5", 5.5, None, True, 2])
    }

    # 256 properties fail with error 302.
    host.register_rulesets({"wide": {"a": {"all": [{"m": {"type": "a"}}], "run": record}}})
    wide = {"id": "1", "type": "a", "sid": "s1", **{f"k{i}": i for i in range(253)}}
    out["wide_256"] = post(host, "wide", wide)

    # Unknown attributes on c.m read as None; the TypeError that follows is swallowed.
    seen: list[object] = []

    def typo(c: de.Closure) -> None:
        seen.append([c.m.tpye, hasattr(c.m, "get")])
        c.m.tpye.upper()

    host.register_rulesets({"typo": {"a": {"all": [{"m": {"type": "a"}}], "run": typo}}})
    out["typo_post"] = post(host, "typo", {"id": "1", "type": "a", "sid": "s1"})
    out["typo_seen"] = seen
    out["typo_exception"] = host.get_state("typo", "s1").get("exception", "")

    # A two-parameter action is asynchronous: its session blocks until the callback runs.
    def two_params(c: de.Closure, complete: object) -> None:
        HITS.append("async")

    host.register_rulesets(
        {
            "async": {
                "a": {"all": [{"m": {"type": "a"}}], "run": two_params},
                "b": {"all": [{"m": {"type": "b"}}], "run": record},
            }
        }
    )
    out["async_first"] = post(host, "async", {"id": "1", "type": "a", "sid": "s1"})
    out["async_second"] = post(host, "async", {"id": "2", "type": "b", "sid": "s1"})

    # A stored event missing a field a two-event rule uses poisons the session (311).
    def joined(c: de.Closure) -> None:
        HITS.append(c.b["id"])

    second = {"$and": [{"type": "b"}, {"$gt": {"at": {"a": "at"}}}]}
    host.register_rulesets({"join": {"j": {"all": [{"a": {"type": "a"}}, {"b": second}], "run": joined}}})
    out["join_healthy"] = [
        post(host, "join", {"id": "1", "type": "a", "at": 1, "sid": "s1"}),
        post(host, "join", {"id": "2", "type": "b", "at": 2, "sid": "s1"}),
    ]
    out["join_poisoned"] = [
        post(host, "join", {"id": "1", "type": "a", "sid": "s2"}),  # no "at"
        post(host, "join", {"id": "2", "type": "b", "at": 2, "sid": "s2"}),
        post(host, "join", {"id": "3", "type": "a", "at": 1, "sid": "s2"}),
        post(host, "join", {"id": "4", "type": "b", "at": 5, "sid": "s2"}),
    ]

    # Two patterns in `all` are two different events, even when one event fits both.
    def pair(c: de.Closure) -> None:
        HITS.append([c.m["id"], c.n["id"]])

    host.register_rulesets({"two": {"t": {"all": [{"m": {"a": 1}}, {"n": {"$gt": {"b": 3}}}], "run": pair}}})
    out["two_patterns"] = [
        post(host, "two", {"id": "1", "a": 1, "b": 5, "sid": "s1"}),
        post(host, "two", {"id": "2", "a": 0, "b": 5, "sid": "s1"}),
    ]

    # A post no rule matches raises MessageNotHandledException.
    host.register_rulesets({"nomatch": {"a": {"all": [{"m": {"type": "a"}}], "run": record}}})
    out["no_match"] = post(host, "nomatch", {"id": "1", "type": "z", "sid": "s1"})

    # A batch with one fact no rule matches is "not handled" as a whole: the matched
    # facts' actions stay queued, undispatched, until something dispatches them.
    host.register_rulesets({"batch": {"a": {"all": [{"m": {"type": "a"}}], "run": record}}})
    out["batch_unmatched"] = post_batch(
        host, "batch", [{"id": "1", "type": "a", "sid": "s1"}, {"id": "2", "type": "z", "sid": "s1"}]
    )
    HITS.clear()
    host.get_ruleset("batch").dispatch()
    out["batch_unmatched_dispatched"] = list(HITS)
    # A fact the engine cannot take stops a batch silently: no error, later facts dropped.
    # (A batch that starts with such a fact segfaults: scenario batch_wide_first.)
    wide_fact = {"id": "4", "type": "a", "sid": "s2", **{f"k{i}": i for i in range(300)}}
    out["batch_wide"] = post_batch(
        host,
        "batch",
        [{"id": "3", "type": "a", "sid": "s2"}, wide_fact, {"id": "5", "type": "a", "sid": "s2"}],
    )

    # Bad rulesets fail with bare numeric codes; names cannot be registered twice.
    bad = {
        "unknown_operator": {"r": {"all": [{"m": {"$zz": {"a": 1}}}], "run": record}},
        "all_not_a_list": {"r": {"all": "x", "run": record}},
    }
    out["bad_rulesets"] = {}
    for name, definition in bad.items():
        try:
            host.register_rulesets({name: definition})
            out["bad_rulesets"][name] = "accepted"  # type: ignore[index]
        except Exception as err:
            out["bad_rulesets"][name] = str(err)  # type: ignore[index]
    try:
        host.register_rulesets({"nomatch": {"a": {"all": [{"m": {"type": "a"}}], "run": record}}})
        out["register_twice"] = "accepted"
    except Exception as err:
        out["register_twice"] = str(err)

    print(json.dumps(out))


SCENARIOS = {
    "batch_wide_first": batch_wide_first,
    "delete_without_action": delete_without_action,
    "delete_after_action": delete_after_action,
    "live_sessions": live_sessions,
    "distinct_values": distinct_values,
    "same_type_joins": same_type_joins,
    "host_threads": host_threads,
    "observations": observations,
}

if __name__ == "__main__":
    SCENARIOS[sys.argv[1]](*sys.argv[2:])
