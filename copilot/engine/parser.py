"""Question -> query plan, with no LLM: the words are read against the trained lexicon.

Every word must be accounted for: used by the plan, or a known filler word. A question that
asks to change data, or holds a meaningful word the training does not explain, is refused
with a reason and the closest known phrases as suggestions: a bank would rather have a
refusal than a confident wrong number.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace
from datetime import date

from copilot.engine.lexicon import Lexicon, Match, Meaning, normalise, tokens
from copilot.engine.periods import Period
from copilot.engine.plan import Comparison, Dimension, Filter, Measure, QueryPlan
from copilot.engine.reading import MARKER, Reading, read_numbers, read_period
from copilot.engine.vocabulary import (
    AGE_BANDS,
    AVG,
    BY,
    COUNT,
    DAILY,
    DISTINCT,
    FILLER,
    LIST,
    MAX,
    MAX_QUESTION_CHARS,
    MIN,
    MONTHLY,
    SUM,
    WRITE_START,
)
from training.glossary import Glossary, Term, resolve_as_of
from training.profiles import ProfileContent

__all__ = ["ParseResult", "parse_question"]

@dataclass(frozen=True)
class ParseResult:
    """A plan, or a refusal with its reason and suggestions; the words left unused."""

    plan: QueryPlan | None
    reason: str = ""
    suggestions: tuple[str, ...] = ()
    unused: tuple[str, ...] = ()
    confidence: float = 0.0
    final: bool = False  # a refusal no other reader may overturn (empty, too long, a write)


def _has(words: list[str], phrases: set[str]) -> bool:
    joined = f" {' '.join(words)} "
    return any(f" {p} " in joined for p in phrases)


def _refuse(reason: str, suggestions: tuple[str, ...] = (), unused: tuple[str, ...] = (),
            *, final: bool = False) -> ParseResult:
    return ParseResult(None, reason, suggestions, unused, 0.0, final)


def parse_question(question: str, content: ProfileContent, lexicon: Lexicon,
                   as_of: date) -> ParseResult:
    """Read `question` against the profile's lexicon into a plan, or refuse."""
    if not question or not question.strip():
        return _refuse(f"The question is empty; ask about {_things(content)}.", final=True)
    if len(question) > MAX_QUESTION_CHARS:
        return _refuse(f"The question is longer than {MAX_QUESTION_CHARS} characters; ask one "
                       "thing at a time.", final=True)
    text = normalise(question)
    if WRITE_START.search(text) or re.search(r"\b(delete|drop|truncate|insert|update)\b", text):
        # Final when it opens with the verb ("delete all cancelled trades"): an order to
        # change data. A word in the middle ("trades with an update") may be a question.
        return _refuse("The copilot only reads the warehouse; it cannot change, delete or "
                       "create data. Ask a question about the data instead.",
                       final=bool(WRITE_START.search(text)))
    if re.search(r"\bor\b", text):
        return _refuse("I can't combine conditions with 'or' yet, and reading it as 'and' "
                       "would give a wrong number; ask for each one separately.")
    negation = re.search(r"\b(?:with|having|had|have|has)\s+no\b|\bwithout\b", text)
    if negation:
        return _parse_absence(question, text, negation, content, lexicon, as_of)
    state = Reading(text=text)
    period = read_period(state, as_of)
    read_numbers(state)
    matches = lexicon.match(state.text, original=question)
    words = tokens(state.text)
    unused = _unused(words, matches)
    if unused:
        return _refuse(
            f"I don't know what {', '.join(repr(u) for u in unused)} means here, so I won't "
            "guess. Rephrase with words from the glossary, or train the copilot on them.",
            _suggest(unused, lexicon), tuple(unused))
    if not matches:
        return _refuse(f"The question names nothing I was trained on; ask about "
                       f"{_things(content)}.")
    return _plan(question, words, matches, state, period, content, as_of)


def _parse_absence(question: str, text: str, negation: re.Match[str], content: ProfileContent,
                   lexicon: Lexicon, as_of: date) -> ParseResult:
    """'counterparties with no trades this year': the rows of the first part that have no
    row of the second (NOT EXISTS)."""
    head = parse_question(question[:negation.start()], content, lexicon, as_of)
    tail = parse_question(question[negation.end():], content, lexicon, as_of)
    for part in (head, tail):
        if part.plan is None:
            return part
    assert head.plan is not None and tail.plan is not None
    if head.plan.table == tail.plan.table:
        return _refuse("Both sides of 'with no' are the same table; ask it another way.")
    plan = replace(head.plan, absent=tail.plan)
    return ParseResult(plan, confidence=min(head.confidence, tail.confidence))


