"""All segmentations of a question: every way its tokens split into known items.

Lexicon phrases, grammar cues, numbers, periods and filler words may overlap; each complete
reading uses every token exactly once. Readings are ranked by cost, lowest first, by a
documented order: fewer items (longer phrases), then the kind of each meaning (a glossary
term before an entity, a date word, a stored value, a column name), and a match on the exact
words before one through the lemma only. A token that no item covers makes no reading: the
question is refused naming that word.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Literal

from copilot.engine.grammar import CUES, FILLER, Cue
from copilot.engine.lexicon import KIND_COST, Match, Meaning
from copilot.engine.text import Token

__all__ = ["Item", "readings", "uncovered"]

ItemKind = Literal["lex", "cue", "number", "period", "id", "filler"]
ITEM_COST = 10.0  # per item: the fewer, longer phrases, the better
CUE_COST = 1.0  # on top of ITEM_COST: a grammar word
LEMMA_COST = 2.0  # a match through the lemma only ("booked" read as "book")
MAX_READINGS = 48
_MAX_CUE = 5


@dataclass(frozen=True)
class Item:
    """Tokens [start, end) read as one thing."""

    start: int
    end: int
    words: str
    kind: ItemKind
    cost: float
    meaning: Meaning | None = None
    cue: Cue | None = None
    token: Token | None = None
    exact: bool = True
    # Other stored values the same words may be ("EUR" of settlements, trades, netting
    # sets): the reader picks the one nearest its subject, instead of one reading each.
    alternatives: tuple[Meaning, ...] = ()
    # A column named as another entity and a count ("settlement count"): the count of that
    # entity is as likely, so a reading that splits these words is a rival, not a worse one.
    contested: bool = False


def _cue_items(tokens: tuple[Token, ...]) -> list[Item]:
    found = []
    for i in range(len(tokens)):
        for n in range(1, min(_MAX_CUE, len(tokens) - i) + 1):
            span = tokens[i:i + n]
            if any(t.kind in ("number", "period", "id") for t in span):
                break
            for key in {" ".join(t.text for t in span), " ".join(t.lemma for t in span)}:
                for cue in CUES.get(key, ()):
                    found.append(Item(i, i + n, key, "cue", ITEM_COST + CUE_COST, cue=cue))
    return found


def _items(tokens: tuple[Token, ...], matches: list[Match]) -> list[list[Item]]:
    """The items starting at each position."""
    starts: list[list[Item]] = [[] for _ in tokens]
    single = {m.start for m in matches if m.end - m.start == 1 and m.meaning.kind != "id"}
    values: dict[tuple[int, int], list[Match]] = {}
    entities = {(m.start, m.end): m.meaning.table for m in matches
                if m.meaning.kind == "entity"}
    for match in matches:
        if match.meaning.kind in ("value", "id"):
            values.setdefault((match.start, match.end), []).append(match)
            continue
        cost = ITEM_COST + KIND_COST[match.meaning.kind] + (0 if match.exact else LEMMA_COST)
        contested = _counts_another(match, entities, tokens)
        if match.meaning.qualified:
            # As dear as the entity and the column apart, so that "trade notional" is the
            # glossary's notional of trades, not the column `trades.notional`.
            cost += ITEM_COST + KIND_COST["entity"]
        elif contested:  # as dear as the entity and the count word apart
            cost = 2 * ITEM_COST + KIND_COST["entity"] + CUE_COST + (cost - ITEM_COST
                                                                     - KIND_COST["column"])
        starts[match.start].append(Item(match.start, match.end, match.words, "lex", cost,
                                        meaning=match.meaning, exact=match.exact,
                                        contested=contested))
    for (start, end), found in values.items():
        found.sort(key=lambda m: (not m.meaning.synonym, m.meaning.column or ""))
        first = found[0]
        cost = ITEM_COST + KIND_COST[first.meaning.kind] + (0 if first.exact else LEMMA_COST)
        starts[start].append(Item(start, end, first.words, "lex", cost, meaning=first.meaning,
                                  exact=first.exact,
                                  alternatives=tuple(m.meaning for m in found[1:])))
    for item in _cue_items(tokens):
        starts[item.start].append(item)
    for i, token in enumerate(tokens):
        if token.kind in ("number", "period"):
            starts[i].append(Item(i, i + 1, token.text, token.kind, ITEM_COST, token=token))
        elif token.text in FILLER and (i not in single or i == 0):
            # A word with a meaning of its own is not filler, except first ("A list of").
            starts[i].append(Item(i, i + 1, token.text, "filler", ITEM_COST - 9.0))
        elif token.kind == "symbol" and token.text == "=":
            starts[i].append(Item(i, i + 1, "=", "filler", ITEM_COST - 9.0))
    return starts


def _counts_another(match: Match, entities: dict[tuple[int, int], str],
                    tokens: tuple[Token, ...]) -> bool:
    """True for a column named as another entity and a count word ("settlement count" is
    `netting_sets.settlement_count`, and as much the count of settlements)."""
    if match.meaning.kind != "column" or match.end - match.start < 2:
        return False
    other = entities.get((match.start, match.end - 1))
    last = tokens[match.end - 1]
    counts = any(c.kind == "count" for key in (last.text, last.lemma) for c in CUES.get(key, ()))
    return counts and other is not None and other != match.meaning.table


def uncovered(tokens: tuple[Token, ...], matches: list[Match]) -> list[str]:
    """The words no item can read."""
    covered: set[int] = set()
    for position, items in enumerate(_items(tokens, matches)):
        for item in items:
            covered.update(range(position, item.end))
    return [t.original or t.text for i, t in enumerate(tokens) if i not in covered]


def readings(tokens: tuple[Token, ...], matches: list[Match]) -> list[tuple[Item, ...]]:
    """Complete readings, cheapest first (at most MAX_READINGS)."""
    starts = _items(tokens, matches)
    best: list[list[tuple[float, tuple[Item, ...]]]] = [[] for _ in range(len(tokens) + 1)]
    best[0] = [(0.0, ())]
    for position in range(len(tokens)):
        partial = heapq.nsmallest(MAX_READINGS, best[position], key=lambda p: p[0])
        for cost, items in partial:
            for item in starts[position]:
                best[item.end].append((cost + item.cost, (*items, item)))
        best[position] = []  # done with it: keep memory flat on long questions
    done = heapq.nsmallest(MAX_READINGS, best[len(tokens)], key=lambda p: p[0])
    return [items for _, items in done]
