"""The parts of a read question a follow-up may edit, and where each is in its words.

A question's chosen reading (its items, over its tokens) is split into spans by role: the
grouping ("by platform"), each value filter ("with currency GBP", "not HSBC"), each
condition term ("unconfirmed"), the period, the measure ("total notional of"), the top-N
cut and the sort. The item classing here (`_kind`, `_run`, `_columns`) is shared with the
follow-up's own reading into edits (followup_edits.py), so both split words the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

from copilot.engine.lattice import Item
from copilot.engine.text import Token

__all__ = ["Parts", "Span", "parts_of"]

Span = tuple[int, int]  # token positions [start, end)
_LINKS = frozenset({"with", "for", "in", "on", "of", "during", "over", "within", "from"})
_MEASURE_CUES = frozenset({"count", "agg", "share", "distinct", "duration"})


@dataclass
class Parts:
    """Where each editable part of a question is, in token positions."""

    words: list[str]
    group: list[Span] = field(default_factory=list)
    group_words: list[str] = field(default_factory=list)  # each grouping, as it was said
    values: list[tuple[Span, frozenset[str]]] = field(default_factory=list)
    terms: list[tuple[Span, frozenset[str]]] = field(default_factory=list)
    term_values: dict[Span, frozenset[str]] = field(default_factory=dict)  # values kept
    period: list[Span] = field(default_factory=list)
    measure: list[Span] = field(default_factory=list)
    limit: list[Span] = field(default_factory=list)
    order: list[Span] = field(default_factory=list)
    listing: list[Span] = field(default_factory=list)  # "list", "show": rows, not a number
    measure_terms: list[Span] = field(default_factory=list)  # "settlement amount", "notional"
    entities: list[Span] = field(default_factory=list)
    noun: str = ""  # what the rows are called ("settlements"), when no word names them

    def without(self, *spans: list[Span], measure: bool = False,
                put: dict[int, str] | None = None) -> tuple[set[int], dict[int, str]]:
        """The positions to drop and the words to put in (`put`, by first position) to take
        the spans away. What named the rows, if it goes, leaves their name behind: a
        measure term ("total settlement amount" -> "settlements") or a condition term
        ("open exceptions" -> "exceptions")."""
        drop = {p for group in spans for start, end in group for p in range(start, end)}
        put = dict(put or {})
        measures = [*self.measure, *self.measure_terms] if measure else []
        drop.update(p for start, end in measures for p in range(start, end))
        gone = [start for start, end in self.entities if set(range(start, end)) <= drop]
        if len(gone) == len(self.entities) and (gone or measures):
            put.setdefault(gone[0] if gone else max(start for start, _ in measures), self.noun)
        return drop, put

    def in_place_of(self, span: Span, words: str) -> tuple[Span, str]:
        """The span of a condition term without its linking word ("of manual
        confirmations": "manual confirmations"), and `words` to put there, with the rows'
        name when the term was their only name ("electronic confirmations")."""
        start, end = span
        if self.words[start].lower() in _LINKS:
            start += 1
        named = any(a >= start and b <= end for a, b in self.entities)
        return (start, end), f"{words} {self.noun}" if named else words

    def render(self, drop: set[int], put: dict[int, str], prefix: list[str] | None = None,
               suffix: list[str] | None = None) -> str:
        body = []
        for position, word in enumerate(self.words):
            if position in put:
                body.append(put[position])
            if position not in drop:
                body.append(word)
        text = " ".join([*(prefix or []), *body, *(suffix or [])])
        return " ".join(text.replace(" ,", ",").split()).strip(" ,")


def _columns(item: Item) -> frozenset[str]:
    """Every column a value or term item may be about (its stored-value alternatives too)."""
    meanings = [m for m in (item.meaning, *item.alternatives) if m is not None]
    found = {m.column for m in meanings if m.column}
    for m in meanings:
        if m.term is not None and m.term.condition:
            try:
                node = sqlglot.condition(m.term.condition)
            except sqlglot.errors.ParseError:
                continue
            found |= {f"{c.table or m.term.table or m.table}.{c.name}"
                      for c in node.find_all(exp.Column)}
    return frozenset(found)


def _kept(item: Item) -> frozenset[str]:
    """The values a condition term keeps ("unconfirmed": PENDING, UNMATCHED, DISPUTED)."""
    term = item.meaning.term if item.meaning is not None else None
    try:
        node = sqlglot.condition(term.condition or "") if term is not None else None
    except sqlglot.errors.ParseError:
        return frozenset()
    literals = node.expressions if isinstance(node, exp.In) else (
        [node.expression] if isinstance(node, exp.EQ) else [])
    return frozenset(x.name for x in literals if isinstance(x, exp.Literal))


def _kind(item: Item) -> str:
    if item.kind == "cue" and item.cue is not None:
        return "cue:" + item.cue.kind
    if item.kind == "lex" and item.meaning is not None:
        if item.meaning.kind == "term" and item.meaning.term is not None:
            return "term:" + item.meaning.term.kind
        return item.meaning.kind
    return item.kind


def _adjacent(items: list[Item], j: int) -> bool:
    """Whether item j follows item j-1 with no word between (a filler word breaks a run)."""
    return j == 0 or items[j].start == items[j - 1].end


def _run(items: list[Item], k: int, kinds: set[str]) -> int:
    """The index after the run of items from k whose kinds are in `kinds`, joined by 'and'
    and with no word between them."""
    j = k
    while j < len(items) and (j == k or _adjacent(items, j)) and (
            _kind(items[j]) in kinds or (
                _kind(items[j]) == "cue:and" and j + 1 < len(items)
                and _kind(items[j + 1]) in kinds)):
        j += 1
    return j


_TARGETS = {"column", "entity", "term:dimension", "date_word", "term:measure"}
_VALUES = {"value", "id"}


def parts_of(tokens: tuple[Token, ...], items: tuple[Item, ...], noun: str,
             names: frozenset[str] = frozenset()) -> Parts:
    """The editable spans of a read question; `noun` names its rows ("settlements"), and
    `names` are the lemmas of their entity's names, which a term may hold ("failed
    settlements")."""
    parts = Parts([t.original or t.text for t in tokens], noun=noun)
    seq = list(items)
    k = 0
    while k < len(seq):
        item, kind = seq[k], _kind(seq[k])
        if kind.startswith("term:") and any(t.lemma in names
                                            for t in tokens[item.start:item.end]):
            parts.entities.append((item.start, item.end))  # "failed settlements"
        if kind in ("cue:group", "cue:order_by") and k + 1 < len(seq):
            end = _run(seq, k + 1, _TARGETS)
            if end > k + 1:
                span = (item.start, seq[end - 1].end)
                if kind == "cue:group":
                    parts.group.append(span)
                    parts.group_words += [" ".join(parts.words[t.start:t.end])
                                          for t in seq[k + 1:end] if _kind(t) != "cue:and"]
                else:
                    parts.order.append(span)
                k = end
                continue
        if kind == "cue:bucket":
            parts.group.append((item.start, item.end))
        elif kind in ("term:measure", "term:duration"):
            parts.measure_terms.append((item.start, _past_of(parts.words, item.end)))
        elif kind == "entity":
            parts.entities.append((item.start, item.end))
        elif kind == "cue:order":
            parts.order.append((item.start, item.end))
        elif kind == "cue:super" and k + 1 < len(seq) and seq[k + 1].kind == "number":
            parts.limit.append((item.start, seq[k + 1].end))
            k += 2
            continue
        elif kind == "cue:list":
            parts.listing.append((item.start, item.end))
        elif kind.removeprefix("cue:") in _MEASURE_CUES:
            end = k + 1
            if end < len(seq) and _kind(seq[end]) == "column" and _adjacent(seq, end):
                end += 1
            parts.measure.append((item.start, _past_of(parts.words, seq[end - 1].end)))
            k = end
            continue
        elif item.kind == "period":
            parts.period.append((_before_link(parts.words, item.start), item.end))
        elif kind == "cue:neg" and k + 1 < len(seq) and _kind(seq[k + 1]) in (
                *_VALUES, "term:condition"):
            k = _value_or_term(parts, seq, k + 1, start=item.start)
            continue
        elif kind in _VALUES or kind == "term:condition" or (
                kind == "column" and k + 1 < len(seq) and _kind(seq[k + 1]) in _VALUES):
            k = _value_or_term(parts, seq, k, start=_before_link(parts.words, item.start))
            continue
        k += 1
    return parts


def _value_or_term(parts: Parts, seq: list[Item], k: int, *, start: int) -> int:
    """Record the value (with its column word and any values joined by and/or) or the
    condition term at k; the index after it."""
    if _kind(seq[k]) == "term:condition":
        parts.terms.append(((start, seq[k].end), _columns(seq[k])))
        parts.term_values[(start, seq[k].end)] = _kept(seq[k])
        return k + 1
    if _kind(seq[k]) == "column":
        k += 1
    columns = _columns(seq[k])
    end = k + 1
    while end + 1 < len(seq) and _kind(seq[end]) in ("cue:and", "cue:or") and \
            _kind(seq[end + 1]) in _VALUES and _columns(seq[end + 1]) & columns:
        end += 2
    parts.values.append(((start, seq[end - 1].end), columns))
    return end


def _before_link(words: list[str], start: int) -> int:
    """A preceding 'with', 'for', 'in' belongs to the part: it goes when the part goes."""
    return start - 1 if start > 0 and words[start - 1].lower() in _LINKS else start


def _past_of(words: list[str], end: int) -> int:
    return end + 1 if end < len(words) and words[end].lower() == "of" else end
