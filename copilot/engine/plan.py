"""The query plan: what a question asks for, before it is SQL.

A plan names the entity counted or listed, its measure, dimensions, filters, period, order
and limit. Every part carries a label for the interpretation sentence. Column references are
`table.column`; conditions are SQL text from the glossary (parsed again by the compiler) or
built here from matched values, never from the question's raw words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from copilot.engine.periods import Period

__all__ = ["Aggregate", "Bucket", "Comparison", "Dimension", "Filter", "Measure", "QueryPlan"]

Aggregate = Literal["count", "count_distinct", "sum", "avg", "min", "max", "rate", "list"]
Bucket = Literal["day", "month", "age"]  # age: days before the as-of date, in bands


@dataclass(frozen=True)
class Filter:
    """A condition: glossary SQL (`sql`) or a column compared with literal values."""

    label: str
    sql: str | None = None
    column: str | None = None
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Comparison:
    """`column op number` ("notional over 100 million") or an age ("older than 5 days")."""

    label: str
    column: str
    op: Literal[">", ">=", "<", "<="]
    number: float | None = None
    days_before_as_of: int | None = None


@dataclass(frozen=True)
class Measure:
    """What is computed: COUNT(*), SUM/AVG/MIN/MAX of an expression, a rate, or a list."""

    kind: Aggregate
    label: str
    expression: str | None = None  # SQL over table.column names; None for count and list
    unit: str | None = None


@dataclass(frozen=True)
class Dimension:
    """A column to group by, optionally bucketed by day, month or age band."""

    column: str
    label: str
    bucket: Bucket | None = None


@dataclass(frozen=True)
class QueryPlan:
    """Everything the compiler needs to write one query."""

    table: str
    entity: str
    measure: Measure
    dimensions: tuple[Dimension, ...] = ()
    filters: tuple[Filter, ...] = ()
    comparisons: tuple[Comparison, ...] = ()
    period: Period | None = None
    period_column: str | None = None
    list_columns: tuple[str, ...] = ()
    order_by: str | None = None  # "measure", a table.column, or None
    descending: bool = True
    limit: int | None = None
    having: tuple[str, float] | None = None  # (">", 10): keep groups whose measure passes
    absent: QueryPlan | None = None  # "with no trades this year": rows that have none of these
