"""Verified question/SQL pairs: used first when a question is the same question as a pair's,
up to the values it names ("fails with Goldman" answers "fails with Barclays" by putting
BARCLAYS where the pair had GOLDMAN)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlglot
from sqlglot import exp

from copilot.core.periods import find_period
from copilot.engine.lexicon import Lexicon
from copilot.engine.text import tokenize
from training.profiles import Pair

__all__ = ["PairMatch", "match_pair"]

_ANY_DAY = date(2000, 1, 3)  # periods are compared by their words, so any day will do


@dataclass(frozen=True)
class PairMatch:
    """A pair that answers the question, and its SQL with the question's values."""

    pair: Pair
    sql: exp.Expression
    substituted: tuple[tuple[str, str], ...]  # (pair's value, question's value)


def _shape(question: str, lexicon: Lexicon) -> tuple[tuple[str, ...], dict[str, str]]:
    """The question's words with each stored value replaced by its column's placeholder."""
    tokens = tokenize(question)
    words = [t.lemma for t in tokens]
    values: dict[str, str] = {}
    taken: set[int] = set()
    # Longest stored values first, each word replaced once: the question's shape.
    found = sorted((m for m in lexicon.match(tokens) if m.meaning.kind == "value"
                    and len(m.meaning.values) == 1 and m.meaning.column),
                   key=lambda m: (m.start - m.end, m.start))
    for match in found:
        span = set(range(match.start, match.end))
        if span & taken or match.meaning.column in values:
            continue
        taken |= span
        values[match.meaning.column] = match.meaning.values[0]  # type: ignore[index]
        words[match.start] = f"<{match.meaning.column}>"
        for i in range(match.start + 1, match.end):
            words[i] = ""
    return tuple(w for w in words if w), values


def match_pair(question: str, pairs: tuple[Pair, ...], lexicon: Lexicon) -> PairMatch | None:
    """The pair asking the same thing, or None. Periods must be worded the same."""
    shape, values = _shape(question, lexicon)
    period = find_period(question, _ANY_DAY)
    for pair in reversed(pairs):  # the newest verification wins
        pair_shape, pair_values = _shape(pair.question, lexicon)
        if pair_shape != shape or set(pair_values) != set(values):
            continue
        pair_period = find_period(pair.question, _ANY_DAY)
        if (period and period.label) != (pair_period and pair_period.label):
            continue
        try:
            tree = sqlglot.parse_one(pair.sql, read="sqlite")
        except sqlglot.errors.ParseError:
            continue
        swaps = tuple((pair_values[c], values[c]) for c in values if pair_values[c] != values[c])
        for old, new in swaps:
            for literal in tree.find_all(exp.Literal):
                if literal.is_string and literal.this == old:
                    literal.replace(exp.Literal.string(new))
        return PairMatch(pair, tree, swaps)
    return None

