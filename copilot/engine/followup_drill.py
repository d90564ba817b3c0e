"""Drill-down follow-ups: the rows behind one group of a grouped answer ("list the
confirmations behind MARKITWIRE", "show the rows behind the largest", "which are the high
priority netting break ones?", a click on a bar or a row), or behind a number ("list
them"). The previous question loses its grouping, measure, ranking and sort, and gains a
condition on each group value named (a day, week or month of a time series becomes that
period), which gives a whole question that lists rows.
"""

from __future__ import annotations

import calendar
import re
from datetime import timedelta
from typing import TYPE_CHECKING

import sqlglot
from sqlglot import exp

from copilot.engine import followup_words as fw
from copilot.engine.followup_edits import NotAnEdit
from copilot.engine.followup_parts import Parts
from copilot.engine.followup_periods import bucket_period
from copilot.engine.interpret import plural
from copilot.engine.lattice import readings, uncovered
from copilot.engine.plan import Dimension, QueryPlan
from copilot.engine.reader import Reader
from copilot.engine.text import lemma, tokenize
from copilot.values import Turn
from training.glossary import Term

if TYPE_CHECKING:
    from copilot.values import Answer

__all__ = ["drill", "drill_question", "entity_names"]


def drill(reader: Reader, rest: str, parts: Parts, plan: QueryPlan,
           previous: Turn) -> str | None:
    """'list the rows behind MARKITWIRE', 'show the confirmations behind the largest',
    'list them' after a number."""
    match = fw.DRILL.match(rest) or fw.WHICH.match(rest) or fw.DRILL_INTO.match(rest) or \
        fw.BEHIND.match(rest)
    if match is None:
        return None
    found = match.groupdict()
    what = " ".join(fw.PRONOUNS.sub(" ", found.get("what") or "").split())
    target = (found.get("target") or "").strip()
    if fw.POINTER.fullmatch(target):
        target = ""  # "the CDS trades in there": the rows of the last answer
    number = fw.THE_NUMBER.match(target)
    if number is not None:  # "behind that number": the rows counted; "the LCH number": LCH's
        target = (number.group("value") or "") if plan.dimensions else ""
    named: dict[str, str] = {}
    if what not in fw.DRILL_ROWS and not _is_entity(reader, what, plan.table, parts):
        named = _group_values(reader, what, plan) if plan.dimensions and not target else {}
        if not named:
            return None  # "show the GBP trades": not rows behind a group; read word by word
    if plan.measure.kind == "list":
        raise NotAnEdit("The last answer already lists the rows.")
    if plan.versus is not None:
        raise NotAnEdit("I can list the rows of one period at a time; ask for that period.")
    drop = [parts.limit, parts.order, parts.listing]
    if not plan.dimensions:
        if target:
            raise NotAnEdit("The last answer has no groups to pick one from.")
        return parts.render(*parts.without(*drop, measure=True), prefix=["list"])
    if not target and not named:
        if plan.limit:
            raise NotAnEdit("Which group? Click a bar or a row, or say 'the rows behind' one "
                            "of them.")
        # "list them" after a grouped answer: every row behind it.
        return parts.render(*parts.without(*drop, parts.group, measure=True), ["list"])
    if not named:
        named = _target_values(reader, target, plan, previous)
    said = dict(zip([d.column for d in plan.dimensions], parts.group_words, strict=False)) \
        if len(parts.group_words) == len(plan.dimensions) else {}
    clauses = []
    dims = [d for d in plan.dimensions if d.column in named]
    for dim in dims:
        if dim.bucket == "age":
            raise NotAnEdit("I can't list the rows behind an age band; ask for the dates.")
        words = said.get(dim.column) or dim.column.split(".")[-1].replace("_", " ")
        clauses.append(bucket_period(dim.bucket, named[dim.column]) if dim.bucket else
                       f"with {words} {named[dim.column]}")
    dated = [parts.period] if any(d.bucket for d in dims) else []
    return parts.render(*parts.without(*drop, parts.group, *dated, measure=True), ["list"],
                        clauses)


def _target_values(reader: Reader, target: str, plan: QueryPlan,
                   previous: Turn) -> dict[str, str]:
    """The group a drill names, as column -> value: the first group ('the largest'), one
    value per grouping ('RATES / USD'), or one value whose grouping the lexicon knows."""
    values = list(previous.leader) if fw.LEADER.match(target) else [
        v.strip() for v in target.split(" / ")]
    if not values:
        raise NotAnEdit("The last answer has no first group to list the rows of.")
    dims = list(plan.dimensions)
    daily = [d for d in dims if d.bucket == "day"]
    if len(values) == 1 and daily and (day := _day_of(values[0], plan)) is not None:
        return {daily[0].column: day}  # "the rows for the 14th" of a daily series
    if len(values) == len(dims):
        return {d.column: v for d, v in zip(dims, values, strict=True)}
    if len(values) > 1:
        raise NotAnEdit(f"The last answer is grouped by {len(dims)} columns; name one "
                        "value, or one for each.")
    return {_dimension_of(reader, values[0], dims).column: values[0]}


_MONTH = {m.lower(): i for i, m in enumerate(calendar.month_name) if m} | {
    m.lower(): i for i, m in enumerate(calendar.month_abbr) if m}


