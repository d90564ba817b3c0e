"""Query plan -> SQL, with sqlglot's builder.

Joins follow foreign keys up from the plan's table (copilot/engine/joins.py), so they never
multiply its rows; populations of referencing tables become EXISTS / NOT EXISTS. Values
are literals made by sqlglot, never pasted text. The statement is built once as an AST;
the guard writes it in the warehouse's dialect.
"""

from __future__ import annotations

from datetime import date

import sqlglot
from sqlglot import exp

from copilot.core.errors import CopilotError
from copilot.core.schema import WarehouseSchema
from copilot.engine.joins import JoinGraph, col
from copilot.engine.plan import Dimension, Exists, Measure, QueryPlan

__all__ = ["AGE_BANDS", "OLDEST_BAND", "PlanError", "compile_plan", "versus_columns"]

_TIMESTAMP_TYPES = ("TIMESTAMP", "DATETIME")
# Days before the as-of date, banded; labels sort in band order as text.
AGE_BANDS = ((1, "00-01 days"), (5, "02-05 days"), (10, "06-10 days"), (30, "11-30 days"))
OLDEST_BAND = "31+ days"
_OPS = {">": exp.GT, ">=": exp.GTE, "<": exp.LT, "<=": exp.LTE}


class PlanError(CopilotError):
    """The plan cannot be written as SQL over this schema (no join path, unknown column)."""


def _is_timestamp(ref: str, schema: WarehouseSchema) -> bool:
    table, column = ref.split(".", 1)
    info = next(c for c in schema.table(table).columns if c.name == column)
    return info.type.upper().startswith(_TIMESTAMP_TYPES)


def _dimension(dim: Dimension, schema: WarehouseSchema, as_of: date) -> exp.Expression:
    column = col(dim.column)
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
    if dim.bucket == "week":
        # The Monday of the week: the day minus its weekday, portable through sqlglot.
        day = exp.cast(column, "DATE")
        weekday = exp.Mod(this=exp.Paren(this=exp.Add(
            this=exp.cast(exp.TimeToStr(this=day.copy(), format=exp.Literal.string("%w")),
                          "INT"), expression=exp.Literal.number(6))),
            expression=exp.Literal.number(7))
        return exp.cast(exp.DateSub(this=day, expression=weekday, unit=exp.var("DAY")), "DATE")
    if dim.bucket == "day" and _is_timestamp(dim.column, schema):
        return exp.cast(column, "DATE")  # DATE() in SQLite, CAST in PostgreSQL and T-SQL
    return column


def _alias(label: str) -> str:
    text = "".join(c if c.isalnum() else "_" for c in label.lower().replace("%", "pct"))
    return "_".join(p for p in text.split("_") if p)[:40] or "value"


def _measure(measure: Measure, schema: WarehouseSchema) -> exp.Expression:
    if measure.kind == "count":
        return exp.Count(this=exp.Star())
    if measure.kind == "count_distinct":
        return exp.Count(this=exp.Distinct(expressions=[col(measure.expression or "")]))
    if measure.kind == "share":
        condition = exp.and_(*[sqlglot.condition(f.sql) for f in measure.numerator])
        hits = exp.Sum(this=exp.Case().when(condition, exp.Literal.number(1)).else_(
            exp.Literal.number(0)))
        return exp.Div(this=exp.Mul(this=exp.Literal.number("100.0"), expression=hits),
                       expression=exp.Count(this=exp.Star()))
    if measure.duration is not None:
        start, end = measure.duration
        seconds = exp.DateDiff(this=col(end), expression=col(start), unit=exp.var("SECOND"))
        scale = "3600.0" if measure.unit == "hours" else "86400.0"
        inner: exp.Expression = exp.Div(this=seconds, expression=exp.Literal.number(scale))
    else:
        inner = sqlglot.parse_one(measure.expression or "")
    if measure.kind == "rate":
        return inner
    function = {"sum": exp.Sum, "avg": exp.Avg, "min": exp.Min, "max": exp.Max}
    return function[measure.kind](this=inner)


