"""The first stages of the reader: what the closed-class cues bind to.

Each stage is one small function over a draft; it uses the items it understands and raises
Refusal when a cue cannot attach ("above 75 thousand" with nothing to compare). Numbers
bind to rankings and comparisons, negations to the next item, lists and "vs" merge values
of one column, "by" marks what to group or rank by, and a superlative marks its target.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import sqlglot
from sqlglot import exp

from copilot.engine.draft import Comparison, Draft, Refusal, ValueGroup
from copilot.engine.lexicon import is_date, is_numeric
from copilot.engine.plan import Measure

__all__ = ["EARLY_STAGES", "groupable", "measure_like", "population"]


def groupable(d: Draft, i: int) -> bool:
    """An item one can group by: an entity, a dimension term, a column that is not a number."""
    meaning = d.meaning(i)
    if meaning is None:
        return False
    if meaning.kind == "entity":
        return True
    if meaning.kind == "term":
        return d.term(i, "dimension") is not None
    return meaning.kind == "column" and not _numeric_column(d, i)


def measure_like(d: Draft, i: int) -> bool:
    """A measure or duration term, or a numeric column."""
    return d.term(i, "measure", "duration") is not None or _numeric_column(d, i)


def population(d: Draft, i: int) -> bool:
    """Something that names rows: an entity, a condition term, a value or an ID."""
    meaning = d.meaning(i)
    return meaning is not None and (meaning.kind in ("entity", "value", "id", "upcoming")
                                    or d.term(i, "condition") is not None)


def _numeric_column(d: Draft, i: int) -> bool:
    meaning = d.meaning(i)
    if meaning is None or meaning.kind != "column" or not meaning.column:
        return False
    table, name = meaning.column.split(".")
    info = next(c for c in d.content.schema.table(table).columns if c.name == name)
    return is_numeric(info) and not info.primary_key and not name.lower().endswith("id")


def _date_column(d: Draft, i: int) -> bool:
    meaning = d.meaning(i)
    if meaning is None or meaning.kind != "column" or not meaning.column:
        return False
    table, name = meaning.column.split(".")
    return any(c.name == name and is_date(c) for c in d.content.schema.table(table).columns)


def bind_numbers(d: Draft) -> None:
    """Top N, N largest, comparisons (over 50m, between 1m and 5m, 10 or more, 5%)."""
    for i, item in enumerate(d.items):
        if item.kind != "number" or i in d.used or item.token is None:
            continue
        value = item.token.value or 0.0
        unit = item.token.unit
        early = d.cue(i - 2, "cmp")
        if early is not None and early.arg not in ("between", "older", "newer") \
                and _numeric_column(d, i - 1):
            # "singers above age 20" is "singers with age above 20": the column is named
            # between the comparison and its number.
            d.items[i - 2], d.items[i - 1] = d.items[i - 1], d.items[i - 2]
        after = d.cue(i + 1, "unit")
        if after is not None:
            unit = after.arg
            d.use(i + 1)
        before, nxt = d.cue(i - 1, "super", "cmp"), d.cue(i + 1 + (after is not None), "super")
        if before is not None and before.kind == "super":
            _limit(d, value, i - 1, before.arg == "desc")
            d.use(i, i - 1)
        elif nxt is not None and before is None:
            _limit(d, value, i + 1, nxt.arg == "desc")
            d.use(i, i + 1)
        elif before is not None and before.arg == "between":
            upper = i + 2 if d.cue(i + 1, "and") else -1
            if upper < 0 or d.items[upper].kind != "number" or d.items[upper].token is None:
                raise Refusal(f"'between {item.words}' needs a second number ('between 1m and "
                              "5m').")
            top = d.items[upper].token.value or 0.0  # type: ignore[union-attr]
            unit = unit or d.items[upper].token.unit  # type: ignore[union-attr]
            if d.cue(upper + 1, "unit"):
                unit = d.cue(upper + 1, "unit").arg  # type: ignore[union-attr]
                d.use(upper + 1)
            d.comparisons.append(Comparison(i, "between", min(value, top), max(value, top),
                                            unit, f"between {item.words} and "
                                            f"{d.words(upper)}", end=upper))
            d.use(i - 1, i, i + 1, upper)
        elif before is not None:
            op = {"older": ">", "newer": "<"}.get(before.arg, before.arg)
            if before.arg in ("older", "newer") and unit not in ("days", "hours"):
                raise Refusal(f"'{d.words(i - 1)} {item.words}' needs a number of days.")
            d.comparisons.append(Comparison(i, op, value, None, unit,
                                            f"{d.words(i - 1)} {item.words}"))
            d.use(i - 1, i)
        elif (post := d.cue(i + 1 + (after is not None), "cmp")) and post.arg in (">=", "<="):
            d.comparisons.append(Comparison(i, post.arg, value, None, unit,
                                            f"{item.words} {d.words(i + 1)}"))
            d.use(i, i + 1 + (after is not None))
        elif (later := next((k for k in range(i + 1, len(d.items)) if d.cue(k, "super")
                             and k not in d.used), None)) is not None:
            # "which five pending payments have the highest amounts": top 5.
            _limit(d, value, later, d.items[later].cue.arg == "desc")  # type: ignore[union-attr]
            d.use(i, later)
        else:
            raise Refusal(f"I don't know what the number {item.words} refers to here; say "
                          "'top 5', 'over 5m' or 'more than 10'.")


def _limit(d: Draft, value: float, cue_index: int, descending: bool) -> None:
    if d.superlative is not None or not value.is_integer() or value < 1:
        raise Refusal("I can read one ranking with a whole number ('top 5'), not more.")
    d.limit = int(value)
    d.superlative = (cue_index, descending)


def bind_superlative(d: Draft) -> None:
    """'most', 'largest', 'top' without a number: the first one (LIMIT 1)."""
    for i, item in enumerate(d.items):
        if item.cue is not None and item.cue.kind == "super" and i not in d.used:
            if d.superlative is not None:
                raise Refusal("I can read one ranking per question; ask for one at a time.")
            d.superlative = (i, item.cue.arg == "desc")
            follows = [k for k in range(i + 1, len(d.items)) if d.cue(k, "order")
                       and d.items[k].cue.arg == "first"]  # type: ignore[union-attr]
            d.limit = None if follows else 1  # "largest notional first" sorts, keeps all
            d.use(i, *follows)


def bind_negation(d: Draft) -> None:
    """'not', 'no', 'without', 'except', 'excluding', 'other than' negate the next item."""
    for i, item in enumerate(d.items):
        if item.cue is None or item.cue.kind != "neg":
            continue
        target = i + 1
        if d.meaning(target) is None:
            raise Refusal(f"'{item.words}' must be followed by what it excludes.")
        d.negated.add(target)
        d.use(i)


def _value_columns(d: Draft, i: int) -> set[str]:
    """The columns item `i` may be a value of (a stored value, or a simple condition)."""
    meaning = d.meaning(i)
    if meaning is not None and meaning.kind in ("value", "id"):
        return {m.column for m in d.candidates(i) if m.column}
    term = d.term(i, "condition")
    column = _simple_column(term.condition) if term and term.condition else None
    return {column} if column else set()


@lru_cache(maxsize=4096)
def _parsed(sql: str) -> exp.Expression:
    """A glossary condition parsed once; callers only read the tree."""
    return sqlglot.parse_one(sql)


@lru_cache(maxsize=4096)  # the same glossary condition is looked at by every reading
def _simple_column(condition: str) -> str | None:
    """The column of `t.c = 'X'` or `t.c IN (...)`, the only conditions a list may merge."""
    node = _parsed(condition)
    if isinstance(node, exp.EQ | exp.In) and isinstance(node.this, exp.Column):
        literals = node.expressions if isinstance(node, exp.In) else [node.expression]
        if all(isinstance(x, exp.Literal) and x.is_string for x in literals):
            return f"{node.this.table}.{node.this.name}"
    return None


def _fix_column(d: Draft, i: int, column: str) -> None:
    """Keep the meaning of item `i` on `column`, the others as alternatives."""
    meanings = d.candidates(i)
    if len(meanings) > 1:
        chosen = next((m for m in meanings if m.column == column), meanings[0])
        others = tuple(m for m in meanings if m is not chosen)
        d.items[i] = replace(d.items[i], meaning=chosen, alternatives=others)


def _values_of(d: Draft, i: int) -> list[str]:
    meaning = d.meaning(i)
    if meaning is not None and meaning.kind in ("value", "id"):
        return list(meaning.values)
    term = d.term(i, "condition")
    node = _parsed(term.condition or "")  # type: ignore[union-attr]
    literals = node.expressions if isinstance(node, exp.In) else [node.expression]
    return [x.this for x in literals]


def bind_lists(d: Draft) -> None:
    """'HSBC or Citi', 'EUR, GBP and JPY' (IN); 'cleared vs bilateral' (a breakdown);
    'fails or breaks' (OR of conditions)."""
    i = 0
    while i < len(d.items):
        columns = _value_columns(d, i)
        if not columns:
            i += 1
            continue
        run, j, kinds = [i], i + 1, set()
        while (cue := d.cue(j, "and", "or", "vs")) is not None and \
                columns & _value_columns(d, j + 1):
            columns &= _value_columns(d, j + 1)
            kinds.add(cue.kind)
            run.append(j + 1)
            j += 2
        if len(run) > 1:
            if "vs" in kinds and kinds - {"vs", "and"}:
                raise Refusal("I can't mix 'vs' with 'or' in one list; ask it another way.")
            if run[0] in d.negated:
                d.negated.update(run)
            column = sorted(columns)[0]  # the subject settles which, in resolve_values
            for k in run:
                _fix_column(d, k, column)
            values = [v for k in run for v in _values_of(d, k)]
            d.groups.append(ValueGroup(run, column, list(dict.fromkeys(values)),
                                       versus="vs" in kinds, columns=sorted(columns)))
            d.use(*range(run[0], run[-1] + 1))
            d.note("versus" if "vs" in kinds else "disjunction")
        i = j
    for i, item in enumerate(d.items):  # OR between conditions of different columns
        if item.cue is not None and item.cue.kind == "or" and i not in d.used:
            if population(d, i - 1) and population(d, i + 1) and d.meaning(i - 1).kind != "entity" \
                    and d.meaning(i + 1).kind != "entity":  # type: ignore[union-attr]
                d.or_groups.append([i - 1, i + 1])
                d.use(i)
                d.note("disjunction")
            else:
                raise Refusal("I can only read 'or' between values or conditions ('HSBC or "
                              "Citi', 'fails or breaks').")
        elif item.cue is not None and item.cue.kind == "vs" and i not in d.used and not (
                0 < i < len(d.items) - 1 and d.items[i - 1].kind == d.items[i + 1].kind
                == "period"):  # "this month vs last month": bind_period compares them
            raise Refusal("'vs' compares two values of one column ('cleared vs bilateral'); "
                          "I can't tell what is compared here.")


def bind_grouping(d: Draft) -> None:
    """'by X and Y', 'per X', 'for each X'; 'by <measure>' ranks; buckets; age bands;
    'sorted by X'; ascending, newest first."""
    for i, item in enumerate(d.items):
        cue = item.cue
        if cue is None or i in d.used:
            continue
        if cue.kind in ("group", "order_by"):
            j = i + 1
            if d.cue(j, "count") or (d.meaning(j) and d.meaning(j).kind == "entity"  # type: ignore[union-attr]
                                     and d.cue(j + 1, "count")):
                d.rank_by_count = True  # "by number of fails", "by trade count"
                d.rank_count_at = j
                d.use(i, j if d.cue(j, "count") else j + 1)
                continue
            if cue.kind == "group" and item.words == "by" and d.meaning(j) is not None \
                    and d.meaning(j).kind in ("value", "id"):  # type: ignore[union-attr]
                d.use(i)  # "booked by A. Patel": who did it, a filter
                continue
            if cue.kind == "group" and item.words in ("each", "every") and population(d, j) \
                    and not groupable(d, j):
                d.use(i)  # "the amount of each failed settlement": every row, listed
                continue
            if cue.kind == "group" and j >= len(d.items) and (d.groups or d.group_items):
                d.use(i)  # "London vs New York: how many live trades each?"
                continue
            taken = False
            while j < len(d.items):
                if cue.kind == "group" and groupable(d, j) and j not in d.used:
                    d.group_items.append(j)
                elif measure_like(d, j) and cue.kind == "order_by" and j not in d.used:
                    d.order_items.append(j)  # "sorted by notional"
                elif measure_like(d, j) and d.rank_by is None and j not in d.used:
                    d.rank_by = j
                elif cue.kind == "order_by" and j not in d.used and (groupable(d, j) or (
                        d.meaning(j) and d.meaning(j).kind == "date_word")):  # type: ignore[union-attr]
                    d.order_items.append(j)
                elif d.cue(j, "agg") and measure_like(d, j + 1):
                    j += 1  # "by total amount": the measure's aggregate is read later
                    continue
                elif population(d, j) and d.meaning(j).kind != "entity" and measure_like(  # type: ignore[union-attr]
                        d, j + 1) and d.rank_by is None:
                    j += 1  # "by failed amount": the condition stays a filter
                    continue
                elif d.cue(j, "bucket", "age") and cue.kind == "group":
                    j += 1
                    taken = True
                    break
                else:
                    break
                d.use(j)
                taken = True
                if not d.cue(j + 1, "and"):
                    break
                d.use(j + 1)
                j += 2
            if not taken:
                raise Refusal(f"'{item.words}' must be followed by what to group or sort by.")
            d.use(i)
            d.note("grouping" if cue.kind == "group" else "ordering")
        elif cue.kind == "bucket":
            d.buckets.append((i, cue.arg))
            d.use(i)
            d.note("time bucket")
        elif cue.kind == "age":
            d.buckets.append((i, "age"))
            d.use(i)
            d.note("age bands")
        elif cue.kind == "order" and cue.arg in ("newest", "oldest") and _date_column(d, i + 1):
            column = d.meaning(i + 1).column or ""  # type: ignore[union-attr]
            kind = "max" if cue.arg == "newest" else "min"
            d.measure = Measure(kind, f"{item.words} {d.words(i + 1)}", column)  # "latest
            d.use(i, i + 1)  # maturity date": the date itself, not a sorted list
            d.note(kind)
        elif cue.kind == "order":
            d.order_items.append(i)
            d.use(i)
            d.note("ordering")


def consume_list_words(d: Draft) -> None:
    """'show', 'list', 'give me': a list is what a question without a measure returns."""
    d.use(*[i for i in range(len(d.items)) if d.cue(i, "list")])


EARLY_STAGES = (consume_list_words, bind_numbers, bind_superlative, bind_negation, bind_lists,
                bind_grouping)
