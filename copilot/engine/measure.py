"""The reader's measure stage: what figure a question asks for.

A count, a sum, average, minimum or maximum of a measure, a rate, a duration, the distinct
values of a column, or a list of rows; `choose_measure` decides which from the cues and
the measure words the earlier stages left unused, and refuses when it cannot tell.
"""

from __future__ import annotations

import re

from copilot.engine.draft import Draft, Refusal
from copilot.engine.entity_columns import (
    _PLAIN_COLUMN,
    _dimension_column,
    default_measure,
    label_column,
)
from copilot.engine.plan import Dimension, Measure
from copilot.engine.stages import groupable, measure_like

__all__ = ["agg_word", "choose_measure"]


def choose_measure(d: Draft) -> None:
    """Count, sum/average/min/max of a measure, a rate, a duration, a share, or a list."""
    if d.measure is not None:
        return  # a share, read already
    agg = next((d.items[i].cue.arg for i in range(len(d.items))  # type: ignore[union-attr]
                if d.cue(i, "agg") and i not in d.used), None)
    agg_index = [i for i in range(len(d.items)) if d.cue(i, "agg") and i not in d.used]
    if len(agg_index) > 1:
        raise Refusal("The question asks for " + " and ".join(
            f"'{d.words(i)}'" for i in agg_index) + "; ask for one figure at a time.")
    count_index = [i for i in range(len(d.items)) if d.cue(i, "count") and i not in d.used]
    distinct = [i for i in range(len(d.items)) if d.cue(i, "distinct") and i not in d.used]
    d.use(*agg_index, *count_index)
    candidates = ([d.rank_by] if d.rank_by is not None else []) + [
        i for i in range(len(d.items)) if measure_like(d, i) and i not in d.used]
    index = candidates[0] if candidates else None
    looked_up = any(d.meaning(i) and d.meaning(i).kind == "id"  # type: ignore[union-attr]
                    for i in range(len(d.items))) or (
        index is not None and _names_one_row(d, index))
    column = _plain_measure(d, index) if index is not None else None
    projected = [i for i in d.free("column") if i != index and not measure_like(d, i)]
    ordered = any(d.cue(i, "order") and d.items[i].cue.arg in ("asc", "desc")  # type: ignore[union-attr]
                  for i in range(len(d.items)))
    if index is not None and (d.superlative or ordered) and not d.dims and not d.buckets \
            and agg is None and not count_index and d.term(index, "duration") is None:
        d.use(index)  # "the 3 largest settlements by amount": rows ranked by the amount
        d.measure_item = index
        d.measure = Measure("list", "list")
        return
    if index is not None and (looked_up or projected) and agg is None and not count_index \
            and not d.dims and not d.buckets and column:
        d.use(index)  # "the notional of TRD0000189": the column, not a total
        d.list_columns.append(column)
        d.measure = Measure("list", "list")
        return
    if index is not None:
        d.use(index)
        d.measure_item = index
        d.measure = _measure_of(d, index, agg)
        term = d.term(index, "measure", "duration")
        if term is not None and term.condition:
            from copilot.engine.conditions import place, readable
            from copilot.engine.plan import Filter
            from training.glossary import resolve_as_of

            sql = resolve_as_of(term.condition, d.as_of.isoformat())
            place(d, term.table or d.subject or "",
                  Filter(f"{term.name} counted over {readable(sql)}", sql))
        return
    if agg is not None:
        if agg == "avg" and (d.buckets or d.group_items):
            # "average daily fails" is an average of counts per day, not of an amount.
            raise Refusal(f"'{agg_word(agg)}' of what? Name the amount ('average settlement "
                          "amount by desk').")
        column = default_measure(d, d.subject or "")
        if column is None:
            raise Refusal(f"I don't know what to {agg_word(agg)} for "
                          f"{d.entity(d.subject or '').name}s; name the amount.")
        d.doubts.append("default measure")
        d.measure = Measure(agg, column.split(".")[1].replace("_", " "), column)
        d.note(agg_word(agg))
        return
    if distinct:
        targets = [i for i in range(len(d.items)) if groupable(d, i) and i not in d.used
                   and d.meaning(i).kind != "entity"]  # type: ignore[union-attr]
        at = distinct[0] + 1
        if not targets and not (d.meaning(at) and d.meaning(at).kind == "entity"  # type: ignore[union-attr]
                                and d.meaning(at).table == d.subject):  # type: ignore[union-attr]
            raise Refusal(f"'{d.words(distinct[0])}' must name what is counted once each.")
        if targets and not count_index and not d.dims:
            # "what are the distinct countries of singers over 20": the values, each once
            # (with how many rows have each), not how many there are.
            column = _dimension_column(d, targets[0])
            relation = d.graph.relation(d.subject or "", column.split(".")[0])
            if relation is None or relation[0] == "down":
                raise Refusal(f"'{d.words(targets[0])}' is not a single value of each "
                              f"{d.entity(d.subject or '').name}.")
            d.use(*distinct, targets[0])
            d.cost += relation[1]
            d.dims.append(Dimension(column, d.words(targets[0])))
            d.measure = Measure("count", "count")
            d.note("distinct values")
            return
        if targets:
            column = _dimension_column(d, targets[0])
            d.use(*distinct, targets[0])
            d.measure = Measure("count_distinct", f"distinct {d.words(targets[0])}", column)
            d.note("count distinct")
            return
        d.use(*distinct)  # "how many distinct counterparties": counting them is distinct
    if count_index or d.dims or d.buckets or d.yes_no or d.rank_by_count:
        d.measure = Measure("count", "count")
        d.note("count")
    else:
        d.measure = Measure("list", "list")


