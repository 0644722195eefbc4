"""The test-support servers for real: PostgreSQL (psycopg 3) and headless Chromium."""

from __future__ import annotations

import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path
from typing import Any

import pytest

from tests.support.servers import Chromium, nonblank_fraction


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - a set-up problem, not a test result
        raise ImportError(
            "psycopg 3 is needed for the PostgreSQL tests: it belongs in the `test` extra "
            "(`psycopg[binary]>=3.1`); run `bash tests/bootstrap.sh`"
        ) from exc
    return psycopg


# --------------------------------------------------------------------------- PostgreSQL

_WRITER = textwrap.dedent(
    """
    import sys
    import psycopg

    dsn, writer, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with psycopg.connect(dsn, autocommit=True) as conn:
        # Both writers block here until the test releases its exclusive advisory lock,
        # so they start appending at the same moment.
        conn.execute("SELECT pg_advisory_lock_shared(42)")
        for i in range(rows):
            conn.execute("INSERT INTO events (writer, n) VALUES (%s, %s)", (writer, i))
        conn.execute("SELECT pg_advisory_unlock_shared(42)")
    """
)


def test_postgres_server_answers(postgres_dsn: str) -> None:
    psycopg = _psycopg()
    assert postgres_dsn.startswith("host=127.0.0.1 port=")
    with psycopg.connect(postgres_dsn) as conn:
        version = conn.execute("SHOW server_version_num").fetchone()[0]
        assert int(version) >= 130000
        assert conn.execute("SELECT current_setting('server_encoding')").fetchone()[0] == "UTF8"
        assert conn.execute("SELECT current_user").fetchone()[0] == "postgres"
        assert conn.execute("SELECT %s::text", ("投诉登记",)).fetchone()[0] == "投诉登记"


def test_two_processes_append_concurrently(postgres_db: str) -> None:
    psycopg = _psycopg()
    rows = 1000
    with psycopg.connect(postgres_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE events (seq bigserial PRIMARY KEY, writer text NOT NULL, n int NOT NULL)")
        conn.execute("SELECT pg_advisory_lock(42)")
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", _WRITER, postgres_db, name, str(rows)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for name in ("a", "b")
        ]
        try:
            # Wait until both writers are connected and queued on the lock, then let them go.
            for _ in range(300):
                waiting = conn.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                ).fetchone()[0]
                if waiting == 2 or any(p.poll() is not None for p in procs):
                    break
                conn.execute("SELECT pg_sleep(0.05)")
            assert waiting == 2, "the writer processes did not both reach the start line"
            conn.execute("SELECT pg_advisory_unlock(42)")
            for p in procs:
                _out, err = p.communicate(timeout=120)
                assert p.returncode == 0, err.decode()
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
        total, distinct = conn.execute("SELECT count(*), count(DISTINCT (writer, n)) FROM events").fetchone()
        assert total == distinct == 2 * rows
        per_writer = dict(conn.execute("SELECT writer, count(*) FROM events GROUP BY writer").fetchall())
        assert per_writer == {"a": rows, "b": rows}
        # They really ran at the same time: each one's rows interleave with the other's.
        spans = dict(
            conn.execute(
                "SELECT writer, int8range(min(seq), max(seq), '[]') FROM events GROUP BY writer"
            ).fetchall()
        )
        assert conn.execute("SELECT %s::int8range && %s::int8range", (spans["a"], spans["b"])).fetchone()[0]


_seen_databases: list[str] = []


@pytest.mark.parametrize("run", [1, 2])
def test_postgres_db_is_fresh_per_test(postgres_db: str, postgres_dsn: str, run: int) -> None:
    psycopg = _psycopg()
    with psycopg.connect(postgres_db, autocommit=True) as conn:
        dbname = conn.execute("SELECT current_database()").fetchone()[0]
        # Fails with DuplicateTable if the previous run's database were reused.
        conn.execute("CREATE TABLE marker (run int)")
        conn.execute("INSERT INTO marker VALUES (%s)", (run,))
        assert conn.execute("SELECT array_agg(run) FROM marker").fetchone()[0] == [run]
        conn.execute("CREATE SCHEMA store")
        conn.execute("CREATE TABLE store.t (x int)")
    with psycopg.connect(postgres_dsn) as admin:
        names = {r[0] for r in admin.execute("SELECT datname FROM pg_database").fetchall()}
    assert dbname in names
    assert dbname not in _seen_databases
    # The databases of earlier tests were dropped at their teardown.
    assert not names & set(_seen_databases)
    _seen_databases.append(dbname)


