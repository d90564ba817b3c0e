"""Copy a demo SQLite warehouse into a PostgreSQL database, so the same data can be queried
on both backends. Test support only: the product never writes to a warehouse."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg

SCHEMA_SQL = Path(__file__).resolve().parents[1] / "copilot" / "demo" / "otc_schema.sql"
# Foreign-key order, so every referenced row exists before its references.
TABLES = ("legal_entities", "counterparties", "books", "trades", "confirmations",
          "netting_sets", "settlements", "ops_exceptions")


def load_demo_into_postgres(sqlite_path: Path, conninfo: str) -> None:
    """Create the contract's tables in `conninfo`'s database and copy every row into them."""
    source = sqlite3.connect(sqlite_path)
    with psycopg.connect(conninfo, autocommit=False) as target:
        target.execute(SCHEMA_SQL.read_text(encoding="utf-8"))
        for table in TABLES:
            cursor = source.execute(f"SELECT * FROM {table}")  # fixed table names, no input
            columns = [d[0] for d in cursor.description]
            booleans = {i for i, name in enumerate(columns) if name.startswith("is_")}
            with target.cursor().copy(
                f"COPY {table} ({', '.join(columns)}) FROM STDIN"
            ) as copy:
                for row in cursor:
                    copy.write_row([bool(v) if i in booleans else v for i, v in enumerate(row)])
        target.execute("ANALYZE")
        target.commit()
    source.close()
