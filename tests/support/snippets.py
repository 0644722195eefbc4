"""Run the code blocks of Markdown documents, the way a reader would.

Each fenced block of a document is run or checked according to its language:

``python``
    a complete script: written to a file and run with ``python3`` (``python3 -m pytest``
    when it defines ``test_*`` functions), so examples must work pasted into a file.
``pycon``
    an interpreter session (``>>>`` lines and their output), run by doctest.
``console``
    ``$ command`` lines run with bash; the lines after a command are its expected output,
    compared as doctest compares (``...`` matches anything, whitespace runs are one space).
``sh``, ``bash``, ``shell``
    every line a command (``#`` comments aside); each must exit 0, output not compared.
``json``, ``jsonl``
    parsed; with ``<!-- subset of: COMMAND -->`` above it, COMMAND's JSON output must
    contain it (dict keys a subset, list items matched in order, as policy tests match).
``yaml``
    parsed (YAML 1.2 as an editor reads it); a ruleset file, section or list of deadline
    rules is validated against the editor schema (``tierrules schema``).

A block of any of these languages with ``<!-- file: PATH -->`` on the line above is also
written to PATH in the sandbox, for the blocks after it to use (a case log, a ruleset).

A block that is not meant to run says so, with a reason, in a marker a reader sees: a
first line ``# not run: REASON`` (languages with ``#`` comments) or an HTML comment
``<!-- not run: REASON -->`` on the line above the fence (any language). Any other
language (``text``, ``diff``, none) must carry the marker.

Everything runs in a sandbox directory holding copies of ``rulesets/`` and ``examples/``,
with ``tierrules`` and ``python`` on PATH running the code under test; ``/tmp/`` in a
block means the sandbox's own ``tmp/`` (so ``cp -r rulesets/default /tmp/new`` touches
nothing outside). The blocks of one document run in order and share the sandbox.
Failures name the document and the block's first line: ``docs/batch.md:42``.
"""

from __future__ import annotations

import doctest
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMMAND_TIMEOUT = 300

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_DIRECTIVE = re.compile(r"^\s*<!--\s*(?P<kind>not run|subset of|file):\s*(?P<arg>.*?)\s*-->\s*$")
_IN_BLOCK = re.compile(r"^\s*#\s*not run:\s*(?P<reason>.*?)\s*$")

RUNNABLE = {"python", "py", "pycon", "console", "sh", "bash", "shell", "json", "jsonl", "yaml", "yml"}


@dataclass(frozen=True)
class Block:
    """One fenced block: where it starts (1-based line of the fence), its language and text."""

    path: Path
    line: int
    lang: str
    text: str
    directive: tuple[str, str] | None  # ("not run" | "subset of" | "file", argument), line above

    @property
    def where(self) -> str:
        try:
            name = self.path.relative_to(ROOT)
        except ValueError:
            name = self.path
        return f"{name}:{self.line}"

    @property
    def not_run(self) -> str | None:
        """The reason the block is not run, if it is marked so ('' for a marker without one)."""
        if self.directive and self.directive[0] == "not run":
            return self.directive[1]
        first = self.text.splitlines()[0] if self.text.strip() else ""
        match = _IN_BLOCK.match(first)
        return match.group("reason") if match else None


def blocks(path: Path, text: str | None = None) -> list[Block]:
    """The fenced blocks of a Markdown document, in order."""
    lines = (path.read_text(encoding="utf-8") if text is None else text).splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        fence, indent = match.group("fence"), match.group("indent")
        lang = match.group("info").strip().split(" ")[0].lower() if match.group("info").strip() else ""
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i].lstrip())
            i += 1
        above = lines[start - 1] if start > 0 else ""
        directive = _DIRECTIVE.match(above)
        found.append(
            Block(
                path=path,
                line=start + 1,
                lang=lang,
                text="\n".join(body) + "\n",
                directive=(directive.group("kind"), directive.group("arg")) if directive else None,
            )
        )
        i += 1
    return found


