"""Run the ``tierrules`` command with stdout and/or stderr on a real pseudo-terminal.

Each stream chosen gets its own pty (so what went to stdout and to stderr stays apart);
the others are pipes, as in a script. The environment is a clean terminal's: ``TERM`` set,
no ``NO_COLOR``/``FORCE_COLOR`` unless given, a fixed width.
"""

from __future__ import annotations

import dataclasses
import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from typing import Any

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# An SGR sequence that sets a colour (30-37, 90-97 foreground; 38;... extended), not bold or dim.
COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-8]|9[0-7])(?:;[0-9;]*)?m")

_INHERITED = ("PATH", "PYTHONPATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TIERRULES_MATCHER")


@dataclasses.dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def plain_stdout(self) -> str:
        return ANSI.sub("", self.stdout).replace("\r\n", "\n")

    @property
    def plain_stderr(self) -> str:
        return ANSI.sub("", self.stderr).replace("\r\n", "\n")


def _pty(columns: int) -> tuple[int, int]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    return master, slave


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: the child closed its end of the pty
        return b""


def _drain(buffers: dict[int, bytearray], deadline: float) -> None:
    """Read every fd to its end (the child exited and closed it), or until the deadline."""
    open_fds = set(buffers)
    while open_fds and time.monotonic() < deadline:
        ready, _, _ = select.select(list(open_fds), [], [], 0.1)
        for fd in ready:
            chunk = _read(fd)
            if chunk:
                buffers[fd] += chunk
            else:
                open_fds.discard(fd)


def _spawn(args: tuple[str, ...], environ: dict[str, str], slaves: dict[str, int], stdin: str | None) -> Any:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tierrules", *args],
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=slaves.get("stdout", subprocess.PIPE),
        stderr=slaves.get("stderr", subprocess.PIPE),
        env=environ,
    )
    for fd in slaves.values():
        os.close(fd)  # the child holds them now: its exit ends the stream
    if stdin is not None:
        proc.stdin.write(stdin.encode("utf-8"))
        proc.stdin.close()
    return proc


def _collect(proc: Any, masters: dict[str, int], timeout: float) -> tuple[str, str]:
    """What the child wrote to stdout and stderr (ptys or pipes), once it is done."""
    streams = ("stdout", "stderr")
    fds = {name: masters[name] if name in masters else getattr(proc, name).fileno() for name in streams}
    buffers = {fd: bytearray() for fd in fds.values()}
    _drain(buffers, time.monotonic() + timeout)
    proc.wait(timeout=10)
    for name in streams:
        if name in masters:
            os.close(masters[name])
        else:
            getattr(proc, name).close()
    out, err = (bytes(buffers[fds[name]]).decode("utf-8", errors="replace") for name in streams)
    return out, err


def run_cli(
    *args: str,
    stdout_tty: bool = False,
    stderr_tty: bool = False,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    columns: int = 120,
    timeout: float = 120,
) -> Run:
    """``python -m tierrules ARGS`` with the chosen streams on a terminal."""
    environ = {k: os.environ[k] for k in _INHERITED if k in os.environ}
    environ.update({"TERM": "xterm-256color", "COLUMNS": str(columns), **(env or {})})
    wanted = {"stdout": stdout_tty, "stderr": stderr_tty}
    ptys = {name: _pty(columns) for name, on in wanted.items() if on}
    proc = _spawn(args, environ, {name: slave for name, (_, slave) in ptys.items()}, stdin)
    out, err = _collect(proc, {name: master for name, (master, _) in ptys.items()}, timeout)
    return Run(proc.returncode, out, err)
