"""Pytest plugin: a throw-away PostgreSQL server and headless Chromium for the test suite.

Enabled from tests/conftest.py with ``pytest_plugins = ["tests.support.servers"]``.
The Debian packages they need are installed by ``bash tests/bootstrap.sh``.

Fixtures:

- ``postgres_dsn`` (session): a libpq DSN (``host=127.0.0.1 port=N dbname=postgres
  user=postgres``) of a PostgreSQL cluster made for this test session with initdb in a temp
  dir, trust auth, listening on 127.0.0.1 on a free port (its unix socket in the temp dir),
  stopped and removed at the end. PostgreSQL refuses to run as root: as root, the server
  runs as the ``postgres`` system user (created by the Debian package).
- ``postgres_db`` (function): a fresh database on that server for one test; its DSN.
- ``chromium`` (session): ``chromium.render(html_path, width=, height=)`` runs headless
  Chromium on a local HTML file and returns ``Rendered(dom, screenshot)``.

Helper: ``nonblank_fraction(png)``, the share of non-white pixels in a PNG (pure Python).
"""

from __future__ import annotations

import contextlib
import dataclasses
import getpass
import glob
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = [
    "Chromium",
    "ChromiumError",
    "PostgresCluster",
    "Rendered",
    "ServerSetupError",
    "nonblank_fraction",
]

BOOTSTRAP = "bash tests/bootstrap.sh"


class ServerSetupError(RuntimeError):
    """A server or browser the tests need is missing or did not start."""


# --------------------------------------------------------------------------- PostgreSQL


