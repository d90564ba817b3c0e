"""Query plan -> SQL, with sqlglot's builder.

Joins follow the foreign-key graph (shortest path from the plan's table, a glossary join
path where one is given); values are always literals made by sqlglot, never pasted text.
The statement is built once as an AST; the guard writes it in the warehouse's dialect.
"""

from __future__ import annotations

from collections import deque
from datetime import date, timedelta
from itertools import pairwise

import sqlglot
from sqlglot import exp

from copilot.engine.plan import Dimension, QueryPlan
from copilot.errors import CopilotError
from copilot.schema import WarehouseSchema
from training.glossary import Glossary

__all__ = ["PlanError", "compile_plan"]

_TIMESTAMP_TYPES = ("TIMESTAMP", "DATETIME")


class PlanError(CopilotError):
    """The plan cannot be written as SQL over this schema (no join path, unknown column)."""


def _col(ref: str) -> exp.Column:
    table, column = ref.split(".", 1)
    return exp.column(column, table=table)


def _edges(schema: WarehouseSchema) -> dict[str, list[tuple[str, exp.Expression]]]:
    """Undirected foreign-key edges: table -> [(neighbour, join condition)]."""
    edges: dict[str, list[tuple[str, exp.Expression]]] = {t.name: [] for t in schema.tables}
    for table in schema.tables:
        for fk in table.foreign_keys:
            on = exp.and_(*[
                _col(f"{table.name}.{a}").eq(_col(f"{fk.ref_table}.{b}"))
                for a, b in zip(fk.columns, fk.ref_columns, strict=True)
            ])
            edges[table.name].append((fk.ref_table, on))
            edges.setdefault(fk.ref_table, []).append((table.name, on))
    return edges


def _path(base: str, target: str, schema: WarehouseSchema, glossary: Glossary
          ) -> list[tuple[str, exp.Expression]]:
    """Tables to join, in order, to reach `target` from `base`, with their conditions."""
    edges = _edges(schema)
    preferred = next((p.via for p in glossary.join_paths
                      if p.from_table == base and p.to_table == target), None)
    if preferred:
        steps = []
        for left, right in pairwise(preferred):
            on = next((cond for name, cond in edges.get(left, []) if name == right), None)
            if on is None:
                break
            steps.append((right, on))
        else:
            return steps
    previous: dict[str, tuple[str, exp.Expression] | None] = {base: None}
    queue = deque([base])
    while queue:
        table = queue.popleft()
        if table == target:
            break
        for neighbour, on in sorted(edges.get(table, []), key=lambda e: e[0]):
            if neighbour not in previous:
                previous[neighbour] = (table, on)
                queue.append(neighbour)
    if target not in previous:
        raise PlanError(f"There is no join path from {base} to {target} in the warehouse.")
    steps: list[tuple[str, exp.Expression]] = []
    node = target
    while previous[node] is not None:
        parent, on = previous[node]  # type: ignore[misc]
        steps.append((node, on))
        node = parent
    return list(reversed(steps))


def _is_timestamp(ref: str, schema: WarehouseSchema) -> bool:
    table, column = ref.split(".", 1)
    info = next(c for c in schema.table(table).columns if c.name == column)
    return info.type.upper().startswith(_TIMESTAMP_TYPES)


def _period(ref: str, start: date, end: date, schema: WarehouseSchema) -> exp.Expression:
    column = _col(ref)
    if _is_timestamp(ref, schema):  # half-open: every moment of the last day counts
        return exp.and_(column >= exp.Literal.string(start.isoformat()),
                        column < exp.Literal.string((end + timedelta(days=1)).isoformat()))
    return column.between(exp.Literal.string(start.isoformat()),
                          exp.Literal.string(end.isoformat()))


# Days before the as-of date, banded; labels sort in band order as text.
AGE_BANDS = ((1, "00-01 days"), (5, "02-05 days"), (10, "06-10 days"), (30, "11-30 days"))
OLDEST_BAND = "31+ days"


def _dimension(dim: Dimension, schema: WarehouseSchema, as_of: date) -> exp.Expression:
    column = _col(dim.column)
    if dim.bucket == "age":
        # Calendar days, so a timestamp's time of day cannot move it across a band.
        days = exp.DateDiff(this=exp.Literal.string(as_of.isoformat()),
                            expression=exp.cast(column, "DATE"), unit=exp.var("DAY"))
        case = exp.Case()
        for limit, label in AGE_BANDS:
            case = case.when(exp.LTE(this=days.copy(), expression=exp.Literal.number(limit)),
                             exp.Literal.string(label))
        return case.else_(exp.Literal.string(OLDEST_BAND))
    if dim.bucket == "month":
        return exp.TimeToStr(this=column, format=exp.Literal.string("%Y-%m"))
    if dim.bucket == "day" and _is_timestamp(dim.column, schema):
        return exp.cast(column, "DATE")  # DATE() in SQLite, CAST in PostgreSQL and T-SQL
    return column


def _alias(label: str) -> str:
    return "_".join(label.lower().replace("%", "pct").split())[:40] or "value"