def _when(measure: Measure, schema: WarehouseSchema, condition: exp.Expression
          ) -> exp.Expression:
    """The measure over the rows meeting `condition` only: a period of a comparison."""
    def only(value: exp.Expression, otherwise: exp.Expression | None = None) -> exp.Case:
        case = exp.Case().when(condition.copy(), value)
        return case.else_(otherwise) if otherwise is not None else case

    one, zero = exp.Literal.number(1), exp.Literal.number(0)
    if measure.kind == "count":
        return exp.Sum(this=only(one, zero))
    if measure.kind == "count_distinct":
        return exp.Count(this=exp.Distinct(expressions=[only(col(measure.expression or ""))]))
    if measure.kind == "share":
        hits = exp.and_(condition.copy(), *[sqlglot.condition(f.sql) for f in measure.numerator])
        numerator = exp.Sum(this=exp.Case().when(hits, one).else_(zero))
        return exp.Div(this=exp.Mul(this=exp.Literal.number("100.0"), expression=numerator),
                       expression=exp.Nullif(this=exp.Sum(this=only(one, zero)),
                                             expression=zero))
    function = {"sum": exp.Sum, "avg": exp.Avg, "min": exp.Min, "max": exp.Max}
    return function[measure.kind](this=only(sqlglot.parse_one(measure.expression or "")))


def _versus(plan: QueryPlan, schema: WarehouseSchema, alias: str) -> list[exp.Expression]:
    """current, other, change and change in percent: one column each."""
    assert plan.versus is not None
    versus = plan.versus
    now, then = (_when(plan.measure, schema, sqlglot.condition(f.sql))
                 for f in (versus.current, versus.other))
    change = exp.Sub(this=now.copy(), expression=then.copy())
    percent = exp.Div(this=exp.Mul(this=exp.Literal.number("100.0"),
                                   expression=exp.paren(change.copy())),
                      expression=exp.Nullif(this=then.copy(), expression=exp.Literal.number(0)))
    names = versus_columns(plan, alias)
    return [now.as_(names[0]), then.as_(names[1]), change.as_(names[2]),
            percent.as_(names[3])]


def versus_columns(plan: QueryPlan, alias: str) -> tuple[str, str, str, str]:
    """The comparison's column names: 'count_this_month', 'count_last_month', ..."""
    assert plan.versus is not None
    first, second = (_alias(f"{alias} {name}") for name in plan.versus.names)
    if first == second:
        first, second = f"{alias}_current", f"{alias}_other"
    return first, second, "change", "change_pct"


def _tables(nodes: list[exp.Expression], base: str) -> list[str]:
    """Tables other than `base` that the nodes' columns name, in order of appearance."""
    found: list[str] = []
    for node in nodes:
        for column in node.find_all(exp.Column):
            if column.table and column.table != base and column.table not in found:
                found.append(column.table)
    return found


def _join(query: exp.Select, base: str, targets: list[str], graph: JoinGraph) -> exp.Select:
    joined = {base}
    for target in targets:
        path = graph.up(base, target)
        if path is None:
            raise PlanError(f"There is no join path from {base} up to {target}.")
        for step in path:
            if step.table not in joined:
                query = query.join(step.table, on=step.on.copy())
                joined.add(step.table)
    return query


def _exists(item: Exists, outer: str, graph: JoinGraph) -> exp.Expression:
    """(NOT) EXISTS (rows of the referencing table linked to the outer row)."""
    path = graph.up(item.table, outer)
    if path is None:
        raise PlanError(f"There is no join path from {item.table} to {outer}.")
    conditions = [sqlglot.condition(f.sql) for f in item.filters]
    inner = sqlglot.select("1").from_(item.table)
    # Join the path up to (not including) the outer table; its last step links the rows.
    middle = [s.table for s in path[:-1]]
    targets = [t for t in [*middle, *_tables(conditions, item.table)] if t != outer]
    inner = _join(inner, item.table, targets, graph)
    link = path[-1].on.copy()
    inner = inner.where(exp.and_(link, *conditions))
    node: exp.Expression = exp.Exists(this=inner)
    return exp.Not(this=node) if item.negated else node


