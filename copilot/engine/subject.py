"""The reader's middle stages: what is counted or listed, what it is grouped by, and the
measure.

The subject is the table of a measure when one is named ("notional" -> trades); else the
population a ranking or a count comparison is about ("which books have the most fails" ->
settlements, grouped by book); else the first entity the question names; else the table
of its first condition or value. Everything else is reached from the subject: tables it
references by joins, tables that reference it by EXISTS.
"""

from __future__ import annotations

import re

from copilot.engine.draft import Ambiguous, Draft, Refusal
from copilot.engine.lexicon import Meaning, is_date, is_numeric
from copilot.engine.owners import NO_MEANING, own_column_first, owner_named_after
from copilot.engine.plan import Dimension, Measure
from copilot.engine.stages import _fix_column, _values_of, groupable, measure_like, population

__all__ = ["MIDDLE_STAGES", "default_measure", "label_column"]

_PLAIN_COLUMN = re.compile(r"\w+\.\w+")


def label_column(d: Draft, table: str) -> str:
    """The column that names one row of `table` when grouping or ranking by it."""
    entity = d.entity(table)
    if entity.label:
        return entity.label if "." in entity.label else f"{table}.{entity.label}"
    if entity.list_columns:
        return f"{table}.{entity.list_columns[0]}"
    for term in d.content.glossary.terms:
        if term.dimension and term.dimension.split(".")[0] == table:
            return term.dimension
    info = d.content.schema.table(table)
    named = [c for c in info.columns if not is_numeric(c) and not is_date(c)
             and not c.primary_key and "name" in c.name.lower()]
    key = info.primary_key[0] if info.primary_key else info.columns[0].name
    return f"{table}.{named[0].name if named else key}"


def default_measure(d: Draft, table: str) -> str | None:
    """What 'how much', 'biggest' and 'above 5m' mean for rows of `table`."""
    entity = d.entity(table)
    if entity.measure:
        return entity.measure if "." in entity.measure else f"{table}.{entity.measure}"
    for term in d.content.glossary.terms:
        if term.table == table and term.measure and _PLAIN_COLUMN.fullmatch(term.measure):
            return term.measure
    return None


def _table_of(d: Draft, i: int) -> str:
    meaning = d.meaning(i)
    assert meaning is not None
    term = d.term(i)
    if term is not None and term.dimension:
        return term.dimension.split(".")[0]
    return meaning.table


def _ranked_target(d: Draft) -> int | None:
    """The item a superlative or a count comparison is about ('most <fails>')."""
    if d.superlative is not None:
        index = d.superlative[0] + 1
        while d.items[index:index + 1] and (
                (index in d.used and d.items[index].kind == "number") or d.cue(index, "count")):
            index += 1  # "top 5", "the highest number of rejections"
        return index if index < len(d.items) else None
    for comparison in d.comparisons:
        target = comparison.index + 1
        token = d.items[comparison.index].token
        plain = token is not None and re.fullmatch(r"[\d,]+|[a-z ]+", token.text)
        if comparison.unit is None and plain and population(d, target) and not measure_like(
                d, comparison.index - 2):
            return target  # "with more than 10 fails"; "at least 2m" is an amount
    return None


