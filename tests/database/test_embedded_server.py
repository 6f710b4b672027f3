"""The embedded PostgreSQL server: first use, sharing, stopping, and every bad case as one clear line.

Each server here lives in a data directory of the test's own and is driven from separate
processes, as `make run`'s web server and worker drive the real one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from agentapp.platform.embedded_pg.server import binaries_major, ensure_running, release

ROOT = Path(__file__).resolve().parents[2]

# Starts the server for argv[1], runs argv[2] (Python, with `server` and `conn` bound), prints a JSON line.
DRIVER = """
import json, sys
from agentapp.platform.embedded_pg import server as embedded
if len(sys.argv) > 3:
    embedded.MIN_FREE_BYTES = int(sys.argv[3])
try:
    server = embedded.ensure_running(sys.argv[1], database="app")
except embedded.EmbeddedServerError as exc:
    sys.exit(f"error: {exc}")
import psycopg
with psycopg.connect(**server.conninfo("app"), autocommit=True) as conn:
    out = {"host": server.host, "pid": int(open(sys.argv[1] + "/postmaster.pid").readline())}
    exec(sys.argv[2])
print(json.dumps(out))
"""


def _run(data_dir: Path, code: str = "", *, min_free: int | None = None) -> subprocess.CompletedProcess:
    args = [sys.executable, "-c", DRIVER, str(data_dir), code]
    if min_free is not None:
        args.append(str(min_free))
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)


def _ok(done: subprocess.CompletedProcess) -> dict:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _one_line_error(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 1, done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr  # one line, no traceback
    assert lines[0].startswith("error: ")
    return lines[0]


def _server_running(data_dir: Path) -> bool:
    return (data_dir / "postmaster.pid").exists()


def _initialised(tmp_path: Path) -> Path:
    """A data directory that has been initialised, with its server stopped again."""
    data_dir = tmp_path / "pgdata"
    _ok(
        _run(
            data_dir,
            "conn.execute('CREATE TABLE kept (note text)'); conn.execute(\"INSERT INTO kept VALUES ('hi')\")",
        )
    )
    assert not _server_running(data_dir)
    return data_dir


def test_it_starts_on_first_use_listening_only_on_a_socket_inside_its_data_directory(tmp_path):
    data_dir = tmp_path / "pgdata"
    server = ensure_running(data_dir, database="app")
    try:
        assert Path(server.host) == data_dir.resolve()
        assert (data_dir / f".s.PGSQL.{server.port}").is_socket()
        with psycopg.connect(**server.conninfo("app")) as conn:
            assert conn.execute("SHOW listen_addresses").fetchone() == ("",)  # no TCP port to collide on
            assert conn.execute("SELECT current_database()").fetchone() == ("app",)
            available = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
            assert available.fetchone() == (1,)
    finally:
        release(data_dir)
    assert not _server_running(data_dir)  # this process was its only user


def test_processes_share_one_server_and_the_last_one_to_exit_stops_it(tmp_path):
    data_dir = tmp_path / "pgdata"
    ensure_running(data_dir, database="app")
    try:
        ours = int((data_dir / "postmaster.pid").read_text().splitlines()[0])
        other = _ok(_run(data_dir))
        assert other["pid"] == ours  # the other process found the running server
        assert _server_running(data_dir)  # and its exit left it to us
    finally:
        release(data_dir)
    assert not _server_running(data_dir)


def test_processes_of_a_fresh_checkout_started_at_the_same_moment_all_come_up(tmp_path):
    for attempt in range(2):
        data_dir = tmp_path / f"pgdata-{attempt}"
        args = [sys.executable, "-c", DRIVER, str(data_dir), "out['dbs'] = 1"]
        started = [
            subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(3)
        ]
        for process in started:
            stdout, stderr = process.communicate(timeout=180)
            assert process.returncode == 0, stderr
            assert json.loads(stdout.strip().splitlines()[-1])["dbs"] == 1


def test_two_checkouts_run_their_own_servers_side_by_side(tmp_path):
    first, second = tmp_path / "one" / "pgdata", tmp_path / "two" / "pgdata"
    for path in (first.parent, second.parent):
        path.mkdir()
    a, b = ensure_running(first, database="app"), ensure_running(second, database="app")
    try:
        assert a.host != b.host
        with psycopg.connect(**a.conninfo("app"), autocommit=True) as conn:
            conn.execute("CREATE TABLE only_in_one (x int)")
        with psycopg.connect(**b.conninfo("app")) as conn:
            found = conn.execute("SELECT to_regclass('only_in_one')").fetchone()
            assert found == (None,)
    finally:
        release(first)
        release(second)


def test_a_server_killed_outright_comes_back_with_its_data(tmp_path):
    data_dir = _initialised(tmp_path)
    kill = "import os, signal; os.kill(out['pid'], signal.SIGKILL)"  # as the OOM killer would
    _ok(_run(data_dir, kill))
    _wait_for_exit(data_dir)

    found = _ok(_run(data_dir, "out['rows'] = conn.execute('SELECT note FROM kept').fetchall()"))

    assert found["rows"] == [["hi"]]


def _wait_for_exit(data_dir: Path) -> None:
    """The killed postmaster's children notice and exit on their own within moments."""
    import psutil

    deadline = time.monotonic() + 10
    while any(
        "postgres" in (p.info["name"] or "")
        and p.info["username"] == "embedded_postgres"
        and str(data_dir) in " ".join(p.info["cmdline"] or [])
        for p in psutil.process_iter(["name", "username", "cmdline"])
    ):
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)


