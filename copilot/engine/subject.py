"""The reader's middle stages: what is counted or listed, what it is grouped by, and the
measure.

The subject is the table of a measure when one is named ("notional" -> trades); else the
population a ranking or a count comparison is about ("which books have the most fails" ->
settlements, grouped by book); else the first entity the question names; else the table
of its first condition or value. Everything else is reached from the subject: tables it
references by joins, tables that reference it by EXISTS. The measure stage itself is in
measure.py; `MIDDLE_STAGES` keeps the four in the reader's order.
"""

from __future__ import annotations

import re

from copilot.engine.draft import Ambiguous, Draft, Refusal
from copilot.engine.entity_columns import _dimension_column, label_column
from copilot.engine.lexicon import Meaning
from copilot.engine.measure import choose_measure
from copilot.engine.owners import NO_MEANING, own_column_first, owner_named_after
from copilot.engine.plan import Dimension
from copilot.engine.stages import _fix_column, _values_of, groupable, measure_like, population

__all__ = ["MIDDLE_STAGES"]


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


MIDDLE_STAGES = (choose_subject, resolve_values, resolve_dimensions, choose_measure)
