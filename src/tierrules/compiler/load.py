"""Loading a ruleset: read (YAML) → validate (pydantic) → check → compile, all at load time."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import Problem, RulesetError, problems_from_validation
from ..ruleset.checks import iter_problems
from ..ruleset.model import Ruleset
from ..ruleset.reader import SourceMap, read_ruleset_files
from .compiled import CompiledRuleset, compile_ruleset

__all__ = ["compiled", "default_ruleset_path", "load_ruleset", "ruleset_from_data"]


def default_ruleset_path() -> Path:
    """Where the bundled default ruleset lives (inside the wheel, or the source checkout)."""
    packaged = resources.files("tierrules") / "rulesets" / "default"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[3] / "rulesets" / "default"


def _checked(ruleset: Ruleset, place: SourceMap, source: str | Path | None) -> CompiledRuleset:
    problems: list[Problem] = [place.place(p) for p in iter_problems(ruleset)]
    if problems:
        raise RulesetError(problems, source=source)
    return compile_ruleset(ruleset)


COMPILED_KEPT = 8
"""Rulesets kept compiled by content: loading an unchanged definition again returns the same
(immutable) :class:`Ruleset`, compiled once, without validating or compiling it again."""
_compiled_by_content: OrderedDict[str, Ruleset] = OrderedDict()
_cache_lock = threading.Lock()


def _content_key(data: Mapping[str, Any]) -> str | None:
    """A hash of a ruleset's plain data, or None when it is not plain data (then: no reuse)."""
    try:
        text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=_plain)
    except (TypeError, ValueError, RecursionError):
        return None
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _plain(value: Any) -> str:
    if isinstance(value, dt.date):  # YAML dates (closed_dates, open_dates)
        return f"{type(value).__name__}:{value.isoformat()}"
    raise TypeError(type(value).__name__)


def ruleset_from_data(
    data: Mapping[str, Any], *, source: str | Path | None = None, smap: SourceMap | None = None
) -> Ruleset:
    """Validate, check and compile a ruleset given as plain data (what the YAML files hold).

    The result for a given content is reused (see :data:`COMPILED_KEPT`).
    """
    key = _content_key(data)
    with _cache_lock:
        found = _compiled_by_content.get(key) if key is not None else None
        if found is not None:
            _compiled_by_content.move_to_end(key)  # type: ignore[arg-type]
            return found
    smap = smap or SourceMap()
    try:
        ruleset = Ruleset.model_validate(dict(data))
    except ValidationError as err:
        raise RulesetError(
            list(problems_from_validation(err, Ruleset, data, place=smap.place)), source=source
        ) from None
    ruleset._compiled = _checked(ruleset, smap, source)
    if key is not None:
        with _cache_lock:
            _compiled_by_content[key] = ruleset
            while len(_compiled_by_content) > COMPILED_KEPT:
                _compiled_by_content.popitem(last=False)
    return ruleset


def load_ruleset(path: str | Path | Mapping[str, Any] | None = None) -> Ruleset:
    """Load, validate and compile a ruleset.

    ``path`` is a ruleset directory (its ``*.yaml`` files are merged), one YAML file, a
    mapping with the same content, or None for the bundled default policy. Any problem
    raises :class:`RulesetError` naming the file, the line and the json-path
    (``$.deadlines[2].within``); nothing of a bad ruleset is applied.
    """
    if isinstance(path, Mapping):
        return ruleset_from_data(path)
    where = Path(path) if path is not None else default_ruleset_path()
    data, smap = read_ruleset_files(where)
    return ruleset_from_data(data, source=where, smap=smap)


def compiled(ruleset: Ruleset) -> CompiledRuleset:
    """The compiled form of a ruleset, checking and compiling it now if it was built by hand."""
    found = ruleset._compiled
    if not isinstance(found, CompiledRuleset):
        found = _checked(ruleset, SourceMap(), None)
        ruleset._compiled = found
    return found