def _names_one_row(d: Draft, index: int) -> bool:
    """'the tonnage of the Aurora': a stored value of the label column of the measure's own
    table names rows one by one, so the column is shown for them, not totalled (a total
    would merge two vessels of one name into a number nobody has)."""
    measure = d.meaning(index)
    if measure is None or measure.kind != "column":
        return False
    label = label_column(d, measure.table)
    return any(m is not None and m.kind == "value" and not m.synonym and m.column == label
               for m in (d.meaning(i) for i in range(len(d.items))))


def _plain_measure(d: Draft, index: int) -> str | None:
    """The column of a measure item that is one column, not a formula."""
    term = d.term(index, "measure")
    if term is not None:
        return term.measure if _PLAIN_COLUMN.fullmatch(term.measure or "") else None
    meaning = d.meaning(index)
    return meaning.column if meaning is not None and meaning.kind == "column" else None


def agg_word(agg: str) -> str:
    return {"sum": "total", "avg": "average", "max": "maximum", "min": "minimum"}[agg]


def _measure_of(d: Draft, index: int, agg: str | None) -> Measure:
    term = d.term(index, "measure", "duration")
    meaning = d.meaning(index)
    assert meaning is not None
    if term is not None and term.start and term.end:
        kind = agg or "avg"
        cues = [i for i in range(len(d.items)) if d.cue(i, "duration", "unit")]
        named = [d.items[i].cue.arg for i in cues if d.cue(i, "unit")]  # type: ignore[union-attr]
        d.use(*cues)  # "how long ... take ..., in hours"
        unit = named[-1] if named else term.unit or "days"
        d.note("duration")
        return Measure(kind, f"{agg_word(kind)} {term.name} ({unit})",  # type: ignore[arg-type]
                       unit=unit, duration=(term.start, term.end))
    if term is not None and term.measure and not _PLAIN_COLUMN.fullmatch(term.measure):
        total = re.match(r"\s*(SUM|COUNT)\s*\(", term.measure, re.IGNORECASE)
        if agg is not None and agg != "avg" and not (agg == "sum" and total):
            raise Refusal(f"'{term.name}' is already a rate; I can't take its {agg_word(agg)}.")
        d.note("rate")
        return Measure("rate", term.name, term.measure, term.unit)
    expression = term.measure if term is not None else meaning.column
    kind = agg or "sum"
    d.note(agg_word(kind))
    label = term.name if term is not None else d.words(index)
    return Measure(kind, f"{agg_word(kind)} {label}", expression,  # type: ignore[arg-type]
                   term.unit if term is not None else None)
