"""Hypothesis strategies for hostile input: raw JSON events and raw YAML rulesets.

Events start from well-formed cases (``tierrules.testing.timed_cases``) and the example
calls, then are mutated: a field set to a hostile value (integers past 64 bits or 4,300
digits, NaN, infinities, exponents, instants in year 1 or 9999, unpaired surrogates, long,
deep or wrongly typed values), a field dropped, an unknown or ``$`` key added, an event
duplicated or replaced. They are rendered to JSON text the way a host would send them,
with text-level mutations on top (bad UTF-8, deep nesting, truncation, long integer
literals). Rulesets start from the bundled default, one YAML file is mutated at the value
level (any value replaced by a hostile one) or at the text level (tags, anchors, aliases,
merge keys, deep nesting, bytes).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

import tierrules
from tierrules.events import EVENT_TYPES
from tierrules.testing import timed_cases

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = Path(tierrules.default_ruleset_path())
# The example event files (examples/ also holds case logs, such as demo-month.jsonl).
EXAMPLES = [
    ROOT / "examples" / name
    for name in ("complaint.jsonl", "call-simplified.jsonl", "call-traditional.jsonl")
]
RULESET_FILES = sorted(p.name for p in DEFAULT.glob("*.yaml"))

HOSTILE_INTS = [0, -1, 1, 3, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30]
HOSTILE_FLOATS = [0.0, -0.0, 3e-05, 1e16, 1e-300, 5e-324, 1.5e300, 1e308, math.inf, -math.inf, math.nan, 0.1]
HOSTILE_STRINGS = [
    "",
    " ",
    "x",
    "\x00",
    "\ud800",  # an unpaired surrogate: valid in JSON text, not encodable as UTF-8
    "😀" * 3,
    "$type",
    "e" * 5000,
    "不可能" * 50,
    "0001-01-01T00:00:00+08:00",
    "0001-01-01T00:00:00-23:59",
    "9999-12-31T23:59:59-23:59",
    "9999-12-31T23:59:59+00:00",
    "1899-12-31T23:59:59+00:00",
    "2200-01-01T00:00:00+00:00",
    "2026-11-24T10:00:00",
    "2026-11-24T10:00:00Z",
    "2026-11-24T10:00:00+23:59",
    "2026-02-30T10:00:00+08:00",
    "2026-11-24",
    "10 minutes",
    "phone",
    "general",
    "customer",
]


def deep(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


HOSTILE_OTHER: list[Any] = [None, True, False, [], {}, [1, "a"], {"$gt": 1}, deep(40), deep(300), deep(3000)]

hostile_values = st.one_of(
    st.sampled_from(HOSTILE_INTS),
    st.sampled_from(HOSTILE_FLOATS),
    st.sampled_from(HOSTILE_STRINGS),
    st.sampled_from(HOSTILE_OTHER),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
)

FIELDS = sorted(
    {name for model in EVENT_TYPES.values() for name in model.model_fields} | {"meta", "unknown_key", "$x"}
)


def _example_calls() -> list[list[dict[str, Any]]]:
    return [
        [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        for path in EXAMPLES
    ]


EXAMPLE_CALLS = _example_calls()


@st.composite
def base_cases(draw: st.DrawFn) -> tuple[list[dict[str, Any]], dt.datetime]:
    """A well-formed case (events, now): generated, or one of the example calls."""
    if draw(st.integers(0, 3)) == 0:
        events = [dict(e) for e in draw(st.sampled_from(EXAMPLE_CALLS))]
        last = max(dt.datetime.fromisoformat(e["at"]) for e in events)
        return events, last + dt.timedelta(hours=draw(st.integers(0, 72)))
    events, now = draw(timed_cases(max_starts=3))
    return [dict(e) for e in events], now


@st.composite
def mutated_events(draw: st.DrawFn) -> tuple[list[Any], dt.datetime]:
    """A case whose events were mutated 0-3 times at the value level."""
    events: list[Any]
    events, now = draw(base_cases())
    for _ in range(draw(st.integers(0, 3))):
        if not events:
            break
        i = draw(st.integers(0, len(events) - 1))
        action = draw(st.sampled_from(["set", "set", "set", "drop", "type", "replace", "dup", "meta"]))
        event = events[i]
        if not isinstance(event, dict):
            continue
        event = dict(event)
        if action == "set":
            event[draw(st.sampled_from(FIELDS))] = draw(hostile_values)
        elif action == "drop" and event:
            del event[draw(st.sampled_from(sorted(event)))]
        elif action == "type":
            event["type"] = draw(st.sampled_from([*sorted(EVENT_TYPES), "nope", "", "Utterance"]))
        elif action == "replace":
            event = draw(hostile_values)
        elif action == "dup":
            events.append(event)
        elif action == "meta":
            event["meta"] = draw(
                st.sampled_from([deep(31), deep(33), {"n": 10**40}, {"s": "\ud800"}, {"x": [1] * 5000}])
            )
        events[i] = event
    return events, now


def _dumps(value: Any) -> str:
    # allow_nan: hosts do send NaN and Infinity; a too-deep value is sent as what json gives up on.
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=True)
    except (RecursionError, ValueError):
        return '"unencodable"'


@st.composite
def event_files(draw: st.DrawFn) -> bytes:
    """The bytes of a CLI events file (JSON Lines or one array), mutated at the text level."""
    events, _ = draw(mutated_events())
    text = "\n".join(_dumps(e) for e in events) + "\n" if draw(st.booleans()) else _dumps(events)
    data = text.encode("utf-8", "surrogatepass")
    action = draw(st.sampled_from(["none", "none", "bytes", "deep", "bigint", "truncate", "nan", "bom"]))
    if action == "bytes" and data:
        at = draw(st.integers(0, len(data) - 1))
        data = (
            data[:at]
            + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\xe9"]))
            + data[at:]
        )
    elif action == "deep":
        depth = draw(st.sampled_from([100, 1000, 100_000]))
        data += b'{"type": "case_opened", "meta": ' + b"[" * depth + b"]" * depth + b"}\n"
    elif action == "bigint":
        data = (
            data.replace(b'"visits_12m": ', b'"visits_12m": ' + b"9" * 5000, 1)
            + b'{"x": '
            + b"1" * 4400
            + b"}\n"
        )
    elif action == "truncate" and data:
        data = data[: draw(st.integers(0, len(data)))]
    elif action == "nan":
        data = data.replace(b'"spend_12m": ', b'"spend_12m": Infinity, "x": ', 1) + b'{"a": NaN}\n'
    elif action == "bom":
        data = b"\xef\xbb\xbf" + data
    return data


HOSTILE_YAML_SCALARS = [
    "!!python/name:os.system",
    "!!python/object/apply:os.system [echo]",
    "!!int abc",
    "!!timestamp nope",
    "2026-02-30",
    "!!binary aGk=",
    "!foo bar",
    "9" * 5000,
    "4294967296",
    "9223372036854775808",
    "-1",
    "0",
    "1e308",
    ".inf",
    ".nan",
    "~",
    "''",
    "UTC+8",
    "Etc/GMT-8",
    "/etc/localtime",
    "../../etc/passwd",
    "100001 days",
    "99999 working hours",
    "12001 months",
    "[]",
    "{}",
    "[" * 200 + "]" * 200,
    "&a [*a]",
    "'\\x07'",
    '"\\ud800"',
    "yes",
    "1:2:3",
]


def _scalar_paths(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(data, dict):
        for key, value in data.items():
            out += _scalar_paths(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            out += _scalar_paths(value, (*path, i))
    return out


def _yaml_safe(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _yaml_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_yaml_safe(v) for v in value]
    return value


_PLACEHOLDER = "__HOSTILE_VALUE__"


@dataclass(frozen=True)
class RulesetMutation:
    """One mutation of one file of the default ruleset (short to print when a test fails)."""

    file: str
    level: str  # "raw": replace a value by YAML text; "value": by a Python value; "text"; "bytes"
    path: tuple[Any, ...] = ()
    replacement: Any = None
    at: float = 0.0
    cut: float | None = None

    def files(self) -> dict[str, bytes]:
        files = {name: (DEFAULT / name).read_bytes() for name in RULESET_FILES}
        original = files[self.file]
        if self.level in ("raw", "value"):
            data = _yaml_safe(yaml.safe_load(original))
            target = data
            for part in self.path[:-1]:
                target = target[part]
            target[self.path[-1]] = _PLACEHOLDER if self.level == "raw" else self.replacement
            try:
                text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000)
            except (RecursionError, yaml.YAMLError):
                text = original.decode("utf-8")
            if self.level == "raw":
                text = text.replace(_PLACEHOLDER, str(self.replacement), 1)
            files[self.file] = text.encode("utf-8", "surrogatepass")
        elif self.level == "text":
            files[self.file] = original + str(self.replacement).encode("utf-8")
        else:
            at = int(self.at * len(original))
            data = original[:at] + bytes(self.replacement) + original[at:]
            files[self.file] = data if self.cut is None else data[: int(self.cut * len(data))]
        return files


_TEXT_TAILS = [
    "\nx: &x [1, 2]\ny: *x\n",
    "\n<<: {a: 1}\n",
    "\n? [a, b]\n: 1\n",
    "\n~: 1\n~: 2\n",
    "\nbomb: &a [1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n",
    "\ndeep: " + "[" * 3000 + "]" * 3000 + "\n",
    "\n---\nsecond: 1\n",
    "\n\t bad: indentation\n",
]
_PATHS = {
    name: _scalar_paths(_yaml_safe(yaml.safe_load((DEFAULT / name).read_bytes())))[1:]
    for name in RULESET_FILES
}


@st.composite
def ruleset_mutations(draw: st.DrawFn) -> RulesetMutation:
    """A mutation of one file of the default ruleset: a value, the text or the bytes."""
    name = draw(st.sampled_from(RULESET_FILES))
    level = draw(st.sampled_from(["raw", "raw", "value", "value", "text", "bytes"]))
    if level == "raw":
        path = draw(st.sampled_from(_PATHS[name]))
        return RulesetMutation(name, level, path, draw(st.sampled_from(HOSTILE_YAML_SCALARS)))
    if level == "value":
        path = draw(st.sampled_from(_PATHS[name]))
        value = draw(hostile_values.filter(lambda v: not (isinstance(v, float) and math.isnan(v))))
        return RulesetMutation(name, level, path, value)
    if level == "text":
        return RulesetMutation(name, level, replacement=draw(st.sampled_from(_TEXT_TAILS)))
    inserted = draw(st.sampled_from([b"\xff", b"\x07", b"\x00", b"", b"\xe9"]))
    cut = draw(st.one_of(st.none(), st.floats(0, 1)))
    return RulesetMutation(name, level, replacement=inserted, at=draw(st.floats(0, 1)), cut=cut)
