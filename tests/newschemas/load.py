"""Write a generated warehouse to SQLite and, the same rows, to PostgreSQL.

Test support only. The DDL quotes every name, so `Vessel.GrossTonnage` and
`CUST_MSTR.CUST_NO` keep their case on PostgreSQL as they do on SQLite (a bank's
PostgreSQL built by an ORM or migrated from a legacy system looks like that).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Table", "write_warehouse"]

Row = tuple[object, ...]


@dataclass(frozen=True)
class Table:
    """One table: its name, its column DDL lines (quoted names), and its rows, in order."""

    name: str
    columns: tuple[str, ...]
    rows: Sequence[Row]

    def ddl(self) -> str:
        return f'CREATE TABLE "{self.name}" (\n    ' + ",\n    ".join(self.columns) + "\n)"

    def column_names(self) -> list[str]:
        return [c.split('"')[1] for c in self.columns if c.startswith('"')]


def write_warehouse(tables: Sequence[Table], path: Path, postgres_url: str | None) -> Path:
    """Write `tables` (in foreign-key order) to a new SQLite file at `path`; with
    `postgres_url` (an existing, empty database), load the same rows there too."""
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA foreign_keys = ON")
        for table in tables:
            db.execute(table.ddl())
            marks = ", ".join("?" * len(table.column_names()))
            db.executemany(f'INSERT INTO "{table.name}" VALUES ({marks})', table.rows)
    db.close()
    if postgres_url:
        _load_postgres(tables, postgres_url)
    return path


def _load_postgres(tables: Sequence[Table], url: str) -> None:
    import psycopg

    conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(conninfo, autocommit=False) as target:
        for table in tables:
            target.execute(table.ddl())
            names = ", ".join(f'"{n}"' for n in table.column_names())
            with target.cursor().copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                for row in table.rows:
                    copy.write_row(row)
        target.execute("ANALYZE")
        target.commit()
