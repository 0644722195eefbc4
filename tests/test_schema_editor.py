"""The documented editor set-up, in a real editor's language server.

VS Code's YAML extension (and Neovim's, Helix's, Zed's yamlls) is Red Hat's
``yaml-language-server``. This drives it over the Language Server Protocol exactly as an
editor does: each bundled ruleset file is opened with the one-line
``# yaml-language-server: $schema=...`` set-up on top, and the server must report no
problem; a broken file must be reported on the right line, and event names completed.

The server (npm ``yaml-language-server``, pinned) is installed on first use into
``~/.cache/tierrules-tests`` (or ``$TIERRULES_YLS_DIR``) with npm; it needs Node.js.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tierrules.ruleset.schema import schema_file_name, schema_names

ROOT = Path(__file__).resolve().parents[1]
YLS_VERSION = "2.0.0"
RULESET_FILES = sorted(p for p in (ROOT / "rulesets" / "default").glob("*.yaml"))
TIMEOUT = 60.0


def _server_dir() -> Path:
    default = Path.home() / ".cache" / "tierrules-tests" / f"yaml-language-server-{YLS_VERSION}"
    return Path(os.environ.get("TIERRULES_YLS_DIR", default))


def _install() -> Path:
    base = _server_dir()
    script = base / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"
    if script.is_file():
        return script
    npm, node = shutil.which("npm"), shutil.which("node")
    assert npm and node, "the editor test needs Node.js and npm (Debian: apt-get install nodejs npm)"
    base.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [
            npm,
            "install",
            "--prefix",
            str(base),
            "--no-audit",
            "--no-fund",
            f"yaml-language-server@{YLS_VERSION}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, f"npm install yaml-language-server failed:\n{proc.stderr[-2000:]}"
    return script


class Server:
    """A yaml-language-server over stdio: requests, notifications and what it publishes."""

    def __init__(self, script: Path, root: Path) -> None:
        node = shutil.which("node")
        assert node is not None
        self.proc = subprocess.Popen(
            [node, str(script), "--stdio"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.inbox: queue.Queue[dict[str, Any]] = queue.Queue()
        self.diagnostics: dict[str, list[dict[str, Any]]] = {}
        self.next_id = 100
        threading.Thread(target=self._read, daemon=True).start()
        self.request("initialize", {"processId": None, "rootUri": root.as_uri(), "capabilities": {}})
        self.notify("initialized", {})
        self.notify("workspace/didChangeConfiguration", {"settings": {"yaml": self.settings()}})

    @staticmethod
    def settings() -> dict[str, Any]:
        return {"validate": True, "completion": True, "hover": True, "schemaStore": {"enable": False}}

    def _read(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        while True:
            headers: dict[str, str] = {}
            while True:
                line = stream.readline()
                if not line:
                    return
                text = line.decode("ascii").strip()
                if not text:
                    break
                key, value = text.split(":", 1)
                headers[key.lower()] = value.strip()
            self.inbox.put(json.loads(stream.read(int(headers["content-length"]))))

    def _send(self, message: dict[str, Any]) -> None:
        data = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(data) + data)
        self.proc.stdin.flush()

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self._send({"method": method, "params": params})

    def _pump(self, until: float) -> dict[str, Any] | None:
        """Handle one incoming message (answering the server's own requests); None on timeout."""
        try:
            message = self.inbox.get(timeout=max(0.05, until - time.monotonic()))
        except queue.Empty:
            return None
        if message.get("method") == "workspace/configuration":
            items = message["params"]["items"]
            self._send({"id": message["id"], "result": [self.settings() for _ in items]})
        elif "method" in message and "id" in message:
            self._send({"id": message["id"], "result": None})
        elif message.get("method") == "textDocument/publishDiagnostics":
            self.diagnostics[message["params"]["uri"]] = message["params"]["diagnostics"]
        return message

    def request(self, method: str, params: dict[str, Any]) -> Any:
        self.next_id += 1
        wanted = self.next_id
        self._send({"id": wanted, "method": method, "params": params})
        until = time.monotonic() + TIMEOUT
        while time.monotonic() < until:
            message = self._pump(until)
            if message is not None and message.get("id") == wanted and "method" not in message:
                return message.get("result")
        raise AssertionError(f"no answer to {method} in {TIMEOUT} s")

    def open(self, path: Path) -> list[dict[str, Any]]:
        """Open a document and return the diagnostics the server publishes for it."""
        uri = path.as_uri()
        self.diagnostics.pop(uri, None)
        text = path.read_text(encoding="utf-8")
        self.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}},
        )
        until = time.monotonic() + TIMEOUT
        while uri not in self.diagnostics and time.monotonic() < until:
            self._pump(until)
        assert uri in self.diagnostics, f"the server published no diagnostics for {path}"
        return self.diagnostics[uri]

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkout-like tree: schema/ and rulesets/default/ side by side."""
    root = tmp_path_factory.mktemp("editor")
    (root / "schema").mkdir()
    for name in schema_names():
        shutil.copy(ROOT / "schema" / schema_file_name(name), root / "schema")
    (root / "rulesets" / "default").mkdir(parents=True)
    return root


@pytest.fixture(scope="module")
def server(workspace: Path) -> Iterator[Server]:
    running = Server(_install(), workspace)
    yield running
    running.close()


def _with_modeline(workspace: Path, source: Path, schema: str, text: str | None = None) -> Path:
    """A copy of ``source`` (or ``text``) with the set-up line, under a name not opened before."""
    folder = workspace / "rulesets" / "default"
    target = folder / f"{len(list(folder.iterdir()))}-{schema}-{source.name}"
    body = source.read_text(encoding="utf-8") if text is None else text
    target.write_text(f"# yaml-language-server: $schema=../../schema/{schema}.schema.json\n{body}", "utf-8")
    return target


@pytest.mark.parametrize("path", RULESET_FILES, ids=lambda p: p.name)
def test_bundled_files_have_no_problems_in_the_editor(server: Server, workspace: Path, path: Path) -> None:
    for schema in ("file", path.stem):
        problems = server.open(_with_modeline(workspace, path, schema))
        assert [(d["range"]["start"]["line"], d["message"]) for d in problems] == [], schema


def test_a_broken_file_is_reported_on_its_line(server: Server, workspace: Path) -> None:
    source = ROOT / "rulesets" / "default" / "deadlines.yaml"
    text = source.read_text(encoding="utf-8")
    broken = text.replace("within: 10 minutes", "within: 10 fortnights", 1).replace(
        "met_by: {event: escalated}", "met_by: {event: escalatd}", 1
    )
    lines = broken.splitlines()
    problems = server.open(_with_modeline(workspace, source, "deadlines", broken))
    # Line numbers count the modeline; the messages are the schema's own words.
    by_line = {d["range"]["start"]["line"]: d["message"] for d in problems}
    within = 1 + next(i for i, line in enumerate(lines) if "10 fortnights" in line)
    met_by = 1 + next(i for i, line in enumerate(lines) if "escalatd" in line)
    assert "'<n> [working] seconds|minutes|hours|days'" in by_line[within]
    assert "escalated" in by_line[met_by]  # "Value is not accepted. Valid values: ..."
    assert len(problems) == 2


def test_event_names_are_completed(server: Server, workspace: Path) -> None:
    source = ROOT / "rulesets" / "default" / "deadlines.yaml"
    text = "deadlines:\n  - id: X.reply\n    source: E2\n    start: {event: }\n"
    path = _with_modeline(workspace, source, "deadlines", text)
    server.open(path)
    line = 1 + text.splitlines().index("    start: {event: }")
    result = server.request(
        "textDocument/completion",
        {"textDocument": {"uri": path.as_uri()}, "position": {"line": line, "character": 19}},
    )
    items = result["items"] if isinstance(result, dict) else result
    labels = {item["label"] for item in items}
    assert {"complaint_registered", "feedback_received", "case_opened"} <= labels
    assert "customer_profile" not in labels  # customer events cannot start a case deadline
