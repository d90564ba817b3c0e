"""Checking a glossary against a warehouse: every table and column it names must exist."""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from copilot.errors import GlossaryError
from copilot.schema import WarehouseSchema
from training.glossary import Glossary, resolve_as_of

__all__ = ["check_against_schema"]


def check_against_schema(glossary: Glossary, schema: WarehouseSchema) -> None:
    """Every table and column the glossary names exists in the warehouse."""
    columns = {t.name.lower(): {c.name.lower() for c in t.columns} for t in schema.tables}

    def need_table(table: str, source: str) -> None:
        if table.lower() not in columns:
            raise GlossaryError(f"{source}: the warehouse has no table {table!r}.")

    def need_column(ref: str, source: str) -> None:
        table, _, column = ref.partition(".")
        need_table(table, source)
        if column.lower() not in columns[table.lower()]:
            raise GlossaryError(f"{source}: the table {table} has no column {column!r}.")

    def need_sql(sql: str, source: str) -> None:
        for col in sqlglot.parse_one(resolve_as_of(sql)).find_all(exp.Column):
            if not col.table:
                raise GlossaryError(f"{source}: write {col.name} as table.column in {sql!r}.")
            need_column(f"{col.table}.{col.name}", source)

    for entity in glossary.entities:
        need_table(entity.table, entity.source)
        for column in (*entity.list_columns, *[c for c in (entity.label, entity.measure) if c]):
            need_column(column if "." in column else f"{entity.table}.{column}", entity.source)
    for term in glossary.terms:
        if term.table:
            need_table(term.table, term.source)
        for sql in (term.condition, term.measure):
            if sql:
                need_sql(sql, term.source)
        for column in (term.dimension, term.start, term.end):
            if column:
                need_column(column, term.source)
    for value in (*glossary.values, *glossary.value_sets):
        need_column(value.column, value.source)
    for table, column in glossary.period_columns:
        need_column(f"{table}.{column}", "rules: period_columns")
    for table, column in glossary.age_columns:
        need_table(table, "rules: age_columns")
        need_column(column, "rules: age_columns")
    for word in glossary.date_words:
        need_column(word.column, word.source)
    if glossary.upcoming_condition:
        need_sql(glossary.upcoming_condition, "rules: upcoming")
    for path in glossary.join_paths:
        for table in path.via:
            need_table(table, path.source)
