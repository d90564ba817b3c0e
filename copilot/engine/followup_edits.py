"""The edits a follow-up's words make, and the previous question with them made.

A follow-up's reading is split into edits the same way a question is split into its parts
(followup_parts.py). Applying an edit removes or replaces the spans it names and adds the
follow-up's own words where the reader reads them in a whole question; the result is plain
text, read again like any question.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from copilot.engine.followup_parts import (
    _MEASURE_CUES,
    _TARGETS,
    _VALUES,
    Parts,
    Span,
    _columns,
    _kind,
    _run,
)
from copilot.engine.lattice import Item

__all__ = ["Edit", "NotAnEdit", "apply_edits", "edits_of"]

EditKind = Literal["group", "add_group", "value", "term", "period", "measure", "limit",
                   "sort", "entity", "other"]


class NotAnEdit(Exception):
    """A follow-up's words cannot be applied to the previous question; the message says why
    (a reason an analyst reads)."""


@dataclass(frozen=True)
class Edit:
    """One thing a follow-up changes: its kind, its words, and the columns it is about."""

    kind: EditKind
    words: str
    columns: frozenset[str] = frozenset()
    table: str = ""
    negated: bool = False
    bare: bool = False  # an aggregate with nothing to aggregate named ("the average")
    values: frozenset[str] = frozenset()  # the stored values a value edit names
    counted: bool = False  # an entity named as what is counted ("how many counterparties")


def edits_of(items: tuple[Item, ...], words: list[str], *, adding: bool) -> list[Edit]:
    """What a follow-up's reading asks to change, in order."""
    seq = [i for i in items if i.kind != "filler"]
    edits: list[Edit] = []
    k = 0
    while k < len(seq):
        item, kind = seq[k], _kind(seq[k])
        text = " ".join(words[item.start:item.end])
        if kind == "cue:group" and k + 1 < len(seq):
            end = _run(seq, k + 1, _TARGETS)
            if end == k + 1:
                return [Edit("other", " ".join(words[item.start:seq[-1].end]))]
            target = " ".join(words[seq[k + 1].start:seq[end - 1].end])
            edits.append(Edit("add_group" if adding else "group", target))
            k = end
            continue
        if kind == "cue:bucket":
            edits.append(Edit("add_group" if adding else "group", text))
        elif kind in ("cue:order", "cue:order_by"):
            end = _run(seq, k + 1, _TARGETS) if kind == "cue:order_by" else k + 1
            edits.append(Edit("sort", " ".join(words[item.start:seq[end - 1].end])))
            k = end
            continue
        elif kind == "cue:super" and k + 1 < len(seq) and seq[k + 1].kind == "number":
            number = seq[k + 1].token
            n = int(number.value) if number is not None and number.value else 0
            top = item.cue is not None and item.cue.arg == "desc"
            edits.append(Edit("limit", f"{'top' if top else 'bottom'} {n}"))
            k += 2
            continue
        elif kind.removeprefix("cue:") in _MEASURE_CUES:
            end = k + 1
            if end < len(seq) and _kind(seq[end]) in ("column", "term:measure", "term:duration"):
                end += 1
            edits.append(Edit("measure", " ".join(words[item.start:seq[end - 1].end]),
                              bare=end == k + 1 and kind == "cue:agg"))
            k = end
            continue
        elif item.kind == "period":
            edits.append(Edit("period", text))
        elif adding and len(seq) == 1 and kind in ("entity", "column", "term:dimension"):
            edits.append(Edit("add_group", text))  # "cpty too": one more grouping
        elif kind == "entity" and item.meaning is not None:
            counted = k > 0 and _kind(seq[k - 1]) in ("cue:count", "cue:list")
            edits.append(Edit("entity", text, table=item.meaning.table, counted=counted))
        elif kind == "cue:neg" and k + 1 < len(seq) and _kind(seq[k + 1]) in (
                *_VALUES, "term:condition", "column"):
            edit, k = _value_edit(seq, words, k + 1, negated=True, start=item.start)
            edits.append(edit)
            continue
        elif kind in _VALUES or kind == "term:condition" or (
                kind == "column" and k + 1 < len(seq) and _kind(seq[k + 1]) in _VALUES):
            edit, k = _value_edit(seq, words, k, negated=False, start=item.start)
            edits.append(edit)
            continue
        elif kind in ("term:measure", "term:duration", "column", "date_word"):
            edits.append(Edit("measure" if kind != "column" else "other", text))
        else:
            edits.append(Edit("other", text))
        k += 1
    return edits