def choose_subject(d: Draft) -> None:
    owner_named_after(d)
    measures = [i for i in range(len(d.items)) if measure_like(d, i) and i not in d.used]
    if d.rank_by is not None:
        measures.insert(0, d.rank_by)
    target = _ranked_target(d)
    counted = [i for i in range(max(d.rank_count_at, 0), len(d.items)) if population(d, i)
               and i not in d.used] if d.rank_by_count else []
    # "how many cities have a population over 1m": what follows "how many" is counted,
    # whatever the measure names.
    named_count = next((i + 1 for i in range(len(d.items) - 1) if d.cue(i, "count")
                        and i not in d.used and (d.meaning(i + 1) or NO_MEANING).kind == "entity"
                        and i + 1 not in d.negated), None)
    if counted:
        d.subject = _table_of(d, counted[0])  # "top 5 clients by number of live trades"
    elif named_count is not None and not d.rank_by_count and d.superlative is None:
        d.subject = _table_of(d, named_count)
    elif d.measure is not None and d.measure.expression:
        d.subject = d.measure.expression.split(".")[0]  # "latest maturity date": trades
    elif measures:
        d.subject = _table_of(d, measures[0])  # the rows a named measure is about
    elif target is not None and population(d, target):
        table = _table_of(d, target)
        others = [i for i in range(len(d.items)) if i != target and i not in d.used
                  and groupable(d, i) and not (d.meaning(i).kind == "entity"  # type: ignore[union-attr]
                                                and _table_of(d, i) == table)]
        d.subject = table
        if d.group_items:
            pass  # "per counterparty" already says what is grouped
        elif others and d.superlative is not None:
            d.group_items.insert(0, others[0])  # "which books have the most fails"
            d.use(others[0])
        elif others and d.comparisons:
            d.group_items.insert(0, others[0])  # "counterparties with more than 10 fails"
            d.use(others[0])
            d.note("having")
    if d.subject is None and d.yes_no:
        # "do high risk clients have rejected payments?": what they have is counted.
        have = next((p for p in d.possessions), None)
        after = [i for i in range(len(d.items)) if have is not None and i not in d.used
                 and d.items[i].start > have and population(d, i)]
        if after:
            d.subject = _table_of(d, sorted(after, key=lambda i: d.term(i) is None
                                            and d.meaning(i).kind != "entity")[0])  # type: ignore[union-attr]
    if d.subject is None:
        # "HSBC's fails", "clients' payments": what comes after the possessive is counted.
        entities = [i for i in d.free("entity") if d.items[i].end not in d.possessives
                    and i not in d.negated]  # "clients with no payments": not the payments
        # A glossary condition names a population ("fails"); a value only narrows one.
        conditions = sorted((i for i in range(len(d.items)) if population(d, i)
                             and i not in d.used), key=lambda i: (
                                 d.items[i].end in d.possessives, d.term(i) is None))
        dated = d.free("date_word")
        first = next((i for i in conditions if d.term(i, "condition")), None)
        if entities and first is not None and first < entities[0] and (
                d.graph.relation(_table_of(d, first), _table_of(d, entities[0]))
                or ("", 0))[0] == "up":
            d.subject = _table_of(d, first)  # "aged breaks on trades above 50m": breaks
        elif entities:
            d.subject = _table_of(d, entities[0])
        elif conditions and d.term(conditions[0]) is None and dated:
            d.subject = _table_of(d, dated[0])  # "what we've traded with UBS": trades
        elif conditions:
            tables = {m.table for m in d.candidates(conditions[0])}
            if len(tables) > 1:  # "how many in EUR today": EUR of what?
                raise Ambiguous(conditions[0], tuple(
                    next(m for m in d.candidates(conditions[0]) if m.table == t)
                    for t in sorted(tables)))
            d.subject = _table_of(d, conditions[0])
        elif measures:
            d.subject = _table_of(d, measures[0])
        elif d.groups:
            d.subject = d.groups[0].column.split(".")[0]  # "cleared vs bilateral"
    if d.subject is not None and d.superlative is not None and not d.group_items:
        # "top 3 traders by notional", "the desk with the highest live notional": what is
        # ranked is the thing one can group by, other than the rows counted themselves.
        ranked = [i for i in range(len(d.items)) if i not in d.used and groupable(d, i)
                  and (d.meaning(i).kind != "entity"  # type: ignore[union-attr]
                       or _table_of(d, i) != d.subject)]
        if ranked and _column_of_the_rows(d, ranked[0]):
            pass  # "the name of the stadium with the highest capacity": rows ranked, not groups
        elif ranked:
            d.group_items.insert(0, ranked[0])
            d.use(ranked[0])
        elif measures:
            # "the hedge fund with the most notional": the value names what is ranked.
            at = d.superlative[0]
            # ... unless the rows themselves are named: "the 5 EUR loans with the highest fee"
            # ranks loans; EUR only says which.
            rows_named = any(_is_entity_of(d, i, d.subject) for i in range(at))
            named = [] if rows_named else [
                i for i in range(at) if i not in d.used and d.meaning(i) is not None
                and d.meaning(i).kind == "value"  # type: ignore[union-attr]
                and _table_of(d, i) != d.subject
                and (d.graph.relation(d.subject, _table_of(d, i)) or ("", 0))[0] == "up"]
            if named:
                table = _table_of(d, named[0])
                d.dims.append(Dimension(label_column(d, table), d.entity(table).name))
    if d.subject is None:
        names = sorted({e.name for e in d.lexicon.entities.values()})[:6]
        raise Refusal("I can't tell what to count or list: name one of "
                      f"{', '.join(names)}.")
    for i in d.free("entity"):
        if _table_of(d, i) == d.subject and i not in d.negated:
            d.use(i)  # the subject's own name
            d.subject_named = True
    own_column_first(d)


def _is_entity_of(d: Draft, i: int, table: str) -> bool:
    meaning = d.meaning(i)
    return meaning is not None and meaning.kind == "entity" and meaning.table == table


