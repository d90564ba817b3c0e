"""What the state-store contract suite (tests/test_state_stores.py) builds on: a fresh
PostgreSQL database per test, a server that can be stopped and started again, the stores
opened on one URL, and values that exercise every field.

The PostgreSQL databases use an ICU `en-US` collation, as a server set up with a linguistic
default (`en_US.UTF-8`) orders text: "apple" before "Banana", where SQLite and the C
collation put every capital first. A store whose list order comes from the database's
collation would then order differently on the two databases.
"""

from __future__ import annotations

import itertools
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from pgserver import PostgresServer, _run_as, find_pg_bin

from api.tokens import ApiTokens
from copilot.core.directory import Directory
from copilot.core.schema import ColumnInfo, ForeignKeyInfo, TableInfo, WarehouseSchema
from copilot.core.signins import SignIns
from copilot.llm.store import LLMSettingsStore
from dashboards.store import DashboardStore
from reports.ledger import DeliveryLedger
from reports.store import ReportStore
from training.glossary import Glossary
from training.profiles import Document, Pair, ProfileContent, ProfileRepository

__all__ = ["LONG", "UNICODE", "Stores", "fresh_database", "profile_content", "race",
           "start_server", "stop_server"]

# Right-to-left, combining marks, CJK, an emoji outside the BMP, quotes and a backslash.
UNICODE = "Règlement — 決済 ✓ 𝄞 «quoted» 'single' \"double\" back\\slash مرحبا e\u0301"
LONG = ("0123456789 abcdefghij ÄÖÜ 決済 " * 4000)[:100_000]  # 100,000 characters
_NUMBERS = itertools.count(1)


def fresh_database(server: PostgresServer) -> str:
    """A new, empty database on `server` (ICU en-US collation); its SQLAlchemy URL."""
    name = f"state_{next(_NUMBERS)}"
    with psycopg.connect(f"host=127.0.0.1 port={server.port} user={server.superuser} "
                         "dbname=postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' "
                      "LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'")
    return server.url(name)


def _pg_ctl(server: PostgresServer, *args: str) -> None:
    bindir = find_pg_bin()
    assert bindir is not None
    subprocess.run([str(bindir / "pg_ctl"), "-D", str(server.data_dir), *args],
                   user=_run_as(), check=True, capture_output=True)


def stop_server(server: PostgresServer) -> None:
    """Stop a server the test started for itself (never the shared one)."""
    _pg_ctl(server, "-m", "fast", "-w", "stop")


def start_server(server: PostgresServer) -> None:
    """Start a stopped server again on its port and socket folder."""
    root = server.data_dir.parent
    options = f"-c listen_addresses=127.0.0.1 -p {server.port} -k {root / 'sock'} -c fsync=off"
    _pg_ctl(server, "-o", options, "-l", str(root / "server.log"), "-w", "-t", "60", "start")


@dataclass(frozen=True)
class Stores:
    """Every store that keeps its tables in the state database, opened on one URL: what
    one process holds."""

    profiles: ProfileRepository
    llm: LLMSettingsStore
    dashboards: DashboardStore
    reports: ReportStore
    ledger: DeliveryLedger
    directory: Directory
    sign_ins: SignIns
    api_tokens: ApiTokens

    @classmethod
    def open(cls, url: str) -> Stores:
        return cls(ProfileRepository(url), LLMSettingsStore(url), DashboardStore(url),
                   ReportStore(url), DeliveryLedger(url), Directory(url), SignIns(url),
                   ApiTokens(url))

    def dispose(self) -> None:
        """Close every store's pool (each store has its own engine)."""
        for store in (self.profiles, self.llm, self.dashboards, self.reports, self.ledger,
                      self.directory, self.sign_ins, self.api_tokens):
            store._engine.dispose()


def profile_content(note: str = "") -> ProfileContent:
    """A small profile whose every part holds unicode, a long text or a None."""
    schema = WarehouseSchema((
        TableInfo("trades", (ColumnInfo("trade_id", "TEXT", False, True, UNICODE),
                             ColumnInfo("notional", "NUMERIC", True, False, None),
                             ColumnInfo("cpty_id", "TEXT", True)),
                  ("trade_id",), (ForeignKeyInfo(("cpty_id",), "cpty", ("cpty_id",)),),
                  comment=note or None),
        TableInfo("cpty", (ColumnInfo("cpty_id", "TEXT", False, True),), ("cpty_id",), ()),
    ))
    return ProfileContent(
        schema=schema, values={"trades.status": ("Ausstehend", "決済済み", UNICODE)},
        glossary=Glossary(),
        documents=(Document("runbook é.txt", (LONG, UNICODE)),),
        pairs=(Pair("how many trades?", "SELECT COUNT(*) FROM trades", "anna", "2026-11-20"),),
        keys={"trades.trade_id": ("TRD0000001",)},
    )


def race(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run `work(i)` on `count` threads released together; each result or raised error."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def one(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work(index)
        except Exception as exc:
            results[index] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results
