"""The reader's comparison stage: what "above 5m", "older than 3 days", "over 20%" and
"more than 10 fails" compare.

Each comparison binds to the measure beside it, to the age of the subject's rows (a number
of days or hours), to a share (a percent, a HAVING), to a count of a population (a HAVING
per group), or else to the default measure of the entity named or of the subject. The
condition it makes is placed like any other (`conditions.place`); values are literals built
by sqlglot.
"""

from __future__ import annotations

from datetime import timedelta

from sqlglot import exp

from copilot.engine.conditions import period_column, place
from copilot.engine.draft import Comparison, Draft, Refusal
from copilot.engine.entity_columns import default_measure
from copilot.engine.joins import col
from copilot.engine.plan import Filter, Having
from copilot.engine.stages import measure_like, population
from training.glossary import resolve_as_of

__all__ = ["COMPARISON_STAGES"]

_OPS = {">": exp.GT, ">=": exp.GTE, "<": exp.LT, "<=": exp.LTE}


def _number(value: float) -> exp.Literal:
    return exp.Literal.number(int(value) if float(value).is_integer() else value)


def _compare(left: exp.Expression, c: Comparison) -> exp.Expression:
    if c.op == "between":
        return left.between(_number(c.number), _number(c.upper or c.number))
    return _OPS[c.op](this=left, expression=_number(c.number))


def bind_comparisons(d: Draft) -> None:
    """Each comparison gets its column: the measure beside it, an age, or a count."""
    for c in d.comparisons:
        before, after = c.index - 1 - (c.op != "between"), (c.end or c.index) + 1
        while d.cue(after, "unit") and after in d.used:
            after += 1
        while before in d.used and d.items[before:before + 1] and d.items[before].kind == "cue":
            before -= 1
        if c.unit in ("days", "hours") and not any(d.term(i, "duration") for i in
                                                   range(len(d.items))):
            _age(d, c)
        elif c.unit == "percent":
            d.having.append(Having(c.op, c.number, c.upper))  # type: ignore[arg-type]
            d.note("having")
        elif before >= 0 and before not in d.used and measure_like(d, before):
            _on_column(d, c, before)
        elif after < len(d.items) and after not in d.used and measure_like(d, after):
            _on_column(d, c, after)
        elif after < len(d.items) and population(d, after) and d.group_items:
            d.having.append(Having(c.op, c.number, c.upper, count=True))  # type: ignore[arg-type]
            d.note("having")
        elif d.meaning(before) is not None and d.meaning(before).kind == "entity" and (  # type: ignore[union-attr]
                column := default_measure(d, d.meaning(before).table)) is not None:  # type: ignore[union-attr]
            # "clients with no payments over 500k": the amount of the payments named.
            d.doubts.append("default measure")
            place(d, column.split(".")[0], Filter(f"{column.split('.')[1]} {c.words}",
                                                  _compare(col(column), c).sql()))
            d.note("comparison")
        elif (column := default_measure(d, d.subject or "")) is not None:
            d.doubts.append("default measure")
            place(d, column.split(".")[0], Filter(f"{column.split('.')[1]} {c.words}",
                                                  _compare(col(column), c).sql()))
            d.note("comparison")
        else:
            raise Refusal(f"'{c.words}': I can't tell what is compared; name the amount.")


def _on_column(d: Draft, c: Comparison, index: int) -> None:
    term = d.term(index, "measure", "duration")
    meaning = d.meaning(index)
    assert meaning is not None
    if term is not None and term.start and term.end:
        seconds = exp.DateDiff(this=col(term.end), expression=col(term.start),
                               unit=exp.var("SECOND"))
        scale = 3600.0 if (c.unit or term.unit) == "hours" else 86400.0
        left: exp.Expression = exp.Div(this=seconds, expression=exp.Literal.number(scale))
        table = term.table or term.start.split(".")[0]
    elif term is not None and term.measure and "(" in term.measure:
        d.having.append(Having(c.op, c.number, c.upper))  # type: ignore[arg-type]
        d.use(index)
        d.measure_item = index
        d.note("having")
        return
    else:
        column = term.measure if term is not None else meaning.column
        left, table = col(column or ""), (column or "").split(".")[0]
    d.use(index)
    place(d, table, Filter(f"{d.words(index)} {c.words}", _compare(left, c).sql()))
    if term is not None and term.condition:
        place(d, term.table or table, Filter(term.name, resolve_as_of(term.condition,
                                                                      d.as_of.isoformat())))
    d.note("comparison")


def _age(d: Draft, c: Comparison) -> None:
    """'older than 5 days': the age column of the subject before the as-of date minus 5."""
    subject = d.subject or ""
    column = dict(d.content.glossary.age_columns).get(subject) or period_column(d, subject)
    if column is None:
        raise Refusal(f"I don't know which date the age of {d.entity(subject).name}s is "
                      "measured from; name it under age_columns in the glossary.")
    days = c.number if c.unit == "days" else c.number / 24
    limit = exp.Literal.string((d.as_of - timedelta(days=days)).isoformat())
    op = {">": "<", ">=": "<=", "<": ">", "<=": ">="}.get(c.op, "<")
    place(d, column.split(".")[0], Filter(f"older than {c.number:g} {c.unit}" if op in "<<="
                                          else f"newer than {c.number:g} {c.unit}",
                                          _OPS[op](this=col(column), expression=limit).sql()))
    d.note("age")


COMPARISON_STAGES = (bind_comparisons,)