def _number(value: float) -> exp.Literal:
    return exp.Literal.number(int(value) if float(value).is_integer() else value)


def compile_plan(plan: QueryPlan, schema: WarehouseSchema, graph: JoinGraph,
                 as_of: date) -> exp.Select:
    """The plan as one SELECT over the warehouse's tables."""
    conditions = [sqlglot.condition(f.sql) for f in plan.filters]
    dims = [_dimension(d, schema, as_of) for d in plan.dimensions]
    projections: list[exp.Expression] = [
        e.as_(_alias(d.label)) if d.bucket else e for d, e in zip(plan.dimensions, dims,
                                                                   strict=True)]
    measure_alias = _alias(plan.measure.label if plan.measure.kind != "count" else "count")
    if plan.measure.kind == "list":
        projections.extend(col(c) for c in plan.list_columns)
    elif plan.versus is not None:
        projections.extend(_versus(plan, schema, measure_alias))
    else:
        projections.append(_measure(plan.measure, schema).as_(measure_alias))
    query = sqlglot.select(*projections).from_(plan.table)
    ordered = [col(o.key) for o in plan.order if o.key != "measure"]
    query = _join(query, plan.table, _tables([*projections, *conditions, *ordered], plan.table),
                  graph)
    if plan.measure.kind == "list" and all(
            c.split(".")[0] != plan.table for c in plan.list_columns):
        query = query.distinct()  # "desks with fails": each desk once
    conditions += [_exists(e, plan.table, graph) for e in plan.exists]
    if conditions:
        query = query.where(exp.and_(*conditions))
    if dims:
        query = query.group_by(*[d.copy() for d in dims])
    for having in plan.having:
        aggregate = _measure(plan.measure, schema) if plan.measure.kind != "list" and \
            not having.count else exp.Count(this=exp.Star())
        if having.op == "between":
            node = aggregate.between(_number(having.number), _number(having.upper or 0))
        else:
            node = _OPS[having.op](this=aggregate, expression=_number(having.number))
        if not dims:
            raise PlanError("A condition on a count needs groups to apply to ('by desk').")
        query = query.having(node)
    for order in plan.order:
        if order.key == "measure" and plan.versus is not None:
            target: exp.Expression = exp.column(versus_columns(plan, measure_alias)[0])
        elif order.key == "measure" and plan.measure.kind != "list":
            target = exp.column(measure_alias)
        else:
            target = next((exp.column(_alias(p.label)) if p.bucket else e.copy()
                           for e, p in zip(dims, plan.dimensions, strict=True)
                           if p.column == order.key), col(order.key))
        query = query.order_by(exp.Ordered(this=target, desc=order.descending))
    if plan.limit and plan.measure.kind == "list" and plan.order:
        # Ties at the cut-off are broken by the key, so the same question gives the same rows.
        key = schema.table(plan.table).primary_key
        for column in key:
            query = query.order_by(exp.Ordered(this=col(f"{plan.table}.{column}")))
    elif plan.limit and dims:
        # Groups tied at the cut-off are kept in the order of their names: the same rows on
        # every warehouse, not whichever the database happened to read first.
        for dim, node in zip(plan.dimensions, dims, strict=True):
            if all(o.key != dim.column for o in plan.order):
                target = exp.column(_alias(dim.label)) if dim.bucket else node.copy()
                query = query.order_by(exp.Ordered(this=target))
    if plan.limit:
        query = query.limit(plan.limit)
    return query
