"""A follow-up question read as an edit of the conversation's previous one.

The previous turn's whole question is read again (the reader is pure and fast) and split
into the parts a follow-up may edit (copilot/engine/followup_parts.py). The follow-up's own
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
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Literal

from copilot.engine import followup_words as fw
from copilot.engine.followup_checks import describe, first_reading
from copilot.engine.followup_drill import drill, drill_question, entity_names
from copilot.engine.followup_edits import Edit, NotAnEdit, apply_edits, edits_of
from copilot.engine.followup_parts import Parts, parts_of
from copilot.engine.followup_periods import compare, shift
from copilot.engine.interpret import plural
from copilot.engine.lattice import readings, uncovered
from copilot.engine.plan import QueryPlan
from copilot.engine.reader import Reader
from copilot.engine.text import tokenize
from copilot.values import Turn

if TYPE_CHECKING:
    pass

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
    chart, plain = fw.split_chart(fw.TRAILING.sub("", " ".join(question.split())).rstrip(
        " ?.!"))
    marked, rest = fw.strip_markers(plain)
    swap = fw.SWAP.match(rest)
    marked = marked or bool(fw.LEAVE_OUT.match(rest) or fw.BACK.search(rest) or swap) or (
        chart is not None and not _content(rest))
    named = _named_tables(reader, rest)
    if previous.status != "answered":
        return _after_no_answer(reader, question, marked, named, as_of)
    base_chart, base_text = fw.split_chart(fw.AFRESH.sub("", previous.stands_for))
    base = reader.read(base_text, as_of)
    if base.status != "planned" or base.plan is None:  # answered by a pair or the LLM
        if marked:
            return Composed("refused", reason="I can only refine a question the copilot read "
                            "itself; ask the whole question.")
        return Composed("fresh", question)
    parts = parts_of(tokenize(base_text, as_of), base.items, plural(base.plan.entity),
                     entity_names(reader, base.plan.table))
    try:
        if swap is not None:
            rest = _swapped(swap, base_text)
        special, form = (base_text, "chart") if not _content(rest) and chart else _special(
            reader, rest, parts, base.plan, previous, as_of)
    except NotAnEdit as exc:
        return Composed("refused", reason=str(exc))
    if not special and not marked and (named or _measured_tables(reader, rest) - {
            base.plan.table}):
        return Composed("fresh", question)  # it names what it counts: a question of its own
    alone = None if marked or special else reader.read(question, as_of)
    try:
        adding = bool(fw.ADD.search(plain) or fw.SPLIT.search(plain)) and not re.search(
            r"\b(?:instead|rather|now)\b", plain, re.I)
        texts, kinds = ((special,), frozenset({form})) if special else _edited(
            reader, rest, parts, base.plan, as_of, adding=adding)
        text, edited = first_reading(reader, texts, base, kinds, as_of,
                                      same_ok=(chart or base_chart) != base_chart)
        chart = chart or base_chart
        if chart and chart != "table":
            text += f" as a {chart} chart"
    except NotAnEdit as exc:
        if named - {base.plan.table}:
            return Composed("fresh", question)  # "and how many counterparties in Germany?"
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
        changes = (*[c for c in changes if c != "as before"],
                   "as a table" if chart == "table" else f"as a {chart} chart")
    return Composed("edit", text, changes)


def _content(rest: str) -> str:
    """What is left of a follow-up once pronouns and softeners go ("show it" -> "")."""
    return fw.PRONOUNS.sub(" ", re.sub(r"\b(?:show|draw|plot|display|make|put)\b", " ", rest,
                                       flags=re.I)).strip(" ,")


def _swapped(swap: re.Match[str], base_text: str) -> str:
    """'swap hedge funds for asset managers': the new value, once the old is in the last
    question (a value read where the old one was, by its column)."""
    old = swap.group("old").lower()
    if not any(word in base_text.lower() for word in old.split() if len(word) > 2):
        raise NotAnEdit(f"The last question has no '{swap.group('old')}' to swap.")
    return swap.group("new")


def _after_no_answer(reader: Reader, question: str, marked: bool, named: set[str],
                     as_of: date) -> Composed:
    """The last question was refused or asked back: there is nothing to refine, and an
    older answer must not be refined in its place."""
    if named:
        return Composed("fresh", question)
    reason = "The last question has no answer to refine"
    if not marked and reader.read(question, as_of).status == "planned":
        return Composed("clarify", reason=reason + "; did you mean this as a new question?",
                        options=(f"afresh: {question}",))
    return Composed("refused", reason=reason + "; ask the whole question.")


def _named_tables(reader: Reader, question: str) -> set[str]:
    """The tables whose rows a question names as what it counts or lists ("settlements",
    "failed settlements"); not an entity it groups or sorts by ("by book"), not a bare
    value. A question that names them stands alone."""
    tokens = tokenize(" ".join(fw.PRONOUNS.sub(" ", fw.ADD.sub(" ", question)).split()))
    matches = reader.lexicon.match(tokens)
    if uncovered(tokens, matches):
        return {m.meaning.table for m in matches if m.meaning.kind == "entity" and not (
            m.start and tokens[m.start - 1].text in ("by", "per", "each", "across"))}
    found = readings(tokens, matches)
    items = [i for i in found[0] if i.kind != "filler"] if found else []
    tables: set[str] = set()
    for k, item in enumerate(items):
        if item.kind != "lex" or item.meaning is None:
            continue
        before = items[k - 1].cue if k else None
        if before is not None and before.kind in ("group", "order_by", "and"):
            continue
        if item.meaning.kind == "entity":
            tables.add(item.meaning.table)
        elif item.meaning.kind == "term" and any(
                m.meaning.kind == "entity" for m in reader.lexicon.match(tokenize(item.words))):
            tables.add(item.meaning.table)  # "failed settlements": a term naming its rows
    return tables


def _measured_tables(reader: Reader, question: str) -> set[str]:
    """The tables of the measures a question names ("the fail rate": settlements)."""
    return {m.meaning.table for m in reader.lexicon.match(tokenize(question))
            if m.meaning.term is not None and m.meaning.term.kind in ("measure", "duration")}


def _special(reader: Reader, rest: str, parts: Parts, plan: QueryPlan, previous: Turn,
             as_of: date) -> tuple[str | None, str]:
    """The edited question and its form when the follow-up has one of the fixed forms: a
    drill, a comparison, a shifted period, a filter dropped or a cut to N; (None, "")."""
    forms = (("drill", lambda: drill(reader, rest, parts, plan, previous)),
             ("compare", lambda: compare(rest, parts, plan, as_of)),
             ("shift", lambda: shift(rest, parts, plan, as_of)),
             ("remove", lambda: _remove(reader, rest, parts, as_of)),
             ("top", lambda: _top(rest, parts)))
    for form, edit in forms:
        text = edit()
        if text is not None:
            return text, form
    return None, ""


def _top(rest: str, parts: Parts) -> str | None:
    """'the 3 biggest', 'first 5', 'limit to 3', 'bottom 2': the groups cut to N."""
    match = fw.TOP_N.match(rest) or fw.TOP_N.match(fw.LEAD_VERB.sub("", rest))
    if match is None:
        return None
    top = match.group("top") or match.group("top2") or match.group("top3") or \
        match.group("top4")
    said = (top or match.group("bottom") or match.group("bottom2") or
            match.group("bottom3")).lower()
    n = fw.NUMBERS.get(said) or int(said)
    return apply_edits(parts, [Edit("limit", f"{'top' if top else 'bottom'} {n}")])


def _edited(reader: Reader, rest: str, parts: Parts, plan: QueryPlan, as_of: date, *,
            adding: bool) -> tuple[tuple[str, ...], frozenset[str]]:
    """The previous question with the follow-up's edits made, word by word."""
    if re.match(r"add\s", rest, re.I):  # "add currency as well": one more grouping
        rest, adding = re.sub(r"^add\s+(?:in\s+|a\s+(?:split|breakdown)\s+)?(?:by\s+)?",
                              "by ", rest, flags=re.I), True
    rest = fw.LEAVE_OUT.sub("excluding ", fw.LEAD_VERB.sub("", rest))
    # "the average notional rather than the total": what it replaces goes without saying.
    rest = re.sub(r"[\s,]+(?:rather\s+than|instead\s+of)\s+.*$", "", rest, flags=re.I)
    rest = fw.SORT_LEAD.sub("sorted " if re.match(r"(?:sort|order|rank|arrange)\b.*?\bby\b",
                                                  rest, re.I) else "", rest)
    rest = re.sub(r"^sorted\s+(?:it\s+|them\s+)?(?=by\b)", "sorted ", rest)
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
        edits = [_with_measure(reader, e, parts, plan) for e in
                 edits_of(reading, words, adding=adding)
                 if not (e.kind == "entity" and not e.counted
                         and _describes(reader, e.table, plan))]
        problem = _edit_problem(edits, plan)
        if problem:
            problems.append(problem)
            continue
        texts = tuple(dict.fromkeys(apply_edits(parts, edits, early=early)
                                    for early in (False, True)))
        return texts, frozenset(e.kind for e in edits)
    raise NotAnEdit(problems[0] if problems else "I could not read the follow-up.")


