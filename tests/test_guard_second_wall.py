"""The second wall: every attack of the guard's list, sent straight to the warehouse layer with
the guard bypassed on purpose (`Warehouse._run`), fails on SQLite and on PostgreSQL, or runs
without leaving anything behind. The PostgreSQL login is a read-only role, as the README asks
of a bank's deployment."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import yaml
from pgserver import PostgresServer

from copilot.core.errors import WarehouseError
from copilot.core.guard import Guard, GuardSchema
from copilot.core.warehouse import Warehouse

ATTACKS = yaml.safe_load(
    (Path(__file__).parent / "fixtures" / "guard_attacks.yaml").read_text(encoding="utf-8")
)
TABLES = ("legal_entities", "counterparties", "books", "trades", "confirmations",
          "netting_sets", "settlements", "ops_exceptions")

# Statements PostgreSQL lets a read-only role run that leave nothing behind: reads of the
# catalogs every role can see (the guard is the wall for those), and transaction or session
# commands that end with the rolled-back read-only transaction. The state checks below prove
# they changed nothing.
POSTGRES_RUNS_HARMLESSLY = {
    "a18",  # BEGIN TRANSACTION: a warning inside the open read-only transaction
    "a19",  # SET default_transaction_read_only = off: rolled back with the transaction
    "a30",  # COMMIT of the read-only transaction
    "a41",  # pg_catalog.pg_user: passwords masked for every role
    "a42",  # information_schema.tables: only objects the role may see
    "a45",  # information_schema.columns: likewise
    "a53",  # a subquery on pg_user
    "a60",  # set_config(...): transaction-scoped here, and pinned again per transaction
    # Catalog probes and session facts every role may read; the guard's allow-list is the
    # wall for those.
    "a87", "a88", "a89", "a90", "a91", "a92", "a103",
    # Strings of 10 MB: PostgreSQL has no per-session memory cap, so the guard's bound on
    # string growth is the wall, and statement_timeout plus the client's deadline the next.
    "a98", "a104",
    "a105", "a106",  # PostgreSQL reads "DELETE" and "exec" there as column labels
}
NOTHING_TO_RUN = {"a68", "a69", "a70"}  # empty input and a lone comment
# SQLite's length limit (16 MB) turns printf's 1 GB width into NULL at once.
SQLITE_RUNS_HARMLESSLY = {"a97", "a106"}  # a106: "exec" is only an alias to SQLite
# printf('%.*c', 999999999, 'x') spins about 7 s inside one SQLite call (its output capped
# at 16 MB by the length limit, then NULL): no progress handler interrupts a single function,
# so the guard's bound on format widths is the only wall against its time, checked here.
SQLITE_GUARD_ONLY = {"a96"}


@pytest.fixture(scope="module")
def sqlite_copy(tmp_path_factory: pytest.TempPathFactory, small_demo_db: Path) -> Path:
    folder = tmp_path_factory.mktemp("wall")
    target = folder / "otc.db"
    shutil.copy(small_demo_db, target)
    return target


@pytest.fixture(scope="module")
def readonly_role_url(postgres: PostgresServer, pg_demo_url: str) -> Iterator[str]:
    with psycopg.connect(
        f"host=127.0.0.1 port={postgres.port} user={postgres.superuser} dbname=otc_demo",
        autocommit=True,
    ) as admin:
        admin.execute("CREATE ROLE copilot_ro LOGIN")
        admin.execute("GRANT USAGE ON SCHEMA public TO copilot_ro")
        admin.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO copilot_ro")
    yield postgres.url("otc_demo", user="copilot_ro")


def _sqlite_state(path: Path) -> tuple[str, tuple[str, ...]]:
    files = tuple(sorted(p.name for p in path.parent.iterdir()))
    return hashlib.sha256(path.read_bytes()).hexdigest(), files


def _postgres_state(postgres: PostgresServer) -> tuple:
    with psycopg.connect(
        f"host=127.0.0.1 port={postgres.port} user={postgres.superuser} dbname=otc_demo"
    ) as admin:
        counts = tuple(admin.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES)
        tables = tuple(r[0] for r in admin.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname NOT IN "
            "('pg_catalog', 'information_schema') ORDER BY 1"))
        objects = admin.execute("SELECT COUNT(*) FROM pg_largeobject_metadata").fetchone()[0]
        roles = tuple(admin.execute("SELECT rolname, rolsuper FROM pg_roles ORDER BY 1"))
    return counts, tables, objects, roles


def _outcome(warehouse: Warehouse, sql: str) -> str:
    try:
        warehouse._run(sql, 5)
    except WarehouseError:
        return "refused"
    return "ran"


@pytest.mark.parametrize("attack", ATTACKS, ids=[a["id"] for a in ATTACKS])
def test_sqlite_connection_refuses_the_attack(sqlite_copy: Path, attack: dict) -> None:
    if attack["id"] in SQLITE_GUARD_ONLY:
        schema = GuardSchema.from_warehouse(Warehouse(f"sqlite:///{sqlite_copy}", timeout_s=2)
                                            .schema())
        assert Guard(schema, dialect="sqlite", row_cap=5).check(attack["sql"]).rule == (
            "bounded_functions")
        return
    warehouse = Warehouse(f"sqlite:///{sqlite_copy}", timeout_s=2)
    before = _sqlite_state(sqlite_copy)
    outcome = _outcome(warehouse, attack["sql"])
    warehouse.dispose()
    harmless = NOTHING_TO_RUN | SQLITE_RUNS_HARMLESSLY
    assert outcome == ("ran" if attack["id"] in harmless else "refused")
    assert _sqlite_state(sqlite_copy) == before


@pytest.mark.parametrize("attack", ATTACKS, ids=[a["id"] for a in ATTACKS])
def test_postgres_connection_refuses_the_attack(
    postgres: PostgresServer, readonly_role_url: str, attack: dict
) -> None:
    warehouse = Warehouse(readonly_role_url, timeout_s=2)
    before = _postgres_state(postgres)
    outcome = _outcome(warehouse, attack["sql"])
    harmless = POSTGRES_RUNS_HARMLESSLY | NOTHING_TO_RUN
    assert outcome == ("ran" if attack["id"] in harmless else "refused")
    # The same pooled connection still cannot write afterwards, and nothing changed.
    assert _outcome(warehouse, "DELETE FROM trades") == "refused"
    assert _outcome(warehouse, "CREATE TABLE loot (x int)") == "refused"
    warehouse.dispose()
    assert _postgres_state(postgres) == before
