"""The reader's last stages: shares, superlatives and order, projection, every word used,
and the plan.

A share is the percentage of the population meeting the conditions named after its linking
word ("what percentage of trades are cleared"). A superlative with groups orders them by
the measure; without, it ranks rows by the measure named or the entity's default one. A
list returns the columns the question names after the entity's identifying column.
"""

from __future__ import annotations

import re

from copilot.engine.conditions import condition_of, period_column, place
from copilot.engine.draft import Draft, Refusal
from copilot.engine.entity_columns import default_measure, label_column
from copilot.engine.plan import Dimension, Exists, Measure, Order, QueryPlan
from copilot.engine.text import lemma

__all__ = ["FINAL_STAGES", "SHARE_STAGES", "to_plan"]

_PLAIN = re.compile(r"\w+\.\w+")
LINKS = frozenset({"are", "is", "were", "was", "that", "which", "who", "have", "has", "had",
                   "be", "being"})


def bind_share(d: Draft) -> None:
    """'what percentage of trades are cleared': 100 * cleared / all trades."""
    cues = [i for i in range(len(d.items)) if d.cue(i, "share") and i not in d.used]
    if not cues:
        return
    at = d.items[cues[0]].start
    link = next((p for p in d.links if p > at), None)
    subject_at = next((d.items[i].start for i in range(len(d.items)) if d.meaning(i)
                       and d.meaning(i).kind == "entity"  # type: ignore[union-attr]
                       and d.meaning(i).table == d.subject), None)  # type: ignore[union-attr]
    after = link if link is not None else subject_at
    chosen = [i for i in range(len(d.items)) if i not in d.used and d.items[i].kind == "lex"
              and after is not None and d.items[i].start > after
              and (d.meaning(i).kind in ("value", "id")  # type: ignore[union-attr]
                   or d.term(i, "condition") is not None)]
    if not chosen and link is None and subject_at is not None:
        # "percentage of manual confirmations": the part named before the rows counted.
        chosen = [i for i in range(len(d.items)) if i not in d.used
                  and d.items[i].kind == "lex" and at < d.items[i].start < subject_at
                  and (d.meaning(i).kind in ("value", "id")  # type: ignore[union-attr]
                       or d.term(i, "condition") is not None)]
    if not chosen:
        raise Refusal("A share needs the population and the part of it: 'what percentage "
                      "of trades are cleared'.")
    saved_filters, saved_exists = d.filters, d.exists
    d.filters, d.exists = [], {}
    for i in chosen:
        table, condition = condition_of(d, i)
        place(d, table, condition, negated=i in d.negated)
        d.negation_applied.add(i)
        d.use(i)
    if d.exists:
        raise Refusal("I can only take a share of conditions on the rows counted.")
    numerator = tuple(d.filters)
    d.filters, d.exists = saved_filters, saved_exists
    d.use(*cues)
    label = " and ".join(f.label for f in numerator)
    d.measure = Measure("share", f"% {label}", unit="percent", numerator=numerator)
    d.note("share")


def bind_buckets(d: Draft) -> None:
    """Daily, weekly, monthly, a trend (daily up to two months, else monthly), age bands."""
    for _, bucket in d.buckets:
        column = d.period_column or _date_of(d)
        if bucket == "auto":
            period = d.period
            span = (period.end - period.start).days if period and period.start and \
                period.end else 999
            bucket = "day" if span <= 62 else "month"
        if bucket == "age":
            column = dict(d.content.glossary.age_columns).get(d.subject or "") or column
            d.dims.append(Dimension(column, "age band", "age"))
        else:
            d.dims.append(Dimension(column, bucket, bucket))  # type: ignore[arg-type]
        d.order.append(Order(column, descending=False))  # a series reads in time order