def _things(content: ProfileContent) -> str:
    """The entities the profile knows, for messages: 'trades, settlements or exceptions'."""
    names = [f"{e.name}s" for e in content.glossary.entities] or [
        t.name for t in content.schema.tables]
    return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else "".join(names)


def _unused(words: list[str], matches: list[Match]) -> list[str]:
    covered = {i for m in matches for i in range(m.start, m.end)}
    known = FILLER | {w for group in (COUNT, SUM, AVG, MAX, MIN, LIST, BY, DAILY,
                                       MONTHLY, AGE_BANDS, DISTINCT)
                                       for p in group for w in p.split()}
    return [w for i, w in enumerate(words)
            if i not in covered and w not in known and not MARKER.fullmatch(w)]


def _suggest(unused: list[str], lexicon: Lexicon) -> tuple[str, ...]:
    phrases = [" ".join(k) for k in lexicon.phrases if len(k) <= 3]
    found: list[str] = []
    for word in unused:
        found.extend(difflib.get_close_matches(word, phrases, n=3, cutoff=0.75))
    return tuple(dict.fromkeys(found))[:5]


def _pick(meanings: tuple[Meaning, ...], kind: str, table: str | None) -> Meaning | None:
    """The meaning of `kind`, preferring one on `table` (a column or value of the entity)."""
    options = [m for m in meanings if m.kind == kind]
    for meaning in options:
        if table and (meaning.column or "").split(".")[0] == table:
            return meaning
    return options[0] if options else None


def _readable(sql: str) -> str:
    """'settlements.status = \'FAILED\'' -> "status FAILED" for interpretation sentences."""
    text = re.sub(r"\b\w+\.(\w+)", r"\1", sql)
    text = re.sub(r"\s*=\s*'([^']*)'", r" \1", text)
    return text.replace("'", "").replace("_", " ")


def _by_context(words: list[str], matches: list[Match]) -> list[bool]:
    """For each match, whether it follows 'by' / 'per' / 'for each' (directly or after 'and'
    or a filter term): the things to group, or rank, by."""
    flags: list[bool] = []
    in_by = False
    previous_end = 0
    for match in matches:
        gap = words[previous_end:match.start]
        joined = f" {' '.join(gap)} "
        if any(w in {"by", "per", "across"} for w in gap) or " for each " in joined:
            in_by = True
        elif gap and not all(w in {"and", "&"} for w in gap):
            in_by = False
        flags.append(in_by)
        previous_end = match.end
    return flags


def _groups(match: Match) -> bool:
    """Whether a match after 'by' is something to group or rank by (not a filter)."""
    meaning = match.best
    if meaning.kind == "term" and meaning.term:
        return bool(meaning.term.dimension or meaning.term.measure)
    return meaning.kind in {"entity", "column"}


