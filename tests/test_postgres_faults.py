"""A PostgreSQL warehouse that freezes or restarts under a running app (issue 14, drill 5).

Each test starts its own server on loopback: stopping one with SIGSTOP would freeze every
other test sharing it. A frozen server keeps its TCP sessions open (the kernel answers for
it), so only the client's own deadline can end the wait.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pgserver import PostgresServer, _run_as, find_pg_bin, running_postgres

from copilot.core.connections import CLIENT_GRACE_S
from copilot.core.errors import QueryTimeout, WarehouseUnavailable
from copilot.core.warehouse import Warehouse

TIMEOUT_S = 1.0


@pytest.fixture
def server() -> Iterator[PostgresServer]:
    with running_postgres() as pg:
        yield pg


def _server_pids(pg: PostgresServer) -> list[int]:
    """The postmaster and every process it started (backends, checkpointer, ...)."""
    postmaster = int((pg.data_dir / "postmaster.pid").read_text().split()[0])
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == postmaster:  # field 4 of /proc/PID/stat: the parent's pid
            children.append(int(stat.parent.name))
    return [postmaster, *children]


def _signal_all(pids: list[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):  # a backend that ended meanwhile
            os.kill(pid, sig)


def test_a_frozen_server_ends_in_a_timeout_not_a_hang(server: PostgresServer) -> None:
    warehouse = Warehouse(server.url(), timeout_s=TIMEOUT_S)
    assert warehouse._run("SELECT 1", 1).rows == ((1,),)  # a pooled connection exists
    pids = _server_pids(server)
    _signal_all(pids, signal.SIGSTOP)
    try:
        started = time.monotonic()
        with pytest.raises(QueryTimeout, match="did not answer within 6 s") as caught:
            warehouse._run("SELECT 2", 1)
        waited = time.monotonic() - started
        assert "frozen or the network down" in str(caught.value)
        assert TIMEOUT_S + CLIENT_GRACE_S - 0.5 < waited < TIMEOUT_S + CLIENT_GRACE_S + 3
        # A new connection to the frozen server gives up at the connect timeout.
        warehouse.dispose()
        started = time.monotonic()
        with pytest.raises(WarehouseUnavailable, match="cannot be reached"):
            warehouse._run("SELECT 3", 1)
        assert time.monotonic() - started < 15
    finally:
        _signal_all(pids, signal.SIGCONT)
    # Thawed: the next question is answered on a fresh connection.
    assert warehouse._run("SELECT 4", 1).rows == ((4,),)
    warehouse.dispose()


def test_a_restarted_server_is_answered_without_an_error(server: PostgresServer) -> None:
    warehouse = Warehouse(server.url(), timeout_s=5)
    assert warehouse._run("SELECT 1", 1).rows == ((1,),)
    bindir = find_pg_bin()
    assert bindir is not None
    log = server.data_dir.parent / "server.log"
    subprocess.run([bindir / "pg_ctl", "-D", server.data_dir, "-l", log, "-m", "fast", "-w",
                    "restart"], user=_run_as(), check=True, capture_output=True)
    # The pooled connection died with the old server; the read is run once more on a new one.
    assert warehouse._run("SELECT 2", 1).rows == ((2,),)
    warehouse.dispose()


def test_a_long_statement_is_cancelled_by_the_server_in_time(server: PostgresServer) -> None:
    warehouse = Warehouse(server.url(), timeout_s=TIMEOUT_S)
    started = time.monotonic()
    with pytest.raises(QueryTimeout, match="longer than the 1 s limit"):
        warehouse._run("SELECT count(*) FROM generate_series(1, 1000000000)", 1)
    assert time.monotonic() - started < TIMEOUT_S + CLIENT_GRACE_S
    # The session's limits are in force on every connection.
    limits = warehouse._run(
        "SELECT current_setting('work_mem'), current_setting('temp_file_limit')", 1).rows
    assert limits == (("64MB", "2GB"),)
    warehouse.dispose()
