"""A real PostgreSQL server for the tests, started from the Debian packages into a temporary directory.

``initdb`` + ``pg_ctl`` on a free loopback port, run as the ``postgres`` OS user when the tests run as
root (CI does; PostgreSQL refuses to run as root). Fixtures:

* ``postgres_server`` (session): the running server;
* ``postgres_dsn`` (function): a DSN of a fresh, empty database for one test (``CREATE DATABASE``
  from ``template0``, a few tens of milliseconds).

Without the server binaries a test using these fixtures FAILS in CI (``CI=true``) and is skipped
locally with the command that installs them (``tests/setup/system-deps.sh``).
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

_counter = itertools.count()


def find_bin_dir() -> Path | None:
    """Directory holding initdb/pg_ctl/postgres: $LLM_SOC2_PG_BIN, Debian's layout, or PATH."""
    env = os.environ.get("LLM_SOC2_PG_BIN")
    candidates = [Path(env)] if env else []
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    which = shutil.which("pg_ctl")
    if which:
        candidates.append(Path(which).parent)
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """A private PostgreSQL cluster. ``superuser`` is ``postgres`` with trust authentication on
    127.0.0.1 only."""

    def __init__(self, bin_dir: Path, base: Path | None = None) -> None:
        self.bin_dir = bin_dir
        self.base = base or Path(tempfile.mkdtemp(prefix="llm-soc2-pg-"))
        self.data = self.base / "data"
        self.socket_dir = self.base / "sock"
        self.port = _free_port()
        self.host = "127.0.0.1"
        self._as_postgres = os.geteuid() == 0

    def _run(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=timeout)

    def start(self) -> PostgresServer:
        self.base.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        if self._as_postgres:
            shutil.chown(self.base, "postgres", "postgres")
            shutil.chown(self.socket_dir, "postgres", "postgres")
        self.base.chmod(0o700)
        self._run(
            str(self.bin_dir / "initdb"),
            "-D", str(self.data),
            "-U", "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-instructions",
        )  # fmt: skip
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses={self.host} "
            "-c max_connections=60 -c shared_buffers=128MB -c log_min_messages=warning"
        )
        result = self._run(
            str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-o", options,
            "-l", str(self.base / "server.log"), "-w", "-t", "60", "start", check=False,
        )  # fmt: skip
        if result.returncode != 0:
            log = (
                (self.base / "server.log").read_text(errors="replace")
                if (self.base / "server.log").exists()
                else ""
            )
            raise RuntimeError(f"pg_ctl start failed: {result.stderr}\n{log}")
        return self

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run(
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                "immediate",
                "-w",
                "stop",
                check=False,
            )
        shutil.rmtree(self.base, ignore_errors=True)

    def dsn(self, dbname: str = "postgres", user: str = "postgres") -> str:
        return f"postgresql://{user}@{self.host}:{self.port}/{dbname}"

    def admin(self, sql: str, dbname: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.dsn(dbname), autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def create_database(self, prefix: str = "t") -> str:
        name = f"{prefix}_{os.getpid()}_{next(_counter)}"
        self.admin(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return name

    def bin(self, name: str) -> str:
        return str(self.bin_dir / name)


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"PostgreSQL not available ({reason}); install it with: sudo bash tests/setup/system-deps.sh")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        _missing("initdb/pg_ctl not found")
    assert bin_dir is not None
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _missing("psycopg is not installed (extra [postgres])")
    server = PostgresServer(bin_dir)
    try:
        server.start()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        server.stop()
        _missing(f"the server did not start: {exc}")
    # Wait until it accepts TCP connections (pg_ctl -w checks the socket).
    deadline = time.monotonic() + 30
    while True:
        try:
            server.admin("SELECT 1")
            break
        except Exception:
            if time.monotonic() > deadline:
                server.stop()
                raise
            time.sleep(0.2)
    yield server
    server.stop()


@pytest.fixture
def postgres_dsn(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database for this test (dropped afterwards)."""
    name = postgres_server.create_database()
    yield postgres_server.dsn(name)
    with contextlib.suppress(Exception):
        postgres_server.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