def test_a_stale_pid_file_naming_another_process_is_one_line_that_names_the_fix(tmp_path):
    data_dir = _initialised(tmp_path)
    # A killed server's file, its pid since reused by a live process that is no PostgreSQL server.
    (data_dir / "postmaster.pid").write_text(f"{os.getpid()}\n{data_dir}\n")

    line = _one_line_error(_run(data_dir))

    assert "postmaster.pid" in line and "remove that file" in line
    assert (data_dir / "PG_VERSION").exists()  # nothing was reinitialised


def test_a_socket_held_by_another_program_is_one_line(tmp_path):
    data_dir = _initialised(tmp_path)
    # A live process of the server's own user claims the socket's lock file, as a second server
    # on that socket would (PostgreSQL takes a lock of another user's process for a stale one).
    holder = subprocess.Popen(["sleep", "60"], user="embedded_postgres" if os.geteuid() == 0 else None)
    try:
        (data_dir / ".s.PGSQL.5432.lock").write_text(f"{holder.pid}\n{data_dir}\n")
        line = _one_line_error(_run(data_dir))
    finally:
        holder.kill()
        holder.wait()

    assert "socket" in line and "held by another program" in line
    (data_dir / ".s.PGSQL.5432.lock").unlink()
    assert _ok(_run(data_dir, "out['rows'] = conn.execute('SELECT note FROM kept').fetchall()"))["rows"]


def test_a_data_directory_of_another_major_version_is_left_untouched(tmp_path):
    data_dir = _initialised(tmp_path)
    older = binaries_major() - 2
    (data_dir / "PG_VERSION").write_text(f"{older}\n")

    line = _one_line_error(_run(data_dir))

    assert f"PostgreSQL {older} database" in line and f"mv {data_dir}" in line and "pg_upgrade" in line
    assert (data_dir / "PG_VERSION").read_text().strip() == str(older)
    assert (data_dir / "base").is_dir()


def test_a_directory_that_holds_something_else_is_never_initialised(tmp_path):
    data_dir = tmp_path / "pgdata"
    data_dir.mkdir()
    (data_dir / "notes.txt").write_text("mine")

    line = _one_line_error(_run(data_dir))

    assert "not empty but holds no PostgreSQL data" in line
    assert [p.name for p in data_dir.iterdir()] == ["notes.txt"]


# --- real disks that are full or read-only (a tmpfs of the test's own; needs root, as CI runs) ------
@pytest.fixture
def small_disk(tmp_path) -> Iterator[callable]:
    mounted: list[Path] = []

    def mount(size_mb: int, *, read_only: bool = False) -> Path:
        point = tmp_path / f"disk{len(mounted)}"
        point.mkdir()
        options = f"size={size_mb}m" + (",ro" if read_only else "")
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True
        )
        if done.returncode != 0:
            pytest.skip(f"mounting a small disk needs root ({done.stderr.decode().strip()})")
        mounted.append(point)
        return point

    yield mount
    for point in reversed(mounted):
        subprocess.run(["pkill", "-9", "-f", f"postgres -D {point}"], capture_output=True)
        time.sleep(0.2)
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


def test_too_little_free_space_is_refused_before_anything_is_written(small_disk):
    disk = small_disk(16)

    line = _one_line_error(_run(disk / "pgdata"))

    assert "needs at least 64 MB free" in line and "free some disk space" in line
    assert not (disk / "pgdata").exists()


def test_a_disk_that_fills_while_the_server_is_created_is_one_line(small_disk):
    disk = small_disk(12)

    line = _one_line_error(_run(disk / "pgdata", min_free=1))  # past the free-space guard, into initdb

    assert "is full" in line and "free some space" in line


def test_a_read_only_disk_is_one_line_and_its_data_is_kept(small_disk):
    disk = small_disk(160)
    data_dir = disk / "pgdata"
    _ok(_run(data_dir, "conn.execute('CREATE TABLE kept (note text)')"))
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)

    line = _one_line_error(_run(data_dir))

    assert "read-only file system" in line
    subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
    assert _ok(_run(data_dir, "out['n'] = conn.execute('SELECT count(*) FROM kept').fetchone()[0]"))["n"] == 0