class Sandbox:
    """A directory to run one document's blocks in, with the project's tools on PATH."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"
        self.tmp.mkdir(parents=True)
        for name in ("rulesets", "examples"):
            shutil.copytree(ROOT / name, root / name)
        # Scripts a page runs from a checkout (read only): linked, not copied.
        (root / "benchmarks").symlink_to(ROOT / "benchmarks", target_is_directory=True)
        bin_dir = root / ".bin"
        bin_dir.mkdir()
        for tool, argv in (("tierrules", '-m tierrules "$@"'), ("python", '"$@"'), ("python3", '"$@"')):
            script = bin_dir / tool
            script.write_text(f'#!/bin/sh\nexec "{sys.executable}" {argv}\n', encoding="utf-8")
            script.chmod(0o755)
        self.env = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])),
            "NO_COLOR": "1",
            "COLUMNS": "200",
        }

    def local(self, text: str) -> str:
        """A block's ``/tmp/`` paths moved into the sandbox."""
        return re.sub(r"(?<![\w.])/tmp/", f"{self.tmp}/", text)

    def public(self, text: str) -> str:
        """Output with the sandbox's paths written as the document writes them."""
        return text.replace(f"{self.tmp}/", "/tmp/").replace(f"{self.root}/", "")

    def shell(self, command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-o", "pipefail", "-c", self.local(command)],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )


def _console_steps(text: str) -> Iterator[tuple[str, str]]:
    """(command, expected output) for each ``$ `` line of a console block."""
    command: str | None = None
    expected: list[str] = []
    for line in text.splitlines():
        if line.startswith("$ "):
            if command is not None:
                yield command, "\n".join(expected)
            command, expected = line[2:], []
        elif command is None:
            if line.strip():
                raise ValueError(f"console block: text before the first '$ ' command: {line!r}")
        else:
            expected.append(line)
    if command is not None:
        yield command, "\n".join(expected)


_CHECKER = doctest.OutputChecker()
_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _same_output(expected: str, actual: str) -> bool:
    want = expected.strip("\n") + "\n" if expected.strip() else ""
    got = (
        "\n".join(line.rstrip() for line in actual.strip("\n").splitlines()) + "\n" if actual.strip() else ""
    )
    return _CHECKER.check_output(want, got, _FLAGS)


def _diff(expected: str, actual: str) -> str:
    import difflib

    return "\n".join(
        difflib.unified_diff(
            expected.strip("\n").splitlines(),
            actual.strip("\n").splitlines(),
            "documented",
            "actual",
            lineterm="",
        )
    )


def contains(actual: Any, expected: Any) -> bool:
    """``expected`` is a part of ``actual``: dict keys a subset, lists item by item in order."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and contains(actual[k], v) for k, v in expected.items()
        )
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return False
        rest = iter(actual)
        return all(any(contains(item, want) for item in rest) for want in expected)
    return bool(actual == expected and type(actual) is type(expected))


class _Yaml12(yaml.SafeLoader):
    """YAML as an editor reads it (YAML 1.2: dates stay strings)."""


_Yaml12.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _check_yaml(block: Block) -> list[str]:
    import jsonschema

    from tierrules.ruleset.schema import ruleset_schema

    try:
        data = yaml.load(block.text, Loader=_Yaml12)
    except yaml.YAMLError as err:
        return [f"{block.where}: yaml block does not parse: {err}"]
    schema = ruleset_schema("file")
    keys = set(schema["properties"])
    if isinstance(data, list) and data and all(isinstance(r, dict) and "start" in r for r in data):
        data = {"deadlines": data}  # a list of deadline rules, as in deadlines.yaml
    if not (isinstance(data, dict) and data and set(data) <= keys):
        return []  # not a ruleset: parsing is the check (policy tests have their own runner)
    problems = [
        f"{'.'.join(map(str, e.absolute_path))}: {e.message[:160]}"
        for e in jsonschema.Draft7Validator(schema).iter_errors(data)
    ]
    return [f"{block.where}: yaml block is not a valid ruleset piece: {p}" for p in problems]


def _check_json(block: Block, box: Sandbox) -> list[str]:
    try:
        if block.lang == "jsonl":
            values = [json.loads(line) for line in block.text.splitlines() if line.strip()]
        else:
            values = [json.loads(block.text)]
    except json.JSONDecodeError as err:
        return [f"{block.where}: {block.lang} block does not parse (line {err.lineno}): {err.msg}"]
    if block.directive is None or block.directive[0] != "subset of":
        return []
    command = block.directive[1]
    proc = box.shell(command)
    if proc.returncode != 0:
        return [f"{block.where}: `{command}` exited {proc.returncode}: {proc.stderr.strip()[-500:]}"]
    actual = json.loads(proc.stdout)
    if not contains(actual, values[0]):
        return [
            f"{block.where}: the json block is not part of what `{command}` prints:\n{proc.stdout[:3000]}"
        ]
    return []


def _run_python(block: Block, box: Sandbox, index: int) -> list[str]:
    doctest_session = block.lang == "pycon"
    script = box.root / f"snippet_{index}_{block.line}.{'txt' if doctest_session else 'py'}"
    source = box.local(block.text)
    script.write_text(source, encoding="utf-8")
    is_test = re.search(r"^def test_\w+\(", source, re.MULTILINE) is not None
    if doctest_session:  # an interpreter session: doctest compares each output
        argv = ["python3", "-m", "doctest", "-o", "ELLIPSIS", "-o", "NORMALIZE_WHITESPACE", str(script)]
    elif is_test:
        argv = ["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", str(script)]
    else:
        argv = ["python3", str(script)]
    proc = subprocess.run(
        argv,
        cwd=box.root,
        env=box.env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if proc.returncode != 0:
        out = box.public(proc.stdout + proc.stderr).strip()
        return [f"{block.where}: python block failed (exit {proc.returncode}):\n{out[-3000:]}"]
    return []


def _run_console(block: Block, box: Sandbox) -> list[str]:
    failures: list[str] = []
    try:
        steps = list(_console_steps(block.text))
    except ValueError as err:
        return [f"{block.where}: {err}"]
    if not steps:
        return [f"{block.where}: console block without a '$ ' command (mark it or use sh)"]
    for command, expected in steps:
        proc = box.shell(command)
        actual = box.public(proc.stdout + (proc.stderr if not proc.stdout else ""))
        if expected.strip() and not _same_output(expected, actual):
            failures.append(
                f"{block.where}: `$ {command}` printed something else:\n{_diff(expected, actual)}"
            )
        elif not expected.strip() and proc.returncode != 0:
            failures.append(
                f"{block.where}: `$ {command}` exited {proc.returncode}:\n{box.public(proc.stderr)[-2000:]}"
            )
    return failures


def _run_sh(block: Block, box: Sandbox) -> list[str]:
    failures: list[str] = []
    for line in block.text.splitlines():
        command = line.split(" #", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if not command:
            continue
        proc = box.shell(command)
        if proc.returncode != 0:
            failures.append(
                f"{block.where}: `{command}` exited {proc.returncode}:\n{box.public(proc.stderr)[-2000:]}"
            )
    return failures


def run_document(path: Path, box: Sandbox, text: str | None = None) -> list[str]:
    """Run every block of a document in order; the failures, each naming file and line."""
    failures: list[str] = []
    for index, block in enumerate(blocks(path, text)):
        reason = block.not_run
        if block.directive and block.directive[0] == "file" and reason is None:
            target = box.root / box.local(block.directive[1])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.text, encoding="utf-8")
        if reason is not None:
            if not reason.strip():
                failures.append(f"{block.where}: 'not run' marker without a reason")
            continue
        if block.lang not in RUNNABLE:
            failures.append(
                f"{block.where}: a '{block.lang or 'plain'}' block cannot run: mark it "
                "`<!-- not run: REASON -->` on the line above"
            )
        elif block.lang in {"python", "py", "pycon"}:
            failures += _run_python(block, box, index)
        elif block.lang == "console":
            failures += _run_console(block, box)
        elif block.lang in {"sh", "bash", "shell"}:
            failures += _run_sh(block, box)
        elif block.lang in {"json", "jsonl"}:
            failures += _check_json(block, box)
        else:
            failures += _check_yaml(block)
    return failures


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def update_document(path: Path, box: Sandbox) -> int:
    """Rewrite the documented output of every console command whose output changed.

    Runs the document's blocks in order like :func:`run_document` (earlier blocks set up later
    ones); outputs that still match (``...`` included) are kept as written. Returns how many
    outputs were rewritten. Run: ``python -m tests.support.snippets --update docs/FILE.md``.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    replaced = 0
    edits: list[tuple[int, int, list[str]]] = []  # applied last to first: lengths change
    for block in blocks(path):
        if block.not_run is not None:
            if block.directive and block.directive[0] == "file":
                target = box.root / box.local(block.directive[1])
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(block.text, encoding="utf-8")
            continue
        if block.directive and block.directive[0] == "file":
            target = box.root / box.local(block.directive[1])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.text, encoding="utf-8")
        if block.lang in {"sh", "bash", "shell"}:
            _run_sh(block, box)
        elif block.lang in {"python", "py", "pycon"}:
            _run_python(block, box, block.line)
        if block.lang != "console":
            continue
        body_start = block.line  # index of the first line after the fence (0-based)
        body = lines[body_start : body_start + len(block.text.splitlines())]
        new_body: list[str] = []
        for command, expected in _console_steps(block.text):
            proc = box.shell(command)
            actual = box.public(proc.stdout + (proc.stderr if not proc.stdout else "")).rstrip("\n")
            new_body.append(f"$ {command}")
            if expected.strip() and not _same_output(expected, actual):
                new_body += [line.rstrip() for line in actual.splitlines()]
                replaced += 1
            elif expected.strip():
                new_body += expected.splitlines()
        edits.append((body_start, len(body), new_body))
    for start, length, new_body in reversed(edits):
        lines[start : start + length] = new_body
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return replaced


if __name__ == "__main__":
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description="Rewrite the changed console outputs of documents.")
    parser.add_argument("--update", nargs="+", type=Path, required=True, metavar="DOC")
    for doc in parser.parse_args().update:
        with tempfile.TemporaryDirectory() as tmp:
            count = update_document(doc.resolve(), Sandbox(Path(tmp)))
        print(f"{doc}: {count} output(s) rewritten")