def _describes(reader: Reader, table: str, plan: QueryPlan) -> bool:
    """Whether naming `table` only says which rows a value is about: the groups ("EMEA
    books only") or a table the counted rows belong to ("just cleared deals" of fails,
    "only for the London entity")."""
    relation = reader.graph.relation(plan.table, table)
    return table in {d.column.split(".")[0] for d in plan.dimensions} or (
        relation is not None and relation[0] == "up" and table != plan.table)


def _with_measure(reader: Reader, edit: Edit, parts: Parts, plan: QueryPlan) -> Edit:
    """'the average instead': an average of what the last question measured, else of the
    rows' own measure in the glossary."""
    if edit.kind != "measure" or not edit.bare:
        return edit
    noun = " ".join(" ".join(parts.words[a:b]) for a, b in parts.measure_terms).removesuffix(
        " of")
    if not noun:
        noun = next((t.name for t in reader.content.glossary.terms if t.kind == "measure"
                     and (t.table or (t.measure or "").split(".")[0]) == plan.table), "")
    if not noun:
        raise NotAnEdit(f"'{edit.words}' of what? Name the amount.")
    return replace(edit, words=f"{edit.words} {noun}", bare=False)


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


def _without(parts: Parts, spans: list[tuple[int, int]]) -> str:
    return parts.render(*parts.without(spans))


