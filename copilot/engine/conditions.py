"""The reader's condition stages: filters, EXISTS populations and the period.

A condition on the subject's table or a table it references is a filter (joined); one on a
table that references the subject is a population that must exist ("counterparties with
fails") or must not ("books with no live trades"), one EXISTS per table. A condition on a
table that is neither makes this reading impossible. Values are literals built by sqlglot.
`place` is where every condition goes, the comparisons' (comparisons.py) included.
"""

from __future__ import annotations

import re
from datetime import timedelta

import sqlglot
from sqlglot import exp

from copilot.core.periods import Period, format_period
from copilot.engine.draft import Draft, Refusal
from copilot.engine.joins import col
from copilot.engine.lexicon import is_date
from copilot.engine.plan import Filter, Measure, Versus
from training.glossary import resolve_as_of

__all__ = ["CONDITION_STAGES", "condition_of", "period_column", "place", "readable"]


def place(d: Draft, table: str, item: Filter, negated: bool = False) -> None:
    """Put a condition where it belongs: a filter, or the EXISTS of a referencing table."""
    relation = d.graph.relation(d.subject or "", table)
    if relation is None:
        raise Refusal(f"{item.label} is about {table}, which I can't relate to "
                      f"{d.entity(d.subject or '').name}s.")
    d.cost += relation[1] * (3 if relation[0] == "down" else 1)
    if relation[0] == "down":
        filters, was_negated = d.exists.get(table, ([], False))
        d.exists[table] = ([*filters, item], was_negated or negated)
        d.note("existence")
    else:
        if table != d.subject and relation[1]:
            # Another table's column says whose it is: "employees with department name
            # Sales", not "employees with name Sales".
            owner = d.entity(table).name
            if not item.label.lower().startswith(owner.lower()):
                item = Filter(f"{owner} {item.label}", item.sql)
        if negated:
            d.filters.append(Filter(f"not {item.label}", _negation(d, item.sql)))
            d.note("negation")
        else:
            d.filters.append(item)


def _negation(d: Draft, sql: str) -> str:
    """NOT (condition), keeping the rows where its one column is empty: "exceptions
    excluding N. Singh's" still counts the unassigned ones, which NOT alone would drop."""
    node = sqlglot.condition(sql)
    columns = {(c.table, c.name) for c in node.find_all(exp.Column)}
    negated = exp.Not(this=exp.paren(node))
    if len(columns) == 1:
        table, name = columns.pop()
        info = next((c for c in d.content.schema.table(table).columns if c.name == name), None)
        if info is not None and info.nullable:
            return exp.or_(exp.column(name, table=table).is_(exp.null()), negated).sql()
    return negated.sql()


def condition_of(d: Draft, i: int) -> tuple[str, Filter]:
    """The table and filter an item stands for."""
    meaning = d.meaning(i)
    assert meaning is not None
    term = d.term(i, "condition")
    if term is not None and term.condition:
        sql = resolve_as_of(term.condition, d.as_of.isoformat())
        return term.table or meaning.table, Filter(f"{term.name} ({readable(sql)})", sql)
    if meaning.kind == "upcoming":
        sql = resolve_as_of(d.content.glossary.upcoming_condition or "", d.as_of.isoformat())
        return meaning.table, Filter("due after the as-of date", sql)
    column = meaning.column or ""
    return column.split(".")[0], _in(column, list(meaning.values))


def readable(sql: str) -> str:
    """"settlements.status = 'FAILED'" -> "status FAILED", for interpretation sentences."""
    text = re.sub(r"\b\w+\.(\w+)", r"\1", sql)
    text = re.sub(r"\s*=\s*'([^']*)'", r" \1", text)
    return text.replace("'", "").replace("_", " ")


def _in(column: str, values: list[str]) -> Filter:
    literals = [exp.Literal.string(v) for v in values]
    node = col(column).eq(literals[0]) if len(literals) == 1 else col(column).isin(*literals)
    return Filter(f"{column.split('.')[1].replace('_', ' ')} {' or '.join(values)}", node.sql())


def _qualifies(d: Draft, i: int, column: str) -> bool:
    """A column or dimension word beside a value of that column only names it."""
    meaning = d.meaning(i)
    term = d.term(i, "dimension")
    named = term.dimension if term is not None else (
        meaning.column if meaning is not None and meaning.kind == "column" else None)
    return named == column


