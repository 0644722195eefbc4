"""Reading ruleset files: YAML in, one merged document out, with a line for every path.

A ruleset is a directory of YAML files (or one file) whose top-level keys are merged.
We compose the YAML node tree ourselves so that every error can name the file and the
line of the value at fault, and so that duplicate keys (which PyYAML would silently
let the last one win) are refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import PathPart, Problem, Rank, RulesetError

Key = tuple[PathPart, ...]


@dataclass
class SourceMap:
    """Where each path of the merged document came from."""

    files: dict[Key, Path] = field(default_factory=dict)
    lines: dict[Key, int] = field(default_factory=dict)

    def locate(self, path: Key) -> tuple[Path | None, int | None]:
        """File and 1-based line of the deepest known prefix of ``path``."""
        file = line = None
        for end in range(len(path), -1, -1):
            prefix = path[:end]
            if line is None and prefix in self.lines:
                line = self.lines[prefix]
            if file is None and prefix in self.files:
                file = self.files[prefix]
            if file is not None and line is not None:
                break
        return file, line

    def place(self, problem: Problem) -> Problem:
        file, line = self.locate(problem.absolute_path)
        return Problem(
            message=problem.message,
            absolute_path=problem.absolute_path,
            value=problem.value,
            file=problem.file or file,
            line=problem.line or line,
            suggestion=problem.suggestion,
            rank=problem.rank,
            notes=problem.notes,
        )


def _scalar(node: yaml.Node) -> Any:
    # A throwaway SafeLoader only to construct one scalar node (safe types only).
    return yaml.SafeLoader("").construct_object(node, deep=True)


def _walk(node: yaml.Node, path: Key, file: Path, smap: SourceMap) -> Any:
    smap.lines[path] = node.start_mark.line + 1
    smap.files[path] = file
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            if isinstance(key, int | float | bool | dt.date):
                key = str(key)
            if key in out:
                raise RulesetError(
                    [
                        Problem(
                            f"duplicate key {key!r} (first at line {smap.lines[(*path, key)]})",
                            (*path, key),
                            file=file,
                            line=key_node.start_mark.line + 1,
                            rank=Rank.UNKNOWN_NAME,
                        )
                    ],
                    source=file,
                )
            out[key] = _walk(value_node, (*path, key), file, smap)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_walk(item, (*path, i), file, smap) for i, item in enumerate(node.value)]
    return _scalar(node)


def read_yaml(path: Path, smap: SourceMap) -> Any:
    """One YAML file as plain data (None when empty), recording every path's line in ``smap``.

    Raises :class:`RulesetError` naming the file and line for unreadable or invalid YAML and
    duplicate keys. Ruleset files and policy test files are read with it.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise RulesetError([Problem(f"cannot read: {err.strerror}", file=path)], source=path) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise RulesetError(
            [Problem(f"not valid YAML: {err.problem}", file=path, line=line)], source=path
        ) from None
    return None if node is None else _walk(node, (), path, smap)


def _read_file(path: Path, smap: SourceMap) -> dict[str, Any]:
    data = read_yaml(path, smap)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise RulesetError(
            [Problem("a ruleset file must be a mapping of keys", file=path, line=smap.lines.get(()))],
            source=path,
        )
    return data


def read_ruleset_files(path: Path) -> tuple[dict[str, Any], SourceMap]:
    """Merge a ruleset directory's YAML files (sorted by name), or read one file."""
    smap = SourceMap()
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in {".yaml", ".yml"} and p.is_file())
        # Policy test files live beside a ruleset; they are not part of it.
        files = [p for p in files if not p.name.endswith((".test.yaml", ".test.yml"))]
        if not files:
            raise RulesetError([Problem("no .yaml files in the ruleset directory")], source=path)
    elif path.is_file():
        files = [path]
    else:
        raise RulesetError([Problem("no such file or directory")], source=path)
    merged: dict[str, Any] = {}
    for file in files:
        file_smap = SourceMap()
        data = _read_file(file, file_smap)
        for key, value in data.items():
            if key in merged:
                first = smap.files[(key,)]
                raise RulesetError(
                    [
                        Problem(
                            f"top-level key {key!r} is defined in two files (also in {first.name})",
                            (key,),
                            file=file,
                            line=file_smap.lines.get((key,)),
                            rank=Rank.UNKNOWN_NAME,
                        )
                    ],
                    source=path,
                )
            merged[key] = value
        smap.lines.update(file_smap.lines)
        smap.files.update({k: v for k, v in file_smap.files.items() if k})
    return merged, smap
