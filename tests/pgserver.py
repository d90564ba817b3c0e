"""A throw-away PostgreSQL server for the tests: initdb into a temporary folder, loopback only.

PostgreSQL refuses to run as root, and CI runs as root, so the server then runs as the
`postgres` system user (created by Debian's package) or `nobody`.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PostgresServer", "find_pg_bin", "running_postgres"]


@dataclass(frozen=True)
class PostgresServer:
    """A running server: connect as `superuser` (trust auth) on 127.0.0.1:`port`."""

    port: int
    superuser: str
    data_dir: Path

    def url(self, database: str = "postgres", user: str | None = None) -> str:
        return f"postgresql+psycopg://{user or self.superuser}@127.0.0.1:{self.port}/{database}"


def find_pg_bin() -> Path | None:
    """The folder holding initdb and pg_ctl (newest Debian version first), or None."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run_as() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise RuntimeError("running as root and no unprivileged user to run PostgreSQL as")


@contextlib.contextmanager
def running_postgres(superuser: str = "opsadmin") -> Iterator[PostgresServer]:
    """Start a fresh server for the duration of the block, then stop it and delete its files."""
    bindir = find_pg_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL server binaries not found; `apt-get install postgresql`")
    user = _run_as()
    root = Path(tempfile.mkdtemp(prefix="opscopilot-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if user:
        entry = pwd.getpwnam(user)
        for path in (root, sock):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    port = _free_port()
    run = {"user": user, "check": True, "capture_output": True, "text": True}
    try:
        subprocess.run(
            [bindir / "initdb", "-D", data, "-U", superuser, "--auth=trust", "-E", "UTF8",
             "--no-sync"],
            **run,
        )
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {sock} -c fsync=off"
        subprocess.run(
            [bindir / "pg_ctl", "-D", data, "-o", options, "-l", root / "server.log", "-w",
             "-t", "60", "start"],
            **run,
        )
        _wait_ready(port)
        yield PostgresServer(port=port, superuser=superuser, data_dir=data)
    finally:
        if data.exists():
            subprocess.run(
                [bindir / "pg_ctl", "-D", data, "-m", "immediate", "stop"],
                user=user, capture_output=True, check=False,
            )
        shutil.rmtree(root, ignore_errors=True)


def _wait_ready(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"PostgreSQL did not accept connections on port {port}")