def _column_of_the_rows(d: Draft, i: int) -> bool:
    """'the name of the stadium ...': a column of the subject's own table, followed by the
    subject's name, asks for that column of the rows themselves, not a group of them."""
    j = i + 1
    while j < len(d.items) and j in d.used and d.items[j].kind == "number":
        j += 1  # "the names of the 2 stadiums with ...": the 2 is the ranking's
    meaning, after = d.meaning(i), d.meaning(j)
    return (meaning is not None and meaning.kind == "column" and meaning.table == d.subject
            and after is not None and after.kind == "entity" and after.table == d.subject)


def _nearness(d: Draft, table: str) -> int | None:
    """How far `table` is from the subject: itself, up n joins, down (EXISTS) costs more."""
    relation = d.graph.relation(d.subject or "", table)
    if relation is None:
        return None
    return {"self": 0, "up": relation[1], "down": 3 * relation[1]}[relation[0]]


def _nearest(d: Draft, index: int, meanings: tuple[Meaning, ...]) -> Meaning:
    ranked = sorted((n, k) for k, m in enumerate(meanings)
                    if (n := _nearness(d, m.table)) is not None)
    if not ranked:
        return meanings[0]  # nothing relates: the filter stage says so
    tied = [meanings[k] for n, k in ranked if n == ranked[0][0]]
    if len({m.table for m in tied}) > 1:
        raise Ambiguous(index, tuple(tied))
    return meanings[ranked[0][1]]


def resolve_values(d: Draft) -> None:
    """Each stored value on the column nearest the subject ("EUR settlements": their own
    currency); two equally near on different tables is a question to ask."""
    grouped: set[int] = set()
    for group in d.groups:
        grouped.update(group.indices)
        if len(group.columns) > 1:
            first = d.candidates(group.indices[0])
            options = tuple(m for m in first if m.column in group.columns)
            column = _nearest(d, group.indices[0], options).column or group.column
            group.column = column
            for k in group.indices:
                _fix_column(d, k, column)
            group.values = list(dict.fromkeys(v for k in group.indices for v in _values_of(d, k)))
    for i, item in enumerate(d.items):
        if item.alternatives and i not in grouped:
            # "with desk Rates": the column named just before a value says which it is.
            # (Not when it only names the same column of another table: "currency".)
            named = _column_named(d, i - 1)
            nearest = _nearest(d, i, d.candidates(i))
            chosen = next((m for m in d.candidates(i) if named and m.column == named), None)
            if chosen is not None and named and (nearest.column or ".").split(".")[1] != \
                    named.split(".")[1]:
                d.choose(i, chosen)
                d.use(i - 1)
                continue
            d.choose(i, nearest)


def _column_named(d: Draft, k: int) -> str | None:
    """The column an unused column word or dimension term at item k names."""
    meaning = d.meaning(k)
    if meaning is None or k in d.used:
        return None
    term = d.term(k, "dimension")
    return term.dimension if term is not None else (
        meaning.column if meaning.kind == "column" else None)


def resolve_dimensions(d: Draft) -> None:
    for i in list(d.group_items):
        meaning = d.meaning(i)
        if meaning is not None and meaning.kind == "entity" and meaning.table == d.subject:
            d.group_items.remove(i)  # "max net amount across netting sets": the rows themselves
    for i in d.group_items:
        column = _dimension_column(d, i)
        meaning = d.meaning(i)
        label = meaning.label if meaning and meaning.kind != "column" else d.words(i)
        d.dims.append(Dimension(column, label))
    versus = [g for g in d.groups if g.versus]
    for group in versus:
        d.dims.append(Dimension(group.column, group.column.split(".")[1].replace("_", " ")))
    for dim in d.dims:
        relation = d.graph.relation(d.subject or "", dim.column.split(".")[0])
        if relation is None or relation[0] == "down":
            raise Refusal(f"I can't group {d.entity(d.subject or '').name}s by {dim.label}: "
                          "each one has many of those.")
        d.cost += relation[1]


def _dimension_column(d: Draft, i: int) -> str:
    meaning = d.meaning(i)
    assert meaning is not None and d.subject is not None
    term = d.term(i, "dimension")
    if term is not None and term.dimension:
        name = term.dimension.split(".")[1]
        if name in d.content.schema.table(d.subject).column_names:
            return f"{d.subject}.{name}"  # "currency" of settlements is their own currency
        return term.dimension
    if meaning.kind == "entity":
        return label_column(d, meaning.table)
    return meaning.column or ""


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


MIDDLE_STAGES = (choose_subject, resolve_values, resolve_dimensions, choose_measure)
