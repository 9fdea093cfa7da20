"""A throw-away PostgreSQL server for the test session (Debian's binaries, or a given URL).

The cluster lives in memory (``/dev/shm``) when the machine has room for it there: creating a
test's database from the migrated template then takes tens of milliseconds instead of the
hundreds a disk-backed cluster spends writing its files. Every test's database is dropped
after the test (``drop``), so the cluster holds only the templates and the databases of the
tests running now.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg


@dataclass
class PgServer:
    admin_url: str
    stop: object = None

    def url(self, database: str) -> str:
        base = self.admin_url.rsplit("/", 1)[0]
        return f"{base}/{database}"


def database_name(stem: str) -> str:
    """A database name private to this test process (parallel workers may share a server)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return f"{stem}_{worker}" if worker else stem


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


# The room a cluster in memory must find free: its templates, a few live test databases and
# its write-ahead log (up to ``max_wal_size``), with a wide margin.
MEMORY_ROOM = 4 << 30
MEMORY_DIR = Path("/dev/shm")


def _cluster_parent() -> str | None:
    """Where the cluster's directory goes: in memory when there is room, else the system's
    temporary directory (None)."""
    try:
        found = os.statvfs(MEMORY_DIR)
    except OSError:
        return None
    return str(MEMORY_DIR) if found.f_bavail * found.f_frsize >= MEMORY_ROOM else None


def create(admin_url: str, name: str, template: str | None = None) -> None:
    """Create database ``name`` (a copy of ``template`` when given)."""
    copy = f" TEMPLATE {template}" if template else ""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}{copy}")


def drop(admin_url: str, name: str) -> None:
    """Drop database ``name``, ending the sessions a test left open on it."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def start() -> PgServer:
    """Use SHUZHI_TEST_POSTGRES_URL if set, else start a private cluster on a free port."""
    given = os.environ.get("SHUZHI_TEST_POSTGRES_URL")
    if given:
        return PgServer(admin_url=given)
    bindir = _bindir()
    if bindir is None:
        raise RuntimeError(
            "PostgreSQL server binaries not found: install Debian's 'postgresql' package "
            "(make test does) or set SHUZHI_TEST_POSTGRES_URL"
        )
    root = Path(tempfile.mkdtemp(prefix="shuzhi-pg-", dir=_cluster_parent()))
    data, port = root / "data", _free_port()
    as_root = os.geteuid() == 0
    if as_root:  # initdb refuses to run as root: hand the directory to the postgres user
        shutil.chown(root, "postgres", "postgres")

    def run(*args: str) -> None:
        cmd = [str(bindir / args[0]), *args[1:]]
        if as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True)

    run(
        "initdb",
        "-D",
        str(data),
        "-A",
        "trust",
        "-U",
        "postgres",
        "--no-sync",
        "-E",
        "UTF8",
        "--locale=C.UTF-8",
    )
    run(
        "pg_ctl",
        "-D",
        str(data),
        "-l",
        str(root / "log"),
        "-w",
        "-o",
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off",
        "start",
    )

    def stop() -> None:
        try:
            run("pg_ctl", "-D", str(data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(root, ignore_errors=True)

    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    return PgServer(admin_url=url, stop=stop)
