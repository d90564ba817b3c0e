"""A follow-up question read as an edit of the conversation's previous one.

The previous turn's whole question is read again (the reader is pure and fast) and split
into the parts a follow-up may edit (copilot/engine/followup_edits.py). The follow-up's own
words are read against the same lexicon and grammar and each becomes an edit: replace or
add a grouping; add, replace, exclude or remove a value; change the period or shift it ("the
week before"); change the measure; cut to the top N; sort; compare with another period;
list the rows behind one group; draw another chart. The edits are applied to the previous
question's words, which gives the whole question the follow-up stands for, and the reader
reads that like any question: a follow-up and the question it stands for give the same SQL
by construction, and that question is what the page shows and a saved widget keeps.

Right or refused: an edit the new plan does not show (the plan is unchanged, or the
grouping asked for is not in it) is refused, never dropped. A question that reads alone and
could also be an edit is a clarification with both readings.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Literal

from copilot.engine import followup_words as fw
from copilot.engine.conversation import Turn
from copilot.engine.followup_edits import Edit, NotAnEdit, Parts, apply_edits, edits_of, parts_of
from copilot.engine.followup_periods import bucket_period, compare, shift
from copilot.engine.interpret import plural
from copilot.engine.lattice import readings, uncovered
from copilot.engine.periods import format_period
from copilot.engine.plan import Dimension, QueryPlan
from copilot.engine.reader import ParseResult, Reader
from copilot.engine.text import tokenize

if TYPE_CHECKING:
    from copilot.engine.answer import Answer

__all__ = ["Composed", "compose", "describe", "drill_question"]

Kind = Literal["fresh", "edit", "clarify", "refused"]
_MONTHS = "|".join(calendar.month_name[1:])
_READINGS = 3  # readings of a follow-up tried, cheapest first


@dataclass(frozen=True)
class Composed:
    """How a question relates to the previous turn, and what it stands for."""

    kind: Kind
    stands_for: str = ""
    changes: tuple[str, ...] = ()
    reason: str = ""
    options: tuple[str, ...] = ()


def compose(reader: Reader, question: str, previous: Turn | None, as_of: date) -> Composed:
    """Whether `question` starts afresh, edits `previous` (and into which whole question),
    or is unclear; the chart it names is left to the caller (followup_words.split_chart)."""
    if previous is None or fw.AFRESH.match(question):
        return Composed("fresh", fw.AFRESH.sub("", question))
    chart, plain = fw.split_chart(" ".join(question.split()).rstrip(" ?.!"))
    marked, rest = fw.strip_markers(plain)
    marked = marked or bool(re.match(r"(?:excluding|except|without|not|but not)\b", rest,
                                     re.I) or fw.BACK.search(rest)) or (
        chart is not None and not _content(rest))
    if previous.status != "answered":
        return _after_no_answer(reader, question, marked, as_of)
    base_chart, base_text = fw.split_chart(previous.stands_for)
    base = reader.read(base_text, as_of)
    if base.status != "planned" or base.plan is None:  # answered by a pair or the LLM
        if marked:
            return Composed("refused", reason="I can only refine a question the copilot read "
                            "itself; ask the whole question.")
        return Composed("fresh", question)
    parts = parts_of(tokenize(base_text, as_of), base.items, plural(base.plan.entity))
    try:
        special = base_text if not _content(rest) and chart else _special(
            reader, rest, parts, base.plan, previous, as_of)
    except NotAnEdit as exc:
        return Composed("refused", reason=str(exc))
    alone = None if marked or special else reader.read(question, as_of)
    if alone is not None and _names_subject(reader, question):
        return Composed("fresh", question)
    try:
        text = special or _edited(reader, rest, parts, base.plan, as_of,
                                  adding=bool(fw.ADD.search(plain)))
        edited = reader.read(text, as_of)
        _check(edited, base, text, chart_changed=(chart or base_chart) != base_chart)
        chart = chart or base_chart
        if chart and chart != "table":
            text += f" as a {chart} chart"
    except NotAnEdit as exc:
        if alone is not None and alone.status in ("planned", "clarify"):
            # It reads alone but names nothing it counts ("the largest amount"): the last
            # question's filters would silently go; ask rather than drop them.
            return Composed("clarify", reason=f"{exc} Did you mean it as a new question?",
                            options=(f"afresh: {question}", *alone.options))
        return Composed("refused", reason=str(exc))
    assert edited.plan is not None
    if alone is not None and alone.status == "clarify":
        return Composed("clarify", reason="Is this a change to the last question, or a new "
                        "one? Pick one.", options=(text, *alone.options))
    if alone is not None and alone.status == "planned" and alone.tree is not None and \
            edited.tree is not None and alone.tree.sql() != edited.tree.sql():
        return Composed("clarify", reason="Is this a change to the last question, or a new "
                        "one? Pick one.", options=(text, f"afresh: {question}"))
    changes = describe(base.plan, edited.plan)
    if chart and chart != base_chart:
        changes = (*[c for c in changes if c != "drawn differently"],
                   "as a table" if chart == "table" else f"as a {chart} chart")
    return Composed("edit", text, changes)


def _content(rest: str) -> str:
    """What is left of a follow-up once pronouns and softeners go ("show it" -> "")."""
    return fw.PRONOUNS.sub(" ", re.sub(r"\b(?:show|draw|plot|display|make|put)\b", " ", rest,
                                       flags=re.I)).strip(" ,")


def _after_no_answer(reader: Reader, question: str, marked: bool, as_of: date) -> Composed:
    """The last question was refused or asked back: there is nothing to refine, and an
    older answer must not be refined in its place."""
    if not marked and _names_subject(reader, question):
        return Composed("fresh", question)
    reason = "The last question has no answer to refine"
    if not marked and reader.read(question, as_of).status == "planned":
        return Composed("clarify", reason=reason + "; did you mean this as a new question?",
                        options=(f"afresh: {question}",))
    return Composed("refused", reason=reason + "; ask the whole question.")


def _names_subject(reader: Reader, question: str) -> bool:
    """Whether a question names what it counts or lists ("settlements", "failed
    settlements"), so it stands alone, read or refused as itself; a bare value, or an
    entity it groups or sorts by ("by book"), does not."""
    tokens = tokenize(question)
    matches = reader.lexicon.match(tokens)
    if uncovered(tokens, matches):
        return any(m.meaning.kind == "entity" for m in matches)
    found = readings(tokens, matches)
    items = [i for i in found[0] if i.kind != "filler"] if found else []
    for k, item in enumerate(items):
        if item.kind != "lex" or item.meaning is None:
            continue
        before = items[k - 1].cue if k else None
        by = before is not None and before.kind in ("group", "order_by", "and")
        entity = item.meaning.kind == "entity" or (item.meaning.kind == "term" and any(
            m.meaning.kind == "entity" for m in reader.lexicon.match(tokenize(item.words))))
        if entity and not by:
            return True
    return False


def _special(reader: Reader, rest: str, parts: Parts, plan: QueryPlan, previous: Turn,
             as_of: date) -> str | None:
    """The edited question when the follow-up has one of the fixed forms: a drill, a
    comparison, a shifted period or a filter dropped; None when it has none."""
    return (_drill(reader, rest, parts, plan, previous) or compare(rest, parts, plan, as_of)
            or shift(rest, parts, plan, as_of) or _remove(reader, rest, parts, as_of)
            or _top(rest, parts))


def _top(rest: str, parts: Parts) -> str | None:
    """'the 3 biggest', 'first 5', 'limit to 3', 'bottom 2': the groups cut to N."""
    match = fw.TOP_N.match(rest) or fw.TOP_N.match(fw.LEAD_VERB.sub("", rest))
    if match is None:
        return None
    top = match.group("top") or match.group("top2") or match.group("top3")
    n = int(top or match.group("bottom") or match.group("bottom2"))
    return apply_edits(parts, [Edit("limit", f"{'top' if top else 'bottom'} {n}")])


def _edited(reader: Reader, rest: str, parts: Parts, plan: QueryPlan, as_of: date, *,
            adding: bool) -> str:
    """The previous question with the follow-up's edits made, word by word."""
    rest = fw.LEAVE_OUT.sub("excluding ", fw.LEAD_VERB.sub("", rest))
    rest = re.sub(r"(?<![a-z] )\b(" + _MONTHS + r")\b", r"in \1", rest, flags=re.I) \
        if not re.search(r"\b(?:in|for|of|during|since)\s+(?:" + _MONTHS + r")\b", rest,
                         re.I) else rest  # "October instead": the month of October
    words_text = " ".join(fw.PRONOUNS.sub(" ", fw.ADD.sub(" ", rest)).split())
    if not words_text:
        raise NotAnEdit("I can't tell what to change in the last question; say what: "
                         "'by book', 'only GBP', 'last week', 'top 5'.")
    follow_tokens = tokenize(words_text, as_of)
    matches = reader.lexicon.match(follow_tokens)
    unknown = uncovered(follow_tokens, matches)
    if unknown:
        raise NotAnEdit(f"I don't know what {', '.join(repr(u) for u in unknown)} means "
                         "here, so I won't guess. Rephrase, or train the copilot on it.")
    words = [t.original or t.text for t in follow_tokens]
    problems: list[str] = []
    for reading in readings(follow_tokens, matches)[:_READINGS]:
        edits = edits_of(reading, words, adding=adding)
        problem = _edit_problem(edits, plan)
        if problem:
            problems.append(problem)
            continue
        return apply_edits(parts, edits)
    raise NotAnEdit(problems[0] if problems else "I could not read the follow-up.")


def _edit_problem(edits: list[Edit], plan: QueryPlan) -> str:
    if not edits:
        return "I can't tell what to change in the last question."
    for edit in edits:
        if edit.kind == "entity" and edit.table != plan.table:
            return (f"'{edit.words}' is not what the last question counted; ask the whole "
                    "question.")
        if edit.kind == "other":
            return (f"I can't apply '{edit.words}' to the last question; ask the whole "
                    "question.")
    return ""


def _drill(reader: Reader, rest: str, parts: Parts, plan: QueryPlan,
           previous: Turn) -> str | None:
    """'list the rows behind MARKITWIRE', 'show the confirmations behind the largest',
    'list them' after a number."""
    match = fw.DRILL.match(rest) or fw.WHICH.match(rest) or fw.DRILL_INTO.match(rest)
    if match is None:
        return None
    found = match.groupdict()
    what = " ".join(fw.PRONOUNS.sub(" ", found.get("what") or "").split())
    target = (found.get("target") or "").strip()
    if what not in fw.DRILL_ROWS and not _is_entity(reader, what, plan.table):
        if target or not plan.dimensions or not _is_group_value(reader, what, plan):
            return None
        target = what  # "list the USD ones": the rows behind the USD group
    if plan.measure.kind == "list":
        raise NotAnEdit("The last answer already lists the rows.")
    if plan.versus is not None:
        raise NotAnEdit("I can list the rows of one period at a time; ask for that period.")
    drop = [parts.limit, parts.order, parts.listing]
    if not plan.dimensions:
        if target:
            raise NotAnEdit("The last answer has no groups to pick one from.")
        return parts.render(*parts.without(*drop, measure=True), prefix=["list"])
    if not target:
        if plan.limit:
            raise NotAnEdit("Which group? Click a bar or a row, or say 'the rows behind' one "
                            "of them.")
        # "list them" after a grouped answer: every row behind it.
        return parts.render(*parts.without(*drop, parts.group, measure=True), ["list"])
    values = list(previous.leader) if fw.LEADER.match(target) else [
        v.strip() for v in target.split(" / ")]
    if not values:
        raise NotAnEdit("The last answer has no first group to list the rows of.")
    dims = list(plan.dimensions)
    if len(values) != len(dims):
        if len(values) > 1:
            raise NotAnEdit(f"The last answer is grouped by {len(dims)} columns; name one "
                             "value, or one for each.")
        dims = [_dimension_of(reader, values[0], dims)]
    said = dict(zip([d.column for d in plan.dimensions], parts.group_words, strict=False)) \
        if len(parts.group_words) == len(plan.dimensions) else {}
    clauses = []
    for dim, value in zip(dims, values, strict=True):
        if dim.bucket == "age":
            raise NotAnEdit("I can't list the rows behind an age band; ask for the dates.")
        clauses.append(bucket_period(dim.bucket, value) if dim.bucket else
                       f"with {said.get(dim.column) or dim.column.split('.')[-1].replace('_', ' ')}"
                       f" {value}")
    dated = [parts.period] if any(d.bucket for d in dims) else []
    return parts.render(*parts.without(*drop, parts.group, *dated, measure=True), ["list"],
                        clauses)


def _is_group_value(reader: Reader, words: str, plan: QueryPlan) -> bool:
    columns = {m.meaning.column for m in reader.lexicon.match(tokenize(words))
               if m.meaning.kind in ("value", "id") and m.end - m.start == len(tokenize(words))}
    return any(d.column in columns for d in plan.dimensions)


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


def _is_entity(reader: Reader, words: str, table: str) -> bool:
    tokens = tokenize(words)
    return any(m.start == 0 and m.end == len(tokens) and m.meaning.kind == "entity"
               and m.meaning.table == table for m in reader.lexicon.match(tokens))


def _without(parts: Parts, spans: list[tuple[int, int]]) -> str:
    return parts.render(*parts.without(spans))


def _remove(reader: Reader, rest: str, parts: Parts, as_of: date) -> str | None:
    """'all currencies', 'drop the GBP filter', 'regardless of counterparty', and 'drop
    HSBC' when HSBC is what the last question kept (else it leaves HSBC out)."""
    leave = re.match(r"(?:drop|remove|ignore|take\s+out|forget|lose)\s+(?:the\s+)?(.+)$", rest,
                     re.I)
    if leave is not None:
        target = leave.group(1).lower()
        said = [span for span, _ in parts.values
                if target in " ".join(parts.words[span[0]:span[1]]).lower().split(" ", 1)[-1]
                or target == " ".join(parts.words[span[0]:span[1]]).lower()]
        if said:
            return _without(parts, said)
    match = fw.REMOVE.match(rest)
    if match is None or (not parts.values and not parts.terms):
        return None
    words = match.group("all") or match.group("filter") or match.group("regardless") or \
        match.group("named")
    tokens = tokenize(words, as_of)
    named: set[str] = set()
    tables: set[str] = set()
    for m in reader.lexicon.match(tokens):
        term = m.meaning.term
        for column in (m.meaning.column, term and term.dimension, term and term.measure):
            if column:
                named.update((column, column.split(".")[-1]))
        if m.meaning.kind == "entity":
            tables.add(m.meaning.table)
    spans = [span for span, columns in [*parts.values, *parts.terms]
             if any(c in named or c.split(".")[-1] in named or c.split(".")[0] in tables
                    for c in columns)]
    if not spans:
        if match.group("all") or match.group("named"):
            return None  # "for all platforms" may group, "drop HSBC" leave it out: word by word
        raise NotAnEdit(f"The last question has no filter on '{words}' to remove.")
    return _without(parts, spans)


def _check(edited: ParseResult, base: ParseResult, text: str, *, chart_changed: bool) -> None:
    """The edited question must read, and read differently from the last one."""
    if edited.status == "clarify":
        raise NotAnEdit(f"'{text}' can be read more than one way; ask it whole.")
    if edited.status != "planned" or edited.tree is None or base.tree is None:
        raise NotAnEdit(f"I read the follow-up as '{text}', which I can't answer: "
                         f"{edited.reason}")
    if edited.tree.sql() == base.tree.sql() and not chart_changed:
        raise NotAnEdit(f"I read the follow-up as '{text}', which asks the same as the "
                         "last question; say what to change.")


def describe(old: QueryPlan, new: QueryPlan) -> tuple[str, ...]:
    """What changed between two plans, in words: 'now grouped by book', 'GBP only'."""
    changes: list[str] = []
    if new.versus is not None and old.versus is None:
        changes.append(f"compared with {new.versus.names[1]}")
    if [d.label for d in new.dimensions] != [d.label for d in old.dimensions]:
        changes.append("now grouped by " + " and ".join(d.label for d in new.dimensions)
                       if new.dimensions else "no longer grouped")
    if new.measure != old.measure:
        changes.append({"list": "listing the rows", "count": "now counting"}.get(
            new.measure.kind, f"now the {new.measure.label}"))
    periodic = {_period_label(old), _period_label(new)}
    old_filters = {f.label for f in old.filters} - periodic
    new_filters = {f.label for f in new.filters} - periodic
    added, removed = sorted(new_filters - old_filters), sorted(old_filters - new_filters)
    for label in list(added):  # "ccy EUR instead of USD": one column, another value
        old_label = next((r for r in removed if " " in r and " " in label
                          and r.rsplit(" ", 1)[0] == label.rsplit(" ", 1)[0]), None)
        if old_label is not None:
            changes.append(f"{label} instead of {old_label.rsplit(' ', 1)[1]}")
            added.remove(label)
            removed.remove(old_label)
    for label in added:
        changes.append(f"excluding {label[4:]}" if label.startswith("not ") else
                       f"{label} only")
    for label in removed:
        changes.append(f"no longer excluding {label[4:]}" if label.startswith("not ") else
                       f"without {label}")
    if new.period != old.period and new.versus is None:
        changes.append(f"now {new.period.label} ({format_period(new.period)})"
                       if new.period else "over all dates")
    if new.limit != old.limit:
        bottom = bool(new.order) and not new.order[0].descending
        changes.append(f"{'bottom' if bottom else 'top'} {new.limit}" if new.limit
                       else "no longer cut")
    elif new.order != old.order and new.dimensions == old.dimensions:
        changes.append("sorted differently")
    return tuple(changes) or ("drawn differently",)


def _period_label(plan: QueryPlan) -> str:
    for f in plan.filters:
        if plan.period is not None and f.label.endswith(format_period(plan.period)):
            return f.label
        if plan.versus is not None and " or " in f.label:
            return f.label
    return ""


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
