"""Follow-ups worth offering under an answer, each one checked to read as an edit of it.

The ideas are built from the answer's plan, not from a list of sentences: another of the
glossary's dimensions to group by, a comparison with the period before, the top five of a
long grouping, a period for a question that has none. Each is composed against the answer's
question exactly as a typed follow-up would be (followup.compose) and kept only if it reads
as an edit of it, so a chip never offers what the copilot would then refuse or read afresh.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

from copilot.engine.followup import compose
from copilot.engine.plan import QueryPlan
from copilot.engine.reader import Reader
from copilot.values import Turn
from training.glossary import Glossary

__all__ = ["follow_up_ideas"]

IDEAS = 3
_TRIES = 6  # candidates composed at most: each is a reading or two, a few ms
_TOP = 5
_UNIT = re.compile(r"\b(day|week|month|quarter|year)s?\b|\b(?:today|yesterday)\b", re.I)


def follow_up_ideas(reader: Reader, glossary: Glossary, question: str, plan: QueryPlan,
                    rows: int, as_of: date) -> tuple[str, ...]:
    """Up to IDEAS follow-ups of `question` (read as `plan`, `rows` rows) that read as edits."""
    previous = Turn(question, question, "answered")
    kept: list[str] = []
    tries = _TRIES
    for alternatives in _candidates(glossary, plan, rows):
        for idea in alternatives[:tries]:
            tries -= 1
            if compose(reader, idea, previous, as_of).kind == "edit":
                kept.append(idea)
                break
        if len(kept) == IDEAS or tries <= 0:
            break
    return tuple(kept)


def _candidates(glossary: Glossary, plan: QueryPlan, rows: int) -> Iterator[tuple[str, ...]]:
    """Ideas in the order offered, each as alternatives of which the first that reads wins."""
    listing = plan.measure.kind == "list"
    grouped = bool(plan.dimensions)
    bucketed = any(d.bucket for d in plan.dimensions)
    if not listing and not bucketed:
        yield tuple(f"then by {d}" if grouped else f"by {d}"
                    for d in _other_dimensions(glossary, plan))
    before = _before(plan.period.words) if plan.period is not None else ()
    if before and plan.versus is None and not listing:
        yield tuple(f"compare with {b}" for b in before)
    if grouped and not bucketed and plan.limit is None and rows > _TOP:
        yield (f"top {_TOP}",)
    yield ("this month",) if plan.period is None else before


def _before(words: str) -> tuple[str, ...]:
    """The period before, named by the period's own unit where it has one ('the week
    before' after 'this week'), else in general."""
    unit = _UNIT.search(words)
    named = unit.group(1) or "day" if unit else None
    return (f"the {named} before", "the period before") if named else ("the period before",)


def _other_dimensions(glossary: Glossary, plan: QueryPlan) -> list[str]:
    """The glossary's dimensions not grouped by yet: the question's own table's first."""
    used = {d.column for d in plan.dimensions} | {d.label for d in plan.dimensions}
    terms = [t for t in glossary.terms if t.dimension and not {
        t.dimension, t.dimension.rsplit(".", 1)[-1], t.name} & used]
    return [t.name for t in sorted(terms, key=lambda t: (t.dimension or "").split(".", 1)[0]
                                   != plan.table)]
