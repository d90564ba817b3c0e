"""Schema ingestion: the warehouse's tables and columns as trainable text, and a value index
of its low-cardinality text columns ("GOLDMAN", "EUR", "N. Singh"), so words in a question
can be matched to a column and a stored value.

Everything is read through the guarded path (SELECT DISTINCT ... LIMIT, checked by the SQL
guard like any other statement), so ingestion works the same on SQLite, PostgreSQL and SQL
Server and can never write.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from copilot.core.errors import CopilotError
from copilot.core.schema import TableInfo, WarehouseSchema
from copilot.core.warehouse import QueryResult

__all__ = ["MAX_DISTINCT", "ValueIndex", "describe_column", "describe_table", "sample_keys",
           "sample_values"]

MAX_DISTINCT = 200  # more distinct values than this and a column is not a vocabulary
_TEXT_TYPE = re.compile(r"CHAR|TEXT|STRING|CLOB|VARCHAR", re.IGNORECASE)


@dataclass(frozen=True)
class ValueIndex:
    """Stored values of each low-cardinality text column: {"table.column": (values...)}."""

    columns: Mapping[str, tuple[str, ...]]

    def values_of(self, table: str, column: str) -> tuple[str, ...]:
        return self.columns.get(f"{table}.{column}", ())

    @property
    def value_count(self) -> int:
        return sum(len(v) for v in self.columns.values())


def _is_text(type_name: str) -> bool:
    return bool(_TEXT_TYPE.search(type_name))


def sample_values(
    schema: WarehouseSchema,
    query: Callable[[exp.Expression], QueryResult],
    *,
    db_schema: str | None = None,
    max_distinct: int = MAX_DISTINCT,
) -> ValueIndex:
    """Read the distinct values of every text column that has at most `max_distinct` of them.

    `query` runs a statement through the guard (Services.query). Asking for one more row
    than the limit tells a vocabulary from free text without counting the whole column.
    """
    found: dict[str, tuple[str, ...]] = {}
    for table in schema.tables:
        for column in table.columns:
            if not _is_text(column.type) or column.primary_key:
                continue
            statement = (
                sqlglot.select(exp.column(column.name, quoted=True))
                .distinct()
                .from_(exp.table_(table.name, db=db_schema, quoted=True))
                .where(exp.column(column.name, quoted=True).is_(exp.null()).not_())
                .limit(max_distinct + 1)
            )
            try:
                result = query(statement)
            except CopilotError:
                continue  # an unreadable column (permissions, odd type) is not a vocabulary
            if 0 < result.row_count <= max_distinct and not result.truncated:
                found[f"{table.name}.{column.name}"] = tuple(
                    sorted(str(row[0]) for row in result.rows)
                )
    return ValueIndex(columns=found)


def sample_keys(
    schema: WarehouseSchema,
    query: Callable[[exp.Expression], QueryResult],
    *,
    db_schema: str | None = None,
    size: int = 20,
) -> dict[str, tuple[str, ...]]:
    """A few values of every text primary key: the engine reads an ID in a question
    ("TRD0000123") as a key of the column whose values have its shape."""
    found: dict[str, tuple[str, ...]] = {}
    for table in schema.tables:
        for column in table.columns:
            if not (_is_text(column.type) and column.primary_key):
                continue
            statement = (sqlglot.select(exp.column(column.name, quoted=True))
                         .from_(exp.table_(table.name, db=db_schema, quoted=True))
                         .limit(size))
            try:
                result = query(statement)
            except CopilotError:
                continue
            found[f"{table.name}.{column.name}"] = tuple(str(r[0]) for r in result.rows)
    return found


def describe_table(table: TableInfo, also_called: tuple[str, ...] = ()) -> str:
    """The text a table is retrieved by: its name, columns, references and description."""
    references = sorted({fk.ref_table for fk in table.foreign_keys})
    parts = [f"Table {table.name}"]
    if also_called:
        parts.append(f"also called {', '.join(also_called)}")
    parts.append(f"columns {', '.join(table.column_names)}")
    if references:
        parts.append(f"references {', '.join(references)}")
    if table.comment:
        parts.append(table.comment)
    return "; ".join(parts) + "."


def describe_column(table: TableInfo, index: int, values: tuple[str, ...]) -> str:
    """The text a column is retrieved by: where it lives, its type, key and stored values."""
    column = table.columns[index]
    words = column.name.replace("_", " ")
    text = f"Column {table.name}.{column.name} ({words}), {column.type}"
    if column.primary_key:
        text += ", primary key"
    for fk in table.foreign_keys:
        if column.name in fk.columns:
            text += f", references {fk.ref_table}"
    if column.comment:
        text += f"; {column.comment}"
    if values:
        shown = ", ".join(values[:30]) + (", ..." if len(values) > 30 else "")
        text += f"; values: {shown}"
    return text + "."
