"""The query plan: what a question asks for, before it is SQL.

A plan names the table counted or listed, its measure, dimensions, filters (on that table
or the tables it references), populations of the tables that reference it (EXISTS, NOT
EXISTS), HAVING conditions, order and limit. Column references are `table.column`;
condition SQL comes from the glossary or is built with sqlglot from matched values, never
from the question's raw words. `constructs` names what the reader applied, for the
interpretation sentence and the evaluation's breakdown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from copilot.core.periods import Period

__all__ = ["Aggregate", "Bucket", "Dimension", "Exists", "Filter", "Having", "Measure", "Order",
           "QueryPlan", "Versus"]

Aggregate = Literal["count", "count_distinct", "sum", "avg", "min", "max", "rate", "share",
                    "list"]
Bucket = Literal["day", "week", "month", "age"]  # age: days before the as-of date, in bands


@dataclass(frozen=True)
class Filter:
    """A condition in SQL over table.column names, and how it reads."""

    label: str
    sql: str


@dataclass(frozen=True)
class Exists:
    """Rows of `table` (which references the plan's table) meeting `filters` exist, or not."""

    table: str
    label: str
    filters: tuple[Filter, ...] = ()
    negated: bool = False


@dataclass(frozen=True)
class Measure:
    """What is computed. `expression` is SQL over table.column names (None for a count or a
    list); a share computes the percentage of rows meeting `numerator`."""

    kind: Aggregate
    label: str
    expression: str | None = None
    unit: str | None = None
    numerator: tuple[Filter, ...] = ()
    duration: tuple[str, str] | None = None  # (start, end) columns: days or hours between


@dataclass(frozen=True)
class Dimension:
    """A column to group by, optionally bucketed by day, week, month or age band."""

    column: str
    label: str
    bucket: Bucket | None = None


@dataclass(frozen=True)
class Having:
    """Keep the groups whose measure passes `op number`."""

    op: Literal[">", ">=", "<", "<=", "between"]
    number: float
    upper: float | None = None
    count: bool = False  # on the number of rows of each group, not on the measure


@dataclass(frozen=True)
class Order:
    """Order by the measure (`key` "measure") or by a table.column."""

    key: str
    descending: bool = True


@dataclass(frozen=True)
class Versus:
    """The same measure over two periods side by side: `current` and `other` are the
    period conditions, `names` what each is called ("this month", "last month")."""

    current: Filter
    other: Filter
    names: tuple[str, str]


@dataclass(frozen=True)
class QueryPlan:
    """Everything the compiler needs to write one query."""

    table: str
    entity: str
    measure: Measure
    dimensions: tuple[Dimension, ...] = ()
    filters: tuple[Filter, ...] = ()
    exists: tuple[Exists, ...] = ()
    having: tuple[Having, ...] = ()
    list_columns: tuple[str, ...] = ()
    order: tuple[Order, ...] = ()
    limit: int | None = None
    period: Period | None = None
    period_column: str | None = None
    constructs: tuple[str, ...] = ()
    versus: Versus | None = None  # a period comparison: the filters hold either period