def _find_pg_bindir() -> Path:
    """Directory holding initdb and pg_ctl: $PG_BINDIR, Debian's newest, or PATH."""
    candidates: list[Path] = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(Path(os.environ["PG_BINDIR"]))

    def version(path: str) -> tuple[int, ...]:
        name = Path(path).parent.name
        return tuple(int(p) for p in name.split(".") if p.isdigit())

    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    candidates += [Path(d) for d in debian]
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for d in candidates:
        if all(os.access(d / exe, os.X_OK) for exe in ("initdb", "pg_ctl", "psql")):
            return d
    raise ServerSetupError(
        "PostgreSQL server binaries (initdb, pg_ctl, psql) not found in "
        "/usr/lib/postgresql/*/bin, $PG_BINDIR or PATH; install them with `"
        + BOOTSTRAP
        + "` (Debian package `postgresql`)"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _world_traversable(path: Path) -> bool:
    """Whether another user can reach entries inside ``path`` (x bit on it and every parent)."""
    path = path.resolve()
    return all(p.stat().st_mode & 0o001 for p in (path, *path.parents))


_WATCHDOG = """
import json, os, shutil, subprocess, sys
cfg = json.loads(sys.argv[1])
sys.stdin.buffer.read()  # EOF: pytest closed the pipe or died
if os.path.isdir(cfg["dir"]):
    subprocess.run(cfg["stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(cfg["dir"], ignore_errors=True)
"""


class PostgresCluster:
    """A PostgreSQL cluster in a temp dir, run by the current user or, as root, by ``postgres``."""

    def __init__(self, *, start_timeout: float = 60.0) -> None:
        self.bindir = _find_pg_bindir()
        self.start_timeout = start_timeout
        self.as_root = os.geteuid() == 0
        self.os_user = "postgres" if self.as_root else getpass.getuser()
        self.db_user = "postgres"
        if self.as_root:
            try:
                import pwd

                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise ServerSetupError(
                    "running as root, so the PostgreSQL server must run as the `postgres` "
                    "system user, which does not exist; run `" + BOOTSTRAP + "` "
                    "(the Debian package `postgresql` creates it)"
                ) from None
            self._uid, self._gid = pw.pw_uid, pw.pw_gid
        base = Path(tempfile.gettempdir())
        if self.as_root and not _world_traversable(base):
            base = Path("/tmp")
        # Short path: the unix socket path (dir + "/.s.PGSQL.NNNNN") must fit in 107 bytes.
        self.dir = Path(tempfile.mkdtemp(prefix="tr-pg-", dir=base))
        self.datadir = self.dir / "data"
        self.logfile = self.dir / "server.log"
        self.port = 0
        self.started = False
        if self.as_root:
            os.chown(self.dir, self._uid, self._gid)
        os.chmod(self.dir, 0o700)

    # -- running commands as the server's user
    def _cmd(self, *argv: str) -> list[str]:
        if not self.as_root:
            return list(argv)
        if shutil.which("runuser"):
            return ["runuser", "-u", "postgres", "--", *argv]
        if shutil.which("setpriv"):
            return ["setpriv", f"--reuid={self._uid}", f"--regid={self._gid}", "--init-groups", *argv]
        raise ServerSetupError("running as root, but neither runuser nor setpriv is available")

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        # initdb is given its locale explicitly; LC_ALL=C keeps messages parseable and
        # avoids "invalid locale" failures when LANG names a locale that isn't generated.
        env.update(LC_ALL="C", LANG="C", TZ="UTC")
        if self.as_root:
            env.update(HOME=str(self.dir), USER="postgres", LOGNAME="postgres")
        return env

    def _run(self, *argv: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self._cmd(*argv),
            cwd=self.dir,  # the server's user may not be able to read the caller's cwd
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def _check(self, what: str, proc: subprocess.CompletedProcess[str]) -> None:
        if proc.returncode != 0:
            log = self.logfile.read_text(errors="replace") if self.logfile.exists() else ""
            raise ServerSetupError(
                f"{what} failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}"
                + (f"\n--- server log ---\n{log}" if log else "")
            )

    # -- life cycle
    def initdb(self) -> None:
        proc = self._run(
            str(self.bindir / "initdb"),
            "-D", str(self.datadir),
            "-U", self.db_user,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )  # fmt: skip
        self._check("initdb", proc)
        conf = [
            "listen_addresses = '127.0.0.1'",
            f"unix_socket_directories = '{self.dir}'",
            # Throw-away data: durability off makes DDL and CREATE DATABASE much faster.
            "fsync = off",
            "synchronous_commit = off",
            "full_page_writes = off",
            "max_connections = 100",
            # Small /dev/shm (containers: often 64 MB) breaks parallel query; not needed here.
            "max_parallel_workers_per_gather = 0",
            "log_min_messages = warning",
            "timezone = 'UTC'",
        ]
        auto = self.datadir / "postgresql.auto.conf"
        with auto.open("a", encoding="utf-8") as f:
            f.write("\n".join(conf) + "\n")

    def start(self) -> None:
        last = ""
        for _ in range(5):  # the free port can be taken between choosing and binding it
            self.port = _free_port()
            proc = self._run(
                str(self.bindir / "pg_ctl"),
                "start",
                "-D", str(self.datadir),
                "-l", str(self.logfile),
                "-o", f"-p {self.port}",
                "-w", "-t", str(int(self.start_timeout)),
            )  # fmt: skip
            if proc.returncode == 0:
                self.started = True
                break
            log = self.logfile.read_text(errors="replace") if self.logfile.exists() else ""
            last = f"{proc.stdout}{proc.stderr}\n--- server log ---\n{log}"
            if "could not bind" not in log and "already in use" not in log:
                break
        else:
            raise ServerSetupError(f"pg_ctl start: no free port after 5 attempts:\n{last}")
        if not self.started:
            raise ServerSetupError(f"pg_ctl start failed:\n{last}")
        self._wait_ready()

    def _wait_ready(self) -> None:
        """pg_ctl -w waited on the socket; also wait until TCP accepts a real query."""
        deadline = time.monotonic() + self.start_timeout
        while True:
            proc = self.psql("postgres", "SELECT 1", check=False)
            if proc.returncode == 0 and proc.stdout.strip() == "1":
                return
            if time.monotonic() > deadline:
                self._check("waiting for the server to accept connections", proc)
                raise ServerSetupError(f"server not ready: {proc.stdout}{proc.stderr}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.started:
            proc = self._run(str(self.bindir / "pg_ctl"), "stop", "-D", str(self.datadir), "-m", "fast", "-w")
            if proc.returncode != 0:  # last resort: immediate shutdown
                self._run(str(self.bindir / "pg_ctl"), "stop", "-D", str(self.datadir), "-m", "immediate")
            self.started = False

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def start_watchdog(self) -> subprocess.Popen[bytes]:
        """A helper process that stops the server and removes its dir once pytest is gone.

        It waits for EOF on a pipe whose write end only this process holds, so it also fires
        when pytest is killed (SIGKILL, a CI timeout) and the fixture's teardown never runs.
        On a normal teardown the server is already stopped and the dir removed.
        """
        stop = self._cmd(str(self.bindir / "pg_ctl"), "stop", "-D", str(self.datadir), "-m", "immediate")
        return subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, json.dumps({"stop": stop, "dir": str(self.dir)})],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=self.dir,
            env=self._env(),
            start_new_session=True,  # not killed with pytest's process group on Ctrl-C
        )

    # -- clients
    def dsn(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} dbname={dbname} user={self.db_user}"

    def psql(self, dbname: str, sql: str, *, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run SQL with psql over TCP (no Python client library needed for the fixtures)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(PGCONNECT_TIMEOUT="5", LC_ALL="C")
        proc = subprocess.run(
            [str(self.bindir / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
             "-d", self.dsn(dbname), "-c", sql],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        if check:
            self._check(f"psql {sql!r}", proc)
        return proc

    def create_database(self, name: str) -> str:
        self.psql("postgres", f'CREATE DATABASE "{name}"')
        return self.dsn(name)

    def drop_database(self, name: str) -> None:
        # WITH (FORCE): a test that leaked a connection must not make the drop fail.
        self.psql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster()
    watchdog = None
    try:
        cluster.initdb()
        watchdog = cluster.start_watchdog()
        cluster.start()
        yield cluster
    finally:
        try:
            cluster.stop()
        finally:
            cluster.remove()
            if watchdog is not None:
                watchdog.stdin.close()  # type: ignore[union-attr]
                with contextlib.suppress(subprocess.TimeoutExpired):
                    watchdog.wait(timeout=10)


@pytest.fixture(scope="session")
def postgres_dsn(postgres_cluster: PostgresCluster) -> str:
    """libpq DSN of the session's PostgreSQL server (database ``postgres``, superuser)."""
    return postgres_cluster.dsn()


@pytest.fixture
def postgres_db(postgres_cluster: PostgresCluster) -> Iterator[str]:
    """DSN of a fresh, empty database for this test only; dropped afterwards."""
    name = "t_" + uuid.uuid4().hex[:16]
    dsn = postgres_cluster.create_database(name)
    try:
        yield dsn
    finally:
        postgres_cluster.drop_database(name)


# --------------------------------------------------------------------------- Chromium

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # needed as root; the tests only open their own local files
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # /dev/shm is often small in containers
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    "--mute-audio",
)


class ChromiumError(RuntimeError):
    """Chromium failed, timed out or produced no output; the message carries its stderr."""


@dataclasses.dataclass(frozen=True)
class Rendered:
    dom: str  # document.documentElement.outerHTML after scripts ran (--dump-dom)
    screenshot: Path  # PNG of the viewport (--screenshot)


def _find_chromium() -> str:
    for cand in (os.environ.get("CHROMIUM"), "/usr/bin/chromium"):
        if cand and os.access(cand, os.X_OK):
            return cand
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise ServerSetupError(
        "Chromium not found at /usr/bin/chromium, $CHROMIUM or on PATH; install it with `"
        + BOOTSTRAP
        + "` (Debian package `chromium`)"
    )


class Chromium:
    """Headless Chromium, one fresh browser process (and profile) per ``render``."""

    def __init__(self, workdir: Path, *, timeout: float = 60.0, virtual_time_budget_ms: int = 5000) -> None:
        self.executable = _find_chromium()
        self.workdir = workdir
        self.timeout = timeout
        self.virtual_time_budget_ms = virtual_time_budget_ms
        self._n = 0

    def render(self, html_path: Path, *, width: int = 1280, height: int = 900) -> Rendered:
        """Load ``html_path`` (a local file), let its scripts run, dump the DOM and screenshot it.

        One Chromium invocation does both: ``--dump-dom`` prints the DOM on stdout and
        ``--screenshot`` writes the PNG, after ``--virtual-time-budget`` ms of virtual time
        (timers fire, pending loads finish) -- real time is usually far less.
        """
        html_path = Path(html_path).resolve()
        if not html_path.is_file():
            raise FileNotFoundError(html_path)
        self._n += 1
        out = self.workdir / f"render-{self._n:03d}"
        out.mkdir()
        profile = out / "profile"
        png = out / "screenshot.png"
        argv = [
            self.executable,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--virtual-time-budget={self.virtual_time_budget_ms}",
            f"--screenshot={png}",
            "--dump-dom",
            html_path.as_uri(),
        ]
        env = dict(os.environ, HOME=str(out))  # nothing lands in the real home
        proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=out,
            start_new_session=True,  # its own process group: a timeout kills every helper
        )
        try:
            stdout, stderr = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
            raise ChromiumError(
                f"chromium timed out after {self.timeout}s rendering {html_path}\n"
                f"argv: {argv}\n--- stderr ---\n{stderr.decode(errors='replace')}"
            ) from None
        finally:
            # Helpers (zygote, renderers) that outlive the browser: kill the whole group.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            shutil.rmtree(profile, ignore_errors=True)
        dom = stdout.decode("utf-8", errors="replace")
        problem = None
        if proc.returncode != 0:
            problem = f"exit status {proc.returncode}"
        elif not png.is_file() or png.stat().st_size == 0:
            problem = "no screenshot written"
        elif "<html" not in dom.lower():
            problem = "no DOM dumped"
        if problem:
            raise ChromiumError(
                f"chromium failed rendering {html_path}: {problem}\nargv: {argv}\n"
                f"--- stdout ---\n{dom[:2000]}\n--- stderr ---\n{stderr.decode(errors='replace')}"
            )
        return Rendered(dom=dom, screenshot=png)


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Chromium:
    """Headless Chromium: ``chromium.render(html_path, width=1280, height=900) -> Rendered``."""
    return Chromium(tmp_path_factory.mktemp("chromium"))


# --------------------------------------------------------------------------- PNG


def _unfilter(raw: bytes, width: int, height: int, bpp: int) -> Iterator[bytes]:
    """Yield the reconstructed scanlines of a non-interlaced 8-bit PNG (filters 0-4)."""
    stride = width * bpp
    if len(raw) < height * (stride + 1):
        raise ValueError("PNG image data is truncated")
    prev = bytes(stride)
    nbits = stride * 8
    lo7 = int.from_bytes(b"\x7f" * stride, "big")
    hi1 = int.from_bytes(b"\x80" * stride, "big")
    pos = 0
    for _ in range(height):
        ftype = raw[pos]
        line = raw[pos + 1 : pos + 1 + stride]
        pos += stride + 1
        if ftype == 0:
            cur = bytes(line)
        elif ftype == 2:  # Up: bytewise (line + prev) mod 256, all lanes at once (SWAR)
            a = int.from_bytes(line, "big")
            b = int.from_bytes(prev, "big")
            cur = (((a & lo7) + (b & lo7)) ^ ((a ^ b) & hi1)).to_bytes(nbits // 8, "big")
        elif ftype == 1:  # Sub
            out = bytearray(line)
            for i in range(bpp, stride):
                out[i] = (out[i] + out[i - bpp]) & 0xFF
            cur = bytes(out)
        elif ftype == 3:  # Average
            out = bytearray(line)
            for i in range(stride):
                left = out[i - bpp] if i >= bpp else 0
                out[i] = (out[i] + ((left + prev[i]) >> 1)) & 0xFF
            cur = bytes(out)
        elif ftype == 4:  # Paeth
            out = bytearray(line)
            for i in range(stride):
                if i >= bpp:
                    a, c = out[i - bpp], prev[i - bpp]
                else:
                    a = c = 0
                b = prev[i]
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                if pa <= pb and pa <= pc:
                    pred = a
                elif pb <= pc:
                    pred = b
                else:
                    pred = c
                out[i] = (out[i] + pred) & 0xFF
            cur = bytes(out)
        else:
            raise ValueError(f"PNG filter type {ftype} is not 0-4")
        yield cur
        prev = cur


def nonblank_fraction(png: Path, *, tolerance: int = 0) -> float:
    """Share (0..1) of the pixels of an 8-bit RGB/RGBA (or grey) PNG that are not white.

    A pixel is blank when every colour channel is >= 255 - ``tolerance``, or when it is
    fully transparent. Standard library only (zlib, struct).
    """
    data = Path(png).read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{png}: not a PNG file")
    pos, idat = 8, []
    width = height = 0
    colour_type = -1
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        ctype = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if ctype == b"IHDR":
            width, height, depth, colour_type, _comp, _filt, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or colour_type not in (0, 2, 4, 6) or interlace != 0:
                raise ValueError(
                    f"{png}: unsupported PNG (bit depth {depth}, colour type {colour_type}, "
                    f"interlace {interlace}); need 8-bit RGB/RGBA/grey, not interlaced"
                )
        elif ctype == b"IDAT":
            idat.append(body)
        elif ctype == b"IEND":
            break
    if colour_type < 0 or not width or not height:
        raise ValueError(f"{png}: no IHDR")
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour_type]
    colours = 1 if colour_type in (0, 4) else 3
    has_alpha = colour_type in (4, 6)
    raw = zlib.decompress(b"".join(idat))
    threshold = 255 - tolerance
    # byte -> 1 if "dark" (below threshold), else 0; alpha: 1 if not fully transparent
    dark = bytes(1 if v < threshold else 0 for v in range(256))
    opaque = bytes(0 if v == 0 else 1 for v in range(256))
    white_row = b"\xff" * (width * channels) if not has_alpha else None
    nonblank = 0
    for row in _unfilter(raw, width, height, channels):
        if row == white_row:
            continue
        mask = 0
        for ch in range(colours):
            mask |= int.from_bytes(row[ch::channels].translate(dark), "big")
        if has_alpha:
            mask &= int.from_bytes(row[channels - 1 :: channels].translate(opaque), "big")
        nonblank += mask.bit_count()
    return nonblank / (width * height)