def bind_filters(d: Draft) -> None:
    for group in d.groups:
        table = group.column.split(".")[0]
        for near in (group.indices[0] - 1, group.indices[-1] + 1):
            if near not in d.used and _qualifies(d, near, group.column):
                d.use(near)
        place(d, table, _in(group.column, group.values),
              negated=group.indices[0] in d.negated)
        d.negation_applied.update(group.indices)
    for members in d.or_groups:
        parts = [condition_of(d, i) for i in members]
        tables = {t for t, _ in parts}
        if len(tables) != 1:
            raise Refusal("I can only read 'or' between conditions on the same things.")
        d.use(*members)
        sql = " OR ".join(f"({f.sql})" for _, f in parts)
        place(d, tables.pop(), Filter(" or ".join(f.label for _, f in parts), f"({sql})"))
    for i, item in enumerate(d.items):
        if i in d.used or item.kind != "lex" or item.meaning is None:
            continue
        kind = item.meaning.kind
        if kind in ("value", "id", "upcoming") or d.term(i, "condition"):
            if kind == "upcoming" and d.period_items():
                d.use(i)  # "due in the next 5 days": the period says when
                continue
            table, condition = condition_of(d, i)
            d.use(i)
            nxt = d.meaning(i + 1)
            relation = d.graph.relation(d.subject or "", table)
            if kind in ("term", "value") and nxt is not None and nxt.kind == "entity" and \
                    nxt.table == d.subject and relation and relation[0] == "down":
                raise Refusal(f"'{item.words}' describes {d.words(i + 1)} here, but it is a "
                              f"word for {d.entity(table).name}s; ask it another way.")
            if kind in ("value", "id"):
                before = i - 2 if d.cue(i - 1, "neg") else i - 1  # "reason is not X"
                for near in (before, i + 1):
                    if near not in d.used and _qualifies(d, near, item.meaning.column or ""):
                        d.use(near)
                d.cost += 0 if item.meaning.synonym else 0.5
            place(d, table, condition, negated=i in d.negated)
            d.negation_applied.add(i)
    for i, item in enumerate(d.items):
        if i in d.used or item.kind != "lex" or item.meaning is None:
            continue
        kind = item.meaning.kind
        if kind == "entity":
            table = item.meaning.table
            relation = d.graph.relation(d.subject or "", table)
            if relation and relation[0] == "down":
                filters, negated = d.exists.get(table, ([], False))
                d.exists[table] = (filters, negated or i in d.negated)
                d.use(i)
                d.negation_applied.add(i)
                d.note("existence")
            elif any(f.sql.find(f"{table}.") >= 0 for f in d.filters) and i not in d.negated:
                d.use(i)  # "trades with hedge fund clients": the entity names the value's table
            elif relation and relation[0] == "up" and relation[1] == 1 and i in d.negated:
                # "settlements without a netting set": the reference to it is empty.
                step = d.graph.up(d.subject or "", table)[0]  # type: ignore[index]
                keys = [c for c in step.on.find_all(exp.Column) if c.table == d.subject]
                place(d, d.subject or "", Filter(f"no {d.words(i)}", " AND ".join(
                    f"{d.subject}.{k.name} IS NULL" for k in keys)))
                d.negation_applied.add(i)
                d.use(i)
        elif kind in ("column", "term") and i in d.negated and (
                kind == "column" or d.term(i, "dimension") is not None):
            # "exceptions without an owner", "fails with no reason": the column is empty.
            term = d.term(i, "dimension")
            column = (term.dimension if term is not None else item.meaning.column) or ""
            if term is not None and column.split(".")[1] in d.content.schema.table(
                    d.subject or "").column_names:
                column = f"{d.subject}.{column.split('.')[1]}"
            place(d, column.split(".")[0], Filter(f"no {d.words(i)}", f"{column} IS NULL"))
            d.negation_applied.add(i)
            d.use(i)


def check_contradictions(d: Draft) -> None:
    """Two different values of one column, both required, select nothing: 'EUR USD trades'
    is a question I misread, not an empty answer."""
    seen: dict[str, str] = {}
    for item in d.filters:
        match = re.fullmatch(r"(\w+\.\w+) = '([^']*)'", item.sql)
        if match:
            column, value = match.groups()
            if seen.setdefault(column, value) != value:
                raise Refusal(f"Both {seen[column]} and {value} are asked of "
                              f"{column.split('.')[1]}; say 'or' if either will do.")