def _conditions(plan: QueryPlan, schema: WarehouseSchema, as_of: date) -> list[exp.Expression]:
    """The plan's filters, comparisons and period as conditions."""
    conditions: list[exp.Expression] = []
    for item in plan.filters:
        if item.sql:
            condition = sqlglot.condition(item.sql)
        else:
            literals = [exp.Literal.string(v) for v in item.values]
            column = _col(item.column or "")
            condition = column.eq(literals[0]) if len(literals) == 1 else column.isin(*literals)
        conditions.append(condition)
    for comparison in plan.comparisons:
        if comparison.days_before_as_of is not None:
            limit = as_of - timedelta(days=comparison.days_before_as_of)
            right: exp.Expression = exp.Literal.string(limit.isoformat())
        else:
            right = exp.Literal.number(_number(comparison.number or 0))
        op = {">": exp.GT, ">=": exp.GTE, "<": exp.LT, "<=": exp.LTE}[comparison.op]
        conditions.append(op(this=_col(comparison.column), expression=right))
    if plan.period and plan.period_column and plan.period.start and plan.period.end:
        conditions.append(_period(plan.period_column, plan.period.start, plan.period.end, schema))
    return conditions


def _tables(nodes: list[exp.Expression], base: str) -> list[str]:
    """Tables other than `base` that the nodes' columns name, in order of appearance."""
    found: list[str] = []
    for node in nodes:
        for column in node.find_all(exp.Column):
            if column.table and column.table != base and column.table not in found:
                found.append(column.table)
    return found


def _joined(
    query: exp.Select, base: str, targets: list[str], schema: WarehouseSchema,
    glossary: Glossary, stop: str | None = None,
) -> tuple[exp.Select, exp.Expression | None]:
    """`query` with joins from `base` to every target; with `stop`, the join condition that
    reaches that (outer) table is returned instead of joined."""
    joined = {base}
    link = None
    for target in targets:
        for table, on in _path(base, target, schema, glossary):
            if table == stop:
                link = on
                break
            if table not in joined:
                query = query.join(table, on=on)
                joined.add(table)
    return query, link


def _absence(plan: QueryPlan, outer: str, schema: WarehouseSchema, glossary: Glossary,
             as_of: date) -> exp.Expression:
    """NOT EXISTS (rows of `plan` linked to the outer table's row)."""
    conditions = _conditions(plan, schema, as_of)
    inner = sqlglot.select("1").from_(plan.table)
    inner, link = _joined(inner, plan.table, [*_tables(conditions, plan.table), outer], schema,
                          glossary, stop=outer)
    if link is None:
        raise PlanError(f"There is no join path from {plan.table} to {outer}.")
    inner = inner.where(exp.and_(link, *conditions))
    return exp.Not(this=exp.Exists(this=inner))


def compile_plan(plan: QueryPlan, schema: WarehouseSchema, glossary: Glossary,
                 as_of: date) -> exp.Select:
    """The plan as one SELECT over the warehouse's tables."""
    conditions = _conditions(plan, schema, as_of)

    dims = [_dimension(d, schema, as_of) for d in plan.dimensions]
    projections: list[exp.Expression] = []
    for dim, expression in zip(plan.dimensions, dims, strict=True):
        projections.append(expression.as_(_alias(dim.label)) if dim.bucket else expression)
    measure_alias = _alias(plan.measure.label if plan.measure.kind != "count" else "count")
    if plan.measure.kind == "list":
        columns = list(plan.list_columns)
        if plan.order_by and plan.order_by != "measure" and plan.order_by not in columns:
            columns.append(plan.order_by)
        projections.extend(_col(c) for c in columns)
    elif plan.measure.kind == "count":
        projections.append(exp.Count(this=exp.Star()).as_(measure_alias))
    elif plan.measure.kind == "count_distinct":
        counted = exp.Distinct(expressions=[_col(plan.measure.expression or "")])
        projections.append(exp.Count(this=counted).as_(measure_alias))
    else:
        inner = sqlglot.parse_one(plan.measure.expression or "")
        function = {"sum": exp.Sum, "avg": exp.Avg, "min": exp.Min, "max": exp.Max}
        value = inner if plan.measure.kind == "rate" else function[plan.measure.kind](this=inner)
        projections.append(value.as_(measure_alias))

    query = sqlglot.select(*projections).from_(plan.table)
    joins = _tables([*projections, *conditions], plan.table)
    query, _ = _joined(query, plan.table, joins, schema, glossary)
    if plan.measure.kind == "list" and joins:
        query = query.distinct()  # a list of counterparties, not one row per trade of each
    if plan.absent is not None:
        conditions.append(_absence(plan.absent, plan.table, schema, glossary, as_of))
    if conditions:
        query = query.where(exp.and_(*conditions))
    if dims:
        query = query.group_by(*dims)
    if plan.having and dims:
        op = {">": exp.GT, ">=": exp.GTE, "<": exp.LT, "<=": exp.LTE}[plan.having[0]]
        aggregate = projections[-1].this if isinstance(projections[-1], exp.Alias) else (
            exp.Count(this=exp.Star()))
        query = query.having(op(this=aggregate.copy(),
                                expression=exp.Literal.number(_number(plan.having[1]))))
    if plan.order_by == "measure" and plan.measure.kind != "list":
        query = query.order_by(exp.Ordered(this=exp.column(measure_alias),
                                           desc=plan.descending))
    elif plan.order_by and plan.order_by != "measure":
        # A bucketed dimension is ordered by its alias rather than its whole expression again.
        target = next((exp.column(_alias(p.label)) if p.bucket else d
                       for d, p in zip(dims, plan.dimensions, strict=True)
                       if p.column == plan.order_by), _col(plan.order_by))
        query = query.order_by(exp.Ordered(this=target.copy(), desc=plan.descending))
    if plan.limit:
        query = query.limit(plan.limit)
    return query


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)
