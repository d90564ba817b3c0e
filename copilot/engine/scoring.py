"""Scoring an answer against gold SQL by execution: result sets compared as multisets of
rows, numbers to 0.01, extra answer columns allowed, order only where it matters."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import permutations

__all__ = ["same_result"]

Row = Sequence[object]


def _same(a: object, b: object) -> bool:
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool):
        return abs(float(a) - float(b)) <= 0.01
    return a == b


def _key(value: object) -> object:
    return round(float(value), 2) if isinstance(value, int | float) else value


def _rows_equal(answer: list[tuple], gold: list[tuple], ordered: bool) -> bool:
    if len(answer) != len(gold):
        return False
    if ordered:
        return all(all(_same(x, y) for x, y in zip(a, g, strict=True))
                   for a, g in zip(answer, gold, strict=True))
    remaining = sorted(gold, key=repr)
    for row in sorted(answer, key=repr):
        hit = next((i for i, g in enumerate(remaining)
                    if all(_same(x, y) for x, y in zip(row, g, strict=True))), None)
        if hit is None:
            return False
        remaining.pop(hit)
    return True


def same_result(answer: Sequence[Row], gold: Sequence[Row], *, ordered: bool = False) -> bool:
    """Whether the answer's rows hold the gold rows, in some choice of its columns."""
    if not gold:
        return not answer
    width = len(gold[0])
    if not answer or len(answer[0]) < width or len(answer) != len(gold):
        return False
    gold_rows = [tuple(_key(v) for v in row) for row in gold]
    answer_rows = [tuple(_key(v) for v in row) for row in answer]
    for columns in permutations(range(len(answer_rows[0])), width):
        projected = [tuple(row[i] for i in columns) for row in answer_rows]
        if _rows_equal(projected, gold_rows, ordered):
            return True
    return False