def bind_period(d: Draft) -> None:
    periods = d.period_items()
    versus = len(periods) == 2 and periods[1] == periods[0] + 2 and \
        d.cue(periods[0] + 1, "vs") is not None
    if len(periods) > 1 and not versus:
        raise Refusal("The question names two periods; ask about one at a time.")
    near = {periods[0] - 1, periods[0] + 1} if periods else set()
    words = list(d.free("date_word"))
    # A status word that also names a date ("resolved this week") moves the period there,
    # when it stands beside the period and is not negated.
    spans = [d.date_spans[(it.start, it.end)] for k, it in enumerate(d.items)
             if (it.start, it.end) in d.date_spans and it.kind == "lex" and k in near
             and k not in d.negated]
    if not periods:
        words = list(d.free("date_word"))
        for i in words:
            item = d.items[i]
            if d.alternatives.get((item.start, item.end), set()) - {"date_word"}:
                raise Refusal(f"'{d.words(i)}' names a date; with no period it means "
                              "something else.")
            d.use(i)  # "trades we booked": the date word only says which date
        return
    index = periods[0]
    period = d.items[index].token.period  # type: ignore[union-attr]
    d.use(index, *words)
    # A date word of a table the rows counted cannot reach ("accounts opened in 2024" where
    # "opened" names the repairs' date) leaves the period on the rows' own date.
    words = [i for i in words if (d.graph.relation(d.subject or "", d.meaning(i).table)  # type: ignore[union-attr]
                                  or ("down", 0))[0] != "down"]
    named = [i for i in d.free("column") if _is_date_column(d, i) and i in near]
    if named and not words:  # "for value date tomorrow": the date column is named
        words = named[:1]
        d.use(named[0])
    column = (d.items[words[0]].meaning.column if words else None) or (  # type: ignore[union-attr]
        spans[0] if spans else None)
    if column is not None and (d.graph.relation(d.subject or "", column.split(".")[0])
                               or ("down", 0))[0] == "down":
        column = None  # a date the rows counted cannot reach: their own date applies
    if column is None:
        # The period of a population that must exist when it stands beside it ("with fails
        # this week"), else of the rows counted ("this week's trades with no fails").
        at = periods[0]
        lexical = [k for k in range(len(d.items)) if d.meaning(k) is not None]
        before = [k for k in lexical if k < at][-1:]
        after = [k for k in lexical if k > at][:1]
        beside = {d.meaning(k).table for k in before + after}  # type: ignore[union-attr]
        children = [t for t in d.exists if t in beside]
        table = children[0] if len(children) == 1 else d.subject or ""
        column = period_column(d, table)
        if column is None:
            raise Refusal(f"I don't know which date '{period.words}' applies to for "
                          f"{d.entity(table).name}s; set period_columns in the glossary.")
    d.period, d.period_column = period, column
    current = _period_filter(d, column, period)
    if not versus:
        place(d, table_of(column), current)
        d.note("period")
        return
    other_period = d.items[periods[1]].token.period  # type: ignore[union-attr]
    d.use(periods[0] + 1, periods[1])
    _two_periods(d, column, current, _period_filter(d, column, other_period),
             (period.label, other_period.label))


def table_of(column: str) -> str:
    return column.split(".")[0]


def _period_filter(d: Draft, column: str, period: Period) -> Filter:
    """The condition that a row's `column` falls in `period`, as a labelled filter."""
    if period.start is None or period.end is None:
        raise Refusal(f"I can't read the period '{period.words}'.")
    table, name = column.split(".")
    info = next(c for c in d.content.schema.table(table).columns if c.name == name)
    start, end = exp.Literal.string(period.start.isoformat()), period.end
    if "TIME" in info.type.upper():  # half-open: every moment of the last day counts
        node = exp.and_(col(column) >= start, col(column) < exp.Literal.string(
            (end + timedelta(days=1)).isoformat()))
    else:
        node = col(column).between(start, exp.Literal.string(end.isoformat()))
    return Filter(f"{name.replace('_', ' ')} {format_period(period)}", node.sql())


def _two_periods(d: Draft, column: str, current: Filter, other: Filter,
             names: tuple[str, str]) -> None:
    """'this month vs last month': the rows of either period, the measure once for each."""
    relation = d.graph.relation(d.subject or "", table_of(column))
    if relation is None or relation[0] == "down":
        raise Refusal("I can compare two periods only on a date of the rows counted.")
    measure = d.measure
    if measure is not None and measure.kind == "list" and not d.list_columns and not d.order \
            and d.limit is None and not any(d.cue(i, "list") for i in range(len(d.items))):
        measure = d.measure = Measure("count", "count")  # "fails this week vs last": counted
    if measure is None or measure.kind in ("list", "rate") or measure.duration or d.having:
        raise Refusal("A comparison of two periods needs a count, total, average, minimum, "
                      "maximum or share to compare.")
    if names[0] == names[1]:
        raise Refusal("The two periods compared are the same.")
    either = Filter(f"{current.label} or {other.label}",
                    exp.or_(exp.paren(sqlglot.condition(current.sql)),
                            exp.paren(sqlglot.condition(other.sql))).sql())
    place(d, table_of(column), either)
    d.versus = Versus(current, other, names)
    d.note("period comparison")


def _is_date_column(d: Draft, i: int) -> bool:
    column = d.meaning(i).column or ""  # type: ignore[union-attr]
    table, name = column.split(".")
    return any(c.name == name and is_date(c) for c in d.content.schema.table(table).columns)


def period_column(d: Draft, table: str) -> str | None:
    """The date a period applies to for `table`: the glossary's, else its only date."""
    columns = dict(d.content.glossary.period_columns)
    if table in columns:
        return f"{table}.{columns[table]}"
    dates = [c for c in d.content.schema.table(table).columns if is_date(c)]
    return f"{table}.{dates[0].name}" if len(dates) == 1 else None


CONDITION_STAGES = (bind_filters, check_contradictions, bind_period)