def bind_order(d: Draft) -> None:
    """Superlatives, 'sorted by', ascending/descending, newest/oldest first."""
    measure = d.measure
    assert measure is not None and d.subject is not None
    direction: bool | None = None
    for i in d.order_items:
        cue = d.items[i].cue
        if cue is None:
            meaning = d.meaning(i)
            column = meaning.column if meaning and meaning.kind == "column" else None
            measure_term = d.term(i, "measure")
            if measure_term is not None and measure.kind not in ("list",):
                d.order.append(Order("measure", descending=True))  # "sorted by amount": the total
                continue
            if measure_term is not None and _PLAIN.fullmatch(measure_term.measure or ""):
                column = measure_term.measure
                d.order.append(Order(column or "", descending=True))
                if measure.kind == "list":
                    d.list_columns.append(column or "")
                continue
            if meaning is not None and meaning.kind == "entity":
                column = label_column(d, meaning.table)
            if meaning is not None and meaning.kind == "date_word":
                column = meaning.column  # "in order of onboarding"
            term = d.term(i, "dimension")
            column = term.dimension if term is not None else column
            if column is None:
                raise Refusal(f"I can't sort by '{d.words(i)}'.")
            d.order.append(Order(column, descending=False))
        elif cue.arg in ("asc", "desc"):
            direction = cue.arg == "desc"
        elif cue.arg in ("newest", "oldest") and d.order and d.order[-1].key != "measure":
            # "in order of onboarding, oldest first": the direction of the sort named.
            d.order[-1] = Order(d.order[-1].key, descending=cue.arg == "newest")
        elif cue.arg in ("newest", "oldest"):
            column = d.period_column or _date_of(d)
            d.order.append(Order(column, descending=cue.arg == "newest"))
            named = d.items[i + 1] if i + 1 < len(d.items) else None
            if named is not None and named.kind == "lex" and d.limit is None and \
                    " first" not in d.words(i) and _singular(named.words):
                d.limit = 1  # "the most recent fail": one; "the latest fails": all, in order
        elif cue.arg == "first" and not any(
                d.cue(k, "order") and d.items[k].cue.arg != "first"  # type: ignore[union-attr]
                for k in range(len(d.items))):
            raise Refusal("'first' needs what comes first: 'largest first', 'newest first'.")
        elif cue.arg == "alpha":
            column = d.dims[0].column if d.dims else label_column(d, d.subject)
            d.order.append(Order(column, descending=False))
    if d.rank_by is not None and measure.kind == "list":
        meaning = d.meaning(d.rank_by)
        term = d.term(d.rank_by, "measure")
        column = term.measure if term is not None else (meaning.column if meaning else None)
        d.order.insert(0, Order(column or "", descending=True))
    if d.superlative is not None:
        descending = d.superlative[1]
        if measure.kind == "list" and not d.order:
            column = _rank_column(d)
            d.order.append(Order(column, descending))
            d.list_columns.append(column)
        elif measure.kind != "list" and not d.dims:
            raise Refusal("'largest' of what? Name what to rank ('which desk has the most "
                          "fails').")
        elif measure.kind != "list":
            d.order.insert(0, Order("measure", descending))
        d.note("ranking" if d.limit == 1 else "top n" if d.limit else "ordering")
    if direction is not None:
        if not d.order:
            d.order.append(Order("measure" if measure.kind != "list" else _rank_column(d),
                                 direction))
        d.order = [Order(o.key, direction) for o in d.order]
    if not d.order and d.dims:
        d.order.append(Order("measure", True))
    if d.limit is not None and not d.order:
        raise Refusal("'top' needs something to rank by.")
    if d.rank_by_count and not d.dims:
        raise Refusal("Ranking by a count needs groups to rank ('top 5 desks by number of "
                      "fails').")


def _singular(words: str) -> bool:
    last = words.split()[-1]
    return lemma(last) == last and not last.endswith("s")


def _rank_column(d: Draft) -> str:
    if d.measure_item is not None:
        term = d.term(d.measure_item, "measure")
        meaning = d.meaning(d.measure_item)
        if term is not None and term.measure and "(" not in term.measure:
            return term.measure
        if meaning is not None and meaning.column:
            return meaning.column
    column = default_measure(d, d.subject or "")
    if column is None:
        raise Refusal(f"'{'largest' if d.superlative else 'top'}' {d.entity(d.subject or '').name}s"
                      " by what? Name the amount to rank by.")
    d.doubts.append("default measure")
    return column


def _date_of(d: Draft) -> str:
    column = period_column(d, d.subject or "")
    if column is not None:
        return column
    raise Refusal("'newest' by which date? Name it, or set period_columns in the glossary.")


