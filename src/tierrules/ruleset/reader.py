"""Reading ruleset files: YAML in, one merged document out, with a line for every path.

A ruleset is a directory of YAML files (or one file) whose top-level keys are merged.
We compose the YAML node tree ourselves so that every error can name the file and the
line of the value at fault, and so that duplicate keys (which PyYAML would silently
let the last one win) are refused.

Only plain YAML is read: strings, numbers, booleans, null, dates, lists and mappings with
scalar keys. Everything else is refused with the file and line (docs/reliability.md):
language-specific and unknown tags (``!!python/name``, ``!!binary``, ``!foo``), merge keys
(``<<``), list or mapping keys, null keys, values a standard tag cannot read (``!!int abc``,
``2026-02-30``), non-UTF-8 text, and anything whose cost is out of proportion to a policy:
files over :data:`MAX_FILE_BYTES`, nesting deeper than :data:`MAX_DEPTH`, more than
:data:`MAX_ALIASES` aliases, aliases that add more than :data:`MAX_ALIAS_VALUES` values
once expanded (an "alias bomb" of a few hundred bytes would otherwise expand to
gigabytes), or an alias inside the value it names. The limits are checked on the composed
node graph, whose size is that of the text, before anything is expanded.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from ..errors import PathPart, Problem, Rank, RulesetError

Key = tuple[PathPart, ...]

MAX_FILE_BYTES = 16 * 1024 * 1024
"""The largest YAML file read (ruleset or policy test file): 16 MiB."""
MAX_DEPTH = 64
"""The deepest nesting of lists and mappings in one file (aliases expanded)."""
MAX_ALIASES = 200
"""The most alias uses (``*name``) in one file."""
MAX_ALIAS_VALUES = 10_000
"""The most values aliases may add to one file when expanded (beyond those written out)."""

_TAG = "tag:yaml.org,2002:"
# Standard tags PyYAML's safe constructor reads into plain data; ``value`` is the tag the
# YAML 1.1 resolver gives a plain ``=``, read as the string it is.
_SCALAR_TAGS = frozenset(_TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp", "value"))
_MAP_TAG, _SEQ_TAG, _MERGE_TAG, _VALUE_TAG = _TAG + "map", _TAG + "seq", _TAG + "merge", _TAG + "value"
_PLAIN = (str, int, float, bool, dt.date, type(None))
_KINDS = {
    _TAG + "int": "integer",
    _TAG + "float": "number",
    _TAG + "bool": "boolean",
    _TAG + "null": "null",
    _TAG + "timestamp": "date or date-time (YYYY-MM-DD, or YYYY-MM-DDTHH:MM:SS+08:00)",
}


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


def _refuse(
    message: str, file: Path, line: int | None, path: Key = (), rank: Rank = Rank.INVALID
) -> RulesetError:
    return RulesetError([Problem(message, path, file=file, line=line, rank=rank)], source=file)


def _line(node_or_mark: Any) -> int | None:
    mark = getattr(node_or_mark, "start_mark", node_or_mark)
    return mark.line + 1 if mark is not None else None


class _Composer(yaml.SafeLoader):
    """PyYAML's safe loader, composing nodes with a depth and an alias budget.

    The composer recurses once per nesting level, so a deep document would exhaust the
    stack; aliases cost nothing to compose but multiply what a walk builds.
    """

    def __init__(self, stream: str, file: Path) -> None:
        super().__init__(stream)
        self.file = file
        self.depth = 0
        self.aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise _refuse(
                    f"more than {MAX_ALIASES} aliases (*name): refused, aliases can expand a small file "
                    "without bound",
                    self.file,
                    _line(event),
                    rank=Rank.ENGINE_LIMIT,
                )
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _refuse(
                    f"nested more than {MAX_DEPTH} levels deep",
                    self.file,
                    _line(event),
                    rank=Rank.ENGINE_LIMIT,
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _expansion(root: yaml.Node, file: Path) -> tuple[int, int]:
    """(values aliases add once expanded, nesting depth once expanded) of a composed document.

    Counted on the node graph (an alias is the same node object as its anchor), memoised,
    so a bomb costs as little to measure as to compose; anchors come before their aliases,
    so the recursion is only as deep as the text. An alias inside the very value it names
    (``&a [*a]``) is refused: it would expand forever.
    """
    measured: dict[int, tuple[int, int]] = {}
    open_nodes: set[int] = set()

    def measure(node: yaml.Node) -> tuple[int, int]:
        key = id(node)
        found = measured.get(key)
        if found is not None:
            return found
        if key in open_nodes:
            raise _refuse(
                "an alias refers to a value that contains it (it would expand forever)",
                file,
                _line(node),
                rank=Rank.ENGINE_LIMIT,
            )
        open_nodes.add(key)
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        parts = [measure(child) for child in children]
        open_nodes.discard(key)
        result = (1 + sum(p[0] for p in parts), 1 + max((p[1] for p in parts), default=0))
        measured[key] = result
        return result

    size, depth = measure(root)
    return size - len(measured), depth


class _Walk:
    """Turns one file's node tree into plain data, recording lines."""

    def __init__(self, file: Path, smap: SourceMap) -> None:
        self.file = file
        self.smap = smap
        self.constructor = yaml.SafeLoader("")  # constructs single scalar nodes only

    def value(self, node: yaml.Node, path: Key) -> Any:
        self.smap.lines[path] = node.start_mark.line + 1
        self.smap.files[path] = self.file
        if isinstance(node, yaml.MappingNode):
            self._tag(node, _MAP_TAG, path)
            return self.mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            self._tag(node, _SEQ_TAG, path)
            return [self.value(item, (*path, i)) for i, item in enumerate(node.value)]
        return self.scalar(node, path)

    def mapping(self, node: yaml.MappingNode, path: Key) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self.key(key_node, path)
            if key in out:
                raise _refuse(
                    f"duplicate key {key!r} (first at line {self.smap.lines[(*path, key)]})",
                    self.file,
                    _line(key_node),
                    (*path, key),
                    Rank.UNKNOWN_NAME,
                )
            out[key] = self.value(value_node, (*path, key))
        return out

    def key(self, node: yaml.Node, path: Key) -> str:
        if node.tag == _MERGE_TAG:
            raise _refuse(
                "merge keys ('<<') are not supported: write the keys out", self.file, _line(node), path
            )
        if not isinstance(node, yaml.ScalarNode):
            kind = "list" if isinstance(node, yaml.SequenceNode) else "mapping"
            raise _refuse(f"a key must be a name, not a {kind}", self.file, _line(node), path, Rank.SHAPE)
        key = self.scalar(node, path)
        if key is None:
            raise _refuse(
                "a key must be a name, not null ('~' or empty)", self.file, _line(node), path, Rank.SHAPE
            )
        return key if isinstance(key, str) else str(key)

    def scalar(self, node: yaml.Node, path: Key) -> Any:
        self._tag(node, None, path)
        if node.tag == _VALUE_TAG:
            return str(node.value)
        try:
            value = self.constructor.construct_object(node, deep=True)
        except Exception as err:  # PyYAML raises ValueError, AttributeError, ...
            name = _KINDS.get(node.tag, node.tag.removeprefix(_TAG))
            reason = f": {err}" if type(err) is ValueError else ""
            raise RulesetError(
                [
                    Problem(
                        f"not a valid {name}{reason}",
                        path,
                        _shown(node.value),
                        file=self.file,
                        line=_line(node),
                        rank=Rank.SHAPE,
                    )
                ],
                source=self.file,
            ) from None
        if isinstance(value, str) and not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as err:  # a "\ud800" escape in a double-quoted string
                message = f"not valid Unicode text: unpaired surrogate at character {err.start}"
                raise _refuse(message, self.file, _line(node), path, Rank.SHAPE) from None
        if not isinstance(value, _PLAIN):  # pragma: no cover - the tag check admits plain types only
            raise _refuse(f"unsupported value of type {type(value).__name__}", self.file, _line(node), path)
        return value

    def _tag(self, node: yaml.Node, wanted: str | None, path: Key) -> None:
        tag = node.tag
        if tag == _MERGE_TAG:
            raise _refuse(
                "merge keys ('<<') are not supported: write the keys out", self.file, _line(node), path
            )
        allowed = tag in _SCALAR_TAGS if wanted is None else tag == wanted
        if not allowed:
            shown = "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag
            raise _refuse(
                f"tag {shown!r} is not allowed: rulesets and policy tests are plain YAML "
                "(strings, numbers, booleans, null, dates, lists and mappings)",
                self.file,
                _line(node),
                path,
                Rank.SHAPE,
            )


