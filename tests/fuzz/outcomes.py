"""What a fuzzed input may lead to: a decision, or a TierrulesError that names where."""

from __future__ import annotations

import json
import subprocess

import tierrules
from tierrules.errors import TierrulesError


def check_decision(decision: tierrules.Decision) -> None:
    """A decision renders to JSON that is UTF-8 text and reads back."""
    text = decision.to_json(indent=None)
    text.encode("utf-8")
    json.loads(text)


def check_event_error(err: TierrulesError) -> None:
    """An EventError naming the event and field (or the input as a whole), never anything else."""
    assert isinstance(err, tierrules.EventError), f"{type(err).__name__}: {err}"
    best = err.best
    whole_input = best.absolute_path == () and (
        best.line is not None or "events must be a list" in best.message
    )
    assert best.absolute_path or whole_input or best.line is not None, str(err)
    assert len(str(err)) < 20_000, len(str(err))


def check_ruleset_error(err: TierrulesError, *, needs_file: bool = True) -> None:
    """A RulesetError naming the file (and, past reading, the json-path) of what is wrong."""
    assert isinstance(err, tierrules.RulesetError), f"{type(err).__name__}: {err}"
    if needs_file:
        assert err.file is not None, str(err)  # the file, or the directory for a missing section
    assert len(str(err)) < 100_000, len(str(err))


def check_cli(proc: subprocess.CompletedProcess[str], *, located: tuple[str, ...]) -> None:
    """Exit 0, or exit 2 with a 'tierrules:' message naming a place; never a traceback."""
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert proc.returncode in (0, 2), (proc.returncode, proc.stderr[-3000:])
    if proc.returncode == 2:
        assert proc.stderr.startswith("tierrules: "), proc.stderr[-3000:]
        assert any(place in proc.stderr for place in located), (located, proc.stderr[-3000:])
        assert len(proc.stderr) < 100_000