def _plan(question: str, words: list[str], matches: list[Match], state: Reading,
          period: Period | None, content: ProfileContent, as_of: date) -> ParseResult:
    glossary = content.glossary
    flags = _by_context(words, matches)
    by_matches = [m for m, f in zip(matches, flags, strict=True) if f and _groups(m)]
    body = [m for m, f in zip(matches, flags, strict=True) if not (f and _groups(m))]
    by_measures = [m.best.term for m in by_matches if m.best.kind == "term" and m.best.term
                   and m.best.term.measure]
    compared = _comparison_targets(state, matches, words)
    terms = [m.best.term for m in body if m.best.kind == "term" and m.best.term]
    measure_terms = [m.best.term for m in body if m.best.kind == "term" and m.best.term
                     and m.best.term.measure and m.start not in compared]
    condition_terms = [t for t in terms if t.condition and not t.measure]
    entities = [m.best.entity for m in body if m.best.kind == "entity" and m.best.entity]

    # The base table: what a measure or condition is about, else the entity named.
    base = next((t.table for t in measure_terms + by_measures + condition_terms if t.table),
                None)
    entity = next((e for e in entities if e.table == base), None) or (
        entities[0] if entities else None)
    guessed_from_value = base is None and entity is None
    if base is None:
        base = entity.table if entity else _value_table(body)
    if base is None and not by_matches:
        # "counterparties" alone names a dimension term: list the table it lives on.
        named = next((t for t in terms if t.dimension), None)
        base = named.dimension.split(".")[0] if named and named.dimension else None
    if base is None:
        return _refuse(f"I can't tell what to count or list: name one of {_things(content)}.")
    entity = next((e for e in glossary.entities if e.table == base), entity)
    entity_label = entity.name if entity else base

    dims: list[Dimension] = []
    previous: tuple[Match, Dimension] | None = None
    for match in by_matches:
        if match.best.kind == "term" and match.best.term and match.best.term.measure:
            continue
        dim = _dimension(match, base, content)
        if dim is None:
            continue
        if previous and previous[0].end == match.start and previous[1].column.split(".")[0] \
                == dim.column.split(".")[0] and previous[1] in dims:
            dims.remove(previous[1])  # "counterparty country": the country, of counterparties
        dims.append(dim)
        previous = (match, dim)
    grouping_entities = [e for e in entities if e.table != base]
    body_dimensions = [m.best.term for m in body if m.best.kind == "term" and m.best.term
                       and m.best.term.dimension]
    order_column: str | None = None
    if by_measures and (grouping_entities or dims or body_dimensions):
        measure_terms = by_measures + measure_terms  # "top 5 counterparties by failed amount"
    elif by_measures and re.fullmatch(r"\w+\.\w+", by_measures[0].measure or ""):
        order_column = by_measures[0].measure  # "largest pending settlements by amount"
    if not dims and (state.limit or measure_terms or state.having) and (
        body_dimensions or grouping_entities
    ):
        # "top 5 counterparties by failed amount": what is named is what is ranked.
        if body_dimensions:
            term = body_dimensions[0]
            dims.append(Dimension(_same_column_on(base, term.dimension, content), term.name))
        else:
            ranked = grouping_entities[0]
            dims.append(Dimension(_entity_dimension(ranked.table, content), ranked.name))
    bucket = "day" if _has(words, DAILY) else "month" if _has(words, MONTHLY) else None

    filters: list[Filter] = []
    for term in condition_terms:
        sql = resolve_as_of(term.condition, as_of.isoformat())
        filters.append(Filter(f"{term.name} ({_readable(sql)})", sql=sql))
    for measure in measure_terms:
        if measure.condition:
            filters.append(Filter(f"{measure.name} population",
                                  sql=resolve_as_of(measure.condition, as_of.isoformat())))
    values: dict[str, list[str]] = {}
    for match in body:
        if match.best.kind == "value":
            options = [m for m in match.meanings if m.kind == "value"]
            tables = {(m.column or "").split(".")[0] for m in options}
            if len(tables) > 1 and (guessed_from_value or base not in tables):
                # "PENDING": a settlement or a confirmation? Ask rather than guess.
                names = {e.table: e.name for e in glossary.entities}
                readings = tuple(dict.fromkeys(
                    f"{question.strip().rstrip('?')} (about {names.get(t, t)}s)"
                    for t in sorted(tables)))
                return _refuse(f"'{match.words}' could mean "
                               + " or ".join(m.column or "" for m in options)
                               + "; which one did you mean?", readings)
            picked = _pick(match.meanings, "value", base)
            values.setdefault(picked.column, []).append(picked.value)
    for column, found in values.items():
        filters.append(Filter(f"{column.split('.')[1]} {' or '.join(found)}", column=column,
                              values=tuple(dict.fromkeys(found))))

    period_column = _period_column(body, base, glossary)
    if period is None and glossary.upcoming_condition and any(
        m.best.kind == "upcoming" for m in body
    ):
        filters.append(Filter("due after today",
                              sql=resolve_as_of(glossary.upcoming_condition, as_of.isoformat())))
    if bucket and period_column:
        dims.append(Dimension(period_column, bucket, bucket))
    if _has(words, AGE_BANDS):
        # "unconfirmed trades by age bucket": bands of days before the as-of date, measured
        # on the date "older than N days" uses.
        column = dict(glossary.age_columns).get(base) or period_column
        if column is None:
            return _refuse(f"I don't know which date the age of {entity_label}s is measured "
                           "from; name it under age_columns in the glossary.")
        dims.append(Dimension(column, "age band", "age"))
        bucket = bucket or "age"

    comparisons = _comparisons(state, matches, words, base)
    for words_read, days in state.ages:
        column = dict(glossary.age_columns).get(base) or period_column
        if column is None:
            return _refuse(f"I don't know which date '{words_read}' is measured from.")
        comparisons.append(Comparison(f"older than {days} days", column, "<",
                                      days_before_as_of=days))

    measure = _measure(words, measure_terms, dims)
    if measure.kind == "count" and _has(words, DISTINCT) and (body_dimensions or
                                                                grouping_entities):
        # "how many distinct counterparties had fails": count the counterparties, not fails.
        if body_dimensions:
            counted = _same_column_on(base, body_dimensions[0].dimension, content)
            label = body_dimensions[0].name
        else:
            counted = _entity_dimension(grouping_entities[0].table, content)
            label = grouping_entities[0].name
        dims = [d for d in dims if d.column != counted]
        measure = Measure("count_distinct", f"distinct {label}s", counted)
    list_columns = tuple(f"{base}.{c}" for c in (entity.list_columns if entity else ()))
    if measure.kind == "list" and not list_columns:
        list_columns = (f"{base}.{_first_column(base, content)}",)
    order_by = None
    if measure.kind == "list" and order_column:
        order_by = order_column
    elif bucket and dims:
        order_by = dims[-1].column
    elif dims:
        order_by = "measure"
    plan = QueryPlan(
        table=base, entity=entity_label, measure=measure, dimensions=tuple(dims),
        filters=tuple(filters), comparisons=tuple(comparisons), period=period,
        period_column=period_column if period else None, list_columns=list_columns,
        order_by=order_by, descending=state.descending if not bucket else False,
        limit=state.limit, having=state.having,
    )
    return ParseResult(plan, confidence=0.9 if entities or terms else 0.7)