def bind_projection(d: Draft) -> None:
    """Columns a list names are the columns returned; 'which banks had fails' lists the
    banks (the rows its first value is about), each once."""
    first = next((i for i in range(len(d.items)) if d.items[i].kind == "lex"), None)
    opening = d.question.strip().split()[:1]
    if d.measure is not None and d.measure.kind == "list" and \
            first is not None and opening and opening[0].lower() in ("which", "what") and \
            d.meaning(first).kind == "value":  # type: ignore[union-attr]
        table = d.meaning(first).table  # type: ignore[union-attr]
        if (d.graph.relation(d.subject or "", table) or ("", 0))[0] == "up":
            d.list_columns.append(label_column(d, table))
            d.subject_named = False  # what is asked for is the banks, not their cash flows
    for i in d.free("column", "term"):
        meaning = d.meaning(i)
        term = d.term(i, "dimension")
        column = term.dimension if term is not None else (meaning.column if meaning else None)
        if column is None or (meaning and meaning.kind == "term" and term is None):
            continue
        if d.measure is not None and d.measure.kind == "list":
            name = column.split(".")[1]
            own = d.content.schema.table(d.subject or "").column_names
            place_column = f"{d.subject}.{name}" if term is not None and name in own else column
            relation = d.graph.relation(d.subject or "", place_column.split(".")[0])
            if relation is None or relation[0] == "down":
                raise Refusal(f"'{d.words(i)}' is not a single value of each "
                              f"{d.entity(d.subject or '').name}.")
            d.cost += relation[1]  # a column of the rows listed before one of a joined table
            d.list_columns.append(place_column)
            d.use(i)
            d.note("projection")


def check_every_word(d: Draft) -> None:
    for i in range(len(d.items)):
        if d.cue(i, "and"):
            d.use(i)  # conditions are joined by AND anyway; commas only separate
        elif d.cue(i, "cmp") and d.items[i + 1:i + 2] and d.items[i + 1].kind == "period" \
                and d.words(i) in ("over", "within"):
            d.use(i)  # "over the next 7 days": the period says when
    meant = {d.items[k].meaning for k in d.used if d.items[k].meaning is not None}
    for i in range(len(d.items)):
        if i not in d.used and d.items[i].meaning in meant and i not in d.negated:
            d.use(i)  # "notional exposure": two words for one thing already read
    for i in sorted(d.negated - d.negation_applied):
        raise Refusal(f"I can't apply 'not' to '{d.words(i)}' here; ask it another way.")
    left = [d.words(i) for i in range(len(d.items)) if i not in d.used]
    if left:
        raise Refusal("I don't know what to do with " + ", ".join(f"'{w}'" for w in left)
                      + " here, so I won't guess. Rephrase, or train the copilot on it.")


def to_plan(d: Draft) -> QueryPlan:
    assert d.subject is not None and d.measure is not None
    entity = d.entity(d.subject)
    list_columns = tuple(dict.fromkeys(d.list_columns))
    if d.measure.kind == "list":
        identity = [f"{d.subject}.{c}" for c in entity.list_columns] or [
            label_column(d, d.subject)]
        named = [c for c in list_columns if c not in identity]
        if named and not d.subject_named and all(c.split(".")[0] != d.subject for c in named):
            identity = []  # "desks with fails": the desks, each once
        elif named:  # the columns a question names, after what identifies each row
            identity = identity[:1]
        list_columns = tuple(dict.fromkeys([*identity, *named, *list_columns]))
    order = tuple(dict.fromkeys(d.order))
    if d.measure.kind == "list":  # a list shows what it is sorted by
        list_columns = tuple(dict.fromkeys(
            [*list_columns, *[o.key for o in order if o.key != "measure"]]))
    exists = tuple(Exists(t, d.entity(t).name, tuple(f), negated)
                   for t, (f, negated) in d.exists.items())
    return QueryPlan(
        table=d.subject, entity=entity.name, measure=d.measure, dimensions=tuple(d.dims),
        filters=tuple(d.filters), exists=exists, having=tuple(d.having),
        list_columns=list_columns if d.measure.kind == "list" else (),
        order=order, limit=d.limit, period=d.period, period_column=d.period_column,
        versus=d.versus,
        constructs=tuple(d.constructs),
    )


SHARE_STAGES = (bind_share,)
FINAL_STAGES = (bind_buckets, bind_order, bind_projection, check_every_word)