def _shown(value: Any) -> Any:
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _text(path: Path) -> str:
    """The file's text: a regular file, at most MAX_FILE_BYTES, UTF-8."""
    try:
        info = path.stat()
    except FileNotFoundError:
        kind = "a dangling symbolic link" if path.is_symlink() else "no such file"
        raise _refuse(f"cannot read: {kind}", path, None) from None
    except OSError as err:
        raise _refuse(f"cannot read: {err.strerror}", path, None) from None
    if not stat.S_ISREG(info.st_mode):
        kind = (
            "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file (a FIFO, socket or device)"
        )
        raise _refuse(f"cannot read: {kind}", path, None)
    if info.st_size > MAX_FILE_BYTES:
        raise _refuse(
            f"file of {info.st_size:,} bytes; the most read is {MAX_FILE_BYTES:,}",
            path,
            None,
            rank=Rank.ENGINE_LIMIT,
        )
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise _refuse(f"cannot read: {err.strerror}", path, None) from None
    if len(data) > MAX_FILE_BYTES:
        raise _refuse(f"file over {MAX_FILE_BYTES:,} bytes", path, None, rank=Rank.ENGINE_LIMIT)
    return decode_utf8(data, path)


def decode_utf8(data: bytes, path: Path) -> str:
    """``data`` as UTF-8 text (a leading BOM dropped); RulesetError naming the line of a bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise _refuse(
            f"not UTF-8 text: byte 0x{data[err.start]:02x} at offset {err.start}", path, line, rank=Rank.SHAPE
        ) from None


def _codepoint(char: Any) -> str:
    code = char if isinstance(char, int) else ord(char) if isinstance(char, str) and len(char) == 1 else None
    return f"U+{code:04X}" if code is not None else repr(char)


def _compose(text: str, path: Path) -> yaml.Node | None:
    loader = None
    try:
        loader = _Composer(text, path)  # the reader checks for unprintable characters here
        return loader.get_single_node()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problem = err.problem or err.context or "invalid"
        raise _refuse(f"not valid YAML: {problem}", path, _line(mark), rank=Rank.SHAPE) from None
    except yaml.reader.ReaderError as err:
        line = text[: err.position].count("\n") + 1 if isinstance(err.position, int) else None
        raise _refuse(
            f"not valid YAML: character {_codepoint(err.character)} is not allowed",
            path,
            line,
            rank=Rank.SHAPE,
        ) from None
    except yaml.YAMLError as err:  # pragma: no cover - PyYAML's other errors are marked
        raise _refuse(f"not valid YAML: {err}", path, None, rank=Rank.SHAPE) from None
    finally:
        if loader is not None:
            loader.dispose()


def read_yaml(path: Path, smap: SourceMap) -> Any:
    """One YAML file as plain data (None when empty), recording every path's line in ``smap``.

    Raises :class:`RulesetError` naming the file and line for unreadable or invalid YAML,
    duplicate keys and everything the module docstring lists. Ruleset files and policy
    test files are read with it.
    """
    node = _compose(_text(path), path)
    if node is None:
        return None
    extra, depth = _expansion(node, path)
    if depth > MAX_DEPTH:
        raise _refuse(
            f"nested more than {MAX_DEPTH} levels deep once aliases are expanded",
            path,
            _line(node),
            rank=Rank.ENGINE_LIMIT,
        )
    if extra > MAX_ALIAS_VALUES:
        raise _refuse(
            f"aliases expand to {extra:,} more values than are written (at most {MAX_ALIAS_VALUES:,}): "
            "refused, write the values out",
            path,
            _line(node),
            rank=Rank.ENGINE_LIMIT,
        )
    return _Walk(path, smap).value(node, ())


def _read_file(path: Path, smap: SourceMap) -> dict[str, Any]:
    data = read_yaml(path, smap)
    if data is None:
        # A truncated copy must not load as a ruleset without its section.
        raise _refuse(
            "empty file: a ruleset file holds one or more sections; for none, say so "
            "(e.g. 'deadlines: []') or remove the file",
            path,
            None,
            rank=Rank.MISSING,
        )
    if not isinstance(data, dict):
        raise _refuse("a ruleset file must be a mapping of keys", path, smap.lines.get(()), rank=Rank.SHAPE)
    return data


def ruleset_files(path: Path) -> list[Path]:
    """The YAML files of a ruleset directory, sorted by name.

    Every ``*.yaml``/``*.yml`` entry except policy tests (``*.test.yaml``) and hidden names
    (``.name.yaml``: editors' lock and backup files) is part of the ruleset, so an entry that
    is not a readable regular file (a dangling link, a directory, a FIFO) is refused rather
    than skipped: skipping ``tiers.yaml`` would load a ruleset without tiers.
    """
    try:
        entries = sorted(os.scandir(path), key=lambda e: e.name)
    except OSError as err:
        raise RulesetError([Problem(f"cannot list the directory: {err.strerror}")], source=path) from None
    files = []
    for entry in entries:
        name = entry.name
        if name.startswith(".") or not name.endswith((".yaml", ".yml")):
            continue
        if name.endswith((".test.yaml", ".test.yml")):  # policy tests live beside a ruleset
            continue
        files.append(Path(entry.path))
    if not files:
        raise RulesetError([Problem("no .yaml files in the ruleset directory")], source=path)
    return files


_V = TypeVar("_V")


def _files_at(path: Path) -> list[Path]:
    """A ruleset directory's files, or the one file."""
    if path.is_dir():
        return ruleset_files(path)
    if path.exists() or path.is_symlink():
        return [path]  # _text refuses what is not a regular file
    raise RulesetError([Problem("no such file or directory")], source=path)


def _below_root(located: Mapping[Key, _V], *, single: bool) -> dict[Key, _V]:
    """A file's source map entries, without the document root's unless it is the only file."""
    return {k: v for k, v in located.items() if k or single}


def read_ruleset_files(path: Path) -> tuple[dict[str, Any], SourceMap]:
    """Merge a ruleset directory's YAML files (sorted by name), or read one file."""
    smap = SourceMap()
    files = _files_at(path)
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
        smap.lines.update(_below_root(file_smap.lines, single=len(files) == 1))
        smap.files.update(_below_root(file_smap.files, single=len(files) == 1))
    if len(files) > 1 or path.is_dir():
        # The merged document's root is the directory: a missing top-level key is named there.
        smap.files[()] = path
        smap.lines.pop((), None)
    return merged, smap
