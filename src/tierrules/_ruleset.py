"""Loading a ruleset: parse (YAML) → validate (pydantic) → compile, all at load time."""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ._compile import CompiledRuleset, compile_ruleset
from ._errors import MISSING, PathPart, Problem, RulesetError, did_you_mean
from ._loader import SourceMap, read_ruleset_files
from ._model import Ruleset


def default_ruleset_path() -> Path:
    """Where the bundled default ruleset lives (inside the wheel, or the source checkout)."""
    packaged = resources.files("tierrules") / "rulesets" / "default"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "rulesets" / "default"


def _model_at(loc: tuple[PathPart, ...]) -> type[BaseModel] | None:
    """The pydantic model that owns the last element of ``loc`` (for "did you mean")."""
    current: Any = Ruleset
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
        else:
            args = typing.get_args(current)
            origin = typing.get_origin(current)
            if origin is list and args:
                current = args[0]
            elif origin is dict and len(args) == 2:
                current = args[1]
            else:
                return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        models = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(models) == 1:
            return models[0]
    return annotation


def _data_path(data: Any, loc: tuple[Any, ...], keep_last: bool) -> tuple[PathPart, ...]:
    """Drop pydantic's union-branch labels from ``loc``: keep only real keys and indexes."""
    out: list[PathPart] = []
    node = data
    for i, part in enumerate(loc):
        in_map = isinstance(node, Mapping) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_map or in_list:
            node = node[part]
            out.append(part)
        elif keep_last and i == len(loc) - 1 and isinstance(part, str | int):
            out.append(part)
    return tuple(out)


def _problems(err: ValidationError, data: Mapping[str, Any]) -> list[Problem]:
    problems = []
    for item in err.errors():
        kind = item["type"]
        path = _data_path(data, tuple(item["loc"]), keep_last=kind in ("missing", "extra_forbidden"))
        message = item["msg"].removeprefix("Value error, ")
        suggestion = None
        rank = 4
        if kind == "extra_forbidden":
            model = _model_at(path[:-1])
            name = str(path[-1]) if path else ""
            suggestion = did_you_mean(name, model.model_fields) if model else None
            message = f"unknown key {name!r}"
            rank = 1
        elif kind == "missing":
            message = "required key missing"
            rank = 3
        problems.append(
            Problem(
                message,
                path,
                MISSING if kind == "missing" else item.get("input"),
                suggestion=suggestion,
                rank=rank,
            )
        )
    return problems


def ruleset_from_data(
    data: Mapping[str, Any], *, source: str | Path | None = None, smap: SourceMap | None = None
) -> Ruleset:
    """Validate and compile a ruleset given as plain data (what the YAML files hold)."""
    smap = smap or SourceMap()
    try:
        ruleset = Ruleset.model_validate(dict(data))
    except ValidationError as err:
        raise RulesetError([smap.place(p) for p in _problems(err, data)], source=source) from None
    compiled, problems = compile_ruleset(ruleset)
    if compiled is None:
        raise RulesetError([smap.place(p) for p in problems], source=source)
    ruleset._compiled = compiled
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
    """The compiled form of a ruleset, compiling it now if it was built by hand."""
    found = ruleset._compiled
    if not isinstance(found, CompiledRuleset):
        found, problems = compile_ruleset(ruleset)
        if found is None:
            raise RulesetError(problems)
        ruleset._compiled = found
    return found
