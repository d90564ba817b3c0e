"""Reading the parts of a question that are not lexicon phrases: its period, top N,
comparisons with numbers ("over 100 million"), ages ("older than 5 days") and HAVING
("with more than 10"). Each is taken out of the text and replaced by a marker, so the
lexicon never joins words across it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from copilot.engine.periods import Period, find_period

__all__ = ["MARKER", "Reading", "read_numbers", "read_period"]

MARKER = re.compile(r"(?:cmp|gap)\d+|\d+")  # what the readers leave in the text
_NUMBER = r"(\d+(?:\.\d+)?)\s*(k|thousand|m|mm|mn|million|millions|bn|b|billion|billions)?\b"
_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mm": 1e6, "mn": 1e6, "million": 1e6,
          "millions": 1e6, "bn": 1e9, "b": 1e9, "billion": 1e9, "billions": 1e9}
_GT = r"(?:over|above|more than|greater than|exceeding|bigger than|larger than|>|at least|>=)"
_LT = r"(?:under|below|less than|fewer than|smaller than|<|at most|<=)"


@dataclass
class Reading:
    """What has been read so far."""

    text: str
    consumed: list[str] = field(default_factory=list)
    limit: int | None = None
    descending: bool = True
    comparisons: list[tuple[str, str, float, int]] = field(default_factory=list)
    ages: list[tuple[str, int]] = field(default_factory=list)
    having: tuple[str, float] | None = None


def _consume(state: Reading, match: re.Match[str], replacement: str = " gap0 ") -> None:
    # The marker keeps phrases from joining across what was taken out.
    state.consumed.append(match.group(0))
    state.text = state.text[: match.start()] + replacement + state.text[match.end():]


def read_period(state: Reading, as_of: date) -> Period | None:
    period = find_period(state.text, as_of)
    if period is not None:
        index = state.text.find(period.words)
        state.consumed.append(period.words)
        state.text = state.text[:index] + " gap0 " + state.text[index + len(period.words):]
    return period


def read_numbers(state: Reading) -> None:
    """Top N, comparisons with numbers, and ages in days, taken out of the text."""
    top = re.search(r"\b(top|largest|biggest|highest|smallest|lowest|bottom|first)\s+(\d+)\b"
                    r"|\b(\d+)\s+(largest|biggest|highest|smallest|lowest)\b", state.text)
    if top:
        state.limit = int(top.group(2) or top.group(3))
        state.descending = (top.group(1) or top.group(4)) not in {"smallest", "lowest", "bottom"}
        _consume(state, top)
    having = re.search(r"\b(?:with|having)\s+(more than|over|at least|fewer than|less than|"
                       r"under|at most)\s+(\d+)\b(?!\s+(?:business\s+)?days?\b)", state.text)
    if having:
        op = {"more than": ">", "over": ">", "at least": ">=", "at most": "<="}.get(
            having.group(1), "<")
        state.having = (op, float(having.group(2)))
        _consume(state, having)
    for pattern in (r"\b(?:older than|more than|over|at least)\s+(\d+)\s+(?:business\s+)?days?"
                    r"(?:\s+old)?\b", r"\baged\s+(?:over\s+)?(\d+)\s+days?(?:\s+or\s+more)?\b"):
        age = re.search(pattern, state.text)
        if age:
            state.ages.append((age.group(0), int(age.group(1))))
            _consume(state, age)
    for op, pattern in ((">", _GT), ("<", _LT)):
        for found in list(re.finditer(pattern + r"\s+\$?" + _NUMBER, state.text)):
            scale = _SCALE.get((found.group(2) or "").lower(), 1.0)
            marker = f" cmp{len(state.comparisons)} "
            state.comparisons.append((found.group(0), op, float(found.group(1)) * scale, 0))
            _consume(state, found, marker)
