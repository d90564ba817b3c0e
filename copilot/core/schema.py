"""The warehouse's schema as plain values: tables, columns, types, keys and foreign keys.

Read through SQLAlchemy's inspector, which speaks SQLite, PostgreSQL and SQL Server alike, so
the guard, the training and the Data page all see one shape whatever the warehouse is.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.engine.reflection import Inspector

__all__ = ["ColumnInfo", "ForeignKeyInfo", "TableInfo", "WarehouseSchema", "introspect"]


@dataclass(frozen=True)
class ColumnInfo:
    """One column: its name, its type as the database names it, and what we know of it."""

    name: str
    type: str
    nullable: bool
    primary_key: bool = False
    comment: str | None = None


@dataclass(frozen=True)
class ForeignKeyInfo:
    """`columns` of the owning table reference `ref_columns` of `ref_table`."""

    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]


@dataclass(frozen=True)
class TableInfo:
    """One table with its columns in database order, primary key and foreign keys."""

    name: str
    columns: tuple[ColumnInfo, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKeyInfo, ...]
    comment: str | None = None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class WarehouseSchema:
    """All tables of the warehouse (of one database schema), sorted by name."""

    tables: tuple[TableInfo, ...]
    db_schema: str | None = None

    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tables)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready copy, as stored in a training profile version."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WarehouseSchema:
        """The inverse of `as_dict`."""
        return cls(
            tables=tuple(
                TableInfo(
                    name=t["name"],
                    columns=tuple(ColumnInfo(**c) for c in t["columns"]),
                    primary_key=tuple(t["primary_key"]),
                    foreign_keys=tuple(
                        ForeignKeyInfo(tuple(f["columns"]), f["ref_table"], tuple(f["ref_columns"]))
                        for f in t["foreign_keys"]
                    ),
                    comment=t.get("comment"),
                )
                for t in data["tables"]
            ),
            db_schema=data.get("db_schema"),
        )

    def table(self, name: str) -> TableInfo:
        """The table called `name` (case-insensitive); KeyError when there is none."""
        lowered = name.lower()
        for table in self.tables:
            if table.name.lower() == lowered:
                return table
        raise KeyError(name)


def introspect(engine: Engine, db_schema: str | None = None) -> WarehouseSchema:
    """Read every table (and view) of `db_schema` (default: the connection's) from `engine`."""
    inspector = inspect(engine)
    names = sorted(set(inspector.get_table_names(schema=db_schema))
                   | set(inspector.get_view_names(schema=db_schema)))
    tables = []
    for name in names:
        pk = tuple(inspector.get_pk_constraint(name, schema=db_schema).get("constrained_columns")
                   or ())
        columns = tuple(
            ColumnInfo(
                name=col["name"],
                type=str(col["type"]),
                # SQLite reports INTEGER PRIMARY KEY as nullable; a key never holds NULL.
                nullable=bool(col.get("nullable", True)) and col["name"] not in pk,
                primary_key=col["name"] in pk,
                comment=col.get("comment") or None,
            )
            for col in inspector.get_columns(name, schema=db_schema)
        )
        fks = tuple(
            ForeignKeyInfo(
                columns=tuple(fk["constrained_columns"]),
                ref_table=fk["referred_table"],
                ref_columns=tuple(fk["referred_columns"]),
            )
            for fk in inspector.get_foreign_keys(name, schema=db_schema)
        )
        tables.append(
            TableInfo(
                name=name,
                columns=columns,
                primary_key=pk,
                foreign_keys=fks,
                comment=_table_comment(inspector, name, db_schema),
            )
        )
    return WarehouseSchema(tables=tuple(tables), db_schema=db_schema)


def _table_comment(inspector: Inspector, name: str, db_schema: str | None) -> str | None:
    try:
        return inspector.get_table_comment(name, schema=db_schema).get("text") or None
    except NotImplementedError:  # SQLite keeps no comments
        return None