def _remove(reader: Reader, rest: str, parts: Parts, as_of: date) -> str | None:
    """'all currencies', 'drop the GBP filter', 'regardless of counterparty', and 'drop
    HSBC' when HSBC is what the last question kept (else it leaves HSBC out)."""
    leave = re.match(r"(?:drop|remove|ignore|take\s+out|forget|lose)\s+(?:the\s+)?(.+)$", rest,
                     re.I)
    back = re.match(r"(?:include|add\s+back|put\s+back|bring\s+back|re-?include|put|bring|add)"
                    r"\s+(?:the\s+)?(.+?)(?:\s+(?:again|back|too|back\s+in))+$|(?:include|"
                    r"re-?include)\s+(?:the\s+)?(.+?)$", rest, re.I)
    for found, kept in ((leave, True), (back, False)):
        if found is None:
            continue
        # "drop HSBC" of a question kept to HSBC, "include sanctions hold again" of one that
        # left it out: that condition goes.
        target = (found.group(1) or found.group(found.lastindex or 1)).lower()
        said = [span for span, _ in parts.values
                if target in " ".join(parts.words[span[0]:span[1]]).lower()
                and (parts.words[span[0]].lower() in ("with", "for", "in", "on")
                     or not _negated(parts, span)) == kept]
        if said:
            return _without(parts, said)
    not_just = fw.NOT_JUST.search(rest) or fw.OR_NOT.match(rest)
    if not_just is not None:  # "all statuses, not just open", "assigned or not"
        target = not_just.group("x").lower()
        spans = [span for span, _ in [*parts.values, *parts.terms]
                 if target in " ".join(parts.words[span[0]:span[1]]).lower()]
        if not spans:
            raise NotAnEdit(f"The last question has no '{not_just.group('x')}' to widen.")
        return _without(parts, spans)
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


def _negated(parts: Parts, span: tuple[int, int]) -> bool:
    return bool(fw.LEAVE_OUT.match(" ".join(parts.words[span[0]:span[1]]))) or \
        parts.words[span[0]].lower() in ("not", "excluding", "except", "without")