def _value_table(matches: list[Match]) -> str | None:
    for match in matches:
        if match.best.kind == "value" and match.best.column:
            return match.best.column.split(".")[0]
    return None


def _entity_dimension(table: str, content: ProfileContent) -> str:
    for term in content.glossary.terms:
        if term.dimension and term.dimension.split(".")[0] == table:
            return term.dimension
    entity = next((e for e in content.glossary.entities if e.table == table), None)
    first = entity.list_columns[0] if entity and entity.list_columns else _first_column(
        table, content)
    return f"{table}.{first}"


def _first_column(table: str, content: ProfileContent) -> str:
    return content.schema.table(table).columns[0].name


def _same_column_on(base: str, column: str, content: ProfileContent) -> str:
    """A dimension on another table, moved to the base table when it has the same column."""
    name = column.split(".")[1]
    try:
        if name in content.schema.table(base).column_names:
            return f"{base}.{name}"
    except KeyError:
        pass
    return column


def _dimension(match: Match, base: str, content: ProfileContent) -> Dimension | None:
    meaning = match.best
    if meaning.kind == "term" and meaning.term and meaning.term.dimension:
        return Dimension(_same_column_on(base, meaning.term.dimension, content), meaning.label)
    if meaning.kind == "term" and meaning.term and meaning.term.measure:
        expression = meaning.term.measure
        if re.fullmatch(r"\w+\.\w+", expression):
            return Dimension(expression, meaning.label)
        return None
    if meaning.kind == "entity" and meaning.entity:
        return Dimension(_entity_dimension(meaning.entity.table, content), meaning.label)
    column = _pick(match.meanings, "column", base)
    if column and column.column:
        return Dimension(column.column, match.words)
    return None


def _period_column(matches: list[Match], base: str, glossary: Glossary) -> str | None:
    for match in matches:  # "resolved this week": a status word that also names a date
        word = next((m for m in match.meanings if m.kind == "date_word" and m.column), None)
        if word:
            return word.column
    for match in matches:
        column = _pick(match.meanings, "column", base)
        if column and match.best.kind == "column" and column.column and "date" in column.column:
            return column.column
    columns = dict(glossary.period_columns)
    return f"{base}.{columns[base]}" if base in columns else None


def _comparison_targets(state: Reading, matches: list[Match], words: list[str]) -> set[int]:
    """Start positions of the matches a number is compared with ("notional" in "notional
    over 100 million"): they are conditions, not the measure."""
    targets: set[int] = set()
    for index in range(len(state.comparisons)):
        marker = words.index(f"cmp{index}") if f"cmp{index}" in words else -1
        before = [m for m in matches if m.end <= marker]
        if before:
            targets.add(before[-1].start)
    return targets


def _comparisons(state: Reading, matches: list[Match], words: list[str], base: str
                 ) -> list[Comparison]:
    found: list[Comparison] = []
    for index, (read, op, number, _) in enumerate(state.comparisons):
        marker = words.index(f"cmp{index}") if f"cmp{index}" in words else -1
        before = [m for m in matches if m.end <= marker]
        target = before[-1] if before else None
        column = None
        if target and target.best.kind == "term" and target.best.term and target.best.term.measure:
            if re.fullmatch(r"\w+\.\w+", target.best.term.measure):
                column = target.best.term.measure
        elif target:
            picked = _pick(target.meanings, "column", base)
            column = picked.column if picked else None
        if column is None:
            continue
        found.append(Comparison(f"{column.split('.')[1]} {read}", column, op, number=number))
    return found


def _measure(words: list[str], measure_terms: list[Term], dims: list[Dimension]) -> Measure:
    term = measure_terms[0] if measure_terms else None
    if term and not re.fullmatch(r"\w+\.\w+", term.measure or ""):
        return Measure("rate", term.name, term.measure, term.unit)
    if term:
        kind = ("avg" if _has(words, AVG) else "max" if _has(words, {"maximum", "max"})
                else "min" if _has(words, {"minimum", "min"}) else "sum")
        return Measure(kind, term.name, term.measure, term.unit)
    if _has(words, COUNT) or dims:
        return Measure("count", "count")  # "with more than 10 fails" counts too, per group
    return Measure("list", "list")