def _day_of(words: str, plan: QueryPlan) -> str | None:
    """The day a drill names in a daily answer: '2026-11-03', 'the 14th', '3 Nov',
    'November 3rd', within the last question's period; None when it is not one day."""
    text = words.strip().lower().removeprefix("the ")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return text
    match = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?(?:\s+(?:of\s+)?([a-z]+))?|([a-z]+)\s+"
                         r"(\d{1,2})(?:st|nd|rd|th)?", text)
    period = plan.period
    if match is None or period is None or period.start is None or period.end is None:
        return None
    day = int(match.group(1) or match.group(4))
    month = _MONTH.get((match.group(2) or match.group(3) or "").rstrip("."))
    if (match.group(2) or match.group(3)) and month is None:
        return None
    found = []
    for offset in range((period.end - period.start).days + 1):
        candidate = period.start + timedelta(days=offset)
        if candidate.day == day and month in (None, candidate.month):
            found.append(candidate.isoformat())
    return found[0] if len(found) == 1 else None


def _group_values(reader: Reader, words: str, plan: QueryPlan) -> dict[str, str]:
    """'the high priority netting break ones': a value of each of some of the groupings,
    as column -> value; {} when the words are anything else."""
    tokens = tokenize(words)
    matches = reader.lexicon.match(tokens)
    if not tokens or uncovered(tokens, matches):
        return {}
    grouped = {d.column for d in plan.dimensions if d.bucket is None}
    for reading in readings(tokens, matches)[:3]:
        found: dict[str, str] = {}
        for item in (i for i in reading if i.kind != "filler"):
            meanings = [m for m in (item.meaning, *item.alternatives) if m is not None]
            said = " ".join(t.original or t.text for t in tokens[item.start:item.end])
            columns = {m.column for m in meanings if m.kind in ("value", "id")} & grouped
            kept = _kept_value(item.meaning.term) if item.meaning is not None and \
                item.meaning.term is not None else None
            if len(columns) == 1 and not columns & set(found):
                found[columns.pop()] = said
            elif kept is not None and kept[0] in grouped and kept[0] not in found:
                found[kept[0]] = said  # "high priority": a term that keeps one value
            elif not any((m.kind == "column" and m.column in grouped) or (
                    m.kind == "entity" and m.table == plan.table) for m in meanings):
                found = {}  # not a group's value, its column, or the rows' own name
                break
        if found:
            return found
    return {}


def _kept_value(term: Term) -> tuple[str, str] | None:
    """(table.column, value) when a term's condition keeps one value of one column."""
    try:
        node = sqlglot.condition(term.condition or "")
    except sqlglot.errors.ParseError:
        return None
    if isinstance(node, exp.EQ) and isinstance(node.this, exp.Column) and \
            isinstance(node.expression, exp.Literal):
        return f"{node.this.table or term.table}.{node.this.name}", node.expression.name
    return None


def _dimension_of(reader: Reader, value: str, dims: list[Dimension]) -> Dimension:
    """Which grouping a value named alone belongs to ("MARKITWIRE": the platform)."""
    if len(dims) == 1:
        return dims[0]
    columns = {m.meaning.column for m in reader.lexicon.match(tokenize(value))
               if m.meaning.kind in ("value", "id")}
    found = [d for d in dims if d.column in columns and d.bucket is None]
    if len(found) != 1:
        raise NotAnEdit(f"I can't tell which grouping '{value}' belongs to; name a value for "
                         "each.")
    return found[0]


def _is_entity(reader: Reader, words: str, table: str, parts: Parts) -> bool:
    """Whether `words` only name the rows the last question counted: the entity
    ("confirmations"), a word of its name ("the sets" of netting sets), or words the last
    question already said of them ("the fails" behind a question about fails)."""
    tokens = tokenize(words)
    if any(m.start == 0 and m.end == len(tokens) and m.meaning.kind == "entity"
           and m.meaning.table == table for m in reader.lexicon.match(tokens)):
        return True
    names = entity_names(reader, table)
    said = {lemma(w.lower()) for w in parts.words}
    return bool(tokens) and all(t.lemma in names or t.lemma in said for t in tokens)


def entity_names(reader: Reader, table: str) -> frozenset[str]:
    """The lemmas of the words that name `table`'s rows (its entity's name and synonyms)."""
    entity = reader.lexicon.entities.get(table)
    return frozenset(lemma(w) for n in ((entity.name, *entity.synonyms) if entity else ())
                     for w in n.lower().split())


def drill_question(answer: Answer, row: int | None) -> str | None:
    """The follow-up that lists the rows behind one group of a grouped answer (`row`), or
    behind a number answer (None); None when there is nothing to drill into."""
    plan = answer.plan
    if answer.status != "answered" or plan is None or plan.measure.kind == "list" or \
            plan.versus is not None:
        return None
    entity = plural(plan.entity)
    if row is None:
        return f"list the {entity}" if not plan.dimensions else None
    if not plan.dimensions or any(d.bucket == "age" for d in plan.dimensions) or \
            not 0 <= row < len(answer.rows):
        return None
    values = answer.rows[row][:len(plan.dimensions)]
    if any(v is None or not str(v).strip() or " / " in str(v) for v in values):
        return None
    return f"list the {entity} behind {' / '.join(str(v) for v in values)}"