# --------------------------------------------------------------------------- Chromium

_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>t</title>
<style>body {{ margin: 0; background: #fff; font: 40px sans-serif; }}</style></head>
<body>{body}</body></html>
"""


def _page(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(_PAGE.format(body=body), encoding="utf-8")
    return path


def test_chromium_runs_scripts_and_screenshots(chromium: Chromium, tmp_path: Path) -> None:
    page = _page(
        tmp_path,
        "svg.html",
        """
        <svg width="400" height="300" xmlns="http://www.w3.org/2000/svg">
          <rect x="0" y="0" width="400" height="300" fill="#1f77b4"/>
          <circle cx="200" cy="150" r="100" fill="#ff7f0e"/>
        </svg>
        <script>
          setTimeout(function () {
            var el = document.createElement("div");
            el.id = "added-by-script";
            el.textContent = "rendered " + (1 + 1);
            document.body.appendChild(el);
          }, 300);
        </script>
        """,
    )
    out = chromium.render(page, width=800, height=600)
    assert '<div id="added-by-script">rendered 2</div>' in out.dom
    assert "<svg" in out.dom
    png = out.screenshot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (800, 600)
    # The 400x300 SVG is 25% of an 800x600 viewport; the script's line of text adds a little.
    assert 0.24 < nonblank_fraction(out.screenshot) < 0.30


def test_chromium_renders_chinese_with_a_cjk_font(chromium: Chromium, tmp_path: Path) -> None:
    blank = chromium.render(_page(tmp_path, "blank.html", "<p></p>"), width=600, height=200)
    sparse = chromium.render(_page(tmp_path, "sparse.html", "<p>一二三十一二三十</p>"), width=600, height=200)
    dense = chromium.render(_page(tmp_path, "dense.html", "<p>鬱龜靈響鬱龜靈響</p>"), width=600, height=200)
    f_blank, f_sparse, f_dense = (nonblank_fraction(r.screenshot) for r in (blank, sparse, dense))
    assert f_blank == 0.0
    assert f_sparse > 0.001
    # Without a CJK font every character is the same "tofu" box, so both strings would
    # cover the same area; with real glyphs the many-stroke characters carry far more ink.
    assert f_dense > 2 * f_sparse, (f_sparse, f_dense)


# --------------------------------------------------------------------------- PNG decoder


def _png(width: int, height: int, colour_type: int, pixels: bytes, filters: list[int]) -> bytes:
    """Encode with the given filter type per row (the encoder side of PNG filtering)."""
    bpp = {2: 3, 6: 4}[colour_type]
    stride = width * bpp
    prev = bytes(stride)
    raw = bytearray()
    for y in range(height):
        row = pixels[y * stride : (y + 1) * stride]
        ftype = filters[y % len(filters)]
        out = bytearray()
        for i in range(stride):
            a = row[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 0:
                pred = 0
            elif ftype == 1:
                pred = a
            elif ftype == 2:
                pred = b
            elif ftype == 3:
                pred = (a + b) >> 1
            else:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
            out.append((row[i] - pred) & 0xFF)
        raw += bytes([ftype]) + out
        prev = row

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(bytes(raw)))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("colour_type", [2, 6])
def test_nonblank_fraction_decodes_every_filter(tmp_path: Path, colour_type: int) -> None:
    import random

    rng = random.Random(colour_type)
    width, height = 37, 40
    bpp = 3 if colour_type == 2 else 4
    pixels = bytearray()
    expected = 0
    for y in range(height):
        for x in range(width):
            if (x + y) % 3 == 0:  # white (alpha varies for RGBA: still blank)
                px = [255, 255, 255] + ([rng.choice([0, 128, 255])] if bpp == 4 else [])
            elif bpp == 4 and (x * y) % 7 == 1:  # fully transparent, any colour: blank
                px = [rng.randrange(256) for _ in range(3)] + [0]
            else:
                px = [rng.randrange(255), rng.randrange(256), rng.randrange(256)] + (
                    [255] if bpp == 4 else []
                )
                expected += 1
            pixels += bytes(px)
    path = tmp_path / "f.png"
    path.write_bytes(_png(width, height, colour_type, bytes(pixels), filters=[0, 1, 2, 3, 4, 4, 2, 1]))
    assert nonblank_fraction(path) == pytest.approx(expected / (width * height))
    white = tmp_path / "white.png"
    white.write_bytes(_png(5, 4, colour_type, b"\xff" * (5 * 4 * bpp), filters=[0, 1, 2, 3, 4]))
    assert nonblank_fraction(white) == 0.0