def _value_edit(seq: list[Item], words: list[str], k: int, *, negated: bool,
                start: int) -> tuple[Edit, int]:
    if _kind(seq[k]) == "term:condition":
        return Edit("term", " ".join(words[start:seq[k].end]), _columns(seq[k]),
                    negated=negated), k + 1
    if _kind(seq[k]) == "column":
        k += 1
    columns = _columns(seq[k]) if k < len(seq) else frozenset()
    end = k + 1
    while end + 1 < len(seq) and _kind(seq[end]) in ("cue:and", "cue:or") and \
            _kind(seq[end + 1]) in _VALUES and _columns(seq[end + 1]) & columns:
        end += 2
    if end < len(seq) and _kind(seq[end]) == "column" and seq[end].meaning is not None and \
            seq[end].meaning.column in columns:
        end += 1  # "the low priority ones": the value, then its column
    values = frozenset(v for i in seq[k:end] if i.meaning is not None for v in i.meaning.values)
    return Edit("value", " ".join(words[start:seq[end - 1].end]), columns,
                negated=negated, values=values), end


def apply_edits(parts: Parts, edits: list[Edit], *, early: bool = False) -> str:
    """The previous question with the edits made, as text to read again. `early` puts a
    new condition before the grouping rather than at the end, the other way to say it
    ("count excluding BBB by credit rating", when "by credit rating excluding BBB" reads
    the grouping differently)."""
    drop: set[int] = set()
    put: dict[int, str] = {}  # a span's first position -> the words put in its place
    prefix: list[str] = []
    suffix: list[str] = []

    def take(*spans: list[Span], measure: bool = False) -> None:
        gone, added = parts.without(*spans, measure=measure)
        drop.update(gone)
        for position, words in added.items():
            put.setdefault(position, words)

    def swap(span: Span, words: str) -> None:
        put[span[0]] = words
        drop.update(range(*span))

    for edit in edits:
        if edit.kind in ("group", "add_group", "measure", "limit"):
            take(parts.listing)  # a grouping, a number or a ranking is not a list of rows
        if edit.kind == "group":
            take(parts.group, parts.order)  # a new grouping is sorted as the reader sorts it
            suffix.append(f"by {edit.words}")
        elif edit.kind == "add_group" and parts.group:
            start, end = parts.group[-1]
            swap((start, end), " ".join(parts.words[start:end]) + f" and {edit.words}")
        elif edit.kind == "add_group":
            suffix.append(f"by {edit.words}")
        elif edit.kind == "value":
            same = [span for span, columns in parts.values if columns & edit.columns]
            value = edit.words.split()[-1].lower()
            kept = [span for span in same if parts.words[span[1] - 1].lower() == value]
            # "medium?" of "high priority exceptions": another value than the term keeps
            # replaces it; "only the disputed ones" of "unconfirmed" narrows it (one kept).
            other = [span for span, columns in parts.terms if columns & edit.columns
                     and edit.values and not edit.values <= parts.term_values.get(span, set())]
            if same and not edit.negated:
                swap(same[0], f"with {edit.words}")
                take(same[1:])
            elif kept:  # "without HSBC" of a question kept to HSBC: HSBC left out instead
                swap(kept[0], edit.words)
            elif other and not edit.negated:
                swap(*parts.in_place_of(other[0], edit.words))
            else:
                words = edit.words if edit.negated else f"with {edit.words}"
                if early and parts.group:
                    start = parts.group[0][0]
                    put[start] = f"{put.get(start, '')} {words}".strip()
                else:
                    suffix.append(words)
        elif edit.kind == "term":
            same = [span for span, columns in parts.terms if columns & edit.columns]
            if same:
                swap(*parts.in_place_of(same[0], edit.words))
            elif parts.entities:  # "manual" before "confirmations", as one says it
                start = parts.entities[0][0]
                put[start] = f"{put.get(start, '')} {edit.words}".strip()
            else:
                prefix.append(edit.words)
        elif edit.kind == "period":
            take(parts.period)
            suffix.append(edit.words)
        elif edit.kind == "measure":
            take(measure=True)
            prefix.append(edit.words if edit.words.split()[-1] == "of" else f"{edit.words} of")
        elif edit.kind == "limit":
            take(parts.limit)
            suffix.append(f", {edit.words}")
        elif edit.kind == "sort":
            take(parts.order)
            suffix.append(f", {edit.words}")
    return parts.render(drop, put, prefix, suffix)
